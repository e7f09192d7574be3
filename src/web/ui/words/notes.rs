//! What the service writes in English (audit actions and details, flag and job notes, the
//! library's errors), as patterns with the Fluent message each is said again with.

use regex::Regex;
use std::sync::LazyLock;

/// Every action the audit log records, for its filter.
pub const AUDIT_ACTIONS: &[&str] = &[
    "record-view",
    "timeline-view",
    "unmatched-view",
    "client-add",
    "client-assign",
    "client-erase",
    "referral-add",
    "referral-update",
    "referral-close",
    "enrol",
    "enrolment-pause",
    "enrolment-resume",
    "enrolment-cancel",
    "step-reschedule",
    "flow-start",
    "answer",
    "record-change",
    "crisis",
    "consent-granted",
    "consent-revoked",
    "jobs-cancelled",
    "message-send",
    "task-resolve",
    "telegram-invite",
    "telegram-linked",
    "phone-set",
    "simulator-refused",
    "access-denied",
    "csrf-refused",
    "sign-in",
    "sign-out",
    "sign-in-failed",
    "sign-in-limited",
    "password-set",
    "setup-link",
    "staff-add",
    "staff-enable",
    "staff-disable",
    "api-token-issue",
    "api-token-revoke",
    "api-clients-list",
    "api-tasks-list",
    "api-cohort",
    "api-enrolments-view",
    "export-csv",
    "export-fhir",
    "export-cohort",
    "cohort-view",
    "alert-sent",
    "alert-escalated",
    "alert-acknowledged",
    "alert-viewed",
    "alert-test",
    "staff-contact",
    "conversation-closed",
    "note-add",
    "client-export",
    "inbox-view",
    "notifications-view",
    "program-add",
    "program-update",
    "program-retire",
    "program-restore",
    "program-view",
    "program-details-send",
    "fhir-service-request",
    "fhir-service-request-again",
    "fhir-read",
    "summary-write",
    "summary-send",
    "summary-view",
    "summary-pdf",
    "referrers-view",
    "summaries-setting",
    "reminders-consent",
    "program-reminder-send",
    "goal-set",
    "goal-rated",
    "goal-closed",
    "sociodemographics-view",
    "sociodemographics-refused",
    "sociodemographics-entered",
    "sociodemographics-consent",
    "staff-sociodemographics",
    "health-use-import",
    "provider-feedback",
    "retention-purge",
    "client-purged",
    "centre-add",
    "centre-sharing",
    "group-report",
];

pub(super) type Table = &'static [(&'static str, &'static str)];
pub(super) type Compiled = LazyLock<Vec<(Regex, &'static str)>>;

fn compile(table: Table) -> Vec<(Regex, &'static str)> {
    table
        .iter()
        .filter_map(|(p, k)| Regex::new(&format!("^{p}$")).ok().map(|r| (r, *k)))
        .collect()
}

pub(super) static FLAGS: Compiled = LazyLock::new(|| compile(FLAG_NOTES));
pub(super) static JOBS: Compiled = LazyLock::new(|| compile(JOB_NOTES));
pub(super) static AUDIT: Compiled = LazyLock::new(|| compile(AUDIT_DETAILS));
pub(super) static ERRS: Compiled = LazyLock::new(|| compile(ERRORS));
pub(super) static SEND_ERRS: Compiled = LazyLock::new(|| compile(DELIVERY_ERRORS));
pub(super) static AUDIT_ACTION: LazyLock<Vec<(&'static str, Regex, &'static str)>> =
    LazyLock::new(|| {
        AUDIT_BY_ACTION
            .iter()
            .filter_map(|(a, p, k)| Regex::new(&format!("^{p}$")).ok().map(|r| (*a, r, *k)))
            .collect()
    });

/// The notes the service writes on flags.
pub(super) const FLAG_NOTES: Table = &[
    ("crisis language: contact the client today", "note-crisis"),
    (
        "crisis language from a client who has opted out: call, do not text",
        "note-crisis-opted-out",
    ),
    ("a message outside any flow", "note-message"),
    (
        "the same text kept going to this client; it was stopped\\. An auto-reply on their phone\\? Check the conversation",
        "note-looping",
    ),
    (
        "(?P<provider>\\w+) refused the client's number \\((?P<code>\\d+): .*\\): check it with the client",
        "note-wrong-number",
    ),
    (
        "the last (?P<n>\\d+) messages did not reach the client \\(latest (?P<code>\\d+): .*\\): call them or check the number",
        "note-unreachable",
    ),
    (
        "(?P<what>[a-z0-9._-]+) could not run: (?P<why>.*)",
        "note-scheduling-failed",
    ),
];

/// The notes the scheduler and navigators' actions leave on steps.
pub(super) const JOB_NOTES: Table = &[
    ("moved out of quiet hours", "job-quiet-hours"),
    (
        "moved to the client's (?P<best>morning|afternoon|evening)",
        "job-moved-to-best",
    ),
    ("its end date had passed at enrolment", "job-ended-before"),
    (
        "found (?P<dur>.+) late; moved to the next open window",
        "job-late-moved",
    ),
    (
        "missed: due (?P<when>.+), found (?P<dur>.+) late \\(catch-up: skip\\)",
        "job-missed",
    ),
    ("caught up (?P<dur>.+) late", "job-caught-up"),
    (
        "ended the unanswered (?P<flow>[a-z0-9-]+)",
        "job-ended-unanswered",
    ),
    ("waiting for (?P<flow>[a-z0-9-]+) to end", "job-waiting-for"),
    (
        "the client was in (?P<flow>[a-z0-9-]+)",
        "job-client-was-in",
    ),
    ("interrupted (?P<flow>[a-z0-9-]+)", "job-interrupted"),
    ("the enrolment is gone", "job-enrolment-gone"),
    ("the enrolment is (?P<status>[a-z]+)", "job-enrolment-is"),
    ("opted out", "job-opted-out"),
    ("the question is no longer waiting", "job-not-waiting"),
    ("no way to reach the client", "job-no-way"),
    (
        "waiting for a way to reach the client \\(no phone number or Telegram chat yet\\)",
        "job-waiting-for-channel",
    ),
    (
        "the step is no longer in sequence (?P<seq>[a-z0-9-]+)",
        "job-step-gone",
    ),
    ("the referral is closed", "job-referral-closed"),
    (
        "replaced: the level of support is now (?P<level>[a-z]+)",
        "job-replaced-level",
    ),
    (
        "stopped: the referral's uptake is (?P<uptake>[a-z-]+)",
        "job-stopped-uptake",
    ),
    ("no flow (?P<flow>[a-z0-9-]+)", "job-no-flow"),
    (
        "the client has not agreed to messages yet",
        "job-no-consent",
    ),
    ("consent already given", "job-consent-given"),
    ("started early by (?P<actor>.+)", "job-started-early"),
    ("paused by (?P<actor>.+)", "job-paused-by"),
    ("resumed by (?P<actor>.+)", "job-resumed-by"),
    ("rescheduled by (?P<actor>.+)", "job-rescheduled-by"),
    (
        "cancelled by (?P<actor>\\S+): (?P<reason>.+)",
        "job-cancelled-by",
    ),
    ("answered", "job-answered"),
    ("the client is gone", "job-client-gone"),
];

/// The details of audit entries, as the service writes them.
pub(super) const AUDIT_DETAILS: Table = &[
    ("whole record", "ad-whole-record"),
    ("scheduled steps", "ad-scheduled-steps"),
    ("(?P<n>\\d+) message\\(s\\)", "ad-messages"),
    (
        "(?P<lang>[A-Za-z-]+) (?P<channel>[a-z]+) \\((?P<kind>real|test)\\)",
        "ad-client-add",
    ),
    ("referral (?P<id>\\d+)", "ad-referral"),
    (
        "referral (?P<id>\\d+): uptake (?P<uptake>[a-z-]+)",
        "ad-referral-uptake",
    ),
    (
        "referral (?P<id>\\d+): (?P<closing>[a-z-]+)",
        "ad-referral-closed",
    ),
    (
        "sequence (?P<seq>[a-z0-9-]+) \\(enrolment (?P<id>\\d+)\\)",
        "ad-enrol",
    ),
    (
        "sequence (?P<seq>[a-z0-9-]+): (?P<n>\\d+) scheduled step\\(s\\)",
        "ad-seq-steps",
    ),
    ("(?P<n>\\d+) scheduled step\\(s\\)", "ad-steps"),
    ("(?P<step>[a-z0-9-]+) to (?P<when>.+)", "ad-reschedule"),
    (
        "(?P<flow>[a-z0-9-]+) \\((?P<tp>[a-z0-9-]+)\\)",
        "ad-flow-start",
    ),
    ("(?P<flow>[a-z0-9-]+) \\(ad hoc\\)", "ad-flow-start-ad-hoc"),
    (
        "(?P<flow>[a-z0-9-]+) \\((?P<tp>[a-z0-9-]+); sequence (?P<seq>[a-z0-9-]+) step (?P<step>[a-z0-9-]+)\\)",
        "ad-flow-start-step",
    ),
    (
        "(?P<flow>[a-z0-9-]+) \\(ad hoc; sequence (?P<seq>[a-z0-9-]+) step (?P<step>[a-z0-9-]+)\\)",
        "ad-flow-start-step-ad-hoc",
    ),
    ("crisis language; fixed 9-8-8/911 reply sent", "ad-crisis"),
    ("crisis language while opted out", "ad-crisis-opted-out"),
    (
        "opted out: every scheduled step and nudge cancelled",
        "ad-jobs-cancelled",
    ),
    (
        "message (?P<id>\\d+) on (?P<channel>[a-z]+), (?P<n>\\d+) segment\\(s\\)",
        "ad-message",
    ),
    ("task (?P<id>\\d+)", "ad-task"),
    ("staff (?P<id>\\d+)", "ad-assigned"),
    ("unassigned", "ad-unassigned"),
    (
        "tombstone: client erased with (?P<n>\\d+) related rows",
        "ad-erased",
    ),
    ("valid (?P<n>\\d+) h", "ad-invite"),
    ("invite used", "ad-invite-used"),
    ("SMS number set", "ad-phone-set"),
    ("not a test client", "ad-not-test-client"),
    ("not their client", "ad-not-their-client"),
    ("another centre's client", "ad-other-centre-client"),
    (
        "another centre's (?P<what>staff|program|token|task|centres|centre)",
        "ad-other-centre",
    ),
    ("(?P<n>\\d+) clients", "ad-n-clients"),
    ("(?P<n>\\d+) clients, de-identified", "ad-n-clients-deid"),
    ("(?P<n>\\d+) tasks", "ad-n-tasks"),
    ("(?P<n>\\d+) referrals", "ad-n-referrals"),
    (
        "(?P<q>\\d+) questionnaires, (?P<r>\\d+) responses, (?P<o>\\d+) observations, (?P<g>\\d+) goals",
        "ad-fhir",
    ),
    (
        "(?P<q>\\d+) questionnaires, (?P<r>\\d+) responses, (?P<o>\\d+) observations, (?P<g>\\d+) goals, de-identified",
        "ad-fhir-deid",
    ),
    (
        "(?P<source>keyword|consent-flow|navigator|provider)",
        "ad-consent-source",
    ),
    (
        "(?P<items>(?:[a-z0-9-]+/[a-z0-9-]+ [a-z-]+)(?:, [a-z0-9-]+/[a-z0-9-]+ [a-z-]+)*)",
        "ad-answers",
    ),
    (
        "(?P<items>(?:(?:field|flag) [a-z0-9._-]+)(?:, (?:field|flag) [a-z0-9._-]+)*)",
        "ad-changes",
    ),
];

/// Why a text did not go, as the dispatcher, the provider's callbacks and the guards write it.
pub(super) const DELIVERY_ERRORS: Table = &[
    ("(?P<perr>\\d{5}): .*", "err-provider"),
    ("HTTP (?P<http>\\d{3}): .*", "err-provider-http"),
    ("too many requests: retry after .*", "err-rate-limited"),
    (
        "not sent: the client opted out before it left",
        "err-not-sent-opted-out",
    ),
    (
        "not sent: the client has no phone number or Telegram chat yet",
        "err-not-sent-no-channel",
    ),
    (
        "not sent: the same text went to this client 5 times in 10 minutes \\(an auto-reply loop\\?\\)",
        "err-not-sent-loop",
    ),
];

/// Details that read one way for one action: `(action, pattern, message)`, tried before the
/// general ones (a staff member's `nora (navigator)` is not a flow and its time point).
pub(super) const AUDIT_BY_ACTION: &[(&str, &str, &str)] = &[
    (
        "summary-write",
        "summary (?P<id>\\d+) of referral (?P<r>\\d+) \\((?P<ev>uptake|closed|outcome)\\), (?P<how>sent|for review)",
        "ad-summary-write",
    ),
    (
        "summary-send",
        "summary (?P<id>\\d+) reviewed and sent",
        "ad-summary-send",
    ),
    (
        "summary-view",
        "summary (?P<id>\\d+) read as a letter",
        "ad-summary-view",
    ),
    (
        "summary-pdf",
        "summary (?P<id>\\d+) as a PDF",
        "ad-summary-pdf",
    ),
    (
        "referrers-view",
        "(?P<n>\\d+) referrals of (?P<k>\\d+) referrers listed",
        "ad-referrers-view",
    ),
    (
        "summaries-setting",
        "summaries go without review at (?P<n>\\d+) levels",
        "ad-summaries-setting",
    ),
    (
        "reminders-consent",
        "reminders (?P<change>granted|revoked)",
        "ad-reminders-consent",
    ),
    (
        "program-reminder-send",
        "program (?P<code>\\S+) session (?P<on>\\S+), message (?P<id>\\d+) on (?P<channel>\\S+)",
        "ad-program-reminder-send",
    ),
    (
        "note-add",
        "note (?P<id>\\d+) \\((?P<nk>[a-z-]+)\\)",
        "ad-note-add",
    ),
    ("goal-set", "goal (?P<id>\\d+)", "ad-goal-set"),
    (
        "provider-feedback",
        "summary (?P<id>\\d+)",
        "ad-provider-feedback",
    ),
    (
        "health-use-import",
        "(?P<n>\\d+) rows imported, (?P<k>\\d+) refused",
        "ad-health-use-import",
    ),
    (
        "sociodemographics-view",
        "(?P<n>\\d+) answers shown",
        "ad-sociodemographics-view",
    ),
    (
        "sociodemographics-refused",
        "not allowed to see sociodemographics",
        "ad-sociodemographics-refused",
    ),
    (
        "sociodemographics-entered",
        "(?P<n>\\d+) answers",
        "ad-sociodemographics-entered",
    ),
    (
        "sociodemographics-consent",
        "sociodemographics (?P<change>granted|revoked)",
        "ad-sociodemographics-consent",
    ),
    (
        "staff-sociodemographics",
        "staff (?P<id>\\d+): (?P<how>on|off)",
        "ad-staff-sociodemographics",
    ),
    ("goal-rated", "goal (?P<id>\\d+)", "ad-goal-rated"),
    (
        "goal-closed",
        "goal (?P<id>\\d+): (?P<how>met|changed|dropped)",
        "ad-goal-closed",
    ),
    (
        "conversation-closed",
        "the conversation is closed; the bot resumes",
        "ad-conversation-closed-hand",
    ),
    (
        "conversation-closed",
        "(?P<h>\\d+) hours without a message: closed; the bot resumes",
        "ad-conversation-closed-quiet",
    ),
    (
        "conversation-closed",
        "a flow was started: the conversation hands back to the bot",
        "ad-conversation-closed-flow",
    ),
    (
        "alert-acknowledged",
        "alert acknowledged by the link",
        "ad-alert-ack-link",
    ),
    (
        "alert-acknowledged",
        "alert acknowledged by a reply OK by text",
        "ad-alert-ack-sms",
    ),
    (
        "alert-sent",
        "(?P<flag>[a-z-]+) alert sent to (?P<who>.+)",
        "ad-alert-sent",
    ),
    (
        "alert-escalated",
        "(?P<flag>[a-z-]+) alert not acknowledged: sent on to (?P<who>.+)",
        "ad-alert-escalated",
    ),
    (
        "alert-viewed",
        "alert #(?P<id>\\d+) opened",
        "ad-alert-viewed",
    ),
    (
        "client-export",
        "the whole record, as JSON",
        "ad-client-export",
    ),
    (
        "client-export",
        "the whole record, as HTML",
        "ad-client-export-html",
    ),
    (
        "client-export",
        "everything held, from the command line, as JSON and HTML",
        "ad-client-export-cli",
    ),
    (
        "retention-purge",
        "message bodies: (?P<bodies>\\d+); clients: (?P<clients>\\d+)",
        "ad-retention-purge",
    ),
    (
        "client-purged",
        "every referral closed more than (?P<years>\\d+) year\\(s\\) ago",
        "ad-client-purged",
    ),
    (
        "program-details-send",
        "program (?P<code>\\S+) details, message (?P<id>\\d+) on (?P<channel>\\w+)",
        "ad-program-details-send",
    ),
    (
        "fhir-service-request",
        "ServiceRequest/(?P<id>\\d+) made referral (?P<r>\\d+)",
        "ad-fhir-sr",
    ),
    (
        "inbox-view",
        "(?P<n>\\d+) open conversations listed",
        "ad-inbox-view",
    ),
    (
        "notifications-view",
        "(?P<n>\\d+) notifications listed",
        "ad-notifications-view",
    ),
    (
        "program-view",
        "(?P<code>\\S+): (?P<n>\\d+) referrals listed",
        "ad-program-view",
    ),
    (
        "staff-add",
        "(?P<u>\\S+) \\((?P<role>admin|navigator), (?P<centre>\\S+)\\)",
        "ad-staff-add",
    ),
    (
        "api-token-issue",
        "(?P<name>.+) \\((?P<scope>read|write|fhir), (?P<centre>\\S+)\\)",
        "ad-token-issue",
    ),
    (
        "centre-add",
        "(?P<id>\\S+) \\((?P<name>.+)\\)",
        "ad-centre-add",
    ),
    (
        "centre-sharing",
        "(?P<id>\\S+): (?P<how>on|off)",
        "ad-centre-sharing",
    ),
    (
        "group-report",
        "(?P<n>\\d+) centres sharing",
        "ad-group-report",
    ),
    ("api-token-revoke", "token (?P<id>\\d+)", "ad-token-revoke"),
    (
        "client-assign",
        "staff (?P<id>\\d+) (?P<actor>staff:\\S+)",
        "ad-assigned-to",
    ),
];

/// Errors the library gives that the pages show.
pub(super) const ERRORS: Table = &[
    ("no client (?P<id>.+)", "err-no-client"),
    (
        "no sequence (?P<seq>[^;]+); the sequences are: (?P<list>.+)",
        "err-no-sequence",
    ),
    (
        "client (?P<id>\\S+) is already enrolled in (?P<seq>.+)",
        "err-already-enrolled",
    ),
    (
        "client (?P<id>\\S+) is not enrolled in any running sequence",
        "err-not-enrolled",
    ),
    (
        "client (?P<id>\\S+) has opted out: nothing can be scheduled until they opt back in",
        "err-opted-out",
    ),
    (
        "client (?P<id>\\S+) has opted out: nothing can be sent",
        "err-opted-out",
    ),
    (
        "(?P<id>\\S+) has opted out: nothing can be sent until they opt back in",
        "err-opted-out",
    ),
    (
        "client (?P<id>\\S+) has no step (?P<step>\\S+) still to come",
        "err-no-step",
    ),
    (
        "client (?P<id>\\S+)'s centre does not offer the (?P<what>flow|sequence) (?P<x>\\S+)",
        "err-not-offered",
    ),
    (
        "client (?P<id>\\S+) has no phone number or Telegram chat yet: nothing can reach them",
        "err-no-channel",
    ),
    (
        "client (?P<id>\\S+) is in the middle of flow (?P<flow>\\S+)",
        "err-busy",
    ),
    (
        "client (?P<id>\\S+) has no open referral",
        "err-no-referral",
    ),
    ("client (?P<id>\\S+) already exists", "err-exists"),
    (
        "(?P<number>\\S+) is already the number of another client",
        "err-number-taken",
    ),
    (
        "(?P<id>\\S+) is a test client of the simulator: only the simulator reaches them",
        "err-test-client",
    ),
    (
        "language (?P<lang>\\S+) is not enabled here \\(enabled: (?P<list>.+)\\)",
        "err-language-off",
    ),
    (
        "time zone \"(?P<tz>.*)\" is not an IANA zone like America/Winnipeg",
        "err-time-zone",
    ),
    (
        "referral date (?P<date>\\S+) is in the future",
        "err-future-referral",
    ),
    ("no flow (?P<flow>.+)", "err-no-flow"),
    ("give text, start, or both", "err-sim-empty"),
    (
        "(?P<id>\\S+) is not a test client: the simulator speaks only for test clients",
        "err-not-test-client",
    ),
    ("the message is empty", "err-empty-message"),
    (
        "the message is longer than 1000 characters",
        "err-long-message",
    ),
    (
        "(?P<at>.+) has passed in the client's time zone \\((?P<tz>.+)\\)",
        "err-past",
    ),
    (
        "\"(?P<at>.*)\" is not a date and time like 2026-12-01T10:00",
        "err-bad-time",
    ),
    ("client id: (?P<why>.+)", "err-client-id"),
    ("phone number: (?P<why>.+)", "err-phone"),
    ("language: (?P<why>.+)", "err-language"),
    ("temporarily unavailable; try again", "err-unavailable"),
    (
        "level of support \"(?P<v>.*)\" is not one of .+",
        "err-level",
    ),
    ("uptake \"(?P<v>.*)\" is not one of .+", "err-uptake"),
    ("best time \"(?P<v>.*)\" is not one of .+", "err-best-time"),
    ("choose SMS or Telegram", "err-choose-channel"),
    ("you cannot turn your own account off", "err-own-account"),
    (
        "a password needs at least (?P<n>\\d+) characters",
        "err-password-short",
    ),
    (
        "user name \"(?P<u>.*)\" must be 1 to 40 letters, digits, dots, dashes or underscores",
        "err-username",
    ),
    (
        "there is already a staff member called (?P<u>.+)",
        "err-staff-taken",
    ),
    (
        "this set-up link is unknown, used or expired; ask an administrator for a new one",
        "err-bad-link",
    ),
    (
        "a token needs a name of 1 to 60 characters \\(who or what uses it\\)",
        "err-token-name",
    ),
    ("role \"(?P<v>.*)\" is not admin or navigator", "err-role"),
    ("scope \"(?P<v>.*)\" is not read or write", "err-scope"),
    ("no staff member called (?P<u>.+)", "err-no-staff"),
    ("the form is incomplete: .*", "err-form"),
];
