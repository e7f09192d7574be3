//! Follow-up sequences: files under `flows/sequences/` (TOML). Each step starts a flow at a time
//! anchored to the enrolment, the referral date or the end of the step before, or recurs by a
//! cron expression in the client's time zone until a count, a date or the referral's closing.

use super::time::{Offset, Recurrence, minutes, parse_date};
use crate::domain::{FlowId, StepId};
use crate::flow::FlowSet;
use crate::problem::Problem;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The sequence file format this build understands.
pub const SPEC_VERSION: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSequence {
    id: Spanned<String>,
    spec_version: Spanned<u32>,
    #[serde(rename = "step")]
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    flow: String,
    #[serde(default)]
    anchor: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    time_point: Option<String>,
    #[serde(default)]
    if_busy: Option<String>,
    #[serde(default)]
    catch_up: Option<String>,
    #[serde(default)]
    every: Option<String>,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    until: Option<String>,
    /// Take every Nth time `every` names (2 with a weekly `every`: fortnightly).
    #[serde(default)]
    interval: Option<u32>,
    /// The referral's uptakes that stop this step (`declined`, `dropped-out`…): a client who will
    /// not go to the program is not asked about it again.
    #[serde(default)]
    stop_when: Vec<String>,
    /// While a navigator's conversation with the client is open the step waits, unless this
    /// says `send` (a reminder that must go out on its day).
    #[serde(default)]
    during_conversation: Option<String>,
}

/// What a step's time counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Enrolment,
    /// The referral's date (the enrolment, when the client has no referral).
    Referral,
    /// When the flow of the step before ends (or it is skipped).
    Previous,
}

/// What a step does when it falls due while the client is in another flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfBusy {
    /// Wait for that flow to end (the default).
    Wait,
    Skip,
    Interrupt,
}

impl IfBusy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            IfBusy::Wait => "wait",
            IfBusy::Skip => "skip",
            IfBusy::Interrupt => "interrupt",
        }
    }
}

/// What a step does when the service finds it overdue (it was down, or paused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Go out in the next open window (the default).
    NextWindow,
    /// Do not go out; recorded as skipped with the reason.
    Skip,
}

/// When a recurring step stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Until {
    Date(NaiveDate),
    ReferralClosed,
}

#[derive(Debug, Clone)]
pub struct Recurring {
    pub every: Recurrence,
    /// Every Nth time `every` names: 1 is each time, 2 every other.
    pub interval: u32,
    pub count: Option<u32>,
    pub until: Option<Until>,
}

#[derive(Debug, Clone)]
pub struct SeqStep {
    pub id: StepId,
    pub flow: FlowId,
    pub anchor: Anchor,
    pub offset: Offset,
    /// The local time of day (minutes after midnight); unset: the anchor's own time of day.
    pub at: Option<u32>,
    pub time_point: Option<String>,
    pub if_busy: IfBusy,
    pub catch_up: CatchUp,
    pub recurring: Option<Recurring>,
    /// The referral's uptakes that stop this step.
    pub stop_when: Vec<String>,
    /// Sent even while a navigator's conversation is open (`during_conversation = "send"`).
    pub sends_during_conversation: bool,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Sequence {
    pub id: FlowId,
    pub revision: String,
    pub file: PathBuf,
    pub steps: Vec<SeqStep>,
}

impl Sequence {
    #[must_use]
    pub fn step(&self, id: &StepId) -> Option<&SeqStep> {
        self.steps.iter().find(|s| &s.id == id)
    }
}

/// Every sequence, by id.
#[derive(Debug, Default)]
pub struct SequenceSet {
    by_id: BTreeMap<FlowId, Sequence>,
}

impl SequenceSet {
    /// Loads every `*.toml` directly under `dir` (a missing directory holds no sequences) and
    /// checks it against the flows.
    pub fn load(dir: &Path, flows: &FlowSet) -> (Self, Vec<Problem>) {
        let mut set = Self::default();
        let (sources, mut problems) = crate::problem::toml_sources(dir, "sequences", true);
        for (file, source) in sources {
            match parse(&file, &source, flows) {
                Ok(s) => {
                    set.by_id.insert(s.id.clone(), s);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        (set, problems)
    }

    #[must_use]
    pub fn get(&self, id: &FlowId) -> Option<&Sequence> {
        self.by_id.get(id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Sequence> {
        self.by_id.values()
    }

    pub fn insert(&mut self, s: Sequence) {
        self.by_id.insert(s.id.clone(), s);
    }
}

/// Parses and checks a sequence file: every problem with its line.
pub fn parse(file: &Path, source: &str, flows: &FlowSet) -> Result<Sequence, Vec<Problem>> {
    let raw: RawSequence = crate::flow::def::read_toml(file, source)?;
    let at = |offset: usize, reason: String| Problem::at(file, source, offset, reason);
    let (id, mut problems) = crate::flow::def::header(
        file,
        source,
        &raw.id,
        &raw.spec_version,
        SPEC_VERSION,
        "sequence",
    )?;
    if raw.steps.is_empty() {
        problems.push(at(0, "a sequence needs at least one [[step]]".into()));
    }
    let mut steps = Vec::new();
    let mut seen = HashSet::new();
    for (k, rs) in raw.steps.iter().enumerate() {
        let offset = rs.id.span().start;
        match step(rs, k, flows) {
            Ok(mut s) => {
                s.line = crate::problem::line_of(source, offset);
                if !seen.insert(s.id.clone()) {
                    problems.push(at(offset, format!("step id {} is used twice", s.id)));
                }
                steps.push(s);
            }
            Err(reason) => problems.push(at(offset, format!("step {}: {reason}", rs.id.get_ref()))),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Sequence {
        id,
        revision: crate::flow::def::revision_of(source),
        file: file.to_path_buf(),
        steps,
    })
}

fn step(rs: &RawStep, k: usize, flows: &FlowSet) -> Result<SeqStep, String> {
    let id = StepId::parse(rs.id.get_ref()).map_err(|e| e.to_string())?;
    let flow = FlowId::parse(&rs.flow).map_err(|e| e.to_string())?;
    if flows.get(&flow).is_none() {
        let known: Vec<String> = flows.current().map(|f| f.id.to_string()).collect();
        return Err(format!(
            "no flow {flow} (the flows are: {})",
            known.join(", ")
        ));
    }
    let anchor = match rs.anchor.as_deref().unwrap_or("enrolment") {
        "enrolment" | "enrollment" => Anchor::Enrolment,
        "referral" => Anchor::Referral,
        "previous" => Anchor::Previous,
        other => {
            return Err(format!(
                "anchor {other:?} is not enrolment, referral or previous"
            ));
        }
    };
    if anchor == Anchor::Previous && k == 0 {
        return Err("the first step has no previous step to follow".into());
    }
    let offset = rs
        .offset
        .as_deref()
        .map(Offset::parse)
        .transpose()?
        .unwrap_or_default();
    let at = rs
        .at
        .as_deref()
        .map(|a| {
            minutes(a)
                .filter(|m| *m < 24 * 60)
                .ok_or_else(|| format!("at {a:?} is not a time like 10:00"))
        })
        .transpose()?;
    let if_busy = match rs.if_busy.as_deref().unwrap_or("wait") {
        "wait" => IfBusy::Wait,
        "skip" => IfBusy::Skip,
        "interrupt" => IfBusy::Interrupt,
        other => return Err(format!("if_busy {other:?} is not wait, skip or interrupt")),
    };
    let catch_up = match rs.catch_up.as_deref().unwrap_or("next-window") {
        "next-window" => CatchUp::NextWindow,
        "skip" => CatchUp::Skip,
        other => return Err(format!("catch_up {other:?} is not next-window or skip")),
    };
    if let Some(tp) = &rs.time_point
        && (tp.is_empty() || !tp.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(format!(
            "time_point {tp:?} may use only letters, digits and '-' (baseline, weekly, 3-month…)"
        ));
    }
    let until = rs
        .until
        .as_deref()
        .map(|u| match u {
            "referral-closed" => Ok(Until::ReferralClosed),
            d => parse_date(d)
                .map(Until::Date)
                .map_err(|e| format!("until: {e}, or \"referral-closed\"")),
        })
        .transpose()?;
    let recurring = match &rs.every {
        Some(e) => {
            let every = Recurrence::parse(e)?;
            if rs.count.is_none() && until.is_none() {
                return Err("a recurring step needs an end: count, until = \"YYYY-MM-DD\" or until = \"referral-closed\"".into());
            }
            if rs.count == Some(0) {
                return Err("count must be at least 1".into());
            }
            if rs.at.is_some() {
                return Err("a recurring step takes its time of day from `every`, not `at`".into());
            }
            if rs.interval == Some(0) {
                return Err("interval must be at least 1".into());
            }
            Some(Recurring {
                every,
                interval: rs.interval.unwrap_or(1),
                count: rs.count,
                until,
            })
        }
        None => {
            if rs.count.is_some() || until.is_some() || rs.interval.is_some() {
                return Err(
                    "count, until and interval belong to a recurring step (with `every`)".into(),
                );
            }
            None
        }
    };
    if let Some(u) = rs
        .stop_when
        .iter()
        .find(|u| !crate::domain::UPTAKES.contains(&u.as_str()))
    {
        return Err(format!(
            "stop_when {u:?} is not an uptake ({})",
            crate::domain::UPTAKES.join(", ")
        ));
    }
    let sends_during_conversation = match rs.during_conversation.as_deref() {
        None | Some("wait") => false,
        Some("send") => true,
        Some(other) => {
            return Err(format!(
                "during_conversation {other:?} is neither \"wait\" (the default) nor \"send\""
            ));
        }
    };
    Ok(SeqStep {
        id,
        flow,
        anchor,
        offset,
        at,
        time_point: rs.time_point.clone(),
        if_busy,
        catch_up,
        recurring,
        stop_when: rs.stop_when.clone(),
        sends_during_conversation,
        line: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows() -> FlowSet {
        let mut set = FlowSet::default();
        for id in ["consent", "loneliness"] {
            let src =
                format!("id = \"{id}\"\nspec_version = 1\n[[step]]\nid = \"a\"\nsay = \"m\"\n");
            set.insert(crate::flow::def::parse(Path::new(&format!("{id}.toml")), &src).unwrap());
        }
        set
    }

    #[test]
    fn a_sequence_parses_with_its_defaults() {
        let src = r#"
id = "s"
spec_version = 1
[[step]]
id = "consent"
flow = "consent"
[[step]]
id = "baseline"
flow = "loneliness"
anchor = "previous"
time_point = "baseline"
[[step]]
id = "weekly"
flow = "loneliness"
anchor = "referral"
every = "0 10 * * Mon"
count = 8
if_busy = "skip"
catch_up = "skip"
"#;
        let s = parse(Path::new("s.toml"), src, &flows()).unwrap();
        assert_eq!(s.steps.len(), 3);
        assert_eq!(s.steps[0].anchor, Anchor::Enrolment);
        assert_eq!(s.steps[0].if_busy, IfBusy::Wait);
        assert_eq!(s.steps[0].catch_up, CatchUp::NextWindow);
        assert_eq!(s.steps[1].anchor, Anchor::Previous);
        assert_eq!(s.steps[2].recurring.as_ref().unwrap().count, Some(8));
        assert_eq!(s.steps[2].line, 13, "the line of the step's id");
    }

    #[test]
    fn a_step_may_go_out_during_a_navigators_conversation_if_it_says_so() {
        let src = |v: &str| {
            format!(
                "id = \"s\"\nspec_version = 1\n[[step]]\nid = \"a\"\nflow = \"consent\"\n[[step]]\nid = \"b\"\nflow = \"consent\"\nanchor = \"previous\"\nduring_conversation = \"{v}\"\n"
            )
        };
        let s = parse(Path::new("s.toml"), &src("send"), &flows()).unwrap();
        assert!(
            !s.steps[0].sends_during_conversation,
            "steps wait by default"
        );
        assert!(s.steps[1].sends_during_conversation);
        let s = parse(Path::new("s.toml"), &src("wait"), &flows()).unwrap();
        assert!(!s.steps[1].sends_during_conversation);
        let e = parse(Path::new("s.toml"), &src("sometimes"), &flows()).unwrap_err();
        let shown: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert!(shown[0].contains("during_conversation"), "{shown:?}");
    }

    #[test]
    fn mistakes_are_refused_with_their_lines() {
        let src = "id = \"s\"\nspec_version = 1\n[[step]]\nid = \"x\"\nflow = \"nope\"\n[[step]]\nid = \"w\"\nflow = \"consent\"\nevery = \"0 10 * * Mon\"\n[[step]]\nid = \"p\"\nflow = \"consent\"\noffset = \"3 fortnights\"\n";
        let p = parse(Path::new("s.toml"), src, &flows()).unwrap_err();
        let shown: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(
            shown[0].starts_with("s.toml:4: step x: no flow nope"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("s.toml:7: step w: a recurring step needs an end"),
            "{shown:?}"
        );
        assert!(
            shown[2].contains("s.toml:11:") && shown[2].contains("not an offset"),
            "{shown:?}"
        );
        let first_previous = "id = \"s\"\nspec_version = 1\n[[step]]\nid = \"x\"\nflow = \"consent\"\nanchor = \"previous\"\n";
        assert!(parse(Path::new("s.toml"), first_previous, &flows()).is_err());
        assert!(
            parse(
                Path::new("s.toml"),
                "id = \"s\"\nspec_version = 1\nstep = []\n",
                &flows()
            )
            .is_err()
        );
    }
}
