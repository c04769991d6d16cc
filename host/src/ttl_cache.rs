//! A small map whose entries are good for a fixed time: what a process keeps of
//! the store to spare a read per request (verified tokens, the newest version of
//! a component). Bounded: past its capacity, expired entries go first, then all.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Entries kept for `ttl` from when they were put.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// An empty cache of at most `capacity` entries, each good for `ttl`.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key`, if it was put less than the ttl ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.lock();
        let (value, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Keeps `value` under `key` from now.
    pub fn put(&self, key: K, value: V) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets the entries `forget` says yes to.
    pub fn forget_where(&self, mut forget: impl FnMut(&K) -> bool) {
        self.lock().retain(|key, _| !forget(key));
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_cache_stays_within_its_capacity() {
        let cache = TtlCache::new(Duration::from_millis(50), 2);
        cache.put("a", 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.put("b", 2);
        cache.put("c", 3);
        assert!(
            cache.lock().len() <= 2,
            "over capacity, the live ones are dropped too"
        );
        assert_eq!(cache.get("c"), Some(3));
        cache.forget_where(|key| *key == "c");
        assert_eq!(cache.get("c"), None);
        cache.put("d", 4);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("d"), None, "expired");
    }
}
