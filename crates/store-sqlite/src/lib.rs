//! SQLite storage: the embedded default.
//!
//! Durability: WAL with `synchronous=FULL`, so a commit is on disk before it is
//! acknowledged. One write connection (owned in turn by the group-commit writer, each
//! transaction `BEGIN IMMEDIATE` so it never fails half-way on a lock upgrade) and a pool
//! of read-only connections that read in parallel with it.

// One module per area of the system, beside the shared row helpers.
mod access;
mod accounts;
mod cases;
mod hospital;
mod rows;
mod search;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::ports::{SchemaStatus, Store, TxControl};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Executor, Row, Sqlite, SqliteConnection, Transaction};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            use sqlx::error::ErrorKind;
            match db.kind() {
                ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation => StoreError::Conflict(db.message().to_owned()),
                _ => {
                    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                    // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_FULL (13), SQLITE_IOERR (10)
                    let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(0);
                    if matches!(primary, 5 | 6 | 10 | 13) {
                        StoreError::Unavailable(db.message().to_owned())
                    } else {
                        StoreError::Other(db.message().to_owned())
                    }
                }
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// The path part of `sqlite://PATH`, `sqlite:PATH` or a bare path.
pub fn path_of(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(rest)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://data/ryoritsu.db`).
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        let path = path_of(url);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        }
        let base = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(map_err)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(map_err)?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(SqliteStore { write, read, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn applied(&self) -> StoreResult<Vec<i64>> {
        let mut c = self.read.acquire().await.map_err(map_err)?;
        let exists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)
    }
}

pub struct SqliteTx(Transaction<'static, Sqlite>);
pub struct SqliteConn(PoolConnection<Sqlite>);
pub struct SqliteSnapshot(Transaction<'static, Sqlite>);

impl rows::AsConn for SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}
impl rows::AsConn for SqliteConn {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}
impl rows::AsConn for SqliteSnapshot {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.0
    }
}

rows::impl_read_repo!(SqliteTx);
rows::impl_read_repo!(SqliteConn);
rows::impl_read_repo!(SqliteSnapshot);
rows::impl_write_repo!(SqliteTx);
accounts::impl_account_reads!(SqliteTx);
accounts::impl_account_reads!(SqliteConn);
accounts::impl_account_reads!(SqliteSnapshot);
accounts::impl_account_writes!(SqliteTx);
access::impl_access_reads!(SqliteTx);
access::impl_access_reads!(SqliteConn);
access::impl_access_reads!(SqliteSnapshot);
access::impl_access_writes!(SqliteTx);
cases::impl_case_reads!(SqliteTx);
cases::impl_case_reads!(SqliteConn);
cases::impl_case_reads!(SqliteSnapshot);
cases::impl_case_writes!(SqliteTx);
cases::notices::impl_notice_reads!(SqliteTx);
cases::notices::impl_notice_reads!(SqliteConn);
cases::notices::impl_notice_reads!(SqliteSnapshot);
cases::notices::impl_notice_writes!(SqliteTx);
cases::corrections::impl_correction_reads!(SqliteTx);
cases::corrections::impl_correction_reads!(SqliteConn);
cases::corrections::impl_correction_reads!(SqliteSnapshot);
cases::corrections::impl_correction_writes!(SqliteTx);
cases::attachments::impl_attachment_reads!(SqliteTx);
cases::attachments::impl_attachment_reads!(SqliteConn);
cases::attachments::impl_attachment_reads!(SqliteSnapshot);
cases::attachments::impl_attachment_writes!(SqliteTx);
cases::support_tasks::impl_support_task_reads!(SqliteTx);
cases::support_tasks::impl_support_task_reads!(SqliteConn);
cases::support_tasks::impl_support_task_reads!(SqliteSnapshot);
cases::support_tasks::impl_support_task_writes!(SqliteTx);
search::impl_search_reads!(SqliteTx);
search::impl_search_reads!(SqliteConn);
search::impl_search_reads!(SqliteSnapshot);
search::impl_search_writes!(SqliteTx);
hospital::impl_guidance_reads!(SqliteTx);
hospital::impl_guidance_reads!(SqliteConn);
hospital::impl_guidance_reads!(SqliteSnapshot);
hospital::impl_guidance_writes!(SqliteTx);

impl TxControl for SqliteTx {
    async fn savepoint(&mut self) -> StoreResult<()> {
        self.0.execute("SAVEPOINT job").await.map_err(map_err)?;
        Ok(())
    }
    async fn release_savepoint(&mut self) -> StoreResult<()> {
        self.0.execute("RELEASE job").await.map_err(map_err)?;
        Ok(())
    }
    async fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.0
            .execute("ROLLBACK TO job; RELEASE job")
            .await
            .map_err(map_err)?;
        Ok(())
    }
    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await.map_err(map_err)
    }
    async fn rollback(self) -> StoreResult<()> {
        self.0.rollback().await.map_err(map_err)
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;
    type Conn = SqliteConn;
    type Snapshot = SqliteSnapshot;

    async fn begin(&self) -> StoreResult<SqliteTx> {
        self.write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map(SqliteTx)
            .map_err(map_err)
    }

    async fn read(&self) -> StoreResult<SqliteConn> {
        self.read.acquire().await.map(SqliteConn).map_err(map_err)
    }

    async fn snapshot(&self) -> StoreResult<SqliteSnapshot> {
        let mut tx = self.read.begin().await.map_err(map_err)?;
        // A deferred transaction takes its snapshot at the first read: take it now.
        sqlx::query("SELECT 1 FROM audit_head")
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        Ok(SqliteSnapshot(tx))
    }

    async fn schema_status(&self) -> StoreResult<SchemaStatus> {
        Ok(SchemaStatus {
            applied: self.applied().await?,
            known: MIGRATOR.iter().map(|m| m.version).collect(),
        })
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        let status = self.schema_status().await?;
        let unknown = status.unknown();
        if !unknown.is_empty() {
            return Err(StoreError::Schema(format!(
                "the database has schema versions {unknown:?} that this program does not know; \
                 run a newer version of ryoritsu"
            )));
        }
        let pending = status.pending();
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Schema(e.to_string()))?;
        Ok(pending)
    }

    fn describe(&self) -> String {
        "SQLite (WAL, synchronous=FULL, foreign_keys=ON)".into()
    }

    async fn health(&self) -> StoreResult<()> {
        let mut c = self.read.acquire().await.map_err(map_err)?;
        c.ping().await.map_err(map_err)
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    fn file_path(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

const GUARD: &str = "
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;";

impl Tamper for SqliteStore {
    async fn tamper_audit(&self, sql: &str) -> Result<u64, String> {
        let mut c = self.write.acquire().await.map_err(|e| e.to_string())?;
        let mut tx = c.begin().await.map_err(|e| e.to_string())?;
        tx.execute("DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete")
            .await
            .map_err(|e| e.to_string())?;
        let n = tx
            .execute(sqlx::AssertSqlSafe(tampering(sql)))
            .await
            .map_err(|e| e.to_string())?
            .rows_affected();
        tx.execute(GUARD).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(n)
    }

    async fn try_raw(&self, sql: &str) -> Result<u64, String> {
        let mut c = self.write.acquire().await.map_err(|e| e.to_string())?;
        c.execute(sqlx::AssertSqlSafe(tampering(sql)))
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string())
    }
}

/// `sql` marked as run behind the application's back, so that the plan tests, which
/// explain every statement the store runs, leave it out.
fn tampering(sql: &str) -> String {
    format!("{} {sql}", ryoritsu_app::conformance::plans::TAMPER_MARK)
}

/// SQLite's own version, for `describe` and diagnostics.
pub async fn sqlite_version(store: &SqliteStore) -> StoreResult<String> {
    let mut c = store.read.acquire().await.map_err(map_err)?;
    let row = sqlx::query("SELECT sqlite_version()")
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)?;
    row.try_get::<String, _>(0).map_err(map_err)
}
