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
mod checkpoint;
mod db;
mod hospital;
mod rows;
mod search;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::ports::{SchemaStatus, Store, TxControl};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::db::Conn;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Read connections open at once; more readers wait for one.
const READERS: usize = 8;

pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, msg) => {
            let text = msg.clone().unwrap_or_else(|| f.to_string());
            match f.code {
                ErrorCode::ConstraintViolation => StoreError::Conflict(text),
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen => StoreError::Unavailable(text),
                _ => StoreError::Other(text),
            }
        }
        _ => StoreError::Other(e.to_string()),
    }
}

fn sqlx_err(e: sqlx::Error) -> StoreError {
    StoreError::Schema(e.to_string())
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// The one write connection, held by one transaction at a time.
    write: Arc<tokio::sync::Mutex<Conn>>,
    /// The read connections; a permit is taken before looking for a free one.
    readers: Vec<Arc<tokio::sync::Mutex<Conn>>>,
    permits: Arc<Semaphore>,
    checkpointer: checkpoint::Checkpointer,
    closed: AtomicBool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
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
        // The writer first: it creates the file and sets WAL, which readers need.
        let write = Conn::open(&path, true).map_err(map_err)?;
        let readers = (0..READERS)
            .map(|_| Conn::open(&path, false).map(|c| Arc::new(tokio::sync::Mutex::new(c))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_err)?;
        let checkpointer = checkpoint::Checkpointer::start(&path).map_err(map_err)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                write: Arc::new(tokio::sync::Mutex::new(write)),
                readers,
                permits: Arc::new(Semaphore::new(READERS)),
                checkpointer,
                closed: AtomicBool::new(false),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn closed(&self) -> StoreResult<()> {
        if self.inner.closed.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("the database is closed".into()))
        } else {
            Ok(())
        }
    }

    /// A free read connection, waiting (up to 30 s) while all are in use.
    async fn reader(&self) -> StoreResult<SqliteConn> {
        self.closed()?;
        let permit = tokio::time::timeout(
            Duration::from_secs(30),
            self.inner.permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| StoreError::Unavailable("no read connection within 30 s".into()))?
        .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        // A permit holder always finds a free connection, but may look while another
        // holder is taking the same one: look again.
        loop {
            for slot in &self.inner.readers {
                if let Ok(conn) = slot.clone().try_lock_owned() {
                    return Ok(SqliteConn {
                        conn,
                        _permit: permit,
                    });
                }
            }
            tokio::task::yield_now().await;
        }
    }

    async fn applied(&self) -> StoreResult<Vec<i64>> {
        let mut c = self.reader().await?;
        let c = rows::AsConn::conn(&mut c);
        let exists: i64 = db::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(c)
        .await
        .map_err(map_err)?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        db::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(c)
            .await
            .map_err(map_err)
    }
}

/// The write transaction: it holds the write connection until it commits or rolls back
/// (dropped unfinished, it rolls back). The search index's writes wait in `search` until
/// the commit (search.rs, `PendingSearch`).
pub struct SqliteTx {
    conn: OwnedMutexGuard<Conn>,
    search: search::PendingSearch,
    store: Arc<Inner>,
}

impl SqliteTx {
    fn new(conn: OwnedMutexGuard<Conn>, store: Arc<Inner>) -> SqliteTx {
        SqliteTx {
            conn,
            search: search::PendingSearch::default(),
            store,
        }
    }

    pub(crate) fn parts(&mut self) -> (&mut Conn, &mut search::PendingSearch) {
        (&mut self.conn, &mut self.search)
    }
}

/// A read connection, free again when dropped (the connection before the permit).
pub struct SqliteConn {
    conn: OwnedMutexGuard<Conn>,
    _permit: OwnedSemaphorePermit,
}

/// A read connection inside one read transaction: every read sees the same state.
pub struct SqliteSnapshot(SqliteConn);

impl Drop for SqliteTx {
    fn drop(&mut self) {
        self.conn.abandon();
    }
}

impl Drop for SqliteConn {
    fn drop(&mut self) {
        self.conn.abandon();
    }
}

impl rows::AsConn for SqliteTx {
    fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }
}
impl rows::AsConn for SqliteConn {
    fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }
}
impl rows::AsConn for SqliteSnapshot {
    fn conn(&mut self) -> &mut Conn {
        &mut self.0.conn
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
hospital::impl_guidance_reads!(SqliteTx);
hospital::impl_guidance_reads!(SqliteConn);
hospital::impl_guidance_reads!(SqliteSnapshot);
hospital::impl_guidance_writes!(SqliteTx);
// Row by row: here a statement costs no round trip.
impl ryoritsu_app::loader::ports::BulkWrites for SqliteTx {}

impl TxControl for SqliteTx {
    async fn savepoint(&mut self) -> StoreResult<()> {
        self.conn.batch("SAVEPOINT job").map_err(map_err)?;
        self.search.savepoint();
        Ok(())
    }
    async fn release_savepoint(&mut self) -> StoreResult<()> {
        self.conn.batch("RELEASE job").map_err(map_err)?;
        self.search.release();
        Ok(())
    }
    async fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.search.rollback_to_savepoint();
        self.conn
            .batch("ROLLBACK TO job; RELEASE job")
            .map_err(map_err)
    }
    async fn commit(mut self) -> StoreResult<()> {
        // Should either fail, dropping `self` rolls back what is left.
        let (conn, search) = self.parts();
        search.apply(conn).await?;
        self.conn.batch("COMMIT").map_err(map_err)?;
        self.store.checkpointer.committed();
        Ok(())
    }
    async fn rollback(mut self) -> StoreResult<()> {
        self.conn.batch("ROLLBACK").map_err(map_err)
    }
}

impl Store for SqliteStore {
    type Tx = SqliteTx;
    type Conn = SqliteConn;
    type Snapshot = SqliteSnapshot;

    async fn begin(&self) -> StoreResult<SqliteTx> {
        self.closed()?;
        let mut conn = tokio::time::timeout(
            Duration::from_secs(30),
            self.inner.write.clone().lock_owned(),
        )
        .await
        .map_err(|_| StoreError::Unavailable("the write connection is busy".into()))?;
        self.closed()?;
        // IMMEDIATE: the write lock is taken now, so the transaction never fails half-way
        // on a lock upgrade.
        conn.batch("BEGIN IMMEDIATE").map_err(map_err)?;
        Ok(SqliteTx::new(conn, self.inner.clone()))
    }

    async fn read(&self) -> StoreResult<SqliteConn> {
        self.reader().await
    }

    async fn snapshot(&self) -> StoreResult<SqliteSnapshot> {
        let mut c = self.reader().await?;
        // A deferred transaction takes its snapshot at the first read: take it now.
        c.conn
            .batch("BEGIN; SELECT 1 FROM audit_head")
            .map_err(map_err)?;
        Ok(SqliteSnapshot(c))
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
        if pending.is_empty() {
            return Ok(pending);
        }
        // Migrations run through sqlx's migrator (its `_sqlx_migrations` table is the
        // record of what was applied), on a connection of their own while the store's
        // write connection is held, so that nothing writes meanwhile.
        let _write = self.inner.write.lock().await;
        let options =
            SqliteConnectOptions::from_str(&format!("sqlite://{}", self.inner.path.display()))
                .map_err(sqlx_err)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(sqlx_err)?;
        let ran = MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Schema(e.to_string()));
        pool.close().await;
        ran?;
        Ok(pending)
    }

    fn describe(&self) -> String {
        "SQLite (WAL, synchronous=FULL, foreign_keys=ON)".into()
    }

    async fn health(&self) -> StoreResult<()> {
        let mut c = self.reader().await?;
        db::query("SELECT 1")
            .execute(&mut c.conn)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.inner.permits.close();
        self.inner.checkpointer.stop().await;
        // Each connection is closed once it is free; the last to close checkpoints the WAL
        // into the database file.
        for slot in self.inner.readers.iter().chain([&self.inner.write]) {
            let mut c = slot.lock().await;
            if let Ok(gone) = Conn::closed() {
                *c = gone;
            }
        }
    }

    fn file_path(&self) -> Option<&Path> {
        Some(&self.inner.path)
    }
}

const GUARD: &str = "
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;";

impl Tamper for SqliteStore {
    async fn tamper_audit(&self, sql: &str) -> Result<u64, String> {
        let mut tx = self.begin().await.map_err(|e| e.to_string())?;
        let c = &mut tx.conn;
        c.batch("DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete")
            .map_err(|e| e.to_string())?;
        let n = db::assembled(tampering(sql))
            .execute(c)
            .await
            .map_err(|e| e.to_string())?
            .rows_affected();
        c.batch(GUARD).map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(n)
    }

    async fn try_raw(&self, sql: &str) -> Result<u64, String> {
        let mut c = self.inner.write.lock().await;
        db::assembled(tampering(sql))
            .execute(&mut c)
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
    let mut c = store.reader().await?;
    db::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut c.conn)
        .await
        .map_err(map_err)
}
