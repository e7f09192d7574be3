//! What a centre's IT needs to run matters: metrics and readiness, the migrations' state,
//! backups, the retention policy, a client's whole file for an access request, and a check of
//! the set-up.

pub mod access;
pub mod backup;
pub mod doctor;
pub mod health;
pub mod metrics;
pub mod migrations;
pub mod retention;
