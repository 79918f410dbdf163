//! The approval chain of a settlement run, for a logged-in user (内控：结算审批).
//!
//! Anyone of the bureau may prepare and submit a run; approving or returning it is a section
//! chief's, leader's or director's decision, and never the submitter's ([`crate::runs`] refuses
//! that). Every change is written to the workflow's hash-chained audit log in the same
//! transaction as the change itself, so a run cannot change status without a tamper-evident
//! record of who did it. The web API and `medfund settle status` both come through here.
//!
//! ```
//! use medfund_settle::approval::{change_status, ApprovalError};
//! use medfund_settle::runs::RunStatus;
//! use medfund_workflow::{Policy, Workflow};
//! let mut db = medfund_db::Db::open(":memory:").unwrap();
//! medfund_workflow::auth::seed_demo_users(&mut db, "H33010100001", "P33010100001").unwrap();
//! let hospital = Workflow::new(&mut db, Policy::default())
//!     .unwrap()
//!     .verify_login("hospital", "hospital@Medfund1", "cli")
//!     .unwrap();
//! // A hospital account may not touch the bureau's settlements (checked before the run is read).
//! let e = change_status(&mut db, &Policy::default(), &hospital, 1, RunStatus::Submitted, None);
//! assert!(matches!(e, Err(ApprovalError::Forbidden(_))));
//! ```

use crate::runs::{self, RunError, RunInfo, RunStatus};
use medfund_db::Db;
use medfund_workflow::{Actor, Policy, Role, WfError, Workflow};

/// Why a status change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The user's roles do not allow this change.
    #[error("{0}")]
    Forbidden(String),
    /// The run refused the change (unknown run, wrong transition, approver = submitter).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The audit log could not be written (the change was rolled back).
    #[error(transparent)]
    Log(#[from] WfError),
}

impl From<medfund_db::DbError> for ApprovalError {
    fn from(e: medfund_db::DbError) -> Self {
        ApprovalError::Run(RunError::Db(e))
    }
}

/// Moves run `id` to `to` as `actor`, with its audit-log entry, atomically.
pub fn change_status(
    db: &mut Db,
    policy: &Policy,
    actor: &Actor,
    id: i64,
    to: RunStatus,
    reason: Option<&str>,
) -> Result<RunInfo, ApprovalError> {
    if !actor.is_bureau() {
        return Err(ApprovalError::Forbidden(
            "仅限医保部门工作人员办理结算 / settlements are for bureau staff only".into(),
        ));
    }
    if matches!(to, RunStatus::Approved | RunStatus::Rejected)
        && !actor
            .roles
            .iter()
            .any(|r| matches!(r, Role::SectionChief | Role::Leader | Role::Director))
    {
        return Err(ApprovalError::Forbidden(
            "结算审批须由科室负责人或分管领导办理 / approval needs a section chief or leader"
                .into(),
        ));
    }
    db.transaction(|db| {
        let run = runs::set_status(db, id, to, &actor.username, reason)?;
        let mut wf = Workflow::new(db, policy.clone())?;
        wf.record_external(
            actor,
            &format!("settlement.{}", to.code()),
            "settle_run",
            &id.to_string(),
            serde_json::json!({"to": to.code(), "reason": reason}),
        )?;
        Ok(run)
    })
}
