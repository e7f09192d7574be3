//! A whole SMS conversation by hand, with no Twilio account: runs the tests' local stand-in of
//! Twilio's Messages API, prints every message `matters serve` sends through it, and turns each
//! line you type (`+15145550123 Bonjour`) into a webhook signed as Twilio signs them.
//!
//! ```text
//! cargo run --example twilio_stand_in            # listens on 127.0.0.1:8090
//! TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 TWILIO_AUTH_TOKEN=stand-in-token \
//!   TWILIO_FROM=+15145550000 TWILIO_API_BASE=http://127.0.0.1:8090 \
//!   MATTERS_PUBLIC_URL=http://127.0.0.1:8080 cargo run -- serve
//! ```

#[path = "../tests/support/twilio.rs"]
mod standin;

use std::io::BufRead;

const SID: &str = "AC00000000000000000000000000000000";
const TOKEN: &str = "stand-in-token";
const OURS: &str = "+15145550000";

#[tokio::main]
async fn main() {
    let matters =
        std::env::var("MATTERS_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let port: u16 = std::env::var("STAND_IN_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8090);
    let s = standin::StandIn::start_on(SID, TOKEN, port).await;
    println!(
        "Twilio stand-in on {} (account {SID}, token {TOKEN}, our number {OURS})",
        s.base
    );
    println!("Type `<phone> <text>` to text matters at {matters} as that phone; Ctrl-D to stop.");
    let printer = s.clone();
    tokio::spawn(async move {
        let mut shown = 0;
        loop {
            printer.wait_for(shown + 1).await;
            let sent = printer.sent();
            for m in &sent[shown..] {
                println!("→ {}: {}", m.to, m.body);
            }
            shown = sent.len();
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
    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/twilio/sms", matters.trim_end_matches('/'));
    let mut n = 0u64;
    while let Some(line) = rx.recv().await {
        let Some((from, text)) = line.trim().split_once(' ') else {
            println!("(type a phone number, a space, then the text)");
            continue;
        };
        n += 1;
        let sid = format!(
            "SM{:032x}",
            u128::from(n) + (u128::from(std::process::id()) << 64)
        );
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("AccountSid", SID),
            ("From", from),
            ("To", OURS),
            ("Body", text),
            ("NumMedia", "0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let sig = standin::sign(TOKEN, &url, &params);
        match http
            .post(&url)
            .header("X-Twilio-Signature", sig)
            .form(&params)
            .send()
            .await
        {
            Ok(r) => println!("← {from}: {text}   [{}]", r.status()),
            Err(e) => println!("could not reach matters at {url}: {e}"),
        }
    }
}
