use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;

const DRAWS: usize = 200_000;

#[test]
fn the_exponential_coin_lands_as_often_as_exp_minus_gamma() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for (num, den) in [(0u64, 1u64), (1, 3), (1, 1), (5, 2)] {
        let p = (-(num as f64) / den as f64).exp();
        let hits = (0..DRAWS)
            .filter(|_| bernoulli_exp(&mut rng, num, den))
            .count();
        let se = (p * (1.0 - p) / DRAWS as f64).sqrt().max(1e-9);
        let freq = hits as f64 / DRAWS as f64;
        assert!(
            (freq - p).abs() <= 5.0 * se + 1e-12,
            "γ={num}/{den}: {freq} vs {p}"
        );
    }
}

/// The chi-square statistic of `draws` against the discrete Laplace pmf with
/// scale `t`, over |x| ≤ 8 and a tail bin each side.
fn chi_square(draws: &[i64], t: f64) -> f64 {
    let p = (-1.0 / t).exp();
    let pmf = |x: i64| (1.0 - p) / (1.0 + p) * p.powi(x.unsigned_abs() as i32);
    let mut bins = [0usize; 19];
    for &x in draws {
        bins[(x.clamp(-9, 9) + 9) as usize] += 1;
    }
    let tail: f64 = 1.0 - (-8..=8).map(pmf).sum::<f64>();
    (0..19)
        .map(|i| {
            let x = i as i64 - 9;
            let expected = DRAWS as f64 * if x.abs() == 9 { tail / 2.0 } else { pmf(x) };
            let o = bins[i] as f64;
            (o - expected).powi(2) / expected
        })
        .sum()
}

#[test]
fn discrete_laplace_draws_match_their_distribution() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for (num, den) in [(2u64, 1u64), (1, 2)] {
        let scale = Scale::new(num, den).unwrap();
        let t = num as f64 / den as f64;
        let draws: Vec<i64> = (0..DRAWS)
            .map(|_| discrete_laplace(&mut rng, scale))
            .collect();
        // 18 degrees of freedom: the 0.999 quantile is 42.3.
        let chi = chi_square(&draws, t);
        assert!(chi < 42.3, "scale {t}: chi-square {chi}");
        let p = (-1.0 / t).exp();
        let variance = 2.0 * p / (1.0 - p).powi(2);
        let mean = draws.iter().sum::<i64>() as f64 / DRAWS as f64;
        assert!(
            mean.abs() < 5.0 * (variance / DRAWS as f64).sqrt(),
            "mean {mean}"
        );
        let var = draws
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / DRAWS as f64;
        assert!(
            (var - variance).abs() < 0.05 * variance,
            "variance {var} vs {variance}"
        );
        let plus = draws.iter().filter(|&&x| x == 1).count() as f64;
        let minus = draws.iter().filter(|&&x| x == -1).count() as f64;
        assert!(
            (plus - minus).abs() < 5.0 * (plus + minus).sqrt(),
            "{plus} vs {minus}"
        );
    }
}

#[test]
fn a_zero_scale_is_refused() {
    assert_eq!(Scale::new(0, 1), None);
    assert_eq!(Scale::new(1, 0), None);
}
