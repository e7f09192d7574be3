//! A local stand-in of Twilio's Messages API, speaking the real protocol: HTTP Basic auth with
//! the account SID and auth token, a form-encoded Create Message request checked against
//! Twilio's OpenAPI description (`tests/protocols/twilio/create_message.json`, taken from
//! `twilio_api_v2010.json`), Twilio-shaped 201 JSON, Twilio error JSON for chosen numbers, and
//! signed status callbacks posted back to the `StatusCallback` URL, latest status first; and the
//! List Message call (`GET …/Messages.json?To=…&From=…`, newest first, paged), its query checked
//! against Twilio's OpenAPI description (`tests/protocols/twilio/list_message.json`), which
//! matters uses to find out whether a send a crash cut off reached Twilio.
//!
//! Shared by the tests and by `matters bench inbound --channel twilio`.

#![allow(dead_code)] // each user takes what it needs

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Twilio's test number that has opted out: sending answers 21610.
pub const OPTED_OUT: &str = "+15005550004";
/// Twilio's test number that is not a valid phone number: 21211.
pub const INVALID: &str = "+15005550001";
/// Always answers 429 with code 20429.
pub const BUSY: &str = "+15005550429";

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    pub sid: String,
    /// The account it was sent through (the one in the request's path).
    pub account: String,
    pub to: String,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub body: String,
    pub status_callback: Option<String>,
    pub form: Vec<(String, String)>,
    /// When Twilio took it (`date_created`): the wall clock, as Twilio's.
    pub created: chrono::DateTime<chrono::Utc>,
    pub status: String,
}

#[derive(Debug, Clone)]
struct Callback {
    /// Signed with this account's token.
    token: String,
    url: String,
    params: Vec<(String, String)>,
}

#[derive(Default)]
struct Book {
    sent: Vec<Sent>,
    /// Every request, accepted or not: (To, HTTP status).
    requests: Vec<(String, u16)>,
    /// Every List Message request: its query.
    lookups: Vec<Vec<(String, String)>>,
    violations: Vec<String>,
    pending: Vec<Callback>,
    /// Numbers that answer 20429 this many more times before they work.
    busy_for: HashMap<String, u32>,
    /// The statuses each number's messages go through (default: sent, delivered).
    outcomes: HashMap<String, Vec<(String, Option<String>)>>,
    /// When each number's messages arrived, and who waits for the next.
    arrivals: HashMap<String, (Vec<std::time::Instant>, Arc<tokio::sync::Notify>)>,
    /// The accounts' numbers and the webhook each sends incoming texts to: (account, number, url).
    numbers: Vec<(String, String, String)>,
    /// Accounts besides the main one (a centre's own): SID and auth token.
    others: HashMap<String, String>,
    /// The account's status (active, suspended, closed).
    account_status: Option<String>,
}

struct Inner {
    account_sid: String,
    token: String,
    schema: Value,
    list_schema: Value,
    /// List IncomingPhoneNumber and Fetch Account, as their OpenAPI descriptions give them.
    numbers_schema: Value,
    account_schema: Value,
    book: Mutex<Book>,
    changed: watch::Sender<usize>,
    http: reqwest::Client,
    /// Post status callbacks as soon as a message is accepted, instead of on `flush_callbacks`.
    immediate: bool,
    /// Do not record message bodies (benchmarks).
    light: bool,
}

/// A running stand-in.
#[derive(Clone)]
pub struct StandIn {
    /// The base URL to give as `TWILIO_API_BASE`.
    pub base: String,
    inner: Arc<Inner>,
}

const SCHEMA: &str = include_str!("../protocols/twilio/create_message.json");
const LIST_SCHEMA: &str = include_str!("../protocols/twilio/list_message.json");
const NUMBERS_SCHEMA: &str = include_str!("../protocols/twilio/list_incoming_phone_number.json");
const ACCOUNT_SCHEMA: &str = include_str!("../protocols/twilio/fetch_account.json");

impl StandIn {
    /// Starts on a free loopback port. `immediate`: post status callbacks right away.
    pub async fn start(account_sid: &str, token: &str, immediate: bool) -> Self {
        Self::start_with(account_sid, token, immediate, false).await
    }

    /// Listens on a chosen loopback port, posting status callbacks right away (by hand).
    pub async fn start_on(account_sid: &str, token: &str, port: u16) -> Self {
        Self::bind(account_sid, token, true, false, port).await
    }

    pub async fn start_with(account_sid: &str, token: &str, immediate: bool, light: bool) -> Self {
        Self::bind(account_sid, token, immediate, light, 0).await
    }

    async fn bind(account_sid: &str, token: &str, immediate: bool, light: bool, port: u16) -> Self {
        let inner = Arc::new(Inner {
            account_sid: account_sid.to_owned(),
            token: token.to_owned(),
            schema: serde_json::from_str(SCHEMA).expect("the schema is JSON"),
            list_schema: serde_json::from_str(LIST_SCHEMA).expect("the schema is JSON"),
            numbers_schema: serde_json::from_str(NUMBERS_SCHEMA).expect("the schema is JSON"),
            account_schema: serde_json::from_str(ACCOUNT_SCHEMA).expect("the schema is JSON"),
            book: Mutex::new(Book::default()),
            changed: watch::channel(0).0,
            http: reqwest::Client::new(),
            immediate,
            light,
        });
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(create).get(list),
            )
            .route("/2010-04-01/Accounts/{file}", get(fetch_account))
            .route(
                "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
                get(list_numbers),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, inner }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.inner
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The account has `number`, sending incoming texts to `sms_url`.
    pub fn add_number(&self, number: &str, sms_url: &str) {
        let main = self.inner.account_sid.clone();
        self.add_number_to(&main, number, sms_url);
    }

    /// Account `sid` has `number`, sending incoming texts to `sms_url`.
    pub fn add_number_to(&self, sid: &str, number: &str, sms_url: &str) {
        self.book()
            .numbers
            .push((sid.to_owned(), number.to_owned(), sms_url.to_owned()));
    }

    /// Another account (a centre's own), with its own auth token.
    pub fn add_account(&self, sid: &str, token: &str) {
        self.book().others.insert(sid.to_owned(), token.to_owned());
    }

    /// The account's status, as Fetch Account gives it (default: active).
    pub fn set_account_status(&self, status: &str) {
        self.book().account_status = Some(status.to_owned());
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.book().sent.clone()
    }

    /// How many messages were accepted.
    pub fn sent_count(&self) -> usize {
        self.book().sent.len()
    }

    pub fn sent_to(&self, to: &str) -> Vec<Sent> {
        self.book()
            .sent
            .iter()
            .filter(|s| s.to == to)
            .cloned()
            .collect()
    }

    /// Every request for `to`, with the HTTP status it got.
    pub fn requests_to(&self, to: &str) -> Vec<u16> {
        self.book()
            .requests
            .iter()
            .filter(|(t, _)| t == to)
            .map(|(_, s)| *s)
            .collect()
    }

    /// Every List Message request, its query as sent.
    pub fn lookups(&self) -> Vec<Vec<(String, String)>> {
        self.book().lookups.clone()
    }

    /// The schema of List Message's answer, from Twilio's OpenAPI description.
    pub fn list_response_schema(&self) -> Value {
        self.inner.list_schema["response"].clone()
    }

    /// Requests that broke Twilio's OpenAPI description or its rules.
    pub fn violations(&self) -> Vec<String> {
        self.book().violations.clone()
    }

    /// `to` answers 20429 the next `times` times.
    pub fn busy_for(&self, to: &str, times: u32) {
        self.book().busy_for.insert(to.to_owned(), times);
    }

    /// The statuses `to`'s messages go through, in the order Twilio would reach them.
    pub fn outcome(&self, to: &str, statuses: &[(&str, Option<&str>)]) {
        self.book().outcomes.insert(
            to.to_owned(),
            statuses
                .iter()
                .map(|(s, c)| ((*s).to_owned(), c.map(str::to_owned)))
                .collect(),
        );
    }

    /// Waits until at least `n` messages were accepted (or 30 s pass: then the caller's
    /// assertion says what is missing).
    pub async fn wait_for(&self, n: usize) {
        let mut rx = self.inner.changed.subscribe();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while self.book().sent.len() < n {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    /// When every accepted message arrived, earliest first.
    pub fn all_arrivals(&self) -> Vec<std::time::Instant> {
        let mut all: Vec<std::time::Instant> = self
            .book()
            .arrivals
            .values()
            .flat_map(|(times, _)| times.iter().copied())
            .collect();
        all.sort();
        all
    }

    /// When the `n`-th message (counting from 1) to `to` arrived, waiting for it for up to 30 s.
    pub async fn arrival(&self, to: &str, n: usize) -> Option<std::time::Instant> {
        let notify = {
            let mut book = self.book();
            let entry = book.arrivals.entry(to.to_owned()).or_default();
            entry.1.clone()
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            loop {
                let notified = notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(t) = self
                    .book()
                    .arrivals
                    .get(to)
                    .and_then(|(times, _)| times.get(n.wrapping_sub(1)).copied())
                {
                    return t;
                }
                notified.await;
            }
        })
        .await
        .ok()
    }

    /// Posts every pending status callback, latest status first (out of order), each signed;
    /// returns the HTTP statuses they got.
    pub async fn flush_callbacks(&self) -> Vec<u16> {
        let pending = std::mem::take(&mut self.book().pending);
        let mut got = Vec::new();
        for cb in pending.into_iter().rev() {
            got.push(post_signed(&self.inner, &cb).await);
        }
        got
    }
}

/// Twilio's own signature of a request to `url` with `params`.
pub fn sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    matters::channel::twilio::signature::compute(token, url, params)
}

async fn post_signed(inner: &Inner, cb: &Callback) -> u16 {
    let sig = sign(&cb.token, &cb.url, &cb.params);
    match inner
        .http
        .post(&cb.url)
        .header("X-Twilio-Signature", sig)
        .form(&cb.params)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

fn twilio_error(http: StatusCode, code: u32, message: &str) -> Response {
    (
        http,
        axum::Json(json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": http.as_u16(),
        })),
    )
        .into_response()
}

/// An account's auth token: the main one's, or another's.
fn token_of(inner: &Inner, sid: &str) -> Option<String> {
    if sid == inner.account_sid {
        return Some(inner.token.clone());
    }
    inner
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .others
        .get(sid)
        .cloned()
}

/// HTTP Basic auth with an account's SID and auth token, and that account in the path.
fn refused(inner: &Inner, sid: &str, headers: &HeaderMap) -> Option<Response> {
    let user = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|d| String::from_utf8(d).ok())
        .and_then(|d| {
            let (user, token) = d.split_once(':')?;
            (token_of(inner, user)? == token).then(|| user.to_owned())
        });
    let Some(user) = user else {
        return Some(twilio_error(
            StatusCode::UNAUTHORIZED,
            20003,
            "Authenticate",
        ));
    };
    if sid != user {
        return Some(twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        ));
    }
    None
}

/// A Message resource as Twilio answers it.
fn message_json(account_sid: &str, s: &Sent) -> Value {
    let sid = account_sid;
    let msid = &s.sid;
    let date = s.created.to_rfc2822();
    json!({
        "account_sid": sid,
        "api_version": "2010-04-01",
        "body": s.body,
        "date_created": date,
        "date_sent": null,
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": s.from,
        "messaging_service_sid": s.messaging_service_sid,
        "num_media": "0",
        "num_segments": if s.messaging_service_sid.is_some() { "0".to_owned() } else { matters::sms::cost(&s.body).segments.to_string() },
        "price": null,
        "price_unit": "USD",
        "sid": msid,
        "status": s.status,
        "subresource_uris": { "media": format!("/2010-04-01/Accounts/{sid}/Messages/{msid}/Media.json") },
        "to": s.to,
        "uri": format!("/2010-04-01/Accounts/{sid}/Messages/{msid}.json"),
    })
}

/// List Message: the account's messages to `To` (and from `From`), newest first, a page at a
/// time (`PageSize`, `Page`); the query is checked against Twilio's OpenAPI description.
async fn list(
    State(inner): State<Arc<Inner>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if let Some(r) = refused(&inner, &sid, &headers) {
        return r;
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let problems = query_problems(&inner.list_schema, "ListMessage", &query);
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut book = inner
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    book.lookups.push(query.clone());
    if !problems.is_empty() {
        book.violations.extend(problems.iter().cloned());
        return twilio_error(StatusCode::BAD_REQUEST, 21000, &problems.join("; "));
    }
    let size: usize = get("PageSize").and_then(|v| v.parse().ok()).unwrap_or(50);
    let page: usize = get("Page").and_then(|v| v.parse().ok()).unwrap_or(0);
    let (to, from) = (get("To"), get("From"));
    let mut matching: Vec<&Sent> = book
        .sent
        .iter()
        .filter(|s| s.account == sid)
        .filter(|s| to.as_ref().is_none_or(|t| *t == s.to))
        .filter(|s| from.as_ref().is_none_or(|f| Some(f) == s.from.as_ref()))
        .collect();
    matching.reverse();
    let items: Vec<Value> = matching
        .iter()
        .skip(page * size)
        .take(size)
        .map(|s| message_json(&s.account, s))
        .collect();
    let base = format!("/2010-04-01/Accounts/{sid}/Messages.json");
    let uri = |p: usize| {
        let mut q: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "Page" && k != "PageToken")
            .cloned()
            .collect();
        q.push(("Page".into(), p.to_string()));
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    let more = (page + 1) * size < matching.len();
    let answer = json!({
        "end": (page * size + items.len()).saturating_sub(1),
        "first_page_uri": uri(0),
        "next_page_uri": if more { Some(format!("{}&PageToken=PA{page:032x}", uri(page + 1))) } else { None },
        "page": page,
        "page_size": size,
        "previous_page_uri": if page > 0 { Some(uri(page - 1)) } else { None },
        "start": page * size,
        "uri": uri(page),
        "messages": items,
    });
    drop(book);
    (StatusCode::OK, axum::Json(answer)).into_response()
}

async fn create(
    State(inner): State<Arc<Inner>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refused(&inner, &sid, &headers) {
        return r;
    }
    let token = token_of(&inner, &sid).unwrap_or_default();
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
        Ok(f) if form_type => f,
        _ => {
            inner
                .book
                .lock()
                .unwrap()
                .violations
                .push("not a form-encoded body".into());
            return twilio_error(StatusCode::BAD_REQUEST, 20001, "Invalid form body");
        }
    };
    let problems = validate(&inner.schema, &sid, &form);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let to = get("To").unwrap_or_default();
    let mut book = inner
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !problems.is_empty() {
        book.violations.extend(problems.iter().cloned());
        book.requests.push((to, 400));
        return twilio_error(StatusCode::BAD_REQUEST, 21000, &problems.join("; "));
    }
    let busy = match book.busy_for.get_mut(&to) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => to == BUSY,
    };
    let refusal = if busy {
        Some((StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests"))
    } else if to == OPTED_OUT {
        Some((
            StatusCode::BAD_REQUEST,
            21610,
            "Attempt to send to unsubscribed recipient",
        ))
    } else if to == INVALID {
        Some((StatusCode::BAD_REQUEST, 21211, "Invalid 'To' Phone Number"))
    } else {
        None
    };
    if let Some((http, code, message)) = refusal {
        book.requests.push((to, http.as_u16()));
        return twilio_error(http, code, message);
    }
    book.requests.push((to.clone(), 201));
    let n = book.sent.len() + 1;
    let msid = format!("SM{n:032x}");
    let body_text = get("Body").unwrap_or_default();
    let service = get("MessagingServiceSid");
    let from = get("From");
    let status = if service.is_some() {
        "accepted"
    } else {
        "queued"
    };
    let callback = get("StatusCallback");
    if let Some(url) = &callback {
        let steps = book
            .outcomes
            .get(&to)
            .cloned()
            .unwrap_or_else(|| vec![("sent".to_owned(), None), ("delivered".to_owned(), None)]);
        let cbs: Vec<Callback> = steps
            .into_iter()
            .map(|(st, code)| {
                let mut params = vec![
                    ("AccountSid".to_owned(), sid.clone()),
                    ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
                    ("From".to_owned(), from.clone().unwrap_or_default()),
                    ("To".to_owned(), to.clone()),
                    ("MessageSid".to_owned(), msid.clone()),
                    ("SmsSid".to_owned(), msid.clone()),
                    ("MessageStatus".to_owned(), st.clone()),
                    ("SmsStatus".to_owned(), st),
                ];
                if let Some(c) = code {
                    params.push(("ErrorCode".to_owned(), c));
                }
                Callback {
                    token: token.clone(),
                    url: url.clone(),
                    params,
                }
            })
            .collect();
        if inner.immediate {
            let inner2 = inner.clone();
            tokio::spawn(async move {
                for cb in cbs.iter().rev() {
                    post_signed(&inner2, cb).await;
                }
            });
        } else {
            book.pending.extend(cbs);
        }
    }
    let sent = Sent {
        account: sid.clone(),
        sid: msid,
        to: to.clone(),
        from,
        messaging_service_sid: service,
        body: if inner.light {
            String::new()
        } else {
            body_text
        },
        status_callback: callback,
        form: if inner.light { Vec::new() } else { form },
        created: chrono::Utc::now(),
        status: status.to_owned(),
    };
    let answer = message_json(&sent.account, &sent);
    book.sent.push(sent);
    let arrived = book.arrivals.entry(to.clone()).or_default();
    arrived.0.push(std::time::Instant::now());
    arrived.1.notify_waiters();
    let n = book.sent.len();
    drop(book);
    inner.changed.send_replace(n);
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

/// Checks a Create Message request against the OpenAPI description and Twilio's documented
/// rules; returns what is wrong.
pub fn validate(schema: &Value, account_sid: &str, form: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for p in schema["parameters"].as_array().into_iter().flatten() {
        if p["name"] == "AccountSid" {
            check_value(
                "AccountSid (path)",
                &p["schema"],
                account_sid,
                &mut problems,
            );
        }
    }
    let body = &schema["requestBody"];
    let props = body["properties"].as_object().cloned().unwrap_or_default();
    for req in body["required"].as_array().into_iter().flatten() {
        let name = req.as_str().unwrap_or_default();
        if !form.iter().any(|(k, _)| k == name) {
            problems.push(format!("{name} is required"));
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (k, v) in form {
        *seen.entry(k).or_default() += 1;
        let Some(prop) = props.get(k) else {
            problems.push(format!("{k} is not a parameter of CreateMessage"));
            continue;
        };
        if prop["type"] == "array" {
            check_value(k, &prop["items"], v, &mut problems);
        } else {
            check_value(k, prop, v, &mut problems);
        }
    }
    for (k, n) in seen {
        if n > 1 && props.get(k).is_some_and(|p| p["type"] != "array") {
            problems.push(format!("{k} is given {n} times"));
        }
    }
    let has = |k: &str| form.iter().any(|(n, v)| n == k && !v.is_empty());
    if !has("From") && !has("MessagingServiceSid") {
        problems.push("one of From or MessagingServiceSid is required (21603)".into());
    }
    if !has("Body") && !has("MediaUrl") && !has("ContentSid") {
        problems.push("one of Body, MediaUrl or ContentSid is required (21602)".into());
    }
    if let Some((_, b)) = form.iter().find(|(k, _)| k == "Body")
        && b.chars().count() > 1600
    {
        problems.push("Body is over 1,600 characters (21617)".into());
    }
    problems
}

fn check_value(name: &str, s: &Value, v: &str, problems: &mut Vec<String>) {
    let ok = match s["type"].as_str() {
        Some("integer") => v.parse::<i64>().is_ok(),
        Some("number") => v.parse::<f64>().is_ok(),
        Some("boolean") => v == "true" || v == "false",
        _ => true,
    };
    if !ok {
        problems.push(format!("{name}={v:?} is not a {}", s["type"]));
    }
    let len = v.chars().count() as u64;
    if let Some(min) = s["minLength"].as_u64()
        && len < min
    {
        problems.push(format!("{name} is shorter than {min}"));
    }
    if let Some(max) = s["maxLength"].as_u64()
        && len > max
    {
        problems.push(format!("{name} is longer than {max}"));
    }
    if let Some(p) = s["pattern"].as_str()
        && !regex::Regex::new(p).is_ok_and(|r| r.is_match(v))
    {
        problems.push(format!("{name}={v:?} does not match {p}"));
    }
    if let Some(e) = s["enum"].as_array()
        && !e.iter().any(|x| x == v)
    {
        problems.push(format!("{name}={v:?} is not one of {e:?}"));
    }
    match s["format"].as_str() {
        Some("phone-number") => {
            let e164 = regex::Regex::new(r"^\+[1-9][0-9]{6,14}$").is_ok_and(|r| r.is_match(v));
            let other = regex::Regex::new(r"^([0-9]{5,6}|[A-Za-z0-9 ]{1,11}|[a-z]+:.+)$")
                .is_ok_and(|r| r.is_match(v));
            if !e164 && !other {
                problems.push(format!("{name}={v:?} is not a phone number"));
            }
        }
        Some("uri")
            if !url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) =>
        {
            problems.push(format!("{name}={v:?} is not an http(s) URI"));
        }
        _ => {}
    }
}

/// What is wrong with a query, against the operation's query parameters in its OpenAPI
/// description: a name it does not have, a value of the wrong type or out of range.
fn query_problems(schema: &Value, operation: &str, query: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (k, v) in query {
        let Some(p) = schema["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == k.as_str() && p["in"] == "query")
        else {
            problems.push(format!("{k} is not a parameter of {operation}"));
            continue;
        };
        check_value(k, &p["schema"], v, &mut problems);
        if let (Some(min), Ok(n)) = (p["schema"]["minimum"].as_i64(), v.parse::<i64>())
            && n < min
        {
            problems.push(format!("{k}={n} is below {min}"));
        }
        if let (Some(max), Ok(n)) = (p["schema"]["maximum"].as_i64(), v.parse::<i64>())
            && n > max
        {
            problems.push(format!("{k}={n} is above {max}"));
        }
    }
    problems
}

/// Fetch Account (`GET /2010-04-01/Accounts/{Sid}.json`), answered in the shape its OpenAPI
/// description gives, with the fields the schema lists only.
async fn fetch_account(
    State(inner): State<Arc<Inner>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(sid) = file.strip_suffix(".json") else {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    };
    if let Some(r) = refused(&inner, sid, &headers) {
        return r;
    }
    let schema = &inner.account_schema;
    let status = inner
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .account_status
        .clone()
        .unwrap_or_else(|| "active".into());
    let body = json!({
        "auth_token": null,
        "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
        "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
        "friendly_name": "matters test account",
        "owner_account_sid": sid,
        "sid": sid,
        "status": status,
        "subresource_uris": {},
        "type": "Full",
        "uri": format!("/2010-04-01/Accounts/{sid}.json"),
    });
    for k in body.as_object().into_iter().flat_map(|o| o.keys()) {
        assert!(
            schema["response"]["properties"].get(k).is_some(),
            "the stand-in answers {k}, which Fetch Account does not have"
        );
    }
    axum::Json(body).into_response()
}

/// List IncomingPhoneNumber, its query checked against the operation's parameters.
async fn list_numbers(
    State(inner): State<Arc<Inner>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    if let Some(r) = refused(&inner, &sid, &headers) {
        return r;
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let problems = query_problems(&inner.numbers_schema, "ListIncomingPhoneNumber", &query);
    let mut book = inner
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !problems.is_empty() {
        book.violations.extend(problems.iter().cloned());
        return twilio_error(StatusCode::BAD_REQUEST, 21000, &problems.join("; "));
    }
    let want = query
        .iter()
        .find(|(k, _)| k == "PhoneNumber")
        .map(|(_, v)| v.clone());
    let items: Vec<Value> = book
        .numbers
        .iter()
        .filter(|(account, n, _)| *account == sid && want.as_ref().is_none_or(|w| w == n))
        .map(|(_, n, url)| {
            json!({
                "account_sid": sid,
                "phone_number": n,
                "sms_url": url,
                "sms_method": "POST",
                "sid": "PN00000000000000000000000000000000",
                "uri": format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/PN00000000000000000000000000000000.json"),
            })
        })
        .collect();
    axum::Json(json!({
        "end": items.len().saturating_sub(1),
        "first_page_uri": format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PageSize=50&Page=0"),
        "incoming_phone_numbers": items,
        "next_page_uri": null,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": null,
        "start": 0,
        "uri": format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json"),
    }))
    .into_response()
}
