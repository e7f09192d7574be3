//! Sending: one `sendMessage` per queued message, with the question's answers as an inline
//! keyboard; Telegram's errors mapped to what the dispatcher and the record need.

use crate::channel::{Accepted, Buttons, Lookup, Outgoing, SendError, Transport};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use teloxide::{ApiError, RequestError};

/// Telegram allows at most this many bytes of `callback_data`.
pub const MAX_CALLBACK_DATA: usize = 64;

/// The Bot API client as a [`Transport`]: the deployment's bot, and the bots of centres that
/// have their own (a message goes through its client's centre's, see [`Outgoing::bot`]).
#[derive(Debug, Clone)]
pub struct Sender {
    bot: Bot,
    bot_id: i64,
    /// Centres' own bots, by centre.
    pub(crate) centres: std::collections::HashMap<String, (Bot, i64)>,
}

impl Sender {
    #[must_use]
    pub fn new(bot: Bot, bot_id: i64) -> Self {
        Self {
            bot,
            bot_id,
            centres: std::collections::HashMap::new(),
        }
    }

    /// Carries the messages of `centre`'s clients through its own bot.
    #[must_use]
    pub fn with_centre(mut self, centre: &str, bot: Bot, bot_id: i64) -> Self {
        self.centres.insert(centre.to_owned(), (bot, bot_id));
        self
    }

    /// The bot that carries `m`.
    fn bot_of(&self, m: &Outgoing) -> Result<(&Bot, i64), SendError> {
        match &m.bot {
            None => Ok((&self.bot, self.bot_id)),
            Some(centre) => self.centres.get(centre).map(|(b, id)| (b, *id)).ok_or_else(|| {
                SendError::Provider {
                    http: 0,
                    code: None,
                    message: format!(
                        "the Telegram bot of centre {centre} is not running: it starts with matters serve"
                    ),
                }
            }),
        }
    }
}

impl Transport for Sender {
    fn sender(&self) -> String {
        format!("telegram:{}", self.bot_id)
    }

    fn sender_of(&self, m: &Outgoing) -> Option<String> {
        let centre = m.bot.as_ref()?;
        self.centres
            .get(centre)
            .map(|(_, id)| format!("telegram:{id}"))
    }

    async fn send(&self, m: &Outgoing) -> Result<Accepted, SendError> {
        let Ok(chat) = m.address.parse::<i64>() else {
            return Err(SendError::Provider {
                http: 400,
                code: Some(400),
                message: "the address is not a Telegram chat id".into(),
            });
        };
        let (bot, _) = self.bot_of(m)?;
        let (text, markup) = match &m.buttons {
            Some(b) => (strip_numbered(&m.body, &b.labels), Some(keyboard(m.id, b))),
            None => (m.body.as_str(), None),
        };
        let mut req = bot.send_message(ChatId(chat), text);
        if let Some(k) = markup {
            req = req.reply_markup(k);
        }
        match req.await {
            Ok(sent) => Ok(Accepted {
                provider_id: format!("{chat}:{}", sent.id.0),
                provider_status: "sent".into(),
                segments: None,
            }),
            Err(e) => Err(send_error(&e)),
        }
    }

    /// The Bot API cannot list a chat's messages: a message in doubt is sent again.
    async fn lookup(&self, _m: &Outgoing, _since: i64) -> Result<Lookup, SendError> {
        Ok(Lookup::Unsupported)
    }
}

/// What the dispatcher makes of a Bot API error: wait when asked, retry what may pass later
/// (network, server errors), fail the rest with Telegram's words.
#[must_use]
pub fn send_error(e: &RequestError) -> SendError {
    match e {
        RequestError::RetryAfter(s) => SendError::RetryAfter(s.duration()),
        RequestError::Network(err) => {
            // Never log a URL: it holds the bot token.
            SendError::Transport(err.without_url_string())
        }
        RequestError::InvalidJson { .. } | RequestError::Io(_) => {
            SendError::Transport("Telegram's answer could not be read".into())
        }
        RequestError::MigrateToChatId(_) => SendError::Provider {
            http: 400,
            code: Some(400),
            message: "the chat became a supergroup".into(),
        },
        RequestError::Api(api) => {
            let text = api.to_string();
            let http = match api {
                ApiError::BotBlocked
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::BotKickedFromChannel
                | ApiError::UserDeactivated
                | ApiError::CantInitiateConversation => 403,
                ApiError::InvalidToken => 401,
                _ if text.starts_with("Bad Request") => 400,
                _ if text.starts_with("Forbidden") => 403,
                _ if text.starts_with("Unauthorized") => 401,
                _ if text.starts_with("Not Found") => 404,
                _ if text.starts_with("Conflict") => 409,
                // Telegram's 5xx ("Internal Server Error", "Bad Gateway"…) have no other mark.
                _ => 500,
            };
            SendError::Provider {
                http,
                code: Some(u32::from(http)),
                message: text,
            }
        }
    }
}

trait WithoutUrl {
    fn without_url_string(&self) -> String;
}

impl WithoutUrl for std::sync::Arc<reqwest::Error> {
    fn without_url_string(&self) -> String {
        let kind = if self.is_timeout() {
            "timed out"
        } else if self.is_connect() {
            "could not connect"
        } else {
            "the request failed"
        };
        format!("Telegram: {kind}")
    }
}

/// The question without the numbered list that SMS needs: the buttons show the answers.
fn strip_numbered<'a>(body: &'a str, labels: &[String]) -> &'a str {
    let numbered: String = labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("\n{} {l}", i + 1))
        .collect();
    body.strip_suffix(&numbered).unwrap_or(body)
}

/// The inline keyboard of a question sent as message `id`: numbers in rows of six, short
/// answers side by side, longer ones one to a row.
#[must_use]
pub fn keyboard(id: i64, b: &Buttons) -> InlineKeyboardMarkup {
    let buttons: Vec<InlineKeyboardButton> = b
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| InlineKeyboardButton::callback(l.clone(), callback_data(id, i, &b.step)))
        .collect();
    let numbers = b.labels.iter().all(|l| l.parse::<i64>().is_ok());
    let short = b.labels.len() <= 3 && b.labels.iter().all(|l| l.chars().count() <= 12);
    let per_row = if numbers {
        6
    } else if short {
        3
    } else {
        1
    };
    InlineKeyboardMarkup::new(buttons.chunks(per_row).map(<[_]>::to_vec))
}

/// `callback_data` naming the question's message, the option and the step:
/// `<message>:<option>:<step>`, the step cut to fit in 64 bytes.
#[must_use]
pub fn callback_data(message: i64, option: usize, step: &str) -> String {
    let mut s = format!("{message}:{option}:");
    for c in step.chars() {
        if s.len() + c.len_utf8() > MAX_CALLBACK_DATA {
            break;
        }
        s.push(c);
    }
    s
}

/// The message, option and (possibly cut) step of a button's `callback_data`; `None` for
/// anything we did not make.
#[must_use]
pub fn parse_callback(data: &str) -> Option<(i64, usize, &str)> {
    if data.len() > MAX_CALLBACK_DATA {
        return None;
    }
    let mut parts = data.splitn(3, ':');
    let message = parts.next()?.parse().ok().filter(|m: &i64| *m > 0)?;
    let option = parts.next()?.parse().ok().filter(|o: &usize| *o < 100)?;
    Some((message, option, parts.next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_fits_in_64_bytes_and_reads_back() {
        let d = callback_data(123, 2, "companionship");
        assert_eq!(d, "123:2:companionship");
        assert_eq!(parse_callback(&d), Some((123, 2, "companionship")));
        let long = "é".repeat(80);
        let d = callback_data(i64::MAX, 10, &long);
        assert!(d.len() <= MAX_CALLBACK_DATA, "{}", d.len());
        let (m, o, step) = parse_callback(&d).unwrap();
        assert_eq!((m, o), (i64::MAX, 10));
        assert!(long.starts_with(step) && !step.is_empty());
        for bad in [
            "",
            "x:1:s",
            "1:x:s",
            "-1:0:s",
            "1:0",
            "1:1000:s",
            &"9".repeat(70),
        ] {
            assert_eq!(parse_callback(bad), None, "{bad}");
        }
    }

    #[test]
    fn buttons_replace_the_numbered_list_and_lay_out_by_length() {
        let b = Buttons {
            step: "companionship".into(),
            labels: vec!["Rarement".into(), "Parfois".into(), "Souvent".into()],
        };
        let body = "Manque de compagnie?\n1 Rarement\n2 Parfois\n3 Souvent";
        assert_eq!(strip_numbered(body, &b.labels), "Manque de compagnie?");
        assert_eq!(strip_numbered("Oui ou non?", &b.labels), "Oui ou non?");
        let k = keyboard(7, &b);
        assert_eq!(k.inline_keyboard.len(), 1);
        assert_eq!(k.inline_keyboard[0].len(), 3);
        let scale = Buttons {
            step: "satisfied".into(),
            labels: (0..=10).map(|n| n.to_string()).collect(),
        };
        let k = keyboard(7, &scale);
        assert_eq!(
            k.inline_keyboard.iter().map(Vec::len).collect::<Vec<_>>(),
            [6, 5]
        );
        let long = Buttons {
            step: "ons-lonely".into(),
            labels: vec!["Often/always".into(), "Some of the time".into()],
        };
        assert_eq!(keyboard(7, &long).inline_keyboard.len(), 2);
    }
}
