//! Failed sign-in limiter: at most N failures a minute per username and per client IP. An attempt
//! is reserved (counted as a failure) atomically *before* its password is checked, and handed
//! back when it succeeds or was never checked, so N concurrent guesses cannot all pass the check
//! before the first failure is counted. Nothing ever sleeps; once the limit is reached every
//! attempt for that key is refused until the window ends.
//!
//! Kept in memory in sharded maps (no global lock). Several server processes each count on
//! their own, which still bounds guessing to N per process and minute.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::Mutex,
    time::{Duration, Instant},
};

const SHARDS: usize = 16;
/// Past this many keys in one shard, finished windows are swept out.
const SWEEP_AT: usize = 4096;

pub struct FailureLimiter {
    shards: Vec<Mutex<HashMap<String, Window>>>,
    hasher: RandomState,
    max_failures: u32,
    window: Duration,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            max_failures,
            window,
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Window>> {
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[i]
    }

    /// Reserves one attempt for `key`: counts it as a failure now, in one step under the shard's
    /// lock. `Err(wait)` when `key` used up its failures in the current window; then nothing is
    /// counted. A reserved attempt that succeeds, or is never checked, is handed back with
    /// [`Self::refund`] (or [`Self::clear`]).
    pub fn reserve(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let w = map.entry(key.to_string()).or_insert(Window { started: now, failures: 0 });
        let age = now.duration_since(w.started);
        if age >= self.window {
            *w = Window { started: now, failures: 0 };
        } else if w.failures >= self.max_failures {
            return Err(self.window - age);
        }
        w.failures += 1;
        Ok(())
    }

    /// Hands back one reserved attempt of `key` (it succeeded, or its password was never checked).
    pub fn refund(&self, key: &str) {
        let mut map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = map.get_mut(key) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    pub fn clear(&self, key: &str) {
        self.shard(key).lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserves_until_the_limit_then_refuses_until_the_window_ends() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.reserve("u:alice", t0).is_ok());
        }
        assert_eq!(l.reserve("u:alice", t0 + Duration::from_secs(10)), Err(Duration::from_secs(50)));
        assert!(l.reserve("u:bob", t0).is_ok(), "other keys unaffected");
        assert!(l.reserve("u:alice", t0 + Duration::from_secs(60)).is_ok(), "a new window");
    }

    #[test]
    fn refunds_and_clear_hand_attempts_back() {
        let l = FailureLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        l.reserve("k", t0).unwrap();
        l.reserve("k", t0).unwrap();
        assert!(l.reserve("k", t0).is_err());
        l.refund("k");
        assert!(l.reserve("k", t0).is_ok(), "a refunded attempt can be used again");
        assert!(l.reserve("k", t0).is_err());
        l.clear("k");
        assert!(l.reserve("k", t0).is_ok());
        l.refund("unknown");
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let l = std::sync::Arc::new(FailureLimiter::new(10, Duration::from_secs(60)));
        let t0 = Instant::now();
        let granted: usize = (0..8)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || (0..50).filter(|_| l.reserve("u:admin", t0).is_ok()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(granted, 10);
    }

    #[test]
    fn sweeps_finished_windows() {
        let l = FailureLimiter::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..(SWEEP_AT * SHARDS * 2) {
            l.reserve(&format!("k{i}"), t0).unwrap();
        }
        let later = t0 + Duration::from_secs(5);
        l.reserve("fresh", later).unwrap();
        let total: usize = l.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total < SWEEP_AT * SHARDS * 2, "{total}");
    }
}
