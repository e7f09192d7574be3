//! Everything held about one client, for a request to see it (PHIPA): the record (who they
//! are, consent, referrals, answers, scores, flags, sessions, every message, navigators' notes,
//! conversations), their goals, alerts, sociodemographics when the person exporting may see
//! them, and who has viewed or changed the record. As JSON and as a page a person can read.

use crate::domain::ClientId;
use crate::store::{Db, Doing, StoreError};
use serde_json::{Value, json};
use sqlx::Row;

/// The whole file of `client`, or `None` when there is no such client. The read is audited
/// under `actor` (the record's read; the caller audits the export itself).
pub async fn whole_file(
    db: &Db,
    client: &ClientId,
    actor: &str,
    now: i64,
    with_sociodemographics: bool,
) -> Result<Option<Value>, StoreError> {
    let Some(mut record) = crate::store::record::read(db, client, actor, now).await? else {
        return Ok(None);
    };
    let id = client.as_str();
    let sociodemographics = if with_sociodemographics {
        serde_json::to_value(crate::equity::read(db, id).await?).unwrap_or_default()
    } else {
        for m in record.messages.iter_mut().filter(|m| m.sociodemographic) {
            m.body.clear();
        }
        json!("withheld: exported only by staff allowed to see sociodemographics")
    };
    let alerts = crate::alerts::views(db, Some(id), None).await?;
    let goals = crate::store::goals::of_client(db, id).await?;
    let doing = "reading who viewed the record";
    let access: Vec<Value> =
        sqlx::query("SELECT at, actor, action FROM audit_log WHERE client_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(db.pool())
            .await
            .doing(doing)?
            .iter()
            .map(|r| {
                Ok(json!({
                    "at": crate::clock::from_ms(r.try_get::<i64, _>(0).doing(doing)?).to_rfc3339(),
                    "who": r.try_get::<String, _>(1).doing(doing)?,
                    "what": r.try_get::<String, _>(2).doing(doing)?,
                }))
            })
            .collect::<Result<_, StoreError>>()?;
    Ok(Some(json!({
        "record": record,
        "alerts": alerts,
        "goals": goals,
        "sociodemographics": sociodemographics,
        "access_log": access,
    })))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A field's name as words: `referred_at` → `Referred at`.
fn words(key: &str) -> String {
    let s = key.replace('_', " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => esc(s),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Number(n) => n.to_string(),
        other => esc(&other.to_string()),
    }
}

fn block(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) if items.is_empty() => out.push_str("<p>None.</p>\n"),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut cols: Vec<&String> = Vec::new();
            for i in items {
                for k in i.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !cols.contains(&k) {
                        cols.push(k);
                    }
                }
            }
            out.push_str("<div class=\"wide\"><table>\n<tr>");
            for c in &cols {
                out.push_str(&format!("<th scope=\"col\">{}</th>", esc(&words(c))));
            }
            out.push_str("</tr>\n");
            for i in items {
                out.push_str("<tr>");
                for c in &cols {
                    let cell = i.get(c.as_str()).unwrap_or(&Value::Null);
                    out.push_str("<td dir=\"auto\">");
                    if cell.is_object() || cell.is_array() {
                        block(cell, out);
                    } else {
                        out.push_str(&scalar(cell));
                    }
                    out.push_str("</td>");
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table></div>\n");
        }
        Value::Array(items) => {
            out.push_str("<ul>");
            for i in items {
                out.push_str("<li dir=\"auto\">");
                block(i, out);
                out.push_str("</li>");
            }
            out.push_str("</ul>\n");
        }
        Value::Object(map) if map.is_empty() => out.push_str("<p>None.</p>\n"),
        Value::Object(map) => {
            out.push_str("<dl>\n");
            for (k, v) in map {
                out.push_str(&format!("<dt>{}</dt><dd dir=\"auto\">", esc(&words(k))));
                if v.is_object() || v.is_array() {
                    block(v, out);
                } else {
                    out.push_str(&scalar(v));
                }
                out.push_str("</dd>\n");
            }
            out.push_str("</dl>\n");
        }
        other => {
            out.push_str("<p dir=\"auto\">");
            out.push_str(&scalar(other));
            out.push_str("</p>\n");
        }
    }
}

/// The file as a page a person can read, in English and French headings, with every field.
#[must_use]
pub fn html(file: &Value, client: &str, centre: &str, generated: &str) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Everything {centre} holds about {client}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.4}}.wide{{overflow-x:auto}}table{{border-collapse:collapse}}th,td{{border:1px solid #999;padding:.25rem .5rem;text-align:start;vertical-align:top}}dt{{font-weight:bold}}</style>\n</head>\n<body>\n<h1>Everything {centre} holds about {client}</h1>\n<p lang=\"fr\">Tout ce que {centre} détient à votre sujet.</p>\n<p>Made {generated} for a request to see the record (PHIPA). / Préparé le {generated} pour une demande d'accès au dossier (LPRPS).</p>\n",
        centre = esc(centre),
        client = esc(client),
        generated = esc(generated),
    );
    if let Some(map) = file.as_object() {
        for (k, v) in map {
            out.push_str(&format!("<section>\n<h2>{}</h2>\n", esc(&words(k))));
            if let (Some(inner), true) = (v.as_object(), k == "record") {
                for (k2, v2) in inner {
                    out.push_str(&format!("<h3>{}</h3>\n", esc(&words(k2))));
                    block(v2, &mut out);
                }
            } else {
                block(v, &mut out);
            }
            out.push_str("</section>\n");
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
