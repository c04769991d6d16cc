//! The tenant's job transitions as a stream: started (RUNNING), finished
//! (SUCCESSFUL, FAILED, CANCELLED), back to READY (a retry, a release), read from
//! a cursor and waited for (long poll). A reader that keeps the last cursor it was
//! given and reads on from it gets every event once, in order (as long as it
//! comes back before the events are pruned); reading on from an older cursor
//! gets events again, so delivery is at least once.

use std::time::Duration;

use super::{ServiceError, Services};
use crate::store::{EventPage, changed_within};
use crate::tenant::{Principal, Role};

/// The most events one read returns.
pub const MAX_EVENTS: u32 = 1000;

/// The events operations.
#[derive(Debug, Clone, Copy)]
pub struct Events<'a>(pub(super) &'a Services);

impl Events<'_> {
    /// Up to `limit` events after the cursor `after` (from now on, when `None`),
    /// waiting up to `wait` (at most [`super::jobs::MAX_WAIT`]) for one to come.
    pub async fn read(
        &self,
        principal: &Principal,
        after: Option<&str>,
        wait: Duration,
        limit: u32,
    ) -> Result<EventPage, ServiceError> {
        self.0.authorize(principal, Role::Reader).await?;
        if !(1..=MAX_EVENTS).contains(&limit) {
            return Err(ServiceError::Invalid(format!(
                "limit must be 1..={MAX_EVENTS}, got {limit}"
            )));
        }
        let store = self.0.store();
        let deadline = tokio::time::Instant::now() + wait.min(super::jobs::MAX_WAIT);
        let mut completions = store.completions();
        let mut page = store.event_list(principal.tenant(), after, limit).await?;
        // Claims wake no one: poll, from 2 ms up to 50 ms, or sooner on completions.
        let mut poll = Duration::from_millis(2);
        while page.events.is_empty() {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            changed_within(&mut completions, poll.min(deadline - now)).await;
            poll = (poll * 2).min(Duration::from_millis(50));
            page = store
                .event_list(principal.tenant(), Some(&page.cursor), limit)
                .await?;
        }
        Ok(page)
    }
}
