//! A PostgreSQL database of one test: created fresh on the test server, dropped
//! when the test ends.
//!
//! The server is `WASMTASKS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`; any database on it will do, it is
//! only used to create and drop others). When it cannot be reached, tests that need
//! it are skipped with a message, unless `CI=true`, where that fails them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use wasmtasks::store::postgres::{create_database, drop_database};

/// The server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("WASMTASKS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database that exists for one test; dropped (with its connections) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a fresh database, or returns `None` (after saying why and how to run
    /// these tests) when the server cannot be reached and `CI` is not `true`.
    pub fn create() -> Option<TestDatabase> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "wasmtasks_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let server = server_url();
        let created = {
            let name = name.clone();
            let server = server.clone();
            blocking(async move { create_database(&server, &name).await })
        };
        match created {
            Ok(url) => Some(TestDatabase { name, url }),
            Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("PostgreSQL is required when CI=true: {error}")
            }
            Err(error) => {
                eprintln!(
                    "skipped: no PostgreSQL to test against ({error}). Start one at {server}, \
                     or point WASMTASKS_TEST_POSTGRES_URL at one (CI=true makes this a failure)."
                );
                None
            }
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        if let Err(error) = blocking(async move { drop_database(&server_url(), &name).await }) {
            eprintln!("cannot drop the test database {}: {error}", self.name);
        }
    }
}

/// Runs `work` to completion on a thread and runtime of its own, so that sync tests,
/// async tests and `Drop` can all use it.
fn blocking<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work)
    })
    .join()
    .expect("the database thread does not panic")
}
