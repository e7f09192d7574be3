//! Configuration: defaults, then an optional `matters.toml`, then `MATTERS_*` environment
//! variables. Secrets are never printed: `Debug` redacts them.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://matters.db?mode=rwc` (the default, a file in the working directory) or
    /// `postgres://user@host/db`.
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub listen: String,
    /// The centre's name, as clients know it (in every message that names the sender).
    pub centre_name: String,
    /// The centre's time zone, for clients who have not given theirs.
    pub time_zone: String,
    /// The language of last resort.
    pub default_language: String,
    /// Languages clients may be messaged in (a list, or a comma-separated string).
    #[serde(deserialize_with = "list_or_csv")]
    pub languages: Vec<String>,
    pub flows_dir: PathBuf,
    pub locales_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://matters.db?mode=rwc".into(),
            listen: "127.0.0.1:8080".into(),
            centre_name: "the health centre".into(),
            time_zone: "America/Toronto".into(),
            default_language: "en".into(),
            languages: vec!["en".into(), "fr".into()],
            flows_dir: "flows".into(),
            locales_dir: "locales".into(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field("listen", &self.listen)
            .field("centre_name", &self.centre_name)
            .field("time_zone", &self.time_zone)
            .field("default_language", &self.default_language)
            .field("languages", &self.languages)
            .field("flows_dir", &self.flows_dir)
            .field("locales_dir", &self.locales_dir)
            .finish()
    }
}

fn list_or_csv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Csv(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::Csv(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads the configuration. `file` defaults to `matters.toml` in the working directory, used
    /// only if it exists.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) if !f.exists() => {
                return Err(ConfigError(format!("{} does not exist", f.display())));
            }
            Some(f) => fig = fig.merge(Toml::file(f)),
            None => fig = fig.merge(Toml::file("matters.toml")),
        }
        fig = fig.merge(Env::prefixed("MATTERS_").ignore(&["config"]));
        fig.extract().map_err(|e| ConfigError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_database_password() {
        let c = Config {
            database_url: "postgres://matters:hunter2@db/matters".into(),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("matters:***@db"), "{shown}");
    }

    #[test]
    fn languages_accept_a_comma_separated_string() {
        let fig = Figment::from(Serialized::defaults(Config::default()))
            .merge(("languages", "en, fr,es"));
        let c: Config = fig.extract().unwrap();
        assert_eq!(c.languages, vec!["en", "fr", "es"]);
    }
}
