//! SQLite connections whose statements run on the calling thread, for the hot path.
//!
//! sqlx runs each SQLite connection on a thread of its own, so every statement is a hand-off to
//! that thread and a wake-up back. Under load those hand-offs cost more CPU than the SQL they
//! carry (measured: 60% of the server's CPU in the kernel's task switching, most of it these
//! wake-ups). A lookup by an indexed digest, or a token rotation inside an open transaction,
//! takes microseconds and never waits for the disk, so here it simply runs where the request is.
//! What may wait — opening a file, `BEGIN IMMEDIATE` behind another process's write, `COMMIT`
//! with its fsync — is sent to a blocking thread by the caller ([`super::batch`]).
//!
//! A [`RawConn`] is an sqlx [`Executor`] for the `Any` database: the same `sqlx::query(…).bind(…)`
//! and `FromRow` rows as everywhere else, so callers do not change. Statements are prepared once
//! and kept; `$N` refers to the query's N-th value across all of its statements, as with sqlx.
//! The work is done when the future is created (it is ready at once).
//!
//! All `unsafe` of the server is in this module: calls into the SQLite C library on a connection
//! this value owns alone (`&mut self`), with pointers that live as long as it does.

use std::{
    borrow::Cow,
    ffi::{CStr, CString, c_char, c_int},
    fmt,
    ptr::{self, NonNull},
    sync::Arc,
};

use futures_util::{
    FutureExt, StreamExt,
    future::{self, BoxFuture},
    stream::{self, BoxStream},
};
use libsqlite3_sys as ffi;
use sqlx::{
    Either, Error, Execute, Executor,
    any::{Any, AnyQueryResult, AnyRow, AnyTypeInfo, AnyTypeInfoKind},
    error::{DatabaseError, ErrorKind},
};
use sqlx_core::{
    any::{AnyColumn, AnyValue, AnyValueKind},
    ext::ustr::UStr,
};

/// Prepared statements kept per connection at most; beyond, all are finalized and prepared
/// again as used (the hot path has a dozen shapes).
const CACHED: usize = 64;

/// How long a statement waits for another connection's lock (as sqlx's default).
const BUSY_TIMEOUT_MS: c_int = 5_000;

/// One SQLite connection, used by one caller at a time.
pub(crate) struct RawConn {
    db: NonNull<ffi::sqlite3>,
    /// The prepared statements of each query text.
    cache: sqlx_core::HashMap<Box<str>, Vec<Prepared>>,
}

// SAFETY: SQLite connections may move between threads (the library is built thread-safe); this
// one is only ever used through `&mut self`, so never from two threads at once.
unsafe impl Send for RawConn {}

struct Prepared {
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// For each parameter (1-based in SQLite), the index of the query's value it takes.
    params: Vec<usize>,
    column_names: Arc<sqlx_core::HashMap<UStr, usize>>,
    columns: Vec<AnyColumn>,
}

impl fmt::Debug for RawConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawConn").field("cached", &self.cache.len()).finish()
    }
}

impl RawConn {
    /// Opens the database file at `path` (it must exist) with the settings sqlx gives its own
    /// connections: foreign keys on, `synchronous=FULL`, a 5 s busy timeout.
    pub(crate) fn open(path: &str) -> Result<Self, Error> {
        let c_path = CString::new(path).map_err(|e| Error::Configuration(e.into()))?;
        let mut db = ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX;
        // SAFETY: a valid C string and an out-pointer; SQLite allocates the handle.
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
        let Some(db) = NonNull::new(db) else {
            return Err(Error::Protocol(format!("sqlite3_open_v2 returned no connection ({rc})")));
        };
        let mut conn = Self { db, cache: sqlx_core::HashMap::new() };
        if rc != ffi::SQLITE_OK {
            return Err(conn.error(rc));
        }
        // SAFETY: a live handle owned by `conn`.
        unsafe {
            ffi::sqlite3_extended_result_codes(conn.db.as_ptr(), 1);
            ffi::sqlite3_busy_timeout(conn.db.as_ptr(), BUSY_TIMEOUT_MS);
        }
        conn.exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")?;
        Ok(conn)
    }

    /// Runs `sql` (one or more statements without values or rows), e.g. `COMMIT`.
    pub(crate) fn exec(&mut self, sql: &str) -> Result<(), Error> {
        self.run(sql, &[]).map(drop)
    }

    /// Whether a transaction is open on this connection (SQLite's own answer).
    pub(crate) fn in_transaction(&self) -> bool {
        // SAFETY: a live handle.
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) == 0 }
    }

    /// Tries `BEGIN IMMEDIATE` without waiting: `Ok(false)` if another connection holds the
    /// write lock (the caller then waits for it on a blocking thread).
    pub(crate) fn try_begin_immediate(&mut self) -> Result<bool, Error> {
        // SAFETY: a live handle.
        unsafe { ffi::sqlite3_busy_timeout(self.db.as_ptr(), 0) };
        let begun = self.exec("BEGIN IMMEDIATE");
        // SAFETY: as above.
        unsafe { ffi::sqlite3_busy_timeout(self.db.as_ptr(), BUSY_TIMEOUT_MS) };
        match begun {
            Ok(()) => Ok(true),
            Err(Error::Database(e)) if busy(e.as_ref()) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Runs every statement of `sql` with `values`, returning each statement's rows and then its
    /// result, in order; stops at the first error (what earlier statements did stays done, as
    /// with sqlx).
    pub(crate) fn run(
        &mut self,
        sql: &str,
        values: &[AnyValueKind<'_>],
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
        let db = self.db;
        let statements = match self.cache.get(sql) {
            Some(statements) => statements,
            None => {
                if self.cache.len() >= CACHED {
                    self.clear_cache();
                }
                let prepared = self.prepare(sql)?;
                &*self.cache.entry(sql.into()).or_insert(prepared)
            }
        };
        let mut out = Vec::new();
        for prepared in statements {
            // SAFETY: the statement belongs to this connection and lives in its cache.
            let done = unsafe { step_all(db, prepared, values, &mut out) };
            // SAFETY: as above; a reset statement is ready to run again (and releases its read
            // snapshot).
            unsafe {
                ffi::sqlite3_reset(prepared.stmt.as_ptr());
                ffi::sqlite3_clear_bindings(prepared.stmt.as_ptr());
            }
            done?;
        }
        Ok(out)
    }

    fn prepare(&mut self, sql: &str) -> Result<Vec<Prepared>, Error> {
        let mut statements = Vec::new();
        let bytes = sql.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            let len =
                c_int::try_from(rest.len()).map_err(|_| Error::Protocol("statement too long".into()))?;
            let mut stmt = ptr::null_mut();
            let mut tail: *const c_char = ptr::null();
            // SAFETY: `rest` is valid for `len` bytes; SQLite reads within them and sets `tail`
            // to a point inside them.
            let rc = unsafe {
                ffi::sqlite3_prepare_v3(
                    self.db.as_ptr(),
                    rest.as_ptr().cast(),
                    len,
                    ffi::SQLITE_PREPARE_PERSISTENT,
                    &mut stmt,
                    &mut tail,
                )
            };
            if rc != ffi::SQLITE_OK {
                let err = self.error(rc);
                finalize(statements);
                return Err(err);
            }
            let used = if tail.is_null() {
                rest.len()
            } else {
                // SAFETY: `tail` points into `rest` (or at its end).
                usize::try_from(unsafe { tail.offset_from(rest.as_ptr().cast()) }).unwrap_or(rest.len())
            };
            at += used.max(1);
            // Only a comment or white space was left: no statement.
            let Some(stmt) = NonNull::new(stmt) else { continue };
            // SAFETY: a freshly prepared statement.
            match unsafe { describe(stmt) } {
                Ok(p) => statements.push(p),
                Err(e) => {
                    // SAFETY: not kept anywhere else.
                    unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
                    finalize(statements);
                    return Err(e);
                }
            }
        }
        Ok(statements)
    }

    fn clear_cache(&mut self) {
        for (_, statements) in self.cache.drain() {
            finalize(statements);
        }
    }

    /// The connection's error for the result code `rc`.
    fn error(&self, rc: c_int) -> Error {
        // SAFETY: a live handle.
        unsafe { error(self.db, rc) }
    }
}

/// The error SQLite keeps for connection `db` after the result code `rc`.
///
/// # Safety
/// `db` is a live connection handle.
unsafe fn error(db: NonNull<ffi::sqlite3>, rc: c_int) -> Error {
    // SAFETY: the caller's promise; the message is copied before any other call.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db.as_ptr());
        let msg = ffi::sqlite3_errmsg(db.as_ptr());
        let message = if msg.is_null() {
            format!("SQLite error {rc}")
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        (code, message)
    };
    Error::Database(Box::new(SqliteError { code, message }))
}

impl Drop for RawConn {
    fn drop(&mut self) {
        self.clear_cache();
        // SAFETY: every statement is finalized; the handle is not used again. Closing rolls
        // back an open transaction.
        unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
    }
}

fn finalize(statements: Vec<Prepared>) {
    for p in statements {
        // SAFETY: each statement is finalized once, here, and dropped.
        unsafe { ffi::sqlite3_finalize(p.stmt.as_ptr()) };
    }
}

/// Reads a statement's parameters (each must be `$N` or `?N`) and result columns.
///
/// # Safety
/// `stmt` is a live prepared statement.
unsafe fn describe(stmt: NonNull<ffi::sqlite3_stmt>) -> Result<Prepared, Error> {
    let s = stmt.as_ptr();
    // SAFETY (whole body): `s` is live; names returned by SQLite are valid C strings until the
    // statement is finalized, and are copied here.
    unsafe {
        let count = ffi::sqlite3_bind_parameter_count(s);
        let mut params = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for i in 1..=count {
            let name = ffi::sqlite3_bind_parameter_name(s, i);
            let name = if name.is_null() { "?" } else { CStr::from_ptr(name).to_str().unwrap_or("?") };
            let n = name
                .strip_prefix('$')
                .or_else(|| name.strip_prefix('?'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n >= 1)
                .ok_or_else(|| Error::Protocol(format!("unsupported parameter {name:?}: write $1, $2, …")))?;
            params.push(n - 1);
        }
        let count = ffi::sqlite3_column_count(s);
        let mut names = sqlx_core::HashMap::new();
        let mut columns = Vec::new();
        for i in 0..count {
            let ordinal = usize::try_from(i).unwrap_or(0);
            let name = ffi::sqlite3_column_name(s, i);
            let name = if name.is_null() {
                String::new()
            } else {
                CStr::from_ptr(name).to_string_lossy().into_owned()
            };
            let name = UStr::from(name);
            // The first column of a name wins, as in sqlx's SQLite driver.
            names.entry(name.clone()).or_insert(ordinal);
            columns.push(AnyColumn { ordinal, name, type_info: AnyTypeInfo { kind: AnyTypeInfoKind::Null } });
        }
        Ok(Prepared { stmt, params, column_names: Arc::new(names), columns })
    }
}

/// Binds `values` to `prepared` and steps it to the end, collecting its rows and result.
///
/// # Safety
/// `prepared.stmt` is a live statement of `db`, reset and unbound.
unsafe fn step_all(
    db: NonNull<ffi::sqlite3>,
    prepared: &Prepared,
    values: &[AnyValueKind<'_>],
    out: &mut Vec<Either<AnyQueryResult, AnyRow>>,
) -> Result<(), Error> {
    let s = prepared.stmt.as_ptr();
    // SAFETY: `db` is live (the caller's promise).
    let error = |rc: c_int| unsafe { error(db, rc) };
    for (i, &arg) in prepared.params.iter().enumerate() {
        let index = c_int::try_from(i + 1).map_err(|_| Error::Protocol("too many parameters".into()))?;
        let value = values
            .get(arg)
            .ok_or_else(|| Error::Protocol(format!("no value for ${} ({} given)", arg + 1, values.len())))?;
        // SAFETY: binding to a live statement; text and blobs are copied (SQLITE_TRANSIENT).
        let rc = unsafe {
            match value {
                AnyValueKind::Null(_) => ffi::sqlite3_bind_null(s, index),
                AnyValueKind::Bool(b) => ffi::sqlite3_bind_int64(s, index, i64::from(*b)),
                AnyValueKind::SmallInt(n) => ffi::sqlite3_bind_int64(s, index, i64::from(*n)),
                AnyValueKind::Integer(n) => ffi::sqlite3_bind_int64(s, index, i64::from(*n)),
                AnyValueKind::BigInt(n) => ffi::sqlite3_bind_int64(s, index, *n),
                AnyValueKind::Real(r) => ffi::sqlite3_bind_double(s, index, f64::from(*r)),
                AnyValueKind::Double(d) => ffi::sqlite3_bind_double(s, index, *d),
                AnyValueKind::Text(t) => {
                    let len =
                        c_int::try_from(t.len()).map_err(|_| Error::Protocol("text too long".into()))?;
                    ffi::sqlite3_bind_text(s, index, t.as_ptr().cast(), len, ffi::SQLITE_TRANSIENT())
                }
                AnyValueKind::Blob(b) => {
                    let len =
                        c_int::try_from(b.len()).map_err(|_| Error::Protocol("blob too long".into()))?;
                    ffi::sqlite3_bind_blob(s, index, b.as_ptr().cast(), len, ffi::SQLITE_TRANSIENT())
                }
                other => return Err(Error::Protocol(format!("cannot bind {other:?}"))),
            }
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(rc));
        }
    }
    loop {
        // SAFETY: a live, bound statement.
        match unsafe { ffi::sqlite3_step(s) } {
            ffi::SQLITE_ROW => {
                let mut values = Vec::with_capacity(prepared.columns.len());
                for i in 0..prepared.columns.len() {
                    let i = c_int::try_from(i).map_err(|_| Error::Protocol("too many columns".into()))?;
                    // SAFETY: a row is current; column pointers are valid until the next step
                    // and are copied at once.
                    values.push(AnyValue { kind: unsafe { column(s, i) }? });
                }
                out.push(Either::Right(AnyRow {
                    column_names: prepared.column_names.clone(),
                    columns: prepared.columns.clone(),
                    values,
                }));
            }
            ffi::SQLITE_DONE => {
                // SAFETY: a live handle.
                let (rows_affected, last) = unsafe {
                    (ffi::sqlite3_changes64(db.as_ptr()), ffi::sqlite3_last_insert_rowid(db.as_ptr()))
                };
                out.push(Either::Left(AnyQueryResult {
                    rows_affected: u64::try_from(rows_affected).unwrap_or(0),
                    last_insert_id: Some(last),
                }));
                return Ok(());
            }
            rc => return Err(error(rc)),
        }
    }
}

/// Column `i` of the current row, copied.
///
/// # Safety
/// `s` is a live statement positioned on a row with more than `i` columns.
unsafe fn column(s: *mut ffi::sqlite3_stmt, i: c_int) -> Result<AnyValueKind<'static>, Error> {
    // SAFETY: the caller's promise; text/blob pointers are read for `column_bytes` bytes,
    // fetched after the pointer as SQLite's documentation asks.
    unsafe {
        Ok(match ffi::sqlite3_column_type(s, i) {
            ffi::SQLITE_INTEGER => AnyValueKind::BigInt(ffi::sqlite3_column_int64(s, i)),
            ffi::SQLITE_FLOAT => AnyValueKind::Double(ffi::sqlite3_column_double(s, i)),
            ffi::SQLITE_TEXT => {
                let p = ffi::sqlite3_column_text(s, i);
                let n = usize::try_from(ffi::sqlite3_column_bytes(s, i)).unwrap_or(0);
                let bytes = if p.is_null() { &[][..] } else { std::slice::from_raw_parts(p, n) };
                let text = String::from_utf8(bytes.to_vec()).map_err(|e| Error::Decode(e.into()))?;
                AnyValueKind::Text(Cow::Owned(text))
            }
            ffi::SQLITE_BLOB => {
                let p = ffi::sqlite3_column_blob(s, i).cast::<u8>();
                let n = usize::try_from(ffi::sqlite3_column_bytes(s, i)).unwrap_or(0);
                let bytes = if p.is_null() { &[][..] } else { std::slice::from_raw_parts(p, n) };
                AnyValueKind::Blob(Cow::Owned(bytes.to_vec()))
            }
            _ => AnyValueKind::Null(AnyTypeInfoKind::Null),
        })
    }
}

fn busy(e: &dyn DatabaseError) -> bool {
    e.code().is_some_and(|c| c.parse::<c_int>().is_ok_and(|c| c & 0xff == ffi::SQLITE_BUSY))
}

/// An error SQLite reported: its extended result code and message.
#[derive(Debug)]
struct SqliteError {
    code: c_int,
    message: String,
}

impl fmt::Display for SqliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqliteError {}

impl DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// Runs a query's statements with its values (taken from it).
fn run_query<'q, E: Execute<'q, Any>>(
    conn: &mut RawConn,
    mut query: E,
) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
    let args = query.take_arguments().map_err(Error::Encode)?;
    let values = args.map(|a| a.values.0).unwrap_or_default();
    conn.run(query.sql(), &values)
}

impl<'c> Executor<'c> for &'c mut RawConn {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match run_query(self, query) {
            Ok(steps) => stream::iter(steps.into_iter().map(Ok)).boxed(),
            Err(e) => stream::once(future::ready(Err(e))).boxed(),
        }
    }

    /// The first row of any of the query's statements (all of them run).
    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<AnyRow>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        let first = run_query(self, query).map(|steps| steps.into_iter().find_map(Either::right));
        future::ready(first).boxed()
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        _sql: &'q str,
        _parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<sqlx::any::AnyStatement<'q>, Error>>
    where
        'c: 'e,
    {
        future::ready(Err(Error::Protocol("statements are prepared on use here".into()))).boxed()
    }

    fn describe<'e, 'q: 'e>(self, _sql: &'q str) -> BoxFuture<'e, Result<sqlx::Describe<Any>, Error>>
    where
        'c: 'e,
    {
        future::ready(Err(Error::Protocol("describe is not supported here".into()))).boxed()
    }
}

/// What a statement runs on: one of our SQLite connections, or one of sqlx's (Postgres, an
/// in-memory SQLite database, a transaction of its own).
#[derive(Debug)]
pub(crate) enum Conn<'c> {
    Raw(&'c mut RawConn),
    Sqlx(&'c mut sqlx::AnyConnection),
}

impl<'c> Executor<'c> for Conn<'c> {
    type Database = sqlx::Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<sqlx::Either<sqlx::any::AnyQueryResult, sqlx::any::AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match self {
            Conn::Raw(c) => c.fetch_many(query),
            Conn::Sqlx(c) => c.fetch_many(query),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<sqlx::any::AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match self {
            Conn::Raw(c) => c.fetch_optional(query),
            Conn::Sqlx(c) => c.fetch_optional(query),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [sqlx::any::AnyTypeInfo],
    ) -> BoxFuture<'e, Result<sqlx::any::AnyStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Raw(c) => c.prepare_with(sql, parameters),
            Conn::Sqlx(c) => c.prepare_with(sql, parameters),
        }
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<sqlx::Describe<sqlx::Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            Conn::Raw(c) => c.describe(sql),
            Conn::Sqlx(c) => c.describe(sql),
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::RawConn;
    use crate::db::Db;

    /// A migrated database file and a raw connection to it.
    async fn scratch() -> (tempfile::TempDir, Db, RawConn) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("raw.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let conn = RawConn::open(&dir.path().join("raw.db").display().to_string()).unwrap();
        (dir, db, conn)
    }

    #[tokio::test]
    async fn values_and_rows_go_through_the_any_types() {
        let (_dir, _db, mut conn) = scratch().await;
        let row: (i64, Option<i64>, String, Vec<u8>, f64) = sqlx::query_as("SELECT $1, $2, $3, $4, $5")
            .bind(7_i64)
            .bind(None::<i64>)
            .bind("é")
            .bind(vec![0_u8, 1, 255])
            .bind(1.5_f64)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(row, (7, None, "é".to_string(), vec![0, 1, 255], 1.5));
        // By name, too (the `FromRow` derive reads columns by name).
        let row = sqlx::query("SELECT 3 AS three, 'x' AS ex").fetch_one(&mut conn).await.unwrap();
        assert_eq!(row.try_get::<i64, _>("three").unwrap(), 3);
        assert_eq!(row.try_get::<String, _>("ex").unwrap(), "x");
        assert!(row.try_get::<i64, _>("four").is_err());
    }

    #[tokio::test]
    async fn placeholders_count_across_the_statements_of_a_query() {
        let (_dir, _db, mut conn) = scratch().await;
        conn.exec("CREATE TABLE t (a BIGINT, b TEXT)").unwrap();
        let rows = sqlx::query("INSERT INTO t VALUES ($1, $2); INSERT INTO t VALUES ($3, $2) RETURNING a, b")
            .bind(1_i64)
            .bind("one")
            .bind(3_i64)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].try_get::<i64, _>(0).unwrap(), 3);
        let all: Vec<(i64, String)> =
            sqlx::query_as("SELECT a, b FROM t ORDER BY a").fetch_all(&mut conn).await.unwrap();
        assert_eq!(all, vec![(1, "one".into()), (3, "one".into())]);
        // Too few values is an error, not a NULL.
        assert!(sqlx::query("SELECT $1, $2").bind(1_i64).fetch_all(&mut conn).await.is_err());
        // A row count comes back from a statement without rows.
        let done =
            sqlx::query("UPDATE t SET b = 'x' WHERE a > $1").bind(0_i64).execute(&mut conn).await.unwrap();
        assert_eq!(done.rows_affected(), 2);
    }

    #[tokio::test]
    async fn errors_say_what_sqlite_said_and_leave_the_statement_usable() {
        let (_dir, _db, mut conn) = scratch().await;
        conn.exec("CREATE TABLE u (k BIGINT PRIMARY KEY)").unwrap();
        let insert = "INSERT INTO u VALUES ($1)";
        sqlx::query(insert).bind(1_i64).execute(&mut conn).await.unwrap();
        let err = sqlx::query(insert).bind(1_i64).execute(&mut conn).await.unwrap_err();
        let sqlx::Error::Database(db) = &err else { panic!("{err}") };
        assert!(db.is_unique_violation(), "{err}");
        assert!(db.message().contains("UNIQUE"), "{err}");
        // The cached statement runs again after its error.
        sqlx::query(insert).bind(2_i64).execute(&mut conn).await.unwrap();
        let bad = sqlx::query("SELEC 1").execute(&mut conn).await.unwrap_err();
        assert!(bad.to_string().contains("syntax error"), "{bad}");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM u").fetch_one(&mut conn).await.unwrap();
        assert_eq!(n, 2);
    }

    #[tokio::test]
    async fn a_transaction_is_seen_open_and_begin_does_not_wait_for_another_writer() {
        let (_dir, db, mut conn) = scratch().await;
        assert!(!conn.in_transaction());
        assert!(conn.try_begin_immediate().unwrap());
        assert!(conn.in_transaction());
        conn.exec("COMMIT").unwrap();
        assert!(!conn.in_transaction());
        // Another connection holds the write lock: told at once, not after the busy timeout.
        let mut other = db.begin_write().await.unwrap();
        sqlx::query("UPDATE settings SET api_enabled = api_enabled").execute(&mut *other).await.unwrap();
        let started = std::time::Instant::now();
        assert!(!conn.try_begin_immediate().unwrap());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(!conn.in_transaction());
        other.commit().await.unwrap();
        assert!(conn.try_begin_immediate().unwrap());
        conn.exec("ROLLBACK").unwrap();
    }

    #[tokio::test]
    async fn only_numbered_placeholders_are_taken() {
        let (_dir, _db, mut conn) = scratch().await;
        let err = sqlx::query("SELECT :name").bind(1_i64).fetch_all(&mut conn).await.err().unwrap();
        assert!(err.to_string().contains("$1"), "{err}");
    }
}
