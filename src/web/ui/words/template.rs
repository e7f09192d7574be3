//! The template functions that put words on stored values: `label`, `when`, `day`,
//! `lang_name`, `flow_name`, `step_name`, `question`, `option`, `answer_of`, `flag_note`,
//! `job_note`, `audit_detail`, `actor` and `err`, each in the page's language.

use super::{At, Words};
use crate::web::ui::{Content, UiText, lang_of};
use minijinja::{Environment, State, Value};
use std::sync::Arc;

/// A stored time a template hands over: RFC 3339 text or milliseconds.
fn at_of(v: &Value) -> Option<At> {
    if let Some(s) = v.as_str() {
        return At::parse(s);
    }
    i64::try_from(v.clone()).ok().map(At::ms)
}

/// The template functions that put words on stored values (see [`Words`]).
pub(in crate::web::ui) fn register(
    env: &mut Environment<'static>,
    text: &Arc<UiText>,
    content: &Content,
) {
    macro_rules! with_words {
        ($name:literal, |$w:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let text = text.clone();
            let c = content.clone();
            env.add_function($name, move |state: &State $(, $arg: $ty)*| {
                let lang = lang_of(state);
                let $w = Words {
                    ui: &text,
                    catalog: &c.catalog,
                    flows: &c.flows,
                    lang: &lang,
                    tz: c.tz,
                };
                $body
            });
        }};
    }
    with_words!("label", |w, kind: String, value: Option<String>| value
        .map(|v| w.code(&kind, &v))
        .unwrap_or_default());
    with_words!("when", |w, at: Value| at_of(&at)
        .map(|a| w.when(a))
        .unwrap_or_default());
    with_words!("day", |w, at: Value| at_of(&at)
        .map(|a| w.day(a))
        .unwrap_or_default());
    with_words!("lang_name", |w, code: Option<String>| code
        .map(|c| w.language(&c))
        .unwrap_or_default());
    with_words!("flow_name", |w, id: Option<String>| id
        .map(|f| w.flow(&f))
        .unwrap_or_default());
    with_words!(
        "step_name",
        |w, flow: Option<String>, step: String, tp: Option<String>| w.step(
            flow.as_deref(),
            &step,
            tp.as_deref()
        )
    );
    with_words!("question", |w, flow: String, step: String| w
        .question(&flow, &step)
        .unwrap_or_else(|| w.code("step", &step)));
    with_words!("option", |w, value: Option<String>| value
        .map(|v| w.option(&v).unwrap_or(v))
        .unwrap_or_default());
    with_words!("flag_note", |w, kind: String, note: Option<String>| {
        let (text, client) = w.flag_note(&kind, note.as_deref().unwrap_or(""));
        Value::from_serialize(serde_json::json!({ "text": text, "client": client }))
    });
    with_words!("answer_of", |w, value: Option<String>, raw: String| {
        let (text, client) = w.answer(value.as_deref(), &raw);
        Value::from_serialize(serde_json::json!({ "text": text, "client": client }))
    });
    with_words!("job_note", |w, note: Option<String>| note
        .map(|n| w.job_note(&n))
        .unwrap_or_default());
    with_words!(
        "audit_detail",
        |w, action: String, detail: Option<String>| detail
            .map(|d| w.audit_detail(&action, &d))
            .unwrap_or_default()
    );
    with_words!("num", |w, n: Value| w.number(&n.to_string()));
    with_words!("send_err", |w, text: String| w.send_error(&text));
    with_words!("actor", |w, actor: String| w.actor(&actor));
    with_words!("err", |w, text: String| w.error(&text));
}
