//! `matters staff …`: add navigators and administrators, issue and revoke API tokens.

use crate::clock::Clock;
use crate::config::Config;
use crate::staff::{self, Role, Scope};
use clap::Subcommand;
use std::io::BufRead;
use std::sync::Arc;

const ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a staff member. They choose their password through the one-time link printed, or
    /// give it now with --password-stdin.
    Add {
        /// Their user name (what they sign in with).
        username: String,
        /// admin or navigator.
        #[arg(long, default_value = "navigator")]
        role: String,
        /// Their name as navigators see it.
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The centre they work for (`matters centres list`). Without it: the default centre,
        /// and an administrator added so administers the whole deployment.
        #[arg(long)]
        centre: Option<String>,
    },
    /// List staff accounts.
    List,
    /// Turn an account off (someone who left); their sessions end at once.
    Disable {
        /// Their user name (what they sign in with).
        username: String,
    },
    /// Turn an account back on.
    Enable {
        /// Their user name (what they sign in with).
        username: String,
    },
    /// A new one-time link for a staff member to choose a new password.
    Link {
        /// Their user name (what they sign in with).
        username: String,
    },
    /// Issue an API bearer token (printed once; only its hash is kept).
    Token {
        /// Who or what uses it.
        name: String,
        /// read, write, or fhir (the /fhir routes only: an EMR sending referrals).
        #[arg(long, default_value = "read")]
        scope: String,
        /// The one centre whose clients it reaches (default: the default centre).
        #[arg(long)]
        centre: Option<String>,
    },
    /// Revoke an API token by its number.
    Revoke {
        /// The token's number, as `staff token` printed it.
        id: i64,
    },
    /// Where urgent alerts reach a staff member, and when they work. An empty value clears.
    Contact {
        /// Their user name (what they sign in with).
        username: String,
        /// Their email address, for alerts.
        #[arg(long)]
        email: Option<String>,
        /// Their mobile number (E.164, like +16135550100), for alert texts; replying OK to an
        /// alert from it acknowledges it.
        #[arg(long)]
        phone: Option<String>,
        /// When they work, in the centre's time zone, like "Mon-Fri 09:00-17:00" (default: the
        /// centre's [alerts] working_hours).
        #[arg(long)]
        hours: Option<String>,
    },
}

/// The staff member with this user name, or `None` after saying there is none.
async fn named(db: &crate::store::Db, username: &str) -> anyhow::Result<Option<staff::Staff>> {
    let found = staff::list(db, None)
        .await?
        .into_iter()
        .find(|s| s.username == username.trim().to_lowercase());
    if found.is_none() {
        eprintln!("no staff member called {username}");
    }
    Ok(found)
}

/// The site's base URL, for links given to people.
fn site(cfg: &Config) -> String {
    cfg.public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", cfg.listen))
}

pub async fn run(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    command: StaffCommand,
) -> anyhow::Result<i32> {
    let db = crate::app::connect(cfg).await?;
    db.migrate().await?;
    let now = crate::clock::to_ms(clock.now());
    match command {
        StaffCommand::Add {
            username,
            role,
            name,
            password_stdin,
            centre,
        } => {
            let role = Role::parse(&role)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let s = match centre {
                None => {
                    staff::add(&db, &username, &name, role, password.as_deref(), now, ACTOR).await?
                }
                Some(c) => {
                    let c = crate::cli::centres::known(&db, &c).await?;
                    staff::add_in(
                        &db,
                        &staff::Membership::of(&c),
                        &username,
                        &name,
                        role,
                        password.as_deref(),
                        now,
                        ACTOR,
                    )
                    .await?
                }
            };
            println!(
                "added {} ({}) as {} of {}",
                s.name,
                s.username,
                role.as_str(),
                if s.all_centres {
                    "every centre"
                } else {
                    s.centre.as_str()
                }
            );
            if password.is_none() {
                let token = staff::setup_link(&db, Some(s.id), now, 72).await?;
                let base = site(cfg);
                println!(
                    "give them this one-time link to choose a password (valid 72 hours): {}/setup/{token}",
                    base.trim_end_matches('/')
                );
            }
        }
        StaffCommand::List => {
            for s in staff::list(&db, None).await? {
                let off = if s.active { "" } else { "  (off)" };
                let centre = if s.all_centres {
                    "every centre"
                } else {
                    s.centre.as_str()
                };
                println!(
                    "{:<20} {:<10} {:<16} {}{off}",
                    s.username,
                    s.role.as_str(),
                    centre,
                    s.name
                );
            }
        }
        StaffCommand::Disable { username } | StaffCommand::Enable { username }
            if !staff::list(&db, None)
                .await?
                .iter()
                .any(|s| s.username == username.trim().to_lowercase()) =>
        {
            eprintln!("no staff member called {username}");
            return Ok(1);
        }
        StaffCommand::Disable { username } => {
            staff::set_active(&db, &username, false, ACTOR, now).await?;
            println!("{username} can no longer sign in; their sessions ended");
        }
        StaffCommand::Enable { username } => {
            staff::set_active(&db, &username, true, ACTOR, now).await?;
            println!("{username} can sign in again");
        }
        StaffCommand::Link { username } => {
            let Some(s) = named(&db, &username).await? else {
                return Ok(1);
            };
            let token = staff::setup_link(&db, Some(s.id), now, 72).await?;
            let base = site(cfg);
            println!(
                "give {} this one-time link to choose a new password (valid 72 hours): {}/setup/{token}",
                s.name,
                base.trim_end_matches('/')
            );
        }
        StaffCommand::Contact {
            username,
            email,
            phone,
            hours,
        } => {
            let Some(s) = named(&db, &username).await? else {
                return Ok(1);
            };
            let keep = |new: Option<String>, old: &Option<String>| {
                new.unwrap_or_else(|| old.clone().unwrap_or_default())
            };
            let (email, phone, hours) = (
                keep(email, &s.email),
                keep(phone, &s.phone),
                keep(hours, &s.working_hours),
            );
            if let Err(e) = staff::set_contact(&db, s.id, &email, &phone, &hours, now, ACTOR).await
            {
                eprintln!("{e}");
                return Ok(1);
            }
            println!(
                "{}: alerts by email {}, by text {}; working hours {}",
                s.username,
                if email.trim().is_empty() { "off" } else { "on" },
                if phone.trim().is_empty() { "off" } else { "on" },
                if hours.trim().is_empty() {
                    "the centre's"
                } else {
                    hours.trim()
                }
            );
        }
        StaffCommand::Token {
            name,
            scope,
            centre,
        } => {
            let scope = Scope::parse(&scope)?;
            let centre = match centre {
                Some(c) => crate::cli::centres::known(&db, &c).await?,
                None => crate::centres::DEFAULT.to_owned(),
            };
            let (t, secret) = staff::issue_token_in(&db, &centre, &name, scope, ACTOR, now).await?;
            println!(
                "token {} for {} ({}); copy it now, it is not shown again:",
                t.id,
                t.name,
                scope.as_str()
            );
            println!("{secret}");
        }
        StaffCommand::Revoke { id } => {
            if staff::revoke_token(&db, id, None, ACTOR, now).await? {
                println!("token {id} revoked");
            } else {
                eprintln!("no live token {id}");
                return Ok(1);
            }
        }
    }
    Ok(0)
}
