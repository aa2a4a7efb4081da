//! Per-client API rate limit: at most N requests per client in each minute (a fixed window).
//! In memory, in sharded maps keyed by the client's row id: no global lock, no database write
//! per request. Each server process counts on its own.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

const SHARDS: usize = 32;
const WINDOW: Duration = Duration::from_secs(60);
const SWEEP_AT: usize = 4096;

pub struct ClientRateLimiter {
    shards: Vec<Mutex<HashMap<i64, Window>>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    count: u64,
}

impl Default for ClientRateLimiter {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

impl ClientRateLimiter {
    /// Counts one request of `client`; `Err(retry_after)` when it is over `per_minute`.
    pub fn check(&self, client: i64, per_minute: u64, now: Instant) -> Result<(), Duration> {
        let shard = usize::try_from(client.unsigned_abs() % SHARDS as u64).unwrap_or(0);
        let mut map = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let w = map.entry(client).or_insert(Window { started: now, count: 0 });
        if now.duration_since(w.started) >= WINDOW {
            *w = Window { started: now, count: 0 };
        }
        if w.count >= per_minute {
            return Err(WINDOW.saturating_sub(now.duration_since(w.started)));
        }
        w.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_n_per_minute_per_client() {
        let l = ClientRateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check(1, 3, t0).is_ok());
        }
        let wait = l.check(1, 3, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        assert!(l.check(2, 3, t0).is_ok(), "other clients count on their own");
        assert!(l.check(1, 3, t0 + Duration::from_secs(60)).is_ok(), "a new window starts");
    }
}
