//! What Twilio's words mean here: where a message status sits in a message's life, and an error
//! code in a navigator's words.

/// Where a Twilio message status sits in its life, so a late callback never moves a message
/// backwards: our status word and its rank. `None` for words that are not outbound statuses.
#[must_use]
pub fn status_rank(provider_status: &str) -> Option<(&'static str, i64)> {
    use super::outbox::FINAL_RANK;
    Some(match provider_status {
        "accepted" | "scheduled" => ("sent", 10),
        "queued" => ("sent", 11),
        "sending" => ("sent", 12),
        "sent" => ("sent", 13),
        "delivered" => ("delivered", FINAL_RANK),
        "partially_delivered" => ("partially_delivered", FINAL_RANK),
        "undelivered" => ("undelivered", FINAL_RANK),
        "failed" => ("failed", FINAL_RANK),
        "canceled" => ("canceled", FINAL_RANK),
        "read" => ("read", FINAL_RANK + 10),
        _ => return None,
    })
}

/// Words for a navigator, for the error codes they will meet.
#[must_use]
pub fn explain(code: u32) -> &'static str {
    match code {
        21211 => "the number is not a valid phone number",
        21408 => "SMS to this region is not enabled on the account",
        21610 => "the client has opted out at the carrier (replied STOP)",
        21614 => "the number cannot receive SMS",
        20429 | 14107 => "too many messages at once",
        30003 => "the phone is switched off or out of reach",
        30005 => "the number is unknown or no longer in service",
        30006 => "a landline, or the carrier cannot be reached",
        30007 => "filtered by the carrier",
        30008 => "unknown delivery error",
        _ => "see Twilio's error dictionary",
    }
}
