//! The OpenAPI 3.0 document, generated from the same route table that builds the router
//! ([`crate::api::ROUTES`]), so the two cannot drift apart.

use serde_json::{json, Map, Value};

/// One documented route.
#[derive(Clone, Copy, Debug)]
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// Who may call it (roles and scope).
    pub who: &'static str,
}

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in crate::api::ROUTES {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let public = r.who == "anyone";
        let mut op = json!({
            "summary": r.summary,
            "description": format!("权限 / who: {}", r.who),
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "400": {"description": "请求不合规，未做任何修改 / bad input, nothing changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "未登录 / not logged in"},
                "403": {"description": "无权限 / forbidden"},
                "404": {"description": "不存在或不在权限范围内 / absent or outside your scope"}
            }
        });
        if !public {
            op["security"] = json!([{"cookie": []}, {"bearer": []}]);
        }
        if r.method == "post" {
            op["requestBody"] = json!({"content": {"application/json": {}}});
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "medfund API",
            "version": "v1",
            "description": "医保基金智能监管平台接口。浏览器会话使用 Cookie（修改类请求须带 X-CSRF-Token），系统对接使用 Bearer 令牌。 / medfund API: cookie sessions (state-changing requests need X-CSRF-Token) or bearer tokens."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE},
                "bearer": {"type": "http", "scheme": "bearer"}
            },
            "schemas": {
                "Error": {"type": "object", "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"}, "message_en": {"type": "string"}
                }}
            }
        }
    })
}
