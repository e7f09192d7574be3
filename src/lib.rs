//! matters: a messaging-first follow-up bot for social prescribing in community primary care.
//!
//! Data flows one way: a channel's inbound message → dedupe → client → global handlers → the pure
//! flow engine → events applied in one transaction → outbox. See `DESIGN.md` in the shared docs.

// Lets code shared with the tests (the Twilio stand-in) name the crate as `matters`.
extern crate self as matters;

pub mod alerts;
pub mod app;
pub mod centres;
pub mod channel;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod enrolment;
pub mod equity;
pub mod evaluation;
pub mod export;
pub mod feedback;
pub mod fhir;
pub mod flow;
pub mod health_use;
pub mod i18n;
pub mod letter;
pub mod loops;
pub mod ops;
pub mod problem;
pub mod programs;
pub mod runner;
pub mod safety;
pub mod schedule;
pub mod shutdown;
pub mod sms;
pub mod staff;
pub mod store;
pub mod summaries;
pub mod transcript;
pub mod web;
