//! Worker ids: `host:pid:random`, at most 64 characters, as Django's `db_worker`
//! names its workers.

/// The longest worker id the store accepts.
pub const MAX_WORKER_ID_LEN: usize = 64;

/// A fresh id for this process: host name, process id and 8 random hex digits.
pub fn default_worker_id() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let pid = std::process::id();
    let random = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let suffix = format!(":{pid}:{random}");
    let room = MAX_WORKER_ID_LEN - suffix.len();
    let host: String = host.chars().take(room).collect();
    format!("{host}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_short() {
        let (a, b) = (default_worker_id(), default_worker_id());
        assert_ne!(a, b);
        assert!(a.len() <= MAX_WORKER_ID_LEN);
        assert_eq!(a.split(':').count(), 3, "{a}");
    }
}
