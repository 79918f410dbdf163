//! Users, roles, scopes and permissions (内控: 分段把关、分人负责、相互制衡).
//!
//! Every operation receives an [`Actor`]. Permissions are checked here, in the domain layer, so
//! the CLI, the HTTP server and any future caller enforce the same rules. The role × permission
//! matrix is [`role_perms`] (rendered in docs/workflow.md).

use crate::error::{validation, Result, WfError};
use crate::util::{dt, parse_dt, random_bytes, str_enum, Page, Paged, Where};
use crate::Workflow;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::NaiveDateTime;
use medfund_db::{Db, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;

str_enum! {
    /// A user's role. A user may hold several; the permissions are the union.
    pub enum Role {
        Auditor = "auditor" / "稽核员",
        Reviewer = "reviewer" / "复核员",
        SectionChief = "section_chief" / "科长（科室负责人）",
        Leader = "leader" / "分管领导（分管负责人）",
        Director = "director" / "主要负责人",
        Hospital = "hospital" / "医院医保办",
        Pharmacy = "pharmacy" / "定点零售药店",
        Partner = "partner" / "协作部门",
        ThirdParty = "third_party" / "第三方审核机构",
        Admin = "admin" / "系统管理员",
    }
}

str_enum! {
    /// A partner department that receives shared case results (一案多处).
    pub enum Department {
        Health = "health" / "卫生健康委员会",
        Market = "market" / "市场监督管理局",
        Police = "police" / "公安局",
        Procuratorate = "procuratorate" / "人民检察院",
        Court = "court" / "人民法院",
        Audit = "audit" / "审计局",
    }
}

str_enum! {
    /// What an actor may do. Reading is governed by scope, not by a permission.
    pub enum Perm {
        UserAdmin = "user_admin" / "用户与角色管理",
        AuditLogRead = "auditlog_read" / "查看审计日志",
        ReviewRegister = "review_register" / "疑点抽样登记",
        ReviewAssign = "review_assign" / "分派审核任务",
        ReviewFirst = "review_first" / "初审",
        ReviewSecond = "review_second" / "复审",
        Appeal = "appeal" / "机构申诉/认可",
        Investigate = "investigate" / "调查核实",
        Decide = "decide" / "作出处理决定",
        CaseManage = "case_manage" / "立案与办案",
        Inspect = "inspect" / "现场检查",
        SanctionPropose = "sanction_propose" / "提出处理措施",
        SanctionApprove1 = "sanction_approve_1" / "一级审批（科室负责人）",
        SanctionApprove2 = "sanction_approve_2" / "二级审批（分管负责人）",
        SanctionApprove3 = "sanction_approve_3" / "三级审批（主要负责人）",
        CollectiveRecord = "collective_record" / "记录集体决策",
        SanctionExecute = "sanction_execute" / "执行处理措施",
        PaymentRecord = "payment_record" / "登记追回到账",
        PointsPropose = "points_propose" / "提出记分",
        PointsApprove = "points_approve" / "审核记分/恢复登记",
        PointsRepair = "points_repair" / "记分修复",
        CreditManage = "credit_manage" / "信用评价与名单",
        ComplaintIntake = "complaint_intake" / "投诉举报登记",
        ComplaintHandle = "complaint_handle" / "投诉举报办理",
        RewardApprove = "reward_approve" / "奖励审批",
        RewardPay = "reward_pay" / "奖励发放",
        ShareExport = "share_export" / "案件结果共享",
        ShareFollowUp = "share_followup" / "协作部门跟进",
    }
}

/// The role × permission matrix. Separation of duties beyond the matrix (the second reviewer is
/// not the first, an approver is not the proposer, …) is checked by each operation.
pub fn role_perms(role: Role) -> &'static [Perm] {
    use Perm::*;
    match role {
        Role::Auditor => &[
            ReviewRegister,
            ReviewFirst,
            Investigate,
            CaseManage,
            Inspect,
            SanctionPropose,
            SanctionExecute,
            PaymentRecord,
            PointsPropose,
            ComplaintIntake,
            ComplaintHandle,
            RewardPay,
            ShareExport,
        ],
        Role::Reviewer => &[ReviewSecond, Inspect],
        Role::SectionChief => &[
            ReviewRegister,
            ReviewAssign,
            ReviewSecond,
            Decide,
            CaseManage,
            Inspect,
            SanctionPropose,
            SanctionApprove1,
            SanctionExecute,
            PointsApprove,
            PointsRepair,
            CreditManage,
            ComplaintHandle,
            RewardApprove,
            ShareExport,
        ],
        Role::Leader => &[
            AuditLogRead,
            Decide,
            SanctionApprove2,
            CollectiveRecord,
            PointsApprove,
            PointsRepair,
            CreditManage,
            RewardApprove,
        ],
        Role::Director => &[AuditLogRead, SanctionApprove3, CollectiveRecord],
        Role::Hospital | Role::Pharmacy => &[Appeal],
        Role::Partner => &[ShareFollowUp],
        Role::ThirdParty => &[ReviewFirst],
        Role::Admin => &[UserAdmin, AuditLogRead],
    }
}

/// What part of the supervised world a user sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Scope {
    /// The whole city (bureau staff).
    City,
    /// One designated institution (its insurance office or the pharmacy): `fixmedins_code`.
    Institution(String),
    /// One partner department: sees the cases shared with it.
    Department(Department),
}

impl Scope {
    /// `city`, `institution:H…`, `department:health`.
    pub fn to_text(&self) -> String {
        match self {
            Scope::City => "city".into(),
            Scope::Institution(c) => format!("institution:{c}"),
            Scope::Department(d) => format!("department:{d}"),
        }
    }
    /// Reads [`Scope::to_text`]'s form.
    pub fn parse(s: &str) -> Result<Scope> {
        let s = s.trim();
        if s == "city" {
            return Ok(Scope::City);
        }
        if let Some(c) = s.strip_prefix("institution:") {
            medfund_contract::codes::check_fixmedins_code(c)
                .map_err(|e| validation(format!("机构编码 / institution code: {e}")))?;
            return Ok(Scope::Institution(c.to_string()));
        }
        if let Some(d) = s.strip_prefix("department:") {
            return Ok(Scope::Department(d.parse()?));
        }
        Err(validation(format!(
            "范围 '{s}' 无效：应为 city、institution:<机构编码> 或 department:<部门> / scope must be city, institution:CODE or department:DEPT"
        )))
    }
}

/// Who performs an operation, and from where. Built by [`Workflow::verify_login`] (or by the
/// HTTP session layer from it) and passed to every call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// `wf_user.id` (0 for the public).
    pub user_id: i64,
    /// Login name, recorded in the audit log.
    pub username: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// What the actor sees.
    pub scope: Scope,
    /// Client address (or `cli`), recorded in the audit log.
    pub ip: String,
}

impl Actor {
    /// A member of the public (complaint intake only).
    pub fn public(ip: &str) -> Actor {
        Actor {
            user_id: 0,
            username: "public".into(),
            roles: vec![],
            scope: Scope::City,
            ip: ip.to_string(),
        }
    }

    /// Whether any role grants `p`.
    pub fn has(&self, p: Perm) -> bool {
        self.roles.iter().any(|r| role_perms(*r).contains(&p))
    }

    /// `Ok` when the actor holds `p`, else [`WfError::Forbidden`] naming it.
    pub fn require(&self, p: Perm) -> Result<()> {
        if self.has(p) {
            Ok(())
        } else {
            Err(WfError::Forbidden(format!(
                "“{}”需要权限“{}”，当前角色 {:?} 不具备 / {} needs permission {}",
                self.username,
                p.zh(),
                self.roles.iter().map(|r| r.zh()).collect::<Vec<_>>(),
                self.username,
                p
            )))
        }
    }

    /// Bureau staff: city scope and a supervision role (not admin, not an outside party).
    pub fn is_bureau(&self) -> bool {
        self.scope == Scope::City
            && self.roles.iter().any(|r| {
                matches!(
                    r,
                    Role::Auditor
                        | Role::Reviewer
                        | Role::SectionChief
                        | Role::Leader
                        | Role::Director
                )
            })
    }

    /// The institution the actor is limited to, if any.
    pub fn institution(&self) -> Option<&str> {
        match &self.scope {
            Scope::Institution(c) => Some(c),
            _ => None,
        }
    }

    /// The department the actor belongs to, if a partner.
    pub fn department(&self) -> Option<Department> {
        match &self.scope {
            Scope::Department(d) => Some(*d),
            _ => None,
        }
    }

    /// Whether a record of institution `code` is visible: bureau staff see all, an institution
    /// user only its own. Partners and third parties see through their own paths (shares,
    /// assignments), not through this.
    pub fn sees_institution(&self, code: Option<&str>) -> bool {
        if self.is_bureau() {
            return true;
        }
        match (self.institution(), code) {
            (Some(mine), Some(c)) => mine == c,
            _ => false,
        }
    }
}

/// A user account as shown to administrators (never the password hash).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// Scope.
    pub scope: Scope,
    /// Disabled accounts cannot log in.
    pub active: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Locked until (after repeated wrong passwords).
    pub locked_until: Option<NaiveDateTime>,
}

/// Input of [`Workflow::create_user`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewUser {
    /// Login name: letters, digits, `_.-`, 2–64 characters.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// At least one role.
    pub roles: Vec<Role>,
    /// Scope; hospital and pharmacy users must be institution-scoped, partners department-scoped.
    pub scope: Scope,
    /// Initial password.
    pub password: String,
}

pub(crate) fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

fn roles_of(s: &str) -> Result<Vec<Role>> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| x.parse())
        .collect()
}

/// The account `username` as it is now (roles, scope) and when its password last changed, for
/// a session made earlier: a disabled account is refused, role or scope changes apply from the
/// next request, and the caller ends sessions opened before a password change.
pub fn current_actor(db: &mut Db, username: &str, ip: &str) -> Result<(Actor, String)> {
    account(db, username, ip)?.ok_or_else(|| WfError::Auth("账户不存在 / no such account".into()))
}

/// An active account as an actor with its `password_changed_at`; `None` when there is no such
/// account, an `Auth` error when it is disabled.
fn account(db: &mut Db, username: &str, ip: &str) -> Result<Option<(Actor, String)>> {
    let Some(r) = db.query_opt(
        "SELECT * FROM wf_user WHERE username = $1",
        &[username.into()],
    )?
    else {
        return Ok(None);
    };
    let u = user_of(&r)?;
    if !u.active {
        return Err(WfError::Auth("账户已停用 / account disabled".into()));
    }
    let changed = r.text_of("password_changed_at");
    Ok(Some((
        Actor {
            user_id: u.id,
            username: u.username,
            roles: u.roles,
            scope: u.scope,
            ip: ip.into(),
        },
        changed,
    )))
}

fn user_of(r: &Row) -> Result<User> {
    Ok(User {
        id: r.int_of("id"),
        username: r.text_of("username"),
        display_name: r.text_of("display_name"),
        roles: roles_of(&r.text_of("roles"))?,
        scope: Scope::parse(&r.text_of("scope"))?,
        active: r.int_of("active") != 0,
        created_at: parse_dt(&r.text_of("created_at")),
        locked_until: crate::util::opt_dt(r, "locked_until"),
    })
}

/// Hashes a password with Argon2id (default parameters: 19 MiB, 2 passes) and a fresh random
/// 16-byte salt; the PHC string carries algorithm, parameters and salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| WfError::Io(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WfError::Io(format!("argon2: {e}")))
}

/// Checks a password against a PHC hash string.
pub fn check_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn check_strength(pw: &str, min: usize) -> Result<()> {
    let long = pw.chars().count() >= min;
    let letters = pw.chars().any(|c| c.is_alphabetic());
    let digits = pw.chars().any(|c| c.is_ascii_digit());
    if long && letters && digits {
        Ok(())
    } else {
        Err(validation(format!(
            "密码至少 {min} 位且须同时包含字母和数字 / password needs at least {min} characters with letters and digits"
        )))
    }
}

fn check_username(u: &str) -> Result<()> {
    let ok = (2..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(validation(format!(
            "用户名 '{u}' 只能含字母、数字和 _.-，2–64 位 / invalid username"
        )))
    }
}

fn check_role_scope(roles: &[Role], scope: &Scope) -> Result<()> {
    if roles.is_empty() {
        return Err(validation(
            "至少需要一个角色 / at least one role is required",
        ));
    }
    for r in roles {
        let ok = match r {
            Role::Hospital | Role::Pharmacy => matches!(scope, Scope::Institution(_)),
            Role::Partner => matches!(scope, Scope::Department(_)),
            _ => *scope == Scope::City,
        };
        if !ok {
            return Err(validation(format!(
                "角色“{}”与范围 {} 不匹配：医院/药店用户须限定机构，协作部门须限定部门，其余为全市 / role {} does not fit scope {}",
                r.zh(),
                scope.to_text(),
                r,
                scope.to_text()
            )));
        }
    }
    if let Scope::Institution(c) = scope {
        let pharmacy = c.starts_with('P');
        if roles.contains(&Role::Hospital) && pharmacy
            || roles.contains(&Role::Pharmacy) && !pharmacy
        {
            return Err(validation("医院医保办用户须限定医院（H 开头），药店用户须限定药店（P 开头） / hospital users need an H code, pharmacy users a P code"));
        }
    }
    Ok(())
}

/// Outcome of a login attempt, decided inside the transaction that records it.
enum LoginOutcome {
    Ok(Actor),
    Refused(String),
}

impl Workflow<'_> {
    /// Creates a user (administrator only). The password is hashed with Argon2id.
    pub fn create_user(&mut self, actor: &Actor, u: &NewUser) -> Result<User> {
        actor.require(Perm::UserAdmin)?;
        self.insert_user(actor, u)
    }

    fn insert_user(&mut self, actor: &Actor, u: &NewUser) -> Result<User> {
        check_username(&u.username)?;
        check_role_scope(&u.roles, &u.scope)?;
        check_strength(&u.password, self.policy.login.min_password_len)?;
        let display = crate::util::required(&u.display_name, "显示名 display_name")?;
        let hash = hash_password(&u.password)?;
        let now = self.now();
        self.mutate(actor, "user.create", |db| {
            if db.query_opt("SELECT id FROM wf_user WHERE username = $1", &[u.username.as_str().into()])?.is_some() {
                return Err(validation(format!("用户名 '{}' 已存在 / username already exists", u.username)));
            }
            let id = db
                .query_one(
                    "INSERT INTO wf_user (username, display_name, roles, scope, password_hash, active, failed_count, \
                     created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, 1, 0, $6, $7) RETURNING id",
                    &[
                        u.username.as_str().into(),
                        display.as_str().into(),
                        roles_text(&u.roles).into(),
                        u.scope.to_text().into(),
                        hash.into(),
                        dt(now).into(),
                        dt(now).into(),
                    ],
                )?
                .int(0);
            let user = get_user(db, id)?;
            let detail = json!({"username": u.username, "roles": roles_text(&u.roles), "scope": u.scope.to_text()});
            Ok((user, crate::Change::new("user", id, detail)))
        })
    }

    /// Creates the first administrator of an empty system (`medfund user init`). Refused once any
    /// user exists, so it cannot be used to take over a running system.
    pub fn bootstrap_admin(
        &mut self,
        username: &str,
        display_name: &str,
        password: &str,
        ip: &str,
    ) -> Result<User> {
        let n = self
            .db
            .query_one("SELECT COUNT(*) FROM wf_user", &[])?
            .int(0);
        if n > 0 {
            return Err(WfError::Forbidden(
                "系统已有用户，请由管理员用 `medfund user add` 创建 / users exist; ask an administrator".into(),
            ));
        }
        let boot = Actor {
            user_id: 0,
            username: "bootstrap".into(),
            roles: vec![Role::Admin],
            scope: Scope::City,
            ip: ip.into(),
        };
        self.insert_user(
            &boot,
            &NewUser {
                username: username.into(),
                display_name: display_name.into(),
                roles: vec![Role::Admin],
                scope: Scope::City,
                password: password.into(),
            },
        )
    }

    /// Lists users (administrator only).
    pub fn list_users(&mut self, actor: &Actor, page: Page) -> Result<Paged<User>> {
        actor.require(Perm::UserAdmin)?;
        let total = self
            .db
            .query_one("SELECT COUNT(*) FROM wf_user", &[])?
            .int(0);
        let rows = self.db.query(
            &format!("SELECT * FROM wf_user ORDER BY id{}", page.sql()),
            &[],
        )?;
        Ok(Paged {
            total,
            items: rows.iter().map(user_of).collect::<Result<_>>()?,
        })
    }

    /// One user by name (administrator, or the user themself).
    pub fn get_user(&mut self, actor: &Actor, username: &str) -> Result<User> {
        if actor.username != username {
            actor.require(Perm::UserAdmin)?;
        }
        let r = self
            .db
            .query_opt(
                "SELECT * FROM wf_user WHERE username = $1",
                &[username.into()],
            )?
            .ok_or_else(|| WfError::NotFound(format!("用户 / user {username}")))?;
        user_of(&r)
    }

    /// Changes roles, scope or the active flag (administrator only; not on oneself, so an
    /// administrator cannot grant themself business roles).
    pub fn update_user(
        &mut self,
        actor: &Actor,
        username: &str,
        roles: Option<Vec<Role>>,
        scope: Option<Scope>,
        active: Option<bool>,
    ) -> Result<User> {
        actor.require(Perm::UserAdmin)?;
        if actor.username == username {
            return Err(WfError::SameActor(
                "管理员不能修改自己的角色或状态 / administrators cannot change their own account"
                    .into(),
            ));
        }
        let cur = self.get_user(actor, username)?;
        let roles = roles.unwrap_or(cur.roles.clone());
        let scope = scope.unwrap_or(cur.scope.clone());
        check_role_scope(&roles, &scope)?;
        let active = active.unwrap_or(cur.active);
        self.mutate(actor, "user.update", |db| {
            db.execute(
                "UPDATE wf_user SET roles = $1, scope = $2, active = $3 WHERE id = $4",
                &[roles_text(&roles).into(), scope.to_text().into(), active.into(), cur.id.into()],
            )?;
            let detail = json!({"username": username, "roles": roles_text(&roles), "scope": scope.to_text(), "active": active});
            Ok((get_user(db, cur.id)?, crate::Change::new("user", cur.id, detail)))
        })
    }

    /// Changes a password: users change their own (the old one is required); an administrator
    /// may reset anyone else's without it.
    pub fn change_password(
        &mut self,
        actor: &Actor,
        username: &str,
        old: Option<&str>,
        new: &str,
    ) -> Result<()> {
        let own = actor.username == username;
        if !own {
            actor.require(Perm::UserAdmin)?;
        }
        check_strength(new, self.policy.login.min_password_len)?;
        let r = self
            .db
            .query_opt(
                "SELECT id, password_hash FROM wf_user WHERE username = $1",
                &[username.into()],
            )?
            .ok_or_else(|| WfError::NotFound(format!("用户 / user {username}")))?;
        if own && !check_password(old.unwrap_or(""), &r.text_of("password_hash")) {
            return Err(WfError::Auth(
                "原密码不正确 / the current password is wrong".into(),
            ));
        }
        let hash = hash_password(new)?;
        let id = r.int_of("id");
        let now = self.now();
        self.mutate(actor, "user.password", |db| {
            db.execute(
                "UPDATE wf_user SET password_hash = $1, password_changed_at = $2, failed_count = 0, locked_until = NULL WHERE id = $3",
                &[hash.into(), dt(now).into(), id.into()],
            )?;
            Ok(((), crate::Change::new("user", id, json!({"username": username, "reset_by_admin": !own}))))
        })
    }

    /// Checks a login. Wrong passwords count; `max_failures` within `window_minutes` lock the
    /// account for `lockout_minutes`. Unknown users and wrong passwords give the same message.
    /// Every attempt is in the audit log.
    pub fn verify_login(&mut self, username: &str, password: &str, ip: &str) -> Result<Actor> {
        let now = self.now();
        let lp = self.policy.login.clone();
        let row = self.db.query_opt(
            "SELECT * FROM wf_user WHERE username = $1",
            &[username.into()],
        )?;
        let generic = "用户名或密码错误 / wrong username or password".to_string();
        let anon = Actor {
            user_id: 0,
            username: username.to_string(),
            roles: vec![],
            scope: Scope::City,
            ip: ip.into(),
        };
        let Some(row) = row else {
            // Spend the same effort as a real check so timing does not reveal unknown names.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY.get_or_init(|| hash_password("dummy-password-1").unwrap_or_default());
            let _ = check_password(password, dummy);
            self.mutate(&anon, "login.failed", |_| {
                Ok((
                    (),
                    crate::Change::new("user", 0, json!({"reason": "unknown user"})),
                ))
            })?;
            return Err(WfError::Auth(generic));
        };
        let user = user_of(&row)?;
        let ok = check_password(password, &row.text_of("password_hash"));
        let blocked = !user.active || user.locked_until.is_some_and(|u| u > now);
        let action = if ok && !blocked {
            "login"
        } else {
            "login.failed"
        };
        let outcome = self.mutate(&anon, action, |db| {
            let id = user.id;
            if !user.active {
                return Ok((LoginOutcome::Refused("账户已停用 / account disabled".into()), crate::Change::new("user", id, json!({"reason": "disabled"}))));
            }
            if let Some(until) = user.locked_until.filter(|u| *u > now) {
                return Ok((
                    LoginOutcome::Refused(format!("账户已锁定至 {} / account locked until then", dt(until))),
                    crate::Change::new("user", id, json!({"reason": "locked"})),
                ));
            }
            if ok {
                db.execute("UPDATE wf_user SET failed_count = 0, first_failed_at = NULL, locked_until = NULL WHERE id = $1", &[id.into()])?;
                let a = Actor { user_id: id, username: user.username.clone(), roles: user.roles.clone(), scope: user.scope.clone(), ip: ip.into() };
                return Ok((LoginOutcome::Ok(a), crate::Change::new("user", id, json!({}))));
            }
            let first = row.opt_text_of("first_failed_at").filter(|s| !s.is_empty()).map(|s| parse_dt(&s));
            let in_window = first.is_some_and(|f| now - f <= chrono::Duration::minutes(lp.window_minutes));
            let (count, first) = if in_window { (row.int_of("failed_count") + 1, first.unwrap_or(now)) } else { (1, now) };
            let locked = (count >= lp.max_failures).then(|| now + chrono::Duration::minutes(lp.lockout_minutes));
            db.execute(
                "UPDATE wf_user SET failed_count = $1, first_failed_at = $2, locked_until = $3 WHERE id = $4",
                &[count.into(), dt(first).into(), locked.map(dt).into(), id.into()],
            )?;
            let msg = match locked {
                Some(u) => format!("密码错误次数过多，账户锁定至 {} / too many failures, locked until then", dt(u)),
                None => generic.clone(),
            };
            Ok((LoginOutcome::Refused(msg), crate::Change::new("user", id, json!({"failures": count, "locked": locked.is_some()}))))
        })?;
        match outcome {
            LoginOutcome::Ok(a) => Ok(a),
            LoginOutcome::Refused(m) => Err(WfError::Auth(m)),
        }
    }

    /// The actor of a known user without a password (for a server session whose login was
    /// already verified, or tests). Disabled accounts are refused.
    pub fn actor_of(&mut self, username: &str, ip: &str) -> Result<Actor> {
        account(self.db, username, ip)?
            .map(|(a, _)| a)
            .ok_or_else(|| WfError::NotFound(format!("用户 / user {username}")))
    }

    /// Usernames of active users holding any of `roles` (for assignment pickers).
    pub fn users_with_roles(&mut self, actor: &Actor, roles: &[Role]) -> Result<Vec<String>> {
        if !actor.is_bureau() {
            actor.require(Perm::UserAdmin)?;
        }
        let mut w = Where::default();
        w.raw("active = 1");
        let rows = self.db.query(
            &format!("SELECT * FROM wf_user{} ORDER BY username", w.sql()),
            &w.params,
        )?;
        let mut out = vec![];
        for r in &rows {
            let u = user_of(r)?;
            if u.roles.iter().any(|x| roles.contains(x)) {
                out.push(u.username);
            }
        }
        Ok(out)
    }
}

pub(crate) fn get_user(db: &mut Db, id: i64) -> Result<User> {
    let r = db.query_one("SELECT * FROM wf_user WHERE id = $1", &[id.into()])?;
    user_of(&r)
}

/// Whether an active user `username` holds `perm` (used to check people named as inspectors or
/// assignees).
pub(crate) fn user_has(db: &mut Db, username: &str, perm: Perm) -> Result<bool> {
    let Some(r) = db.query_opt(
        "SELECT * FROM wf_user WHERE username = $1 AND active = 1",
        &[username.into()],
    )?
    else {
        return Ok(false);
    };
    let u = user_of(&r)?;
    Ok(u.roles.iter().any(|x| role_perms(*x).contains(&perm)))
}

/// One demo account per role, as created by [`seed_demo_users`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoUser {
    /// Login name.
    pub username: String,
    /// Its demo password.
    pub password: String,
    /// Its role.
    pub role: Role,
    /// Its scope.
    pub scope: Scope,
}

/// Creates one demo user of each role (plus a second auditor, since on-site inspections need two
/// inspectors) unless they exist: the hospital user is scoped to `hospital`, the pharmacy user
/// to `pharmacy`, the partner user to the health commission. Returns every demo login with its
/// password (for `medfund demo` and the UI's login hint). Passwords are `<username>@Medfund1`.
/// Refused once the system has any account that is not a demo one.
///
/// ```
/// use medfund_workflow::{auth::seed_demo_users, Policy, Workflow};
/// let mut db = medfund_db::Db::open(":memory:").unwrap();
/// assert_eq!(seed_demo_users(&mut db, "H43010000001", "P43010000001").unwrap().len(), 11);
/// // Again: the demo accounts exist, nothing is added.
/// assert_eq!(seed_demo_users(&mut db, "H43010000001", "P43010000001").unwrap().len(), 11);
/// // A real administrator's account makes it a real system.
/// let mut db = medfund_db::Db::open(":memory:").unwrap();
/// Workflow::new(&mut db, Policy::default()).unwrap()
///     .bootstrap_admin("root", "管理员", "Str0ng&Long-pass", "cli").unwrap();
/// assert!(seed_demo_users(&mut db, "H43010000001", "P43010000001").is_err());
/// ```
pub fn seed_demo_users(db: &mut Db, hospital: &str, pharmacy: &str) -> Result<Vec<DemoUser>> {
    let mut wf = Workflow::new(db, crate::Policy::default())?;
    let admin = Actor {
        user_id: 0,
        username: "demo-seed".into(),
        roles: vec![Role::Admin],
        scope: Scope::City,
        ip: "local".into(),
    };
    let plan: Vec<(&str, &str, Role, Scope)> = vec![
        ("admin", "系统管理员", Role::Admin, Scope::City),
        ("auditor", "稽核员 王明", Role::Auditor, Scope::City),
        ("auditor2", "稽核员 李静", Role::Auditor, Scope::City),
        ("reviewer", "复核员 张华", Role::Reviewer, Scope::City),
        (
            "chief",
            "基金监管科 科长 刘强",
            Role::SectionChief,
            Scope::City,
        ),
        ("leader", "分管副局长 陈蕾", Role::Leader, Scope::City),
        ("director", "局长 赵刚", Role::Director, Scope::City),
        (
            "hospital",
            "医院医保办",
            Role::Hospital,
            Scope::Institution(hospital.to_string()),
        ),
        (
            "pharmacy",
            "定点药店",
            Role::Pharmacy,
            Scope::Institution(pharmacy.to_string()),
        ),
        (
            "partner",
            "市卫生健康委员会",
            Role::Partner,
            Scope::Department(Department::Health),
        ),
        (
            "thirdparty",
            "第三方审核（会计师事务所）",
            Role::ThirdParty,
            Scope::City,
        ),
    ];
    // Known passwords belong on a demo system only: once anyone else has an account, this is a
    // real system and nobody may add accounts whose passwords are printed in the README.
    let names: Vec<&str> = plan.iter().map(|p| p.0).collect();
    let others = wf
        .db
        .query("SELECT username FROM wf_user", &[])?
        .iter()
        .map(|r| r.text(0))
        .filter(|u| !names.contains(&u.as_str()))
        .count();
    if others > 0 {
        return Err(WfError::Forbidden(format!(
            "系统已有 {others} 个非演示账号，拒绝创建已知密码的演示账号；请由管理员用 `medfund user add` 建账号 / \
             {others} non-demo accounts exist: demo accounts with known passwords are refused; ask an administrator"
        )));
    }
    let mut out = vec![];
    for (name, display, role, scope) in plan {
        let password = format!("{name}@Medfund1");
        let exists = wf
            .db
            .query_opt("SELECT id FROM wf_user WHERE username = $1", &[name.into()])?
            .is_some();
        if !exists {
            wf.insert_user(
                &admin,
                &NewUser {
                    username: name.into(),
                    display_name: display.into(),
                    roles: vec![role],
                    scope: scope.clone(),
                    password: password.clone(),
                },
            )?;
        }
        out.push(DemoUser {
            username: name.into(),
            password,
            role,
            scope,
        });
    }
    Ok(out)
}
