//! A local stand-in of the Telegram Bot API, speaking its protocol over loopback HTTP:
//! `POST /bot<token>/<method>` with a JSON body, answers `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code":…,"description":…}`. It keeps chats, updates (with `getUpdates`'
//! offset and timeout semantics, or delivery to a webhook with its secret header), and can play
//! the client: type, tap a button, block the bot. Every object it hands out is kept so a test can
//! check it against the Bot API description (`tests/protocols/telegram/objects.json`).

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, watch};

pub const BOT_ID: i64 = 7_000_000_001;
pub const TOKEN: &str = "7000000001:AAStandInTokenForTests_0123456789";
pub const USERNAME: &str = "centre_checkins_bot";
/// Every date the stand-in writes (2026-11-21T15:00:00Z).
const DATE: i64 = 1_795_791_600;

/// A message the bot sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat: i64,
    pub message_id: i64,
    pub text: String,
    /// The inline keyboard as sent (and as edited since).
    pub reply_markup: Option<Value>,
    pub at: std::time::Instant,
}

impl Sent {
    /// The buttons' labels and `callback_data`, row by row flattened.
    pub fn buttons(&self) -> Vec<(String, String)> {
        self.reply_markup
            .as_ref()
            .and_then(|m| m["inline_keyboard"].as_array())
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| {
                (
                    b["text"].as_str().unwrap_or_default().to_owned(),
                    b["callback_data"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

#[derive(Debug, Default)]
pub struct Book {
    pub sent: Vec<Sent>,
    /// Every request: method and body.
    pub requests: Vec<(String, Value)>,
    /// Every object handed out, with the type(s) the Bot API says it is.
    pub objects: Vec<(Vec<String>, Value)>,
    pub answered_callbacks: Vec<String>,
    pub edits: Vec<(i64, i64, Value)>,
    /// Updates not yet confirmed, in order.
    pub queue: Vec<Value>,
    pub next_update: i64,
    pub next_message: HashMap<i64, i64>,
    pub blocked: HashSet<i64>,
    /// The next this many sendMessage calls get 429 with this retry_after.
    pub flood: Option<(u32, u32)>,
    /// When the last 429 was answered.
    pub flood_refused_at: Option<std::time::Instant>,
    /// The next this many sendMessage calls get 502.
    pub failing: u32,
    pub webhook: Option<(String, Option<String>)>,
    /// Webhook posts and the status each got.
    pub deliveries: Vec<(i64, u16)>,
    /// Times getUpdates was called while a webhook was set.
    pub conflicts: u32,
    /// The `getUpdates` calls so far: a new one ends the one waiting (Telegram allows one
    /// poller per bot and answers the earlier call 409).
    pub polls: u64,
    /// Calls ended that way: two processes polled at once.
    pub poll_conflicts: u32,
    /// Which bot this is, when not the main one: its id and user name.
    pub me: Option<(i64, String)>,
}

struct Inner {
    /// This bot's token.
    token: String,
    /// The other bots the same server answers for (as Telegram does), by `bot<token>`.
    others: Mutex<HashMap<String, Arc<Inner>>>,
    book: Mutex<Book>,
    changed: watch::Sender<u64>,
    new_update: Notify,
    http: reqwest::Client,
}

#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Inner>,
    pub base: String,
}

impl StandIn {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    pub async fn start_on(port: u16) -> Self {
        let inner = Self::bot(TOKEN, None);
        let app = axum::Router::new()
            .route("/{bot}/{method}", post(method))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        tokio::spawn(deliver(inner.clone()));
        Self { inner, base }
    }

    /// Another bot on the same Bot API server (a centre's own): its own token, id and user
    /// name, chats and updates; the same `base`.
    pub fn another_bot(&self, token: &str, id: i64, username: &str) -> Self {
        let inner = Self::bot(token, Some((id, username.to_owned())));
        self.inner
            .others
            .lock()
            .unwrap()
            .insert(format!("bot{token}"), inner.clone());
        tokio::spawn(deliver(inner.clone()));
        Self {
            inner,
            base: self.base.clone(),
        }
    }

    fn bot(token: &str, me: Option<(i64, String)>) -> Arc<Inner> {
        Arc::new(Inner {
            token: token.to_owned(),
            others: Mutex::new(HashMap::new()),
            book: Mutex::new(Book {
                next_update: 900_000_001,
                me,
                ..Book::default()
            }),
            changed: watch::channel(0).0,
            new_update: Notify::new(),
            // A new connection for each webhook post, so a restarted server gets the next one.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        })
    }

    pub fn book(&self) -> MutexGuard<'_, Book> {
        lock(&self.inner)
    }

    /// Waits (up to 30 s) until `f` finds something in the book; panics naming `what` if not.
    pub async fn until<T>(&self, what: &str, f: impl Fn(&Book) -> Option<T>) -> T {
        let mut rx = self.inner.changed.subscribe();
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Some(t) = f(&self.book()) {
                    return t;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        match found {
            Ok(t) => t,
            Err(_) => panic!(
                "waited 30 s for {what}; sent: {:#?}",
                self.book()
                    .sent
                    .iter()
                    .map(|s| s.text.clone())
                    .collect::<Vec<_>>()
            ),
        }
    }

    /// Waits until `n` messages were sent to `chat`, and returns them all.
    pub async fn sent_to(&self, chat: i64, n: usize) -> Vec<Sent> {
        self.until(&format!("{n} messages to {chat}"), |b| {
            let to: Vec<Sent> = b.sent.iter().filter(|s| s.chat == chat).cloned().collect();
            (to.len() >= n).then_some(to)
        })
        .await
    }

    pub fn all_sent_to(&self, chat: i64) -> Vec<Sent> {
        self.book()
            .sent
            .iter()
            .filter(|s| s.chat == chat)
            .cloned()
            .collect()
    }

    fn push(&self, kind: &str, body: Value) -> i64 {
        let id = {
            let mut b = self.book();
            let id = b.next_update;
            b.next_update += 1;
            let mut u = json!({ "update_id": id });
            u[kind] = body;
            b.objects.push((vec!["Update".into()], u.clone()));
            b.queue.push(u);
            id
        };
        self.inner.new_update.notify_waiters();
        self.inner.changed.send_modify(|n| *n += 1);
        id
    }

    /// The client types `text` in their private chat. Returns the update id.
    pub fn says(&self, chat: i64, text: &str) -> i64 {
        let message_id = self.next_message(chat);
        let mut m = json!({
            "message_id": message_id,
            "from": user(chat),
            "date": DATE,
            "chat": private_chat(chat),
            "text": text,
        });
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .unwrap_or(text)
                .encode_utf16()
                .count();
            m["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": len }]);
        }
        self.push("message", m)
    }

    /// The client taps the button with `callback_data` under the bot's message `message_id`.
    pub fn taps(&self, chat: i64, message_id: i64, data: &str) -> i64 {
        let message = {
            let b = self.book();
            let s = b
                .sent
                .iter()
                .find(|s| s.chat == chat && s.message_id == message_id)
                .expect("a button under a message the bot sent");
            bot_message(s)
        };
        let n = self.book().next_update;
        self.push(
            "callback_query",
            json!({
                "id": format!("cb{n}"),
                "from": user(chat),
                "message": message,
                "chat_instance": format!("ci{chat}"),
                "data": data,
            }),
        )
    }

    /// The client blocks the bot: sends to them fail with 403, and a `my_chat_member` update says
    /// they kicked it.
    pub fn blocks(&self, chat: i64) -> i64 {
        self.book().blocked.insert(chat);
        self.push(
            "my_chat_member",
            json!({
                "chat": private_chat(chat),
                "from": user(chat),
                "date": DATE,
                "old_chat_member": { "status": "member", "user": bot_user() },
                "new_chat_member": { "status": "kicked", "user": bot_user(), "until_date": 0 },
            }),
        )
    }

    /// Sends to `chat` fail with 403 from now on, with no update (as when the update was lost).
    pub fn blocked_silently(&self, chat: i64) {
        self.book().blocked.insert(chat);
    }

    /// The next `times` sendMessage calls get 429 with `retry_after` seconds.
    pub fn flood(&self, times: u32, retry_after: u32) {
        self.book().flood = Some((times, retry_after));
    }

    /// The next `times` sendMessage calls get 502 Bad Gateway.
    pub fn failing(&self, times: u32) {
        self.book().failing = times;
    }

    /// Puts an update that was confirmed already back in the queue, as Telegram does when our
    /// acknowledgement was lost.
    pub fn replay(&self, update: Value) {
        self.book().queue.insert(0, update);
        self.inner.new_update.notify_waiters();
    }

    /// Every update handed out so far, by id.
    pub fn update(&self, id: i64) -> Value {
        self.book()
            .objects
            .iter()
            .find(|(t, o)| t == &["Update"] && o["update_id"] == id)
            .map(|(_, o)| o.clone())
            .expect("an update the stand-in made")
    }

    fn next_message(&self, chat: i64) -> i64 {
        let mut b = self.book();
        let n = b.next_message.entry(chat).or_insert(1);
        let id = *n;
        *n += 1;
        id
    }
}

fn lock(inner: &Inner) -> MutexGuard<'_, Book> {
    inner
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bot_user() -> Value {
    json!({ "id": BOT_ID, "is_bot": true, "first_name": "Centre check-ins", "username": USERNAME })
}

fn user(chat: i64) -> Value {
    json!({ "id": chat, "is_bot": false, "first_name": "Client", "language_code": "fr" })
}

fn private_chat(chat: i64) -> Value {
    json!({ "id": chat, "type": "private", "first_name": "Client" })
}

fn bot_message(s: &Sent) -> Value {
    let mut m = json!({
        "message_id": s.message_id,
        "from": bot_user(),
        "date": DATE,
        "chat": private_chat(s.chat),
        "text": s.text,
    });
    if let Some(k) = &s.reply_markup {
        m["reply_markup"] = k.clone();
    }
    m
}

const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "sendMessage",
    "answerCallbackQuery",
    "editMessageReplyMarkup",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
];

type Reply = (axum::http::StatusCode, Json<Value>);

fn ok(b: &mut Book, types: &[&str], result: Value) -> Reply {
    b.objects.push((
        types.iter().map(|t| (*t).to_owned()).collect(),
        result.clone(),
    ));
    (
        axum::http::StatusCode::OK,
        Json(json!({ "ok": true, "result": result })),
    )
}

fn error(code: u16, description: &str, parameters: Option<Value>) -> Reply {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (axum::http::StatusCode::from_u16(code).unwrap(), Json(body))
}

async fn method(
    State(inner): State<Arc<Inner>>,
    Path((bot, name)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Reply {
    use axum::extract::FromRequest;
    let inner = if bot == format!("bot{}", inner.token) {
        inner
    } else {
        let other = inner.others.lock().unwrap().get(&bot).cloned();
        match other {
            Some(o) => o,
            None => return error(401, "Unauthorized", None),
        }
    };
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    // Parameters come as JSON, or as multipart form fields (setWebhook, which may carry a
    // certificate); a field's text that is JSON (a number, a list) is read as such.
    let p: Value = if multipart {
        let Ok(mut form) = axum::extract::Multipart::from_request(req, &()).await else {
            return error(400, "Bad Request: the form is not readable", None);
        };
        let mut p = serde_json::Map::new();
        while let Ok(Some(field)) = form.next_field().await {
            let key = field.name().unwrap_or_default().to_owned();
            let text = field.text().await.unwrap_or_default();
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            p.insert(key, value);
        }
        Value::Object(p)
    } else {
        let Ok(body) = axum::body::to_bytes(req.into_body(), 1 << 20).await else {
            return error(400, "Bad Request: the body is too large", None);
        };
        if body.is_empty() {
            json!({})
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(_) => return error(400, "Bad Request: the body is not JSON", None),
            }
        }
    };
    // Telegram reads method names without regard to case (teloxide sends `GetMe`).
    let name = METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(&name))
        .map_or(name, |m| (*m).to_owned());
    let reply = if name == "getUpdates" {
        get_updates(&inner, &p).await
    } else {
        let mut b = lock(&inner);
        b.requests.push((name.clone(), p.clone()));
        answer(&mut b, &name, &p)
    };
    inner.changed.send_modify(|n| *n += 1);
    reply
}

fn answer(b: &mut Book, name: &str, p: &Value) -> Reply {
    match name {
        "getMe" => {
            let mut me = match &b.me {
                Some((id, username)) => {
                    json!({ "id": id, "is_bot": true, "first_name": "Centre's own", "username": username })
                }
                None => bot_user(),
            };
            for f in [
                "can_join_groups",
                "can_read_all_group_messages",
                "supports_inline_queries",
                "can_connect_to_business",
                "has_main_web_app",
            ] {
                me[f] = json!(false);
            }
            ok(b, &["User"], me)
        }
        "sendMessage" => {
            let Some(chat) = p["chat_id"].as_i64() else {
                return error(400, "Bad Request: chat_id is empty", None);
            };
            let Some(text) = p["text"].as_str().filter(|t| !t.is_empty()) else {
                return error(400, "Bad Request: message text is empty", None);
            };
            if text.chars().count() > 4096 {
                return error(400, "Bad Request: message is too long", None);
            }
            if let Some(k) = p.get("reply_markup")
                && let Some(bad) = bad_keyboard(k)
            {
                return error(400, &format!("Bad Request: {bad}"), None);
            }
            if let Some((n, wait)) = b.flood {
                b.flood = (n > 1).then(|| (n - 1, wait));
                b.flood_refused_at = Some(std::time::Instant::now());
                return error(
                    429,
                    &format!("Too Many Requests: retry after {wait}"),
                    Some(json!({ "retry_after": wait })),
                );
            }
            if b.failing > 0 {
                b.failing -= 1;
                return error(502, "Bad Gateway", None);
            }
            if b.blocked.contains(&chat) {
                return error(403, "Forbidden: bot was blocked by the user", None);
            }
            let n = b.next_message.entry(chat).or_insert(1);
            let message_id = *n;
            *n += 1;
            let s = Sent {
                chat,
                message_id,
                text: text.to_owned(),
                reply_markup: p.get("reply_markup").cloned(),
                at: std::time::Instant::now(),
            };
            let m = bot_message(&s);
            b.sent.push(s);
            ok(b, &["Message"], m)
        }
        "answerCallbackQuery" => {
            let Some(id) = p["callback_query_id"].as_str() else {
                return error(400, "Bad Request: query is empty", None);
            };
            b.answered_callbacks.push(id.to_owned());
            ok(b, &["Boolean"], json!(true))
        }
        "editMessageReplyMarkup" => {
            let (Some(chat), Some(id)) = (p["chat_id"].as_i64(), p["message_id"].as_i64()) else {
                return error(
                    400,
                    "Bad Request: message identifier is not specified",
                    None,
                );
            };
            let markup = p
                .get("reply_markup")
                .cloned()
                .unwrap_or(json!({"inline_keyboard": []}));
            if let Some(bad) = bad_keyboard(&markup) {
                return error(400, &format!("Bad Request: {bad}"), None);
            }
            let Some(s) = b
                .sent
                .iter_mut()
                .find(|s| s.chat == chat && s.message_id == id)
            else {
                return error(400, "Bad Request: message to edit not found", None);
            };
            s.reply_markup = Some(markup.clone());
            let m = bot_message(s);
            b.edits.push((chat, id, markup));
            ok(b, &["Message"], m)
        }
        "setWebhook" => {
            let Some(url) = p["url"].as_str() else {
                return error(400, "Bad Request: bad webhook: URL is empty", None);
            };
            let secret = p["secret_token"].as_str().map(str::to_owned);
            b.webhook = Some((url.to_owned(), secret));
            ok(b, &["Boolean"], json!(true))
        }
        "deleteWebhook" => {
            b.webhook = None;
            if p["drop_pending_updates"] == json!(true) {
                b.queue.clear();
            }
            ok(b, &["Boolean"], json!(true))
        }
        "getWebhookInfo" => {
            let url = b
                .webhook
                .as_ref()
                .map(|(u, _)| u.clone())
                .unwrap_or_default();
            let pending = b.queue.len();
            ok(
                b,
                &["WebhookInfo"],
                json!({ "url": url, "has_custom_certificate": false, "pending_update_count": pending }),
            )
        }
        _ => error(404, "Not Found: method not found", None),
    }
}

/// What Telegram would refuse in an inline keyboard.
fn bad_keyboard(k: &Value) -> Option<String> {
    let rows = k["inline_keyboard"].as_array()?;
    for b in rows.iter().filter_map(Value::as_array).flatten() {
        if b["text"].as_str().is_none_or(str::is_empty) {
            return Some("text buttons are unallowed in the inline keyboard".into());
        }
        if let Some(d) = b["callback_data"].as_str()
            && !(1..=64).contains(&d.len())
        {
            return Some("BUTTON_DATA_INVALID".into());
        }
    }
    None
}

/// `getUpdates`: forgets updates below `offset`, returns up to `limit` of the rest, and if there
/// are none waits up to `timeout` seconds for one.
async fn get_updates(inner: &Arc<Inner>, p: &Value) -> Reply {
    {
        let mut b = lock(inner);
        b.requests.push(("getUpdates".into(), p.clone()));
        if b.webhook.is_some() {
            b.conflicts += 1;
            return error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                None,
            );
        }
    }
    let mine = {
        let mut b = lock(inner);
        b.polls += 1;
        b.polls
    };
    inner.new_update.notify_waiters();
    let offset = p["offset"].as_i64().unwrap_or(0);
    let limit = p["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let timeout = p["timeout"].as_u64().unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = inner.new_update.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut b = lock(inner);
            if b.polls != mine {
                b.poll_conflicts += 1;
                return error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                    None,
                );
            }
            if offset > 0 {
                b.queue
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            } else if offset < 0 {
                let keep = usize::try_from(-offset).unwrap_or(usize::MAX);
                let drop = b.queue.len().saturating_sub(keep);
                b.queue.drain(..drop);
            }
            let out: Vec<Value> = b.queue.iter().take(limit).cloned().collect();
            if !out.is_empty() || tokio::time::Instant::now() >= deadline {
                return ok(&mut b, &["Array of Update"], Value::Array(out));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            let mut b = lock(inner);
            return ok(&mut b, &["Array of Update"], json!([]));
        }
    }
}

/// Posts queued updates to the webhook, in order, one at a time, with the secret header; an
/// update leaves the queue only when the webhook answered 2xx.
async fn deliver(inner: Arc<Inner>) {
    loop {
        let next = {
            let b = lock(&inner);
            b.webhook
                .clone()
                .and_then(|(url, secret)| b.queue.first().map(|u| (url, secret, u.clone())))
        };
        let Some((url, secret, update)) = next else {
            let _ =
                tokio::time::timeout(Duration::from_millis(50), inner.new_update.notified()).await;
            continue;
        };
        let mut req = inner.http.post(&url).json(&update);
        if let Some(s) = &secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        let id = update["update_id"].as_i64().unwrap_or(0);
        let status = match req.send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        {
            let mut b = lock(&inner);
            b.deliveries.push((id, status));
            if (200..300).contains(&status) && b.queue.first().is_some_and(|u| u["update_id"] == id)
            {
                b.queue.remove(0);
            }
        }
        inner.changed.send_modify(|n| *n += 1);
        if !(200..300).contains(&status) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks `value` against the Bot API's description of `types` (any one of them): every
/// required field present, every field's value of a declared type, nested objects too. Returns
/// what is wrong, with the path to it.
pub fn check(spec: &Value, types: &[String], value: &Value, path: &str) -> Vec<String> {
    let mut best: Option<Vec<String>> = None;
    for t in types {
        let problems = check_one(spec, t, value, path);
        if problems.is_empty() {
            return problems;
        }
        if best.as_ref().is_none_or(|b| problems.len() < b.len()) {
            best = Some(problems);
        }
    }
    best.unwrap_or_default()
}

fn check_one(spec: &Value, t: &str, v: &Value, path: &str) -> Vec<String> {
    if let Some(inner) = t.strip_prefix("Array of ") {
        let Some(items) = v.as_array() else {
            return vec![format!("{path}: expected an array of {inner}")];
        };
        return items
            .iter()
            .enumerate()
            .flat_map(|(i, x)| check(spec, &[inner.to_owned()], x, &format!("{path}[{i}]")))
            .collect();
    }
    let fine = match t {
        "Integer" => v.is_i64() || v.is_u64(),
        "Float" => v.is_number(),
        "String" => v.is_string(),
        "Boolean" => v.is_boolean(),
        "True" => v == &json!(true),
        _ => {
            let Some(def) = spec["types"].get(t) else {
                return vec![format!("{path}: type {t} is not in the description")];
            };
            if let Some(subtypes) = def["subtypes"].as_array() {
                let subtypes: Vec<String> = subtypes
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect();
                return check(spec, &subtypes, v, path);
            }
            let Some(obj) = v.as_object() else {
                return vec![format!("{path}: expected a {t} object")];
            };
            let fields = def["fields"].as_array().cloned().unwrap_or_default();
            let mut problems = Vec::new();
            for f in &fields {
                let name = f["name"].as_str().unwrap_or_default();
                let types: Vec<String> = f["types"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect();
                match obj.get(name) {
                    None if f["required"] == json!(true) => {
                        problems.push(format!("{path}: {t} lacks required field {name}"));
                    }
                    None => {}
                    Some(x) => problems.extend(check(spec, &types, x, &format!("{path}.{name}"))),
                }
            }
            for k in obj.keys() {
                if !fields.iter().any(|f| f["name"] == k.as_str()) {
                    problems.push(format!("{path}: {t} has no field {k}"));
                }
            }
            return problems;
        }
    };
    if fine {
        Vec::new()
    } else {
        vec![format!("{path}: expected {t}, got {v}")]
    }
}
