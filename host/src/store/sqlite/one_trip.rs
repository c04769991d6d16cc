//! A write transaction sent to the writer's connection as one command.
//!
//! sqlx runs each SQLite connection on a thread of its own, and every statement —
//! `BEGIN` and `COMMIT` included — is a trip there and back (tens to hundreds of
//! microseconds of wake-ups on a busy machine, while the writer holds the lock and
//! does nothing). A transaction written as one text, `BEGIN IMMEDIATE; …; COMMIT;`,
//! takes one trip. sqlx does not know of a transaction begun that way, so if a
//! statement fails this module ends it: the connection must never go back to the
//! pool inside a transaction, where every later write would join it.

use sqlx::SqliteConnection;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};

use crate::store::StoreError;

/// Runs `query` — a whole transaction, `BEGIN IMMEDIATE` to `COMMIT` — on
/// `connection` in one trip; returns the rows its statements return.
///
/// It runs to its end in a task of its own. A caller that stops waiting (a
/// `select!` that took another branch) drops only its wait: were the query itself
/// dropped, sqlx's connection thread would stop between two statements, inside a
/// transaction nobody ends.
pub(super) async fn transaction(
    connection: PoolConnection<Sqlite>,
    query: sqlx::query::Query<'static, Sqlite, SqliteArguments>,
    context: &'static str,
) -> Result<Vec<SqliteRow>, StoreError> {
    match tokio::spawn(run(connection, query, context)).await {
        Ok(written) => written,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // The runtime is shutting down.
        Err(_) => Err(StoreError::Abandoned { context }),
    }
}

async fn run(
    mut connection: PoolConnection<Sqlite>,
    query: sqlx::query::Query<'static, Sqlite, SqliteArguments>,
    context: &'static str,
) -> Result<Vec<SqliteRow>, StoreError> {
    match query.fetch_all(&mut *connection).await {
        Ok(rows) => Ok(rows),
        Err(cause) => {
            end_transaction(connection).await;
            Err(StoreError::Query { context, cause })
        }
    }
}

/// Rolls back the transaction a failed statement left open, if any; a connection
/// that cannot roll back is closed (which rolls back) and replaced by the pool.
async fn end_transaction(mut connection: PoolConnection<Sqlite>) {
    let rolled_back = match in_transaction(&mut connection).await {
        Ok(false) => true,
        Ok(true) => sqlx::query("ROLLBACK")
            .execute(&mut *connection)
            .await
            .is_ok(),
        Err(_) => false,
    };
    if !rolled_back {
        tracing::warn!(
            "closing the SQLite writer connection: its failed transaction could not be rolled back"
        );
        let _ = connection.close().await;
    }
}

/// Whether `connection` is inside a transaction, as SQLite itself says.
async fn in_transaction(connection: &mut SqliteConnection) -> Result<bool, sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this connection's open handle, locked for us by sqlx so no
    // other call is made on it meanwhile; `sqlite3_get_autocommit` only reads it.
    Ok(unsafe { libsqlite3_sys::sqlite3_get_autocommit(db) } == 0)
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;

    async fn pool() -> sqlx::SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .execute(&pool)
            .await
            .unwrap();
        pool
    }

    async fn count(pool: &sqlx::SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn commits_every_statement_and_returns_their_rows() {
        let pool = pool().await;
        let query = sqlx::query(
            "BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (?1), (?2);
             UPDATE t SET n = n * 10 RETURNING n; COMMIT;",
        )
        .bind(1)
        .bind(2);
        let rows = transaction(pool.acquire().await.unwrap(), query, "testing")
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(count(&pool).await, 2);
    }

    #[tokio::test]
    async fn a_caller_that_stops_waiting_does_not_stop_the_transaction() {
        let pool = pool().await;
        let query = sqlx::query("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (?1); COMMIT;").bind(5);
        let mut call = Box::pin(transaction(pool.acquire().await.unwrap(), query, "testing"));
        // Polled once (the statements are on their way), then given up.
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        drop(call);
        // The pool's one connection comes back once the transaction has ended:
        // committed, and not left open.
        let mut connection = pool.acquire().await.unwrap();
        assert!(!in_transaction(&mut connection).await.unwrap());
        drop(connection);
        assert_eq!(count(&pool).await, 1);
    }

    #[tokio::test]
    async fn a_failing_statement_leaves_nothing_and_no_open_transaction() {
        let pool = pool().await;
        // The second insert breaks the primary key after the first has written.
        let query = sqlx::query(
            "BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (?1); INSERT INTO t (n) VALUES (?1); COMMIT;",
        )
        .bind(7);
        let error = transaction(pool.acquire().await.unwrap(), query, "testing")
            .await
            .unwrap_err();
        assert!(error.to_string().contains("UNIQUE"), "{error}");
        // The same (only) connection writes again, outside any transaction: the
        // write is seen from a fresh transaction, so it was committed.
        let mut connection = pool.acquire().await.unwrap();
        assert!(!in_transaction(&mut connection).await.unwrap());
        sqlx::query("INSERT INTO t (n) VALUES (8)")
            .execute(&mut *connection)
            .await
            .unwrap();
        drop(connection);
        assert_eq!(count(&pool).await, 1);
    }
}
