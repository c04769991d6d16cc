//! Wake-ups between processes that share one SQLite file. SQLite has no LISTEN: a
//! process that commits jobs or results writes a byte to the file's `-wake`
//! companion, and every process watching it (inotify on Linux, kqueue or FSEvents
//! elsewhere, through `notify`) hears of it at once. An idle worker sleeps until
//! then instead of asking SQLite every 2 ms whether the file changed; a slow poll
//! of `PRAGMA data_version` stays as the fallback for writers that do not ring
//! (an older wasmtasks, a hand-written `INSERT`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::watch;

/// The suffix of the doorbell file beside the database (`PATH-wake`).
pub(crate) const SUFFIX: &str = "-wake";

/// One process's end of a database's doorbell: it rings it and hears every ring.
pub(super) struct Doorbell {
    file: File,
    /// Kept for as long as the store lives: dropping it stops the watching.
    _watcher: RecommendedWatcher,
}

impl std::fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doorbell").finish_non_exhaustive()
    }
}

impl Doorbell {
    /// Opens (creating it if need be) the doorbell of the database file
    /// `database`, and starts listening: every ring heard (this process's own
    /// among them) counts one more on `heard`.
    pub(super) fn open(
        database: &Path,
        heard: Arc<watch::Sender<u64>>,
    ) -> Result<Doorbell, String> {
        let path = path(database);
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|error| format!("cannot open {}: {error}", path.display()))?;
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok_and(|event| event.kind.is_modify()) {
                    crate::store::bump(&heard);
                }
            })
            .map_err(|error| format!("cannot watch {}: {error}", path.display()))?;
        watcher
            .watch(&path, RecursiveMode::NonRecursive)
            .map_err(|error| format!("cannot watch {}: {error}", path.display()))?;
        Ok(Doorbell {
            file,
            _watcher: watcher,
        })
    }

    /// Tells every process watching the file that this one has committed.
    pub(super) fn ring(&self) {
        use std::os::unix::fs::FileExt as _;
        // A lost ring costs a waiter one fallback poll, never a job: ignore errors.
        let _ = self.file.write_at(&[1], 0);
    }
}

/// The doorbell file of the database file `database`.
pub(crate) fn path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(SUFFIX);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Waits (at most a generous 10 s, so a slow machine cannot fail it) for a ring.
    async fn heard(receiver: &mut watch::Receiver<u64>) -> bool {
        tokio::time::timeout(Duration::from_secs(10), receiver.changed())
            .await
            .is_ok_and(|changed| changed.is_ok())
    }

    #[tokio::test]
    async fn a_ring_is_heard_by_every_doorbell_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("queue.sqlite3");
        let (ringer_heard, listener_heard) = (
            Arc::new(watch::Sender::new(0)),
            Arc::new(watch::Sender::new(0)),
        );
        let ringer = Doorbell::open(&database, ringer_heard.clone()).unwrap();
        let listener = Doorbell::open(&database, listener_heard.clone()).unwrap();
        assert!(path(&database).exists());
        let mut theirs = listener_heard.subscribe();
        let mut own = ringer_heard.subscribe();
        ringer.ring();
        assert!(heard(&mut theirs).await, "the other doorbell heard nothing");
        assert!(heard(&mut own).await, "the ringer did not hear itself");
        assert!(*listener_heard.borrow() >= 1);
        // Later rings are heard too.
        listener.ring();
        assert!(heard(&mut theirs).await);
    }

    #[test]
    fn the_doorbell_sits_beside_the_database() {
        assert_eq!(
            path(Path::new("/data/queue.sqlite3")),
            Path::new("/data/queue.sqlite3-wake")
        );
    }
}
