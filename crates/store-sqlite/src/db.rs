//! Statements run in the calling task, on a rusqlite connection the caller holds.
//!
//! SQLite is a library, not a server: a statement over pages in the cache takes a few
//! microseconds. sqlx runs each SQLite connection on a thread of its own and hands every
//! statement over a channel, which cost two thread wake-ups per statement and, measured
//! under the benchmark, more CPU than the statements themselves. Here the task that holds
//! the connection (the group-commit writer, or a request holding a read connection) runs
//! its statements itself, through rusqlite's cache of prepared statements.
//!
//! The query surface mirrors the few calls the store uses (`query(sql).bind(v).fetch_all(c)`,
//! rows read by column name), so the SQL of every area stays as it was written. Parameters
//! are `$N` (bound by number, as PostgreSQL's are) or `?` (bound in order). Every statement
//! is reported as a `tracing` event of target [`STATEMENT_TARGET`] so that the plan test can
//! explain it.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::{Type, Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

pub use ryoritsu_app::conformance::plans::STATEMENT_TARGET;

pub type Result<T> = std::result::Result<T, rusqlite::Error>;

/// How large the WAL may grow before the writer checkpoints itself, in bytes (and how much
/// of its file is kept when it starts again).
pub const WAL_LIMIT: i64 = 64 * 1024 * 1024;

/// An open connection, with the settings every connection of the store has.
pub struct Conn(Connection);

impl Conn {
    /// Opens the database file: read-write (creating it) for the writer, read-only for
    /// readers. WAL with `synchronous=FULL`: a commit is on disk before it is acknowledged.
    pub fn open(path: &Path, writable: bool) -> Result<Conn> {
        let flags = if writable {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let c = Connection::open_with_flags(path, flags)?;
        c.busy_timeout(Duration::from_secs(10))?;
        if writable {
            let mode: String =
                c.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!(
                        "the database stays in journal mode {mode}, not WAL"
                    )),
                ));
            }
        }
        if writable {
            // Checkpoints run on a thread of their own (checkpoint.rs), not inside the
            // writer's commits. That thread cannot bound the WAL alone: the WAL is used
            // again from its start only when a write begins after a checkpoint that copied
            // all of it, and under writes without a pause new frames always arrive while
            // it copies (a bulk load grew it to 51 GB). So the writer checkpoints itself
            // once the WAL passes `WAL_LIMIT` (it copies only what the thread has not), and
            // its next transaction starts the WAL again.
            let page_size: i64 = c.pragma_query_value(None, "page_size", |r| r.get(0))?;
            c.pragma_update(None, "wal_autocheckpoint", WAL_LIMIT / page_size.max(512))?;
            // At most this much of the file is kept when the WAL starts again.
            c.pragma_update(None, "journal_size_limit", WAL_LIMIT)?;
        }
        // Plans do not depend on the values bound: without this SQLite prepares a
        // statement again whenever a new value of a `LIMIT ?` (or of a parameter its
        // statistics could weigh) is bound, and a search binds new ones every time.
        c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        c.pragma_update(None, "synchronous", "FULL")?;
        c.pragma_update(None, "foreign_keys", "ON")?;
        c.pragma_update(None, "temp_store", "MEMORY")?;
        c.set_prepared_statement_cache_capacity(if writable { 512 } else { 256 });
        Ok(Conn(c))
    }

    /// Copies what the WAL holds into the database file as far as no reader still needs
    /// it, without waiting for anyone (`PASSIVE`).
    pub fn checkpoint(&mut self) -> Result<()> {
        self.0
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
    }

    /// A connection to nothing, left in place of a closed one.
    pub fn closed() -> Result<Conn> {
        Ok(Conn(Connection::open_in_memory()?))
    }

    /// Runs statements without parameters, one after another (`BEGIN`, `RELEASE job` …).
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        report(sql);
        self.0.execute_batch(sql)
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        !self.0.is_autocommit()
    }

    /// Ends an open transaction without keeping its writes; nothing when none is open.
    pub fn abandon(&mut self) {
        if self.in_transaction() {
            // A connection whose rollback fails is left to SQLite, which rolls back when
            // the connection closes.
            let _ = self.0.execute_batch("ROLLBACK");
        }
    }
}

fn report(sql: &str) {
    tracing::event!(target: STATEMENT_TARGET, tracing::Level::TRACE, db.statement = sql);
}

/// A value bound to a parameter.
pub trait Bind {
    fn value(&self) -> Value;
}

macro_rules! bind_int {
    ($($t:ty),*) => {$(
        impl Bind for $t {
            fn value(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
bind_int!(i64, i32, i16, u32, u16, u8, bool);

impl Bind for f64 {
    fn value(&self) -> Value {
        Value::Real(*self)
    }
}
impl Bind for str {
    fn value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl Bind for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl Bind for [u8] {
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl Bind for Vec<u8> {
    fn value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<const N: usize> Bind for [u8; N] {
    fn value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
/// As sqlx stores it: the 16 bytes.
impl Bind for Uuid {
    fn value(&self) -> Value {
        Value::Blob(self.as_bytes().to_vec())
    }
}
impl<T: Bind> Bind for Option<T> {
    fn value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Bind::value)
    }
}
impl<T: Bind + ?Sized> Bind for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}
impl<T: Bind + ?Sized> Bind for Box<T> {
    fn value(&self) -> Value {
        (**self).value()
    }
}
impl<T: Bind + ?Sized> Bind for Arc<T> {
    fn value(&self) -> Value {
        (**self).value()
    }
}

/// A statement and its parameters.
#[must_use]
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Value>,
}

/// A statement whose rows are one value each.
#[must_use]
pub struct Scalar<'q, T> {
    query: Query<'q>,
    _t: std::marker::PhantomData<fn() -> T>,
}

/// A statement written as a literal; values are bound, never spliced into the text.
pub fn query(sql: &'static str) -> Query<'static> {
    Query {
        sql: Cow::Borrowed(sql),
        args: Vec::new(),
    }
}

/// A statement assembled at run time from fixed fragments of the store's own code (a
/// search's filters, a multi-row INSERT); its values are bound like any other's.
pub fn assembled(sql: String) -> Query<'static> {
    Query {
        sql: Cow::Owned(sql),
        args: Vec::new(),
    }
}

pub fn query_scalar<T: Decode>(sql: &'static str) -> Scalar<'static, T> {
    Scalar {
        query: query(sql),
        _t: std::marker::PhantomData,
    }
}

/// `head VALUES (?, …), …`: a multi-row INSERT of `rows` rows of `width` values each, to
/// be bound row after row.
pub fn insert_rows(head: &str, rows: usize, width: usize) -> Query<'static> {
    let one = format!("({})", vec!["?"; width].join(", "));
    let mut sql = String::with_capacity(head.len() + 8 + rows * (one.len() + 2));
    sql.push_str(head);
    sql.push_str(" VALUES ");
    sql.push_str(&vec![one; rows].join(", "));
    Query {
        sql: Cow::Owned(sql),
        args: Vec::with_capacity(rows * width),
    }
}

/// What an executed statement changed.
pub struct Done(u64);

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.0
    }
}

impl<'q> Query<'q> {
    pub fn bind<T: Bind>(mut self, v: T) -> Self {
        self.args.push(v.value());
        self
    }

    /// Runs the statement, reading and dropping any rows it returns.
    pub async fn execute(self, c: &mut Conn) -> Result<Done> {
        self.run(c, |_| Ok(())).map(|_| Done(c.0.changes()))
    }

    pub async fn fetch_all(self, c: &mut Conn) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        self.run(c, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    pub async fn fetch_optional(self, c: &mut Conn) -> Result<Option<Row>> {
        let mut first = None;
        self.run(c, |r| {
            if first.is_none() {
                first = Some(r);
            }
            Ok(())
        })?;
        Ok(first)
    }

    pub async fn fetch_one(self, c: &mut Conn) -> Result<Row> {
        self.fetch_optional(c)
            .await?
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    /// Prepares (or takes from the cache) the statement, binds the parameters and steps
    /// through its rows.
    fn run(self, c: &mut Conn, mut each: impl FnMut(Row) -> Result<()>) -> Result<()> {
        report(&self.sql);
        let mut stmt = c.0.prepare_cached(&self.sql)?;
        let mut next = 0usize;
        for i in 1..=stmt.parameter_count() {
            let at = match stmt.parameter_name(i) {
                // `$N` / `?N`: the N-th value, wherever it stands in the text.
                Some(name) => name
                    .get(1..)
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
                    .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?,
                None => {
                    next += 1;
                    next - 1
                }
            };
            let v = self
                .args
                .get(at)
                .ok_or(rusqlite::Error::InvalidParameterCount(
                    at + 1,
                    self.args.len(),
                ))?;
            stmt.raw_bind_parameter(i, v)?;
        }
        let names: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let width = names.len();
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(owned(r.get_ref(i)?));
            }
            each(Row {
                names: names.clone(),
                values,
            })?;
        }
        Ok(())
    }
}

fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl<'q, T: Decode> Scalar<'q, T> {
    pub fn bind<B: Bind>(mut self, v: B) -> Self {
        self.query = self.query.bind(v);
        self
    }

    pub async fn fetch_one(self, c: &mut Conn) -> Result<T> {
        self.query.fetch_one(c).await?.try_get(0usize)
    }

    pub async fn fetch_optional(self, c: &mut Conn) -> Result<Option<T>> {
        self.query
            .fetch_optional(c)
            .await?
            .map(|r| r.try_get(0usize))
            .transpose()
    }

    pub async fn fetch_all(self, c: &mut Conn) -> Result<Vec<T>> {
        self.query
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| r.try_get(0usize))
            .collect()
    }
}

/// One row, read into owned values.
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

/// A column by name or by position.
pub trait ColumnIndex {
    fn find(&self, names: &[String]) -> Result<usize>;
}

impl ColumnIndex for &str {
    fn find(&self, names: &[String]) -> Result<usize> {
        names
            .iter()
            .position(|n| n == self)
            .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(self)))
            .ok_or_else(|| rusqlite::Error::InvalidColumnName((*self).to_owned()))
    }
}

impl ColumnIndex for usize {
    fn find(&self, names: &[String]) -> Result<usize> {
        if *self < names.len() {
            Ok(*self)
        } else {
            Err(rusqlite::Error::InvalidColumnIndex(*self))
        }
    }
}

impl Row {
    pub fn try_get<T: Decode, I: ColumnIndex>(&self, col: I) -> Result<T> {
        let i = col.find(&self.names)?;
        let v = self
            .values
            .get(i)
            .ok_or(rusqlite::Error::InvalidColumnIndex(i))?;
        T::decode(ValueRef::from(v)).map_err(|ty| {
            let name = self.names.get(i).cloned().unwrap_or_default();
            rusqlite::Error::InvalidColumnType(i, name, ty)
        })
    }
}

/// A Rust value read from a column; the error is the column's actual type.
pub trait Decode: Sized {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type>;
}

macro_rules! decode_int {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i).map_err(|_| Type::Integer),
                    other => Err(other.data_type()),
                }
            }
        }
    )*};
}
decode_int!(i64, i32, i16, u32, u16, u8, u64, usize);

impl Decode for bool {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
        match v {
            ValueRef::Integer(i) => Ok(i != 0),
            other => Err(other.data_type()),
        }
    }
}

impl Decode for f64 {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
        match v {
            ValueRef::Real(f) => Ok(f),
            // Exact for every count a column here holds.
            #[allow(clippy::cast_precision_loss)]
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(other.data_type()),
        }
    }
}

impl Decode for String {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
        match v {
            ValueRef::Text(t) => String::from_utf8(t.to_vec()).map_err(|_| Type::Text),
            other => Err(other.data_type()),
        }
    }
}

impl Decode for Vec<u8> {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(other.data_type()),
        }
    }
}

impl Decode for Uuid {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
        match v {
            ValueRef::Blob(b) => Uuid::from_slice(b).map_err(|_| Type::Blob),
            other => Err(other.data_type()),
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(v: ValueRef<'_>) -> std::result::Result<Self, Type> {
        match v {
            ValueRef::Null => Ok(None),
            other => T::decode(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn conn() -> Conn {
        Conn(Connection::open_in_memory().unwrap())
    }

    /// Writes without a pause and no other checkpointer: the WAL stays near its limit
    /// instead of growing with everything written.
    #[tokio::test]
    async fn the_wal_stays_bounded_under_writes_without_a_pause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let mut c = Conn::open(&path, true).unwrap();
        c.batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        let value = "両".repeat(350_000); // about a megabyte
        let written = 2 * WAL_LIMIT as usize / value.len() + 1;
        for i in 0..written {
            c.batch("BEGIN").unwrap();
            query("INSERT OR REPLACE INTO t (id, v) VALUES (?, ?)")
                .bind(i64::try_from(i % 8).unwrap())
                .bind(value.as_str())
                .execute(&mut c)
                .await
                .unwrap();
            c.batch("COMMIT").unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("wal.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal <= WAL_LIMIT as u64 + 2 * value.len() as u64,
            "WAL of {wal} bytes after writing {} bytes",
            written * value.len()
        );
    }

    #[tokio::test]
    async fn numbered_parameters_bind_by_number_wherever_they_stand() {
        let mut c = conn();
        let r = query("SELECT $2 AS b, $1 AS a, $2 AS b2")
            .bind(1_i64)
            .bind("two")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(r.try_get::<String, _>("b").unwrap(), "two");
        assert_eq!(r.try_get::<i64, _>("a").unwrap(), 1);
        assert_eq!(r.try_get::<String, _>("b2").unwrap(), "two");
    }

    #[tokio::test]
    async fn values_come_back_as_they_were_bound() {
        let mut c = conn();
        let id = Uuid::from_u128(0x1234_5678_9abc_def0_1122_3344_5566_7788);
        let r = query("SELECT ? AS id, ? AS yes, ? AS none, ? AS bytes, ? AS text")
            .bind(id)
            .bind(true)
            .bind(None::<String>)
            .bind([7u8; 32])
            .bind("両立支援")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(r.try_get::<Uuid, _>("id").unwrap(), id);
        assert!(r.try_get::<bool, _>("yes").unwrap());
        assert_eq!(r.try_get::<Option<String>, _>("none").unwrap(), None);
        assert_eq!(r.try_get::<Vec<u8>, _>("bytes").unwrap(), vec![7u8; 32]);
        assert_eq!(r.try_get::<String, _>(4usize).unwrap(), "両立支援");
        // A type that does not match is an error, not a guess.
        assert!(r.try_get::<i64, _>("text").is_err());
        assert!(r.try_get::<i64, _>("missing").is_err());
    }

    #[tokio::test]
    async fn a_missing_parameter_is_an_error() {
        let mut c = conn();
        assert!(
            query("SELECT $2")
                .bind(1_i64)
                .fetch_one(&mut c)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn execute_counts_changes_and_reads_past_returned_rows() {
        let mut c = conn();
        c.batch("CREATE TABLE t (a INTEGER)").unwrap();
        let done = query("INSERT INTO t (a) VALUES (1), (2) RETURNING a")
            .execute(&mut c)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 2);
        let all: Vec<i64> = query_scalar("SELECT a FROM t ORDER BY a")
            .fetch_all(&mut c)
            .await
            .unwrap();
        assert_eq!(all, vec![1, 2]);
        assert!(
            query_scalar::<i64>("SELECT a FROM t WHERE a = 9")
                .fetch_one(&mut c)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn sqlite_is_built_with_the_options_of_cargo_config() {
        // .cargo/config.toml sets them for libsqlite3-sys; a build without them still works
        // but takes a process-wide mutex on every allocation and page fetch.
        async fn used(c: &mut Conn, option: &str) -> i64 {
            query_scalar::<i64>("SELECT sqlite_compileoption_used(?)")
                .bind(option)
                .fetch_one(c)
                .await
                .unwrap()
        }
        let mut c = conn();
        assert_eq!(used(&mut c, "DEFAULT_MEMSTATUS=0").await, 1);
        assert_eq!(used(&mut c, "ENABLE_MEMORY_MANAGEMENT").await, 0);
        assert_eq!(used(&mut c, "ENABLE_FTS5").await, 1);
    }
}
