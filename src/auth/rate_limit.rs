//! Failed sign-in limiter: at most N failures a minute per username and per client IP. Only
//! failures count and nothing ever sleeps, so a correct password is never slowed; once the limit
//! is reached every attempt for that key is refused until the window ends.
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

    /// `Err(wait)` when `key` used up its failures in the current window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some(w) if now.duration_since(w.started) < self.window && w.failures >= self.max_failures => {
                Err(self.window - now.duration_since(w.started))
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut map = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, w| now.duration_since(w.started) < self.window);
        }
        let w = map.entry(key.to_string()).or_insert(Window { started: now, failures: 0 });
        if now.duration_since(w.started) >= self.window {
            *w = Window { started: now, failures: 0 };
        }
        w.failures = w.failures.saturating_add(1);
    }

    pub fn clear(&self, key: &str) {
        self.shard(key).lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_until_window_ends() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("u:alice", t0).is_ok());
            l.record_failure("u:alice", t0);
        }
        let wait = l.check("u:alice", t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(l.check("u:bob", t0).is_ok(), "other keys unaffected");
        assert!(l.check("u:alice", t0 + Duration::from_secs(60)).is_ok());
        l.record_failure("u:alice", t0 + Duration::from_secs(61));
        assert!(l.check("u:alice", t0 + Duration::from_secs(61)).is_ok(), "new window");
    }

    #[test]
    fn clear_resets() {
        let l = FailureLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        l.record_failure("k", t0);
        assert!(l.check("k", t0).is_err());
        l.clear("k");
        assert!(l.check("k", t0).is_ok());
    }

    #[test]
    fn sweeps_finished_windows() {
        let l = FailureLimiter::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..(SWEEP_AT * SHARDS * 2) {
            l.record_failure(&format!("k{i}"), t0);
        }
        let later = t0 + Duration::from_secs(5);
        l.record_failure("fresh", later);
        let total: usize = l.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total < SWEEP_AT * SHARDS * 2, "{total}");
    }
}
