//! The flow file format (TOML) and its parsing into a [`Flow`] whose steps are typed. Wording is
//! never in a flow file: every text is a Fluent message id.

use crate::domain::{FlowId, StepId};
use crate::problem::Problem;
use chrono::Duration;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The flow file format this build understands.
pub const SPEC_VERSION: u32 = 1;
/// How many times an invalid answer is re-prompted before the fallback, unless a step says.
pub const DEFAULT_MAX_ATTEMPTS: u8 = 3;
/// How long an ask waits for an answer before its nudge (then the navigator), unless it says.
pub const DEFAULT_TIMEOUT_HOURS: i64 = 48;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    id: Spanned<String>,
    spec_version: Spanned<u32>,
    #[serde(default)]
    instrument: Option<String>,
    #[serde(default, rename = "score")]
    scores: Vec<RawScore>,
    #[serde(rename = "step")]
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScore {
    id: Spanned<String>,
    kind: String,
    items: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    say: Option<String>,
    ask: Option<String>,
    answer: Option<RawAnswer>,
    record: Option<String>,
    score: Option<BTreeMap<String, i64>>,
    timeout: Option<String>,
    #[serde(default)]
    nudges: Vec<String>,
    max_attempts: Option<u8>,
    on_invalid: Option<String>,
    branch: Option<BTreeMap<String, String>>,
    #[serde(default)]
    consent: bool,
    set: Option<String>,
    value: Option<String>,
    branch_on: Option<String>,
    cases: Option<BTreeMap<String, String>>,
    default: Option<String>,
    flag: Option<String>,
    urgency: Option<String>,
    note: Option<String>,
    end: Option<String>,
    goto: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    choice: Option<Vec<String>>,
    #[serde(default)]
    yes_no: bool,
    scale: Option<[i64; 2]>,
    #[serde(default)]
    text: bool,
    #[serde(default)]
    date: bool,
    #[serde(default)]
    language: bool,
}

/// What kind of answer an ask takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerKind {
    /// One of these canonical option ids; labels are the messages `opt-<id>`.
    Choice(Vec<String>),
    YesNo,
    Scale {
        min: i64,
        max: i64,
    },
    Text,
    Date,
    /// One of the enabled languages.
    Language,
}

impl AnswerKind {
    /// The canonical options a client picks from, where the kind has a fixed list.
    #[must_use]
    pub fn options(&self) -> Vec<String> {
        match self {
            AnswerKind::Choice(o) => o.clone(),
            AnswerKind::YesNo => vec!["yes".into(), "no".into()],
            _ => Vec::new(),
        }
    }
}

/// How urgent a flag is for the navigator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Urgent,
    Normal,
}

impl Urgency {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::Normal => "normal",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ask {
    pub message: String,
    pub answer: AnswerKind,
    pub record: Option<String>,
    pub score: BTreeMap<String, i64>,
    pub timeout: Option<Duration>,
    pub nudges: Vec<String>,
    pub max_attempts: u8,
    pub on_invalid: Option<StepId>,
    /// Canonical answer → step; `_` for any other answer (and a skip).
    pub branch: BTreeMap<String, StepId>,
    /// The yes/no of this ask is the client's consent to be messaged.
    pub consent: bool,
    /// Raise a navigator flag of this kind carrying the answer.
    pub flag: Option<String>,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Say {
        message: String,
    },
    Ask(Box<Ask>),
    Set {
        key: String,
        value: String,
    },
    Branch {
        on: StepId,
        cases: BTreeMap<String, StepId>,
        default: Option<StepId>,
    },
    Flag {
        kind: String,
        urgency: Urgency,
        note: Option<String>,
    },
    End {
        outcome: String,
    },
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: StepId,
    pub line: usize,
    pub kind: StepKind,
    pub goto: Option<StepId>,
}

/// How answers combine into an instrument score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreKind {
    /// The sum of the items' scores.
    Sum,
    /// The canonical answer of a single item, reported as a category.
    Category,
}

#[derive(Debug, Clone)]
pub struct ScoreDef {
    pub id: String,
    pub kind: ScoreKind,
    pub items: Vec<StepId>,
}

/// A parsed flow, pinned to the revision (hash) of its file.
#[derive(Debug, Clone)]
pub struct Flow {
    pub id: FlowId,
    pub revision: String,
    pub file: PathBuf,
    pub source: String,
    pub instrument: Option<String>,
    pub steps: Vec<Step>,
    pub scores: Vec<ScoreDef>,
    index: HashMap<StepId, usize>,
}

impl Flow {
    #[must_use]
    pub fn position(&self, id: &StepId) -> Option<usize> {
        self.index.get(id).copied()
    }

    #[must_use]
    pub fn step(&self, id: &StepId) -> Option<&Step> {
        self.position(id).map(|i| &self.steps[i])
    }

    /// Every message id the flow uses, with the line that uses it.
    #[must_use]
    pub fn message_ids(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for s in &self.steps {
            match &s.kind {
                StepKind::Say { message } => out.push((message.clone(), s.line)),
                StepKind::Ask(a) => {
                    out.push((a.message.clone(), s.line));
                    out.extend(a.nudges.iter().map(|n| (n.clone(), s.line)));
                    out.extend(
                        a.answer
                            .options()
                            .iter()
                            .map(|o| (option_message(o), s.line)),
                    );
                }
                StepKind::Flag { note: Some(n), .. } => out.push((n.clone(), s.line)),
                _ => {}
            }
        }
        out
    }
}

/// The Fluent message holding an option's label (and its `.synonyms`).
#[must_use]
pub fn option_message(option: &str) -> String {
    format!("opt-{option}")
}

/// A revision id: the first 12 hex digits of the SHA-256 of the file.
#[must_use]
pub fn revision_of(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Parses a duration like `48h`, `30m`, `2d`, `1w`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 48h, 30m, 2d or 1w"))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        _ => return Err(format!("{s:?} is not a duration like 48h, 30m, 2d or 1w")),
    };
    if n == 0 {
        return Err(format!("{s:?} is zero"));
    }
    Ok(d)
}

/// A TOML file read into `T`, or its syntax problem with its line.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(
    file: &Path,
    source: &str,
) -> Result<T, Vec<Problem>> {
    toml::from_str(source).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        vec![Problem::at(
            file,
            source,
            offset,
            e.message().trim().to_owned(),
        )]
    })
}

/// The `id` and `spec_version` a flow or sequence file starts with: the id, and the problems of a
/// spec_version this build does not read or an id that is not the file's name.
pub(crate) fn header(
    file: &Path,
    source: &str,
    id: &Spanned<String>,
    spec_version: &Spanned<u32>,
    supported: u32,
    what: &str,
) -> Result<(FlowId, Vec<Problem>), Vec<Problem>> {
    let at = |offset: usize, reason: String| Problem::at(file, source, offset, reason);
    let parsed =
        FlowId::parse(id.get_ref()).map_err(|e| vec![at(id.span().start, e.to_string())])?;
    let mut problems = Vec::new();
    if *spec_version.get_ref() != supported {
        problems.push(at(
            spec_version.span().start,
            format!(
                "spec_version {} is not supported (this build reads {supported})",
                spec_version.get_ref()
            ),
        ));
    }
    if let Some(stem) = file.file_stem().and_then(|s| s.to_str())
        && stem != parsed.as_str()
    {
        problems.push(at(
            id.span().start,
            format!("{what} id {parsed} differs from its file name {stem}.toml"),
        ));
    }
    Ok((parsed, problems))
}

/// Parses a flow file. Structural problems are returned with their lines; cross-references to
/// other steps and to messages are checked by [`super::validate`].
pub fn parse(file: &Path, source: &str) -> Result<Flow, Vec<Problem>> {
    let raw: RawFlow = read_toml(file, source)?;
    let at = |offset: usize, reason: String| Problem::at(file, source, offset, reason);
    let (id, mut problems) = header(
        file,
        source,
        &raw.id,
        &raw.spec_version,
        SPEC_VERSION,
        "flow",
    )?;

    let mut steps = Vec::new();
    let mut index = HashMap::new();
    for rs in &raw.steps {
        let offset = rs.id.span().start;
        let line = crate::problem::line_of(source, offset);
        let step_id = match StepId::parse(rs.id.get_ref()) {
            Ok(s) => s,
            Err(e) => {
                problems.push(at(offset, e.to_string()));
                continue;
            }
        };
        if index.insert(step_id.clone(), steps.len()).is_some() {
            problems.push(at(offset, format!("step id {step_id} is used twice")));
            continue;
        }
        match step_kind(rs) {
            Ok(kind) => {
                let goto = rs.goto.as_deref().map(StepId::parse).transpose();
                match goto {
                    Ok(goto) => steps.push(Step {
                        id: step_id,
                        line,
                        kind,
                        goto,
                    }),
                    Err(e) => problems.push(at(offset, e.to_string())),
                }
            }
            Err(reason) => problems.push(at(offset, format!("step {step_id}: {reason}"))),
        }
    }
    if raw.steps.is_empty() {
        problems.push(Problem::new(file, 1, "a flow needs at least one [[step]]"));
    }

    let mut scores = Vec::new();
    for rs in &raw.scores {
        let kind = match rs.kind.as_str() {
            "sum" => ScoreKind::Sum,
            "category" => ScoreKind::Category,
            other => {
                problems.push(at(
                    rs.id.span().start,
                    format!("score kind {other:?} is not sum or category"),
                ));
                continue;
            }
        };
        let items: Result<Vec<StepId>, _> = rs.items.iter().map(|i| StepId::parse(i)).collect();
        match items {
            Ok(items) => scores.push(ScoreDef {
                id: rs.id.get_ref().clone(),
                kind,
                items,
            }),
            Err(e) => problems.push(at(rs.id.span().start, e.to_string())),
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    // Rebuild the index against the steps that parsed (all of them, when there are no problems).
    let index = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    Ok(Flow {
        id,
        revision: revision_of(source),
        file: file.to_path_buf(),
        source: source.to_owned(),
        instrument: raw.instrument,
        steps,
        scores,
        index,
    })
}

fn step_kind(rs: &RawStep) -> Result<StepKind, String> {
    let kinds = [
        rs.say.is_some(),
        rs.ask.is_some(),
        rs.set.is_some(),
        rs.branch_on.is_some(),
        rs.flag.is_some() && rs.ask.is_none(),
        rs.end.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err("needs exactly one of say, ask, set, branch_on, flag or end".into());
    }
    let sid = |s: &str| StepId::parse(s).map_err(|e| e.to_string());
    let map_targets = |m: &BTreeMap<String, String>| -> Result<BTreeMap<String, StepId>, String> {
        m.iter().map(|(k, v)| Ok((k.clone(), sid(v)?))).collect()
    };
    if let Some(message) = &rs.say {
        return Ok(StepKind::Say {
            message: message.clone(),
        });
    }
    if let Some(key) = &rs.set {
        let value = rs.value.clone().ok_or("a set step needs a value")?;
        return Ok(StepKind::Set {
            key: key.clone(),
            value,
        });
    }
    if let Some(on) = &rs.branch_on {
        let cases = map_targets(rs.cases.as_ref().ok_or("a branch_on step needs cases")?)?;
        let default = rs.default.as_deref().map(sid).transpose()?;
        return Ok(StepKind::Branch {
            on: sid(on)?,
            cases,
            default,
        });
    }
    if let Some(outcome) = &rs.end {
        return Ok(StepKind::End {
            outcome: outcome.clone(),
        });
    }
    let urgency = match rs.urgency.as_deref() {
        None | Some("normal") => Urgency::Normal,
        Some("urgent") => Urgency::Urgent,
        Some(other) => return Err(format!("urgency {other:?} is not normal or urgent")),
    };
    let Some(message) = &rs.ask else {
        let kind = rs.flag.clone().unwrap_or_default();
        return Ok(StepKind::Flag {
            kind,
            urgency,
            note: rs.note.clone(),
        });
    };
    let raw = rs.answer.as_ref().ok_or("an ask needs an answer type")?;
    let answer = answer_kind(raw)?;
    let timeout = rs
        .timeout
        .as_deref()
        .map(parse_duration)
        .transpose()?
        .or(Some(Duration::hours(DEFAULT_TIMEOUT_HOURS)));
    Ok(StepKind::Ask(Box::new(Ask {
        message: message.clone(),
        answer,
        record: rs.record.clone(),
        score: rs.score.clone().unwrap_or_default(),
        timeout,
        nudges: rs.nudges.clone(),
        max_attempts: rs.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1),
        on_invalid: rs.on_invalid.as_deref().map(sid).transpose()?,
        branch: rs
            .branch
            .as_ref()
            .map(map_targets)
            .transpose()?
            .unwrap_or_default(),
        consent: rs.consent,
        flag: rs.flag.clone(),
    })))
}

fn answer_kind(raw: &RawAnswer) -> Result<AnswerKind, String> {
    let mut kinds = Vec::new();
    if let Some(c) = &raw.choice {
        if c.is_empty() {
            return Err("a choice needs options".into());
        }
        for o in c {
            StepId::parse(o)
                .map_err(|_| format!("option {o:?} may use only letters, digits and '-'"))?;
        }
        kinds.push(AnswerKind::Choice(c.clone()));
    }
    if raw.yes_no {
        kinds.push(AnswerKind::YesNo);
    }
    if let Some([min, max]) = raw.scale {
        if min >= max {
            return Err(format!("scale [{min}, {max}] must run from low to high"));
        }
        kinds.push(AnswerKind::Scale { min, max });
    }
    if raw.text {
        kinds.push(AnswerKind::Text);
    }
    if raw.date {
        kinds.push(AnswerKind::Date);
    }
    if raw.language {
        kinds.push(AnswerKind::Language);
    }
    match kinds.len() {
        1 => Ok(kinds.remove(0)),
        _ => {
            Err("answer needs exactly one of choice, yes_no, scale, text, date or language".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_refuse_nonsense() {
        assert_eq!(parse_duration("48h").unwrap(), Duration::hours(48));
        assert_eq!(parse_duration("2d").unwrap(), Duration::days(2));
        assert!(parse_duration("48").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("0h").is_err());
    }

    #[test]
    fn a_toml_error_names_file_and_line() {
        let src = "id = \"x\"\nspec_version = 1\n[[step]]\nid = \"a\"\nsay = \n";
        let err = parse(Path::new("flows/x.toml"), src).unwrap_err();
        assert!(
            err[0].to_string().starts_with("flows/x.toml:5:"),
            "{}",
            err[0]
        );
    }

    #[test]
    fn unknown_keys_and_duplicate_steps_are_refused_with_lines() {
        let src = "id = \"x\"\nspec_version = 1\n[[step]]\nid = \"a\"\nsay = \"m\"\n[[step]]\nid = \"a\"\nsay = \"m\"\n";
        let err = parse(Path::new("x.toml"), src).unwrap_err();
        assert_eq!(err[0].to_string(), "x.toml:7: step id a is used twice");
        let src = "id = \"x\"\nspec_version = 1\n[[step]]\nid = \"a\"\nsya = \"m\"\n";
        let err = parse(Path::new("x.toml"), src).unwrap_err();
        assert!(err[0].reason.contains("unknown field"), "{}", err[0]);
    }

    #[test]
    fn a_step_with_two_kinds_or_a_bad_scale_is_refused() {
        let src =
            "id = \"x\"\nspec_version = 1\n[[step]]\nid = \"a\"\nsay = \"m\"\nend = \"done\"\n";
        assert!(
            parse(Path::new("x.toml"), src).unwrap_err()[0]
                .reason
                .contains("exactly one")
        );
        let src = "id = \"x\"\nspec_version = 1\n[[step]]\nid = \"a\"\nask = \"m\"\nanswer = { scale = [5, 1] }\n";
        assert!(
            parse(Path::new("x.toml"), src).unwrap_err()[0]
                .reason
                .contains("low to high")
        );
    }

    #[test]
    fn the_revision_follows_the_content() {
        assert_eq!(revision_of("a"), revision_of("a"));
        assert_ne!(revision_of("a"), revision_of("b"));
        assert_eq!(revision_of("a").len(), 12);
    }
}
