//! The `/api/v1` routes and their handlers. Every route is declared once in [`routes!`]: the same
//! table registers it on the router and documents it in the OpenAPI document.

use crate::auth::{self, wf_error, AuthUser};
use crate::error::{ApiError, ApiResult};
use crate::openapi::RouteDoc;
use crate::AppState;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use medfund_contract::{Category, Fee, Fen, Mdtrt, YearMonth};
use medfund_store::{FindingFilter, FindingStatus, StoredFinding};
use medfund_workflow::cases::{CaseFilter, NewCase};
use medfund_workflow::complaint::{Channel, NewComplaint};
use medfund_workflow::review::{Opinion, ReviewFilter, ReviewState, Verdict};
use medfund_workflow::{Actor, Page, Workflow};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

type St = State<Arc<AppState>>;

macro_rules! routes {
    ($( $method:ident $path:literal => $handler:path, $summary:literal, $who:literal; )*) => {
        /// Every API route: method, path, summary and who may call it.
        pub const ROUTES: &[RouteDoc] = &[$( RouteDoc { method: stringify!($method), path: $path, summary: $summary, who: $who }, )*];
        fn api_routes(r: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
            r $( .route($path, axum::routing::$method($handler)) )*
        }
    };
}

routes! {
    post "/api/v1/auth/login" => auth::login, "登录 / log in {username, password[, bearer: true]}: a browser gets the session cookie and the CSRF token; with bearer, a system gets a token and no cookie", "anyone";
    post "/api/v1/auth/logout" => auth::logout, "退出登录 / log out", "any user";
    get "/api/v1/auth/me" => auth::me, "当前用户 / who am I", "any user";
    get "/api/v1/openapi.json" => openapi_doc, "本文档 / this OpenAPI document", "anyone";
    get "/api/v1/dashboard" => dashboard, "总览 / dashboard: fund, spending trend, findings by category and institution, budget use", "bureau; institution users see their own institution";
    get "/api/v1/monitor" => monitor, "监测月报 / monthly monitoring report (?month=YYYY-MM)", "bureau";
    get "/api/v1/findings" => list_findings, "疑点列表 / findings (?category&fixmedins_code&status&month&limit&offset)", "bureau; institution users: their own";
    get "/api/v1/findings/{id}" => get_finding, "疑点详情 / one finding with its evidence and review", "bureau; institution users: their own";
    post "/api/v1/findings/register" => register_findings, "疑点登记审核 / register findings for review (?category&fixmedins_code&limit)", "auditor, section chief";
    get "/api/v1/reviews" => list_reviews, "审核任务 / reviews (?state&category&fixmedins_code)", "bureau; institutions from notification on; third parties: assigned";
    get "/api/v1/reviews/{id}" => get_review, "审核详情 / a review with its timeline", "as above";
    post "/api/v1/reviews/{id}/first" => first_review, "初审 / first review {opinion: confirm|dismiss, note}", "auditor, third party (assigned)";
    post "/api/v1/reviews/{id}/second" => second_review, "复审 / second review {agree, note} by another person", "reviewer, section chief";
    post "/api/v1/reviews/{id}/appeal" => appeal, "申诉 / the institution's appeal {text}", "hospital, pharmacy (own)";
    post "/api/v1/reviews/{id}/accept" => accept, "机构认可 / the institution accepts {note}", "hospital, pharmacy (own)";
    post "/api/v1/reviews/{id}/investigate" => investigate, "调查核实 / start the investigation {note}", "auditor";
    post "/api/v1/reviews/{id}/decide" => decide, "处理决定 / decision {verdict: confirmed|cleared, confirmed_amount, note}", "section chief, leader";
    get "/api/v1/institutions" => list_institutions, "定点机构 / institutions with this month's indicators", "bureau; institution users: their own";
    get "/api/v1/institutions/{code}" => get_institution, "机构画像 / institution: indicators over time against baseline and peers", "bureau; institution users: their own";
    get "/api/v1/persons/{psn_no}" => get_person, "参保人 / insured person: visits and findings", "bureau";
    get "/api/v1/practitioners/{code}" => get_practitioner, "医务人员一人一档 / personnel file with points", "bureau; institution users: their staff";
    get "/api/v1/cases" => list_cases, "案件 / cases (?state)", "bureau; institution users: their own";
    post "/api/v1/cases" => open_case, "立案 / open a case {title, summary, fixmedins_code, source_ref}", "auditor, section chief";
    get "/api/v1/cases/{id}" => get_case, "案件详情 / a case with timeline, sanctions and recovery", "bureau; institution users: their own";
    get "/api/v1/complaints" => list_complaints, "投诉举报 / complaints", "auditor, section chief";
    post "/api/v1/complaints" => submit_complaint, "登记投诉举报 / register a complaint {anonymous, reporter_name, target, content, channel}", "auditor";
    get "/api/v1/settlements" => list_settlements, "结算批次 / settlement runs", "bureau";
    get "/api/v1/settlements/{id}" => get_settlement, "结算批次详情 / a run with its lines, approval history and indicator assessments", "bureau";
    post "/api/v1/settlements/{id}/status" => settlement_status, "结算审批 / move a run {status: submitted|approved|rejected|draft, reason}", "bureau staff submit; section chief, leader or director approve (not the submitter)";
    get "/api/v1/loads" => list_loads, "数据加载记录 / load history", "bureau";
    post "/api/v1/loads" => upload_batch, "上传批次 / upload a batch (multipart: one file per table)", "auditor, section chief";
    get "/api/v1/loads/{id}" => get_load, "加载进度与隔离报告 / load progress and quarantine report", "bureau";
    get "/api/v1/export/{table}" => export_xlsx, "导出 Excel / export a table (findings, reviews, institutions, cases, complaints, settlements)", "as the table";
    post "/api/v1/precheck" => precheck, "事前提醒/事中控制 / pre-check one visit {visit, lines}", "hospital, pharmacy (own), bureau";
    get "/api/v1/auditlog/verify" => auditlog_verify, "审计日志校验 / verify the hash chain", "leader, director, admin";
}

/// The router: API routes, the UI assets, limits and request logs.
pub fn router(state: Arc<AppState>) -> Router {
    let r = api_routes(Router::new())
        .route(
            "/",
            axum::routing::get(|| async { crate::assets::serve("") }),
        )
        .route(
            "/assets/{*path}",
            axum::routing::get(|Path(p): Path<String>| async move { crate::assets::serve(&p) }),
        )
        .fallback(|| async { ApiError::not_found("接口 / route") })
        // JSON bodies are small; a batch upload may be large (one file per table).
        .layer(DefaultBodyLimit::max(256 * 1024 * 1024))
        .layer(axum::middleware::from_fn(small_bodies))
        .layer(axum::middleware::from_fn(log_requests));
    r.with_state(state)
}

/// Caps every body but a batch upload's at 1 MiB: a declared `Content-Length` over the cap is
/// refused at once, and a body without one (chunked) is cut off at the cap while it is read, so
/// the extractor answers 413 instead of buffering up to the router's 256 MiB.
async fn small_bodies(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    const CAP: usize = 1024 * 1024;
    if req.uri().path() == "/api/v1/loads" {
        return next.run(req).await;
    }
    let big = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > CAP as u64);
    if big {
        return too_large().into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = axum::body::Body::new(http_body_util::Limited::new(body, CAP));
    let res = next
        .run(axum::extract::Request::from_parts(parts, limited))
        .await;
    // axum's own rejection for a cut-off body is plain text; answer in the API's error shape.
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large().into_response();
    }
    res
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "请求体过大（上限 1 MiB）",
        "request body over 1 MiB",
    )
}

/// One JSON line per request on stderr.
async fn log_requests(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let t = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    if std::env::var_os("MEDFUND_QUIET_LOG").is_none() {
        eprintln!(
            "{}",
            json!({
                "time": chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
                "method": method.as_str(),
                "path": path,
                "status": res.status().as_u16(),
                "ms": (t.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            })
        );
    }
    res
}

async fn openapi_doc() -> Json<Value> {
    Json(crate::openapi::document())
}

fn need_bureau(a: &Actor) -> ApiResult<()> {
    if a.is_bureau() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "仅限医保部门工作人员 / bureau staff only",
        ))
    }
}

/// The institution filter a user may use: bureau staff any (or none), institution users only
/// their own, others nothing.
fn scoped_institution(a: &Actor, asked: Option<String>) -> ApiResult<Option<String>> {
    if a.is_bureau() {
        return Ok(asked);
    }
    match a.institution() {
        Some(own) => {
            if asked.as_deref().is_some_and(|x| x != own) {
                // Asking for another institution's data looks exactly like asking for nothing.
                return Err(ApiError::not_found("机构 / institution"));
            }
            Ok(Some(own.to_string()))
        }
        None => Err(ApiError::forbidden("无权查看 / not allowed to read this")),
    }
}

fn month_param(m: &Option<String>) -> ApiResult<Option<YearMonth>> {
    match m.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => YearMonth::parse(s).map(Some).map_err(|e| {
            ApiError::bad_request(
                format!("月份格式应为 YYYY-MM：{e}"),
                format!("month must be YYYY-MM: {e}"),
            )
        }),
    }
}

// ---------------------------------------------------------------- dashboard and monitoring

async fn dashboard(st: St, u: AuthUser) -> ApiResult<Json<Value>> {
    let inst = scoped_institution(&u.actor, None)?;
    let snap = st.snap();
    let latest = snap.latest();
    let report = latest
        .and_then(|m| snap.reports.get(&m))
        .cloned()
        .unwrap_or(Value::Null);
    let inst2 = inst.clone();
    let (by_cat, by_inst) = st
        .blocking(move |store| {
            let db = store.db();
            let (w, p): (&str, Vec<medfund_db::Value>) = match &inst2 {
                Some(c) => ("WHERE fixmedins_code = $1", vec![c.as_str().into()]),
                None => ("", vec![]),
            };
            let cat = db
                .query(
                    &format!("SELECT category, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS fen FROM finding {w} GROUP BY category ORDER BY n DESC"),
                    &p,
                )
                .map_err(ApiError::internal)?;
            let ins = db
                .query(
                    &format!("SELECT fixmedins_code, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS fen FROM finding {w} GROUP BY fixmedins_code ORDER BY fen DESC LIMIT 15"),
                    &p,
                )
                .map_err(ApiError::internal)?;
            Ok((cat, ins))
        })
        .await?;
    let name_of = |c: &str| {
        snap.fixmedins
            .iter()
            .find(|f| f.fixmedins_code == c)
            .map(|f| f.fixmedins_name.clone())
            .unwrap_or_default()
    };
    let mut budgets = report.get("budgets").cloned().unwrap_or(json!([]));
    let mut top_institutions = report.get("institutions").cloned().unwrap_or(json!([]));
    if let Some(own) = &inst {
        for v in [&mut budgets, &mut top_institutions] {
            if let Some(a) = v.as_array_mut() {
                a.retain(|x| {
                    x.get("fixmedins_code").and_then(|c| c.as_str()) == Some(own.as_str())
                });
            }
        }
    }
    let bureau = u.actor.is_bureau();
    Ok(Json(json!({
        "month": latest.map(|m| m.to_string()),
        "scope": inst,
        "fund": if bureau { report.get("fund").cloned().unwrap_or(Value::Null) } else { Value::Null },
        "summary": if bureau { report.get("summary").cloned().unwrap_or(Value::Null) } else { Value::Null },
        "warnings": if bureau { report.get("warnings").cloned().unwrap_or(json!([])) } else { json!([]) },
        "trend": if bureau {
            snap.trend.iter().map(|(m, fund, total)| json!({"month": m.to_string(), "fund": fund, "total": total})).collect::<Vec<_>>()
        } else { vec![] },
        "findings_by_category": by_cat.iter().map(|r| {
            let code = r.text(0);
            json!({"category": code, "name": Category::from_code(&code).map(|c| c.zh()).unwrap_or(""), "count": r.int(1), "amount": Fen(r.int(2))})
        }).collect::<Vec<_>>(),
        "findings_by_institution": by_inst.iter().map(|r| {
            let code = r.text(0);
            json!({"fixmedins_code": code, "name": name_of(&code), "count": r.int(1), "amount": Fen(r.int(2))})
        }).collect::<Vec<_>>(),
        "budgets": budgets,
        "institutions": top_institutions,
    })))
}

#[derive(Deserialize)]
struct MonthQ {
    month: Option<String>,
}

async fn monitor(st: St, u: AuthUser, Query(q): Query<MonthQ>) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let snap = st.snap();
    let m = month_param(&q.month)?
        .or(snap.latest())
        .ok_or_else(|| ApiError::not_found("监测数据 / monitoring data"))?;
    snap.reports
        .get(&m)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(&format!("{m} 月报 / report")))
}

// ---------------------------------------------------------------- findings

#[derive(Deserialize, Default)]
struct FindingQ {
    category: Option<String>,
    fixmedins_code: Option<String>,
    status: Option<String>,
    month: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

fn finding_filter(a: &Actor, q: FindingQ) -> ApiResult<FindingFilter> {
    let category = match q.category.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => Some(Category::from_code(c).ok_or_else(|| {
            ApiError::bad_request(
                format!("未知的疑点类别：{c}"),
                format!("unknown category: {c}"),
            )
        })?),
    };
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("new") => Some(FindingStatus::New),
        Some("confirmed") => Some(FindingStatus::Confirmed),
        Some("dismissed") => Some(FindingStatus::Dismissed),
        Some(s) => {
            return Err(ApiError::bad_request(
                format!("未知的状态：{s}"),
                format!("unknown status: {s} (new, confirmed, dismissed)"),
            ))
        }
    };
    Ok(FindingFilter {
        category,
        fixmedins_code: scoped_institution(a, q.fixmedins_code.filter(|s| !s.is_empty()))?,
        status,
        month: month_param(&q.month)?,
        run_id: None,
        limit: Some(q.limit.unwrap_or(50).min(1000)),
        offset: q.offset.unwrap_or(0),
    })
}

async fn list_findings(st: St, u: AuthUser, Query(q): Query<FindingQ>) -> ApiResult<Json<Value>> {
    let f = finding_filter(&u.actor, q)?;
    let (items, total) = st
        .blocking(move |store| {
            let total = store
                .count_findings(&FindingFilter {
                    limit: None,
                    offset: 0,
                    ..f.clone()
                })
                .map_err(ApiError::internal)?;
            let items = store.list_findings(&f).map_err(ApiError::internal)?;
            Ok((items, total))
        })
        .await?;
    let items = redacted(&st, &u.actor, items);
    Ok(Json(json!({"total": total, "items": items})))
}

async fn get_finding(st: St, u: AuthUser, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let actor = u.actor.clone();
    let pol = st.wf_policy.clone();
    let (f, review) = st
        .blocking(move |store| {
            let f: StoredFinding = store
                .finding(&id)
                .map_err(ApiError::internal)?
                .ok_or_else(|| ApiError::not_found("疑点 / finding"))?;
            // Bureau staff see every finding; an institution user only its own institution's.
            // Users of neither kind (partners, third parties, administrators) none here: a
            // person-level finding has no institution, which must not read as "their own".
            let own = actor
                .institution()
                .is_some_and(|c| Some(c) == f.finding.fixmedins_code.as_deref());
            if !actor.is_bureau() && !own {
                return Err(ApiError::not_found("疑点 / finding"));
            }
            let mut wf = Workflow::new(store.db(), pol).map_err(wf_error)?;
            let review = wf.review_of_finding(&actor, &id).ok().flatten();
            Ok((f, review))
        })
        .await?;
    let f = redacted(&st, &u.actor, vec![f]).remove(0);
    Ok(Json(json!({"finding": f, "review": review})))
}

#[derive(Deserialize, Default)]
struct RegisterQ {
    category: Option<String>,
    fixmedins_code: Option<String>,
    limit: Option<usize>,
}

async fn register_findings(
    st: St,
    u: AuthUser,
    Query(q): Query<RegisterQ>,
) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let f = finding_filter(
        &u.actor,
        FindingQ {
            category: q.category,
            fixmedins_code: q.fixmedins_code,
            status: Some("new".into()),
            limit: Some(q.limit.unwrap_or(100)),
            ..Default::default()
        },
    )?;
    let pol = st.wf_policy.clone();
    let actor = u.actor.clone();
    let n = st
        .blocking(move |store| {
            let items = store.list_findings(&f).map_err(ApiError::internal)?;
            let pairs: Vec<(medfund_contract::Finding, String)> = items
                .into_iter()
                .map(|s| (s.finding, "manual".to_string()))
                .collect();
            let mut wf = Workflow::new(store.db(), pol).map_err(wf_error)?;
            wf.register_findings(&actor, &pairs)
                .map_err(wf_error)
                .map(|v| v.len())
        })
        .await?;
    Ok(Json(json!({"registered": n})))
}

// ---------------------------------------------------------------- reviews

#[derive(Deserialize, Default)]
struct ReviewQ {
    state: Option<String>,
    category: Option<String>,
    fixmedins_code: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_reviews(st: St, u: AuthUser, Query(q): Query<ReviewQ>) -> ApiResult<Json<Value>> {
    let state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(ReviewState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                format!("未知的审核状态：{s}"),
                format!("unknown review state: {s}"),
            )
        })?),
    };
    let f = ReviewFilter {
        state,
        fixmedins_code: q.fixmedins_code.filter(|s| !s.is_empty()),
        category: q.category.filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let page = Page {
        offset: q.offset.unwrap_or(0).max(0),
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
    };
    let pol = st.wf_policy.clone();
    let actor = u.actor;
    let r = st
        .blocking(move |store| {
            let mut wf = Workflow::new(store.db(), pol).map_err(wf_error)?;
            wf.list_reviews(&actor, &f, page).map_err(wf_error)
        })
        .await?;
    Ok(Json(serde_json::to_value(r).map_err(ApiError::internal)?))
}

/// Runs one workflow operation for the request's actor and returns its result as JSON.
async fn wf<T: serde::Serialize + Send + 'static>(
    st: &Arc<AppState>,
    actor: Actor,
    f: impl FnOnce(&mut Workflow, &Actor) -> medfund_workflow::Result<T> + Send + 'static,
) -> ApiResult<Json<Value>> {
    let pol = st.wf_policy.clone();
    let data = st.data.clone();
    let v = st
        .blocking(move |store| {
            let mut w = Workflow::new(store.db(), pol)
                .map_err(wf_error)?
                .with_data_dir(data);
            f(&mut w, &actor).map_err(wf_error)
        })
        .await?;
    Ok(Json(serde_json::to_value(v).map_err(ApiError::internal)?))
}

async fn get_review(st: St, u: AuthUser, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    wf(&st, u.actor, move |w, a| w.get_review(a, id)).await
}

#[derive(Deserialize)]
struct FirstBody {
    opinion: String,
    #[serde(default)]
    note: String,
}

async fn first_review(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<FirstBody>,
) -> ApiResult<Json<Value>> {
    let op = Opinion::parse(&b.opinion).ok_or_else(|| {
        ApiError::bad_request(
            "初审意见应为 confirm 或 dismiss",
            "opinion must be confirm or dismiss",
        )
    })?;
    wf(&st, u.actor, move |w, a| w.first_review(a, id, op, &b.note)).await
}

#[derive(Deserialize)]
struct SecondBody {
    agree: bool,
    #[serde(default)]
    note: String,
}

async fn second_review(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<SecondBody>,
) -> ApiResult<Json<Value>> {
    wf(&st, u.actor, move |w, a| {
        w.second_review(a, id, b.agree, &b.note)
    })
    .await
}

#[derive(Deserialize)]
struct TextBody {
    #[serde(default)]
    text: String,
    #[serde(default)]
    note: String,
}

async fn appeal(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<TextBody>,
) -> ApiResult<Json<Value>> {
    wf(&st, u.actor, move |w, a| w.appeal(a, id, &b.text, &[])).await
}

async fn accept(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<TextBody>,
) -> ApiResult<Json<Value>> {
    wf(&st, u.actor, move |w, a| w.accept_finding(a, id, &b.note)).await
}

async fn investigate(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<TextBody>,
) -> ApiResult<Json<Value>> {
    wf(&st, u.actor, move |w, a| {
        w.start_investigation(a, id, &b.note)
    })
    .await
}

#[derive(Deserialize)]
struct DecideBody {
    verdict: String,
    confirmed_amount: Option<Fen>,
    #[serde(default)]
    note: String,
}

async fn decide(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<DecideBody>,
) -> ApiResult<Json<Value>> {
    let v = Verdict::parse(&b.verdict).ok_or_else(|| {
        ApiError::bad_request(
            "处理结论应为 confirmed 或 cleared",
            "verdict must be confirmed or cleared",
        )
    })?;
    wf(&st, u.actor, move |w, a| {
        w.decide_review(a, id, v, b.confirmed_amount, &b.note)
    })
    .await
}

// ---------------------------------------------------------------- institutions, persons, staff

async fn list_institutions(st: St, u: AuthUser) -> ApiResult<Json<Value>> {
    let own = scoped_institution(&u.actor, None)?;
    let snap = st.snap();
    let latest = snap.latest().and_then(|m| snap.reports.get(&m));
    let ind = |code: &str| {
        latest
            .and_then(|r| r.get("institutions"))
            .and_then(|a| a.as_array())
            .and_then(|a| {
                a.iter()
                    .find(|x| x.get("fixmedins_code").and_then(|c| c.as_str()) == Some(code))
            })
            .and_then(|x| x.get("stats"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let items: Vec<Value> = snap
        .fixmedins
        .iter()
        .filter(|f| own.as_deref().is_none_or(|o| o == f.fixmedins_code))
        .map(|f| json!({"institution": f, "stats": ind(&f.fixmedins_code)}))
        .collect();
    Ok(Json(
        json!({"month": snap.latest().map(|m| m.to_string()), "items": items}),
    ))
}

async fn get_institution(st: St, u: AuthUser, Path(code): Path<String>) -> ApiResult<Json<Value>> {
    scoped_institution(&u.actor, Some(code.clone()))?;
    let snap = st.snap();
    let f = snap
        .fixmedins
        .iter()
        .find(|f| f.fixmedins_code == code)
        .cloned()
        .ok_or_else(|| ApiError::not_found("机构 / institution"))?;
    let series: Vec<Value> = snap
        .reports
        .iter()
        .filter_map(|(m, r)| {
            r.get("institutions")?
                .as_array()?
                .iter()
                .find(|x| x.get("fixmedins_code").and_then(|c| c.as_str()) == Some(code.as_str()))
                .map(|x| json!({"month": m.to_string(), "stats": x.get("stats"), "baseline": x.get("baseline_stats"), "indicators": x.get("indicators")}))
        })
        .collect();
    let code2 = code.clone();
    let counts = st
        .blocking(move |store| {
            store
                .db()
                .query(
                    "SELECT category, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM finding WHERE fixmedins_code = $1 GROUP BY category ORDER BY 2 DESC",
                    &[code2.as_str().into()],
                )
                .map_err(ApiError::internal)
        })
        .await?;
    Ok(Json(json!({
        "institution": f,
        "series": series,
        "findings": counts.iter().map(|r| json!({"category": r.text(0), "count": r.int(1), "amount": Fen(r.int(2))})).collect::<Vec<_>>(),
    })))
}

async fn get_person(st: St, u: AuthUser, Path(psn): Path<String>) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let snap = st.snap();
    let h = snap
        .history
        .get(psn.as_str())
        .ok_or_else(|| ApiError::not_found("参保人 / person"))?;
    let mut visits = h.visits.clone();
    visits.sort_by_key(|m| std::cmp::Reverse(m.begntime));
    let psn2 = psn.clone();
    let findings = st
        .blocking(move |store| {
            let rows = store
                .db()
                .query("SELECT finding_id FROM finding WHERE psn_no = $1 ORDER BY finding_id LIMIT 200", &[psn2.as_str().into()])
                .map_err(ApiError::internal)?;
            let mut out = Vec::new();
            for r in rows {
                if let Some(f) = store.finding(&r.text(0)).map_err(ApiError::internal)? {
                    out.push(f);
                }
            }
            Ok(out)
        })
        .await?;
    let spent: Fen = h.fees.iter().map(|f| f.det_item_fee_sumamt).sum();
    Ok(Json(
        json!({"person": h.psn, "visits": visits.iter().take(200).collect::<Vec<_>>(), "visit_count": h.visits.len(), "fee_total": spent, "findings": findings}),
    ))
}

async fn get_practitioner(st: St, u: AuthUser, Path(code): Path<String>) -> ApiResult<Json<Value>> {
    wf(&st, u.actor, move |w, a| w.person_file(a, &code)).await
}

// ---------------------------------------------------------------- cases and complaints

#[derive(Deserialize, Default)]
struct CaseQ {
    state: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_cases(st: St, u: AuthUser, Query(q): Query<CaseQ>) -> ApiResult<Json<Value>> {
    let state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(medfund_workflow::cases::CaseState::parse(s).ok_or_else(|| {
            ApiError::bad_request(
                format!("未知的案件状态：{s}"),
                format!("unknown case state: {s}"),
            )
        })?),
    };
    let page = Page {
        offset: q.offset.unwrap_or(0).max(0),
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
    };
    wf(&st, u.actor, move |w, a| {
        w.list_cases(
            a,
            &CaseFilter {
                state,
                ..Default::default()
            },
            page,
        )
    })
    .await
}

#[derive(Deserialize)]
struct CaseBody {
    title: String,
    #[serde(default)]
    summary: String,
    fixmedins_code: Option<String>,
    source: Option<String>,
    source_ref: Option<String>,
    suspect_amount: Option<Fen>,
}

async fn open_case(st: St, u: AuthUser, Json(b): Json<CaseBody>) -> ApiResult<Json<Value>> {
    let source = match b.source.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            medfund_workflow::cases::CaseSource::parse(s).ok_or_else(|| {
                ApiError::bad_request(
                    format!("未知的案件来源：{s}"),
                    format!("unknown case source: {s}"),
                )
            })?,
        ),
    };
    let n = NewCase {
        source,
        source_ref: b.source_ref,
        fixmedins_code: b.fixmedins_code,
        title: b.title,
        summary: b.summary,
        suspect_amount: b.suspect_amount,
    };
    wf(&st, u.actor, move |w, a| w.open_case(a, &n)).await
}

async fn get_case(st: St, u: AuthUser, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    // The case detail already carries its sanctions as this user may see them (partners see
    // shared cases, whose sanctions list they may not query on their own).
    let detail = wf(&st, u.actor, move |w, a| w.get_case(a, id)).await?;
    let sanctions = detail
        .0
        .get("sanctions")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    Ok(Json(json!({"detail": detail.0, "sanctions": sanctions})))
}

async fn list_complaints(st: St, u: AuthUser) -> ApiResult<Json<Value>> {
    if !u.actor.has(medfund_workflow::Perm::ComplaintHandle)
        && !u.actor.has(medfund_workflow::Perm::ComplaintIntake)
    {
        return Err(ApiError::forbidden(
            "投诉举报仅限办理人员查看 / complaints are for their handlers",
        ));
    }
    wf(&st, u.actor, move |w, a| {
        w.list_complaints(a, None, Page::default())
    })
    .await
}

#[derive(Deserialize)]
struct ComplaintBody {
    #[serde(default)]
    anonymous: bool,
    reporter_name: Option<String>,
    reporter_contact: Option<String>,
    fixmedins_code: Option<String>,
    target: String,
    content: String,
    channel: Option<String>,
}

async fn submit_complaint(
    st: St,
    u: AuthUser,
    Json(b): Json<ComplaintBody>,
) -> ApiResult<Json<Value>> {
    let channel = match b.channel.as_deref() {
        None | Some("") => Channel::Online,
        Some(s) => Channel::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("未知的渠道：{s}"), format!("unknown channel: {s}"))
        })?,
    };
    // Registering a complaint is the bureau's intake desk (the public files through its own
    // channel, `medfund complaint submit`), not something an institution account may do.
    u.actor
        .require(medfund_workflow::Perm::ComplaintIntake)
        .map_err(wf_error)?;
    let n = NewComplaint {
        anonymous: b.anonymous,
        reporter_name: b.reporter_name,
        reporter_contact: b.reporter_contact,
        fixmedins_code: b.fixmedins_code,
        target: b.target,
        content: b.content,
        channel,
    };
    wf(&st, u.actor, move |w, a| w.submit_complaint(a, &n)).await
}

// ---------------------------------------------------------------- settlements

async fn list_settlements(st: St, u: AuthUser) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let runs = st
        .blocking(|store| {
            medfund_settle::runs::list_runs(store.db(), &Default::default())
                .map_err(ApiError::internal)
        })
        .await?;
    Ok(Json(json!({"items": runs})))
}

/// One run as the approver needs to see it before deciding: the header, every institution's
/// line with its name, the approval history and (budget runs assessed from the indicators) each
/// institution's targets.
async fn get_settlement(st: St, u: AuthUser, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let v = st
        .blocking(move |store| {
            use medfund_settle::runs::{self, RunError};
            let run = runs::get_run(store.db(), id).map_err(|e| match e {
                RunError::NotFound(_) => ApiError::not_found("结算批次 / settlement run"),
                e => ApiError::internal(e),
            })?;
            let history = runs::status_history(store.db(), id).map_err(ApiError::internal)?;
            let lines = if run.kind == "budget" {
                serde_json::to_value(
                    runs::budget_lines(store.db(), id).map_err(ApiError::internal)?,
                )
            } else {
                serde_json::to_value(runs::point_lines(store.db(), id).map_err(ApiError::internal)?)
            }
            .map_err(ApiError::internal)?;
            let names: serde_json::Map<String, Value> = store
                .fixmedins()
                .map_err(ApiError::internal)?
                .into_iter()
                .map(|f| {
                    (
                        f.fixmedins_code.to_string(),
                        Value::String(f.fixmedins_name),
                    )
                })
                .collect();
            let assessments = run
                .params
                .get("indicator_assessments")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            Ok::<_, ApiError>(json!({
                "run": run,
                "history": history,
                "lines": lines,
                "names": names,
                "indicator_assessments": assessments,
            }))
        })
        .await?;
    Ok(Json(v))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
    reason: Option<String>,
}

async fn settlement_status(
    st: St,
    u: AuthUser,
    Path(id): Path<i64>,
    Json(b): Json<StatusBody>,
) -> ApiResult<Json<Value>> {
    use medfund_settle::runs::RunStatus;
    need_bureau(&u.actor)?;
    let to = RunStatus::parse(&b.status).ok_or_else(|| {
        ApiError::bad_request(
            format!("未知的结算状态：{}", b.status),
            "status must be draft, submitted, approved or rejected",
        )
    })?;
    let actor = u.actor.clone();
    let pol = st.wf_policy.clone();
    let run = st
        .blocking(move |store| {
            // Roles, the run's own checks and the audit-log entry, in one transaction.
            medfund_settle::approval::change_status(
                store.db(),
                &pol,
                &actor,
                id,
                to,
                b.reason.as_deref(),
            )
            .map_err(|e| {
                use medfund_settle::approval::ApprovalError as E;
                use medfund_settle::runs::RunError;
                match e {
                    E::Forbidden(m) => ApiError::forbidden(m),
                    E::Run(RunError::NotFound(_)) => {
                        ApiError::not_found("结算批次 / settlement run")
                    }
                    E::Run(e) => ApiError::conflict(e.to_string(), e.to_string()),
                    E::Log(e) => wf_error(e),
                }
            })
        })
        .await?;
    Ok(Json(serde_json::to_value(run).map_err(ApiError::internal)?))
}

// ---------------------------------------------------------------- loads

/// A batch load started from the browser.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadJob {
    pub id: u64,
    pub by: String,
    pub dir: String,
    pub state: String,
    pub stage: String,
    pub done: u64,
    pub total: u64,
    pub report: Option<Value>,
    pub quarantine: Vec<Value>,
    pub error: Option<String>,
}

async fn list_loads(st: St, u: AuthUser) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let runs = st
        .blocking(|store| store.load_runs().map_err(ApiError::internal))
        .await?;
    let jobs = st.loads.lock().map(|j| j.clone()).unwrap_or_default();
    Ok(Json(json!({"runs": runs, "jobs": jobs})))
}

async fn get_load(st: St, u: AuthUser, Path(id): Path<u64>) -> ApiResult<Json<Value>> {
    need_bureau(&u.actor)?;
    let jobs = st.loads.lock().map_err(|_| ApiError::internal("lock"))?;
    let j = jobs
        .iter()
        .find(|j| j.id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("加载任务 / load job"))?;
    Ok(Json(serde_json::to_value(j).map_err(ApiError::internal)?))
}

async fn upload_batch(st: St, u: AuthUser, mut mp: Multipart) -> ApiResult<Json<Value>> {
    use medfund_workflow::Role;
    need_bureau(&u.actor)?;
    if !u
        .actor
        .roles
        .iter()
        .any(|r| matches!(r, Role::Auditor | Role::SectionChief))
    {
        return Err(ApiError::forbidden(
            "加载数据须由稽核员或科长办理 / loading needs an auditor or section chief",
        ));
    }
    let id = {
        let jobs = st.loads.lock().map_err(|_| ApiError::internal("lock"))?;
        jobs.len() as u64 + 1
    };
    let dir = st.data.join("uploads").join(format!(
        "upload-{}-{id}",
        chrono::Local::now().format("%Y%m%d%H%M%S")
    ));
    std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
    let mut files = 0;
    while let Some(field) = mp.next_field().await.map_err(|e| {
        ApiError::bad_request(
            format!("上传内容无法读取：{e}"),
            format!("unreadable upload: {e}"),
        )
    })? {
        let name = field.file_name().unwrap_or("").to_string();
        let base = std::path::Path::new(&name)
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        let stem = base.split('.').next().unwrap_or("");
        let ok_ext =
            base.ends_with(".csv") || base.ends_with(".parquet") || base.ends_with(".jsonl");
        if medfund_contract::Table::from_name(stem).is_none() || !ok_ext {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(ApiError::bad_request(
                format!("文件名“{base}”不是合同中的表（如 fee.csv、mdtrt.parquet）"),
                format!("'{base}' is not a contract table file (e.g. fee.csv, mdtrt.parquet)"),
            ));
        }
        let bytes = field.bytes().await.map_err(|e| {
            ApiError::bad_request(format!("上传中断：{e}"), format!("upload interrupted: {e}"))
        })?;
        std::fs::write(dir.join(&base), &bytes).map_err(ApiError::internal)?;
        files += 1;
    }
    if files == 0 {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(ApiError::bad_request(
            "没有上传任何文件",
            "no files uploaded",
        ));
    }
    let job = LoadJob {
        id,
        by: u.actor.username.clone(),
        dir: dir.display().to_string(),
        state: "running".into(),
        stage: "read".into(),
        done: 0,
        total: 0,
        report: None,
        quarantine: vec![],
        error: None,
    };
    st.loads
        .lock()
        .map_err(|_| ApiError::internal("lock"))?
        .push(job);
    let st2 = st.0.clone();
    std::thread::spawn(move || run_load(st2, id, dir));
    Ok(Json(json!({"id": id, "files": files})))
}

fn run_load(st: Arc<AppState>, id: u64, dir: std::path::PathBuf) {
    let update = |f: &mut dyn FnMut(&mut LoadJob)| {
        if let Ok(mut jobs) = st.loads.lock() {
            if let Some(j) = jobs.iter_mut().find(|j| j.id == id) {
                f(j);
            }
        }
    };
    let result = {
        let progress = |p: medfund_store::Progress| {
            update(&mut |j| {
                j.stage = format!(
                    "{:?}{}",
                    p.stage,
                    p.table
                        .map(|t| format!(" {}", t.name()))
                        .unwrap_or_default()
                );
                j.done = p.done;
                j.total = p.total;
            })
        };
        let mut store = match st.store.lock() {
            Ok(s) => s,
            Err(_) => return,
        };
        store
            .load_batch(&dir, &Default::default(), Some(&progress))
            .map(|r| {
                let q = store.quarantine(r.load_id).unwrap_or_default();
                (r, q)
            })
    };
    match result {
        Ok((r, q)) => {
            let _ = st.refresh();
            update(&mut |j| {
                j.state = "done".into();
                j.report = serde_json::to_value(&r).ok();
                j.quarantine = q
                    .iter()
                    .take(500)
                    .filter_map(|x| serde_json::to_value(x).ok())
                    .collect();
            });
        }
        Err(e) => update(&mut |j| {
            j.state = "failed".into();
            j.error = Some(e.to_string());
        }),
    }
}

// ---------------------------------------------------------------- exports

async fn export_xlsx(st: St, u: AuthUser, Path(table): Path<String>) -> ApiResult<Response> {
    let name = table.trim_end_matches(".xlsx").to_string();
    let (headers, rows): (Vec<String>, Vec<Vec<String>>) = match name.as_str() {
        "findings" => {
            let f = finding_filter(
                &u.actor,
                FindingQ {
                    limit: Some(1000),
                    ..Default::default()
                },
            )?;
            let items = st
                .blocking(move |s| {
                    s.list_findings(&FindingFilter {
                        limit: Some(100_000),
                        ..f
                    })
                    .map_err(ApiError::internal)
                })
                .await?;
            let items = redacted(&st, &u.actor, items);
            let mut h: Vec<String> = medfund_contract::finding::FINDING_COLUMNS
                .iter()
                .map(|s| s.to_string())
                .collect();
            h.push("status".into());
            (
                h,
                items
                    .iter()
                    .map(|s| {
                        let mut r = s.finding.to_row();
                        r.push(s.status.code().to_string());
                        r
                    })
                    .collect(),
            )
        }
        "institutions" => {
            let own = scoped_institution(&u.actor, None)?;
            let snap = st.snap();
            (
                vec![
                    "fixmedins_code",
                    "fixmedins_name",
                    "fixmedins_type",
                    "hosp_lv",
                    "admdvs",
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                snap.fixmedins
                    .iter()
                    .filter(|f| own.as_deref().is_none_or(|o| o == f.fixmedins_code))
                    .map(|f| {
                        vec![
                            f.fixmedins_code.to_string(),
                            f.fixmedins_name.clone(),
                            f.fixmedins_type.code().to_string(),
                            f.hosp_lv.map(|x| x.to_string()).unwrap_or_default(),
                            f.admdvs.as_ref().map(|x| x.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect(),
            )
        }
        "reviews" | "cases" | "complaints" | "settlements" => {
            let v = match name.as_str() {
                "reviews" => {
                    list_reviews(
                        st.clone(),
                        u,
                        Query(ReviewQ {
                            limit: Some(1000),
                            ..Default::default()
                        }),
                    )
                    .await?
                    .0
                }
                "cases" => {
                    list_cases(
                        st.clone(),
                        u,
                        Query(CaseQ {
                            limit: Some(1000),
                            ..Default::default()
                        }),
                    )
                    .await?
                    .0
                }
                "complaints" => list_complaints(st.clone(), u).await?.0,
                _ => list_settlements(st.clone(), u).await?.0,
            };
            crate::xlsx::flatten(v.get("items").cloned().unwrap_or(Value::Array(vec![])))
        }
        _ => return Err(ApiError::not_found("导出表 / export table")),
    };
    let bytes = crate::xlsx::workbook(&name, &headers, &rows).map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"medfund-{name}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------- pre-check

#[derive(Deserialize)]
struct PrecheckBody {
    visit: Mdtrt,
    lines: Vec<Fee>,
}

async fn precheck(st: St, u: AuthUser, Json(b): Json<PrecheckBody>) -> ApiResult<Json<Value>> {
    let a = &u.actor;
    if !a.is_bureau() && a.institution() != Some(b.visit.fixmedins_code.as_str()) {
        return Err(ApiError::forbidden(
            "只能预审本机构的就诊 / only your own institution's visits",
        ));
    }
    if b.lines.len() > 2000 {
        return Err(ApiError::bad_request(
            "一次最多预审 2000 行",
            "at most 2000 lines per request",
        ));
    }
    if let Some(l) = b
        .lines
        .iter()
        .find(|l| l.mdtrt_id != b.visit.mdtrt_id || l.psn_no != b.visit.psn_no)
    {
        return Err(ApiError::bad_request(
            format!("费用明细 {} 不属于该次就诊", l.feedetl_sn),
            format!("line {} does not belong to the visit", l.feedetl_sn),
        ));
    }
    let snap = st.snap();
    let empty = medfund_audit::PersonHistory::default();
    let h = snap.history.get(b.visit.psn_no.as_str()).unwrap_or(&empty);
    let t = Instant::now();
    let mut findings = medfund_audit::precheck(&b.visit, &b.lines, h, &snap.precheck);
    let micros = t.elapsed().as_micros() as u64;
    if !a.is_bureau() {
        findings = for_institution(
            findings,
            &b.visit.mdtrt_id,
            a.institution(),
            &snap.fixmedins,
        );
    }
    Ok(Json(json!({"findings": findings, "micros": micros})))
}

/// Stored findings as `actor` may read them: untouched for the bureau, [`redact_foreign`] for
/// an institution's user.
fn redacted(st: &St, actor: &Actor, mut items: Vec<StoredFinding>) -> Vec<StoredFinding> {
    if !actor.is_bureau() {
        let snap = st.snap();
        for s in &mut items {
            redact_foreign(&mut s.finding, actor.institution(), &snap.fixmedins);
        }
    }
    items
}

/// What a hospital or pharmacy may learn from its own pre-check: that the visit conflicts with
/// the person's care elsewhere, not where, when or by whom (that is the bureau's to check).
/// Findings not about the submitted visit are dropped; the rest pass [`redact_foreign`].
fn for_institution(
    findings: Vec<medfund_contract::Finding>,
    mdtrt_id: &str,
    own: Option<&str>,
    fixmedins: &[medfund_contract::Fixmedins],
) -> Vec<medfund_contract::Finding> {
    findings
        .into_iter()
        .filter(|f| f.mdtrt_id.as_deref() == Some(mdtrt_id))
        .map(|mut f| {
            redact_foreign(&mut f, own, fixmedins);
            f
        })
        .collect()
}

/// For an institution's user: a finding whose evidence names another institution (a stay
/// elsewhere, the first sale of a traceability code, the places of doctor shopping) keeps its
/// category, rule, keys and amount, and its evidence becomes a neutral sentence.
fn redact_foreign(
    f: &mut medfund_contract::Finding,
    own: Option<&str>,
    fixmedins: &[medfund_contract::Fixmedins],
) {
    let details = f.evidence.details.to_string();
    let foreign = fixmedins.iter().any(|i| {
        let c = i.fixmedins_code.as_str();
        Some(c) != own && (f.evidence.text.contains(c) || details.contains(c))
    });
    if foreign {
        f.evidence.text = format!(
            "本次就诊与该参保人在其他定点机构的就医、购药或结算记录存在冲突（{}），详情由医保部门核查。/ this visit conflicts with the person's records at another institution; the bureau reviews the details.",
            f.category.zh()
        );
        f.evidence.details = json!({"redacted": true});
    }
}

async fn auditlog_verify(st: St, u: AuthUser) -> ApiResult<Json<Value>> {
    u.actor
        .require(medfund_workflow::Perm::AuditLogRead)
        .map_err(wf_error)?;
    let r = st
        .blocking(|store| Ok(medfund_workflow::auditlog::verify(store.db())))
        .await?;
    match r {
        Ok(v) => Ok(Json(json!({"ok": true, "verified": v}))),
        Err(e) => Ok(Json(json!({"ok": false, "error": e.to_string()}))),
    }
}
