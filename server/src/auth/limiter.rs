//! Slows down guessing: each client address gets a budget of failed logins per
//! window; past it, logins are refused until the window ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginLimiter {
    /// `Some(wait)` when `ip` must wait before trying again.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (since, count) = *map.get(&ip)?;
        let elapsed = since.elapsed();
        (count >= MAX_FAILURES && elapsed < WINDOW).then(|| WINDOW - elapsed)
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
        // Bound memory under a flood of addresses.
        if map.len() > 10_000 {
            map.retain(|_, (since, _)| since.elapsed() < WINDOW);
        }
    }

    pub fn record_success(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_budget_and_success_clears() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..MAX_FAILURES - 1 {
            limiter.record_failure(ip);
        }
        assert!(limiter.blocked(ip).is_none());
        limiter.record_failure(ip);
        assert!(limiter.blocked(ip).is_some());
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        assert!(limiter.blocked(other).is_none());
        limiter.record_success(ip);
        assert!(limiter.blocked(ip).is_none());
    }
}
