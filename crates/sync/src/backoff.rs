//! Exponential backoff with jitter between attempts to reach a peer.

use std::time::Duration;

use rand::Rng;

/// Doubles the wait after each failure up to a ceiling, and picks each actual wait
/// at random from the upper half of the current window so that nodes restarted
/// together do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    window: Duration,
}

impl Backoff {
    /// A backoff starting at `min` and never waiting longer than `max`.
    pub fn new(min: Duration, max: Duration) -> Backoff {
        let min = min.max(Duration::from_millis(1));
        Backoff {
            min,
            max: max.max(min),
            window: min,
        }
    }

    /// The wait before the next attempt; widens the window for the one after.
    pub fn next_wait(&mut self) -> Duration {
        let window = self.window;
        self.window = (self.window * 2).min(self.max);
        let half = window / 2;
        half + rand::rng().random_range(Duration::ZERO..=half)
    }

    /// Called after a success: the next failure waits the minimum again.
    pub fn reset(&mut self) {
        self.window = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_ceiling_and_stay_within_the_window() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let windows = [100, 200, 400, 800, 800, 800];
        for ms in windows {
            let wait = b.next_wait();
            let window = Duration::from_millis(ms);
            assert!(
                wait >= window / 2 && wait <= window,
                "{wait:?} outside {window:?}"
            );
        }
    }

    #[test]
    fn reset_returns_to_the_minimum() {
        let mut b = Backoff::new(Duration::from_millis(10), Duration::from_secs(10));
        for _ in 0..10 {
            b.next_wait();
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_millis(10));
    }
}
