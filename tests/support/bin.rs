//! The `matters` binary as a test runs it: from the crate's directory, with none of the
//! runner's own `MATTERS_*`, `TWILIO_*` or `TELEGRAM_*` settings leaking in.

use std::process::Command;

pub fn matters() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_matters"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    for (v, _) in std::env::vars() {
        if v.starts_with("MATTERS_") || v.starts_with("TWILIO_") || v.starts_with("TELEGRAM_") {
            c.env_remove(v);
        }
    }
    c
}

/// A loopback port nobody listens on (now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
