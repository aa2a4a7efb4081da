//! All SQL lives here. One code path for SQLite and Postgres through sqlx `Any`, with portable
//! SQL (`$1` placeholders, BIGINT timestamps, BLOB/BYTEA digests); row structs convert into domain
//! types before they leave this module.

pub mod apis;
pub mod audit;
mod batch;
pub mod clients;
pub mod oauth;
mod raw;
mod readers;
pub mod registration;
mod scope;
pub mod sessions;
pub mod settings;
mod trigrams;
pub mod users;

use std::time::Duration;

use sqlx::{
    AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::Migrator,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The one shared pool, cloned cheaply into every handler.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite lets one connection write at a time and makes the others poll with growing sleeps
    /// (up to 100 ms each): this process's writes queue here instead, and token writes share
    /// batched commits ([`batch`]). `None` on Postgres, where rows are locked one by one and
    /// every connection commits on its own, and for an in-memory SQLite database.
    writer: Option<std::sync::Arc<batch::Writer>>,
    /// SQLite connections kept for the hot path's reads ([`readers`]); `None` where `writer` is.
    readers: Option<std::sync::Arc<readers::Readers>>,
    /// Whom the changes made through this handle are recorded as (see [`Db::by`]).
    actor: Option<std::sync::Arc<crate::domain::audit::Actor>>,
    /// Postgres only: which trigrams of the stored names are common ([`trigrams`]), for the
    /// client search.
    search_sample: Option<std::sync::Arc<trigrams::SampleCache>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("could not create the database folder {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("already exists")]
    Duplicate,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl Db {
    /// Connects (creating an SQLite file and its folder on first start) without migrating.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let (url, backend) = if url.starts_with("sqlite:") {
            (prepare_sqlite_url(url)?, Backend::Sqlite)
        } else {
            (url.to_string(), Backend::Postgres)
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = AnyPoolOptions::new()
            // An in-memory SQLite database exists once per connection.
            .max_connections(if in_memory { 1 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            // Checking a connection before each use costs a round trip to it. A Postgres
            // connection can die with its server or the network in between; an SQLite file's
            // cannot, so there every request saves that trip.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        // WAL lets the CLI write while the server reads; foreign keys, the busy
                        // timeout and synchronous=FULL (every commit durable) are sqlx defaults.
                        Backend::Sqlite => conn.execute("PRAGMA journal_mode = WAL").await?,
                        // No parallel workers and no JIT: Clavis's statements read a few rows by
                        // index or stop early (a search's count at 10,001), and starting workers
                        // or compiling the plan cost more than the reading (at a million clients,
                        // `client 4`'s count took 20–45 ms with two workers, 12 without; `bench c` 25 ms
                        // with JIT, 21 of them compiling, 5 without).
                        Backend::Postgres => {
                            conn.execute("SET max_parallel_workers_per_gather = 0").await?;
                            conn.execute("SET jit = off").await?
                        }
                    };
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let (writer, readers) = if backend == Backend::Sqlite && !in_memory {
            // The file as SQLite resolved it, for the connections opened outside the pool.
            let (path,): (String,) =
                sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(&pool)
                    .await?;
            let path: std::sync::Arc<str> = path.into();
            (Some(batch::Writer::new(path.clone())), Some(readers::Readers::new(path)))
        } else {
            (None, None)
        };
        let search_sample = (backend == Backend::Postgres).then(Default::default);
        Ok(Self { pool, backend, writer, readers, actor: None, search_sample })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A connection for one statement outside a transaction on the hot path: on an SQLite
    /// file one of the kept [`readers`], handed back without the pool's ping.
    pub(crate) async fn read(&self) -> Result<readers::ReadConn, DbError> {
        Ok(match &self.readers {
            Some(r) => readers::ReadConn::Kept(r.get()?),
            None => readers::ReadConn::Pool(self.pool.acquire().await?),
        })
    }

    /// Waits for this process's turn to run a write transaction on a pool connection (SQLite
    /// only; see `writer`), committing the open batch first.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<batch::WriterState>> {
        match &self.writer {
            Some(w) => Some(w.exclusive().await),
            None => None,
        }
    }

    /// One statement on the hot path, durable when this returns: on SQLite in the open batch
    /// ([`Db::batch`]; one statement needs no savepoint: a failing one is undone by SQLite),
    /// elsewhere on its own (no transaction around it).
    pub(crate) async fn write_one<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<(), DbError> {
        if self.writer.is_some() {
            let mut tx = self.batch().await?;
            q.execute(tx.conn()).await?;
            tx.commit().await
        } else {
            q.execute(&self.pool).await?;
            Ok(())
        }
    }

    /// Group commits so far and the writes they held (SQLite; see [`batch`]).
    pub fn batch_counts(&self) -> Option<(u64, u64)> {
        self.writer.as_ref().map(|w| (w.commits(), w.writes()))
    }

    /// A write transaction on the hot path: on SQLite a part of the open batch (see [`batch`]),
    /// committed together with the requests that arrive meanwhile; elsewhere a transaction of
    /// its own. Either way, `commit` returns once the changes are durable, and dropping it
    /// undoes them.
    pub(crate) async fn batch(&self) -> Result<WriteTx, DbError> {
        Ok(match &self.writer {
            Some(w) => WriteTx::Batch(w.join().await?),
            None => WriteTx::Own(self.begin_write().await?),
        })
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a transaction that reads before it writes would otherwise fail with "database
    /// is locked" whenever another process (the CLI beside the server) committed in between, which
    /// no busy timeout can wait out. Within one process `write_turn` already queues writers.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// A cheap query proving the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether every migration of this build is applied, successfully (`/readyz`).
    pub async fn migrations_applied(&self) -> Result<bool, DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // `success` is a boolean on Postgres and an integer on SQLite: compared in SQL.
        let applied: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await?;
        Ok(migrator.iter().all(|m| applied.iter().any(|(v,)| *v == m.version)))
    }

    pub async fn close(&self) {
        if let Some(w) = &self.writer {
            w.close().await;
        }
        if let Some(r) = &self.readers {
            r.close();
        }
        self.pool.close().await;
    }
}

/// See [`Db::batch`].
pub(crate) enum WriteTx {
    Batch(batch::BatchTx),
    Own(sqlx::Transaction<'static, sqlx::Any>),
}

impl WriteTx {
    /// The request's first statements, `sql`, as they are to be sent: on SQLite's batch, in a
    /// savepoint of the request's own ([`batch::BatchTx::first`]). A request of more than one
    /// statement sends its first through here.
    pub(crate) fn first<'s>(&mut self, sql: &'s str) -> std::borrow::Cow<'s, str> {
        match self {
            WriteTx::Batch(b) => b.first(sql).into(),
            WriteTx::Own(_) => sql.into(),
        }
    }

    /// The request's last statements, `sql`, as they are to be sent: on SQLite's batch, with the
    /// release of the savepoint `first` opened behind them ([`batch::BatchTx::last`]).
    pub(crate) fn last<'s>(&mut self, sql: &'s str) -> std::borrow::Cow<'s, str> {
        match self {
            WriteTx::Batch(b) => b.last(sql),
            WriteTx::Own(_) => sql.into(),
        }
    }

    /// What its statements run on: on SQLite's batch our own connection ([`raw`]: on the calling
    /// thread), elsewhere the transaction.
    pub(crate) fn conn(&mut self) -> raw::Conn<'_> {
        match self {
            WriteTx::Batch(b) => raw::Conn::Raw(b),
            WriteTx::Own(t) => raw::Conn::Sqlx(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), DbError> {
        match self {
            WriteTx::Batch(b) => b.commit().await,
            WriteTx::Own(t) => Ok(t.commit().await?),
        }
    }
}

/// Adds `mode=rwc` so a fresh path is created, and creates the file's folder.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory = path == ":memory:" || query.contains("mode=memory");
    let dir = std::path::Path::new(path).parent().filter(|d| !memory && !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .map_err(|source| DbError::CreateDir { path: dir.display().to_string(), source })?;
    }
    Ok(if query.contains("mode=") || memory {
        url.to_string()
    } else if query.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        format!("sqlite://{path}?{query}&mode=rwc")
    })
}

/// Maps a unique-constraint violation to [`DbError::Duplicate`].
pub(crate) fn unique_violation(err: sqlx::Error) -> DbError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Duplicate,
        _ => DbError::Sqlx(err),
    }
}

/// Seconds since the Unix epoch: every timestamp column is a BIGINT of these.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let abs = dir.path().join("nested/x.db");
        let url = format!("sqlite://{}", abs.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(abs.parent().unwrap().is_dir());
        assert_eq!(prepare_sqlite_url("sqlite::memory:").unwrap(), "sqlite::memory:");
        let with_q = format!("sqlite://{}?cache=shared", abs.display());
        assert_eq!(prepare_sqlite_url(&with_q).unwrap(), format!("{with_q}&mode=rwc"));
        let ro = format!("sqlite://{}?mode=ro", abs.display());
        assert_eq!(prepare_sqlite_url(&ro).unwrap(), ro);
    }
}
