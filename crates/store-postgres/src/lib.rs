//! PostgreSQL storage: for sites that already run PostgreSQL or want a server database.
//!
//! Durability: every connection sets `synchronous_commit = on`, so a commit is flushed to
//! the WAL before it is acknowledged. One write connection (owned in turn by the
//! group-commit writer, each transaction `READ COMMITTED`; appends to the audit chain lock
//! its head row, so several server instances cannot fork it) and a pool of read
//! connections that default to read-only transactions, as SQLite's read connections are.

// One module per area of the system, beside the shared row helpers.
mod access;
mod accounts;
mod cases;
mod hospital;
mod loader;
mod rows;
mod search;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::ports::{SchemaStatus, Store, TxControl};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection, Postgres, Transaction};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Whether a SQLSTATE means the database is (perhaps briefly) unable to serve rather than
/// that the request is wrong: connection exceptions (08), insufficient resources (53),
/// operator intervention such as a shutdown (57P), and serialization failures or
/// deadlocks (40001, 40P01), which a retry may get past.
fn unavailable_state(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == "40001"
        || code == "40P01"
}

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
                    if unavailable_state(&code) {
                        StoreError::Unavailable(db.message().to_owned())
                    } else {
                        StoreError::Other(db.message().to_owned())
                    }
                }
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}

#[derive(Clone)]
pub struct PgStore {
    write: PgPool,
    read: PgPool,
    /// `user@host:port/database`, for diagnostics: never the password.
    target: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`).
    /// The database must exist; `migrate` creates the tables.
    pub async fn open(url: &str) -> StoreResult<PgStore> {
        let base = PgConnectOptions::from_str(url)
            .map_err(map_err)?
            .application_name("ryoritsu")
            .options([("synchronous_commit", "on")]);
        let target = format!(
            "{}@{}:{}/{}",
            base.get_username(),
            base.get_host(),
            base.get_port(),
            base.get_database().unwrap_or_default()
        );
        let write = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone())
            .await
            .map_err(map_err)?;
        let read = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.options([("default_transaction_read_only", "on")]))
            .await
            .map_err(map_err)?;
        Ok(PgStore {
            write,
            read,
            target,
        })
    }

    async fn applied(&self) -> StoreResult<Vec<i64>> {
        let mut c = self.read.acquire().await.map_err(map_err)?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut *c)
            .await
            .map_err(map_err)?;
        if !exists {
            return Ok(Vec::new());
        }
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut *c)
            .await
            .map_err(map_err)
    }
}

pub struct PgTx(Transaction<'static, Postgres>);
pub struct PgConn(PoolConnection<Postgres>);
pub struct PgSnapshot(Transaction<'static, Postgres>);

impl rows::AsConn for PgTx {
    fn conn(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}
impl rows::AsConn for PgConn {
    fn conn(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}
impl rows::AsConn for PgSnapshot {
    fn conn(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}

rows::impl_read_repo!(PgTx);
rows::impl_read_repo!(PgConn);
rows::impl_read_repo!(PgSnapshot);
rows::impl_write_repo!(PgTx);
accounts::impl_account_reads!(PgTx);
accounts::impl_account_reads!(PgConn);
accounts::impl_account_reads!(PgSnapshot);
accounts::impl_account_writes!(PgTx);
access::impl_access_reads!(PgTx);
access::impl_access_reads!(PgConn);
access::impl_access_reads!(PgSnapshot);
access::impl_access_writes!(PgTx);
cases::impl_case_reads!(PgTx);
cases::impl_case_reads!(PgConn);
cases::impl_case_reads!(PgSnapshot);
cases::impl_case_writes!(PgTx);
cases::notices::impl_notice_reads!(PgTx);
cases::notices::impl_notice_reads!(PgConn);
cases::notices::impl_notice_reads!(PgSnapshot);
cases::notices::impl_notice_writes!(PgTx);
cases::corrections::impl_correction_reads!(PgTx);
cases::corrections::impl_correction_reads!(PgConn);
cases::corrections::impl_correction_reads!(PgSnapshot);
cases::corrections::impl_correction_writes!(PgTx);
cases::attachments::impl_attachment_reads!(PgTx);
cases::attachments::impl_attachment_reads!(PgConn);
cases::attachments::impl_attachment_reads!(PgSnapshot);
cases::attachments::impl_attachment_writes!(PgTx);
cases::support_tasks::impl_support_task_reads!(PgTx);
cases::support_tasks::impl_support_task_reads!(PgConn);
cases::support_tasks::impl_support_task_reads!(PgSnapshot);
cases::support_tasks::impl_support_task_writes!(PgTx);
search::impl_search_reads!(PgTx);
search::impl_search_reads!(PgConn);
search::impl_search_reads!(PgSnapshot);
search::impl_search_writes!(PgTx);
hospital::impl_guidance_reads!(PgTx);
hospital::impl_guidance_reads!(PgConn);
hospital::impl_guidance_reads!(PgSnapshot);
hospital::impl_guidance_writes!(PgTx);
loader::impl_bulk_writes!(PgTx);

impl TxControl for PgTx {
    async fn savepoint(&mut self) -> StoreResult<()> {
        self.0.execute("SAVEPOINT job").await.map_err(map_err)?;
        Ok(())
    }
    async fn release_savepoint(&mut self) -> StoreResult<()> {
        self.0.execute("RELEASE job").await.map_err(map_err)?;
        Ok(())
    }
    async fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        // A plain string goes over the simple-query protocol, which takes both statements.
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

impl Store for PgStore {
    type Tx = PgTx;
    type Conn = PgConn;
    type Snapshot = PgSnapshot;

    async fn begin(&self) -> StoreResult<PgTx> {
        self.write
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map(PgTx)
            .map_err(map_err)
    }

    async fn read(&self) -> StoreResult<PgConn> {
        self.read.acquire().await.map(PgConn).map_err(map_err)
    }

    async fn snapshot(&self) -> StoreResult<PgSnapshot> {
        let mut tx = self
            .read
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(map_err)?;
        // The snapshot is taken at the first statement, not at BEGIN: take it now.
        sqlx::query("SELECT 1 FROM audit_head")
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        Ok(PgSnapshot(tx))
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
        "PostgreSQL (synchronous_commit=on)".into()
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
        None
    }
}

impl Tamper for PgStore {
    async fn tamper_audit(&self, sql: &str) -> Result<u64, String> {
        let mut c = self.write.acquire().await.map_err(|e| e.to_string())?;
        let mut tx = c.begin().await.map_err(|e| e.to_string())?;
        // Transactional DDL: the guard is off only inside this transaction.
        tx.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
            .await
            .map_err(|e| e.to_string())?;
        let n = tx
            .execute(sqlx::AssertSqlSafe(tampering(sql)))
            .await
            .map_err(|e| e.to_string())?
            .rows_affected();
        tx.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
            .await
            .map_err(|e| e.to_string())?;
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

/// The server's version string, for diagnostics.
pub async fn server_version(store: &PgStore) -> StoreResult<String> {
    let mut c = store.read.acquire().await.map_err(map_err)?;
    sqlx::query_scalar("SELECT version()")
        .fetch_one(&mut *c)
        .await
        .map_err(map_err)
}

#[cfg(test)]
mod tests {
    use super::unavailable_state;

    #[test]
    fn transient_states_are_unavailable() {
        for code in [
            "08006", "08P01", "53100", "53300", "57P01", "57P03", "40001", "40P01",
        ] {
            assert!(unavailable_state(code), "{code}");
        }
        for code in ["23505", "42P01", "57014", "40002", "P0001", ""] {
            assert!(!unavailable_state(code), "{code}");
        }
    }
}
