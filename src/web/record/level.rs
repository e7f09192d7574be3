//! Recording the referral from the record: a new level of support changes the follow-up (its
//! sequence), and a change that cancels steps still to come is asked about first.

use crate::domain::ClientId;
use crate::enrolment::support;
use crate::runner::casework::{ReferralUpdate, update_referral};
use crate::web::AppState;
use crate::web::page::{ClientMeta, page_ctx, said};
use crate::web::ui::Auth;
use axum::response::Response;
use minijinja::context;

/// The notice's key and the sequence it names; or the page that asks first.
type Outcome = Result<(&'static str, Option<String>), Response>;

pub(super) async fn referral(
    st: &AppState,
    a: &Auth,
    client: &ClientId,
    meta: &ClientMeta,
    u: &ReferralUpdate,
    confirm: &str,
) -> Result<Outcome, String> {
    let current: Option<String> = sqlx::query_scalar(
        "SELECT support_level FROM referrals WHERE client_id = $1 AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(client.as_str())
    .fetch_optional(st.runner.db.pool())
    .await
    .map_err(|e| e.to_string())?
    .flatten();
    let new_level = u
        .support_level
        .as_deref()
        .filter(|l| Some(*l) != current.as_deref());
    let change = match new_level {
        Some(level) => Some(
            support::plan(&st.runner, client, level)
                .await
                .map_err(|e| said(&e))?,
        ),
        None => None,
    };
    if let Some(c) = &change
        && c.cancels() > 0
        && !c.already
        && !c.opted_out
        && confirm != "yes"
    {
        let w = st.words(a.lang);
        let old: Vec<String> = c.replaces.iter().map(|r| w.code("seq", &r.1)).collect();
        let name = meta.name.clone().unwrap_or_else(|| meta.id.clone());
        let text = w
            .key(
                "support-change-text",
                &[
                    ("level", w.code("level", &c.level)),
                    ("name", name),
                    ("target", w.code("seq", &c.target)),
                    ("n", c.cancels().to_string()),
                    ("old", old.join(", ")),
                ],
            )
            .unwrap_or_default();
        let fields = vec![
            ("referred_by", u.referred_by.clone().unwrap_or_default()),
            ("rx_type", u.rx_type.clone().unwrap_or_default()),
            ("program", u.program.clone().unwrap_or_default()),
            ("support_level", c.level.clone()),
            ("uptake", u.uptake.clone()),
        ];
        return Ok(Err(st.ui.render(
            "confirm.html",
            page_ctx(
                a,
                context! {
                    heading => st.ui.text.get(a.lang, "support-change", None),
                    text => text,
                    action => format!("/clients/{client}/referral"),
                    fields => fields,
                    yes => st.ui.text.get(a.lang, "support-change-yes", None),
                    back => format!("/clients/{client}"),
                },
            ),
        )));
    }
    let actor = a.staff.actor();
    update_referral(&st.runner, client, u, &actor)
        .await
        .map_err(|e| said(&e))?;
    match change {
        Some(c) => match support::apply(&st.runner, client, &c, &actor)
            .await
            .map_err(|e| said(&e))?
        {
            Some(e) => Ok(Ok(("level-set", Some(e.sequence)))),
            None => Ok(Ok(("referral-saved", None))),
        },
        None => Ok(Ok(("referral-saved", None))),
    }
}
