//! A job row, as plain data: one to insert (a step of a client's sequence) and one claimed for
//! running.

use super::ClientId;

/// A job row to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub client: String,
    pub enrolment: i64,
    pub step: String,
    pub occurrence: i64,
    pub flow: String,
    pub time_point: Option<String>,
    pub status: &'static str,
    pub planned_at: Option<i64>,
    pub due_at: i64,
    pub after_job: Option<i64>,
    pub delay_ms: Option<i64>,
    pub note: Option<String>,
}

/// A job claimed for running.
#[derive(Debug, Clone)]
pub struct DueJob {
    pub id: i64,
    pub client: ClientId,
    pub kind: String,
    pub step: Option<String>,
    pub due_at: i64,
    pub planned_at: Option<i64>,
    pub occurrence: i64,
    pub enrolment: Option<i64>,
    pub flow: Option<String>,
    pub time_point: Option<String>,
    pub session: Option<i64>,
    /// How many times it has been claimed without being finished (this claim included).
    pub attempts: i64,
    pub token: String,
}
