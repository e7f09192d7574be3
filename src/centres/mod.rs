//! Centres: one deployment serves one or more community health centres (issue 21). A centre owns
//! its staff, clients, programs, partners and API tokens; everything else belongs to one of
//! those, so scoping a table to a centre is one join. Today's single-centre configuration is
//! the `default` centre, filled from the configuration at every start.

use crate::domain::{Locale, PhoneNumber};
use crate::store::record::audit;
use crate::store::{Db, Doing, StoreError};
use serde::Serialize;
use sqlx::Row;

mod offer;
mod report;
pub use offer::{ALWAYS_OFFERED, Offer, offer_for_client, offer_of};
pub use report::{GroupReport, group_csv, group_report};

/// The longest a centre may let an alert wait before it goes on to the next people: a day.
pub const MAX_ESCALATE_MINUTES: u32 = 24 * 60;

/// The centre a single-centre deployment is, and the one old rows belong to.
pub const DEFAULT: &str = crate::domain::DEFAULT_CENTRE;

/// A centre: what an administrator gives when adding one, and what is read back (never its
/// pseudonym key, nor its Twilio token, which is in a file).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Centre {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    /// Quiet hours: when texts may go ("09:00-20:00"); none: the deployment's `[schedule]`.
    pub send_between: Option<String>,
    pub holidays: Vec<String>,
    /// Enabled languages; empty: the deployment's.
    pub languages: Vec<String>,
    pub default_language: String,
    pub twilio_from: Option<String>,
    pub twilio_messaging_service: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token_file: Option<String>,
    pub telegram_bot: Option<String>,
    /// The file holding its own Telegram bot's token (readable by the service only); none: the
    /// deployment's bot serves its clients.
    pub telegram_token_file: Option<String>,
    pub alert_email: Option<String>,
    /// Minutes before an unacknowledged crisis alert goes on to the next people; none: the
    /// deployment's `[alerts]` setting.
    pub crisis_escalate_minutes: Option<u32>,
    /// The same for an urgent alert.
    pub urgent_escalate_minutes: Option<u32>,
    /// Agrees to its de-identified figures in the group's report.
    pub shares_figures: bool,
    /// The flows its staff may start (ids); empty: every flow of the deployment. The consent
    /// flow is always offered.
    pub flows: Vec<String>,
    /// The follow-up sequences its staff may enrol clients in; empty: every one.
    pub sequences: Vec<String>,
}

/// A centre to add (or the default centre, from the configuration).
pub type NewCentre = Centre;

#[derive(Debug, thiserror::Error)]
pub enum CentreError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "there is already a centre {0:?}, or its number, messaging service or bot is another centre's"
    )]
    Taken(String),
    #[error("there is no centre {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl NewCentre {
    /// Checks every field; returns it tidied (numbers in E.164, tags canonical).
    pub fn checked(mut self) -> Result<Self, CentreError> {
        let bad = |m: String| Err(CentreError::Invalid(m));
        self.id = self.id.trim().to_lowercase();
        if self.id.is_empty()
            || self.id.len() > 40
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return bad(format!(
                "a centre's code {:?} must be 1 to 40 letters, digits or dashes",
                self.id
            ));
        }
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 120 {
            return bad("a centre needs a name of 1 to 120 characters".into());
        }
        if self.time_zone.trim().parse::<chrono_tz::Tz>().is_err() {
            return bad(format!(
                "time zone {:?} is not an IANA time zone like America/Toronto",
                self.time_zone
            ));
        }
        self.time_zone = self.time_zone.trim().to_owned();
        self.send_between = blank(self.send_between);
        if let Some(h) = &self.send_between {
            crate::schedule::time::OpenHours::parse(h)
                .map_err(|e| CentreError::Invalid(format!("quiet hours: {e}")))?;
        }
        for d in &mut self.holidays {
            *d = d.trim().to_owned();
            crate::schedule::time::parse_date(d)
                .map_err(|e| CentreError::Invalid(format!("holiday: {e}")))?;
        }
        self.holidays.retain(|d| !d.is_empty());
        let mut langs = Vec::new();
        for l in &self.languages {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            let l = Locale::parse(l)
                .map_err(|e| CentreError::Invalid(format!("language {l:?}: {e}")))?;
            langs.push(l.to_string());
        }
        self.languages = langs;
        self.default_language = Locale::parse(self.default_language.trim())
            .map_err(|e| {
                CentreError::Invalid(format!("default language {:?}: {e}", self.default_language))
            })?
            .to_string();
        if !self.languages.is_empty() && !self.languages.contains(&self.default_language) {
            return bad(format!(
                "the default language {} is not one of the centre's languages ({})",
                self.default_language,
                self.languages.join(", ")
            ));
        }
        self.twilio_from = blank(self.twilio_from)
            .map(|n| {
                PhoneNumber::parse(&n)
                    .map(|p| p.to_string())
                    .map_err(|e| CentreError::Invalid(format!("Twilio number {n:?}: {e}")))
            })
            .transpose()?;
        self.twilio_messaging_service = blank(self.twilio_messaging_service);
        if let Some(ms) = &self.twilio_messaging_service
            && !(ms.starts_with("MG") && ms.len() == 34)
        {
            return bad(format!(
                "messaging service {ms:?} is not a Twilio messaging service SID (MG and 32 characters)"
            ));
        }
        // A centre's own Twilio account: its texts go through it, its webhooks are checked
        // with its token. The token stays in a file of its own (readable by its owner only),
        // never in the database.
        self.twilio_account_sid = blank(self.twilio_account_sid);
        self.twilio_auth_token_file = blank(self.twilio_auth_token_file);
        match (&self.twilio_account_sid, &self.twilio_auth_token_file) {
            (None, None) => {}
            (Some(sid), Some(file)) => {
                if !crate::channel::twilio::account_sid_like(sid) {
                    return bad(format!(
                        "Twilio account {sid:?} is not an account SID (AC and 32 hexadecimal digits)"
                    ));
                }
                if self.twilio_from.is_none() && self.twilio_messaging_service.is_none() {
                    return bad(
                        "a centre with a Twilio account of its own needs a number or a messaging service of that account"
                            .into(),
                    );
                }
                crate::channel::twilio::read_token_file(file).map_err(CentreError::Invalid)?;
            }
            (Some(_), None) => {
                return bad(
                    "a centre's own Twilio account needs the file its auth token is in".into(),
                );
            }
            (None, Some(_)) => {
                return bad("an auth token file needs the Twilio account SID it belongs to".into());
            }
        }
        for (what, list) in [("flow", &mut self.flows), ("sequence", &mut self.sequences)] {
            let mut tidy = Vec::new();
            for id in list.iter().map(|x| x.trim()).filter(|x| !x.is_empty()) {
                let id = crate::domain::FlowId::parse(id)
                    .map_err(|e| CentreError::Invalid(format!("{what} {id:?}: {e}")))?
                    .to_string();
                if !tidy.contains(&id) {
                    tidy.push(id);
                }
            }
            *list = tidy;
        }
        self.telegram_bot = blank(self.telegram_bot).map(|b| b.trim_start_matches('@').to_owned());
        self.telegram_token_file = blank(self.telegram_token_file);
        if let Some(file) = &self.telegram_token_file {
            let token =
                crate::config::read_secret_file(file, "bot token").map_err(CentreError::Invalid)?;
            if !crate::channel::telegram::token_like(token.expose()) {
                return bad(format!(
                    "the bot token file {file:?} must hold the token @BotFather gave (123456789:AAE…)"
                ));
            }
        }
        self.alert_email = blank(self.alert_email);
        if let Some(e) = &self.alert_email
            && (!e.contains('@') || e.contains(char::is_whitespace))
        {
            return bad(format!("alert e-mail {e:?} is not an e-mail address"));
        }
        for (what, m) in [
            ("crisis", self.crisis_escalate_minutes),
            ("urgent", self.urgent_escalate_minutes),
        ] {
            if let Some(m) = m
                && !(1..=MAX_ESCALATE_MINUTES).contains(&m)
            {
                return bad(format!(
                    "{what} alerts escalate after {m} minutes: give 1 to {MAX_ESCALATE_MINUTES} (a day)"
                ));
            }
        }
        Ok(self)
    }
}

const COLS: &str = "id, name, time_zone, send_between, holidays, languages, default_language, \
     twilio_from, twilio_messaging_service, twilio_account_sid, twilio_auth_token_file, \
     telegram_bot, alert_email, shares_figures, crisis_escalate_minutes, urgent_escalate_minutes, \
     flows, sequences, telegram_token_file";

pub(super) fn list_of(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

fn minutes(v: Option<i64>) -> Option<u32> {
    v.and_then(|m| u32::try_from(m).ok())
}

fn centre_from(r: &sqlx::any::AnyRow) -> Result<Centre, sqlx::Error> {
    Ok(Centre {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        time_zone: r.try_get("time_zone")?,
        send_between: r.try_get("send_between")?,
        holidays: list_of(&r.try_get::<String, _>("holidays")?),
        languages: list_of(&r.try_get::<String, _>("languages")?),
        default_language: r.try_get("default_language")?,
        twilio_from: r.try_get("twilio_from")?,
        twilio_messaging_service: r.try_get("twilio_messaging_service")?,
        twilio_account_sid: r.try_get("twilio_account_sid")?,
        twilio_auth_token_file: r.try_get("twilio_auth_token_file")?,
        telegram_bot: r.try_get("telegram_bot")?,
        telegram_token_file: r.try_get("telegram_token_file")?,
        alert_email: r.try_get("alert_email")?,
        crisis_escalate_minutes: minutes(r.try_get("crisis_escalate_minutes")?),
        urgent_escalate_minutes: minutes(r.try_get("urgent_escalate_minutes")?),
        shares_figures: r.try_get::<i64, _>("shares_figures")? != 0,
        flows: list_of(&r.try_get::<String, _>("flows")?),
        sequences: list_of(&r.try_get::<String, _>("sequences")?),
    })
}

/// Every centre, the default first.
pub async fn list(db: &Db) -> Result<Vec<Centre>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM centres ORDER BY CASE WHEN id = 'default' THEN 0 ELSE 1 END, name, id"
    ))
    .fetch_all(db.pool())
    .await
    .doing("listing centres")?
    .iter()
    .map(centre_from)
    .collect::<Result<_, _>>()
    .doing("reading centres")
}

pub async fn get(db: &Db, id: &str) -> Result<Option<Centre>, StoreError> {
    sqlx::query(&format!("SELECT {COLS} FROM centres WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .doing("reading a centre")?
        .as_ref()
        .map(centre_from)
        .transpose()
        .doing("reading a centre")
}

/// The default centre takes the configuration's name, time zone, quiet hours, holidays,
/// languages, Twilio sender and bot, at every start: today's configuration keeps working as it
/// is written.
pub async fn sync_default(db: &Db, c: &NewCentre) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE centres SET name = $1, time_zone = $2, send_between = $3, holidays = $4, \
         languages = $5, default_language = $6, twilio_from = $7, twilio_messaging_service = $8, \
         telegram_bot = $9 WHERE id = 'default'",
    )
    .bind(&c.name)
    .bind(&c.time_zone)
    .bind(c.send_between.as_deref())
    .bind(c.holidays.join(","))
    .bind(c.languages.join(","))
    .bind(&c.default_language)
    .bind(c.twilio_from.as_deref())
    .bind(c.twilio_messaging_service.as_deref())
    .bind(c.telegram_bot.as_deref())
    .execute(db.pool())
    .await
    .doing("filling the default centre from the configuration")?;
    Ok(())
}

/// Adds a centre (an administrator of the whole deployment does). It gets its own pseudonym
/// key, so its exports' ids cannot be matched with another centre's.
pub async fn add(db: &Db, c: NewCentre, actor: &str, now: i64) -> Result<Centre, CentreError> {
    let c = c.checked()?;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "INSERT INTO centres (id, name, time_zone, send_between, holidays, languages, default_language, \
         twilio_from, twilio_messaging_service, twilio_account_sid, twilio_auth_token_file, telegram_bot, \
         alert_email, deid_key, shares_figures, created_at, crisis_escalate_minutes, urgent_escalate_minutes, \
         flows, sequences, telegram_token_file) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT DO NOTHING",
    )
    .bind(&c.id)
    .bind(&c.name)
    .bind(&c.time_zone)
    .bind(c.send_between.as_deref())
    .bind(c.holidays.join(","))
    .bind(c.languages.join(","))
    .bind(&c.default_language)
    .bind(c.twilio_from.as_deref())
    .bind(c.twilio_messaging_service.as_deref())
    .bind(c.twilio_account_sid.as_deref())
    .bind(c.twilio_auth_token_file.as_deref())
    .bind(c.telegram_bot.as_deref())
    .bind(c.alert_email.as_deref())
    .bind(crate::staff::new_token())
    .bind(i64::from(c.shares_figures))
    .bind(now)
    .bind(c.crisis_escalate_minutes.map(i64::from))
    .bind(c.urgent_escalate_minutes.map(i64::from))
    .bind(c.flows.join(","))
    .bind(c.sequences.join(","))
    .bind(c.telegram_token_file.as_deref())
    .execute(&mut *tx)
    .await
    .doing("adding a centre")?;
    if done.rows_affected() == 0 {
        return Err(CentreError::Taken(c.id));
    }
    audit(
        &mut tx,
        now,
        actor,
        "centre-add",
        None,
        &format!("{} ({})", c.id, c.name),
    )
    .await?;
    tx.commit().await.doing("committing a centre")?;
    get(db, &c.id)
        .await?
        .ok_or_else(|| CentreError::Unknown(c.id.clone()))
}

/// Whether a centre's de-identified figures go into the group's report.
pub async fn set_sharing(
    db: &Db,
    id: &str,
    shares: bool,
    actor: &str,
    now: i64,
) -> Result<(), CentreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE centres SET shares_figures = $1 WHERE id = $2")
        .bind(i64::from(shares))
        .bind(id)
        .execute(&mut *tx)
        .await
        .doing("setting a centre's sharing")?
        .rows_affected();
    if n == 0 {
        return Err(CentreError::Unknown(id.to_owned()));
    }
    audit(
        &mut tx,
        now,
        actor,
        "centre-sharing",
        None,
        &format!("{id}: {}", if shares { "on" } else { "off" }),
    )
    .await?;
    tx.commit().await.doing("committing a centre's sharing")?;
    Ok(())
}

/// The centres with a Telegram bot of their own: (centre, name, token file).
pub async fn own_bots(db: &Db) -> Result<Vec<(String, String, String)>, StoreError> {
    sqlx::query_as(
        "SELECT id, name, telegram_token_file FROM centres \
         WHERE telegram_token_file IS NOT NULL AND id <> 'default' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .doing("listing the centres' own Telegram bots")
}

/// A centre's own bot answered `getMe` with this user name: invites to it name it.
pub async fn set_bot_username(db: &Db, centre: &str, username: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE centres SET telegram_bot = $1 WHERE id = $2")
        .bind(username)
        .bind(centre)
        .execute(db.pool())
        .await
        .doing("recording a centre's bot")?;
    Ok(())
}

/// The centre whose own bot serves `client` and that bot's user name (none: the deployment's
/// bot serves them).
pub async fn bot_of_client(db: &Db, client: &str) -> Result<Option<(String, String)>, StoreError> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT ce.id, ce.telegram_bot FROM clients c JOIN centres ce ON ce.id = c.centre_id \
         WHERE c.id = $1 AND ce.telegram_token_file IS NOT NULL AND ce.id <> 'default'",
    )
    .bind(client)
    .fetch_optional(db.pool())
    .await
    .doing("finding a client's centre's bot")?;
    Ok(row.map(|(id, bot)| (id, bot.unwrap_or_default())))
}

/// The auth token file of a centre whose own Twilio account is `account`; none: no centre's.
pub async fn token_file_of_account(db: &Db, account: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT twilio_auth_token_file FROM centres WHERE twilio_account_sid = $1 \
         AND twilio_auth_token_file IS NOT NULL ORDER BY id LIMIT 1",
    )
    .bind(account)
    .fetch_optional(db.pool())
    .await
    .doing("finding the centre of a Twilio account")
}

/// The centre a text reached: by the number it was sent to, or the messaging service that
/// carried it. None: no centre has them (the default centre's then, when it is configured so).
pub async fn for_twilio(
    db: &Db,
    to: Option<&str>,
    messaging_service: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let to = to.map(|t| PhoneNumber::parse(t).map_or_else(|_| t.to_owned(), |p| p.to_string()));
    sqlx::query_scalar(
        "SELECT id FROM centres WHERE twilio_from = $1 OR twilio_messaging_service = $2 \
         ORDER BY CASE WHEN twilio_messaging_service = $2 THEN 0 ELSE 1 END LIMIT 1",
    )
    .bind(to)
    .bind(messaging_service)
    .fetch_optional(db.pool())
    .await
    .doing("finding the centre a text reached")
}

/// What a new client of `centre` starts with where nothing else is said: the centre's time
/// zone and default language and, for a centre with quiet hours of its own, its hours as the
/// client's sending window (the default centre's are the deployment's, applied to every client
/// already). `Ok(Err(why))`: the client asks for a language the centre does not offer.
pub async fn new_client_defaults(
    db: &Db,
    centre: &str,
    spec: &mut crate::enrolment::actions::ClientSpec,
) -> Result<Result<(), String>, StoreError> {
    let Some(c) = get(db, centre).await? else {
        return Ok(Ok(()));
    };
    if spec
        .time_zone
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
    {
        spec.time_zone = Some(c.time_zone.clone());
    }
    if spec.language.trim().is_empty() {
        spec.language.clone_from(&c.default_language);
    }
    if !c.languages.is_empty() {
        let asked = Locale::parse(spec.language.trim()).map(|l| l.to_string());
        if let Ok(l) = asked
            && !c.languages.contains(&l)
        {
            return Ok(Err(format!(
                "{} does not offer the language {l}: it offers {}",
                c.name,
                c.languages.join(", ")
            )));
        }
    }
    if c.id != DEFAULT
        && spec
            .send_between
            .as_deref()
            .is_none_or(|t| t.trim().is_empty())
    {
        spec.send_between = c.send_between;
    }
    Ok(Ok(()))
}

/// The languages a centre offers new clients (none: every language of the deployment).
pub async fn languages_of(db: &Db, centre: &str) -> Result<Vec<String>, StoreError> {
    Ok(get(db, centre)
        .await?
        .map(|c| c.languages)
        .unwrap_or_default())
}

/// The centre a client belongs to (none: no such client).
pub async fn of_client(db: &Db, client: &str) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT centre_id FROM clients WHERE id = $1")
        .bind(client)
        .fetch_optional(db.pool())
        .await
        .doing("reading a client's centre")
}

/// A centre's pseudonym key: its own, or the deployment's for the default centre.
pub async fn deid_key(db: &Db, id: &str) -> Result<String, StoreError> {
    let own: Option<Option<String>> =
        sqlx::query_scalar("SELECT deid_key FROM centres WHERE id = $1")
            .bind(id)
            .fetch_optional(db.pool())
            .await
            .doing("reading a centre's key")?;
    match own.flatten() {
        Some(k) => Ok(k),
        None => crate::staff::setting_or_init(db, "pseudonym_key").await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centre() -> NewCentre {
        NewCentre {
            id: "North-End".into(),
            name: " North End CHC ".into(),
            time_zone: "America/Toronto".into(),
            default_language: "fr".into(),
            languages: vec!["en".into(), " fr ".into()],
            twilio_from: Some("(416) 555-0100".into()),
            ..NewCentre::default()
        }
    }

    #[test]
    fn a_centre_is_checked_and_tidied() {
        let c = centre().checked().unwrap();
        assert_eq!(c.id, "north-end");
        assert_eq!(c.name, "North End CHC");
        assert_eq!(c.languages, vec!["en", "fr"]);
        assert!(c.twilio_from.as_deref().unwrap().starts_with('+'));
        for (bad, why) in [
            (
                NewCentre {
                    id: "no spaces".into(),
                    ..centre()
                },
                "code",
            ),
            (
                NewCentre {
                    time_zone: "Toronto".into(),
                    ..centre()
                },
                "time zone",
            ),
            (
                NewCentre {
                    default_language: "es".into(),
                    ..centre()
                },
                "not one of",
            ),
            (
                NewCentre {
                    twilio_messaging_service: Some("MG1".into()),
                    ..centre()
                },
                "messaging service",
            ),
            (
                NewCentre {
                    twilio_account_sid: Some(format!("AC{}", "0".repeat(32))),
                    ..centre()
                },
                "needs the file its auth token is in",
            ),
            (
                NewCentre {
                    twilio_account_sid: Some("AC123".into()),
                    twilio_auth_token_file: Some("/nowhere".into()),
                    ..centre()
                },
                "not an account SID",
            ),
            (
                NewCentre {
                    send_between: Some("nine to five".into()),
                    ..centre()
                },
                "quiet hours",
            ),
        ] {
            let e = bad.checked().unwrap_err().to_string();
            assert!(e.contains(why), "{e:?} should say {why:?}");
        }
    }

    #[test]
    fn a_centres_own_twilio_account_needs_a_private_token_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::i18n::tempdir::Dir::new();
        let file = dir.path().join("north-end.token");
        let path = file.to_str().unwrap().to_owned();
        let own = |file: &str| NewCentre {
            twilio_account_sid: Some(format!("AC{}", "a".repeat(32))),
            twilio_auth_token_file: Some(file.to_owned()),
            ..centre()
        };
        let refused = |c: NewCentre| c.checked().unwrap_err().to_string();
        assert!(refused(own(&path)).contains("cannot be read"));
        std::fs::write(&file, "0123456789abcdef0123456789abcdef\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = refused(own(&path));
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("0123456789abcdef"), "never the token: {e}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(refused(own("north-end.token")).contains("full path"));
        let c = own(&path).checked().unwrap();
        assert_eq!(c.twilio_auth_token_file.as_deref(), Some(path.as_str()));
        assert_eq!(
            crate::channel::twilio::read_token_file(&path)
                .unwrap()
                .expose(),
            "0123456789abcdef0123456789abcdef"
        );
        // Without a number or messaging service of its own, the account has nothing to send from.
        let e = refused(NewCentre {
            twilio_from: None,
            ..own(&path)
        });
        assert!(e.contains("needs a number or a messaging service"), "{e}");
        std::fs::write(&file, "two words\n").unwrap();
        assert!(refused(own(&path)).contains("alone on one line"));
        // A bot token file holds a token @BotFather gave.
        let bot = |file: &str| NewCentre {
            telegram_token_file: Some(file.to_owned()),
            ..centre()
        };
        std::fs::write(&file, "0123456789abcdef0123456789abcdef\n").unwrap();
        let e = refused(bot(&path));
        assert!(
            e.contains("bot token file") && e.contains("@BotFather"),
            "{e}"
        );
        std::fs::write(&file, "123456:AAE-x_y\n").unwrap();
        assert!(bot(&path).checked().is_ok());
    }
}
