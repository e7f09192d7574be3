//! Updates from Telegram, by long polling or webhook, handled one at a time and in order. The
//! id of the last update handled is kept in the database: an update at or below it is a repeat
//! and does nothing, so a restart neither loses an update (Telegram keeps what was not
//! confirmed) nor handles one twice.

use crate::channel::telegram::invite::{self, Redeemed};
use crate::channel::telegram::{Sender, TelegramConfig, bot_id, describe_error, parse_callback};
use crate::clock::to_ms;
use crate::domain::{Channel, ClientId, Locale};
use crate::i18n::Vars;
use crate::loops::dispatch;
use crate::runner::{Handled, Inbound, Pick, RunError, Runner};
use crate::safety::Intent;
use crate::store::{Doing, StoreError};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{
    CallbackQuery, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup,
    MaybeInaccessibleMessage, Message, Update, UpdateKind,
};
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};

/// Telegram numbers updates afresh after a week without any: past this, any id is new.
const IDS_RESTART_AFTER_MS: i64 = 6 * 24 * 3_600_000;

/// How long the poller's lease lasts unrenewed: another process takes over this long (and at
/// most a retry more) after the poller died.
const POLL_LEASE_MS: i64 = 5_000;
/// How often the poller renews its lease, and the others try to take it.
const POLL_LEASE_RETRY_MS: u64 = 1_000;

/// Renews the lease `name` while this process holds it; ends when it was lost (another took
/// it) or could not be renewed for half its length, so polling stops before it can lapse.
async fn keep_lease(db: &crate::store::Db, name: &str, me: &str) {
    use crate::store::shared::{hold_lease, wall_ms};
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(POLL_LEASE_RETRY_MS)).await;
        let now = wall_ms();
        match hold_lease(db, name, me, now, now + POLL_LEASE_MS).await {
            Ok(true) => renewed = tokio::time::Instant::now(),
            Ok(false) => {
                tracing::warn!("another process took over polling the Telegram bot");
                return;
            }
            Err(e) => {
                if renewed.elapsed().as_millis() > u128::try_from(POLL_LEASE_MS / 2).unwrap_or(0) {
                    tracing::warn!(error = %e, "could not renew the Telegram poller's lease: polling stops until it can be taken again");
                    return;
                }
            }
        }
    }
}

/// Handles a bot's updates.
pub struct Updates {
    runner: Arc<Runner>,
    bot: Bot,
    bot_id: i64,
    /// The centre whose own bot this is (its clients only, its name to strangers); none: the
    /// deployment's bot, for the clients of every centre without a bot of its own.
    centre: Option<(String, String)>,
    /// The last update handled and when; the lock also keeps updates in order.
    last: tokio::sync::Mutex<(i64, i64)>,
}

impl std::fmt::Debug for Updates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updates")
            .field("bot_id", &self.bot_id)
            .finish_non_exhaustive()
    }
}

/// What became of one update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled before: nothing done.
    Repeat,
    Handled,
}

impl Updates {
    /// Reads where this bot left off.
    pub async fn new(runner: Arc<Runner>, bot: Bot, bot_id: i64) -> Result<Self, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT last_update_id, updated_at FROM telegram_updates WHERE bot_id = $1",
        )
        .bind(bot_id)
        .fetch_optional(runner.db.pool())
        .await
        .doing("reading the last Telegram update")?;
        Ok(Self {
            runner,
            bot,
            bot_id,
            centre: None,
            last: tokio::sync::Mutex::new(row.unwrap_or((0, 0))),
        })
    }

    /// The bot of a centre of its own (`id`, `name`): it knows that centre's clients only.
    #[must_use]
    pub fn of_centre(mut self, id: &str, name: &str) -> Self {
        self.centre = Some((id.to_owned(), name.to_owned()));
        self
    }

    /// Reads again where this bot left off (another process may have gone on since).
    async fn reload(&self) -> Result<(), StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT last_update_id, updated_at FROM telegram_updates WHERE bot_id = $1",
        )
        .bind(self.bot_id)
        .fetch_optional(self.runner.db.pool())
        .await
        .doing("reading the last Telegram update")?;
        *self.last.lock().await = row.unwrap_or((0, 0));
        Ok(())
    }

    /// Long polling by one process at a time: Telegram allows one `getUpdates` per bot and
    /// answers any other 409. The process holding the bot's lease polls and renews it; the others
    /// wait and take it over once it lapses (its holder died) or is given up (its holder
    /// stopped). A holder that cannot renew stops polling before its lease can lapse.
    pub async fn poll_when_leader(
        self: Arc<Self>,
        timeout: u32,
        stop: impl Future<Output = ()> + Send,
    ) {
        use crate::store::shared::{hold_lease, release_lease, this_process, wall_ms};
        let name = format!("telegram-poller:{}", self.bot_id);
        let me = this_process();
        let db = self.runner.db.clone();
        tokio::pin!(stop);
        let mut said_waiting = false;
        loop {
            let now = wall_ms();
            match hold_lease(&db, &name, me, now, now + POLL_LEASE_MS).await {
                Ok(true) => {
                    tracing::info!(bot = self.bot_id, "this process polls the Telegram bot");
                    said_waiting = false;
                    if let Err(e) = self.reload().await {
                        tracing::warn!(error = %e, "could not read where the bot left off");
                        let _ = release_lease(&db, &name, me).await;
                    } else {
                        let stopping = std::sync::atomic::AtomicBool::new(false);
                        let ended = async {
                            tokio::select! {
                                () = &mut stop => stopping.store(true, std::sync::atomic::Ordering::SeqCst),
                                () = keep_lease(&db, &name, me) => {}
                            }
                        };
                        self.clone().poll(timeout, ended).await;
                        if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                            // Another process takes over at once.
                            if let Err(e) = release_lease(&db, &name, me).await {
                                tracing::warn!(error = %e, "could not give up the Telegram poller's lease; it lapses by itself");
                            }
                            return;
                        }
                    }
                }
                Ok(false) => {
                    if !said_waiting {
                        tracing::info!(
                            bot = self.bot_id,
                            "another process polls the Telegram bot; this one takes over if it stops"
                        );
                        said_waiting = true;
                    }
                }
                Err(e) => {
                    if db.pool().is_closed() {
                        return;
                    }
                    tracing::warn!(error = %e, "could not take the Telegram poller's lease");
                }
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(Duration::from_millis(POLL_LEASE_RETRY_MS)) => {}
            }
        }
    }

    /// Handles one update unless it was handled before, then records it as the last one.
    ///
    /// # Errors
    /// The database failed: the update was not handled and must come again.
    pub async fn handle(&self, u: &Update) -> Result<Outcome, RunError> {
        let mut last = self.last.lock().await;
        let id = i64::from(u.id.0);
        let now = to_ms(self.runner.clock.now());
        let (last_id, last_at) = *last;
        if id <= last_id && now - last_at < IDS_RESTART_AFTER_MS {
            tracing::debug!(update = id, "telegram update seen before");
            return Ok(Outcome::Repeat);
        }
        self.process(u).await?;
        sqlx::query(
            "INSERT INTO telegram_updates (bot_id, last_update_id, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (bot_id) DO UPDATE SET last_update_id = excluded.last_update_id, updated_at = excluded.updated_at",
        )
        .bind(self.bot_id)
        .bind(id)
        .bind(now)
        .execute(self.runner.db.pool())
        .await
        .doing("recording the last Telegram update")?;
        *last = (id, now);
        Ok(Outcome::Handled)
    }

    /// Handles an update, trying again (with a growing pause) while the database fails: an
    /// update is never skipped, because Telegram would not send it again.
    pub async fn handle_surely(&self, u: &Update) {
        let mut wait = Duration::from_millis(250);
        loop {
            match self.handle(u).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(update = u.id.0, error = %e, "could not handle a Telegram update; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Long polling with teloxide's listener until `stop` resolves. The listener confirms a
    /// batch of updates to Telegram (the next `getUpdates` offset) only after every update of it
    /// was handled here.
    pub async fn poll(self: Arc<Self>, timeout: u32, stop: impl Future<Output = ()> + Send) {
        let mut listener = teloxide::update_listeners::Polling::builder(self.bot.clone())
            .timeout(Duration::from_secs(u64::from(timeout)))
            .delete_webhook()
            .await
            .build();
        let token = listener.stop_token();
        let stream = listener.as_stream();
        tokio::pin!(stream);
        tokio::pin!(stop);
        let mut stopping = false;
        loop {
            let next = tokio::select! {
                () = &mut stop, if !stopping => {
                    stopping = true;
                    token.stop();
                    continue;
                }
                n = stream.next() => n,
            };
            match next {
                Some(Ok(u)) => self.handle_surely(&u).await,
                Some(Err(e)) => {
                    tracing::warn!(
                        error = describe_error(&e),
                        "getting Telegram updates failed"
                    );
                }
                None => break,
            }
        }
    }

    /// The webhook: `setWebhook` (with the secret, and one connection at a time so updates come
    /// in order), and our own route for Telegram's posts, to merge into the server. An update
    /// is acknowledged (200) only once it is handled and committed; a database failure answers
    /// 503 and Telegram sends it again. A post without the secret is refused (401), the secret
    /// compared in constant time; while the service stops, 503.
    ///
    /// # Errors
    /// `setWebhook` failed.
    pub async fn webhook(
        self: Arc<Self>,
        cfg: &TelegramConfig,
    ) -> Result<axum::Router, teloxide::RequestError> {
        let Some((url, secret)) = &cfg.webhook else {
            return Ok(axum::Router::new());
        };
        self.bot
            .set_webhook(url.clone())
            .secret_token(secret.expose().to_owned())
            .max_connections(1)
            .await?;
        let path = url.path().to_owned();
        let state = Arc::new((self, secret.clone()));
        Ok(axum::Router::new()
            .route(&path, axum::routing::post(webhook_post))
            .with_state(state))
    }

    async fn process(&self, u: &Update) -> Result<(), RunError> {
        let id = format!("u{}", u.id.0);
        match &u.kind {
            UpdateKind::Message(m) => self.message(&id, m).await,
            UpdateKind::CallbackQuery(q) => self.callback(&id, q).await,
            UpdateKind::MyChatMember(c) => self.member(c).await,
            // Edits, reactions, group updates and the rest: nothing for us.
            _ => Ok(()),
        }
    }

    /// The client of this bot linked to `chat`: a centre's own bot knows that centre's
    /// clients only, the deployment's bot those of every centre without a bot of its own.
    async fn client_of(&self, chat: &str) -> Result<Option<ClientId>, RunError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT a.client_id FROM channel_addresses a \
             JOIN clients c ON c.id = a.client_id JOIN centres ce ON ce.id = c.centre_id \
             WHERE a.channel = 'telegram' AND a.address = $1 \
               AND CASE WHEN ce.telegram_token_file IS NULL OR ce.id = 'default' THEN '' ELSE ce.id END = $2",
        )
        .bind(chat)
        .bind(self.centre_id())
        .fetch_optional(self.runner.db.pool())
        .await
        .doing("matching a chat to a client")?;
        Ok(id.and_then(|c| ClientId::parse(&c).ok()))
    }

    /// This bot's centre, `""` for the deployment's bot.
    fn centre_id(&self) -> &str {
        self.centre.as_ref().map_or("", |(id, _)| id.as_str())
    }

    async fn message(&self, update: &str, m: &Message) -> Result<(), RunError> {
        if !m.chat.is_private() {
            return Ok(());
        }
        let chat = m.chat.id.0.to_string();
        let text = m
            .text()
            .or_else(|| m.caption())
            .unwrap_or("[not text]")
            .trim();
        let client = self.client_of(&chat).await?;
        let command = command(text);
        if let Some(("start", code)) = command
            && !code.is_empty()
        {
            let now = to_ms(self.runner.clock.now());
            match invite::redeem(&self.runner.db, code, &chat, now, self.centre_id()).await? {
                Redeemed::Linked(c) => return self.linked(update, &chat, &c).await,
                Redeemed::Again(c) => {
                    return self
                        .receive(update, &chat, &c, "/start", Some(Intent::Start))
                        .await;
                }
                Redeemed::Invalid => {}
            }
        }
        let Some(client) = client else {
            self.stranger(&chat).await;
            return Ok(());
        };
        let keyword = match command {
            Some(("start", _)) => Some(Intent::Start),
            Some(("stop", _)) => Some(Intent::Stop),
            Some(("help", _)) => Some(Intent::Help),
            Some(("language" | "langue", name)) => Some(self.language(name)),
            _ => None,
        };
        self.receive(update, &chat, &client, text, keyword).await
    }

    /// `/language fr`, `/language Français`: that language if enabled; else the list.
    fn language(&self, name: &str) -> Intent {
        match self.runner.safety.classify(name) {
            Intent::Language(l) => Intent::Language(l),
            _ => Locale::parse(name)
                .ok()
                .filter(|l| self.runner.catalog.locales().contains(l))
                .map_or(Intent::Languages, Intent::Language),
        }
    }

    async fn receive(
        &self,
        update: &str,
        chat: &str,
        client: &ClientId,
        text: &str,
        keyword: Option<Intent>,
    ) -> Result<(), RunError> {
        let mut inbound =
            Inbound::new(Channel::Telegram, client.clone(), Some(update.into()), text);
        inbound.address = Some(chat.to_owned());
        inbound.keyword = keyword;
        self.runner.receive(&inbound).await.map(|_| ())
    }

    /// A chat just linked by an invite: a client who had opted out opts back in (they asked to
    /// start), then the consent flow begins.
    async fn linked(&self, update: &str, chat: &str, client: &ClientId) -> Result<(), RunError> {
        tracing::info!(client = %client, "telegram chat linked");
        let consent: Option<String> =
            sqlx::query_scalar("SELECT consent FROM clients WHERE id = $1")
                .bind(client.as_str())
                .fetch_optional(self.runner.db.pool())
                .await
                .doing("reading a client's consent")?;
        if consent.as_deref() == Some("revoked") {
            self.receive(update, chat, client, "/start", Some(Intent::Start))
                .await?;
        }
        let Ok(consent_flow) = crate::domain::FlowId::parse("consent") else {
            return Ok(());
        };
        match self
            .runner
            .start_flow(
                client,
                &consent_flow,
                None,
                crate::runner::IfBusy::Replace,
                "telegram-invite",
            )
            .await
        {
            Ok(_) | Err(RunError::UnknownFlow(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Someone the centre did not invite (or whose invite expired): who we are, in both
    /// official languages, and nothing about anyone. Nothing about them is stored.
    async fn stranger(&self, chat: &str) {
        let mut vars = Vars::new();
        let name = self
            .centre
            .as_ref()
            .map_or_else(|| self.runner.centre.name.clone(), |(_, n)| n.clone());
        vars.insert("centre".into(), name);
        let text: Vec<String> = ["en", "fr"]
            .iter()
            .filter_map(|l| Locale::parse(l).ok())
            .filter_map(|l| {
                self.runner
                    .catalog
                    .format(&l, "telegram-stranger", &vars)
                    .ok()
            })
            .collect();
        let Ok(chat) = chat.parse::<i64>() else {
            return;
        };
        if let Err(e) = self.bot.send_message(ChatId(chat), text.join("\n\n")).await {
            tracing::warn!(
                error = describe_error(&e),
                "could not answer a chat that is not linked"
            );
        }
    }

    async fn callback(&self, update: &str, q: &CallbackQuery) -> Result<(), RunError> {
        let data = q.data.as_deref().unwrap_or("");
        let chat = q
            .message
            .as_ref()
            .filter(|m| m.chat().is_private())
            .map(|m| m.chat().id);
        let client = match chat {
            Some(c) => self.client_of(&c.0.to_string()).await?,
            None => None,
        };
        let handled = match (parse_callback(data), client, chat) {
            (Some((prompt, option, step)), Some(client), Some(chat)) => {
                let label = button_label(q.message.as_ref(), data);
                let mut inbound = Inbound::new(
                    Channel::Telegram,
                    client,
                    Some(update.into()),
                    label
                        .clone()
                        .unwrap_or_else(|| format!("[button {}]", option + 1)),
                );
                inbound.address = Some(chat.0.to_string());
                inbound.pick = Some(Pick {
                    prompt,
                    option,
                    step: step.to_owned(),
                });
                let h = self.runner.receive(&inbound).await?;
                Some((h, label))
            }
            _ => None,
        };
        // Always: the client's app shows a spinner until it is answered.
        if let Err(e) = self.bot.answer_callback_query(q.id.clone()).await {
            tracing::debug!(error = describe_error(&e), "answerCallbackQuery failed");
        }
        // Only a button that is on that message changes its keyboard: a forged or unknown
        // `callback_data` never touches the keyboard of the question still waiting.
        if let (Some((h, Some(label))), Some(MaybeInaccessibleMessage::Regular(m))) =
            (handled, &q.message)
            && !h.duplicate
        {
            mark_answered(&self.bot, m, &h, &label).await;
        }
        Ok(())
    }

    /// The client blocked the bot (or left the chat): opted out, as they asked. Unblocking does
    /// not opt them back in; `/start` does.
    async fn member(&self, c: &ChatMemberUpdated) -> Result<(), RunError> {
        if !c.chat.is_private() || !c.new_chat_member.is_banned() {
            return Ok(());
        }
        let Some(client) = self.client_of(&c.chat.id.0.to_string()).await? else {
            return Ok(());
        };
        tracing::info!(client = %client, "telegram: the client blocked the bot");
        self.runner
            .provider_opt_out(&client, Channel::Telegram, "the client blocked the bot")
            .await
    }
}

/// One update posted by Telegram to the webhook.
async fn webhook_post(
    axum::extract::State(state): axum::extract::State<Arc<(Arc<Updates>, crate::config::Secret)>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let (updates, secret) = &*state;
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !crate::config::same_secret(given, secret.expose()) {
        tracing::warn!("refused a Telegram webhook post without the secret");
        metrics::counter!(crate::ops::metrics::SIGNATURE_REFUSALS, "channel" => "telegram")
            .increment(1);
        return (StatusCode::UNAUTHORIZED, "secret token required\n").into_response();
    }
    if updates.runner.shutdown.is_stopping() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            "stopping; send it again\n",
        )
            .into_response();
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            // Never handled, whatever the retries: acknowledged, so it does not hold up the rest.
            tracing::warn!(error = %e, "a Telegram update could not be read; acknowledged and dropped");
            return StatusCode::OK.into_response();
        }
    };
    match updates.handle(&update).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(update = update.id.0, error = %e, "could not handle a Telegram update; Telegram will send it again");
            (StatusCode::SERVICE_UNAVAILABLE, "try again\n").into_response()
        }
    }
}

/// The command of a message (`/start@centre_bot code` → `("start", "code")`), lower-cased.
fn command(text: &str) -> Option<(&'static str, &str)> {
    let rest = text.strip_prefix('/')?;
    let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let word = word.split_once('@').map_or(word, |(w, _)| w);
    let known = ["start", "stop", "help", "language", "langue"];
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(word))
        .map(|k| (*k, arg.trim()))
}

/// The label of the button with this `callback_data`, from the message it is on.
fn button_label(m: Option<&MaybeInaccessibleMessage>, data: &str) -> Option<String> {
    let Some(MaybeInaccessibleMessage::Regular(m)) = m else {
        return None;
    };
    m.reply_markup()?
        .inline_keyboard
        .iter()
        .flatten()
        .find(|b| {
            matches!(&b.kind, teloxide::types::InlineKeyboardButtonKind::CallbackData(d) if d == data)
        })
        .map(|b| b.text.clone())
}

/// Once a button answered its question, the keyboard becomes one mark of what was chosen; a
/// button of an older question loses its keyboard (the note says why).
async fn mark_answered(bot: &Bot, m: &Message, h: &Handled, label: &str) {
    let stale = h.replies.iter().any(|r| r.key == "stale-button");
    let markup = if stale {
        InlineKeyboardMarkup::default()
    } else {
        InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(
            format!("✓ {label}"),
            "answered",
        )]])
    };
    if let Err(e) = bot
        .edit_message_reply_markup(m.chat.id, m.id)
        .reply_markup(markup)
        .await
    {
        tracing::debug!(
            error = describe_error(&e),
            "could not mark an answered question"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_with_or_without_the_bot_name() {
        assert_eq!(command("/start abc"), Some(("start", "abc")));
        assert_eq!(command("/START@centre_bot  abc "), Some(("start", "abc")));
        assert_eq!(command("/stop"), Some(("stop", "")));
        assert_eq!(command("/language fr"), Some(("language", "fr")));
        assert_eq!(command("/unknown"), None);
        assert_eq!(command("start"), None);
    }
}

/// A running Telegram channel.
#[derive(Debug)]
pub struct Started {
    /// The deployment's bot's user name.
    pub username: String,
    /// The centres whose own bots run too: (centre, bot user name).
    pub centres: Vec<(String, String)>,
    /// Centres whose own bot could not start, and why (their clients cannot be reached until
    /// it is mended and matters restarted).
    pub failed: Vec<(String, String)>,
    /// The webhooks' routes, to merge into the server (empty when polling).
    pub router: axum::Router,
    /// The long-polling tasks, one a bot; each ends once `stop` resolved and its last batch is
    /// confirmed.
    pub pollers: Vec<tokio::task::JoinHandle<()>>,
    pub dispatch: dispatch::Handle,
}

/// One bot's updates, by webhook (its route) or long polling (its task).
async fn listen(
    updates: Updates,
    t: &TelegramConfig,
    stop: impl Future<Output = ()> + Send + 'static,
    router: &mut axum::Router,
    pollers: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<(), String> {
    let updates = std::sync::Arc::new(updates);
    if t.webhook.is_some() {
        let r = updates
            .webhook(t)
            .await
            .map_err(|e| format!("Telegram: setWebhook failed ({})", describe_error(&e)))?;
        *router = std::mem::take(router).merge(r);
        return Ok(());
    }
    let alive = updates.runner.loops.register_quiet("telegram poller");
    let timeout = t.poll_timeout;
    pollers.push(tokio::spawn(async move {
        updates.poll_when_leader(timeout, stop).await;
        drop(alive);
    }));
    Ok(())
}

/// Starts Telegram: checks the token (`getMe`), starts the dispatcher, then long polling (until
/// `stop`) or the webhook (`setWebhook`; its router joins the server), for the deployment's bot
/// and for the bot of each centre that has its own (its token read from its file; its webhook
/// at the deployment's URL followed by `/<centre>`). A centre's bot that cannot start is
/// reported in [`Started::failed`]; the others run.
///
/// # Errors
/// `getMe` or `setWebhook` of the deployment's bot failed, or the database could not be read.
pub async fn start(
    runner: std::sync::Arc<crate::runner::Runner>,
    t: &TelegramConfig,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<Started, String> {
    use teloxide::prelude::Requester;
    let bot = t.bot();
    let me = bot.get_me().await.map_err(|e| {
        format!(
            "Telegram: getMe failed ({}); check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL",
            describe_error(&e)
        )
    })?;
    let id = bot_id(t.token.expose());
    let stop = futures_util::FutureExt::shared(Box::pin(stop));
    let mut sender = Sender::new(bot.clone(), id);
    let mut router = axum::Router::new();
    let mut pollers = Vec::new();
    let mut centres = Vec::new();
    let mut failed = Vec::new();
    let own = crate::centres::own_bots(&runner.db)
        .await
        .map_err(|e| e.to_string())?;
    for (centre, name, file) in own {
        let ct = match crate::config::read_secret_file(&file, "bot token") {
            Ok(token) => t.for_centre(&centre, token),
            Err(e) => {
                failed.push((centre, e));
                continue;
            }
        };
        let cbot = ct.bot();
        let username = match cbot.get_me().await {
            Ok(me) => me.username.clone().unwrap_or_default(),
            Err(e) => {
                failed.push((centre, format!("getMe failed ({})", describe_error(&e))));
                continue;
            }
        };
        let cid = bot_id(ct.token.expose());
        // One bot, one poller and one centre: a bot already started is not started again.
        if cid == id || sender.centres.values().any(|(_, other)| *other == cid) {
            failed.push((
                centre,
                format!("its bot @{username} is already another centre's or the deployment's: give it a bot of its own"),
            ));
            continue;
        }
        let updates = Updates::new(runner.clone(), cbot.clone(), cid)
            .await
            .map_err(|e| e.to_string())?
            .of_centre(&centre, &name);
        if let Err(e) = listen(updates, &ct, stop.clone(), &mut router, &mut pollers).await {
            failed.push((centre, e));
            continue;
        }
        if let Err(e) = crate::centres::set_bot_username(&runner.db, &centre, &username).await {
            tracing::warn!(error = %e, "could not record a centre's bot's user name");
        }
        sender = sender.with_centre(&centre, cbot, cid);
        centres.push((centre, username));
    }
    let dispatch = dispatch::spawn(
        runner.clone(),
        std::sync::Arc::new(sender),
        crate::domain::Channel::Telegram,
        t.dispatch_settings(),
    );
    let updates = Updates::new(runner, bot, id)
        .await
        .map_err(|e| e.to_string())?;
    listen(updates, t, stop, &mut router, &mut pollers).await?;
    Ok(Started {
        username: me.username.clone().unwrap_or_default(),
        centres,
        failed,
        router,
        pollers,
        dispatch,
    })
}
