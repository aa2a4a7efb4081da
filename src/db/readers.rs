//! SQLite connections kept for the hot path's reads (a bearer token's lookup, introspection, a
//! client's credentials), outside sqlx's pool.
//!
//! sqlx runs each SQLite connection on a thread of its own, and its pool pings every connection
//! given back to it: a read of one row cost two hand-offs to another thread and back, which under
//! load took more CPU than the read (measured with perf: most of the server's CPU went to waking
//! threads). These reads are single statements by an indexed key, outside any transaction: they
//! run on the calling thread ([`super::raw`]), on connections kept here, without a ping (a
//! statement runs to its end before its future exists, so none is ever left half-read).

use std::sync::{Arc, Mutex};

use sqlx::pool::PoolConnection;

use super::{
    DbError,
    raw::{Conn, RawConn},
};

/// How many idle connections are kept: the machine's cores and a few more (a read takes
/// microseconds, on the thread that asks; more are opened when more read at once).
fn readers() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 2).clamp(2, 8)
}

#[derive(Debug)]
pub(crate) struct Readers {
    /// The database file.
    path: Arc<str>,
    idle: Mutex<Vec<RawConn>>,
    /// How many idle connections are kept ([`readers`]; asked once: the answer reads files).
    keep: usize,
    closed: std::sync::atomic::AtomicBool,
}

impl Readers {
    pub(crate) fn new(path: Arc<str>) -> Arc<Self> {
        let keep = readers();
        Arc::new(Self { path, idle: Mutex::new(Vec::with_capacity(keep)), keep, closed: Default::default() })
    }

    pub(crate) fn get(self: &Arc<Self>) -> Result<Reader, DbError> {
        if self.closed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(sqlx::Error::PoolClosed.into());
        }
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            // Opening a file is quick (its schema is read on first use), and happens a few times
            // a process.
            None => RawConn::open(&self.path)?,
        };
        Ok(Reader { conn: Some(conn), readers: self.clone() })
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::Relaxed);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A connection for one read: a kept SQLite connection, or one from the pool (Postgres, an
/// in-memory SQLite database).
pub(crate) enum ReadConn {
    Kept(Reader),
    Pool(PoolConnection<sqlx::Any>),
}

pub(crate) struct Reader {
    conn: Option<RawConn>,
    readers: Arc<Readers>,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.readers.closed.load(std::sync::atomic::Ordering::Relaxed)
        {
            let mut idle = self.readers.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < self.readers.keep {
                idle.push(conn);
            }
        }
    }
}

impl ReadConn {
    /// The connection to run the statement on.
    pub(crate) fn conn(&mut self) -> Result<Conn<'_>, DbError> {
        match self {
            ReadConn::Kept(r) => r.conn.as_mut().map(Conn::Raw).ok_or(DbError::Sqlx(sqlx::Error::PoolClosed)),
            ReadConn::Pool(c) => Ok(Conn::Sqlx(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Executor;

    use crate::db::Db;

    async fn scratch() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        db.pool().execute("CREATE TABLE t (k TEXT PRIMARY KEY)").await.unwrap();
        (dir, db)
    }

    async fn count(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.read().await.unwrap().conn().unwrap())
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_at_once_each_get_their_own_answer_and_few_connections_are_kept() {
        let (_dir, db) = scratch().await;
        const MANY: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) \
                            SELECT x FROM c";
        let mut tasks = Vec::new();
        for i in 0..60_i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = db.read().await.unwrap();
                if i % 2 == 0 {
                    let rows =
                        sqlx::query_scalar::<_, i64>(MANY).fetch_all(conn.conn().unwrap()).await.unwrap();
                    (i, rows.len() as i64 + i)
                } else {
                    let n: i64 = sqlx::query_scalar("SELECT $1 + 20000")
                        .bind(i)
                        .fetch_one(conn.conn().unwrap())
                        .await
                        .unwrap();
                    (i, n)
                }
            }));
        }
        for t in tasks {
            let (i, n) = t.await.unwrap();
            assert_eq!(n, i + 20000, "read {i} got another statement's answer");
        }
        let readers = db.readers.as_ref().unwrap();
        let kept = readers.idle.lock().unwrap().len();
        assert!((1..=super::readers()).contains(&kept), "{kept} connections kept");
        db.close().await;
        assert!(db.read().await.is_err(), "a closed database still reads");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_kept_connection_sees_each_committed_write() {
        let (_dir, db) = scratch().await;
        for i in 1..=20 {
            let mut tx = db.batch().await.unwrap();
            sqlx::query("INSERT INTO t (k) VALUES ($1)")
                .bind(format!("k{i}"))
                .execute(tx.conn())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            // Several at once, so each kept connection takes its turn.
            let mut reads = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let db = db.clone();
                reads.spawn(async move { count(&db).await });
            }
            let counts = reads.join_all().await;
            assert!(counts.iter().all(|&n| n == i), "after {i} writes a read saw {counts:?}");
        }
        db.close().await;
    }
}
