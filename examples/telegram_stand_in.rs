//! A whole Telegram conversation by hand, with no bot and no network: runs the tests' local
//! stand-in of the Bot API, prints every message `matters serve` sends through it (buttons
//! numbered), and turns what you type into updates from a client's private chat.
//!
//! ```text
//! cargo run --example telegram_stand_in          # listens on 127.0.0.1:8091
//! TELEGRAM_BOT_TOKEN=7000000001:AAStandInTokenForTests_0123456789 \
//!   TELEGRAM_API_URL=http://127.0.0.1:8091 cargo run -- serve
//! cargo run -- client add camille --language fr
//! TELEGRAM_BOT_TOKEN=… TELEGRAM_API_URL=http://127.0.0.1:8091 cargo run -- client invite camille
//! ```
//!
//! Then type `42 /start <code>` (chat 42 opens the link), `42 tap 1` (taps the first button
//! under the last question sent to chat 42), `42 parfois` (types), `42 block`.

#[path = "../tests/support/telegram.rs"]
#[allow(dead_code)]
mod standin;

use std::io::BufRead;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("STAND_IN_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8091);
    let s = standin::StandIn::start_on(port).await;
    println!(
        "Telegram Bot API stand-in on {} (bot @{}, token {})",
        s.base,
        standin::USERNAME,
        standin::TOKEN
    );
    println!("Type `<chat> <text>`, `<chat> tap <n>` or `<chat> block`; Ctrl-D to stop.");
    let printer = s.clone();
    tokio::spawn(async move {
        let mut shown = 0;
        loop {
            let sent = printer
                .until("the next message", |b| {
                    (b.sent.len() > shown).then(|| b.sent[shown..].to_vec())
                })
                .await;
            for m in sent {
                shown += 1;
                println!("→ chat {} (message {}): {}", m.chat, m.message_id, m.text);
                for (i, (label, _)) in m.buttons().iter().enumerate() {
                    println!("    [{}] {label}", i + 1);
                }
            }
        }
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        let Some((chat, rest)) = line.trim().split_once(' ') else {
            continue;
        };
        let Ok(chat) = chat.parse::<i64>() else {
            println!("start with a chat number: `42 bonjour`");
            continue;
        };
        let rest = rest.trim();
        if rest == "block" {
            s.blocks(chat);
        } else if let Some(n) = rest
            .strip_prefix("tap ")
            .and_then(|n| n.trim().parse::<usize>().ok())
        {
            let last = s
                .all_sent_to(chat)
                .into_iter()
                .rev()
                .find(|m| !m.buttons().is_empty());
            match last.and_then(|m| m.buttons().get(n.wrapping_sub(1)).cloned().map(|b| (m, b))) {
                Some((m, (_, data))) => {
                    s.taps(chat, m.message_id, &data);
                }
                None => println!("no button {n} under the last question to chat {chat}"),
            }
        } else {
            s.says(chat, rest);
        }
    }
}
