//! The database under test: a fresh SQLite file, or a PostgreSQL database (empty, or
//! dropped and re-created with `--fresh`), and how much disk it takes.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite {
        path: PathBuf,
        url: String,
    },
    Postgres {
        url: String,
        /// The database's name (checked to be a plain identifier).
        name: String,
    },
}

/// The parts of a `postgres://` URL the bench needs: the database name and the URL of the
/// maintenance database on the same server.
pub fn parse_postgres_url(url: &str) -> Result<(String, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not a URL: {}", redact(url)))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, name) = before_query
        .split_once('/')
        .ok_or_else(|| format!("the URL names no database: {}", redact(url)))?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "the database name `{name}` must be lower-case letters, digits and `_`"
        ));
    }
    let mut maintenance = format!("{scheme}://{authority}/postgres");
    if let Some(q) = query {
        maintenance.push('?');
        maintenance.push_str(q);
    }
    Ok((name.to_owned(), maintenance))
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_owned(),
    };
    let path = match path.split_once('?') {
        Some((p, _)) => format!("{p}?***"),
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

/// Runs one SQL statement through `psql` and returns its unaligned, tuples-only output.
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| format!("psql could not be run (is it installed?): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql {}: {}",
            sql,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Db {
    /// `sqlite` / `sqlite://` alone: a fresh file in `work`. `sqlite://PATH`: that file,
    /// which must not exist (or is removed with `fresh`). `postgres://…/NAME`: that
    /// database, which must be empty (or is dropped and re-created with `fresh`).
    pub fn prepare(url: &str, fresh: bool, work: &Path) -> Result<Db, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (name, maintenance) = parse_postgres_url(url)?;
            if fresh {
                psql(
                    &maintenance,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                )?;
                psql(&maintenance, &format!("CREATE DATABASE {name}"))?;
            } else {
                let tables = psql(
                    url,
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
                )
                .map_err(|e| {
                    format!("{e}\n(the database must exist and be empty; --fresh creates it)")
                })?;
                if tables != "0" {
                    return Err(format!(
                        "the database {name} is not empty ({tables} tables): the bench needs an empty database; --fresh drops and re-creates it"
                    ));
                }
            }
            return Ok(Db::Postgres {
                url: url.to_owned(),
                name,
            });
        }
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .or_else(|| (url == "sqlite").then_some(""))
            .ok_or_else(|| {
                format!(
                    "unsupported database URL {}: use sqlite:// (a fresh file) or postgres://…",
                    redact(url)
                )
            })?;
        let rest = rest.split('?').next().unwrap_or("");
        let path = if rest.is_empty() {
            work.join("bench.db")
        } else {
            let p = PathBuf::from(rest);
            let p = if p.is_absolute() {
                p
            } else {
                std::env::current_dir()
                    .map_err(|e| format!("current directory: {e}"))?
                    .join(p)
            };
            if p.exists() {
                if !fresh {
                    return Err(format!(
                        "{} exists: the bench starts from an empty database (--fresh removes it)",
                        p.display()
                    ));
                }
                for f in sqlite_files(&p) {
                    let _ = std::fs::remove_file(f);
                }
            }
            p
        };
        Ok(Db::Sqlite {
            url: format!("sqlite://{}", path.display()),
            path,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            Db::Sqlite { url, .. } | Db::Postgres { url, .. } => url,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }

    /// The durability settings the server configures for this backend.
    pub fn settings(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => {
                "WAL, synchronous=FULL (as the server configures it; durability as shipped)"
            }
            Db::Postgres { .. } => {
                "synchronous_commit=on (as the server configures it; durability as shipped)"
            }
        }
    }

    /// Bytes on disk, and how they were measured. Called with the server stopped.
    pub fn disk_bytes(&self) -> Result<(u64, String), String> {
        match self {
            Db::Sqlite { path, .. } => {
                let mut total = 0;
                for f in [path.clone(), with_suffix(path, "-wal")] {
                    total += std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                }
                Ok((
                    total,
                    "SQLite: size of the database file + its -wal after the server stopped cleanly (it checkpoints on close)".into(),
                ))
            }
            Db::Postgres { url, .. } => {
                let method = match psql(url, "CHECKPOINT") {
                    Ok(_) => "PostgreSQL: pg_database_size after CHECKPOINT".to_owned(),
                    Err(e) => format!("PostgreSQL: pg_database_size (CHECKPOINT refused: {e})"),
                };
                let size = psql(url, "SELECT pg_database_size(current_database())")?;
                let bytes = size
                    .parse()
                    .map_err(|e| format!("pg_database_size `{size}`: {e}"))?;
                Ok((bytes, method))
            }
        }
    }

    /// CPU ticks of the database server for this database (PostgreSQL only).
    pub fn server_ticks(&self) -> Option<u64> {
        match self {
            Db::Sqlite { .. } => None,
            Db::Postgres { name, .. } => Some(crate::procfs::postgres_ticks(name).0),
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn sqlite_files(path: &Path) -> [PathBuf; 3] {
    [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_give_the_database_and_the_maintenance_database() {
        let (name, m) =
            parse_postgres_url("postgres://u:pw@127.0.0.1:5432/ryoritsu_bench").unwrap();
        assert_eq!(name, "ryoritsu_bench");
        assert_eq!(m, "postgres://u:pw@127.0.0.1:5432/postgres");
        let (_, m) = parse_postgres_url("postgresql://u@h/db1?sslmode=disable").unwrap();
        assert_eq!(m, "postgresql://u@h/postgres?sslmode=disable");
        assert!(parse_postgres_url("postgres://u@h/").is_err());
        assert!(parse_postgres_url("postgres://u@h/x;drop").is_err());
        assert!(parse_postgres_url("postgres://u@h").is_err());
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://u:secret@127.0.0.1:5432/db?password=x"),
            "postgres://u:***@127.0.0.1:5432/db?***"
        );
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn sqlite_gets_a_fresh_file_in_the_work_directory() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::prepare("sqlite://", false, dir.path()).unwrap();
        assert_eq!(db.kind(), "sqlite");
        assert_eq!(
            db.url(),
            format!("sqlite://{}", dir.path().join("bench.db").display())
        );
        let existing = dir.path().join("old.db");
        std::fs::write(&existing, b"x").unwrap();
        let url = format!("sqlite://{}", existing.display());
        assert!(Db::prepare(&url, false, dir.path()).is_err());
        assert!(Db::prepare(&url, true, dir.path()).is_ok());
        assert!(!existing.exists());
        assert!(Db::prepare("mysql://x", false, dir.path()).is_err());
    }
}
