//! Building the service from its configuration: the content (locales, safety lexicons, flows),
//! the database, and the runner that ties them to a clock.

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::Locale;
use crate::flow::FlowSet;
use crate::i18n::Catalog;
use crate::problem::{Problem, Problems};
use crate::runner::{Centre, Runner};
use crate::safety::Safety;
use crate::schedule::sequence::SequenceSet;
use crate::store::Db;
use std::sync::Arc;

/// Everything loaded from `flows/` and `locales/`.
#[derive(Debug)]
pub struct Content {
    pub catalog: Arc<Catalog>,
    pub safety: Arc<Safety>,
    pub flows: Arc<FlowSet>,
    pub sequences: Arc<SequenceSet>,
}

/// Loads and validates all content; problems are returned beside whatever did load.
pub fn load_content(cfg: &Config) -> (Content, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut locales = Vec::new();
    for l in &cfg.languages {
        match Locale::parse(l) {
            Ok(l) => locales.push(l),
            Err(e) => problems.push(Problem::new("configuration", 0, format!("languages: {e}"))),
        }
    }
    let default = Locale::parse(&cfg.default_language).unwrap_or_else(|e| {
        problems.push(Problem::new(
            "configuration",
            0,
            format!("default_language: {e}"),
        ));
        Locale::parse("en").unwrap_or_else(|_| unreachable!("en is a language tag"))
    });
    let (catalog, mut p) = Catalog::load(&cfg.locales_dir, &locales, &default);
    problems.append(&mut p);
    let (safety, mut p) = Safety::load(&cfg.locales_dir, &catalog);
    problems.append(&mut p);
    let (flows, mut p) = FlowSet::load(&cfg.flows_dir, &catalog);
    problems.append(&mut p);
    let (sequences, mut p) = SequenceSet::load(&cfg.flows_dir.join("sequences"), &flows);
    problems.append(&mut p);
    for required in crate::runner::SYSTEM_MESSAGES {
        for l in catalog.locales() {
            if !catalog.resolves(&l, required) {
                problems.push(Problem::new(
                    cfg.locales_dir.join(l.as_str()),
                    0,
                    format!("system message {required} is missing in locale {l}"),
                ));
            }
        }
    }
    (
        Content {
            catalog: Arc::new(catalog),
            safety: Arc::new(safety),
            flows: Arc::new(flows),
            sequences: Arc::new(sequences),
        },
        problems,
    )
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the flows and locales have problems:\n{0}")]
    Content(Problems),
    #[error("time_zone {0:?} is not an IANA time zone like America/Toronto")]
    TimeZone(String),
    #[error("{0}")]
    Schedule(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Connects to the configured database, with its acquire timeout.
pub async fn connect(cfg: &Config) -> Result<Db, crate::store::StoreError> {
    Db::connect_with(
        &cfg.database_url,
        cfg.database
            .acquire_timeout_ms
            .map(std::time::Duration::from_millis),
    )
    .await
}

/// Connects to the database, migrates it, and builds a runner on valid content.
pub async fn build(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Runner, BuildError> {
    let (content, problems) = load_content(cfg);
    if !problems.is_empty() {
        return Err(BuildError::Content(Problems(problems)));
    }
    let time_zone = cfg
        .time_zone
        .parse()
        .map_err(|_| BuildError::TimeZone(cfg.time_zone.clone()))?;
    let mut schedule =
        crate::schedule::Settings::from_config(&cfg.schedule).map_err(BuildError::Schedule)?;
    schedule.levels = cfg.support.pairs();
    for (level, seq) in &schedule.levels {
        let known = crate::domain::FlowId::parse(seq)
            .ok()
            .is_some_and(|id| content.sequences.get(&id).is_some());
        if !known {
            let all: Vec<String> = content.sequences.all().map(|s| s.id.to_string()).collect();
            return Err(BuildError::Schedule(format!(
                "support.{level}: there is no sequence {seq:?} (the sequences are: {})",
                all.join(", ")
            )));
        }
    }
    let db = connect(cfg).await?;
    db.migrate().await?;
    crate::centres::sync_default(&db, &default_centre(cfg)).await?;
    let runner = Runner {
        db,
        flows: content.flows,
        catalog: content.catalog,
        safety: content.safety,
        clock,
        centre: Centre {
            name: cfg.centre_name.clone(),
            time_zone,
        },
        sequences: content.sequences,
        schedule: Arc::new(schedule),
        queued: crate::runner::queued_signal(),
        shutdown: crate::shutdown::Shutdown::new(),
        auto_reply_every: chrono::Duration::hours(i64::from(cfg.inbox.auto_reply_hours)),
        conversation_quiet: chrono::Duration::hours(i64::from(
            cfg.inbox.conversation_quiet_hours.max(1),
        )),
        loops: crate::ops::health::Loops::default(),
    };
    runner.register_flows().await?;
    Ok(runner)
}

/// The default centre as today's configuration describes it.
#[must_use]
pub fn default_centre(cfg: &Config) -> crate::centres::NewCentre {
    crate::centres::NewCentre {
        id: crate::centres::DEFAULT.into(),
        name: cfg.centre_name.clone(),
        time_zone: cfg.time_zone.clone(),
        send_between: Some(cfg.schedule.send_between.clone()),
        holidays: cfg.schedule.holidays.clone(),
        languages: cfg.languages.clone(),
        default_language: cfg.default_language.clone(),
        twilio_from: cfg.twilio.from.clone(),
        twilio_messaging_service: cfg.twilio.messaging_service_sid.clone(),
        telegram_bot: None,
        ..Default::default()
    }
}

/// Logs, at start-up, every enabled language whose wording no fluent speaker has checked.
pub fn warn_about_drafts(catalog: &Catalog) {
    for l in catalog.locales() {
        match catalog.meta(&l).map(|m| m.status) {
            Some(crate::i18n::Status::Reviewed) => {}
            Some(crate::i18n::Status::Draft) => tracing::warn!(
                locale = %l,
                "language {l} is turned on but its wording is a draft, not yet checked by a fluent speaker"
            ),
            None => {
                tracing::warn!(locale = %l, "language {l} has no meta.toml: its status is unknown")
            }
        }
    }
}
