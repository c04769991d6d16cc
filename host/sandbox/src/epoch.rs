//! The one thread per engine that advances the epoch, which drives wall-clock
//! deadlines and cooperative yields of running guests. It ticks only while
//! attempts run: an idle worker's process then has no timer waking it 100 times
//! a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::Engine;

/// How often an idle ticker looks whether its engine is gone.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The ticker of one engine.
#[derive(Debug)]
pub(crate) struct Ticker {
    /// Attempts running now.
    running: Arc<AtomicUsize>,
    thread: Thread,
}

/// Keeps the ticker ticking for as long as it lives: one per running attempt.
#[derive(Debug)]
pub(crate) struct Ticking(Arc<AtomicUsize>);

impl Drop for Ticking {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ticker {
    /// Starts the ticker. It holds only a weak handle, so it ends by itself within
    /// a second of the engine being dropped.
    pub(crate) fn spawn(engine: &Engine, tick: Duration) -> std::io::Result<Ticker> {
        let engine = engine.weak();
        let running = Arc::new(AtomicUsize::new(0));
        let counted = running.clone();
        let handle = std::thread::Builder::new()
            .name("wasmtasks-epoch".into())
            .spawn(move || {
                loop {
                    if counted.load(Ordering::Acquire) == 0 {
                        // Woken by the first attempt to start; its deadline counts
                        // from the next tick, a whole tick away.
                        std::thread::park_timeout(IDLE_CHECK);
                        if engine.upgrade().is_none() {
                            break;
                        }
                        continue;
                    }
                    std::thread::sleep(tick);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Ticker {
            running,
            thread: handle.thread().clone(),
        })
    }

    /// Makes the ticker tick until the returned guard is dropped.
    pub(crate) fn keep_ticking(&self) -> Ticking {
        if self.running.fetch_add(1, Ordering::AcqRel) == 0 {
            self.thread.unpark();
        }
        Ticking(self.running.clone())
    }
}
