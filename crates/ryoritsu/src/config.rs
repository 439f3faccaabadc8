//! Configuration: defaults < `ryoritsu.toml` < environment (`RYORITSU_…`, with `__` for
//! nesting). Any key may also come from a file named by `RYORITSU_<KEY>_FILE` (for
//! container secrets). Loading has no side effects.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A database URL whose password never reaches a log or `Debug` output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The URL with any password, and every query parameter, replaced by `***`.
    pub fn redacted(&self) -> String {
        let s = &self.0;
        let mut out = match s.split_once("://") {
            Some((scheme, rest)) => {
                let (auth_host, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, ""),
                };
                let auth_host = match auth_host.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split(':').next().unwrap_or("");
                        if userinfo.contains(':') {
                            format!("{user}:***@{host}")
                        } else {
                            format!("{user}@{host}")
                        }
                    }
                    None => auth_host.to_owned(),
                };
                format!("{scheme}://{auth_host}{path}")
            }
            None => s.clone(),
        };
        if let Some(i) = out.find('?') {
            out.truncate(i);
            out.push_str("?***");
        }
        out
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A secret (an SMTP password) that never reaches a log or `Debug` output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the connection to the SMTP relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// Plain SMTP: only for a relay on the same host or a trusted network.
    None,
    /// STARTTLS, required (the connection fails rather than continue unencrypted).
    Starttls,
    /// TLS from the start (SMTPS).
    Tls,
}

/// E-mail notices through an SMTP relay (the `[mail]` section). Off unless present.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub smtp_host: String,
    /// Defaults to 465 with `tls`, 587 with `starttls` and 25 with `none`.
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default = "MailSettings::default_tls")]
    pub tls: MailTls,
    #[serde(default)]
    pub username: Option<String>,
    /// Better given as `RYORITSU_MAIL__PASSWORD_FILE` than written in the file.
    #[serde(default)]
    pub password: Option<Secret>,
    /// The sender, e.g. `Ryoritsu <noreply@ryoritsu.example.jp>`.
    pub from: String,
    /// How often the outbox is checked for notices to send, in milliseconds.
    #[serde(default = "MailSettings::default_poll_interval_ms")]
    pub poll_interval_ms: u64,
}

impl MailSettings {
    fn default_tls() -> MailTls {
        MailTls::Starttls
    }

    fn default_poll_interval_ms() -> u64 {
        5000
    }

    pub fn port(&self) -> u16 {
        self.smtp_port.unwrap_or(match self.tls {
            MailTls::None => 25,
            MailTls::Starttls => 587,
            MailTls::Tls => 465,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` (the embedded default) or `postgres://…`.
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    /// Prometheus metrics on their own listener; off unless set.
    pub metrics_listen: Option<SocketAddr>,
    /// The address people use, e.g. `https://ryoritsu.example.jp`. An `https` origin turns
    /// on `__Host-` Secure cookies and HSTS.
    pub public_origin: Option<String>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Take client addresses from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Require a second factor for every role but workers (turning it off is not advised).
    pub require_second_factor: bool,
    /// Demo mode (also `serve --demo`).
    pub demo: bool,
    /// `pretty` or `json`.
    pub log_format: String,
    pub password: PasswordSettings,
    /// E-mail notices; off unless configured. Needs `public_origin` for the links.
    pub mail: Option<MailSettings>,
    /// A site's own rules for 療養・就労両立支援指導料 (a serialised `FeeSchedule`, see
    /// docs/fees.md) in place of the built-in revisions; the same file `fees evaluate
    /// --rules` reads, so the pages and the command give the same verdicts.
    pub fee_rules: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        let cost = ryoritsu_app::PasswordCost::default();
        Config {
            database_url: DatabaseUrl::new("sqlite://data/ryoritsu.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            public_origin: None,
            body_limit: 1024 * 1024,
            trust_forwarded_for: false,
            require_second_factor: true,
            demo: false,
            log_format: "pretty".into(),
            password: PasswordSettings {
                memory_kib: cost.memory_kib,
                iterations: cost.iterations,
                parallelism: cost.parallelism,
            },
            mail: None,
            fee_rules: None,
        }
    }
}

impl Config {
    pub fn secure(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"))
    }
}

/// The fee rules: the site's file when given, the built-in revisions otherwise. A file that
/// cannot be read or parsed is refused with where it is wrong (the server does not start).
pub fn fee_schedule(rules: Option<&Path>) -> Result<ryoritsu_domain::fees::FeeSchedule, String> {
    use ryoritsu_domain::fees::FeeSchedule;
    let Some(p) = rules else {
        return Ok(FeeSchedule::standard());
    };
    let r = std::fs::read_to_string(p)
        .map_err(|e| format!("ルールファイル {} を読めません: {e}", p.display()))?;
    serde_json::from_str::<FeeSchedule>(&r).map_err(|e| {
        format!(
            "ルールファイル {} の形式が正しくありません（{}行{}列）: {e}",
            p.display(),
            e.line(),
            e.column()
        )
    })
}

const PREFIX: &str = "RYORITSU_";

/// `RYORITSU_<KEY>_FILE=path` → `<key>` = the file's content (trimmed).
fn file_secrets(
    vars: impl Iterator<Item = (String, String)>,
) -> Result<figment::value::Dict, String> {
    let mut dict = figment::value::Dict::new();
    for (k, v) in vars {
        let Some(key) = k.strip_prefix(PREFIX).and_then(|k| k.strip_suffix("_FILE")) else {
            continue;
        };
        if key == "CONFIG" {
            continue;
        }
        let content = std::fs::read_to_string(&v)
            .map_err(|e| format!("{k} のファイル {v} を読めません: {e}"))?;
        dict.insert(
            key.to_lowercase().replace("__", "."),
            figment::value::Value::from(content.trim().to_owned()),
        );
    }
    Ok(dict)
}

pub fn load(file: Option<&Path>) -> Result<Config, String> {
    let path = file.map_or_else(
        || Path::new("ryoritsu.toml").to_path_buf(),
        Path::to_path_buf,
    );
    if file.is_some() && !path.exists() {
        return Err(format!(
            "設定ファイル {} が見つかりません。",
            path.display()
        ));
    }
    let secrets = file_secrets(std::env::vars())?;
    let mut fig = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(&path))
        .merge(
            Env::prefixed(PREFIX)
                .filter(|k| {
                    // Not configuration keys: the config file's own path, the log filter,
                    // file indirections (read below) and variables the tests use.
                    let k = k.as_str().to_ascii_lowercase();
                    !(k == "config" || k == "log" || k.ends_with("_file") || k.starts_with("test_"))
                })
                .split("__"),
        );
    for (k, v) in secrets {
        fig = fig.merge((k, v));
    }
    fig.extract::<Config>()
        .map_err(|e| format!("設定を読み込めません: {e}"))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures must return figment's own error.
mod tests {
    use super::*;

    #[test]
    fn database_urls_never_show_their_password() {
        let u = DatabaseUrl::new(
            "postgres://app:s3cret@db.internal:5432/ryoritsu?sslmode=require&password=x",
        );
        let shown = format!("{u:?} {u}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("password=x"), "{shown}");
        assert!(
            shown.contains("app:***@db.internal:5432/ryoritsu"),
            "{shown}"
        );
        assert_eq!(
            DatabaseUrl::new("sqlite://data/r.db").redacted(),
            "sqlite://data/r.db"
        );
        let cfg = Config {
            database_url: u,
            ..Config::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
    }

    #[test]
    fn environment_beats_the_file_which_beats_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ryoritsu.toml",
                "listen = \"127.0.0.1:9000\"\nbody_limit = 2048\n",
            )?;
            jail.set_env("RYORITSU_BODY_LIMIT", "4096");
            jail.create_file("dburl", "postgres://u:pw@localhost/db\n")?;
            jail.set_env("RYORITSU_DATABASE_URL_FILE", "dburl");
            jail.set_env("RYORITSU_PASSWORD__ITERATIONS", "3");
            let c = load(None).map_err(figment::Error::from)?;
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.body_limit, 4096);
            assert_eq!(c.password.iterations, 3);
            assert_eq!(c.database_url.expose(), "postgres://u:pw@localhost/db");
            Ok(())
        });
    }

    #[test]
    fn defaults_use_sqlite_under_data_on_loopback() {
        figment::Jail::expect_with(|_| {
            let c = load(None).map_err(figment::Error::from)?;
            assert_eq!(c.database_url.expose(), "sqlite://data/ryoritsu.db");
            assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
            assert!(!c.secure());
            Ok(())
        });
    }

    #[test]
    fn mail_is_off_by_default_and_its_password_comes_from_a_file_and_stays_hidden() {
        figment::Jail::expect_with(|jail| {
            assert!(load(None).map_err(figment::Error::from)?.mail.is_none());
            jail.create_file(
                "ryoritsu.toml",
                "[mail]\nsmtp_host = \"smtp.example.jp\"\nusername = \"ryoritsu\"\nfrom = \"Ryoritsu <noreply@example.jp>\"\n",
            )?;
            jail.create_file("smtp_password", "s3cret-smtp\n")?;
            jail.set_env("RYORITSU_MAIL__PASSWORD_FILE", "smtp_password");
            jail.set_env("RYORITSU_MAIL__TLS", "tls");
            let c = load(None).map_err(figment::Error::from)?;
            let m = c.mail.clone().expect("mail configured");
            assert_eq!(m.tls, MailTls::Tls);
            assert_eq!(m.port(), 465);
            assert_eq!(m.password.as_ref().map(Secret::expose), Some("s3cret-smtp"));
            assert_eq!(m.poll_interval_ms, 5000);
            assert!(!format!("{c:?}").contains("s3cret"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("ryoritsu.toml", "lisen = \"127.0.0.1:9000\"\n")?;
            assert!(load(None).is_err());
            Ok(())
        });
    }
}
