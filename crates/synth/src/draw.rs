//! Deterministic random draws. Each provider, person, journey and request gets its
//! own `ChaCha8Rng`, keyed by (seed, borough, purpose, index), so a value depends
//! only on what it is and never on how many draws came before it elsewhere.

use borough_model::GssCode;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a generator is for: part of its key, so two purposes never share a stream.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    /// A provider and its offers.
    Provider = 1,
    /// An employment participant (the person).
    Participant = 2,
    /// A parent who appears only in a childcare request (the person).
    Parent = 3,
    /// A participant's journey in their own borough.
    Journey = 4,
    /// A visiting participant's journey in the borough next door.
    Visit = 5,
    /// A childcare request.
    Request = 6,
    /// The order of a file's rows.
    Order = 7,
}

/// One generator and the few shapes of draw the generator needs.
pub(crate) struct Draw(ChaCha8Rng);

impl Draw {
    /// The generator for `index` of `purpose` in `borough` under `seed`.
    pub(crate) fn new(seed: u64, borough: GssCode, purpose: Purpose, index: u64) -> Draw {
        // The key is the plain concatenation of its parts, so distinct parts
        // always give distinct keys (a hash could, in principle, collide).
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        let gss = borough.to_string();
        key[8..8 + gss.len()].copy_from_slice(gss.as_bytes());
        key[17] = purpose as u8;
        key[18..26].copy_from_slice(&index.to_le_bytes());
        Draw(ChaCha8Rng::from_seed(key))
    }

    /// A number in `0..n` (`n` > 0). Multiply-shift rather than rejection: the bias
    /// is below 2⁻⁵⁰ for the small ranges used, and each draw takes exactly one
    /// word, which keeps the streams easy to reason about.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille` / 1000.
    pub(crate) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// One item of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One value of a non-empty table of (weight, value).
    pub(crate) fn weighted<T: Copy>(&mut self, table: &[(u64, T)]) -> T {
        let total = table.iter().map(|(w, _)| w).sum();
        let mut at = self.below(total);
        for (weight, value) in table {
            if at < *weight {
                return *value;
            }
            at -= weight;
        }
        table[table.len() - 1].1
    }

    /// A uniform offset in `-half_width..=half_width`, in thousandths.
    pub(crate) fn offset(&mut self, half_width: f64) -> f64 {
        (self.below(2001) as f64 - 1000.0) / 1000.0 * half_width
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The order a file's `n` rows are written in: row `p` of the file is the row
/// made `order[p]`-th. It is `0..n` shuffled by the file's own generator (the
/// `Order` purpose, keyed by the purpose of its rows), which gives the same order
/// as shuffling the rows themselves, without holding them.
pub(crate) fn shuffled(seed: u64, borough: GssCode, rows: Purpose, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Draw::new(seed, borough, Purpose::Order, rows as u64).shuffle(&mut order);
    order
}
