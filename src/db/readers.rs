//! SQLite connections kept for the hot path's reads (a bearer token's lookup, introspection, a
//! client's credentials), outside sqlx's pool.
//!
//! sqlx runs each SQLite connection on a thread of its own: a statement is a hand-off to that
//! thread and back. Its pool adds a second hand-off to every use: a connection given back is
//! pinged before another task may take it, because a task cancelled mid-statement could leave a
//! network connection half-read. A request that reads one row paid twice the hand-offs it needs
//! (measured with perf under the bench's load: most of the server's CPU went to waking threads).
//! An SQLite connection has no such state to lose: a statement abandoned midway is finished or
//! reset by its thread before it runs the next one, so these connections go back without a
//! ping. Only single statements outside transactions run on them.

use std::sync::{Arc, Mutex};

use sqlx::{AnyConnection, AnyPool, Connection, pool::PoolConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::DbError;

/// How many connections read at once: the machine's cores and a few more (a read takes
/// microseconds; more threads only wake each other).
fn readers() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get() * 2).clamp(2, 8)
}

#[derive(Debug)]
pub(crate) struct Readers {
    pool: AnyPool,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<AnyConnection>>,
}

impl Readers {
    pub(crate) fn new(pool: AnyPool) -> Arc<Self> {
        let n = readers();
        Arc::new(Self { pool, permits: Arc::new(Semaphore::new(n)), idle: Mutex::new(Vec::with_capacity(n)) })
    }

    pub(crate) async fn get(self: &Arc<Self>) -> Result<Reader, DbError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            // Opened through the pool (its options, its `after_connect`) and kept from then on.
            None => self.pool.acquire().await?.detach(),
        };
        Ok(Reader { conn: Some(conn), readers: self.clone(), _permit: permit })
    }

    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

/// A connection for one read: a kept SQLite connection, or one from the pool (Postgres, an
/// in-memory SQLite database).
pub(crate) enum ReadConn {
    Kept(Reader),
    Pool(PoolConnection<sqlx::Any>),
}

pub(crate) struct Reader {
    conn: Option<AnyConnection>,
    readers: Arc<Readers>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && !self.readers.permits.is_closed()
        {
            self.readers.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
    }
}

impl ReadConn {
    /// The connection to run the statement on.
    pub(crate) fn conn(&mut self) -> Result<&mut AnyConnection, DbError> {
        match self {
            ReadConn::Kept(r) => r.conn.as_mut().ok_or(DbError::Sqlx(sqlx::Error::PoolClosed)),
            ReadConn::Pool(c) => Ok(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
    async fn reads_cancelled_midway_leave_the_kept_connections_answering_rightly() {
        let (_dir, db) = scratch().await;
        const MANY: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) \
                            SELECT x FROM c";
        let mut tasks = Vec::new();
        for i in 0..60 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = db.read().await.unwrap();
                if i % 2 == 0 {
                    // Given up while its rows are still coming, as a cancelled request does.
                    let rows = sqlx::query_scalar::<_, i64>(MANY).fetch_all(conn.conn().unwrap());
                    let gone = tokio::time::timeout(Duration::from_micros(200), rows).await.is_err();
                    Err(gone)
                } else {
                    let n: i64 = sqlx::query_scalar("SELECT $1 + 1")
                        .bind(i)
                        .fetch_one(conn.conn().unwrap())
                        .await
                        .unwrap();
                    Ok((i, n))
                }
            }));
        }
        let mut cancelled = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok((i, n)) => assert_eq!(n, i + 1, "a kept connection answered another statement's rows"),
                Err(gone) => cancelled += usize::from(gone),
            }
        }
        assert!(cancelled > 0, "no read was cancelled midway");
        let readers = db.readers.as_ref().unwrap();
        let kept = readers.idle.lock().unwrap().len();
        assert!((1..=super::readers()).contains(&kept), "{kept} connections kept");
        db.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_kept_connection_sees_each_committed_write() {
        let (_dir, db) = scratch().await;
        for i in 1..=20 {
            let mut tx = db.batch().await.unwrap();
            sqlx::query("INSERT INTO t (k) VALUES ($1)")
                .bind(format!("k{i}"))
                .execute(&mut *tx)
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
