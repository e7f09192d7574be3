//! `matters serve`: the HTTP server, the dispatchers, the scheduler and the Telegram poller,
//! until SIGTERM or Ctrl-C. Then it stops in order, losing and repeating nothing: webhooks are
//! answered 503 (providers retry), nothing more is claimed, the sends in flight finish (within
//! `shutdown_grace_seconds`), what never started goes back in the queue, and it exits 0.

use crate::clock::Clock;
use crate::config::Config;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(cfg: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    // A half-configured channel is an error before anything else happens.
    let twilio =
        crate::channel::twilio::TwilioConfig::from_config(cfg).map_err(anyhow::Error::msg)?;
    let telegram =
        crate::channel::telegram::TelegramConfig::from_config(cfg).map_err(anyhow::Error::msg)?;
    // Recording starts before anything that is counted does.
    let exporter = if cfg.metrics.enabled {
        crate::ops::metrics::install()
    } else {
        None
    };
    let runner = Arc::new(crate::app::build(cfg, clock).await?);
    // Held until the process exits.
    let _serving = match runner.db.file() {
        Some(f) => Some(crate::ops::backup::hold_serving(f).map_err(anyhow::Error::msg)?),
        None => None,
    };
    crate::app::warn_about_drafts(&runner.catalog);
    if cfg.centre_name_unset() {
        tracing::warn!(
            "centre_name is not set: clients read \"{}\" where the centre's name belongs; set centre_name in matters.toml or MATTERS_CENTRE_NAME",
            cfg.centre_name
        );
    }
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(database = %crate::store::redact_url(&cfg.database_url), "database ready");
    println!("matters is listening on http://{addr}");
    if cfg.simulator.enabled {
        println!(
            "channels: simulator is on, for test clients only (POST /simulator/messages, or open http://{addr}/simulator; [simulator] enabled = false turns it off)"
        );
    } else {
        println!("channels: simulator is off ([simulator] enabled = false)");
    }
    let mut state = crate::web::AppState::new(runner.clone()).with_web(cfg);
    // Everything that must finish before the process exits.
    let mut draining: Vec<(&'static str, tokio::task::JoinHandle<()>)> = Vec::new();

    let mut alert_sms = None;
    match twilio {
        Some(t) => {
            let client = Arc::new(crate::channel::twilio::Client::new(t.clone())?);
            alert_sms = Some(crate::alerts::Sms::new(client.clone()));
            let h = crate::loops::dispatch::spawn(
                runner.clone(),
                client,
                crate::domain::Channel::Sms,
                t.dispatch_settings(),
            );
            draining.push(("sms sends", h.done));
            println!("channels: {}", t.describe());
            state = state.with_twilio(t);
        }
        None => println!(
            "channels: sms is off (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM and MATTERS_PUBLIC_URL to turn it on)"
        ),
    }
    if cfg.alerts.enabled {
        // Crisis alerts that cannot reach anyone are worse than none: they look like safety.
        let alerter = crate::alerts::Alerter::new(runner.clone(), cfg, alert_sms)
            .map_err(anyhow::Error::msg)?;
        let said = alerter.check().await.map_err(anyhow::Error::msg)?;
        println!("{said}");
        draining.push(("the alerter", crate::alerts::spawn(Arc::new(alerter))));
    } else {
        println!(
            "alerts: off: urgent tasks wait on Today until someone looks ([alerts] enabled = true pushes them to a person by email and SMS)"
        );
    }
    draining.push((
        "the scheduler",
        crate::loops::scheduler::spawn(runner.clone()),
    ));
    match (&exporter, &cfg.metrics.listen) {
        (Some(m), Some(at)) => {
            let l = tokio::net::TcpListener::bind(at).await.map_err(|e| {
                anyhow::anyhow!("cannot listen on {at} for metrics ([metrics] listen): {e}")
            })?;
            println!(
                "metrics: http://{}/metrics (an address of their own)",
                l.local_addr()?
            );
            let router = crate::web::ops::metrics_only(runner.clone(), m.clone());
            let mut stop = runner.shutdown.signal();
            tokio::spawn(async move {
                let _ = axum::serve(l, router)
                    .with_graceful_shutdown(async move { stop.wait().await })
                    .await;
            });
        }
        (Some(m), None) => {
            state.metrics = Some(m.clone());
            println!(
                "metrics: http://{addr}/metrics ([metrics] listen gives them an address of their own)"
            );
        }
        (None, _) => println!("metrics: off ([metrics] enabled = false)"),
    }
    if crate::ops::retention::is_on(&cfg.retention) {
        println!(
            "retention: message words are purged after {} days, clients {} years after their last referral closed (checked daily)",
            cfg.retention
                .message_body_days
                .map_or("never".into(), |d| d.to_string()),
            cfg.retention
                .client_years
                .map_or("never".into(), |y| y.to_string())
        );
        draining.push((
            "the retention job",
            crate::ops::retention::spawn(runner.clone(), cfg.retention.clone()),
        ));
    } else {
        println!("retention: off: nothing is purged ([retention] sets the centre's policy)");
    }
    draining.push((
        "summaries and reminders",
        crate::summaries::spawn(runner.clone()),
    ));
    println!(
        "scheduler: {} sequences; scheduled messages go out {} in each client's time zone",
        runner.sequences.all().count(),
        match runner.schedule.window(None).to_string().as_str() {
            "always" => "at any hour".to_owned(),
            w => format!("between {}", w.replace('-', " and ")),
        }
    );
    let mut telegram_router = axum::Router::new();
    match telegram {
        Some(t) => {
            let mut stop = runner.shutdown.signal();
            let started = crate::loops::telegram::start(runner.clone(), &t, async move {
                stop.wait().await;
            })
            .await
            .map_err(anyhow::Error::msg)?;
            println!("{}", t.describe(&started.username));
            for (centre, bot) in &started.centres {
                println!("  centre {centre} has its own bot @{bot}");
            }
            for (centre, why) in &started.failed {
                // Said at start-up, where IT looks; its clients wait until it is mended.
                eprintln!(
                    "  centre {centre}'s own Telegram bot did not start: {why}; its clients get nothing by Telegram until it is mended and matters restarted"
                );
                tracing::error!(centre, "a centre's own Telegram bot did not start");
            }
            state.telegram_bot = Some(started.username.clone());
            telegram_router = started.router;
            draining.push(("telegram sends", started.dispatch.done));
            for p in started.pollers {
                // It confirms what it handled, so the next start does not get it again.
                draining.push(("the telegram poller", p));
            }
        }
        None => {
            println!(
                "channels: telegram is off (set TELEGRAM_BOT_TOKEN to turn it on; TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET for a webhook)"
            );
            let own = crate::centres::own_bots(&runner.db).await?;
            if !own.is_empty() {
                eprintln!(
                    "  {} centre(s) have a Telegram bot of their own, which runs only with the deployment's (TELEGRAM_BOT_TOKEN)",
                    own.len()
                );
            }
        }
    }
    // No staff yet: a one-time link for the first administrator.
    if crate::staff::count(&runner.db).await? == 0 {
        let now = crate::clock::to_ms(runner.clock.now());
        let token = crate::staff::setup_link(&runner.db, None, now, 24).await?;
        let base = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        println!(
            "no staff accounts yet: open {}/setup/{token} to create the first administrator (valid 24 hours, once)",
            base.trim_end_matches('/')
        );
    } else {
        println!("navigators sign in at http://{addr}/login");
    }
    let app = crate::web::app(state).merge(telegram_router);
    let (close_tx, close_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = close_rx.await;
            })
            .into_future(),
    );
    tokio::select! {
        () = crate::shutdown::signalled() => {}
        r = &mut server => {
            runner.shutdown.trigger();
            runner.db.close().await;
            return match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(anyhow::anyhow!("the HTTP server stopped: {e}")),
                Err(e) => Err(anyhow::anyhow!("the HTTP server failed: {e}")),
            };
        }
    }
    stop(&runner, draining, cfg.shutdown_grace_seconds).await;
    // The server answered webhooks 503 while the rest drained; now it closes.
    let _ = close_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    runner.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Raises the stop and waits, at most `grace_seconds`, for every loop to finish what it
/// started. A send still in flight after that stays claimed: it is *in doubt*, and looked up at
/// the provider after the next start.
async fn stop(
    runner: &crate::runner::Runner,
    draining: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
    grace_seconds: u32,
) {
    runner.shutdown.trigger();
    let grace = Duration::from_secs(u64::from(grace_seconds));
    let names: Vec<&str> = draining.iter().map(|(n, _)| *n).collect();
    tracing::info!(
        grace_seconds,
        "stopping: webhooks answer 503, nothing new is claimed, sends in flight finish"
    );
    let waits = draining.into_iter().map(|(name, h)| async move {
        let _ = h.await;
        name
    });
    match tokio::time::timeout(grace, futures_util::future::join_all(waits)).await {
        Ok(_) => tracing::info!(finished = ?names, "every send in flight finished"),
        Err(_) => tracing::warn!(
            grace_seconds,
            "some sends were still in flight when the grace period ended: they are looked up at the provider after the next start, never blindly sent twice"
        ),
    }
}
