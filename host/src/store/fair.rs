//! Weighted fair claiming, decided in Rust for the dialects that read each
//! tenant's offer first (SQLite); PostgreSQL does the same in its claim statement.
//! See [`super::Store::job_claim`] for the rule.

/// What one tenant offers a claim: its weight, its attempts running now, and its
/// next jobs in Django's order (at most its room under `max_running`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Offer<J> {
    /// The tenant's weight (at least 1).
    pub weight: u32,
    /// Its attempts running now on every worker.
    pub running: u64,
    /// Its next jobs, best first.
    pub jobs: Vec<J>,
}

/// The jobs a claim of `limit` slots takes: each slot to the offered job with the
/// smallest `(running + rank) / weight`, ties to the job offered earlier by the
/// tenant listed first. Within a tenant, its order is kept.
pub(crate) fn pick<J>(offers: Vec<Offer<J>>, limit: usize) -> Vec<J> {
    let mut keyed: Vec<(f64, usize, usize, J)> = Vec::new();
    for (tenant, offer) in offers.into_iter().enumerate() {
        let weight = f64::from(offer.weight.max(1));
        for (rank, job) in offer.jobs.into_iter().enumerate() {
            let key = (offer.running + rank as u64 + 1) as f64 / weight;
            keyed.push((key, rank, tenant, job));
        }
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.truncate(limit);
    keyed.into_iter().map(|(_, _, _, job)| job).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(tenant: char, weight: u32, running: u64, jobs: usize) -> Offer<String> {
        Offer {
            weight,
            running,
            jobs: (0..jobs).map(|i| format!("{tenant}{i}")).collect(),
        }
    }

    fn count(picked: &[String], tenant: char) -> usize {
        picked.iter().filter(|job| job.starts_with(tenant)).count()
    }

    #[test]
    fn equal_weights_share_equally_and_keep_each_order() {
        let picked = pick(vec![offer('a', 1, 0, 10), offer('b', 1, 0, 10)], 6);
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (3, 3));
        let a: Vec<&String> = picked.iter().filter(|j| j.starts_with('a')).collect();
        assert_eq!(a, ["a0", "a1", "a2"]);
    }

    #[test]
    fn weights_and_running_attempts_set_the_shares() {
        let picked = pick(vec![offer('a', 1, 0, 20), offer('b', 3, 0, 20)], 8);
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (2, 6));
        // A newcomer with nothing running catches up first.
        let picked = pick(vec![offer('a', 1, 4, 20), offer('b', 1, 0, 20)], 4);
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (0, 4));
    }

    #[test]
    fn slots_a_tenant_cannot_use_go_to_the_others() {
        let picked = pick(vec![offer('a', 1, 0, 2), offer('b', 1, 0, 20)], 8);
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (2, 6));
        assert_eq!(pick(Vec::<Offer<String>>::new(), 8), Vec::<String>::new());
    }
}
