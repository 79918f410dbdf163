//! The web UI, embedded in the binary at build time so `medfund serve` needs no files beside it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

struct Asset {
    path: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

static ASSETS: &[Asset] = &[
    Asset {
        path: "index.html",
        mime: "text/html; charset=utf-8",
        body: include_bytes!("../assets/index.html"),
    },
    Asset {
        path: "app.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/app.js"),
    },
    Asset {
        path: "app.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
    Asset {
        path: "vendor/echarts.min.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/vendor/echarts.min.js"),
    },
];

/// Serves an embedded asset by path (without the leading `/`); the UI shell for `""`.
pub fn serve(path: &str) -> Response {
    let path = if path.is_empty() { "index.html" } else { path };
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.mime),
                // The shell must always be fresh; scripts may be cached briefly.
                (
                    header::CACHE_CONTROL,
                    if a.path == "index.html" {
                        "no-store"
                    } else {
                        "max-age=300"
                    },
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
