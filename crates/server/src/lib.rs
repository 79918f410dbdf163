//! # medfund-server
//!
//! The HTTP API (`/api/v1`, JSON, described by `/api/v1/openapi.json`) and the web UI (Simplified
//! Chinese with an English toggle, embedded in the binary). Handlers are thin: they read the
//! session's [`medfund_workflow::Actor`] and call the domain crates, which check role and
//! institution scope themselves; this crate adds the HTTP concerns — sessions, CSRF, size limits,
//! structured logs, graceful shutdown.
//!
//! ```no_run
//! let data = std::path::Path::new("./medfund-data");
//! medfund_server::serve_blocking(data, "127.0.0.1:8080".parse().unwrap(), medfund_server::Options::default()).unwrap();
//! ```

pub mod api;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod error;
pub mod openapi;
pub mod session;
pub mod snapshot;
pub mod xlsx;

use error::{ApiError, ApiResult};
use medfund_store::Store;
use session::Sessions;
use snapshot::Snapshot;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Server settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// `postgres://…` to keep operational data in PostgreSQL (default: the data dir's SQLite).
    pub db_url: Option<String>,
    /// Mark the session cookie `Secure` (browsers still accept it on http://127.0.0.1 and
    /// http://localhost). Turn off only behind a TLS-terminating proxy that rewrites cookies.
    pub secure_cookies: bool,
    /// Idle session expiry.
    pub session_idle: Duration,
    /// Absolute session lifetime.
    pub session_max: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            db_url: None,
            secure_cookies: true,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
        }
    }
}

/// Shared state of the running server.
pub struct AppState {
    pub data: PathBuf,
    pub store: Mutex<Store>,
    /// Each session keeps the account's `password_changed_at` from login: a later password
    /// change ends it.
    pub sessions: Sessions<(medfund_workflow::Actor, String)>,
    pub wf_policy: medfund_workflow::Policy,
    pub snapshot: RwLock<Arc<Snapshot>>,
    pub secure_cookies: bool,
    pub session_idle: Duration,
    /// Absolute session lifetime (the cookie's Max-Age: the idle expiry is the server's to
    /// enforce, since a browser cookie cannot be renewed on every request).
    pub session_max: Duration,
    /// Batch loads started from the browser.
    pub loads: Mutex<Vec<api::LoadJob>>,
}

impl AppState {
    /// Opens the store under `data` and derives the snapshot.
    pub fn open(data: &Path, opts: &Options) -> anyhow::Result<AppState> {
        let mut store =
            Store::open_with(data, opts.db_url.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let wf_policy = match std::env::var_os("MEDFUND_POLICY")
            .map(PathBuf::from)
            .or_else(|| {
                let p = PathBuf::from("policy");
                p.is_dir().then_some(p)
            }) {
            Some(d) if d.join("workflow.toml").exists() => medfund_workflow::Policy::from_toml_str(
                &std::fs::read_to_string(d.join("workflow.toml"))?,
            )?,
            _ => medfund_workflow::Policy::default(),
        };
        medfund_workflow::migrate(store.db()).map_err(|e| anyhow::anyhow!("{e}"))?;
        medfund_settle::runs::migrate(store.db()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let snap = Snapshot::build(data, &mut store)?;
        Ok(AppState {
            data: data.to_path_buf(),
            store: Mutex::new(store),
            sessions: Sessions::new(opts.session_idle, opts.session_max),
            wf_policy,
            snapshot: RwLock::new(Arc::new(snap)),
            secure_cookies: opts.secure_cookies,
            session_idle: opts.session_idle,
            session_max: opts.session_max,
            loads: Mutex::new(Vec::new()),
        })
    }

    /// Runs store work on the blocking pool (SQLite and Parquet I/O must not block the reactor).
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let st = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = st
                .store
                .lock()
                .map_err(|_| ApiError::internal("store lock poisoned"))?;
            f(&mut store)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// The current snapshot.
    pub fn snap(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    /// Rebuilds the snapshot after the store changed (a load).
    pub fn refresh(&self) -> anyhow::Result<()> {
        let snap = {
            let mut store = self
                .store
                .lock()
                .map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
            Snapshot::build(&self.data, &mut store)?
        };
        *self.snapshot.write().expect("snapshot lock") = Arc::new(snap);
        Ok(())
    }
}

/// The application: every route of [`api::ROUTES`] plus the UI.
pub fn app(state: Arc<AppState>) -> axum::Router {
    api::router(state)
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(state: Arc<AppState>, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr}: {e} (is another server running there? use --addr)"
        )
    })?;
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    eprintln!("{{\"level\":\"info\",\"msg\":\"shut down gracefully\"}}");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Opens the data directory and serves on `addr` (blocking the calling thread).
pub fn serve_blocking(data: &Path, addr: SocketAddr, opts: Options) -> anyhow::Result<()> {
    let state = Arc::new(AppState::open(data, &opts)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(state, addr))
}

/// The demo accounts `medfund user demo` creates (password = `<name>@Medfund1`), for the start
/// banner of `medfund serve --print-accounts`.
pub const DEMO_ACCOUNTS_HINT: &[(&str, &str, &str)] = &[
    ("auditor", "auditor@Medfund1", "稽核员 / auditor"),
    ("auditor2", "auditor2@Medfund1", "稽核员 / auditor"),
    ("reviewer", "reviewer@Medfund1", "复核员 / reviewer"),
    ("chief", "chief@Medfund1", "科长 / section chief"),
    ("leader", "leader@Medfund1", "分管领导 / leader"),
    ("director", "director@Medfund1", "主要负责人 / director"),
    (
        "hospital",
        "hospital@Medfund1",
        "医院医保办 / hospital insurance office",
    ),
    ("pharmacy", "pharmacy@Medfund1", "定点药店 / pharmacy"),
    (
        "partner",
        "partner@Medfund1",
        "协作部门 / partner department",
    ),
    (
        "thirdparty",
        "thirdparty@Medfund1",
        "第三方审核 / third-party reviewer",
    ),
    ("admin", "admin@Medfund1", "系统管理员 / administrator"),
];
