//! Group commit for SQLite: the token writes of concurrent requests share one transaction and
//! one commit (one fsync), as databases do for their own logs.
//!
//! SQLite lets one connection write at a time, and with `synchronous=FULL` every commit waits
//! for the disk (~0.2 ms here), which caps one-commit-per-request near 5,000 writes a second
//! however little SQL each runs. Here each request runs its statements on the process's one
//! writing connection inside a savepoint of the open batch transaction ([`Db::batch`]), and
//! [`BatchTx::commit`] returns only once the batch's `COMMIT` is on disk: nothing is answered
//! before it is durable. Requests that arrive while a batch commits queue for the connection and
//! form the next batch, so the batch grows with the load and a lone request waits for nobody.
//!
//! A request that fails, or changes its mind (drops its [`BatchTx`] without committing, as an
//! early `return` or a cancelled request does), rolls back to its own savepoint: its batch-mates
//! are not affected. Only a failing `COMMIT` (a full disk) fails the whole batch.
//!
//! The writing connection is an SQLite connection of our own ([`super::raw`]): a request's
//! statements run on the request's own thread, one after another, with no hand-off; only
//! `COMMIT` (which waits for the disk) and a `BEGIN` that must wait for another process go to a
//! blocking thread, once per batch. The savepoint's own statements ride with the request's:
//! `SAVEPOINT` goes in front of its first statements ([`BatchTx::first`]) and `RELEASE` behind its
//! last ([`BatchTx::last`]). Between requests no savepoint is open, so undoing one that may never
//! have been opened (a request dropped before its first statement ran) cannot undo anyone
//! else's. A single statement needs no savepoint: SQLite undoes a failing statement on its own.
//!
//! Other writes of this process ([`Db::write_turn`]) first commit the open batch, then hold the
//! writer while they run on a pool connection, so this process never competes with itself for
//! SQLite's write lock.
//!
//! The disk wait is taken out of the writer's turn: the writing connection commits with
//! `synchronous=NORMAL` (SQLite appends the batch to the WAL and does not wait for the disk), and
//! the batch's requests are answered only after this module has synced the WAL file itself
//! (`fdatasync`). The connection is handed to the next batch as soon as `COMMIT` returns, so the
//! next batch's statements run while the disk takes this one's. Nothing is answered earlier than
//! before: a sync covers every frame written before it, this batch's and any earlier one's. Other
//! connections may read a batch in the moment between its `COMMIT` and its sync; nothing that
//! depends on it is answered before it is durable (a later batch's sync covers it too), and after
//! a crash in that moment the batch is lost as a whole, before anyone was told of it. A failed
//! sync fails the batch's requests (the disk is failing; their tokens were never handed out).

use std::{
    fs::File,
    ops::{Deref, DerefMut},
    os::unix::fs::MetadataExt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use super::{DbError, raw::RawConn};

/// The process's writing connection and the batch open on it.
#[derive(Debug)]
pub(crate) struct Writer {
    /// The database file.
    path: Arc<str>,
    state: Arc<Mutex<WriterState>>,
    /// Batches committed so far (see `/metrics`).
    commits: AtomicU64,
    /// Requests kept in them.
    writes: AtomicU64,
    /// Syncs of the WAL file that succeeded.
    syncs: AtomicU64,
    /// Held by a batch from its `COMMIT` until its sync is done: the next batch commits only
    /// then, gathering the requests that come meanwhile (one sync at a time, each for as many
    /// requests as came during the last).
    disk: Mutex<()>,
}

#[derive(Debug, Default)]
pub(crate) struct WriterState {
    /// Opened on first use and kept until [`Writer::close`]. A batch is open while it is in a
    /// transaction (SQLite's own answer, so a transaction SQLite rolled back on its own, after
    /// an I/O error, is never taken for an open batch).
    conn: Option<RawConn>,
    /// A request's savepoint may be open (its first statements were sent) and its request gone
    /// without saying keep or undo: it is rolled back before anything else runs on the
    /// connection.
    abandoned: bool,
    /// A commit of the open batch is scheduled (a task waits for the connection).
    commit_scheduled: bool,
    /// Requests kept in the open batch, told when it commits.
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// The WAL file, opened by us to sync it ([`Wal`]).
    wal: Wal,
}

/// The writing connection's WAL file (`<database>-wal`), as this module syncs it after each
/// batch's `COMMIT`. Looked up again after each `COMMIT`, while the connection is still held:
/// SQLite may have made a new file (it deletes the WAL when its last connection closes).
#[derive(Debug, Default)]
struct Wal {
    /// The file and its inode number.
    open: Option<(Arc<File>, u64)>,
}

impl Wal {
    /// The WAL file of the database at `db_path` as it is now.
    fn current(&mut self, db_path: &str) -> std::io::Result<Arc<File>> {
        let path = format!("{db_path}-wal");
        let ino = std::fs::metadata(&path)?.ino();
        if let Some((file, known)) = &self.open
            && *known == ino
        {
            return Ok(file.clone());
        }
        let file = Arc::new(File::open(&path)?);
        // The file opened is the one looked at (not replaced in between).
        let ino = file.metadata()?.ino();
        self.open = Some((file.clone(), ino));
        Ok(file)
    }
}

/// A batch committed to the WAL, waiting for its sync before its requests are told.
struct Committed {
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// Syncs the WAL file (a blocking task started at `COMMIT`).
    synced: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Committed {
    /// Waits for the sync, then tells the batch's requests; returns how many it kept.
    async fn finish(self, writer: &Writer) -> Option<usize> {
        let why = match self.synced.await {
            Ok(Ok(())) => {
                writer.syncs.fetch_add(1, Ordering::Relaxed);
                None
            }
            Ok(Err(e)) => Some(format!("the WAL could not be synced to disk: {e}")),
            Err(e) => Some(format!("the WAL sync failed: {e}")),
        };
        if let Some(why) = &why {
            tracing::error!(error = %why, "a batch of token writes was not made durable");
        }
        let kept = self.waiters.len();
        for w in self.waiters {
            let _ = w.send(why.clone().map_or(Ok(()), Err));
        }
        why.is_none().then_some(kept)
    }
}

const RELEASE: &str = "RELEASE request";
const SAVEPOINT: &str = "SAVEPOINT request";

impl Writer {
    pub(crate) fn new(path: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            path,
            state: Arc::new(Mutex::new(WriterState::default())),
            commits: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            disk: Mutex::new(()),
        })
    }

    /// Holds the writer with no batch open (it commits an open one first): for writes that run
    /// their own transaction on a pool connection.
    pub(crate) async fn exclusive(self: &Arc<Self>) -> OwnedMutexGuard<WriterState> {
        let state = self.state.clone().lock_owned().await;
        // The commit runs in a task of its own, so a caller that gives up meanwhile cannot
        // leave the batch's requests without an answer.
        let writer = self.clone();
        let settled = tokio::spawn(async move {
            let mut state = state;
            let committed = state.settle(&writer).await;
            writer.count(committed);
            state
        });
        match settled.await {
            Ok(state) => state,
            // The task failed; its guard went with it.
            Err(_) => self.state.clone().lock_owned().await,
        }
    }

    fn count(&self, committed: Option<usize>) {
        if let Some(kept) = committed {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.writes.fetch_add(kept as u64, Ordering::Relaxed);
        }
    }

    /// Syncs of the WAL file so far (each answered batch had one after its `COMMIT`).
    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Batches committed so far.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Requests kept in those batches.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Joins the open batch (opening one if none is), holding the writing connection until
    /// [`BatchTx::commit`] or drop. A request of more than one statement opens its savepoint
    /// with its first ([`BatchTx::first`]).
    pub(crate) async fn join(self: &Arc<Self>) -> Result<BatchTx, DbError> {
        let mut state = self.state.clone().lock_owned().await;
        state.tidy();
        if state.conn.is_none() {
            let path = self.path.clone();
            let conn = tokio::task::spawn_blocking(move || {
                let mut conn = RawConn::open(&path)?;
                // The WAL is copied back into the database file (and that file synced) every
                // this many pages instead of 1,000 (~40 MB): a page rewritten by many batches
                // in between is copied once. `COMMIT` does not wait for the disk: the batch
                // syncs the WAL itself, out of the writer's turn (see the module's notes).
                conn.exec("PRAGMA wal_autocheckpoint = 10000; PRAGMA synchronous = NORMAL")?;
                Ok::<_, sqlx::Error>(conn)
            })
            .await
            .map_err(gone)??;
            state.conn = Some(conn);
        }
        let conn = state.conn.as_mut().ok_or_else(lost)?;
        if !conn.in_transaction() && !conn.try_begin_immediate()? {
            // Another process (the CLI) is writing: wait for it off the async threads. If this
            // request gives up meanwhile, the connection goes with the blocking task, which
            // closes it (rolling back), and the next request opens another.
            let conn = state.conn.take().ok_or_else(lost)?;
            let (conn, begun) = exec_blocking(conn, "BEGIN IMMEDIATE").await.map_err(gone)?;
            state.conn = Some(conn);
            begun?;
        }
        Ok(BatchTx { writer: self.clone(), state: Some(state), released: false })
    }

    /// Makes sure a task will commit the open batch once the requests queued now have joined it.
    fn schedule_commit(self: &Arc<Self>, state: &mut WriterState) {
        if state.in_batch() && !state.commit_scheduled {
            state.commit_scheduled = true;
            let writer = self.clone();
            // A task of its own: it runs even if the request that scheduled it is cancelled.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _disk = writer.disk.lock().await;
                    let mut state = writer.state.lock().await;
                    let committed = state.commit(&writer).await;
                    // The next batch runs its statements while the disk takes this one.
                    drop(state);
                    if let Some(committed) = committed {
                        writer.count(committed.finish(&writer).await);
                    }
                });
            }
        }
    }

    /// Commits what is open and lets the connection go (before the pool closes).
    pub(crate) async fn close(self: &Arc<Self>) {
        let mut state = self.state.lock().await;
        let committed = state.settle(self).await;
        self.count(committed);
        state.conn = None;
    }
}

impl WriterState {
    fn in_batch(&self) -> bool {
        self.conn.as_ref().is_some_and(RawConn::in_transaction)
    }

    /// Undoes an abandoned savepoint.
    fn tidy(&mut self) {
        if !self.abandoned {
            return;
        }
        self.abandoned = false;
        let Some(conn) = self.conn.as_mut() else { return };
        if let Err(e) = conn.exec("ROLLBACK TO request; RELEASE request") {
            // The savepoint was never opened, or the transaction is broken: start over, and
            // tell the batch's requests that their work is lost.
            if !e.to_string().contains("no such savepoint") {
                self.fail(&e.to_string());
            }
        }
    }

    /// Commits the open batch, if any, syncs it and tells its requests; returns how many it kept.
    /// Runs in a task nobody cancels.
    async fn settle(&mut self, writer: &Writer) -> Option<usize> {
        self.commit(writer).await?.finish(writer).await
    }

    /// Commits the open batch, if any, to the WAL and starts its sync; the connection is free for
    /// the next batch when this returns. Runs in a task nobody cancels: `COMMIT` (which copies
    /// the WAL back into the database every 10,000 pages) and the sync run on a blocking thread.
    async fn commit(&mut self, writer: &Writer) -> Option<Committed> {
        self.tidy();
        self.commit_scheduled = false;
        if !self.in_batch() {
            if !self.waiters.is_empty() {
                // SQLite rolled the batch back on its own (an I/O error): nothing was kept.
                self.fail("the batch transaction was rolled back");
            }
            return None;
        }
        let mut conn = self.conn.take()?;
        let mut wal = std::mem::take(&mut self.wal);
        let path = writer.path.clone();
        let (back, committed) = oneshot::channel();
        let synced = tokio::task::spawn_blocking(move || {
            let done = conn.exec("COMMIT").map_err(|e| e.to_string());
            // Which file to sync is settled while the connection is still held.
            let file = done.is_ok().then(|| wal.current(&path));
            let _ = back.send((conn, wal, done));
            file.unwrap_or_else(|| Err(std::io::Error::other("not committed")))?.sync_data()
        });
        let done = match committed.await {
            Ok((conn, wal, done)) => {
                self.conn = Some(conn);
                self.wal = wal;
                done
            }
            // The connection went with the failed task (closing it rolls back).
            Err(_) => Err("the commit task failed".to_string()),
        };
        match done {
            Ok(()) => Some(Committed { waiters: std::mem::take(&mut self.waiters), synced }),
            Err(e) => {
                self.fail(&e);
                None
            }
        }
    }

    /// Rolls the whole batch back and tells its requests why.
    fn fail(&mut self, why: &str) {
        if let Some(conn) = self.conn.as_mut()
            && conn.in_transaction()
            && conn.exec("ROLLBACK").is_err()
        {
            // A connection that cannot even roll back is replaced.
            self.conn = None;
        }
        self.abandoned = false;
        for w in self.waiters.drain(..) {
            let _ = w.send(Err(why.to_string()));
        }
    }
}

/// Runs `sql` on `conn` on a blocking thread (a `BEGIN` that waits for another process's write
/// lock; `COMMIT` has its own task, which hands the connection back before the WAL's sync) and
/// hands the connection back with the outcome. If the task fails, the
/// connection goes with it (closing it rolls back).
async fn exec_blocking(
    mut conn: RawConn,
    sql: &'static str,
) -> Result<(RawConn, Result<(), sqlx::Error>), tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || {
        let done = conn.exec(sql);
        (conn, done)
    })
    .await
}

/// A request's part of the open batch: statements run on it as on a transaction (the first of
/// several through [`BatchTx::first`]); keep them with [`BatchTx::commit`], or drop it to undo
/// them.
pub(crate) struct BatchTx {
    writer: Arc<Writer>,
    state: Option<OwnedMutexGuard<WriterState>>,
    /// [`BatchTx::last`] put the savepoint's `RELEASE` behind the request's last statements.
    released: bool,
}

impl BatchTx {
    /// `sql` (the request's first statements) run in a savepoint of the request's own: undone
    /// together if the request fails or is dropped.
    pub fn first(&mut self, sql: &str) -> String {
        if let Some(state) = self.state.as_mut() {
            // From here until keep or undo, a vanished request leaves its savepoint to be undone.
            state.abandoned = true;
        }
        format!("{SAVEPOINT}; {sql}")
    }

    /// `sql` (the request's last statements) followed by the release of its savepoint if
    /// [`BatchTx::first`] opened one (a request of one statement has none); if they fail, the
    /// savepoint is still there to undo them.
    pub fn last<'s>(&mut self, sql: &'s str) -> std::borrow::Cow<'s, str> {
        if !self.state.as_ref().is_some_and(|s| s.abandoned) {
            return sql.into();
        }
        self.released = true;
        format!("{sql}; {RELEASE}").into()
    }

    /// Keeps this request's changes and waits until the batch holding them is committed.
    pub async fn commit(mut self) -> Result<(), DbError> {
        let Some(mut state) = self.state.take() else { return Err(lost()) };
        if state.abandoned && !self.released {
            let conn = state.conn.as_mut().ok_or_else(lost)?;
            if let Err(e) = conn.exec(RELEASE) {
                // Still abandoned: the next holder undoes it.
                self.writer.schedule_commit(&mut state);
                return Err(e.into());
            }
        }
        state.abandoned = false;
        let (tx, rx) = oneshot::channel();
        state.waiters.push(tx);
        self.writer.schedule_commit(&mut state);
        drop(state);
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(DbError::Corrupt(format!("the batch commit failed: {why}"))),
            Err(_) => Err(DbError::Corrupt("the batch commit was abandoned".into())),
        }
    }
}

impl Drop for BatchTx {
    /// Dropped without commit: the savepoint is rolled back by the next holder (or the commit
    /// task scheduled here), before anything else runs on the connection.
    fn drop(&mut self) {
        if let Some(mut state) = self.state.take() {
            self.writer.schedule_commit(&mut state);
        }
    }
}

impl Deref for BatchTx {
    type Target = RawConn;

    #[allow(clippy::expect_used)] // held from join until commit or drop
    fn deref(&self) -> &RawConn {
        self.state.as_ref().and_then(|s| s.conn.as_ref()).expect("the writing connection is held")
    }
}

impl DerefMut for BatchTx {
    #[allow(clippy::expect_used)] // held from join until commit or drop
    fn deref_mut(&mut self) -> &mut RawConn {
        self.state.as_mut().and_then(|s| s.conn.as_mut()).expect("the writing connection is held")
    }
}

fn lost() -> DbError {
    DbError::Corrupt("the writing connection is gone".into())
}

fn gone(e: tokio::task::JoinError) -> DbError {
    DbError::Corrupt(format!("the writing connection's task failed: {e}"))
}

/// Statements that run one after another in a transaction, each with its own values (`$1`… in
/// each counts from its own first value). On SQLite they go to the connection as one query, so
/// one trip to its worker thread runs them all (the placeholders renumbered to follow each other);
/// Postgres takes one statement a query, so there each runs on its own.
#[derive(Default)]
pub(crate) struct Script<'a> {
    statements: Vec<(String, Vec<Value<'a>>)>,
}

/// A value a [`Script`] binds.
pub(crate) enum Value<'a> {
    Int(i64),
    MaybeInt(Option<i64>),
    Bytes(&'a [u8]),
    Scope(crate::domain::Scope),
    Apis(&'a crate::domain::api::ApiSet),
}

impl<'a> Script<'a> {
    pub(crate) fn push(&mut self, sql: impl Into<String>, values: Vec<Value<'a>>) -> &mut Self {
        self.statements.push((sql.into(), values));
        self
    }

    /// Runs the statements as the request's last ([`super::WriteTx::last`]).
    pub(crate) async fn run(self, tx: &mut super::WriteTx, backend: super::Backend) -> Result<(), DbError> {
        match backend {
            super::Backend::Sqlite => {
                let mut sql = String::new();
                let mut values = Vec::new();
                for (statement, mut own) in self.statements {
                    if !sql.is_empty() {
                        sql.push_str("; ");
                    }
                    renumber(&statement, values.len(), &mut sql);
                    values.append(&mut own);
                }
                let sql = tx.last(&sql);
                bind(sqlx::query(&sql), values).execute(tx.conn()).await?;
            }
            super::Backend::Postgres => {
                for (statement, values) in self.statements {
                    bind(sqlx::query(&statement), values).execute(tx.conn()).await?;
                }
            }
        }
        Ok(())
    }
}

fn bind<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    values: Vec<Value<'q>>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in values {
        q = match v {
            Value::Int(i) => q.bind(i),
            Value::MaybeInt(i) => q.bind(i),
            Value::Bytes(b) => q.bind(b),
            Value::Scope(s) => q.bind(s),
            Value::Apis(a) => q.bind(a),
        };
    }
    q
}

/// Appends `sql` to `out` with each placeholder `$n` written as `$(n + by)`.
pub(super) fn renumber(sql: &str, by: usize, out: &mut String) {
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    #[test]
    fn placeholders_are_renumbered_to_follow_the_statements_before() {
        let mut out = String::new();
        super::renumber("UPDATE t SET a = $1 WHERE id = $2 AND b = $10", 3, &mut out);
        assert_eq!(out, "UPDATE t SET a = $4 WHERE id = $5 AND b = $13");
        let mut out = String::new();
        super::renumber("SELECT 1", 5, &mut out);
        assert_eq!(out, "SELECT 1");
    }

    use sqlx::Executor;

    use crate::db::{Db, DbError};

    async fn scratch() -> (tempfile::TempDir, Db, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        db.pool().execute("CREATE TABLE t (k TEXT PRIMARY KEY)").await.unwrap();
        // Another process's view of the same file.
        let other = Db::connect(&url).await.unwrap();
        (dir, db, other)
    }

    async fn keys(db: &Db) -> Vec<String> {
        sqlx::query_scalar("SELECT k FROM t ORDER BY k").fetch_all(db.pool()).await.unwrap()
    }

    async fn insert(db: &Db, k: &str) -> Result<(), DbError> {
        let mut tx = db.batch().await?;
        sqlx::query("INSERT INTO t (k) VALUES ($1)").bind(k).execute(tx.conn()).await?;
        tx.commit().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_commits_and_each_is_durable_when_answered() {
        let (_dir, db, other) = scratch().await;
        let n = 64;
        let mut tasks = Vec::new();
        for i in 0..n {
            let (db, other) = (db.clone(), other.clone());
            tasks.push(tokio::spawn(async move {
                let k = format!("k{i:03}");
                insert(&db, &k).await.unwrap();
                // Answered: its batch's WAL sync is done (the first answer comes after one).
                assert!(db.writer.as_ref().unwrap().syncs() >= 1, "answered before any sync");
                // And committed, so every other connection sees it.
                let seen: Option<String> = sqlx::query_scalar("SELECT k FROM t WHERE k = $1")
                    .bind(&k)
                    .fetch_optional(other.pool())
                    .await
                    .unwrap();
                assert_eq!(seen.as_deref(), Some(k.as_str()));
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(keys(&other).await.len(), n);
        let commits = db.writer.as_ref().unwrap().commits();
        assert!(commits < n as u64, "{commits} commits for {n} concurrent writes: none were shared");
        db.close().await;
        other.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_request_does_not_fail_its_batch_mates() {
        let (_dir, db, other) = scratch().await;
        insert(&db, "taken").await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..40 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                // Every fourth request breaks a rule after writing something of its own, in its
                // last statements or in a statement after its first.
                let mut tx = db.batch().await?;
                let sql = tx.first("INSERT INTO t (k) VALUES ($1)");
                sqlx::query(&sql).bind(format!("own{i:02}")).execute(tx.conn()).await?;
                match i % 8 {
                    0 => {
                        let sql = tx.last("INSERT INTO t (k) VALUES ('taken')");
                        sqlx::query(&sql).execute(tx.conn()).await?;
                    }
                    4 => {
                        sqlx::query("INSERT INTO t (k) VALUES ('taken')").execute(tx.conn()).await?;
                    }
                    2 => {
                        let sql = tx.last("INSERT INTO t (k) VALUES ($1)");
                        sqlx::query(&sql).bind(format!("own{i:02}b")).execute(tx.conn()).await?;
                    }
                    _ => {}
                }
                tx.commit().await
            }));
        }
        let mut failed = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 10);
        let mut want: Vec<String> = (0..40).filter(|i| i % 4 != 0).map(|i| format!("own{i:02}")).collect();
        want.extend((0..40).filter(|i| i % 8 == 2).map(|i| format!("own{i:02}b")));
        want.push("taken".into());
        want.sort();
        assert_eq!(keys(&other).await, want, "the failed requests left nothing; the others all stayed");
        db.close().await;
        other.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_of_one_statement_sent_as_its_last_needs_no_savepoint() {
        let (_dir, db, other) = scratch().await;
        let mut tx = db.batch().await.unwrap();
        let sql = tx.last("INSERT INTO t (k) VALUES ('alone')");
        assert!(!sql.contains("RELEASE"), "{sql}");
        sqlx::query(&sql).execute(tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(keys(&other).await, ["alone"]);
        db.close().await;
        other.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_gone_before_its_statements_were_sent_undoes_nobody_elses() {
        let (_dir, db, other) = scratch().await;
        for i in 0..20 {
            // Kept (its savepoint released with its statements), its batch not yet committed...
            let mut tx = db.batch().await.unwrap();
            let sql = tx.first("INSERT INTO t (k) VALUES ($1)");
            let sql = tx.last(&sql);
            sqlx::query(&sql).bind(format!("kept{i:02}")).execute(tx.conn()).await.unwrap();
            let kept = tokio::spawn(tx.commit());
            // ...when the next request asks for its savepoint and is gone before sending it.
            {
                let mut tx = db.batch().await.unwrap();
                let _never_sent = tx.first("INSERT INTO t (k) VALUES ('never')");
            }
            kept.await.unwrap().unwrap();
        }
        let want: Vec<String> = (0..20).map(|i| format!("kept{i:02}")).collect();
        assert_eq!(keys(&other).await, want);
        db.close().await;
        other.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_dropped_midway_leaves_nothing_and_frees_the_write_lock() {
        let (_dir, db, other) = scratch().await;
        {
            let mut tx = db.batch().await.unwrap();
            let sql = tx.first("INSERT INTO t (k) VALUES ('abandoned')");
            sqlx::query(&sql).execute(tx.conn()).await.unwrap();
            sqlx::query("INSERT INTO t (k) VALUES ('abandoned too')").execute(tx.conn()).await.unwrap();
            // Dropped here without commit, as an early return or a cancelled request does.
        }
        insert(&db, "kept").await.unwrap();
        assert_eq!(keys(&other).await, vec!["kept".to_string()]);
        // A lone abandoned request must not hold SQLite's write lock until the next request:
        // another process can write soon after.
        {
            let mut tx = db.batch().await.unwrap();
            let sql = tx.first("INSERT INTO t (k) VALUES ('abandoned2')");
            sqlx::query(&sql).execute(tx.conn()).await.unwrap();
        }
        let mut tx = other.pool().begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t (k) VALUES ('other')").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(keys(&db).await, vec!["kept".to_string(), "other".to_string()]);
        // Other writes of this process wait for the open batch and then run.
        let writer = Arc::clone(db.writer.as_ref().unwrap());
        let mut tx = db.batch().await.unwrap();
        sqlx::query("INSERT INTO t (k) VALUES ('batched')").execute(tx.conn()).await.unwrap();
        let committing = tokio::spawn(tx.commit());
        {
            let _turn = writer.exclusive().await;
        }
        committing.await.unwrap().unwrap();
        assert!(keys(&other).await.contains(&"batched".to_string()));
        db.close().await;
        other.close().await;
    }
}
