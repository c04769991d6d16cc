//! Checkpoints the write-ahead log off the writer's path.
//!
//! Left to itself, SQLite checkpoints inside the commit that takes the log past
//! 1,000 pages: that commit copies the log into the database file and syncs it,
//! while every other write waits behind it (W1 spent about a tenth of its writer
//! time there, and the commits that did it stood out in W2's p99). Here the
//! writer's automatic checkpoint is raised to [`AUTOCHECKPOINT_PAGES`], a backstop
//! only, and a connection of its own runs a `PASSIVE` checkpoint [`DELAY`] after
//! jobs or results change (the store's change signal: this process's commits of
//! them and the doorbell's rings), concurrently with the writer, which SQLite allows in WAL
//! mode. An idle store does nothing.
//!
//! Durability is no weaker: with `synchronous = NORMAL` a commit is on disk once a
//! checkpoint has synced the log, which now happens within [`DELAY`] of a change
//! of jobs rather than whenever 1,000 pages have piled up.

use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::StoreError;

/// Log pages after which a commit checkpoints by itself (SQLite's default is
/// 1,000): only when the background checkpoints cannot keep up, or writes that do
/// not signal a change (uploads, settings) pile up without any job activity.
pub(super) const AUTOCHECKPOINT_PAGES: u32 = 20_000;

/// How long after a change the checkpoint runs, so one covers many commits.
const DELAY: Duration = Duration::from_millis(100);

/// The checkpointing task; stopped when dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    task: JoinHandle<()>,
}

impl Checkpointer {
    /// Opens a connection of its own to the file of `options` and checkpoints after
    /// each change `changes` signals.
    pub(super) async fn start(
        options: &SqliteConnectOptions,
        mut changes: watch::Receiver<u64>,
    ) -> Result<Self, sqlx::Error> {
        let mut connection = SqliteConnection::connect_with(options).await?;
        let task = tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                tokio::time::sleep(DELAY).await;
                changes.borrow_and_update();
                if let Err(error) = checkpoint(&mut connection).await {
                    tracing::warn!(%error, "cannot checkpoint the SQLite log; the writer's own checkpoints take over");
                }
            }
        });
        Ok(Checkpointer { task })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies what it can of the log into the database file, waiting for no one.
async fn checkpoint(connection: &mut SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(connection)
        .await
        .map(|_| ())
        .map_err(StoreError::query("checkpointing the log"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// Pages in the log and pages already copied into the file, as SQLite reports
    /// them to a checkpoint that copies nothing.
    async fn log_pages(options: &SqliteConnectOptions) -> (i64, i64) {
        let mut connection = SqliteConnection::connect_with(options).await.unwrap();
        let (_busy, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(NOOP)")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        (log, done)
    }

    #[tokio::test]
    async fn a_change_is_checkpointed_and_an_idle_store_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("q.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES.to_string());
        let mut writer = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&mut writer)
            .await
            .unwrap();
        let (signal, changes) = watch::channel(0u64);
        let _checkpointer = Checkpointer::start(&options, changes).await.unwrap();
        sqlx::query("INSERT INTO t VALUES (zeroblob(100000))")
            .execute(&mut writer)
            .await
            .unwrap();
        // Unsignalled, the log is left as it is.
        tokio::time::sleep(DELAY * 3).await;
        let (log, done) = log_pages(&options).await;
        assert!(log > 20, "{log} pages in the log");
        assert!(done < log, "{done} of {log} pages checkpointed unasked");
        crate::store::bump(&signal);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (log, done) = log_pages(&options).await;
            if done == log {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{done} of {log} pages checkpointed"
            );
            tokio::time::sleep(DELAY).await;
        }
    }
}
