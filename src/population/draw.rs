//! Small random draws used by population and days, written out so that
//! invalid parameters can never make a library call panic.

use rand::{Rng, RngExt};

/// Uniform in [0, 1).
pub(crate) fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rng.random::<f64>()
}

/// True with probability `p`; values outside [0, 1] act as 0 or 1.
pub(crate) fn chance<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    unit(rng) < p
}

/// Standard normal, by the Box–Muller transform.
pub(crate) fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = 1.0 - unit(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Log-normal with the given median and log-scale sigma.
pub(crate) fn log_normal<R: Rng + ?Sized>(rng: &mut R, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// Uniform integer in `lo..=hi` (`lo` when the range is empty).
pub(crate) fn int_in<R: Rng + ?Sized>(rng: &mut R, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        return lo;
    }
    lo + (unit(rng) * (hi - lo + 1) as f64)
        .floor()
        .min((hi - lo) as f64) as i64
}

/// Index drawn ∝ `weights` (the last index when all are zero).
pub(crate) fn pick<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    let mut u = unit(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        let w = w.max(0.0);
        if u < w {
            return i;
        }
        u -= w;
    }
    weights.len().saturating_sub(1)
}
