//! Urgent flags reach a person. A crisis or other urgent task raised by a client's message is
//! pushed, by email and SMS, to the client's navigator in their working hours, or else to whoever
//! is on call; not acknowledged in time, it goes to the next person on the list, then to every
//! administrator. An alert names the kind of task and links to it: never a name, a number or
//! a word the client wrote.
//!
//! The alerter is a loop over the `alerts` table, like the scheduler over `jobs`: every second it
//! turns new urgent flags into alerts, claims the alerts that are due (a lease, so that several
//! processes never send one twice), sends, and sets when the next person is due.

pub mod hours;
mod reply;
mod send;

pub use hours::Hours;
pub use reply::{
    AlertView, SendView, Via, acknowledge, alerted_about, staff_by_phone, staff_reply, views,
};
pub use send::{Mailer, Sms};

use crate::clock::{from_ms, to_ms};
use crate::config::{AlertSettings, Config};
use crate::runner::Runner;
use crate::store::{Db, Doing, StoreError};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

/// How long a claimed alert is held by the process sending it.
const LEASE_MS: i64 = 60_000;
/// A flag older than this when the alerter first sees it (the service was off) is not pushed:
/// it is on Today.
const RECENT_MS: i64 = 24 * 3_600_000;
/// When every send to a level failed, try that level again after this.
const RETRY_MS: i64 = 60_000;

/// A staff member as the alerter needs them.
#[derive(Debug, Clone)]
pub struct Contact {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub admin: bool,
    pub language: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub working_hours: Option<String>,
    /// The centre they work for, and whether they administer every centre: an alert about a
    /// client goes only to staff who may open the client's record.
    pub centre: String,
    pub all_centres: bool,
}

/// Everything the alerter needs, built once at start-up.
pub struct Alerter {
    pub runner: Arc<Runner>,
    settings: AlertSettings,
    default_hours: Hours,
    on_call: Vec<(String, Hours)>,
    mailer: Option<Mailer>,
    sms: Option<Sms>,
    public_url: String,
    text: crate::web::ui::UiText,
}

impl std::fmt::Debug for Alerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Who gets an alert at one level, and whether it is the last.
#[derive(Debug, Clone)]
pub struct Route {
    pub to: Vec<Contact>,
    pub last: bool,
}

impl Alerter {
    /// Checks the settings: hours that parse, a mail server URL that does, a sender address.
    pub fn new(runner: Arc<Runner>, cfg: &Config, sms: Option<Sms>) -> Result<Self, String> {
        let a = &cfg.alerts;
        let default_hours =
            Hours::parse(&a.working_hours).map_err(|e| format!("[alerts] working_hours: {e}"))?;
        let mut on_call = Vec::new();
        for (i, s) in a.on_call.iter().enumerate() {
            let h = Hours::shift(&s.days, &s.hours)
                .map_err(|e| format!("[alerts] on_call #{} ({}): {e}", i + 1, s.staff))?;
            on_call.push((s.staff.clone(), h));
        }
        let mailer = match a.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(Mailer::new(url, &a.from)?),
            None => None,
        };
        let public_url = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", cfg.listen))
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            runner,
            settings: a.clone(),
            default_hours,
            on_call,
            mailer,
            sms,
            public_url,
            text: crate::web::ui::UiText::load(),
        })
    }

    fn db(&self) -> &Db {
        &self.runner.db
    }

    fn now(&self) -> i64 {
        to_ms(self.runner.clock.now())
    }

    /// Whether this contact can be reached with what is configured.
    fn reachable(&self, c: &Contact) -> bool {
        (c.email.is_some() && self.mailer.is_some()) || (c.phone.is_some() && self.sms.is_some())
    }

    /// Why alerts cannot work, if they cannot: nobody reachable, or an on-call name that is
    /// not an active staff member.
    pub async fn check(&self) -> Result<String, String> {
        let all = contacts(self.db()).await.map_err(|e| e.to_string())?;
        for (name, _) in &self.on_call {
            if !all.iter().any(|c| &c.username == name) {
                return Err(format!(
                    "[alerts] on_call names {name:?}, who is not an active staff member"
                ));
            }
        }
        let reachable: Vec<&Contact> = all.iter().filter(|c| self.reachable(c)).collect();
        if reachable.is_empty() {
            let how = match (self.mailer.is_some(), self.sms.is_some()) {
                (true, true) => "an email address or a phone number",
                (true, false) => "an email address (SMS is off: Twilio is not set up)",
                (false, true) => "a phone number (email is off: [alerts] smtp_url is not set)",
                (false, false) => {
                    return Err("crisis alerts are on ([alerts] enabled = true) but there is no way to send them: set [alerts] smtp_url for email, or set up Twilio for SMS".into());
                }
            };
            return Err(format!(
                "crisis alerts are on ([alerts] enabled = true) but no one can receive them: no active staff member has {how}. Add one on the Staff page or with `matters staff contact USER --email … --phone …`, or set [alerts] enabled = false"
            ));
        }
        let admins = reachable.iter().filter(|c| c.admin).count();
        Ok(format!(
            "alerts: urgent tasks reach a person ({} staff reachable, {admins} of them administrators; by {})",
            reachable.len(),
            match (self.mailer.is_some(), self.sms.is_some()) {
                (true, true) => "email and SMS",
                (true, false) => "email",
                _ => "SMS",
            }
        ))
    }

    /// Who is told at `level`, at `now`, about a client of `navigator`: the navigator in their
    /// working hours, then each on-call person whose shift covers now, then every administrator
    /// (and the centre's alert address, when it has one). Hours are the client's centre's, in
    /// its time zone `tz`.
    pub fn route(
        &self,
        all: &[Contact],
        navigator: Option<i64>,
        now: i64,
        level: usize,
        tz: chrono_tz::Tz,
    ) -> Option<Route> {
        let local = from_ms(now).with_timezone(&tz).naive_local();
        let mut steps: Vec<Vec<Contact>> = Vec::new();
        let mut seen: Vec<i64> = Vec::new();
        if let Some(nav) = all.iter().find(|c| Some(c.id) == navigator)
            && self.reachable(nav)
        {
            let hours = nav
                .working_hours
                .as_deref()
                .and_then(|h| Hours::parse(h).ok())
                .unwrap_or_else(|| self.default_hours.clone());
            if hours.covers(local) {
                steps.push(vec![nav.clone()]);
                seen.push(nav.id);
            }
        }
        for (name, shift) in &self.on_call {
            if !shift.covers(local) {
                continue;
            }
            if let Some(c) = all.iter().find(|c| &c.username == name)
                && self.reachable(c)
                && !seen.contains(&c.id)
            {
                steps.push(vec![c.clone()]);
                seen.push(c.id);
            }
        }
        // The centre's shared alert mailbox (a contact with no staff id) goes with the last.
        let admins: Vec<Contact> = all
            .iter()
            .filter(|c| (c.admin || c.id == TEAM) && self.reachable(c))
            .cloned()
            .collect();
        if !admins.is_empty() {
            steps.push(admins);
        }
        let n = steps.len();
        if n == 0 {
            return None;
        }
        let i = level.min(n - 1);
        Some(Route {
            to: steps.swap_remove(i),
            last: i == n - 1,
        })
    }

    /// One pass: new urgent flags become alerts, alerts whose task was done close, and the
    /// alerts that are due are sent. Returns how many alerts it sent.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let now = self.now();
        self.open_new(now).await?;
        self.close_done(now).await?;
        let due = self.claim(now).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let all = contacts(self.db()).await?;
        let mut sent = 0;
        for d in due {
            if self.send(&all, &d, now).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    async fn open_new(&self, now: i64) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        let rows = sqlx::query(
            "SELECT f.id, f.client_id, f.kind FROM flags f JOIN clients c ON c.id = f.client_id \
             WHERE f.status = 'open' AND f.urgency = 'urgent' AND f.created_at > $1 AND c.kind = 'real' \
               AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.flag_id = f.id)",
        )
        .bind(now - RECENT_MS)
        .fetch_all(&mut *tx)
        .await
        .doing("finding urgent tasks to alert")?;
        for r in &rows {
            let flag: i64 = r.try_get(0).doing("reading a flag")?;
            let client: String = r.try_get(1).doing("reading a flag")?;
            let kind: String = r.try_get(2).doing("reading a flag")?;
            sqlx::query(
                "INSERT INTO alerts (flag_id, client_id, kind, level, status, due_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 0, 'pending', $4, $4, $4) ON CONFLICT (flag_id) DO NOTHING",
            )
            .bind(flag)
            .bind(&client)
            .bind(&kind)
            .bind(now)
            .execute(&mut *tx)
            .await
            .doing("opening an alert")?;
        }
        tx.commit().await.doing("committing new alerts")
    }

    async fn close_done(&self, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alerts SET status = 'closed', due_at = NULL, updated_at = $1 \
             WHERE status IN ('pending', 'sent') \
               AND flag_id IN (SELECT f.id FROM flags f WHERE f.status <> 'open')",
        )
        .bind(now)
        .execute(self.db().pool())
        .await
        .doing("closing alerts of done tasks")?;
        Ok(())
    }

    async fn claim(&self, now: i64) -> Result<Vec<Due>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.client_id, a.kind, a.level, c.navigator_id, c.centre_id, \
                    ce.name, ce.time_zone, ce.alert_email, ce.default_language, \
                    ce.crisis_escalate_minutes, ce.urgent_escalate_minutes FROM alerts a \
             JOIN clients c ON c.id = a.client_id LEFT JOIN centres ce ON ce.id = c.centre_id \
             WHERE a.status IN ('pending', 'sent') AND a.due_at <= $1 \
               AND (a.lease_until IS NULL OR a.lease_until < $1) ORDER BY a.due_at, a.id LIMIT 50",
        )
        .bind(now)
        .fetch_all(self.db().pool())
        .await
        .doing("finding alerts that are due")?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get(0).doing("reading an alert")?;
            let token = crate::staff::new_token();
            let got = sqlx::query(
                "UPDATE alerts SET lease_until = $1, claim_token = $2 \
                 WHERE id = $3 AND status IN ('pending', 'sent') AND (lease_until IS NULL OR lease_until < $4)",
            )
            .bind(now + LEASE_MS)
            .bind(&token)
            .bind(id)
            .bind(now)
            .execute(self.db().pool())
            .await
            .doing("claiming an alert")?
            .rows_affected();
            if got == 1 {
                out.push(Due {
                    id,
                    token,
                    client: r.try_get(1).doing("reading an alert")?,
                    kind: r.try_get(2).doing("reading an alert")?,
                    level: r.try_get(3).doing("reading an alert")?,
                    navigator: r.try_get(4).doing("reading an alert")?,
                    centre: r.try_get(5).doing("reading an alert")?,
                    centre_name: r.try_get(6).doing("reading an alert")?,
                    time_zone: r.try_get(7).doing("reading an alert")?,
                    team_email: r.try_get(8).doing("reading an alert")?,
                    team_language: r
                        .try_get::<Option<String>, _>(9)
                        .doing("reading an alert")?
                        .unwrap_or_default(),
                    crisis_minutes: r.try_get(10).doing("reading an alert")?,
                    urgent_minutes: r.try_get(11).doing("reading an alert")?,
                });
            }
        }
        Ok(out)
    }

    /// How long an alert waits for an acknowledgement before it goes on: its centre's setting,
    /// else the deployment's.
    fn escalate_ms(&self, d: &Due) -> i64 {
        let (own, deployment) = if d.kind == "crisis" {
            (d.crisis_minutes, self.settings.crisis_escalate_minutes)
        } else {
            (d.urgent_minutes, self.settings.urgent_escalate_minutes)
        };
        own.unwrap_or(i64::from(deployment)).max(1) * 60_000
    }

    /// Sends one due alert to its level's people; true when at least one send left.
    async fn send(&self, all: &[Contact], d: &Due, now: i64) -> Result<bool, StoreError> {
        let level = usize::try_from(d.level).unwrap_or(0);
        // On call for another centre is not on call for this client.
        let mut theirs: Vec<Contact> = all
            .iter()
            .filter(|c| c.all_centres || c.centre == d.centre)
            .cloned()
            .collect();
        if let Some(team) = &d.team_email {
            theirs.push(Contact {
                id: TEAM,
                username: team.clone(),
                name: team.clone(),
                admin: false,
                language: d.team_language.clone(),
                email: Some(team.clone()),
                phone: None,
                working_hours: None,
                centre: d.centre.clone(),
                all_centres: false,
            });
        }
        let tz = d
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.runner.centre.time_zone);
        let Some(route) = self.route(&theirs, d.navigator, now, level, tz) else {
            tracing::error!(
                alert = d.id,
                "an urgent task's alert has no one to go to: no staff member can be reached"
            );
            self.release(d, now + RETRY_MS, None).await?;
            return Ok(false);
        };
        let minutes = self.escalate_ms(d) / 60_000;
        let mut any = false;
        let mut names = Vec::new();
        for c in &route.to {
            let centre = d.centre_name.as_deref().unwrap_or(&self.runner.centre.name);
            let msg = self.compose(c, d.id, &d.kind, minutes, route.last, centre);
            for (channel, address, result) in self.deliver(c, &msg).await {
                let (status, error) = match &result {
                    Ok(()) => {
                        any = true;
                        ("sent", None)
                    }
                    Err(e) => {
                        // The provider's words may hold the address: at debug only; the
                        // send keeps them in alert_sends.
                        tracing::warn!(alert = d.id, channel, "an alert could not be sent");
                        tracing::debug!(alert = d.id, channel, error = %e, "why the alert could not be sent");
                        ("failed", Some(e.clone()))
                    }
                };
                sqlx::query(
                    "INSERT INTO alert_sends (alert_id, staff_id, channel, address, level, status, error, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(d.id)
                .bind((c.id != TEAM).then_some(c.id))
                .bind(channel)
                .bind(address)
                .bind(d.level)
                .bind(status)
                .bind(error)
                .bind(now)
                .execute(self.db().pool())
                .await
                .doing("recording an alert's send")?;
            }
            names.push(c.username.clone());
        }
        if !any {
            self.release(d, now + RETRY_MS, None).await?;
            return Ok(false);
        }
        let next = (!route.last).then(|| now + self.escalate_ms(d));
        let done = sqlx::query(
            "UPDATE alerts SET status = 'sent', level = $1, due_at = $2, lease_until = NULL, claim_token = NULL, updated_at = $3 \
             WHERE id = $4 AND claim_token = $5 AND status IN ('pending', 'sent')",
        )
        .bind(d.level + 1)
        .bind(next)
        .bind(now)
        .bind(d.id)
        .bind(&d.token)
        .execute(self.db().pool())
        .await
        .doing("recording an alert as sent")?
        .rows_affected();
        if done == 1 {
            let (action, detail) = if d.level == 0 {
                (
                    "alert-sent",
                    format!("{} alert sent to {}", d.kind, names.join(", ")),
                )
            } else {
                (
                    "alert-escalated",
                    format!(
                        "{} alert not acknowledged: sent on to {}",
                        d.kind,
                        names.join(", ")
                    ),
                )
            };
            crate::store::record::audit_one(
                self.db(),
                now,
                "alerts",
                action,
                Some(&d.client),
                &detail,
            )
            .await?;
            tracing::info!(alert = d.id, level = d.level, kind = %d.kind, "alert sent");
        }
        Ok(true)
    }

    async fn release(&self, d: &Due, due: i64, _why: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alerts SET due_at = $1, lease_until = NULL, claim_token = NULL, updated_at = $2 \
             WHERE id = $3 AND claim_token = $4",
        )
        .bind(due)
        .bind(self.now())
        .bind(d.id)
        .bind(&d.token)
        .execute(self.db().pool())
        .await
        .doing("releasing an alert")?;
        Ok(())
    }

    /// The alert's words, in the staff member's language: the kind of task and the link.
    #[must_use]
    pub fn compose(
        &self,
        c: &Contact,
        id: i64,
        kind: &str,
        minutes: i64,
        last: bool,
        centre: &str,
    ) -> Message {
        let lang = if c.language == "fr" { "fr" } else { "en" };
        let kind_label = self
            .text
            .lookup(lang, &format!("flag-{kind}"), None)
            .unwrap_or_else(|| kind.to_owned());
        let link = format!("{}/alerts/{id}", self.public_url);
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("kind", kind_label);
        args.set("link", link);
        args.set("centre", centre.to_owned());
        args.set("minutes", minutes);
        let next = if last {
            self.text.get(lang, "alert-last", Some(&args))
        } else {
            self.text.get(lang, "alert-next", Some(&args))
        };
        let mut body = self.text.get(lang, "alert-body", Some(&args));
        body.push_str("\n\n");
        body.push_str(&next);
        body.push('\n');
        Message {
            subject: self.text.get(lang, "alert-subject", Some(&args)),
            body,
            sms: self.text.get(lang, "alert-sms", Some(&args)),
        }
    }

    async fn deliver(
        &self,
        c: &Contact,
        msg: &Message,
    ) -> Vec<(&'static str, String, Result<(), String>)> {
        let mut out = Vec::new();
        if let (Some(m), Some(to)) = (&self.mailer, &c.email) {
            let at = std::time::SystemTime::from(self.runner.clock.now());
            out.push((
                "email",
                to.clone(),
                m.send(to, &msg.subject, &msg.body, at).await,
            ));
        }
        if let (Some(s), Some(to)) = (&self.sms, &c.phone) {
            out.push(("sms", to.clone(), s.send(to, &msg.sms).await));
        }
        out
    }

    /// `matters alerts test`: a test alert to one staff member, or to everyone reachable. It
    /// names no task and links to nothing but the sign-in page.
    pub async fn send_test(
        &self,
        who: Option<&str>,
    ) -> Result<Vec<(String, &'static str, Result<(), String>)>, StoreError> {
        let all = contacts(self.db()).await?;
        let mut out = Vec::new();
        for c in all
            .iter()
            .filter(|c| who.is_none_or(|w| c.username == w))
            .filter(|c| self.reachable(c))
        {
            let lang = if c.language == "fr" { "fr" } else { "en" };
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("link", format!("{}/login", self.public_url));
            args.set("centre", self.runner.centre.name.clone());
            let msg = Message {
                subject: self.text.get(lang, "alert-test-subject", Some(&args)),
                body: self.text.get(lang, "alert-test-body", Some(&args)) + "\n",
                sms: self.text.get(lang, "alert-test-sms", Some(&args)),
            };
            for (channel, _, r) in self.deliver(c, &msg).await {
                out.push((c.username.clone(), channel, r));
            }
        }
        crate::store::record::audit_one(
            self.db(),
            self.now(),
            "alerts",
            "alert-test",
            None,
            &format!("test alert: {} sends", out.len()),
        )
        .await?;
        Ok(out)
    }
}

/// An alert's words.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    pub body: String,
    pub sms: String,
}

#[derive(Debug)]
struct Due {
    id: i64,
    token: String,
    client: String,
    kind: String,
    level: i64,
    navigator: Option<i64>,
    /// The client's centre: only its staff (and the whole deployment's administrators) are told.
    centre: String,
    /// The centre's name, time zone (its staff's hours and shifts are read in it), alert
    /// address and language.
    centre_name: Option<String>,
    time_zone: Option<String>,
    team_email: Option<String>,
    team_language: String,
    /// The centre's own escalation minutes for crisis and urgent alerts, if it set them.
    crisis_minutes: Option<i64>,
    urgent_minutes: Option<i64>,
}

/// The id of a centre's alert address among the contacts: no staff member's. The audit log
/// and the alert's page name it by its address.
pub const TEAM: i64 = 0;

/// Every active staff member with their contacts.
pub async fn contacts(db: &Db) -> Result<Vec<Contact>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, username, display_name, role, language, email, phone, working_hours, centre_id, all_centres FROM staff \
         WHERE active = 1 ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .doing("reading staff contacts")?;
    rows.iter()
        .map(|r| {
            let role: String = r.try_get(3).doing("reading staff")?;
            Ok(Contact {
                id: r.try_get(0).doing("reading staff")?,
                username: r.try_get(1).doing("reading staff")?,
                name: r.try_get(2).doing("reading staff")?,
                admin: role == "admin",
                language: r.try_get(4).doing("reading staff")?,
                email: r.try_get(5).doing("reading staff")?,
                phone: r.try_get(6).doing("reading staff")?,
                working_hours: r.try_get(7).doing("reading staff")?,
                centre: r.try_get(8).doing("reading staff")?,
                all_centres: r.try_get::<i64, _>(9).doing("reading staff")? != 0,
            })
        })
        .collect()
}

/// Runs the alerter every second until the service stops.
pub fn spawn(alerter: Arc<Alerter>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut stop = alerter.runner.shutdown.signal();
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.wait() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = alerter.tick().await {
                tracing::error!(error = %e, "the alerter failed; it tries again in a second");
            }
        }
    })
}
