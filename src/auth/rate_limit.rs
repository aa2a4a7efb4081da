//! Sign-in limits ([`SignInLimits`]), built from a failure counter ([`FailureLimiter`]) and a
//! pacer ([`Pacer`]). An attempt is reserved (counted as a failure) atomically *before* its
//! password is checked, and handed back when it succeeds or was never checked, so N concurrent
//! guesses cannot all pass the check before the first failure is counted.
//!
//! Kept in memory in sharded maps (no global lock). Several server processes each count on
//! their own, which still bounds guessing per process.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    net::IpAddr,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

const SHARDS: usize = 16;
/// Past this many keys in one shard, finished windows are swept out.
const SWEEP_AT: usize = 4096;

/// String-keyed maps split over [`SHARDS`] locks, so keys rarely wait on each other.
struct Shards<V> {
    maps: Vec<Mutex<HashMap<String, V>>>,
    hasher: RandomState,
}

impl<V> Shards<V> {
    fn new() -> Self {
        Self { maps: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), hasher: RandomState::new() }
    }

    /// The locked map holding `key`.
    fn lock(&self, key: &str) -> MutexGuard<'_, HashMap<String, V>> {
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        self.maps[i].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub struct FailureLimiter {
    shards: Shards<Window>,
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
        Self { shards: Shards::new(), max_failures, window }
    }

    /// Reserves one attempt for `key`: counts it as a failure now, in one step under the shard's
    /// lock, and returns the failures counted before it. `Err(wait)` when `key` used up its
    /// failures in the current window; then nothing is counted. A reserved attempt that succeeds,
    /// or is never checked, is handed back with [`Self::refund`] (or [`Self::clear`]).
    pub fn reserve(&self, key: &str, now: Instant) -> Result<u32, Duration> {
        let mut map = self.shards.lock(key);
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
        Ok(w.failures - 1)
    }

    /// Hands back one reserved attempt of `key` (it succeeded, or its password was never checked).
    pub fn refund(&self, key: &str) {
        let mut map = self.shards.lock(key);
        if let Some(w) = map.get_mut(key) {
            w.failures = w.failures.saturating_sub(1);
        }
    }

    pub fn clear(&self, key: &str) {
        self.shards.lock(key).remove(key);
    }
}

/// Spaces out the turns of one key: each turn comes `interval` after the previous one, first come
/// first served; a turn further away than `max_wait` is not given.
pub struct Pacer {
    shards: Shards<Instant>,
    interval: Duration,
    max_wait: Duration,
}

impl Pacer {
    pub fn new(interval: Duration, max_wait: Duration) -> Self {
        Self { shards: Shards::new(), interval, max_wait }
    }

    /// How long to wait for `key`'s next turn (the turn is taken); `Err(wait)` when that is more
    /// than `max_wait` (nothing is taken).
    pub fn turn(&self, key: &str, now: Instant) -> Result<Duration, Duration> {
        let mut map = self.shards.lock(key);
        if map.len() >= SWEEP_AT {
            map.retain(|_, next| *next > now);
        }
        let next = map.get(key).copied().filter(|n| *n > now).unwrap_or(now);
        let wait = next - now;
        if wait > self.max_wait {
            return Err(wait);
        }
        map.insert(key.to_string(), next + self.interval);
        Ok(wait)
    }
}

/// The limits on guessing passwords, and why the real user is never locked out by them:
///
/// - per (username, address): 10 failures a minute, then refused until the minute ends;
/// - per address: 20 failures a minute, then refused;
/// - per username across all addresses: no refusal. Once it has 10 failures in the minute, an
///   address that has itself failed 3 times for it gets its checks paced: one every
///   `pace` for that username, first come first served, waiting at most 10 seconds (past that:
///   "try again in N seconds"). An address with fewer failures of its own (the real user's,
///   usually) is never paced, so guesses from elsewhere cannot keep the user out.
pub struct SignInLimits {
    per_user_address: FailureLimiter,
    per_address: FailureLimiter,
    per_user: FailureLimiter,
    pace: Pacer,
}

pub const FAILURES_PER_USER_ADDRESS: u32 = 10;
pub const FAILURES_PER_ADDRESS: u32 = 20;
/// Failures of a username (from anywhere) before pacing starts.
pub const USER_FAILURES_BEFORE_PACING: u32 = 10;
/// Failures of an address for a username before that address is paced.
pub const ADDRESS_FAILURES_BEFORE_PACING: u32 = 3;
pub const WINDOW: Duration = Duration::from_secs(60);
pub const MAX_PACED_WAIT: Duration = Duration::from_secs(10);

/// An admitted attempt: its keys, and how long to wait before checking the password.
#[derive(Debug)]
pub struct Admission {
    user_address: String,
    address: String,
    user: String,
    pub wait: Duration,
}

impl SignInLimits {
    pub fn new(pace: Duration) -> Self {
        Self {
            per_user_address: FailureLimiter::new(FAILURES_PER_USER_ADDRESS, WINDOW),
            per_address: FailureLimiter::new(FAILURES_PER_ADDRESS, WINDOW),
            per_user: FailureLimiter::new(u32::MAX, WINDOW),
            pace: Pacer::new(pace, MAX_PACED_WAIT),
        }
    }

    /// Reserves an attempt for `username` (as typed; compared case-insensitively) from `address`;
    /// `Err(retry_after)` when it is refused, with nothing counted.
    pub fn admit(&self, username: &str, address: IpAddr, now: Instant) -> Result<Admission, Duration> {
        let name = username.chars().take(crate::domain::Username::MAX_LEN).collect::<String>().to_lowercase();
        let a = Admission {
            user_address: format!("u:{name}\u{0}{address}"),
            address: format!("ip:{address}"),
            user: format!("u:{name}"),
            wait: Duration::ZERO,
        };
        let mine = self.per_user_address.reserve(&a.user_address, now)?;
        if let Err(retry) = self.per_address.reserve(&a.address, now) {
            self.per_user_address.refund(&a.user_address);
            return Err(retry);
        }
        let everyone = self.per_user.reserve(&a.user, now).unwrap_or(0);
        if everyone < USER_FAILURES_BEFORE_PACING || mine < ADDRESS_FAILURES_BEFORE_PACING {
            return Ok(a);
        }
        match self.pace.turn(&a.user, now) {
            Ok(wait) => Ok(Admission { wait, ..a }),
            Err(retry) => {
                self.refund(&a);
                Err(retry)
            }
        }
    }

    /// The password was right: the user's and the pair's failures are forgotten.
    pub fn succeeded(&self, a: &Admission) {
        self.per_user_address.clear(&a.user_address);
        self.per_user.clear(&a.user);
        self.per_address.refund(&a.address);
    }

    /// The password was never checked (the server was busy): the attempt is handed back.
    pub fn refund(&self, a: &Admission) {
        self.per_user_address.refund(&a.user_address);
        self.per_address.refund(&a.address);
        self.per_user.refund(&a.user);
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
        assert_eq!(l.reserve("k", t0), Ok(0));
        assert_eq!(l.reserve("k", t0), Ok(1));
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
        let total: usize = l.shards.maps.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total < SWEEP_AT * SHARDS * 2, "{total}");
    }

    #[test]
    fn the_pacer_spaces_turns_and_refuses_far_ones() {
        let p = Pacer::new(Duration::from_secs(1), Duration::from_secs(3));
        let t0 = Instant::now();
        let waits: Vec<_> = (0..6).map(|_| p.turn("u:admin", t0)).collect();
        let s = Duration::from_secs;
        assert_eq!(waits, [Ok(s(0)), Ok(s(1)), Ok(s(2)), Ok(s(3)), Err(s(4)), Err(s(4))]);
        assert_eq!(p.turn("u:other", t0), Ok(s(0)), "each key paces alone");
        assert_eq!(p.turn("u:admin", t0 + s(10)), Ok(s(0)), "turns do not pile up while idle");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn guesses_from_elsewhere_never_lock_the_user_out() {
        let l = SignInLimits::new(Duration::from_secs(1));
        let t0 = Instant::now();
        // An attacker at one address: 10 guesses, then refused there.
        for _ in 0..10 {
            assert_eq!(l.admit("Admin", ip("203.0.113.9"), t0).unwrap().wait, Duration::ZERO);
        }
        assert!(l.admit("admin", ip("203.0.113.9"), t0).is_err(), "per (username, address)");
        // The real user, elsewhere: checked at once, typos included.
        for _ in 0..3 {
            assert_eq!(l.admit("admin", ip("198.51.100.7"), t0).unwrap().wait, Duration::ZERO);
        }
        // More attacker addresses: past their own 3 failures they are paced, one a second.
        let mut waits = Vec::new();
        for attacker in ["192.0.2.1", "192.0.2.2"] {
            for _ in 0..5 {
                waits.push(l.admit("admin", ip(attacker), t0).map(|a| a.wait.as_secs()));
            }
        }
        let s = Duration::from_secs;
        assert_eq!(waits, [Ok(0), Ok(0), Ok(0), Ok(0), Ok(1), Ok(0), Ok(0), Ok(0), Ok(2), Ok(3)]);
        // A fresh address of the real user is still checked at once.
        assert_eq!(l.admit("admin", ip("198.51.100.8"), t0).unwrap().wait, Duration::ZERO);
        // Pacing past 10 s is refused (with the wait), and nothing is counted then.
        let refused = (0..20).filter_map(|_| l.admit("admin", ip("192.0.2.3"), t0 + s(1)).err()).count();
        assert!(refused > 0);
    }

    #[test]
    fn per_address_and_success() {
        let l = SignInLimits::new(Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..20 {
            l.admit(&format!("guess{i}"), ip("203.0.113.9"), t0).unwrap();
        }
        assert!(l.admit("someone", ip("203.0.113.9"), t0).is_err(), "per address");
        let a = l.admit("bob", ip("198.51.100.7"), t0).unwrap();
        l.refund(&a);
        for _ in 0..9 {
            l.admit("bob", ip("198.51.100.7"), t0).unwrap();
        }
        let ok = l.admit("bob", ip("198.51.100.7"), t0).unwrap();
        l.succeeded(&ok);
        assert!(l.admit("bob", ip("198.51.100.7"), t0).is_ok(), "a success forgets the failures");
    }
}
