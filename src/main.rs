use clap::Parser;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    // Message bodies are logged only at debug; the default level is info. teloxide's webhook
    // logs an update it cannot parse whole (a client's message) as an error: kept out.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("MATTERS_LOG").unwrap_or_else(|_| {
            EnvFilter::new("info,teloxide::update_listeners::webhooks::axum=off")
        }))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = matters::cli::Cli::parse();
    let code = match matters::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
