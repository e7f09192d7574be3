use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    // Message bodies are logged only at debug; the default level is info. teloxide's webhook
    // logs an update it cannot parse whole (a client's message) as an error: kept out.
    let filter = EnvFilter::try_from_env("MATTERS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,teloxide::update_listeners::webhooks::axum=off"));
    // MATTERS_LOG_FORMAT=json: one JSON object per line, for a log collector.
    let json = std::env::var("MATTERS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    let cli = matters::cli::parse();
    let code = match matters::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
