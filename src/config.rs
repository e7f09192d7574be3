//! Configuration: defaults, then an optional `matters.toml`, then `MATTERS_*` environment
//! variables. Secrets are never printed: `Debug` redacts them.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://matters.db?mode=rwc` (the default, a file in the working directory) or
    /// `postgres://user@host/db`.
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub listen: String,
    /// The centre's name, as clients know it (in every message that names the sender).
    pub centre_name: String,
    /// The centre's time zone, for clients who have not given theirs.
    pub time_zone: String,
    /// The language of last resort.
    pub default_language: String,
    /// Languages clients may be messaged in (a list, or a comma-separated string).
    #[serde(deserialize_with = "list_or_csv")]
    pub languages: Vec<String>,
    pub flows_dir: PathBuf,
    pub locales_dir: PathBuf,
    /// The base URL providers call (`MATTERS_PUBLIC_URL`), e.g. `https://matters.example.org`.
    /// Twilio's signatures are checked against it, never against the Host header.
    pub public_url: Option<String>,
    /// SMS through Twilio: the `[twilio]` table, or the `TWILIO_*` environment variables.
    pub twilio: TwilioSettings,
    /// Telegram: the `[telegram]` table, or the `TELEGRAM_*` environment variables.
    pub telegram: TelegramSettings,
    /// Follow-up sequences and the scheduler: the `[schedule]` table.
    pub schedule: ScheduleSettings,
    /// `[support]`: the sequence of each level of support.
    pub support: SupportSettings,
    /// The navigator's web interface: the `[web]` table.
    pub web: WebSettings,
    /// The database pool: the `[database]` table.
    pub database: DatabaseSettings,
    /// Sending from the outbox: the `[dispatch]` table.
    pub dispatch: DispatchSettings,
    /// The public simulator channel: the `[simulator]` table.
    pub simulator: SimulatorSettings,
    /// Texts from clients outside any flow: the `[inbox]` table.
    pub inbox: InboxSettings,
    /// `[alerts]`: urgent flags pushed to a person.
    pub alerts: AlertSettings,
    /// `[metrics]`: the Prometheus scrape endpoint.
    pub metrics: MetricsSettings,
    /// `[retention]`: what is purged, and after how long. Off by default.
    pub retention: RetentionSettings,
    /// Seconds a stopping service gives the sends in flight to finish (SIGTERM, Ctrl-C).
    pub shutdown_grace_seconds: u32,
}

/// `GET /metrics`, in Prometheus's text format. It carries counts and timings, never a client's
/// data; still, many centres will not want it public.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// `false`: no metrics are recorded and `/metrics` is 404.
    pub enabled: bool,
    /// An address of its own for `/metrics` (`127.0.0.1:9464`): then the main address has no
    /// `/metrics`. Unset: `/metrics` is on the main address.
    pub listen: Option<String>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
        }
    }
}

/// The centre's retention policy, applied by a daily job. Unset: nothing is ever purged.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// The words of messages (both ways) older than this many days are replaced by a marker;
    /// the answers, scores and de-identified facts drawn from them stay.
    pub message_body_days: Option<u32>,
    /// A client whose referrals all closed more than this many years ago is purged whole:
    /// record, answers, scores, messages. The audit log keeps that it happened, with counts.
    pub client_years: Option<u32>,
}

/// How long a request waits for the database before it is answered 503.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// Milliseconds to wait for a connection. Unset: 1500 on Postgres (a webhook then answers
    /// 503 well within Twilio's 15 s and the provider retries), 30000 on SQLite (one connection,
    /// shared in turn; the file does not go away).
    pub acquire_timeout_ms: Option<u64>,
}

/// The outbox's sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DispatchSettings {
    /// A message claimed for sending and not answered within this many seconds is taken to be
    /// a dead process's: it is *in doubt*, and looked up at the provider before it is sent again.
    /// Keep it above the longest a send can take (the HTTP timeout times the retries).
    pub lease_seconds: u32,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self { lease_seconds: 300 }
    }
}

/// The simulator channel: `/simulator` and its JSON endpoints, for trying flows as a test client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulatorSettings {
    /// `false` turns the public simulator off (404). The navigators' own simulator page stays.
    pub enabled: bool,
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// Texts from clients who are in no flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct InboxSettings {
    /// Such a text gets the auto-reply at most once in this many hours per client; the texts
    /// after it wait, with the first, in one open task for the navigator.
    pub auto_reply_hours: u32,
    /// Such a text opens a conversation with the navigator; it closes by itself after this
    /// many hours without a message either way, and the bot resumes.
    pub conversation_quiet_hours: u32,
}

impl Default for InboxSettings {
    fn default() -> Self {
        Self {
            auto_reply_hours: 24,
            conversation_quiet_hours: 48,
        }
    }
}

/// Urgent flags pushed to a person, by email and SMS, escalated until acknowledged.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertSettings {
    /// Crisis and other urgent flags alert a person. `serve` refuses to start with alerts on
    /// and no one to receive them.
    pub enabled: bool,
    /// The mail server, as a URL: `smtp://host:25` (plain), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://user:password@host:465` (TLS). Unset: no email.
    pub smtp_url: Option<String>,
    /// The sender of alert emails.
    pub from: String,
    /// When staff work, in the centre's time zone (a staff member's own hours win): their
    /// clients' alerts go to them then, and to the on-call list otherwise.
    pub working_hours: String,
    /// A crisis alert not acknowledged within this many minutes goes to the next person.
    pub crisis_escalate_minutes: u32,
    /// Any other urgent flag's alert, likewise.
    pub urgent_escalate_minutes: u32,
    /// Who is on call when: `[[alerts.on_call]] staff = "omar", days = "Sat-Sun", hours =
    /// "00:00-24:00"`. Hours may run past midnight (`17:00-09:00`). Tried in order.
    pub on_call: Vec<OnCall>,
}

/// One on-call shift.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OnCall {
    /// A staff member's user name.
    pub staff: String,
    /// `Mon-Fri`, `Sat,Sun`, `every day`.
    pub days: String,
    /// `17:00-09:00`, `00:00-24:00`.
    pub hours: String,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            smtp_url: None,
            from: "matters <alerts@localhost>".into(),
            working_hours: "Mon-Fri 09:00-17:00".into(),
            crisis_escalate_minutes: 15,
            urgent_escalate_minutes: 30,
            on_call: Vec::new(),
        }
    }
}

impl std::fmt::Debug for AlertSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertSettings")
            .field("enabled", &self.enabled)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(crate::store::redact_url),
            )
            .field("from", &self.from)
            .field("working_hours", &self.working_hours)
            .field("crisis_escalate_minutes", &self.crisis_escalate_minutes)
            .field("urgent_escalate_minutes", &self.urgent_escalate_minutes)
            .field("on_call", &self.on_call)
            .finish()
    }
}

/// Sign-in sessions and their limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebSettings {
    /// A session unused this long ends; the navigator signs in again.
    pub idle_minutes: u32,
    /// Failed sign-ins allowed per user name within `login_window_minutes`.
    pub login_attempts: usize,
    pub login_window_minutes: u32,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            idle_minutes: 30,
            login_attempts: 5,
            login_window_minutes: 15,
        }
    }
}

/// When scheduled messages may go out, and how the scheduler works through due jobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleSettings {
    /// Scheduled messages (sequence steps, nudges) go out only between these local times of
    /// each client; the rest of the day is quiet. `always` turns quiet hours off. A client's own
    /// window, when set, wins.
    pub send_between: String,
    /// Statutory holidays (`YYYY-MM-DD`): nothing scheduled goes out on them.
    pub holidays: Vec<String>,
    /// A step found due more than this many minutes late (the service was down, or the
    /// enrolment paused) follows its catch-up policy: the next open window, or skip.
    pub late_after_minutes: u32,
    /// A claimed job not finished within this many seconds is claimed again (a crashed worker).
    pub lease_seconds: u32,
    /// Jobs claimed at a time.
    pub batch: usize,
    /// Batches worked side by side on Postgres (SQLite has one writer: always one).
    pub workers: usize,
    /// Milliseconds between two looks for due jobs when none are due.
    pub tick_ms: u64,
    /// The parts of the day a client may choose ("what time of day suits you?"): a client who
    /// chose one gets every scheduled step and nudge inside it (and inside the quiet hours).
    pub morning: String,
    pub afternoon: String,
    pub evening: String,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            morning: "09:00-12:00".into(),
            afternoon: "12:00-17:00".into(),
            evening: "17:00-20:00".into(),
            send_between: "09:00-20:00".into(),
            holidays: Vec::new(),
            late_after_minutes: 60,
            lease_seconds: 300,
            batch: 500,
            workers: 4,
            tick_ms: 1000,
        }
    }
}

/// The follow-up each level of support gets: a sequence id per level (the guidebook's spectrum
/// of support). Setting or changing a referral's level enrols the client in its sequence.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SupportSettings {
    pub signposting: String,
    pub light: String,
    pub medium: String,
    pub holistic: String,
}

impl SupportSettings {
    /// `(level, sequence)`, in the guidebook's order.
    #[must_use]
    pub fn pairs(&self) -> Vec<(String, String)> {
        [
            ("signposting", &self.signposting),
            ("light", &self.light),
            ("medium", &self.medium),
            ("holistic", &self.holistic),
        ]
        .into_iter()
        .map(|(l, s)| (l.to_owned(), s.trim().to_owned()))
        .collect()
    }
}

impl Default for SupportSettings {
    fn default() -> Self {
        Self {
            signposting: "signposting".into(),
            light: "light".into(),
            medium: "standard".into(),
            holistic: "holistic".into(),
        }
    }
}

/// A Telegram bot.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TelegramSettings {
    /// From @BotFather: `123456:ABC…`. Unset: no Telegram.
    pub bot_token: Option<String>,
    /// The Bot API (a local stand-in in tests).
    pub api_url: String,
    /// Set: updates come to this public HTTPS URL (`setWebhook` at start-up). Unset: long polling.
    pub webhook_url: Option<String>,
    /// Telegram sends it back in `X-Telegram-Bot-Api-Secret-Token`; required with a webhook.
    pub webhook_secret: Option<String>,
    /// Hours an invite link stays valid.
    pub invite_hours: u32,
    /// Messages a second for the whole bot (Telegram allows about 30).
    pub messages_per_second: f64,
    /// Milliseconds between two messages to one chat (Telegram allows about one a second).
    pub chat_interval_ms: u64,
    /// Tries of one message when Telegram is busy (429), failing (5xx) or unreachable.
    pub max_attempts: u32,
    /// The first wait before a retry; it doubles each time, with jitter.
    pub backoff_ms: u64,
    /// Seconds a long poll waits for updates (at most 15: the HTTP client gives up at 17).
    pub poll_timeout: u32,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        Self {
            bot_token: None,
            api_url: "https://api.telegram.org".into(),
            webhook_url: None,
            webhook_secret: None,
            invite_hours: 72,
            messages_per_second: 30.0,
            chat_interval_ms: 1000,
            max_attempts: 5,
            backoff_ms: 1000,
            poll_timeout: 10,
        }
    }
}

impl std::fmt::Debug for TelegramSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramSettings")
            .field("bot_token", &self.bot_token.as_ref().map(|_| "***"))
            .field("api_url", &self.api_url)
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "***"),
            )
            .field("invite_hours", &self.invite_hours)
            .field("messages_per_second", &self.messages_per_second)
            .finish_non_exhaustive()
    }
}

/// A secret (an auth token): never printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(s: String) -> Self {
        Self(s)
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

/// Reads a secret of a centre's (its Twilio auth token, its Telegram bot's token) from its file:
/// the file must be readable by its owner only (the secret is a password to the centre's
/// account or bot), and hold the secret alone on one line. `what` names it in the errors.
///
/// # Errors
/// What is wrong with the file, in words for an administrator (never its content).
pub fn read_secret_file(path: &str, what: &str) -> Result<Secret, String> {
    let p = std::path::Path::new(path);
    if !p.is_absolute() {
        return Err(format!(
            "the {what} file {path:?} must be given by its full path (from /)"
        ));
    }
    let meta = std::fs::metadata(p)
        .map_err(|e| format!("the {what} file {path:?} cannot be read ({e})"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "the {what} file {path:?} may be read by others: make it its owner's only (chmod 600)"
            ));
        }
    }
    if !meta.is_file() {
        return Err(format!("the {what} file {path:?} is not a file"));
    }
    let text = std::fs::read_to_string(p)
        .map_err(|e| format!("the {what} file {path:?} cannot be read ({e})"))?;
    let token = text.trim();
    if token.is_empty() || token.len() > 256 || token.contains(char::is_whitespace) {
        return Err(format!(
            "the {what} file {path:?} must hold the {what}, alone on one line"
        ));
    }
    Ok(Secret::new(token.to_owned()))
}

/// Compares a secret a caller gave with ours in time that depends on neither: both are hashed
/// first, so where they differ and how long they are do not show.
#[must_use]
pub fn same_secret(given: &str, ours: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(ours.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The kind of number Twilio sends from, which sets its default pace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SenderKind {
    /// A local 10-digit number: 1 segment a second.
    #[default]
    LongCode,
    /// A toll-free number: 3 segments a second.
    TollFree,
    /// A short code: 100 segments a second.
    ShortCode,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TwilioSettings {
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    /// The sender: an E.164 number (or short code), or use `messaging_service_sid`.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    /// Twilio's API (a local stand-in in tests and benchmarks).
    pub api_base: String,
    pub sender_kind: SenderKind,
    /// Overrides the pace of `sender_kind`; 0 sends unpaced.
    pub segments_per_second: Option<f64>,
    /// Seconds a message may wait in Twilio's queue before Twilio gives up on it.
    pub validity_period: Option<u32>,
    /// Tries of one message when Twilio is busy (429/20429), failing (5xx) or unreachable.
    pub max_attempts: u32,
    /// The first wait before a retry; it doubles each time, with jitter.
    pub backoff_ms: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Default for TwilioSettings {
    fn default() -> Self {
        Self {
            account_sid: None,
            auth_token: None,
            from: None,
            messaging_service_sid: None,
            api_base: "https://api.twilio.com".into(),
            sender_kind: SenderKind::LongCode,
            segments_per_second: None,
            validity_period: None,
            max_attempts: 5,
            backoff_ms: 1000,
            concurrency: 8,
        }
    }
}

impl std::fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("api_base", &self.api_base)
            .field("sender_kind", &self.sender_kind)
            .field("segments_per_second", &self.segments_per_second)
            .field("validity_period", &self.validity_period)
            .finish_non_exhaustive()
    }
}

/// The environment variables Twilio's own tools use, and which setting each one sets.
const TWILIO_ENV: &[&str] = &[
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://matters.db?mode=rwc".into(),
            listen: "127.0.0.1:8080".into(),
            centre_name: DEFAULT_CENTRE_NAME.into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            languages: vec!["en".into(), "fr".into()],
            flows_dir: "flows".into(),
            locales_dir: "locales".into(),
            public_url: None,
            twilio: TwilioSettings::default(),
            telegram: TelegramSettings::default(),
            schedule: ScheduleSettings::default(),
            support: SupportSettings::default(),
            alerts: AlertSettings::default(),
            web: WebSettings::default(),
            database: DatabaseSettings::default(),
            dispatch: DispatchSettings::default(),
            simulator: SimulatorSettings::default(),
            inbox: InboxSettings::default(),
            metrics: MetricsSettings::default(),
            retention: RetentionSettings::default(),
            shutdown_grace_seconds: 20,
        }
    }
}

/// What `centre_name` is until a centre sets it: clients would read "Bonjour de la part de the
/// health centre".
pub const DEFAULT_CENTRE_NAME: &str = "the health centre";

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field("listen", &self.listen)
            .field("centre_name", &self.centre_name)
            .field("time_zone", &self.time_zone)
            .field("default_language", &self.default_language)
            .field("languages", &self.languages)
            .field("flows_dir", &self.flows_dir)
            .field("locales_dir", &self.locales_dir)
            .field("public_url", &self.public_url)
            .field("twilio", &self.twilio)
            .field("telegram", &self.telegram)
            .field("schedule", &self.schedule)
            .field("support", &self.support)
            .field("alerts", &self.alerts)
            .field("web", &self.web)
            .field("database", &self.database)
            .field("dispatch", &self.dispatch)
            .field("simulator", &self.simulator)
            .field("inbox", &self.inbox)
            .field("metrics", &self.metrics)
            .field("retention", &self.retention)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .finish()
    }
}

fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// `MATTERS_*` variables that are not configuration keys: read elsewhere, or by the tests.
fn not_a_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    matches!(key.as_str(), "config" | "log" | "log_format" | "commit")
        || key.starts_with("test_")
        || key.starts_with("bench_")
}

/// Every configuration key, dotted (`schedule.send_between`), from the defaults.
fn known_keys() -> Vec<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        let Some(map) = v.as_object() else { return };
        for (k, child) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(path.clone());
            walk(&path, child, out);
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(Config::default()) {
        walk("", &v, &mut out);
    }
    out
}

/// The known key nearest to an unknown one, comparing whole paths and last parts (a key put at
/// the top that belongs in a table is found too).
fn nearest<'a>(unknown: &str, known: &'a [String]) -> Option<&'a str> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_owned();
    known
        .iter()
        .map(|k| {
            let d = strsim::normalized_levenshtein(unknown, k)
                .max(strsim::normalized_levenshtein(&last(unknown), &last(k)));
            (d, k)
        })
        .filter(|(d, _)| *d > 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.as_str())
}

/// Refuses a key the configuration does not have, naming it and the nearest known key.
fn check_key(key: &str, known: &[String], from: &str) -> Result<(), ConfigError> {
    if known.iter().any(|k| k == key) {
        return Ok(());
    }
    let hint = match nearest(key, known) {
        Some(n) => format!("; did you mean `{n}`?"),
        None => String::new(),
    };
    Err(ConfigError(format!(
        "unknown configuration key `{key}` in {from}{hint}"
    )))
}

/// The dotted keys of a TOML table, leaves only (a table's own name is a key too).
fn toml_keys(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => {
                out.push(path.clone());
                toml_keys(&path, inner, out);
            }
            _ => out.push(path),
        }
    }
}

/// Where the installed package puts the shipped flows and locales.
pub const SHARED_CONTENT: &str = "/usr/share/matters";

/// A relative content directory (`flows`, `locales`) that is not in the working directory is
/// looked for where the package installs it: a checkout finds its own, an installed binary the
/// shipped ones.
fn content_dir(dir: &Path) -> PathBuf {
    if dir.is_absolute() || dir.exists() {
        return dir.to_path_buf();
    }
    let shared = Path::new(SHARED_CONTENT).join(dir);
    if shared.is_dir() {
        shared
    } else {
        dir.to_path_buf()
    }
}

impl Config {
    /// Loads the configuration. `file` defaults to `matters.toml` in the working directory, used
    /// only if it exists. A key the configuration does not have, in the file or as a
    /// `MATTERS_*` variable, is an error naming it and the nearest known key.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        let known = known_keys();
        let path = match file {
            Some(f) if !f.exists() => {
                return Err(ConfigError(format!("{} does not exist", f.display())));
            }
            Some(f) => Some(f.to_path_buf()),
            None => Some(PathBuf::from("matters.toml")).filter(|p| p.exists()),
        };
        if let Some(p) = &path {
            let text = std::fs::read_to_string(p)
                .map_err(|e| ConfigError(format!("cannot read {}: {e}", p.display())))?;
            let table: toml::Table =
                toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", p.display())))?;
            let mut keys = Vec::new();
            toml_keys("", &table, &mut keys);
            for k in keys {
                check_key(&k, &known, &p.display().to_string())?;
            }
            fig = fig.merge(Toml::file(p));
        }
        // `MATTERS_SCHEDULE__SEND_BETWEEN` sets `schedule.send_between`.
        let env = Env::prefixed("MATTERS_")
            .filter(|k| !not_a_key(k.as_str()))
            .split("__");
        for (k, _) in env.iter() {
            let var = format!("MATTERS_{}", k.as_str().replace('.', "__").to_uppercase());
            check_key(k.as_str(), &known, &format!("the environment ({var})"))?;
        }
        fig = fig.merge(env);
        let mut cfg: Config = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        // Read as text, as given: figment would take a number like +15145550123 for an integer.
        for name in TWILIO_ENV {
            let Ok(v) = std::env::var(name) else { continue };
            let v = (!v.trim().is_empty()).then(|| v.trim().to_owned());
            let t = &mut cfg.twilio;
            match *name {
                "TWILIO_ACCOUNT_SID" => t.account_sid = v,
                "TWILIO_AUTH_TOKEN" => t.auth_token = v,
                "TWILIO_FROM" => t.from = v,
                "TWILIO_MESSAGING_SERVICE_SID" => t.messaging_service_sid = v,
                _ => {
                    if let Some(v) = v {
                        t.api_base = v;
                    }
                }
            }
        }
        for (name, slot) in [
            ("TELEGRAM_BOT_TOKEN", &mut cfg.telegram.bot_token),
            ("TELEGRAM_WEBHOOK_URL", &mut cfg.telegram.webhook_url),
            ("TELEGRAM_WEBHOOK_SECRET", &mut cfg.telegram.webhook_secret),
        ] {
            if let Ok(v) = std::env::var(name) {
                *slot = (!v.trim().is_empty()).then(|| v.trim().to_owned());
            }
        }
        if let Ok(v) = std::env::var("TELEGRAM_API_URL")
            && !v.trim().is_empty()
        {
            cfg.telegram.api_url = v.trim().to_owned();
        }
        cfg.flows_dir = content_dir(&cfg.flows_dir);
        cfg.locales_dir = content_dir(&cfg.locales_dir);
        Ok(cfg)
    }

    /// Whether the centre still has the placeholder name clients would read.
    #[must_use]
    pub fn centre_name_unset(&self) -> bool {
        self.centre_name.trim().is_empty() || self.centre_name == DEFAULT_CENTRE_NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_database_password() {
        let c = Config {
            database_url: "postgres://matters:hunter2@db/matters".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("matters:***@db"), "{shown}");
        let c = Config {
            twilio: TwilioSettings {
                auth_token: Some("s3cret-token".into()),
                ..TwilioSettings::default()
            },
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let c = Config {
            telegram: TelegramSettings {
                bot_token: Some("123456:bot-s3cret".into()),
                webhook_secret: Some("hook-s3cret".into()),
                ..TelegramSettings::default()
            },
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(format!("{:?}", Secret::new("s3cret".into())) == "***");
    }

    #[test]
    fn an_unknown_key_is_named_with_the_nearest_known_one() {
        let known = known_keys();
        assert!(known.contains(&"schedule.send_between".to_owned()));
        assert!(known.contains(&"twilio.auth_token".to_owned()), "{known:?}");
        let e = check_key("centre_nam", &known, "matters.toml").unwrap_err();
        assert!(e.to_string().contains("`centre_nam`"), "{e}");
        assert!(e.to_string().contains("did you mean `centre_name`"), "{e}");
        // A key put at the top that belongs in a table.
        let e = check_key("send_between", &known, "matters.toml").unwrap_err();
        assert!(e.to_string().contains("`schedule.send_between`"), "{e}");
        let e = check_key("schedule.holiday", &known, "matters.toml").unwrap_err();
        assert!(e.to_string().contains("`schedule.holidays`"), "{e}");
        assert!(check_key("schedule.holidays", &known, "x").is_ok());
        assert!(check_key("web", &known, "x").is_ok());
        assert!(not_a_key("log") && not_a_key("test_postgres_url") && !not_a_key("listen"));
        // As figment hands them over: the variable's name without the prefix, as written.
        assert!(not_a_key("LOG") && not_a_key("TEST_POSTGRES_URL") && not_a_key("LOG_FORMAT"));
    }

    #[test]
    fn languages_accept_a_comma_separated_string() {
        let fig = Figment::from(Serialized::defaults(Config::default()))
            .merge(("languages", "en, fr,es"));
        let c: Config = fig.extract().unwrap();
        assert_eq!(c.languages, vec!["en", "fr", "es"]);
    }
}
