//! Authentication: login/logout, the session cookie or bearer token, CSRF for cookie sessions,
//! and the [`AuthUser`] extractor every protected handler takes.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use medfund_workflow::{Actor, WfError, Workflow};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// Name of the session cookie.
pub const COOKIE: &str = "medfund_session";

/// The logged-in user of a request.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub actor: Actor,
    pub token: String,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';').map(str::trim).find_map(|kv| {
                kv.strip_prefix(COOKIE)
                    .and_then(|r| r.strip_prefix('='))
                    .map(str::to_string)
            })
        })
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string())
}

/// The client address (from the connection, when the server was started with connect info).
pub fn client_ip(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".to_string())
}

impl FromRequestParts<Arc<AppState>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let (token, via_cookie) = match bearer_token(&parts.headers) {
            Some(t) => (t, false),
            None => match cookie_token(&parts.headers) {
                Some(t) => (t, true),
                None => return Err(ApiError::unauthenticated()),
            },
        };
        let session = state
            .sessions
            .get(&token)
            .ok_or_else(ApiError::unauthenticated)?;
        // A cookie is sent by the browser on its own; a state-changing request must also prove
        // it comes from our page by echoing the CSRF token. Bearer tokens are not ambient, so
        // they need no CSRF token.
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent != session.csrf {
                return Err(ApiError::forbidden(
                    "缺少或错误的 CSRF 令牌 / missing or wrong X-CSRF-Token",
                ));
            }
        }
        // Roles and scope as they are now, not as they were at login: disabling an account or
        // moving a hospital user to another institution takes effect on the next request.
        let ip = client_ip(&parts.extensions);
        let (username, pw_at) = (session.actor.0.username.clone(), session.actor.1.clone());
        let actor = state
            .blocking(move |store| {
                match medfund_workflow::auth::current_actor(store.db(), &username, &ip) {
                    // A password changed since login ends the session (a stolen session must
                    // not outlive the password it came from).
                    Ok((actor, changed)) if changed == pw_at => Ok(actor),
                    _ => Err(ApiError::unauthenticated()),
                }
            })
            .await;
        match actor {
            Ok(actor) => Ok(AuthUser { actor, token }),
            Err(e) => {
                state.sessions.remove(&token);
                Err(e)
            }
        }
    }
}

/// Login form.
#[derive(Debug, Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
    /// `true`: a system's login, answered with a bearer token instead of a cookie.
    #[serde(default)]
    pub bearer: Option<bool>,
}

/// Maps a workflow error to its HTTP status (one place for the whole API).
pub fn wf_error(e: WfError) -> ApiError {
    use axum::http::StatusCode;
    match e {
        WfError::Forbidden(m) => ApiError::forbidden(m),
        WfError::NotFound(m) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("未找到：{m}"),
            format!("not found: {m}"),
        ),
        WfError::InvalidTransition { .. } => ApiError::conflict(e.to_string(), e.to_string()),
        WfError::SameActor(_) => ApiError::new(
            StatusCode::CONFLICT,
            "same_actor",
            e.to_string(),
            e.to_string(),
        ),
        WfError::Validation(_) => ApiError::bad_request(e.to_string(), e.to_string()),
        WfError::Auth(_) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_failed",
            e.to_string(),
            e.to_string(),
        ),
        other => ApiError::internal(other),
    }
}

/// `POST /api/v1/auth/login`: checks the password (argon2, lockout after repeated failures) and
/// opens a session: the HttpOnly cookie for a browser, or, when the body asks with
/// `"bearer": true`, a token in the body for a system and no cookie. A browser's page script
/// never sees a credential that works without the CSRF token.
pub async fn login(
    State(st): State<Arc<AppState>>,
    parts: axum::http::Extensions,
    Json(f): Json<Login>,
) -> ApiResult<Response> {
    if f.username.trim().is_empty() || f.password.is_empty() {
        return Err(ApiError::bad_request(
            "请输入用户名和密码",
            "username and password are required",
        ));
    }
    let ip = client_ip(&parts);
    let st2 = st.clone();
    let actor = st
        .blocking(move |store| {
            let mut wf = Workflow::new(store.db(), st2.wf_policy.clone()).map_err(wf_error)?;
            wf.verify_login(f.username.trim(), &f.password, &ip)
                .map_err(wf_error)
        })
        .await?;
    let who = actor.username.clone();
    let pw_at = st
        .blocking(move |store| {
            medfund_workflow::auth::current_actor(store.db(), &who, "")
                .map(|(_, changed)| changed)
                .map_err(wf_error)
        })
        .await?;
    let (token, csrf) = st.sessions.create((actor.clone(), pw_at));
    let bearer = f.bearer.unwrap_or(false);
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        // The session's absolute lifetime: the 30-minute idle expiry is enforced by the server
        // on every request, where the browser could not renew a shorter cookie.
        st.session_max.as_secs()
    );
    let mut body = serde_json::json!({
        "username": actor.username,
        "roles": actor.roles,
        "role_names": actor.roles.iter().map(|r| r.zh()).collect::<Vec<_>>(),
        "scope": actor.scope,
        "bureau": actor.is_bureau(),
    });
    if bearer {
        body["token"] = serde_json::Value::String(token);
        return Ok(Json(body).into_response());
    }
    body["csrf"] = serde_json::Value::String(csrf);
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `POST /api/v1/auth/logout`.
pub async fn logout(State(st): State<Arc<AppState>>, u: AuthUser) -> Response {
    st.sessions.remove(&u.token);
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({"ok": true})),
    )
        .into_response()
}

/// `GET /api/v1/auth/me`: who is logged in (and a fresh CSRF token for the page).
pub async fn me(
    State(st): State<Arc<AppState>>,
    u: AuthUser,
) -> ApiResult<Json<serde_json::Value>> {
    let csrf = st
        .sessions
        .get(&u.token)
        .map(|s| s.csrf)
        .unwrap_or_default();
    Ok(Json(serde_json::json!({
        "username": u.actor.username,
        "roles": u.actor.roles,
        "role_names": u.actor.roles.iter().map(|r| r.zh()).collect::<Vec<_>>(),
        "scope": u.actor.scope,
        "bureau": u.actor.is_bureau(),
        "csrf": csrf,
    })))
}
