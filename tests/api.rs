//! The JSON API against its own OpenAPI document: every error in the one JSON shape (bad query,
//! unknown route, wrong method, wrong content type), the limits the server enforces stated in
//! the document, and a property test that generates thousands of requests from the document
//! (valid and not: values at and past the limits, malformed ids and bodies, missing or wrong
//! tokens) and finds no 5xx, and no status or content type the document does not give.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use matters::staff::{self, Role, Scope};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use support::web::Web;

/// The shape of every API error: `{"error": "…", "status": n}`, nothing else.
fn assert_error_shape(status: StatusCode, content_type: Option<&str>, body: &str, what: &str) {
    assert!(
        content_type.is_some_and(|c| c.starts_with("application/json")),
        "{what}: {status} with content type {content_type:?}: {body}"
    );
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let o = v.as_object();
    assert!(
        o.is_some_and(|o| o.len() == 2
            && o.get("error")
                .and_then(Value::as_str)
                .is_some_and(|e| !e.is_empty())
            && o.get("status").and_then(Value::as_u64) == Some(u64::from(status.as_u16()))),
        "{what}: {status}: {body}"
    );
}

async fn send(w: &Web, req: Request<Body>) -> (StatusCode, Option<String>, String) {
    let p = w.request(req).await;
    let ct = p
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (p.status, ct, p.body)
}

async fn setup() -> (Web, String, String) {
    let w = Web::new().await;
    w.staff("ada", Role::Admin).await;
    let db = &w.state.runner.db;
    let (_, write) = staff::issue_token(db, "integration", Scope::Write, "test", w.now())
        .await
        .unwrap();
    let (_, read) = staff::issue_token(db, "dashboard", Scope::Read, "test", w.now())
        .await
        .unwrap();
    let p = w
        .api(
            "POST",
            "/api/v1/clients",
            Some(&write),
            Some(json!({ "id": "amelie", "phone": "+15145550111", "language": "fr", "program": "Café" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    (w, write, read)
}

#[tokio::test]
async fn every_api_error_has_the_one_json_shape() {
    let (w, write, _) = setup().await;
    let bearer = format!("Bearer {write}");
    let cases: Vec<(&str, Request<Body>)> = vec![
        (
            "a bad query string",
            Request::get("/api/v1/clients?page=two")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "paging past the limits",
            Request::get("/api/v1/tasks?page=9223372036854775807&per_page=200")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "an unknown route",
            Request::get("/api/v1/nothing-here")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "an unknown route without a token",
            Request::get("/api/v2/clients").body(Body::empty()).unwrap(),
        ),
        (
            "a wrong method",
            Request::delete("/api/v1/clients/amelie")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "a wrong content type",
            Request::post("/api/v1/clients")
                .header(header::AUTHORIZATION, &bearer)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(r#"{"id": "x", "language": "en"}"#))
                .unwrap(),
        ),
        (
            "malformed JSON",
            Request::post("/api/v1/clients/amelie/enrolments")
                .header(header::AUTHORIZATION, &bearer)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"sequence\": "))
                .unwrap(),
        ),
        (
            "an id that is not one",
            Request::get("/api/v1/clients/%3Cscript%3E/scores")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .unwrap(),
        ),
        (
            "no token",
            Request::get("/api/v1/tasks").body(Body::empty()).unwrap(),
        ),
    ];
    let want = [400, 400, 404, 404, 405, 415, 400, 400, 401];
    for ((what, req), want) in cases.into_iter().zip(want) {
        let (status, ct, body) = send(&w, req).await;
        assert_eq!(status.as_u16(), want, "{what}: {body}");
        assert_error_shape(status, ct.as_deref(), &body, what);
    }
}

#[tokio::test]
async fn a_client_with_a_bad_field_is_refused_whole_with_nothing_written() {
    let (w, write, _) = setup().await;
    let p = w
        .api(
            "POST",
            "/api/v1/clients",
            Some(&write),
            Some(json!({ "id": "half", "language": "en", "phone": "+15145550112", "sequence": "nope" })),
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.body.contains("no sequence nope"), "{}", p.body);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM clients WHERE id = 'half'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_openapi_document_states_the_limits_the_server_enforces() {
    let (w, _, _) = setup().await;
    let doc = w.api("GET", "/api/openapi.json", None, None).await.json();
    let params = doc["paths"]["/api/v1/clients/{id}/answers"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let p = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["schema"]
            .clone()
    };
    assert_eq!(p("page")["minimum"], json!(1));
    assert_eq!(p("page")["maximum"], json!(1_000_000));
    assert_eq!(p("per_page")["minimum"], json!(1));
    assert_eq!(p("per_page")["maximum"], json!(200));
    assert_eq!(p("id")["pattern"], json!("^[A-Za-z0-9._-]{1,64}$"));
    assert_eq!(p("id")["maxLength"], json!(64));
}

/// A value for a parameter: within its schema (most of the time) or just past it.
fn value(rng: &mut StdRng, schema: &Value, known_ids: &[&str]) -> String {
    let ty = schema["type"]
        .as_str()
        .or_else(|| schema["type"][0].as_str())
        .unwrap_or("string");
    if ty == "integer" {
        let min = schema["minimum"].as_i64().unwrap_or(i64::MIN / 2);
        let max = schema["maximum"].as_i64().unwrap_or(i64::MAX / 2);
        return match rng.random_range(0..10) {
            0 => min.to_string(),
            1 => max.to_string(),
            2 => (min - 1).to_string(),
            3 => max.saturating_add(1).to_string(),
            4 => "9223372036854775807".into(),
            5 => "-9223372036854775808".into(),
            6 => ["abc", "", "1.5", "1e3", " 7", "٣"][rng.random_range(0..6)].into(),
            _ => rng
                .random_range(min..=max.min(min.saturating_add(300)))
                .to_string(),
        };
    }
    if schema["pattern"].is_string() {
        return match rng.random_range(0..8) {
            0..=2 => known_ids[rng.random_range(0..known_ids.len())].to_owned(),
            3 => format!("c-{}", rng.random_range(0..100_000)),
            4 => "a".repeat(65),
            5 => [
                "a b",
                "amélie",
                "<script>",
                "..",
                "x/y",
                "%00",
                "'; DROP TABLE clients;--",
            ][rng.random_range(0..7)]
            .into(),
            6 => "z".repeat(64),
            _ => String::new(),
        };
    }
    match rng.random_range(0..6) {
        0 => String::new(),
        1 => "é".repeat(rng.random_range(1..300)),
        2 => ["en", "fr", "ar", "zh-Hans", "xx", "fr-CA"][rng.random_range(0..6)].into(),
        3 => "%' OR 1=1 --".into(),
        4 => "\u{202e}\u{0}x".replace('\u{0}', ""),
        _ => "amel".into(),
    }
}

/// A request body for a schema: its required fields with plausible values, then maybe broken.
fn body(rng: &mut StdRng, schema: &Value, doc: &Value) -> Value {
    let schema = resolve(schema, doc);
    let mut o = serde_json::Map::new();
    let required: Vec<String> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        if !required.contains(name) && rng.random_bool(0.5) {
            continue;
        }
        o.insert(name.clone(), field(rng, name, prop));
    }
    let mut v = Value::Object(o);
    match rng.random_range(0..10) {
        0 => {
            if let Some(r) = required.first() {
                v.as_object_mut().unwrap().remove(r);
            }
        }
        1 => {
            v["colour"] = json!("blue");
        }
        2 => {
            if let Some(r) = required.first() {
                v[r] = json!(42);
            }
        }
        3 => v = json!([1, 2, 3]),
        _ => {}
    }
    v
}

fn field(rng: &mut StdRng, name: &str, prop: &Value) -> Value {
    let pick = |rng: &mut StdRng, xs: &[&str]| json!(xs[rng.random_range(0..xs.len())]);
    match name {
        "id" => json!(format!("gen-{}", rng.random_range(0..1_000_000))),
        "phone" => pick(
            rng,
            &["+15145550199", "514 555 0100", "call me", "", "+0000000"],
        ),
        "language" => pick(rng, &["en", "fr", "ar", "tlh", ""]),
        "time_zone" => pick(rng, &["America/Winnipeg", "Mars/Olympus", ""]),
        "referred_on" => pick(
            rng,
            &["2026-05-01", "2099-01-01", "yesterday", "2026-02-30"],
        ),
        "sequence" => pick(rng, &["standard", "light", "nope", ""]),
        "reasons" => json!(["loneliness", "x".repeat(rng.random_range(0..50))]),
        _ if prop["type"] == "array" => json!([]),
        _ => json!("Café ☕ «ok»"),
    }
}

fn resolve(schema: &Value, doc: &Value) -> Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            doc["components"]["schemas"][name].clone()
        }
        None => schema.clone(),
    }
}

#[tokio::test]
async fn requests_generated_from_the_openapi_document_get_only_documented_answers() {
    let (w, write, read) = setup().await;
    let doc = w.api("GET", "/api/openapi.json", None, None).await.json();
    let seed: u64 = std::env::var("MATTERS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_130);
    let known = ["amelie", "nobody"];
    let mut tried = 0;
    let mut by_status = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for round in 0..3 {
        let mut rng = StdRng::seed_from_u64(seed + round);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let documented: Vec<u16> = op["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter_map(|k| k.parse().ok())
                    .collect();
                for _ in 0..200 {
                    let mut url = path.clone();
                    let mut query = Vec::new();
                    for p in op["parameters"].as_array().into_iter().flatten() {
                        let name = p["name"].as_str().unwrap();
                        if p["in"] == "path" {
                            let v = value(&mut rng, &p["schema"], &known);
                            url = url.replace(
                                &format!("{{{name}}}"),
                                &url::form_urlencoded::byte_serialize(v.as_bytes())
                                    .collect::<String>()
                                    .replace('+', "%20"),
                            );
                        } else if rng.random_bool(0.7) {
                            query.push((name.to_owned(), value(&mut rng, &p["schema"], &known)));
                        }
                    }
                    if !query.is_empty() {
                        url = format!("{url}?{}", serde_urlencoded::to_string(&query).unwrap());
                    }
                    let mut b = Request::builder()
                        .method(method.to_uppercase().as_str())
                        .uri(&url);
                    let token = match rng.random_range(0..10) {
                        0 => None,
                        1 => Some("mt_not_a_token".to_owned()),
                        2 => Some(read.clone()),
                        _ => Some(write.clone()),
                    };
                    if let Some(t) = &token {
                        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
                    }
                    let req = match op.get("requestBody") {
                        Some(rb) => {
                            let schema = &rb["content"]["application/json"]["schema"];
                            let text = match rng.random_range(0..12) {
                                0 => "{\"id\": ".to_owned(),
                                1 => String::new(),
                                2 => "x".repeat(70 * 1024),
                                _ => body(&mut rng, schema, &doc).to_string(),
                            };
                            let ct = if rng.random_range(0..10) == 0 {
                                "text/plain"
                            } else {
                                "application/json"
                            };
                            b.header(header::CONTENT_TYPE, ct).body(Body::from(text))
                        }
                        None => b.body(Body::empty()),
                    }
                    .unwrap();
                    let (status, ct, text) = send(&w, req).await;
                    tried += 1;
                    *by_status.entry(status.as_u16()).or_insert(0) += 1;
                    let what = format!("{} {url}", method.to_uppercase());
                    if status.is_server_error() {
                        problems.push(format!("{what}: {status} {text}"));
                    } else if !documented.contains(&status.as_u16()) {
                        problems.push(format!(
                            "{what}: {status} is not documented ({documented:?}): {text}"
                        ));
                    } else if !ct
                        .as_deref()
                        .is_some_and(|c| c.starts_with("application/json"))
                    {
                        problems.push(format!("{what}: content type {ct:?}"));
                    } else if status.is_client_error() {
                        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        if v["status"] != json!(status.as_u16()) || !v["error"].is_string() {
                            problems
                                .push(format!("{what}: {status} not in the error shape: {text}"));
                        }
                    }
                }
            }
        }
    }
    println!(
        "{tried} generated requests (seeds {seed} to {}): {by_status:?}",
        seed + 2
    );
    assert!(
        problems.is_empty(),
        "{} problems, e.g.:\n{}",
        problems.len(),
        problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The generator reached past the happy path.
    for s in [200, 201, 400, 401, 403, 404] {
        assert!(
            by_status.contains_key(&s),
            "no {s} was generated: {by_status:?}"
        );
    }
}
