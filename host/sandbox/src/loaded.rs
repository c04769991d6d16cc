//! The components a sandbox keeps loaded: compiled, linked and ready to
//! instantiate, by digest, at most a budget of machine code in all. The least
//! recently used go first; one still running attempts lives on until they end,
//! and is loaded again (from the compile cache when there is one) when next asked
//! for.

use std::sync::Arc;

use hashlink::LruCache;

use crate::component::TaskComponent;

/// Loaded components, least recently used first out.
#[derive(Debug)]
pub(crate) struct Loaded {
    components: LruCache<String, Arc<TaskComponent>>,
    /// Their machine code in all.
    bytes: u64,
    /// The most machine code kept; the newest component is kept whatever its size.
    budget: u64,
}

impl Loaded {
    /// An empty set that keeps at most `budget` bytes of machine code.
    pub(crate) fn new(budget: u64) -> Self {
        Loaded {
            components: LruCache::new_unbounded(),
            bytes: 0,
            budget,
        }
    }

    /// The component with `digest`, now the most recently used.
    pub(crate) fn get(&mut self, digest: &str) -> Option<Arc<TaskComponent>> {
        self.components.get(digest).cloned()
    }

    /// Keeps `component` (or returns the one already kept with its digest), then
    /// lets the least recently used go until the rest fit the budget.
    pub(crate) fn insert(&mut self, component: Arc<TaskComponent>) -> Arc<TaskComponent> {
        if let Some(kept) = self.components.get(&component.digest) {
            return kept.clone();
        }
        self.bytes += component.code_bytes;
        self.components
            .insert(component.digest.clone(), component.clone());
        while self.bytes > self.budget && self.components.len() > 1 {
            if let Some((_, evicted)) = self.components.remove_lru() {
                self.bytes -= evicted.code_bytes;
            }
        }
        component
    }

    /// How many components and bytes of machine code are kept.
    pub(crate) fn usage(&self) -> (usize, u64) {
        (self.components.len(), self.bytes)
    }
}
