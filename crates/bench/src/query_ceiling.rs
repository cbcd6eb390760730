//! The query benchmark's physical ceiling: one pass reading, for every record,
//! the columns the query touches (resident borough and programme as bytes,
//! start and job-outcome months and the person id as `u32`s: 14 bytes), from
//! memory, adding them up. No engine can answer the query without at least
//! this much reading, so it bounds from below what any answer can cost.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::live_lag::Spread;

/// Bytes per record the pass reads.
pub const BYTES_PER_RECORD: usize = 2 + 3 * 4;

/// The columns, filled with arbitrary values (their content cannot change how
/// long reading them takes).
struct Columns {
    resident: Vec<u8>,
    programme: Vec<u8>,
    start: Vec<u32>,
    outcome: Vec<u32>,
    person: Vec<u32>,
}

impl Columns {
    fn new(records: usize) -> Columns {
        let mut x: u32 = 0x9e37_79b9;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let mut c = Columns {
            resident: Vec::with_capacity(records),
            programme: Vec::with_capacity(records),
            start: Vec::with_capacity(records),
            outcome: Vec::with_capacity(records),
            person: Vec::with_capacity(records),
        };
        for _ in 0..records {
            c.resident.push(next() as u8);
            c.programme.push(next() as u8);
            c.start.push(next());
            c.outcome.push(next());
            c.person.push(next());
        }
        c
    }

    /// One pass over every column.
    fn scan(&self) -> u64 {
        let mut sum = 0u64;
        for i in 0..self.person.len() {
            sum = sum
                .wrapping_add(u64::from(self.resident[i]))
                .wrapping_add(u64::from(self.programme[i]))
                .wrapping_add(u64::from(self.start[i]))
                .wrapping_add(u64::from(self.outcome[i]))
                .wrapping_add(u64::from(self.person[i]));
        }
        sum
    }
}

/// The pass over `records` records, timed `runs` times after a warm-up.
pub fn scan(records: usize, runs: usize) -> Spread {
    let columns = Columns::new(records);
    black_box(columns.scan());
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            black_box(black_box(&columns).scan());
            started.elapsed()
        })
        .collect();
    Spread::of(&mut times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_is_timed_once_per_run() {
        let spread = scan(1_000, 3);
        assert!(spread.min <= spread.p50 && spread.p50 <= spread.max);
    }
}
