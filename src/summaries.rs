//! Word back to the referrer (guidebook: "formal feedback to the referrer"). When a referral's
//! uptake changes or it closes, matters writes a short summary in English and French: the
//! program, the uptake, the barriers the client named, whether they are still going, and each
//! measure from baseline to latest with whether that is better or worse. At the medium and
//! holistic levels it goes at once; otherwise it waits for a navigator's review. The referrer's
//! system reads the latest sent one as its Task's `output`; the record lists them; a printable
//! bilingual letter is one click away.

use crate::domain::Locale;
use crate::i18n::{Catalog, Vars};
use crate::store::{Db, Doing, StoreError, Tx};
use sqlx::Row;

/// The levels of support whose summaries go without review, until an administrator chooses:
/// the guidebook's medium and holistic levels ask for formal feedback to the referrer.
pub const AUTOMATIC: [&str; 2] = ["medium", "holistic"];

/// Where an administrator's choice is kept: the levels that go without review, comma-separated.
const AUTOMATIC_KEY: &str = "summaries.automatic";

/// The levels of support whose summaries go without review.
pub async fn automatic_levels(tx: &mut Tx) -> Result<Vec<String>, StoreError> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(AUTOMATIC_KEY)
        .fetch_optional(&mut **tx)
        .await
        .doing("reading a setting")?;
    Ok(match v {
        Some(v) => v
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        None => AUTOMATIC.iter().map(|l| (*l).to_owned()).collect(),
    })
}

/// An administrator chooses the levels whose summaries go without review. Audited.
pub async fn set_automatic_levels(
    db: &Db,
    levels: &[String],
    now: i64,
    actor: &str,
) -> Result<(), StoreError> {
    let mut chosen: Vec<&str> = crate::domain::SUPPORT_LEVELS
        .into_iter()
        .filter(|l| levels.iter().any(|x| x == l))
        .collect();
    chosen.dedup();
    let value = chosen.join(",");
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(AUTOMATIC_KEY)
    .bind(&value)
    .execute(&mut *tx)
    .await
    .doing("saving a setting")?;
    crate::store::record::audit(
        &mut tx,
        now,
        actor,
        "summaries-setting",
        None,
        &format!("summaries go without review at {} levels", chosen.len()),
    )
    .await?;
    tx.commit().await.doing("saving a setting")
}

/// Lower is better for these measures; higher for the rest.
const LOWER_IS_BETTER: [&str; 2] = ["ucla3", "ons4-anxious"];

/// One summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub id: i64,
    pub referral_id: i64,
    pub event: String,
    pub status: String,
    pub text_en: String,
    pub text_fr: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub sent_by: Option<String>,
}

struct Facts {
    client: String,
    program: Option<String>,
    /// The catalogue program's name in each language, when it is one.
    program_names: Vec<(String, String)>,
    referred_by: Option<String>,
    uptake: String,
    closing: Option<String>,
    level: Option<String>,
    barriers: Vec<String>,
    /// (instrument, baseline, latest, latest time point)
    scores: Vec<(String, i64, i64, String)>,
    /// The goals set for this referral, and how many are met.
    goals: (i64, i64),
}

async fn facts(tx: &mut Tx, referral: i64) -> Result<Option<Facts>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT client_id, program, referred_by, uptake, closing_reason, support_level, referred_at, program_id FROM referrals WHERE id = $1",
    )
    .bind(referral)
    .fetch_optional(&mut **tx)
    .await
    .doing("reading a referral")?
    else {
        return Ok(None);
    };
    let g = |e: sqlx::Error| StoreError::Query {
        doing: "reading a referral",
        source: e,
    };
    let client: String = r.try_get(0).map_err(g)?;
    let referred_at: i64 = r.try_get(6).map_err(g)?;
    let program_id: Option<i64> = r.try_get(7).map_err(g)?;
    let program_names: Vec<(String, String)> = match program_id {
        Some(p) => sqlx::query_as("SELECT language, name FROM program_texts WHERE program_id = $1")
            .bind(p)
            .fetch_all(&mut **tx)
            .await
            .doing("reading a program's names")?,
        None => Vec::new(),
    };
    let barriers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT value FROM answers WHERE client_id = $1 AND record_key = 'referral.barrier' \
         AND status = 'answered' AND value IS NOT NULL AND at >= $2",
    )
    .bind(&client)
    .bind(referred_at)
    .fetch_all(&mut **tx)
    .await
    .doing("reading barriers")?;
    let rows = sqlx::query(
        "SELECT instrument, time_point, total FROM scores WHERE referral_id = $1 AND complete = 1 AND total IS NOT NULL ORDER BY id",
    )
    .bind(referral)
    .fetch_all(&mut **tx)
    .await
    .doing("reading scores")?;
    let mut scores: Vec<(String, i64, i64, String)> = Vec::new();
    for s in &rows {
        let inst: String = s.try_get(0).map_err(g)?;
        let tp: Option<String> = s.try_get(1).map_err(g)?;
        let total: i64 = s.try_get(2).map_err(g)?;
        match scores.iter_mut().find(|x| x.0 == inst) {
            Some(x) if tp.as_deref() != Some("baseline") => {
                x.2 = total;
                x.3 = tp.unwrap_or_default();
            }
            Some(_) => {}
            None if tp.as_deref() == Some("baseline") => {
                scores.push((inst, total, total, "baseline".into()));
            }
            None => {}
        }
    }
    scores.retain(|s| s.3 != "baseline");
    let goals: (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), SUM(CASE WHEN status = 'met' THEN 1 ELSE 0 END) FROM goals WHERE referral_id = $1",
    )
    .bind(referral)
    .fetch_one(&mut **tx)
    .await
    .doing("reading goals")?;
    Ok(Some(Facts {
        goals: (goals.0, goals.1.unwrap_or(0)),
        client,
        program: r.try_get(1).map_err(g)?,
        program_names,
        referred_by: r.try_get(2).map_err(g)?,
        uptake: r.try_get(3).map_err(g)?,
        closing: r.try_get(4).map_err(g)?,
        level: r.try_get(5).map_err(g)?,
        barriers,
        scores,
    }))
}

fn words(f: &Facts, lang: &str, catalog: &Catalog) -> String {
    let fr = lang == "fr";
    let locale = Locale::parse(lang).unwrap_or_else(|_| catalog.default_locale().clone());
    let option = |v: &str| {
        catalog
            .format(&locale, &format!("opt-{v}"), &Vars::new())
            .unwrap_or_else(|_| v.to_owned())
    };
    let named = f
        .program_names
        .iter()
        .find(|(l, _)| l == lang)
        .or_else(|| f.program_names.iter().find(|(l, _)| l == "en"))
        .map(|(_, n)| n.clone());
    let program = named.or_else(|| f.program.clone()).unwrap_or_else(|| {
        if fr {
            "le programme proposé"
        } else {
            "the program suggested"
        }
        .to_owned()
    });
    let mut out = Vec::new();
    out.push(match (fr, f.referred_by.as_deref()) {
        (false, Some(by)) => format!("Referral by {by} to {program}."),
        (false, None) => format!("Referral to {program}."),
        (true, Some(by)) => format!("Orientation par {by} vers {program}."),
        (true, None) => format!("Orientation vers {program}."),
    });
    out.push(match (fr, f.uptake.as_str()) {
        (false, "attended") => "The client went to the program.".into(),
        (false, "declined") => "The client decided not to go.".into(),
        (false, "dropped-out") => "The client went, then stopped going.".into(),
        (false, _) => "The client has not gone yet.".into(),
        (true, "attended") => "La personne a participé au programme.".into(),
        (true, "declined") => "La personne a décidé de ne pas y aller.".into(),
        (true, "dropped-out") => "La personne y est allée, puis a arrêté.".into(),
        (true, _) => "La personne n'y est pas encore allée.".to_owned(),
    });
    let still = f.uptake == "attended" && f.closing.is_none();
    out.push(match (fr, still) {
        (false, true) => "They are still going.".into(),
        (true, true) => "Elle y va toujours.".into(),
        (false, false) => "They are not going at present.".into(),
        (true, false) => "Elle n'y va pas actuellement.".into(),
    });
    if !f.barriers.is_empty() {
        let b: Vec<String> = f
            .barriers
            .iter()
            .map(|v| option(v).to_lowercase())
            .collect();
        out.push(if fr {
            format!("Obstacles nommés : {}.", b.join(", "))
        } else {
            format!("Barriers they named: {}.", b.join(", "))
        });
    }
    for (inst, base, latest, tp) in &f.scores {
        let name = match (inst.as_str(), fr) {
            ("ucla3", false) => "Loneliness (UCLA-3, 3 to 9)".to_owned(),
            ("ucla3", true) => "Solitude (UCLA-3, de 3 à 9)".to_owned(),
            ("ons4-life-satisfaction", false) => "Life satisfaction (0 to 10)".to_owned(),
            ("ons4-life-satisfaction", true) => {
                "Satisfaction à l'égard de la vie (0 à 10)".to_owned()
            }
            ("ons4-worthwhile", false) => "Things done are worthwhile (0 to 10)".to_owned(),
            ("ons4-worthwhile", true) => {
                "Sentiment que ce qu'on fait vaut la peine (0 à 10)".to_owned()
            }
            ("ons4-happy", false) => "Happiness (0 to 10)".to_owned(),
            ("ons4-happy", true) => "Bonheur (0 à 10)".to_owned(),
            ("ons4-anxious", false) => "Anxiety (0 to 10)".to_owned(),
            ("ons4-anxious", true) => "Anxiété (0 à 10)".to_owned(),
            (other, _) => other.to_owned(),
        };
        let lower_better = LOWER_IS_BETTER.contains(&inst.as_str());
        let verdict = match (latest.cmp(base), lower_better, fr) {
            (std::cmp::Ordering::Equal, _, false) => "no change",
            (std::cmp::Ordering::Equal, _, true) => "aucun changement",
            (std::cmp::Ordering::Less, true, false)
            | (std::cmp::Ordering::Greater, false, false) => "better",
            (std::cmp::Ordering::Less, true, true) | (std::cmp::Ordering::Greater, false, true) => {
                "mieux"
            }
            (_, _, false) => "worse",
            (_, _, true) => "moins bien",
        };
        let when = match (tp.as_str(), fr) {
            ("3-month", false) => "at 3 months",
            ("3-month", true) => "à 3 mois",
            ("6-month", false) => "at 6 months",
            ("6-month", true) => "à 6 mois",
            (_, false) => "latest",
            (_, true) => "le plus récent",
        };
        out.push(if fr {
            format!("{name} : {base} au départ, {latest} {when} ({verdict}).")
        } else {
            format!("{name}: {base} at baseline, {latest} {when} ({verdict}).")
        });
    }
    let (set, met) = f.goals;
    if set > 0 {
        out.push(if fr {
            format!("Objectifs fixés avec la personne : {set}; atteints : {met}.")
        } else {
            format!("Goals set with the client: {set}; met: {met}.")
        });
    }
    if let Some(c) = &f.closing {
        out.push(match (fr, c.as_str()) {
            (false, "goal-met") => "The referral is closed: the client's goal is met.".into(),
            (true, "goal-met") => "L'orientation est fermée : l'objectif est atteint.".into(),
            (false, _) => format!("The referral is closed: {}.", closing_words(c, false)),
            (true, _) => format!("L'orientation est fermée : {}.", closing_words(c, true)),
        });
    }
    out.join(" ")
}

fn closing_words(c: &str, fr: bool) -> &'static str {
    match (c, fr) {
        ("attended", false) => "the client attended",
        ("attended", true) => "la personne a participé",
        ("declined", false) => "the client declined",
        ("declined", true) => "la personne a refusé",
        ("no-contact", false) => "the client could not be reached",
        ("no-contact", true) => "la personne n'a pas pu être jointe",
        ("moved", false) => "the client moved away",
        ("moved", true) => "la personne a déménagé",
        ("referred-elsewhere", false) => "the client was referred elsewhere",
        ("referred-elsewhere", true) => "la personne a été orientée ailleurs",
        (_, false) => "for another reason",
        (_, true) => "pour une autre raison",
    }
}

/// Writes a summary of the referral now, inside the caller's transaction: sent at once at the
/// medium and holistic levels, else a draft for review. Returns its id.
pub async fn write(
    tx: &mut Tx,
    catalog: &Catalog,
    referral: i64,
    event: &str,
    now: i64,
    actor: &str,
) -> Result<Option<i64>, StoreError> {
    let Some(f) = facts(tx, referral).await? else {
        return Ok(None);
    };
    let automatic = automatic_levels(tx).await?;
    let auto = f
        .level
        .as_deref()
        .is_some_and(|l| automatic.iter().any(|a| a == l));
    let (en, fr) = (words(&f, "en", catalog), words(&f, "fr", catalog));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referrer_summaries (referral_id, event, status, text_en, text_fr, created_at, sent_at, sent_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(referral)
    .bind(event)
    .bind(if auto { "sent" } else { "draft" })
    .bind(&en)
    .bind(&fr)
    .bind(now)
    .bind(auto.then_some(now))
    .bind(auto.then_some("automatic"))
    .fetch_one(&mut **tx)
    .await
    .doing("writing a referrer summary")?;
    let client = crate::domain::ClientId::parse(&f.client).ok();
    crate::store::record::audit(
        tx,
        now,
        actor,
        "summary-write",
        client.as_ref(),
        &format!(
            "summary {id} of referral {referral} ({event}), {}",
            if auto { "sent" } else { "for review" }
        ),
    )
    .await?;
    Ok(Some(id))
}

/// A referral's summaries, newest first.
pub async fn of_referral(db: &Db, referral: i64) -> Result<Vec<Summary>, StoreError> {
    read(db, "WHERE referral_id = $1 ORDER BY id DESC", referral).await
}

/// One summary.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<Summary>, StoreError> {
    Ok(read(db, "WHERE id = $1", id).await?.pop())
}

async fn read(db: &Db, filter: &str, bind: i64) -> Result<Vec<Summary>, StoreError> {
    let sql = format!(
        "SELECT id, referral_id, event, status, text_en, text_fr, created_at, sent_at, sent_by FROM referrer_summaries {filter}"
    );
    sqlx::query(&sql)
        .bind(bind)
        .fetch_all(db.pool())
        .await
        .doing("reading referrer summaries")?
        .iter()
        .map(|r| {
            Ok(Summary {
                id: r.try_get(0)?,
                referral_id: r.try_get(1)?,
                event: r.try_get(2)?,
                status: r.try_get(3)?,
                text_en: r.try_get(4)?,
                text_fr: r.try_get(5)?,
                created_at: r.try_get(6)?,
                sent_at: r.try_get(7)?,
                sent_by: r.try_get(8)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .doing("reading referrer summaries")
}

/// A navigator sends a draft after review. False when it was not a draft.
pub async fn send(
    db: &Db,
    id: i64,
    client: &crate::domain::ClientId,
    now: i64,
    actor: &str,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE referrer_summaries SET status = 'sent', sent_at = $1, sent_by = $2 WHERE id = $3 AND status = 'draft' \
         AND referral_id IN (SELECT r.id FROM referrals r WHERE r.client_id = $4)",
    )
    .bind(now)
    .bind(actor)
    .bind(id)
    .bind(client.as_str())
    .execute(&mut *tx)
    .await
    .doing("sending a summary")?
    .rows_affected();
    if n > 0 {
        crate::store::record::audit(
            &mut tx,
            now,
            actor,
            "summary-send",
            Some(client),
            &format!("summary {id} reviewed and sent"),
        )
        .await?;
    }
    tx.commit().await.doing("sending a summary")?;
    Ok(n > 0)
}

/// The latest summary sent for a referral, for its Task's output.
pub async fn latest_sent(db: &Db, referral: i64) -> Result<Option<Summary>, StoreError> {
    Ok(read(
        db,
        "WHERE referral_id = $1 AND status = 'sent' ORDER BY id DESC LIMIT 1",
        referral,
    )
    .await?
    .pop())
}

/// Writes the summary of each referral whose 6-month outcome is in: it has a 6-month score, and
/// none of its 6-month steps is still to run or running. Once per referral. Returns how many.
pub async fn sweep_outcomes(db: &Db, catalog: &Catalog, now: i64) -> Result<usize, StoreError> {
    let ready: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT s.referral_id FROM scores s WHERE s.time_point = '6-month' AND s.referral_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM referrer_summaries x WHERE x.referral_id = s.referral_id AND x.event = 'outcome') \
         AND NOT EXISTS (SELECT 1 FROM jobs j JOIN enrolments e ON e.id = j.enrolment_id WHERE e.referral_id = s.referral_id \
                         AND j.time_point = '6-month' AND j.status IN ('pending', 'blocked', 'running', 'paused')) \
         AND NOT EXISTS (SELECT 1 FROM sessions a WHERE a.referral_id = s.referral_id AND a.status = 'active' AND a.time_point = '6-month') \
         ORDER BY s.referral_id",
    )
    .fetch_all(db.pool())
    .await
    .doing("finding 6-month outcomes")?;
    let mut n = 0;
    for referral in ready {
        let mut tx = db.begin().await?;
        // Another process may have written it since.
        let done: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM referrer_summaries WHERE referral_id = $1 AND event = 'outcome'",
        )
        .bind(referral)
        .fetch_optional(&mut *tx)
        .await
        .doing("finding 6-month outcomes")?;
        if done.is_none()
            && write(&mut tx, catalog, referral, "outcome", now, "system")
                .await?
                .is_some()
        {
            n += 1;
        }
        tx.commit().await.doing("writing a referrer summary")?;
    }
    Ok(n)
}

/// Runs in `serve`: every minute, the word back on 6-month outcomes and the reminders of
/// programs' sessions.
pub fn spawn(runner: std::sync::Arc<crate::runner::Runner>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut stop = runner.shutdown.signal();
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.wait() => return,
                _ = every.tick() => {}
            }
            let now = crate::clock::to_ms(runner.clock.now());
            if let Err(e) = sweep_outcomes(&runner.db, &runner.catalog, now).await {
                tracing::error!(error = %e, "writing 6-month summaries failed; it tries again in a minute");
            }
            if let Err(e) = crate::programs::reminders::sweep(&runner).await {
                tracing::error!(error = %e, "sending programs' reminders failed; it tries again in a minute");
            }
        }
    })
}
