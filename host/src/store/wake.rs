//! The signal that wakes idle workers: a count of wake-ups. Each worker keeps how
//! far it has heard ([`Heard`]), so a wake-up reaches every worker exactly once: a
//! worker woken is not woken again by the same signal (which would cost it one
//! more, empty, claim), and one that was busy when it came, or stopped waiting
//! for another reason (a `select!` taking another branch), hears it when it next
//! waits.

use std::time::Duration;

use tokio::sync::watch;

/// How far one worker has heard the store's wake-ups.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Heard(u64);

/// A store's wake-ups for idle workers.
#[derive(Debug, Default)]
pub(crate) struct Wake(watch::Sender<u64>);

impl Wake {
    /// Wakes every worker: those waiting at once, the others when they next wait.
    pub(crate) fn wake(&self) {
        super::bump(&self.0);
    }

    /// Returns at once if a wake-up came since `heard`, otherwise on the next one or
    /// after `timeout`; moves `heard` up to what was heard. A wait given up before
    /// it returns leaves `heard` as it was.
    pub(crate) async fn wait(&self, heard: &mut Heard, timeout: Duration) {
        let mut receiver = self.0.subscribe();
        let now = *receiver.borrow_and_update();
        if now == heard.0 {
            let _ = tokio::time::timeout(timeout, receiver.changed()).await;
        }
        heard.0 = *receiver.borrow_and_update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `wait` is still waiting after 100 ms.
    async fn not_woken(wait: impl Future) -> bool {
        tokio::time::timeout(Duration::from_millis(100), wait)
            .await
            .is_err()
    }

    #[tokio::test]
    async fn each_worker_hears_each_wake_up_once() {
        let wake = Wake::default();
        let long = Duration::from_secs(60);
        let (mut busy, mut idle) = (Heard::default(), Heard::default());
        assert!(
            not_woken(wake.wait(&mut idle, long)).await,
            "no wake-up yet"
        );
        // Given up, the wait heard nothing.
        assert_eq!(idle, Heard::default());

        // One wake-up while neither waits: each hears it once, when it next waits.
        wake.wake();
        assert!(!not_woken(wake.wait(&mut idle, long)).await);
        assert!(not_woken(wake.wait(&mut idle, long)).await, "heard once");
        assert!(!not_woken(wake.wait(&mut busy, long)).await);
        assert!(not_woken(wake.wait(&mut busy, long)).await, "heard once");
    }

    #[tokio::test]
    async fn a_waiting_worker_is_woken() {
        let wake = std::sync::Arc::new(Wake::default());
        let waiter = tokio::spawn({
            let wake = wake.clone();
            async move {
                let mut heard = Heard::default();
                wake.wait(&mut heard, Duration::from_secs(60)).await;
                heard
            }
        });
        // Once it waits (its receiver counts), wake it.
        while wake.0.receiver_count() == 0 {
            tokio::task::yield_now().await;
        }
        wake.wake();
        let heard = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiting worker was woken")
            .unwrap();
        assert_ne!(heard, Heard::default());
    }
}
