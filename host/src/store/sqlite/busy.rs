//! What a connection does while another process holds the write lock: it polls
//! the lock every [`POLL`] until [`BUSY_TIMEOUT`] has passed.
//!
//! SQLite's own busy handler (`busy_timeout`) sleeps 1, 2, 5 … then 100 ms between
//! tries, and SQLite keeps no queue of waiting writers: a worker process that
//! writes back to back frees the lock for well under a millisecond at a time, so a
//! writer in another process (a CLI enqueue, a second worker) that looks every
//! 100 ms almost never finds it free and gives up with "database is locked".
//! Looking every 100 µs finds one of those gaps within milliseconds.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use sqlx::SqliteConnection;

/// How long a connection waits for a lock another connection holds.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a waiting connection sleeps between two tries.
const POLL: Duration = Duration::from_micros(100);

thread_local! {
    /// When the wait the busy handler is in on this thread began. sqlx runs each
    /// connection on a thread of its own, so this is the connection's wait.
    static WAITING_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Replaces `connection`'s busy handler with [`poll`].
pub(super) async fn poll_while_busy(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this connection's open handle, locked for us by sqlx so no
    // other call is made on it meanwhile; `poll` takes no argument (a null
    // pointer), never unwinds, and only sleeps, as a busy handler must.
    let code =
        unsafe { libsqlite3_sys::sqlite3_busy_handler(db, Some(poll), std::ptr::null_mut()) };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "setting SQLite's busy handler failed with code {code}"
        )))
    }
}

/// SQLite's busy handler: `count` is how many times it was called in this wait.
/// Returns 1 to try again after a short sleep, 0 to give up (SQLITE_BUSY).
extern "C" fn poll(_: *mut c_void, count: c_int) -> c_int {
    let now = Instant::now();
    let waited = WAITING_SINCE
        .try_with(|since| {
            let start = match since.get() {
                Some(start) if count > 0 => start,
                _ => {
                    since.set(Some(now));
                    now
                }
            };
            now.duration_since(start)
        })
        // The thread is ending: count the tries instead.
        .unwrap_or(POLL * count.unsigned_abs());
    if waited >= BUSY_TIMEOUT {
        return 0;
    }
    std::thread::sleep(POLL);
    1
}
