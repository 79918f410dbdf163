//! `docs/api.md` is rendered from the route table; this test keeps it in sync.
//! Run with `UPDATE_DOCS=1` to rewrite it after changing a route.

#[test]
fn api_doc_is_in_sync() {
    let mut s = String::from(
        "# HTTP API (`/api/v1`)\n\n\
         Rendered from `crates/server/src/api.rs` (the same table builds the router and \
         `/api/v1/openapi.json`). JSON in and out; errors are `{\"error\", \"message\", \"message_en\"}` \
         with 400 (bad input, nothing changed), 401 (not logged in), 403 (role), 404 (absent or outside \
         your institution), 409 (state or two-person rule).\n\n\
         Authentication: `POST /api/v1/auth/login` sets an HttpOnly, SameSite=Strict, Secure session \
         cookie and returns a `csrf` token; browser requests that change state must send \
         `X-CSRF-Token`. A system (e.g. a hospital's HIS calling the pre-check) logs in with \
         `\"bearer\": true` and gets a `token` instead of the cookie, then sends \
         `Authorization: Bearer <token>`. Each request is checked against the account as it is now \
         (a disabled account or a changed role applies at once). Sessions expire after 30 minutes \
         idle (12 hours at most); repeated wrong passwords lock the account (policy `workflow.toml`). \
         Bodies over 1 MiB are refused except batch uploads, also when sent chunked. Hospital and \
         pharmacy users see only their own institution's rows; where a finding's evidence names \
         another institution (a stay, a sale or a purchase elsewhere), they get a neutral sentence \
         instead, in the findings, their export and the pre-check.\n\n\
         | method | path | what | who |\n|---|---|---|---|\n",
    );
    for r in medfund_server::api::ROUTES {
        s += &format!(
            "| {} | `{}` | {} | {} |\n",
            r.method.to_uppercase(),
            r.path,
            r.summary,
            r.who
        );
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md");
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(path, &s).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == s, "docs/api.md is out of date: run UPDATE_DOCS=1 cargo test --release -p medfund-server --test api_doc");
}
