//! Weighted fair claiming, decided in Rust for the dialects that read each
//! tenant's offer first (SQLite); PostgreSQL does the same in its claim statement.
//! See [`super::Store::job_claim`] for the rule.

/// What one tenant offers a claim: its weight, its attempts running now, its room
/// in this claim, and its next jobs in Django's order (as many as were asked).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Offer<J> {
    /// The tenant's weight (at least 1).
    pub weight: u32,
    /// Its attempts running now on every worker.
    pub running: u64,
    /// The most jobs it may take in this claim: the claim's limit, or fewer under
    /// its `max_running`.
    pub room: usize,
    /// How many of its next jobs were read (at most `room`).
    pub asked: usize,
    /// Its next jobs, best first.
    pub jobs: Vec<J>,
}

impl<J> Offer<J> {
    /// Whether `jobs` holds every job the tenant may take now: it had fewer than
    /// were asked, or as many as its room.
    pub(crate) fn complete(&self) -> bool {
        self.jobs.len() < self.asked || self.asked >= self.room
    }
}

/// Sets how many jobs each tenant is asked to offer a claim of `limit` slots:
/// its share at the level `(limit + Σ running) / Σ weight`, plus one, within its
/// room. Shares never rise above that level while every tenant has jobs to
/// offer (the slots would overflow it), so the offers cover the claim with
/// `limit + 2 × tenants` jobs or so, whatever the backlog; when some tenants have
/// fewer jobs than their share, [`pick`] asks for the rest.
pub(crate) fn ask_shares<J>(offers: &mut [Offer<J>], limit: usize) {
    let weights: f64 = offers.iter().map(|o| f64::from(o.weight.max(1))).sum();
    let running: f64 = offers.iter().map(|o| o.running as f64).sum();
    let level = (limit as f64 + running) / weights;
    for offer in offers {
        let share = (level * f64::from(offer.weight.max(1)) - offer.running as f64).ceil();
        offer.asked = (share.max(0.0) as usize).saturating_add(1).min(offer.room);
    }
}

/// The jobs a claim of `limit` slots takes: each slot to the offered job with the
/// smallest `(running + rank) / weight`, ties to the job offered earlier by the
/// tenant listed first. Within a tenant, its order is kept.
///
/// `None` when the offers cannot decide it: the jobs offered below the first
/// key some tenant did not offer (an incomplete offer's next job) do not fill
/// the slots. The caller then reads every incomplete offer up to its room.
pub(crate) fn pick<J: Clone>(offers: &[Offer<J>], limit: usize) -> Option<Vec<J>> {
    let key = |offer: &Offer<J>, rank: usize| {
        (offer.running + rank as u64 + 1) as f64 / f64::from(offer.weight.max(1))
    };
    let unread = offers
        .iter()
        .filter(|offer| !offer.complete())
        .map(|offer| key(offer, offer.jobs.len()))
        .min_by(f64::total_cmp);
    let mut keyed: Vec<(f64, usize, usize, &J)> = Vec::new();
    for (tenant, offer) in offers.iter().enumerate() {
        for (rank, job) in offer.jobs.iter().enumerate() {
            let key = key(offer, rank);
            if unread.is_none_or(|unread| key < unread) {
                keyed.push((key, rank, tenant, job));
            }
        }
    }
    if unread.is_some() && keyed.len() < limit {
        return None;
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.truncate(limit);
    Some(
        keyed
            .into_iter()
            .map(|(_, _, _, job)| job.clone())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng, rngs::StdRng};

    use super::*;

    fn offer(tenant: char, weight: u32, running: u64, jobs: usize) -> Offer<String> {
        Offer {
            weight,
            running,
            room: jobs,
            asked: jobs,
            jobs: (0..jobs).map(|i| format!("{tenant}{i}")).collect(),
        }
    }

    fn count(picked: &[String], tenant: char) -> usize {
        picked.iter().filter(|job| job.starts_with(tenant)).count()
    }

    #[test]
    fn equal_weights_share_equally_and_keep_each_order() {
        let picked = pick(&[offer('a', 1, 0, 10), offer('b', 1, 0, 10)], 6).unwrap();
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (3, 3));
        let a: Vec<&String> = picked.iter().filter(|j| j.starts_with('a')).collect();
        assert_eq!(a, ["a0", "a1", "a2"]);
    }

    #[test]
    fn weights_and_running_attempts_set_the_shares() {
        let picked = pick(&[offer('a', 1, 0, 20), offer('b', 3, 0, 20)], 8).unwrap();
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (2, 6));
        // A newcomer with nothing running catches up first.
        let picked = pick(&[offer('a', 1, 4, 20), offer('b', 1, 0, 20)], 4).unwrap();
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (0, 4));
    }

    #[test]
    fn slots_a_tenant_cannot_use_go_to_the_others() {
        let picked = pick(&[offer('a', 1, 0, 2), offer('b', 1, 0, 20)], 8).unwrap();
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (2, 6));
        assert_eq!(pick(&Vec::<Offer<String>>::new(), 8), Some(Vec::new()));
    }

    #[test]
    fn shares_ask_a_bounded_number_of_jobs_whatever_the_backlog() {
        let mut offers: Vec<Offer<String>> = (0..100).map(|_| offer('a', 1, 0, 64)).collect();
        ask_shares(&mut offers, 64);
        assert!(offers.iter().all(|o| o.asked == 2), "{offers:?}");
        // A newcomer may take the whole claim; a tenant over its share, one job.
        let mut offers = vec![offer('a', 1, 64, 64), offer('b', 1, 0, 64)];
        ask_shares(&mut offers, 64);
        assert_eq!((offers[0].asked, offers[1].asked), (1, 64));
        let mut offers = vec![offer('a', 1, 0, 64), offer('b', 3, 0, 64)];
        ask_shares(&mut offers, 64);
        assert_eq!((offers[0].asked, offers[1].asked), (17, 49));
    }

    #[test]
    fn an_offer_short_of_its_share_sends_the_claim_back_for_more() {
        let mut offers = vec![offer('a', 1, 0, 64), offer('b', 1, 0, 64)];
        ask_shares(&mut offers, 64);
        let asked = offers[0].asked;
        offers[0].jobs.truncate(asked);
        offers[1].jobs.truncate(2);
        assert_eq!(pick(&offers, 64), None);
        offers[0].asked = 64;
        offers[0].jobs = (0..64).map(|i| format!("a{i}")).collect();
        let picked = pick(&offers, 64).unwrap();
        assert_eq!((count(&picked, 'a'), count(&picked, 'b')), (62, 2));
    }

    /// Asking for shares, then for the rest of every incomplete offer when
    /// `pick` wants it, picks exactly what offers of every job up to each room do.
    #[test]
    fn shares_then_the_rest_pick_as_whole_offers_do() {
        let mut rng = StdRng::seed_from_u64(11);
        for _ in 0..2_000 {
            let limit = rng.random_range(1..=70);
            let whole: Vec<Offer<String>> = (0..rng.random_range(1..=12))
                .map(|t| {
                    let room = if rng.random_bool(0.2) {
                        rng.random_range(0..=limit)
                    } else {
                        limit
                    };
                    let jobs = rng.random_range(0..=90).min(room);
                    Offer {
                        weight: rng.random_range(1..=4),
                        running: rng.random_range(0..=40),
                        room,
                        asked: room,
                        jobs: (0..jobs).map(|i| format!("{t}.{i}")).collect(),
                    }
                })
                .collect();
            let mut sized = whole.clone();
            ask_shares(&mut sized, limit);
            for (offer, all) in sized.iter_mut().zip(&whole) {
                offer.jobs = all.jobs.iter().take(offer.asked).cloned().collect();
            }
            let picked = match pick(&sized, limit) {
                Some(picked) => picked,
                None => {
                    for (offer, all) in sized.iter_mut().zip(&whole) {
                        if !offer.complete() {
                            offer.asked = offer.room;
                            offer.jobs = all.jobs.clone();
                        }
                    }
                    pick(&sized, limit).expect("every offer is complete")
                }
            };
            assert_eq!(Some(picked), pick(&whole, limit), "{whole:?} limit {limit}");
        }
    }
}
