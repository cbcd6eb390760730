//! Exact samplers for differential privacy: a Bernoulli(exp(-γ)) coin and the
//! discrete Laplace distribution, after Canonne, Kamath and Steinke, "The
//! Discrete Gaussian for Differential Privacy" (2020), Algorithms 1 and 2. They
//! use only unbiased integer draws: floating-point Laplace noise leaks the true
//! value through the low bits of the result, so none is used here.

use rand::Rng;

/// A positive rational noise scale `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scale {
    num: u64,
    den: u64,
}

impl Scale {
    /// The scale `num / den`; `None` unless both are above zero.
    pub(crate) fn new(num: u64, den: u64) -> Option<Scale> {
        (num > 0 && den > 0).then_some(Scale { num, den })
    }
}

/// True with probability exactly `num / den`.
fn bernoulli<R: Rng + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    rng.random_range(0..den) < num
}

/// True with probability exactly exp(-num/den); `den` must be above zero.
pub(crate) fn bernoulli_exp<R: Rng + ?Sized>(rng: &mut R, num: u64, den: u64) -> bool {
    let den = den.max(1);
    // exp(-γ) = exp(-1)^⌊γ⌋ · exp(-(γ - ⌊γ⌋)), each factor a coin of its own.
    for _ in 0..num / den {
        if !bernoulli_exp_at_most_one(rng, 1, 1) {
            return false;
        }
    }
    bernoulli_exp_at_most_one(rng, num % den, den)
}

/// exp(-γ) for γ = num/den in [0, 1]: count the run of Bernoulli(γ/k) successes
/// for k = 1, 2, …; its length is odd with probability exp(-γ).
fn bernoulli_exp_at_most_one<R: Rng + ?Sized>(rng: &mut R, num: u64, den: u64) -> bool {
    let mut k: u128 = 1;
    while bernoulli(rng, u128::from(num), u128::from(den) * k) {
        k += 1;
    }
    k % 2 == 1
}

/// A draw from the discrete Laplace distribution with scale `t = num / den`:
/// P(X = x) ∝ exp(-|x| / t).
pub(crate) fn discrete_laplace<R: Rng + ?Sized>(rng: &mut R, scale: Scale) -> i64 {
    let (s, t) = (scale.den, scale.num);
    loop {
        let u = rng.random_range(0..t);
        if !bernoulli_exp(rng, u, t) {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp(rng, 1, 1) {
            v += 1;
        }
        let x = u128::from(u) + u128::from(t) * u128::from(v);
        let y = (x / u128::from(s)).min(i64::MAX as u128) as i64;
        let negative = rng.random::<bool>();
        if negative && y == 0 {
            continue;
        }
        return if negative { -y } else { y };
    }
}

#[cfg(test)]
mod tests;
