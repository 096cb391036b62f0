//! Failed authentication is throttled per client (§11): more than
//! `security.auth_failures_per_minute` 401s from one address within a minute turn further
//! 401s into 429s until the minute is over. Successful requests are never held back: a
//! valid token from a throttled address still passes.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const SHARDS: usize = 16;
/// Clients tracked per shard; beyond it the oldest window makes room (bounded memory
/// whatever number of addresses a flood comes from).
const CLIENTS_PER_SHARD: usize = 4096;

/// Counts of failed authentications per client, in fixed one-minute windows.
#[derive(Clone)]
pub struct AuthThrottle {
    /// 0: off.
    limit: u32,
    shards: Arc<[Mutex<HashMap<ClientKey, Window>>; SHARDS]>,
    hasher: RandomState,
}

/// IPv4 addresses count one by one; IPv6 ones by /64, the block one host usually holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClientKey {
    V4(u32),
    V6Prefix(u64),
    Unknown,
}

impl ClientKey {
    fn of(ip: Option<IpAddr>) -> Self {
        match ip.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V4(v4)) => Self::V4(u32::from(v4)),
            Some(IpAddr::V6(v6)) => Self::V6Prefix((u128::from(v6) >> 64) as u64),
            None => Self::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl AuthThrottle {
    /// `per_minute` failures are allowed per client; 0 turns throttling off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            limit: per_minute,
            shards: Arc::new(std::array::from_fn(|_| Mutex::new(HashMap::new()))),
            hasher: RandomState::new(),
        }
    }

    /// Whether failures are counted at all (`security.auth_failures_per_minute` is not 0).
    pub fn is_on(&self) -> bool {
        self.limit > 0
    }

    /// Records one failed authentication; when the client is over the limit, the whole
    /// seconds until its window ends (at least 1).
    pub fn failed(&self, client: Option<IpAddr>, now: Instant) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let key = ClientKey::of(client);
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut clients = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if clients.len() >= CLIENTS_PER_SHARD && !clients.contains_key(&key) {
            make_room(&mut clients, now);
        }
        let window = clients.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        if window.failures <= self.limit {
            return None;
        }
        let left = WINDOW.saturating_sub(now.duration_since(window.started));
        Some(left.as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// Drops finished windows, or else the oldest one.
fn make_room(clients: &mut HashMap<ClientKey, Window>, now: Instant) {
    clients.retain(|_, w| now.duration_since(w.started) < WINDOW);
    if clients.len() >= CLIENTS_PER_SHARD {
        let oldest = clients
            .iter()
            .min_by_key(|(_, w)| w.started)
            .map(|(key, _)| *key);
        if let Some(oldest) = oldest {
            clients.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        text.parse().ok()
    }

    #[test]
    fn over_the_limit_until_the_minute_ends() {
        let throttle = AuthThrottle::new(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.failed(ip("192.0.2.1"), start), None);
        }
        assert_eq!(throttle.failed(ip("192.0.2.1"), start), Some(60));
        let later = start + Duration::from_millis(59_500);
        assert_eq!(throttle.failed(ip("192.0.2.1"), later), Some(1));
        // Another client is counted apart.
        assert_eq!(throttle.failed(ip("192.0.2.2"), later), None);
        // A new minute, a new allowance.
        let next_minute = start + WINDOW;
        assert_eq!(throttle.failed(ip("192.0.2.1"), next_minute), None);
    }

    #[test]
    fn ipv6_clients_count_by_64_bit_prefix() {
        let throttle = AuthThrottle::new(1);
        let now = Instant::now();
        assert_eq!(throttle.failed(ip("2001:db8::1"), now), None);
        assert!(throttle.failed(ip("2001:db8::2"), now).is_some());
        assert_eq!(throttle.failed(ip("2001:db8:0:1::1"), now), None);
        // A mapped IPv4 address is that IPv4 client.
        assert_eq!(throttle.failed(ip("192.0.2.9"), now), None);
        assert!(throttle.failed(ip("::ffff:192.0.2.9"), now).is_some());
    }

    #[test]
    fn zero_turns_it_off() {
        let throttle = AuthThrottle::new(0);
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(throttle.failed(ip("192.0.2.1"), now), None);
        }
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        let throttle = AuthThrottle::new(5);
        let now = Instant::now();
        for n in 0..(SHARDS * CLIENTS_PER_SHARD + 5000) as u32 {
            throttle.failed(Some(IpAddr::V4(n.into())), now);
        }
        let tracked: usize = throttle
            .shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or_default())
            .sum();
        assert!(tracked <= SHARDS * CLIENTS_PER_SHARD, "{tracked}");
    }
}
