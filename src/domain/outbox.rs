//! An outbox row, as plain data: a message claimed for sending, what the provider said when it
//! took one, and the buttons a question shows where the channel has them.

/// The answers of a question, for channels that show them as buttons: the step asked and the
/// labels in the client's language, in order (a tap on the n-th answers with option n).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Buttons {
    pub step: String,
    pub labels: Vec<String>,
}

/// A queued message, claimed for sending.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub client: Option<String>,
    /// The client's address on the channel (an E.164 number for SMS).
    pub address: String,
    pub body: String,
    pub segments: u32,
    pub priority: i64,
    /// A question's answers, where the channel shows buttons.
    pub buttons: Option<Buttons>,
    /// The sender of the client's centre, when it has its own (a Twilio number, or a messaging
    /// service `MG…`); none: the deployment's.
    pub from: Option<String>,
    /// The Twilio account of the client's centre, when it has one of its own; none: the
    /// deployment's.
    pub account: Option<OwnAccount>,
    /// The client's centre, when its own Telegram bot carries the message; none: the
    /// deployment's bot.
    pub bot: Option<String>,
}

/// A centre's own Twilio account: its SID, and the file its auth token is kept in (never the
/// token itself, which stays out of the database).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnAccount {
    pub sid: String,
    pub token_file: String,
}

/// The provider took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub provider_id: String,
    /// The provider's status word (Twilio: queued, accepted…).
    pub provider_status: String,
    pub segments: Option<u32>,
}

/// Rank of a message claimed by a dispatcher; queued is 0, provider statuses start at 10.
pub const SENDING_RANK: i64 = 1;
/// Rank of a final status (delivered, failed…).
pub const FINAL_RANK: i64 = 20;
