//! What a navigator records outside a conversation: their own message to a client, the
//! referral, and an erasure. Each is audited in the same transaction; the web's record page and
//! the command line call these.

use super::Runner;
use crate::domain::ClientId;
use crate::schedule::ActionError;
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};

/// The channel and address a navigator's message goes to: SMS first, then Telegram, else the
/// simulator.
pub(crate) async fn channel_of(
    db: &Db,
    client: &ClientId,
) -> Result<Option<(String, String)>, StoreError> {
    sqlx::query_as(
        "SELECT channel, address FROM channel_addresses WHERE client_id = $1 \
         ORDER BY CASE channel WHEN 'sms' THEN 0 WHEN 'telegram' THEN 1 ELSE 2 END LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(db.pool())
    .await
    .doing("finding a client's channel")
}

/// Puts one message in the outbox (delivered at once on the simulator, which has nobody to
/// deliver to). Returns its id.
#[allow(clippy::too_many_arguments)] // one row's columns
pub(crate) async fn queue(
    tx: &mut crate::store::Tx,
    client: &ClientId,
    ch: &str,
    address: &str,
    body: &str,
    key: &str,
    priority: i64,
    now: i64,
) -> Result<i64, StoreError> {
    let cost = crate::sms::cost(body);
    let status = if ch == "simulator" {
        "delivered"
    } else {
        "queued"
    };
    sqlx::query_scalar(
        "INSERT INTO messages (client_id, direction, channel, address, body, message_key, priority, status, encoding, segments, created_at, updated_at) \
         VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(client.as_str())
    .bind(ch)
    .bind(address)
    .bind(body)
    .bind(key)
    .bind(priority)
    .bind(status)
    .bind(cost.encoding.to_string())
    .bind(i64::try_from(cost.segments).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .doing("queueing a message")
}

/// Texts the client the details of the catalogue program they were referred to, in their
/// language (signposting). Only to a client who agreed to messages and can be reached; returns
/// the message id, or why nothing was sent.
pub async fn send_program_details(
    runner: &Runner,
    client: &ClientId,
    program: &crate::programs::Program,
    actor: &str,
) -> Result<Result<i64, &'static str>, StoreError> {
    let db = &runner.db;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT consent, language FROM clients WHERE id = $1")
            .bind(client.as_str())
            .fetch_optional(db.pool())
            .await
            .doing("reading a client")?;
    let Some((consent, language)) = row else {
        return Ok(Err("no such client"));
    };
    if consent != "granted" {
        return Ok(Err("the client has not agreed to messages"));
    }
    let Some((ch, address)) = channel_of(db, client).await? else {
        return Ok(Err("nothing reaches the client yet"));
    };
    let locale = runner.catalog.negotiate(
        &crate::domain::Locale::parse(&language)
            .unwrap_or_else(|_| runner.catalog.default_locale().clone()),
    );
    let body = crate::programs::details_text(&runner.catalog, &locale, program);
    let now = crate::clock::to_ms(runner.clock.now());
    let mut tx = db.begin().await?;
    let id = queue(
        &mut tx,
        client,
        &ch,
        &address,
        &body,
        "program-details",
        1,
        now,
    )
    .await?;
    audit(
        &mut tx,
        now,
        actor,
        "program-details-send",
        Some(client),
        &format!("program {} details, message {id} on {ch}", program.code),
    )
    .await?;
    tx.commit().await.doing("sending a program's details")?;
    runner.queued.send_modify(|n| *n = n.wrapping_add(1));
    Ok(Ok(id))
}

/// Queues a navigator's own message to a client on their channel (SMS first, then Telegram,
/// else the simulator). Refused after an opt-out. Returns the message id.
pub async fn send_message(
    runner: &Runner,
    client: &ClientId,
    body: &str,
    actor: &str,
) -> Result<i64, ActionError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(ActionError::Invalid("the message is empty".into()));
    }
    if body.chars().count() > 1000 {
        return Err(ActionError::Invalid(
            "the message is longer than 1000 characters".into(),
        ));
    }
    let now = crate::clock::to_ms(runner.clock.now());
    let db = &runner.db;
    let consent: Option<String> = sqlx::query_scalar("SELECT consent FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(db.pool())
        .await
        .doing("sending a navigator's message")?;
    match consent.as_deref() {
        None => return Err(ActionError::UnknownClient(client.clone())),
        Some("revoked") => {
            return Err(ActionError::Invalid(format!(
                "{client} has opted out: nothing can be sent until they opt back in"
            )));
        }
        _ => {}
    }
    let (ch, address) = channel_of(db, client)
        .await?
        .ok_or_else(|| ActionError::Invalid(format!("{client} has no channel to message")))?;
    let cost = crate::sms::cost(body);
    let mut tx = db.begin().await?;
    let id = queue(
        &mut tx,
        client,
        &ch,
        &address,
        body,
        "navigator-message",
        0,
        now,
    )
    .await?;
    audit(
        &mut tx,
        now,
        actor,
        "message-send",
        Some(client),
        &format!("message {id} on {ch}, {} segment(s)", cost.segments),
    )
    .await?;
    // The navigator is talking with the client: the bot waits until the conversation closes.
    super::conversation::staff_wrote(&mut tx, client, actor, now).await?;
    tx.commit().await.doing("sending a navigator's message")?;
    // The dispatchers wake at once: an answer goes out like a reply.
    runner.queued.send_modify(|n| *n = n.wrapping_add(1));
    Ok(id)
}

/// Erases a client and everything recorded about them. The audit log keeps a tombstone: who
/// erased which client id, when, and how many rows went.
pub async fn erase_client(
    db: &Db,
    client: &ClientId,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let mut gone = 0u64;
    for sql in [
        "DELETE FROM delivery_events WHERE EXISTS (SELECT 1 FROM messages m WHERE m.client_id = $1 AND m.channel = delivery_events.channel AND m.provider_id = delivery_events.provider_id)",
        "DELETE FROM telegram_invites WHERE client_id = $1",
        "DELETE FROM alert_sends WHERE alert_id IN (SELECT id FROM alerts WHERE client_id = $1)",
        "DELETE FROM alerts WHERE client_id = $1",
        "DELETE FROM conversations WHERE client_id = $1",
        "DELETE FROM notes WHERE client_id = $1",
        "DELETE FROM jobs WHERE client_id = $1",
        "DELETE FROM enrolments WHERE client_id = $1",
        "DELETE FROM messages WHERE client_id = $1",
        "DELETE FROM answers WHERE client_id = $1",
        "DELETE FROM scores WHERE client_id = $1",
        "DELETE FROM flags WHERE client_id = $1",
        "DELETE FROM fields WHERE client_id = $1",
        "DELETE FROM sessions WHERE client_id = $1",
        "DELETE FROM service_requests WHERE client_id = $1",
        "DELETE FROM referrals WHERE client_id = $1",
        "DELETE FROM consent_events WHERE client_id = $1",
        "DELETE FROM channel_addresses WHERE client_id = $1",
    ] {
        gone += sqlx::query(sql)
            .bind(client.as_str())
            .execute(&mut *tx)
            .await
            .doing("erasing a client")?
            .rows_affected();
    }
    let n = sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .doing("erasing a client")?
        .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    audit(
        &mut tx,
        now,
        actor,
        "client-erase",
        Some(client),
        &format!("tombstone: client erased with {gone} related rows"),
    )
    .await?;
    tx.commit().await.doing("committing an erasure")?;
    Ok(true)
}

/// Why a referral is closed.
pub const CLOSING_REASONS: [&str; 7] = [
    "goal-met",
    "attended",
    "declined",
    "no-contact",
    "moved",
    "referred-elsewhere",
    "other",
];

pub use crate::domain::{SUPPORT_LEVELS, UPTAKES};

/// What a navigator records about the open referral (or a new one when there is none), as the
/// record's form has it: who referred, the type, the program and the level are written as given
/// (`None` clears them); reasons and reminders only when given. A system that changes one field
/// uses [`crate::runner::referrals::patch_referral`].
#[derive(Debug, Clone, Default)]
pub struct ReferralUpdate {
    /// A program of the catalogue, by its code; `None`: "other", the free text in `program`.
    pub program_code: Option<String>,
    pub referred_by: Option<String>,
    pub rx_type: Option<String>,
    pub program: Option<String>,
    pub support_level: Option<String>,
    pub uptake: String,
    /// The reasons for referral; `None` leaves them as they are.
    pub reasons: Option<Vec<String>>,
    /// The client agreed (or no longer agrees) to a text the day before a program's session;
    /// `None` leaves it as it is.
    pub reminders: Option<bool>,
}

/// Records in the consent ledger whether the client agrees to reminders of a program's
/// sessions (a purpose of its own, apart from agreeing to messages), when that changes.
pub async fn set_reminders(
    tx: &mut crate::store::Tx,
    client: &ClientId,
    granted: bool,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let change = if granted { "granted" } else { "revoked" };
    let n = sqlx::query(
        "UPDATE clients SET reminders = $1 WHERE id = $2 AND (reminders IS NULL OR reminders <> $1)",
    )
    .bind(change)
    .bind(client.as_str())
    .execute(&mut **tx)
    .await
    .doing("recording reminders")?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO consent_events (client_id, channel, change, source, wording, actor, at, purpose) \
         VALUES ($1, 'any', $2, $3, $4, $5, $6, 'reminders')",
    )
    .bind(client.as_str())
    .bind(change)
    .bind(if actor.starts_with("api:") { "provider" } else { "navigator" })
    .bind(if granted {
        "agreed to a text the day before each session of their program"
    } else {
        "no more texts before program sessions"
    })
    .bind(actor)
    .bind(now)
    .execute(&mut **tx)
    .await
    .doing("recording reminders")?;
    audit(
        tx,
        now,
        actor,
        "reminders-consent",
        Some(client),
        &format!("reminders {change}"),
    )
    .await?;
    Ok(true)
}

/// Records the referral. An uptake of declined or dropped-out stops the steps that declare it
/// (`stop_when`), as when the client says so. Returns the referral's id.
pub async fn update_referral(
    runner: &Runner,
    client: &ClientId,
    u: &ReferralUpdate,
    actor: &str,
) -> Result<i64, ActionError> {
    let db = &runner.db;
    let now = crate::clock::to_ms(runner.clock.now());
    if let Some(l) = &u.support_level
        && !SUPPORT_LEVELS.contains(&l.as_str())
    {
        return Err(ActionError::Invalid(format!(
            "level of support {l:?} is not one of {}",
            SUPPORT_LEVELS.join(", ")
        )));
    }
    if !UPTAKES.contains(&u.uptake.as_str()) {
        return Err(ActionError::Invalid(format!(
            "uptake {:?} is not one of {}",
            u.uptake,
            UPTAKES.join(", ")
        )));
    }
    if let Some(r) = &u.reasons {
        crate::runner::referrals::check_reasons(r)?;
    }
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    // A program of the catalogue: its name, in the client's language, is what messages say.
    let catalogue = match u
        .program_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => Some(
            crate::programs::for_client(db, code, client.as_str())
                .await?
                .ok_or_else(|| {
                    ActionError::Invalid(format!("there is no program {code:?} in the catalogue"))
                })?,
        ),
        None => None,
    };
    let language: Option<String> = sqlx::query_scalar("SELECT language FROM clients WHERE id = $1")
        .bind(client.as_str())
        .fetch_optional(db.pool())
        .await
        .doing("recording a referral")?;
    let program_name = match &catalogue {
        Some(p) => Some(p.name(language.as_deref().unwrap_or("en"))),
        None => clean(&u.program),
    };
    let program_id = catalogue.as_ref().map(|p| p.id);
    let mut tx = db.begin().await?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM referrals WHERE client_id = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(&mut *tx)
    .await
    .doing("recording a referral")?;
    let (before, program_before): (Option<String>, Option<i64>) = match open {
        Some(id) => sqlx::query_as("SELECT uptake, program_id FROM referrals WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .doing("recording a referral")?
            .map_or((None, None), |(u, p): (String, Option<i64>)| (Some(u), p)),
        None => (None, None),
    };
    if let Some(p) = &catalogue
        && !p.active
        && program_before != Some(p.id)
    {
        return Err(ActionError::Invalid(format!(
            "the program {} is retired: choose another",
            p.code
        )));
    }
    let id = match open {
        Some(id) => {
            sqlx::query(
                "UPDATE referrals SET referred_by = $1, rx_type = $2, program = $3, support_level = $4, uptake = $5, program_id = $7 WHERE id = $6",
            )
            .bind(clean(&u.referred_by))
            .bind(clean(&u.rx_type))
            .bind(&program_name)
            .bind(clean(&u.support_level))
            .bind(&u.uptake)
            .bind(id)
            .bind(program_id)
            .execute(&mut *tx)
            .await
            .doing("recording a referral")?;
            if let Some(r) = &u.reasons {
                sqlx::query("UPDATE referrals SET reasons = $1 WHERE id = $2")
                    .bind(r.join(","))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .doing("recording a referral")?;
            }
            id
        }
        None => sqlx::query_scalar(
            "INSERT INTO referrals (client_id, referred_at, referred_by, rx_type, program, support_level, uptake, program_id, created_at, reasons) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $2, $9) RETURNING id",
        )
        .bind(client.as_str())
        .bind(now)
        .bind(clean(&u.referred_by))
        .bind(clean(&u.rx_type))
        .bind(&program_name)
        .bind(clean(&u.support_level))
        .bind(&u.uptake)
        .bind(program_id)
        .bind(u.reasons.as_ref().map(|r| r.join(",")).unwrap_or_default())
        .fetch_one(&mut *tx)
        .await
        .doing("recording a referral")?,
    };
    if let Some(granted) = u.reminders {
        set_reminders(&mut tx, client, granted, actor, now).await?;
    }
    if before.as_deref() != Some(u.uptake.as_str()) {
        crate::store::uptake::record(&mut tx, id, &u.uptake, actor, now).await?;
        crate::schedule::stop_for_uptake(
            &mut tx,
            db.backend(),
            &runner.sequences,
            client.as_str(),
            &u.uptake,
            now,
        )
        .await?;
        // Word back to the referrer, when there is news.
        if before.is_some() || u.uptake != "not-yet" {
            crate::summaries::write(&mut tx, &runner.catalog, id, "uptake", now, actor).await?;
        }
    }
    audit(
        &mut tx,
        now,
        actor,
        "referral-update",
        Some(client),
        &format!("referral {id}: uptake {}", u.uptake),
    )
    .await?;
    tx.commit().await.doing("recording a referral")?;
    // Referred to a program of the catalogue: its details, texted (signposting).
    if let Some(p) = &catalogue
        && program_before != Some(p.id)
        && let Err(why) = send_program_details(runner, client, p, actor).await?
    {
        tracing::debug!(why, "a program's details were not sent");
    }
    Ok(id)
}
