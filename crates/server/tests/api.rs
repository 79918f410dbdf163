//! API tests: every route needs a session (except login and the OpenAPI document), role and
//! institution scope are enforced, CSRF protects cookie sessions, bad input gets a 4xx with a
//! message and changes nothing, and the OpenAPI document lists exactly the routes served.
//!
//! One small demo city is generated, loaded, audited and given the demo users once; each test
//! drives the router in-process.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use medfund_server::{api::ROUTES, AppState, Options};
use medfund_store::{AuditRunInfo, Store};
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    hospital: String,
    other_hospital: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let city = dir.path().join("city");
        let data = dir.path().join("data");
        medfund_gen::generate(
            &city,
            &medfund_gen::GenConfig {
                persons: 2000,
                ..Default::default()
            },
        )
        .unwrap();
        let mut store = Store::open(&data).unwrap();
        store.load_batch(&city, &Default::default(), None).unwrap();
        let batch = medfund_ingest::read_batch(&city, &Default::default())
            .unwrap()
            .batch;
        let lib = medfund_audit::cli::load_rules(None, &Default::default()).unwrap();
        let res = medfund_audit::audit(&batch, &lib, None, &Default::default());
        assert!(!res.findings.is_empty());
        store
            .save_findings(
                &AuditRunInfo {
                    source: "test".into(),
                    started_at: String::new(),
                    finished_at: String::new(),
                    rules: None,
                    note: None,
                },
                &res.findings,
            )
            .unwrap();
        // The hospital user belongs to the institution with the most findings, so scope tests
        // have something to see and something to be refused.
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for f in &res.findings {
            if let Some(c) = &f.fixmedins_code {
                if c.starts_with('H') {
                    *counts.entry(c.to_string()).or_default() += 1;
                }
            }
        }
        let mut by_n: Vec<_> = counts.into_iter().collect();
        by_n.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let hospital = by_n[0].0.clone();
        let other_hospital = by_n[1].0.clone();
        let pharmacy = batch
            .fixmedins
            .iter()
            .find(|f| f.fixmedins_code.starts_with('P'))
            .unwrap()
            .fixmedins_code
            .to_string();
        medfund_workflow::auth::seed_demo_users(store.db(), &hospital, &pharmacy).unwrap();
        // Register the findings of both hospitals for review, as the bureau's sampling would.
        let pairs: Vec<_> = res
            .findings
            .iter()
            .filter(|f| {
                [&hospital, &other_hospital]
                    .iter()
                    .any(|h| f.fixmedins_code.as_deref() == Some(h.as_str()))
            })
            .take(40)
            .map(|f| (f.clone(), "test".to_string()))
            .collect();
        {
            let mut wf = medfund_workflow::Workflow::new(store.db(), Default::default()).unwrap();
            let a = wf
                .verify_login("auditor", "auditor@Medfund1", "test")
                .unwrap();
            wf.register_findings(&a, &pairs).unwrap();
        }
        drop(store);
        let state = Arc::new(AppState::open(&data, &Options::default()).unwrap());
        Fixture {
            _dir: dir,
            state,
            hospital,
            other_hospital,
        }
    })
}

struct Session {
    cookie: String,
    csrf: String,
    token: String,
}

async fn call(
    method: &str,
    path: &str,
    body: Option<Value>,
    s: Option<&Session>,
    csrf: bool,
) -> (StatusCode, Value) {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(s) = s {
        b = b.header(header::COOKIE, &s.cookie);
        if csrf {
            b = b.header("x-csrf-token", &s.csrf);
        }
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let res = medfund_server::app(fixture().state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn login(user: &str) -> Session {
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": user, "password": format!("{user}@Medfund1")}).to_string(),
        ))
        .unwrap();
    let res = medfund_server::app(fixture().state.clone())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "login of {user}");
    let set = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"),
        "{set}"
    );
    // The cookie lives as long as the session may (12 h); the 30-minute idle expiry is the
    // server's, so an active user is not logged out half an hour after login.
    assert!(set.contains("Max-Age=43200"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let v: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    // A browser login gets no bearer token: page script never holds a credential that works
    // without the CSRF token.
    assert!(v.get("token").is_none(), "{v}");
    Session {
        cookie,
        csrf: v["csrf"].as_str().unwrap().into(),
        token: bearer_login(user).await,
    }
}

/// A system's login (`"bearer": true`): a token in the body and no cookie.
async fn bearer_login(user: &str) -> String {
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"username": user, "password": format!("{user}@Medfund1"), "bearer": true})
                .to_string(),
        ))
        .unwrap();
    let res = medfund_server::app(fixture().state.clone())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "bearer login of {user}");
    assert!(
        res.headers().get(header::SET_COOKIE).is_none(),
        "no cookie for a system"
    );
    let v: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(v.get("csrf").is_none());
    v["token"].as_str().unwrap().to_string()
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{code}", "H32010200001")
        .replace("{psn_no}", "X")
        .replace("{table}", "findings")
}

#[tokio::test]
async fn every_route_requires_a_session() {
    for r in ROUTES {
        if r.who == "anyone" {
            continue;
        }
        let (status, body) = call(
            &r.method.to_uppercase(),
            &concrete(r.path),
            Some(json!({})),
            None,
            false,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{} {} without a session",
            r.method,
            r.path
        );
        assert_eq!(body["error"], "unauthenticated");
    }
}

#[tokio::test]
async fn openapi_lists_exactly_the_routes() {
    let (status, doc) = call("GET", "/api/v1/openapi.json", None, None, false).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (p, ops) in paths {
        for (m, _) in ops.as_object().unwrap() {
            documented += 1;
            assert!(
                ROUTES.iter().any(|r| r.path == p && r.method == m),
                "{m} {p} documented but not routed"
            );
        }
    }
    assert_eq!(documented, ROUTES.len(), "every route is documented once");
    // Every documented route is really served: an unknown path gives the fallback 404 with
    // error "not_found" and message 接口, a served one never does.
    let (s, b) = call("GET", "/api/v1/nonexistent", None, None, false).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(b["message"].as_str().unwrap().contains("接口"));
    let sess = login("auditor").await;
    for r in ROUTES {
        let (_, b) = call(
            &r.method.to_uppercase(),
            &concrete(r.path),
            Some(json!({})),
            Some(&sess),
            true,
        )
        .await;
        assert!(
            !b["message"].as_str().unwrap_or("").contains("未找到：接口"),
            "{} {} is not routed",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn wrong_password_is_refused_and_repeated_failures_lock_the_account() {
    let bad = json!({"username": "partner", "password": "wrong"});
    let (s, b) = call("POST", "/api/v1/auth/login", Some(bad.clone()), None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b["message"].as_str().unwrap().contains("登录失败"));
    for _ in 0..10 {
        call("POST", "/api/v1/auth/login", Some(bad.clone()), None, false).await;
    }
    // Locked now: even the right password is refused.
    let good = json!({"username": "partner", "password": "partner@Medfund1"});
    let (s, _) = call("POST", "/api/v1/auth/login", Some(good), None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"username": "", "password": ""})),
        None,
        false,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_and_bearer_tokens_do_not() {
    let s = login("auditor").await;
    let body = json!({"title": "CSRF 测试", "summary": "x", "source": "referral"});
    let (st, b) = call("POST", "/api/v1/cases", Some(body.clone()), Some(&s), false).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(b["message"].as_str().unwrap().contains("CSRF"));
    // Bearer: no cookie, no CSRF needed.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/cases")
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = medfund_server::app(fixture().state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let text =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).to_string();
    assert_eq!(status, StatusCode::OK, "{text}");
    // Logout ends the session.
    let (st, _) = call("POST", "/api/v1/auth/logout", None, Some(&s), true).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call("GET", "/api/v1/auth/me", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_hospital_sees_only_its_own_data() {
    let f = fixture();
    let s = login("hospital").await;
    let (st, b) = call("GET", "/api/v1/findings?limit=1000", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
    let items = b["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|x| x["finding"]["fixmedins_code"] == f.hospital.as_str()));
    // Their evidence never names another institution (a stay or a sale elsewhere is the
    // bureau's to see), while the bureau's copy of the same findings may.
    let others: Vec<String> = f
        .state
        .snap()
        .fixmedins
        .iter()
        .map(|i| i.fixmedins_code.to_string())
        .filter(|c| *c != f.hospital)
        .collect();
    for x in items {
        let ev = x["finding"]["evidence"].to_string();
        assert!(!others.iter().any(|c| ev.contains(c.as_str())), "{ev}");
    }
    // Another hospital's data: 404, never its content.
    let (st, _) = call(
        "GET",
        &format!("/api/v1/findings?fixmedins_code={}", f.other_hospital),
        None,
        Some(&s),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        "GET",
        &format!("/api/v1/institutions/{}", f.other_hospital),
        None,
        Some(&s),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = call("GET", "/api/v1/institutions", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["items"].as_array().unwrap().len(), 1);
    // A finding of the other hospital by id: 404.
    let chief = login("chief").await;
    let (_, b) = call(
        "GET",
        &format!(
            "/api/v1/findings?fixmedins_code={}&limit=1",
            f.other_hospital
        ),
        None,
        Some(&chief),
        false,
    )
    .await;
    let other_id = b["items"][0]["finding"]["finding_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _) = call(
        "GET",
        &format!("/api/v1/findings/{other_id}"),
        None,
        Some(&s),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        "GET",
        &format!("/api/v1/findings/{other_id}"),
        None,
        Some(&chief),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // Bureau-only pages are refused.
    for p in [
        "/api/v1/monitor",
        "/api/v1/settlements",
        "/api/v1/loads",
        "/api/v1/persons/X",
        "/api/v1/complaints",
    ] {
        let (st, _) = call("GET", p, None, Some(&s), false).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{p}");
    }
    // The review queue shows nothing still in internal review (the hospital is not told yet).
    let (st, b) = call("GET", "/api/v1/reviews", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["total"], 0);
    // Pre-check of another institution's visit is refused.
    let visit = json!({"mdtrt_id": "M1", "psn_no": "P1", "fixmedins_code": f.other_hospital, "med_type": "11",
        "begntime": "2025-03-01T08:00:00", "endtime": null, "diag_code": "J18.900", "dise_codg": null, "atddr_no": null,
        "emer_flag": false, "refl_fixmedins_code": null});
    let (st, _) = call(
        "POST",
        "/api/v1/precheck",
        Some(json!({"visit": visit, "lines": []})),
        Some(&s),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn review_procedure_over_http_with_two_people() {
    let a = login("auditor").await;
    let (_, b) = call(
        "GET",
        "/api/v1/reviews?state=pending&limit=1",
        None,
        Some(&a),
        false,
    )
    .await;
    let id = b["items"][0]["id"].as_i64().expect("a pending review");
    // Bad input: nothing changes.
    let (st, b) = call(
        "POST",
        &format!("/api/v1/reviews/{id}/first"),
        Some(json!({"opinion": "maybe"})),
        Some(&a),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("confirm"));
    let (_, d) = call(
        "GET",
        &format!("/api/v1/reviews/{id}"),
        None,
        Some(&a),
        false,
    )
    .await;
    assert_eq!(d["review"]["state"], "pending");
    let (st, _) = call(
        "POST",
        &format!("/api/v1/reviews/{id}/first"),
        Some(json!({"opinion": "confirm", "note": "成立"})),
        Some(&a),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // The auditor has no second-review permission at all; the reviewer does.
    let (st, _) = call(
        "POST",
        &format!("/api/v1/reviews/{id}/second"),
        Some(json!({"agree": true})),
        Some(&a),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let r = login("reviewer").await;
    let (st, b) = call(
        "POST",
        &format!("/api/v1/reviews/{id}/second"),
        Some(json!({"agree": true, "note": "同意"})),
        Some(&r),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["state"], "notified");
    // A second "first review" is an invalid transition now.
    let (st, b) = call(
        "POST",
        &format!("/api/v1/reviews/{id}/first"),
        Some(json!({"opinion": "confirm", "note": "再次初审"})),
        Some(&a),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
}

#[tokio::test]
async fn dashboard_monitor_and_exports() {
    let s = login("chief").await;
    let (st, d) = call("GET", "/api/v1/dashboard", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!d["findings_by_category"].as_array().unwrap().is_empty());
    assert!(
        d["trend"].as_array().unwrap().len() >= 12,
        "a year of months"
    );
    let (st, _) = call(
        "GET",
        "/api/v1/monitor?month=2025-13",
        None,
        Some(&s),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, m) = call(
        "GET",
        "/api/v1/monitor?month=2025-06",
        None,
        Some(&s),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(m["month"], "2025-06");
    let req = Request::builder()
        .uri("/api/v1/export/findings")
        .header(header::COOKIE, &s.cookie)
        .body(Body::empty())
        .unwrap();
    let res = medfund_server::app(fixture().state.clone())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..2], b"PK");
    let (st, _) = call("GET", "/api/v1/export/passwords", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bodies_over_1_mib_are_refused_even_without_content_length() {
    let s = login("chief").await;
    // 2 MiB of valid JSON, declared and chunked (a stream has no Content-Length).
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    for chunked in [false, true] {
        let b = Request::builder()
            .method("POST")
            .uri("/api/v1/precheck")
            .header(header::COOKIE, &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .header(header::CONTENT_TYPE, "application/json");
        let req = if chunked {
            // 64 KiB pieces, as a chunked upload arrives.
            let pieces: Vec<Result<Vec<u8>, std::io::Error>> = big
                .as_bytes()
                .chunks(64 * 1024)
                .map(|c| Ok(c.to_vec()))
                .collect();
            b.body(Body::from_stream(futures_util::stream::iter(pieces)))
                .unwrap()
        } else {
            b.header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big.clone()))
                .unwrap()
        };
        assert!(chunked == req.headers().get(header::CONTENT_LENGTH).is_none());
        let res = medfund_server::app(fixture().state.clone())
            .oneshot(req)
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunked: {chunked}"
        );
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["error"], "too_large", "{v}");
    }
}

#[tokio::test]
async fn a_settlement_run_shows_its_lines_history_and_assessments() {
    use medfund_settle::budget::{settle_all, Assessment, BudgetInput};
    use medfund_settle::runs::{store_run, RunData, RunMeta};
    // DOMAIN.md §6 worked example: C_in 1,000,000, C_out 200,000, A_in 1,050,000,
    // A_out 250,000, some indicators met → the institution bears 20,000, is paid 1,280,000.
    let code = fixture().hospital.clone();
    let lines = settle_all(
        &[BudgetInput {
            fixmedins_code: code.as_str().into(),
            cap_in: "1000000".parse().unwrap(),
            cap_out: "200000".parse().unwrap(),
            approved_extra: Default::default(),
            actual_in: "1050000".parse().unwrap(),
            actual_out: "250000".parse().unwrap(),
            assessment: Assessment::Some,
            prepaid: None,
        }],
        &Default::default(),
    )
    .unwrap();
    let params = json!({"indicator_assessments": [{"fixmedins_code": code, "from_indicators": "some",
        "used": "some", "targets": [{"indicator": "referral_rate", "name": "转市外住院率",
        "value": 0.2, "baseline": null, "growth": null, "met": false}]}]});
    let id = {
        let mut store = fixture().state.store.lock().unwrap();
        store_run(
            store.db(),
            &RunMeta {
                year: 2025,
                user: "auditor",
                source: "test",
                params,
            },
            RunData::Budget(&lines),
        )
        .unwrap()
    };
    let s = login("chief").await;
    let path = format!("/api/v1/settlements/{id}");
    let (st, v) = call("GET", &path, None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["run"]["kind"], "budget");
    assert_eq!(v["run"]["status"], "draft");
    assert_eq!(v["lines"][0]["fixmedins_code"], code);
    assert_eq!(v["lines"][0]["institution_bears"], "20000.00");
    assert_eq!(v["lines"][0]["payable"], "1280000.00");
    assert!(
        v["names"][code.as_str()]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{v}"
    );
    assert_eq!(v["indicator_assessments"][0]["targets"][0]["met"], false);
    // The history starts with the run's creation as a draft.
    assert_eq!(v["history"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["history"][0]["to"], "draft");
    assert_eq!(v["history"][0]["actor"], "auditor");
    // After a submission the history shows who did it.
    let (st, _) = call(
        "POST",
        &format!("{path}/status"),
        Some(json!({"status": "submitted"})),
        Some(&s),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = call("GET", &path, None, Some(&s), false).await;
    assert_eq!(v["history"][1]["actor"], "chief");
    assert_eq!(v["history"][1]["to"], "submitted");
    // Institutions never see the bureau's settlements; an unknown run is 404.
    let hs = login("hospital").await;
    let (st, _) = call("GET", &path, None, Some(&hs), false).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call("GET", "/api/v1/settlements/999999", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// A bureau account of its own (password `<name>@Medfund1`), so a test may change it without
/// touching the accounts other tests use.
fn add_user(name: &str, role: medfund_workflow::Role) {
    let mut store = fixture().state.store.lock().unwrap();
    let mut wf = medfund_workflow::Workflow::new(store.db(), Default::default()).unwrap();
    let admin = wf.verify_login("admin", "admin@Medfund1", "test").unwrap();
    wf.create_user(
        &admin,
        &medfund_workflow::auth::NewUser {
            username: name.into(),
            display_name: format!("测试账号 {name}"),
            roles: vec![role],
            scope: medfund_workflow::Scope::City,
            password: format!("{name}@Medfund1"),
        },
    )
    .unwrap();
}

#[tokio::test]
async fn a_disabled_account_loses_its_open_sessions_at_once() {
    add_user("temp-auditor", medfund_workflow::Role::Auditor);
    let s = login("temp-auditor").await;
    let (st, _) = call("GET", "/api/v1/dashboard", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
    {
        let mut store = fixture().state.store.lock().unwrap();
        let mut wf = medfund_workflow::Workflow::new(store.db(), Default::default()).unwrap();
        let admin = wf.verify_login("admin", "admin@Medfund1", "test").unwrap();
        wf.update_user(&admin, "temp-auditor", None, None, Some(false))
            .unwrap();
    }
    let (st, _) = call("GET", "/api/v1/dashboard", None, Some(&s), false).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "the cookie session ends with the account"
    );
    let req = Request::builder()
        .uri("/api/v1/dashboard")
        .header(header::AUTHORIZATION, format!("Bearer {}", s.token))
        .body(Body::empty())
        .unwrap();
    let res = medfund_server::app(fixture().state.clone())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "and so does the bearer one"
    );

    // A password change ends the sessions opened with the old password. (The change is
    // stamped to the second, so the test waits for the next one.)
    add_user("temp-chief", medfund_workflow::Role::SectionChief);
    let s = login("temp-chief").await;
    let (st, _) = call("GET", "/api/v1/dashboard", None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    {
        let mut store = fixture().state.store.lock().unwrap();
        let mut wf = medfund_workflow::Workflow::new(store.db(), Default::default()).unwrap();
        let me = wf
            .verify_login("temp-chief", "temp-chief@Medfund1", "test")
            .unwrap();
        wf.change_password(
            &me,
            "temp-chief",
            Some("temp-chief@Medfund1"),
            "Another-pass9",
        )
        .unwrap();
    }
    let (st, _) = call("GET", "/api/v1/dashboard", None, Some(&s), false).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "the old session ended with the old password"
    );
}

#[tokio::test]
async fn only_the_bureau_registers_complaints_and_reads_person_level_findings() {
    let body = json!({"anonymous": true, "target": "某医院", "content": "该院将自费药品串换为医保目录内药品结算，涉及多名参保人", "channel": "online"});
    for user in ["hospital", "partner", "admin"] {
        let s = login(user).await;
        let (st, _) = call(
            "POST",
            "/api/v1/complaints",
            Some(body.clone()),
            Some(&s),
            true,
        )
        .await;
        assert_eq!(
            st,
            StatusCode::FORBIDDEN,
            "{user} may not register complaints"
        );
    }
    let s = login("auditor").await;
    let (st, v) = call("POST", "/api/v1/complaints", Some(body), Some(&s), true).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // A person-level finding (no institution) is not "own" data of users without one.
    let id = {
        let mut store = fixture().state.store.lock().unwrap();
        store
            .list_findings(&Default::default())
            .unwrap()
            .into_iter()
            .find(|f| f.finding.fixmedins_code.is_none())
            .map(|f| f.finding.finding_id)
            .expect("the demo city has person-level findings (doctor shopping)")
    };
    let path = format!("/api/v1/findings/{id}");
    for user in ["partner", "thirdparty", "admin", "hospital"] {
        let s = login(user).await;
        let (st, _) = call("GET", &path, None, Some(&s), false).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}");
    }
    let s = login("auditor").await;
    let (st, _) = call("GET", &path, None, Some(&s), false).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn a_hospital_precheck_does_not_reveal_care_elsewhere() {
    let own = fixture().hospital.clone();
    let snap = fixture().state.snap();
    // A person in hospital elsewhere: an outpatient visit at our hospital during that stay is a
    // concurrent visit.
    let (psn, stay) = snap
        .history
        .iter()
        .find_map(|(p, h)| {
            h.visits
                .iter()
                .find(|m| {
                    m.med_type == "21" && m.endtime.is_some() && m.fixmedins_code != own.as_str()
                })
                .map(|m| (p.clone(), m.clone()))
        })
        .expect("the demo city has inpatient stays");
    let other = stay.fixmedins_code.to_string();
    let item = price_capped_item();
    let pric = item.pric_uplmt_amt.unwrap(); // exactly at the cap: no over_price finding
    let t = stay.begntime + chrono::Duration::hours(26);
    let ts = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let line = json!({"feedetl_sn": "PX1", "mdtrt_id": "PXV1", "setl_id": "PXS1", "psn_no": psn.as_str(), "fixmedins_code": own,
        "fee_ocur_time": ts, "med_list_codg": item.med_list_codg.as_str(), "cnt": "1", "pric": pric.to_string(),
        "det_item_fee_sumamt": medfund_contract::Qty::from_units(1).times(pric).to_string(), "bilg_dr_codg": null, "hi_rxno": null, "drug_trac_codg": []});
    let visit = json!({"mdtrt_id": "PXV1", "psn_no": psn.as_str(), "fixmedins_code": own, "med_type": "11",
        "begntime": ts, "endtime": null, "diag_code": stay.diag_code.as_str(), "dise_codg": null, "atddr_no": null,
        "emer_flag": false, "refl_fixmedins_code": null});
    let body = json!({"visit": visit, "lines": [line]});
    let concurrent = |b: &Value| -> Vec<Value> {
        b["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["category"] == "concurrent_visit")
            .cloned()
            .collect()
    };
    // The bureau sees where the person was.
    let chief = login("chief").await;
    let (st, b) = call(
        "POST",
        "/api/v1/precheck",
        Some(body.clone()),
        Some(&chief),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let c = concurrent(&b);
    assert_eq!(c.len(), 1, "{b}");
    assert!(c[0].to_string().contains(&other), "{}", c[0]);
    // The hospital is warned, without the other institution, visit or dates.
    let hosp = login("hospital").await;
    let (st, b) = call("POST", "/api/v1/precheck", Some(body), Some(&hosp), true).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let c = concurrent(&b);
    assert_eq!(c.len(), 1, "the warning itself stays: {b}");
    assert!(!b.to_string().contains(&other), "{b}");
    assert!(!b.to_string().contains(stay.mdtrt_id.as_str()), "{b}");
    assert_eq!(c[0]["evidence"]["details"], json!({"redacted": true}));
    assert!(b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["mdtrt_id"] == "PXV1"));
}

/// A catalog item of the fixture with a price cap and no other limit, so a line of it can only
/// trip the price rule.
fn price_capped_item() -> medfund_contract::records::CatalogEntry {
    let mut store = fixture().state.store.lock().unwrap();
    store
        .catalog()
        .unwrap()
        .into_iter()
        .find(|c| {
            c.pric_uplmt_amt.is_some()
                && c.lmt_gend.is_none()
                && c.lmt_age_min.is_none()
                && c.lmt_age_max.is_none()
                && c.lmt_hosp_lv.is_none()
                && c.lmt_med_type.is_none()
                && c.lmt_dise.is_empty()
                && c.max_cnt_day.is_none()
                && c.max_cnt_mdtrt.is_none()
        })
        .unwrap()
}

#[tokio::test]
async fn precheck_flags_an_over_price_line() {
    let s = login("chief").await;
    let snap = fixture().state.snap();
    // Any catalog item with a price cap: bill it at cap + 1 yuan.
    let (psn, h) = snap
        .history
        .iter()
        .find(|(_, h)| h.psn.is_some() && !h.visits.is_empty())
        .unwrap();
    let v = &h.visits[0];
    let capped = price_capped_item();
    let cap = capped.pric_uplmt_amt.unwrap();
    let pric = medfund_contract::Price(cap.0 + 1_000_000);
    let line = json!({"feedetl_sn": "PC1", "mdtrt_id": "PCV1", "setl_id": "PCS1", "psn_no": psn.as_str(), "fixmedins_code": v.fixmedins_code.as_str(),
        "fee_ocur_time": "2025-12-30T10:00:00", "med_list_codg": capped.med_list_codg.as_str(), "cnt": "2", "pric": pric.to_string(),
        "det_item_fee_sumamt": medfund_contract::Qty::from_units(2).times(pric).to_string(), "bilg_dr_codg": null, "hi_rxno": null, "drug_trac_codg": []});
    let visit = json!({"mdtrt_id": "PCV1", "psn_no": psn.as_str(), "fixmedins_code": v.fixmedins_code.as_str(), "med_type": "11",
        "begntime": "2025-12-30T09:00:00", "endtime": null, "diag_code": v.diag_code.as_str(), "dise_codg": null, "atddr_no": null,
        "emer_flag": false, "refl_fixmedins_code": null});
    let (st, b) = call(
        "POST",
        "/api/v1/precheck",
        Some(json!({"visit": visit, "lines": [line]})),
        Some(&s),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let f = b["findings"].as_array().unwrap();
    let over: Vec<_> = f.iter().filter(|x| x["category"] == "over_price").collect();
    assert_eq!(over.len(), 1, "{b}");
    // (pric − cap) × cnt = 1.00 × 2 = 2.00 yuan.
    assert_eq!(over[0]["amount"], "2.00");
    // Malformed body → 4xx, clear message.
    let (st, _) = call(
        "POST",
        "/api/v1/precheck",
        Some(json!({"visit": 1})),
        Some(&s),
        true,
    )
    .await;
    assert!(st.is_client_error());
}
