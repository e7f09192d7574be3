//! After an alert leaves: acknowledging it (its link, or "OK" from a staff phone), who may open
//! the record because they were alerted, and the alerts as the record and the alert's page show
//! them.

use super::RECENT_MS;
use crate::store::{Db, Doing, StoreError};
use sqlx::Row;

/// Who acknowledged, and how.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    Link,
    Sms,
}

/// Marks an alert acknowledged: it goes no further. Returns the client's id when it was still
/// open (false when it was already acknowledged or closed).
pub async fn acknowledge(
    db: &Db,
    alert: i64,
    staff: &crate::staff::Staff,
    via: Via,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let client: Option<String> = sqlx::query_scalar("SELECT client_id FROM alerts WHERE id = $1")
        .bind(alert)
        .fetch_optional(db.pool())
        .await
        .doing("reading an alert")?;
    let Some(client) = client else {
        return Ok(None);
    };
    let n = sqlx::query(
        "UPDATE alerts SET status = 'acknowledged', acked_at = $1, acked_by = $2, due_at = NULL, updated_at = $1 \
         WHERE id = $3 AND status IN ('pending', 'sent')",
    )
    .bind(now)
    .bind(&staff.username)
    .bind(alert)
    .execute(db.pool())
    .await
    .doing("acknowledging an alert")?
    .rows_affected();
    if n == 1 {
        let how = match via {
            Via::Link => "the link",
            Via::Sms => "a reply OK by text",
        };
        crate::store::record::audit_one(
            db,
            now,
            &staff.actor(),
            "alert-acknowledged",
            Some(&client),
            &format!("alert acknowledged by {how}"),
        )
        .await?;
        return Ok(Some(client));
    }
    Ok(None)
}

/// The staff member who has this phone number, if any: their texts are never a client's.
pub async fn staff_by_phone(
    db: &Db,
    phone: &str,
) -> Result<Option<crate::staff::Staff>, StoreError> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM staff WHERE phone = $1 AND active = 1")
            .bind(phone)
            .fetch_optional(db.pool())
            .await
            .doing("matching a staff phone")?;
    match id {
        Some(id) => crate::staff::by_id(db, id).await,
        None => Ok(None),
    }
}

/// A reply from a staff phone: "OK" acknowledges the latest alert sent to them that is still
/// open. Returns the words to text back.
pub async fn staff_reply(
    db: &Db,
    staff: &crate::staff::Staff,
    text: &str,
    now: i64,
) -> Result<String, StoreError> {
    let fr = staff.language == "fr";
    let word = text
        .trim()
        .trim_end_matches(['.', '!'])
        .to_ascii_uppercase();
    if !matches!(
        word.as_str(),
        "OK" | "OKAY" | "ACK" | "D'ACCORD" | "DACCORD" | "OUI"
    ) {
        return Ok(if fr {
            "matters : ce numéro est celui d'un membre du personnel. Répondez OK pour accuser réception de la dernière alerte.".into()
        } else {
            "matters: this number belongs to a staff member. Reply OK to acknowledge your latest alert.".into()
        });
    }
    let latest: Option<i64> = sqlx::query_scalar(
        "SELECT a.id FROM alerts a JOIN alert_sends s ON s.alert_id = a.id \
         WHERE s.staff_id = $1 AND s.status = 'sent' AND a.status IN ('pending', 'sent') \
         ORDER BY s.at DESC, a.id DESC LIMIT 1",
    )
    .bind(staff.id)
    .fetch_optional(db.pool())
    .await
    .doing("finding the latest alert")?;
    let acked = match latest {
        Some(id) => acknowledge(db, id, staff, Via::Sms, now).await?.is_some(),
        None => false,
    };
    Ok(match (acked, fr) {
        (true, false) => "matters: acknowledged. It goes no further; the task stays on Today until it is done.".into(),
        (true, true) => "matters : c'est noté. L'alerte s'arrête ici; la tâche reste dans Aujourd'hui jusqu'à ce qu'elle soit faite.".into(),
        (false, false) => "matters: no open alert to acknowledge.".into(),
        (false, true) => "matters : aucune alerte en cours à confirmer.".into(),
    })
}

/// Whether a staff member was sent an alert about this client in the last day: they may open
/// the record to act on it, though the client is not theirs.
pub async fn alerted_about(
    db: &Db,
    staff: i64,
    client: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alert_sends s JOIN alerts a ON a.id = s.alert_id \
         WHERE s.staff_id = $1 AND a.client_id = $2 AND s.at > $3",
    )
    .bind(staff)
    .bind(client)
    .bind(now - RECENT_MS)
    .fetch_one(db.pool())
    .await
    .doing("checking an alert's recipients")?;
    Ok(n > 0)
}

/// One alert as the record and the alert's page show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AlertView {
    pub id: i64,
    pub client: String,
    pub kind: String,
    pub status: String,
    pub created_at: i64,
    pub acked_at: Option<i64>,
    pub acked_by: Option<String>,
    pub sends: Vec<SendView>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SendView {
    pub staff: String,
    pub channel: String,
    pub level: i64,
    pub status: String,
    pub at: i64,
}

/// A client's alerts, newest first; or one alert, when `only` is given.
pub async fn views(
    db: &Db,
    client: Option<&str>,
    only: Option<i64>,
) -> Result<Vec<AlertView>, StoreError> {
    let cols = "SELECT id, client_id, kind, status, created_at, acked_at, acked_by FROM alerts";
    let sql = match (client, only) {
        (_, Some(_)) => format!("{cols} WHERE id = $1"),
        (Some(_), None) => format!("{cols} WHERE client_id = $1 ORDER BY id DESC LIMIT 50"),
        (None, None) => format!("{cols} ORDER BY id DESC LIMIT 50"),
    };
    let mut q = sqlx::query(&sql);
    if let Some(id) = only {
        q = q.bind(id);
    } else if let Some(c) = client {
        q = q.bind(c.to_owned());
    }
    let rows = q.fetch_all(db.pool()).await.doing("reading alerts")?;
    let mut out = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get(0).doing("reading an alert")?;
        let sends = sqlx::query(
            "SELECT COALESCE(st.display_name, s.address), s.channel, s.level, s.status, s.at FROM alert_sends s \
             LEFT JOIN staff st ON st.id = s.staff_id WHERE s.alert_id = $1 ORDER BY s.id",
        )
        .bind(id)
        .fetch_all(db.pool())
        .await
        .doing("reading an alert's sends")?
        .iter()
        .map(|s| {
            Ok(SendView {
                staff: s.try_get(0).doing("reading a send")?,
                channel: s.try_get(1).doing("reading a send")?,
                level: s.try_get(2).doing("reading a send")?,
                status: s.try_get(3).doing("reading a send")?,
                at: s.try_get(4).doing("reading a send")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(AlertView {
            id,
            client: r.try_get(1).doing("reading an alert")?,
            kind: r.try_get(2).doing("reading an alert")?,
            status: r.try_get(3).doing("reading an alert")?,
            created_at: r.try_get(4).doing("reading an alert")?,
            acked_at: r.try_get(5).doing("reading an alert")?,
            acked_by: r.try_get(6).doing("reading an alert")?,
            sends,
        });
    }
    Ok(out)
}
