//! The typed errors of every workflow operation. The HTTP layer maps them to status codes with
//! [`WfError::code`]; the CLI prints their (Chinese + English) message.

use medfund_db::DbError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WfError {
    /// The actor's roles do not allow the operation.
    #[error("无权限 / forbidden: {0}")]
    Forbidden(String),
    /// No such record — also returned for records outside the actor's scope, so a hospital user
    /// cannot learn that another hospital's record exists.
    #[error("未找到 / not found: {0}")]
    NotFound(String),
    /// The record's state does not allow this step.
    #[error("当前状态“{from}”不能转为“{to}” / invalid transition from {from} to {to}")]
    InvalidTransition {
        /// State the record is in.
        from: String,
        /// State the operation would move it to.
        to: String,
    },
    /// Separation of duties (两人复核、审批人不得审批本人提议): the same person may not do both steps.
    #[error("须由另一人办理 / separation of duties: {0}")]
    SameActor(String),
    /// Input breaks a rule (range, deadline, missing field).
    #[error("输入不合规 / invalid input: {0}")]
    Validation(String),
    /// Login refused (unknown user, wrong password, locked account).
    #[error("登录失败 / login failed: {0}")]
    Auth(String),
    /// The audit log does not verify: entry `seq` was changed, deleted or moved.
    #[error("审计日志被篡改 / audit log tampered at entry {seq}: {reason}")]
    Tampered {
        /// The first entry that does not verify.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a file (evidence, export).
    #[error("文件读写失败 / file error: {0}")]
    Io(String),
    /// The operational store failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl WfError {
    /// A stable machine code: `forbidden`, `not_found`, `invalid_transition`, `same_actor`,
    /// `validation`, `auth`, `tampered`, `io`, `db`.
    pub fn code(&self) -> &'static str {
        match self {
            WfError::Forbidden(_) => "forbidden",
            WfError::NotFound(_) => "not_found",
            WfError::InvalidTransition { .. } => "invalid_transition",
            WfError::SameActor(_) => "same_actor",
            WfError::Validation(_) => "validation",
            WfError::Auth(_) => "auth",
            WfError::Tampered { .. } => "tampered",
            WfError::Io(_) => "io",
            WfError::Db(_) => "db",
        }
    }
}

/// Result of workflow operations.
pub type Result<T, E = WfError> = std::result::Result<T, E>;

pub(crate) fn validation(msg: impl Into<String>) -> WfError {
    WfError::Validation(msg.into())
}
