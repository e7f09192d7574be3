//! Shared by the integration tests.

#![allow(dead_code)]

pub mod bin;
pub mod pg;
pub mod proxy;
pub mod seed;
pub mod smtp;
pub mod telegram;
pub mod twilio;
pub mod web;
