//! API errors: one JSON shape `{ "error": code, "message": 中文, "message_en": English }` and the
//! HTTP status that goes with it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An error an API handler returns.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub message_en: String,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message: zh.into(),
            message_en: en.into(),
        }
    }
    /// 401: no or expired session.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "请先登录",
            "log in first",
        )
    }
    /// 403: the role may not do this.
    pub fn forbidden(why: impl Into<String>) -> ApiError {
        let why = why.into();
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("无权限：{why}"),
            format!("forbidden: {why}"),
        )
    }
    /// 404: absent, or outside the caller's scope (a hospital must not learn that another
    /// hospital's record exists).
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("未找到：{what}"),
            format!("not found: {what}"),
        )
    }
    /// 400: the request is malformed or breaks a rule; nothing was changed.
    pub fn bad_request(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", zh, en)
    }
    /// 409: the record is not in a state that allows this.
    pub fn conflict(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", zh, en)
    }
    /// 500: logged with its cause; the caller gets no internals.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        eprintln!(
            "{{\"level\":\"error\",\"msg\":{}}}",
            serde_json::Value::String(e.to_string())
        );
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({
                "error": self.code,
                "message": self.message,
                "message_en": self.message_en,
            })),
        )
            .into_response()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        ApiError::internal(format!("{e:#}"))
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<medfund_db::DbError> for ApiError {
    fn from(e: medfund_db::DbError) -> ApiError {
        ApiError::internal(e)
    }
}
