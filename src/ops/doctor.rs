//! `matters doctor`: a check of the set-up, each part ok, a warning or an error, with the fix.
//! It reads the account at Twilio and the bot at Telegram through the same clients `serve`
//! uses, and changes nothing anywhere.

use crate::config::Config;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    Error,
}

impl Level {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// What was found about one part of the set-up.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub part: &'static str,
    pub said: String,
    pub fix: Option<String>,
}

fn ok(part: &'static str, said: impl Into<String>) -> Finding {
    Finding {
        level: Level::Ok,
        part,
        said: said.into(),
        fix: None,
    }
}

fn warning(part: &'static str, said: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        level: Level::Warning,
        part,
        said: said.into(),
        fix: Some(fix.into()),
    }
}

fn error(part: &'static str, said: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        level: Level::Error,
        part,
        said: said.into(),
        fix: Some(fix.into()),
    }
}

/// The report as printed: one line per part, the fix indented below it, and a last line.
#[must_use]
pub fn render(report: &[Finding]) -> String {
    let mut out = String::new();
    for f in report {
        out.push_str(&format!(
            "{:<8} {:<12} {}\n",
            f.level.as_str(),
            f.part,
            f.said
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("{:<21} fix: {fix}\n", ""));
        }
    }
    let errors = report.iter().filter(|f| f.level == Level::Error).count();
    let warnings = report.iter().filter(|f| f.level == Level::Warning).count();
    out.push_str(&format!("{errors} error(s), {warnings} warning(s)\n"));
    out
}

/// Runs every check.
pub async fn run(cfg: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let (content, problems) = crate::app::load_content(cfg);
    out.push(if problems.is_empty() {
        ok(
            "content",
            format!(
                "{} flows and {} languages from {} and {}",
                content.flows.current().count(),
                content.catalog.locales().len(),
                cfg.flows_dir.display(),
                cfg.locales_dir.display()
            ),
        )
    } else {
        error(
            "content",
            format!("the flows and locales have {} problem(s)", problems.len()),
            "run `matters flows check` to see each with its file and line",
        )
    });
    let db = database(cfg, &mut out).await;
    out.push(public_url(cfg));
    twilio(cfg, &mut out).await;
    if let Some(db) = &db {
        centre_accounts(cfg, db, &mut out).await;
    }
    telegram(cfg, &mut out).await;
    if let Some(db) = &db {
        centre_bots(cfg, db, &mut out).await;
    }
    out.push(if cfg.centre_name_unset() {
        warning(
            "centre",
            format!(
                "centre_name is not set: clients read \"{}\"",
                cfg.centre_name
            ),
            "set centre_name in matters.toml to the name clients know the centre by",
        )
    } else {
        ok("centre", format!("clients read \"{}\"", cfg.centre_name))
    });
    for l in content.catalog.locales() {
        if content.catalog.meta(&l).map(|m| m.status) == Some(crate::i18n::Status::Draft) {
            out.push(warning(
                "languages",
                format!("{l} is a draft no fluent speaker has checked, and clients can be messaged in it"),
                format!("have locales/{l} reviewed and marked reviewed, or take {l} out of languages"),
            ));
        }
    }
    out.push(ok(
        "languages",
        format!("clients can be messaged in {}", cfg.languages.join(", ")),
    ));
    hours(cfg, &mut out);
    out.push(if crate::ops::retention::is_on(&cfg.retention) {
        ok("retention", "a retention policy is set and applied daily")
    } else {
        warning(
            "retention",
            "no retention policy: message words and closed clients are kept for ever",
            "set [retention] message_body_days and client_years to the centre's policy",
        )
    });
    out.push(match (&cfg.metrics.enabled, &cfg.metrics.listen) {
        (false, _) => ok("metrics", "off"),
        (true, Some(at)) => ok(
            "metrics",
            format!("/metrics on {at}, an address of their own"),
        ),
        (true, None) => ok(
            "metrics",
            "/metrics on the main address ([metrics] listen gives them an address of their own)",
        ),
    });
    if let Some(db) = db {
        alerts(cfg, db, &mut out).await;
    }
    out
}

async fn database(cfg: &Config, out: &mut Vec<Finding>) -> Option<crate::store::Db> {
    let shown = crate::store::redact_url(&cfg.database_url);
    let db = match crate::app::connect(cfg).await {
        Ok(db) => db,
        Err(e) => {
            out.push(error(
                "database",
                format!("{shown}: {e}"),
                "check database_url (MATTERS_DATABASE_URL) and that the database is running",
            ));
            return None;
        }
    };
    match crate::ops::migrations::status(&db).await {
        Ok(s) if !s.unknown.is_empty() => out.push(error(
            "database",
            s.problem(),
            "install the newer matters, or restore the backup taken before the upgrade",
        )),
        Ok(s) if !s.pending.is_empty() => out.push(warning(
            "database",
            format!("{shown}: {} migration(s) pending", s.pending.len()),
            "run `matters migrate` (serve also does it at start)",
        )),
        Ok(s) => out.push(ok(
            "database",
            format!(
                "{shown}: reachable, {} migrations, current",
                s.applied.len()
            ),
        )),
        Err(e) => out.push(error("database", e.to_string(), "check the database")),
    }
    if let Some(f) = db.file() {
        out.push(permissions(f));
    }
    Some(db)
}

/// The database file and its write-ahead log: readable by their owner only.
fn permissions(file: &std::path::Path) -> Finding {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut open = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let mut p = file.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            if let Ok(m) = std::fs::metadata(&p)
                && m.permissions().mode() & 0o077 != 0
            {
                open.push(format!(
                    "{} ({:o})",
                    p.display(),
                    m.permissions().mode() & 0o777
                ));
            }
        }
        if !open.is_empty() {
            return error(
                "files",
                format!("other users can read the database: {}", open.join(", ")),
                format!("chmod 600 {}*", file.display()),
            );
        }
    }
    ok(
        "files",
        format!("{} is readable by its owner only", file.display()),
    )
}

fn public_url(cfg: &Config) -> Finding {
    match cfg.public_url.as_deref() {
        None => warning(
            "public_url",
            "not set: SMS and a Telegram webhook need it, and letters to referrers carry paths instead of links",
            "set public_url (MATTERS_PUBLIC_URL) to the HTTPS address providers and staff reach",
        ),
        Some(u) if u.starts_with("https://") => ok("public_url", u.to_owned()),
        Some(u) => {
            let local = url::Url::parse(u)
                .ok()
                .and_then(|p| p.host_str().map(str::to_owned))
                .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
            if local {
                warning(
                    "public_url",
                    format!("{u} is local: no provider can reach it"),
                    "use the public HTTPS address",
                )
            } else {
                error(
                    "public_url",
                    format!(
                        "{u} is not HTTPS: sign-in cookies and records would cross the network in clear"
                    ),
                    "put matters behind a TLS proxy and set public_url to its https:// address",
                )
            }
        }
    }
}

/// Twilio did not take the credentials (401, or its code 20003).
fn refused_credentials(e: &crate::channel::SendError) -> bool {
    matches!(e, crate::channel::SendError::Provider { http: 401, .. }) || e.code() == Some(20003)
}

async fn twilio(cfg: &Config, out: &mut Vec<Finding>) {
    let t = match crate::channel::twilio::TwilioConfig::from_config(cfg) {
        Err(e) => {
            out.push(error("twilio", e, "set every TWILIO_* setting, or none"));
            return;
        }
        Ok(None) => {
            out.push(ok("twilio", "SMS is off"));
            return;
        }
        Ok(Some(t)) => t,
    };
    let expected = t.webhook_url(crate::web::twilio::SMS_PATH);
    let from = t.from.clone();
    let service = t.messaging_service_sid.is_some();
    let client = match crate::channel::twilio::Client::new(t) {
        Ok(c) => c,
        Err(e) => {
            out.push(error(
                "twilio",
                format!("no HTTP client: {e}"),
                "check the system's TLS roots",
            ));
            return;
        }
    };
    match client.account_status().await {
        Ok(s) if s == "active" => {
            out.push(ok("twilio", "the credentials work; the account is active"))
        }
        Ok(s) => out.push(error(
            "twilio",
            format!("the account is {s}"),
            "reactivate it in Twilio's console: nothing can be sent",
        )),
        Err(e) => {
            let rejected = refused_credentials(&e);
            out.push(if rejected {
                error(
                    "twilio",
                    "Twilio refused the credentials",
                    "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the console (the auth token, not an API key)",
                )
            } else {
                error("twilio", format!("could not read the account: {e}"), "check the network and twilio.api_base")
            });
            return;
        }
    }
    if service {
        out.push(warning(
            "twilio",
            "sending through a messaging service: its numbers' webhooks are set on the service",
            format!(
                "in the console, set the service's incoming messages to {expected} (HTTP POST)"
            ),
        ));
        return;
    }
    let Some(from) = from else { return };
    match client.number_sms_url(&from).await {
        Ok(Some(url)) if url == expected => {
            out.push(ok("twilio", format!("{from} sends incoming texts to {expected}")));
        }
        Ok(Some(url)) => out.push(error(
            "twilio",
            format!(
                "{from} sends incoming texts to {}, not to matters",
                if url.is_empty() { "nowhere" } else { url.as_str() }
            ),
            format!("in the console, set the number's \"A message comes in\" webhook to {expected} (HTTP POST)"),
        )),
        Ok(None) => out.push(error(
            "twilio",
            format!("the account has no number {from}"),
            "set TWILIO_FROM to one of the account's numbers",
        )),
        Err(e) => out.push(warning("twilio", format!("could not read the number: {e}"), "check it in the console")),
    }
}

/// Each centre with a Twilio account of its own: its token file is private and readable, the
/// account takes the token and is active, and its number sends incoming texts to matters.
async fn centre_accounts(cfg: &Config, db: &crate::store::Db, out: &mut Vec<Finding>) {
    let Ok(Some(t)) = crate::channel::twilio::TwilioConfig::from_config(cfg) else {
        return;
    };
    let expected = t.webhook_url(crate::web::twilio::SMS_PATH);
    let centres = match crate::centres::list(db).await {
        Ok(c) => c,
        Err(e) => {
            out.push(warning(
                "twilio",
                format!("could not list the centres: {e}"),
                "see the database finding",
            ));
            return;
        }
    };
    let Ok(client) = crate::channel::twilio::Client::new(t) else {
        return;
    };
    for c in centres {
        let (Some(sid), Some(token_file)) = (c.twilio_account_sid, c.twilio_auth_token_file) else {
            continue;
        };
        if let Err(e) = crate::channel::twilio::read_token_file(&token_file) {
            out.push(error("twilio", format!("{}: {e}", c.name), "write the centre's auth token alone in that file, owned by the service's user, chmod 600"));
            continue;
        }
        let account = crate::domain::OwnAccount { sid, token_file };
        match client.account_status_as(Some(&account)).await {
            Ok(s) if s == "active" => out.push(ok(
                "twilio",
                format!("{}'s own account takes its token and is active", c.name),
            )),
            Ok(s) => {
                out.push(error(
                    "twilio",
                    format!("{}'s own account is {s}", c.name),
                    "reactivate it in Twilio's console: nothing can be sent to its clients",
                ));
                continue;
            }
            Err(e) => {
                let rejected = refused_credentials(&e);
                out.push(if rejected {
                    error(
                        "twilio",
                        format!("Twilio refused {}'s own credentials", c.name),
                        "put the account's auth token (not an API key) in its token file",
                    )
                } else {
                    error(
                        "twilio",
                        format!("could not read {}'s own account: {e}", c.name),
                        "check the network and twilio.api_base",
                    )
                });
                continue;
            }
        }
        let Some(from) = c
            .twilio_from
            .filter(|_| c.twilio_messaging_service.is_none())
        else {
            continue;
        };
        match client.number_sms_url_as(&from, Some(&account)).await {
            Ok(Some(url)) if url == expected => out.push(ok("twilio", format!("{}: {from} sends incoming texts to {expected}", c.name))),
            Ok(Some(url)) => out.push(error(
                "twilio",
                format!("{}: {from} sends incoming texts to {}, not to matters", c.name, if url.is_empty() { "nowhere" } else { url.as_str() }),
                format!("in the centre's console, set the number's \"A message comes in\" webhook to {expected} (HTTP POST)"),
            )),
            Ok(None) => out.push(error("twilio", format!("{}'s own account has no number {from}", c.name), "give the centre one of its account's numbers")),
            Err(e) => out.push(warning("twilio", format!("{}: could not read the number {from}: {e}", c.name), "check it in the console")),
        }
    }
}

/// Each centre with a Telegram bot of its own: its token file is private and readable, and
/// Telegram takes the token.
async fn centre_bots(cfg: &Config, db: &crate::store::Db, out: &mut Vec<Finding>) {
    use teloxide::prelude::Requester;
    let Ok(own) = crate::centres::own_bots(db).await else {
        return;
    };
    let t = match crate::channel::telegram::TelegramConfig::from_config(cfg) {
        Ok(Some(t)) => t,
        _ => {
            if !own.is_empty() {
                out.push(warning(
                    "telegram",
                    format!("{} centre(s) have a bot of their own, which runs only with the deployment's", own.len()),
                    "set TELEGRAM_BOT_TOKEN to the deployment's bot",
                ));
            }
            return;
        }
    };
    for (centre, name, file) in own {
        let token = match crate::config::read_secret_file(&file, "bot token") {
            Ok(token) => token,
            Err(e) => {
                out.push(error("telegram", format!("{name}: {e}"), "write the centre's bot token alone in that file, owned by the service's user, chmod 600"));
                continue;
            }
        };
        match t.for_centre(&centre, token).bot().get_me().await {
            Ok(me) => out.push(ok(
                "telegram",
                format!(
                    "{name}'s own bot is @{}",
                    me.username.clone().unwrap_or_default()
                ),
            )),
            Err(e) => out.push(error(
                "telegram",
                format!(
                    "{name}'s own bot: getMe failed: {}",
                    crate::channel::telegram::describe_error(&e)
                ),
                "put the token @BotFather gave for that centre's bot in its file",
            )),
        }
    }
}

async fn telegram(cfg: &Config, out: &mut Vec<Finding>) {
    use teloxide::prelude::Requester;
    let t = match crate::channel::telegram::TelegramConfig::from_config(cfg) {
        Err(e) => {
            out.push(error("telegram", e, "set the Telegram settings together"));
            return;
        }
        Ok(None) => {
            out.push(ok("telegram", "Telegram is off"));
            return;
        }
        Ok(Some(t)) => t,
    };
    let bot = t.bot();
    match bot.get_me().await {
        Ok(me) => out.push(ok(
            "telegram",
            format!(
                "the token works: the bot is @{}",
                me.username.clone().unwrap_or_default()
            ),
        )),
        Err(e) => {
            out.push(error(
                "telegram",
                format!(
                    "getMe failed: {}",
                    crate::channel::telegram::describe_error(&e)
                ),
                "set TELEGRAM_BOT_TOKEN to the token @BotFather gave",
            ));
            return;
        }
    }
    let info = match bot.get_webhook_info().await {
        Ok(i) => i,
        Err(e) => {
            out.push(warning(
                "telegram",
                format!(
                    "getWebhookInfo failed: {}",
                    crate::channel::telegram::describe_error(&e)
                ),
                "try again; serve sets the webhook at start",
            ));
            return;
        }
    };
    let set = info.url.as_ref().map(ToString::to_string);
    out.push(match (&t.webhook, set) {
        (Some((want, _)), Some(got)) if got == want.as_str() => {
            ok("telegram", format!("the webhook is {want}"))
        }
        (Some((want, _)), got) => warning(
            "telegram",
            format!(
                "Telegram's webhook is {}, not {want}",
                got.as_deref().unwrap_or("unset")
            ),
            "start matters serve: it sets the webhook at start",
        ),
        (None, None) => ok("telegram", "no webhook: serve polls for updates"),
        (None, Some(got)) => warning(
            "telegram",
            format!("a webhook is set ({got}) though matters polls"),
            "start matters serve: polling removes it; or set TELEGRAM_WEBHOOK_URL to use it",
        ),
    });
}

fn hours(cfg: &Config, out: &mut Vec<Finding>) {
    if cfg.time_zone.parse::<chrono_tz::Tz>().is_err() {
        out.push(error(
            "hours",
            format!("time_zone {:?} is not an IANA time zone", cfg.time_zone),
            "set time_zone like America/Toronto",
        ));
        return;
    }
    match crate::schedule::Settings::from_config(&cfg.schedule) {
        Err(e) => out.push(error("hours", e, "fix [schedule] send_between, like 09:00-20:00")),
        Ok(_) if cfg.schedule.send_between.trim() == "always" => out.push(warning(
            "hours",
            "quiet hours are off: scheduled messages may go out at night",
            "set [schedule] send_between, like 09:00-20:00",
        )),
        Ok(_) => out.push(ok(
            "hours",
            format!(
                "scheduled messages go out between {} in each client's time zone (the centre's: {})",
                cfg.schedule.send_between, cfg.time_zone
            ),
        )),
    }
    if cfg.schedule.holidays.is_empty() {
        out.push(warning(
            "hours",
            "no statutory holidays listed: scheduled messages go out on them",
            "list the year's holidays in [schedule] holidays (YYYY-MM-DD)",
        ));
    }
}

async fn alerts(cfg: &Config, db: crate::store::Db, out: &mut Vec<Finding>) {
    if !cfg.alerts.enabled {
        out.push(warning(
            "alerts",
            "off: urgent flags (crisis language) wait on Today until someone looks",
            "set [alerts] enabled = true, with smtp_url or SMS and on-call staff",
        ));
        db.close().await;
        return;
    }
    db.close().await;
    let runner = match crate::app::build(cfg, Arc::new(crate::clock::SystemClock)).await {
        Ok(r) => Arc::new(r),
        Err(e) => {
            out.push(error(
                "alerts",
                format!("cannot check: {e}"),
                "fix the errors above first",
            ));
            return;
        }
    };
    let sms = crate::channel::twilio::TwilioConfig::from_config(cfg)
        .ok()
        .flatten()
        .and_then(|t| crate::channel::twilio::Client::new(t).ok())
        .map(|c| crate::alerts::Sms::new(Arc::new(c)));
    let found = match crate::alerts::Alerter::new(runner.clone(), cfg, sms) {
        Err(e) => error("alerts", e, "fix [alerts]"),
        Ok(a) => match a.check().await {
            Ok(said) => ok("alerts", said),
            Err(e) => error(
                "alerts",
                e,
                "give the on-call staff an email or a phone, or fix [alerts]",
            ),
        },
    };
    out.push(found);
    runner.db.close().await;
}
