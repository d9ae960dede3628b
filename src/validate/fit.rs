//! Maximum-likelihood fitters for heavy-tailed distributions.
//!
//! - Pure power laws, continuous and discrete, with `x_min` chosen by the
//!   minimum Kolmogorov–Smirnov distance (Clauset, Shalizi & Newman 2009).
//! - Power laws bounded to `[x_min, x_max]`, for scales limited by the map.
//! - Truncated power laws `x^−a · e^(−x/κ)` and shifted ones
//!   `(x + x₀)^−a · e^(−x/κ)`, fitted by numerical maximum likelihood with the
//!   normalising integral computed by quadrature.
//!
//! Exponents are never taken from least squares on a histogram. The only
//! least-squares helper, [`loglog_slope`], is for curves that are not
//! densities, such as S(t) or a rank–frequency curve.

use serde::Serialize;

/// Tail samples below this count give exponents too noisy to report.
pub const MIN_TAIL: usize = 20;

/// More candidates than this for `x_min` cost time without changing the choice.
const MAX_XMIN_CANDIDATES: usize = 200;

/// The shifted fitter evaluates a sum over the sample per step, so large
/// samples are thinned to this many evenly spaced order statistics.
const MAX_FIT_SAMPLES: usize = 50_000;

/// A pure power law `p(x) ∝ x^−alpha` for `x ≥ x_min`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerLawFit {
    /// Exponent of the density (or of the probability mass function).
    pub alpha: f64,
    /// Lower bound of the fitted tail.
    pub x_min: f64,
    /// Number of samples at or above `x_min`.
    pub n_tail: usize,
    /// Kolmogorov–Smirnov distance between the tail and the fit.
    pub ks: f64,
}

impl PowerLawFit {
    /// Complementary CDF of a continuous fit at `x ≥ x_min`.
    pub fn ccdf(&self, x: f64) -> f64 {
        if x <= self.x_min {
            1.0
        } else {
            (x / self.x_min).powf(1.0 - self.alpha)
        }
    }
}

/// Continuous power-law MLE with a given `x_min`.
///
/// Returns `None` when fewer than [`MIN_TAIL`] finite samples are at or above
/// `x_min`, or when `x_min` is not positive.
pub fn fit_power_law_continuous_at(data: &[f64], x_min: f64) -> Option<PowerLawFit> {
    if !(x_min > 0.0 && x_min.is_finite()) {
        return None;
    }
    let mut tail: Vec<f64> = data
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x >= x_min)
        .collect();
    if tail.len() < MIN_TAIL {
        return None;
    }
    tail.sort_by(f64::total_cmp);
    let log_sum: f64 = tail.iter().map(|x| (x / x_min).ln()).sum();
    if log_sum <= 0.0 {
        return None;
    }
    let alpha = 1.0 + tail.len() as f64 / log_sum;
    let ks = ks_continuous(&tail, x_min, alpha);
    Some(PowerLawFit {
        alpha,
        x_min,
        n_tail: tail.len(),
        ks,
    })
}

/// Continuous power-law MLE with `x_min` chosen by minimum KS distance.
///
/// Candidates for `x_min` are the distinct sample values (thinned to at most
/// a few hundred quantiles) that leave at least [`MIN_TAIL`] samples above.
pub fn fit_power_law_continuous(data: &[f64]) -> Option<PowerLawFit> {
    let mut xs: Vec<f64> = data
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x > 0.0)
        .collect();
    if xs.len() < MIN_TAIL {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    // suffix[i] = Σ_{j ≥ i} ln x_j lets each candidate's alpha be O(1).
    let mut suffix = vec![0.0; n + 1];
    for i in (0..n).rev() {
        suffix[i] = suffix[i + 1] + xs[i].ln();
    }
    let mut best: Option<PowerLawFit> = None;
    for start in candidate_starts(&xs) {
        let x_min = xs[start];
        let n_tail = n - start;
        let log_sum = suffix[start] - n_tail as f64 * x_min.ln();
        if log_sum <= 0.0 {
            continue;
        }
        let alpha = 1.0 + n_tail as f64 / log_sum;
        let ks = ks_continuous(&xs[start..], x_min, alpha);
        if best.is_none_or(|b| ks < b.ks) {
            best = Some(PowerLawFit {
                alpha,
                x_min,
                n_tail,
                ks,
            });
        }
    }
    best
}

/// Indices of the first occurrence of distinct values, thinned to quantiles.
fn candidate_starts<T: PartialEq + Copy>(sorted: &[T]) -> Vec<usize> {
    let n = sorted.len();
    let mut starts: Vec<usize> = (0..n.saturating_sub(MIN_TAIL - 1))
        .filter(|&i| i == 0 || sorted[i] != sorted[i - 1])
        .collect();
    if starts.len() > MAX_XMIN_CANDIDATES {
        let m = starts.len();
        starts = (0..MAX_XMIN_CANDIDATES)
            .map(|k| starts[k * m / MAX_XMIN_CANDIDATES])
            .collect();
    }
    starts
}

fn ks_continuous(sorted_tail: &[f64], x_min: f64, alpha: f64) -> f64 {
    let n = sorted_tail.len() as f64;
    let mut d: f64 = 0.0;
    for (k, x) in sorted_tail.iter().enumerate() {
        let cdf = 1.0 - (x / x_min).powf(1.0 - alpha);
        d = d
            .max((cdf - k as f64 / n).abs())
            .max((cdf - (k + 1) as f64 / n).abs());
    }
    d
}

/// Hurwitz zeta function ζ(s, q) = Σ_{k≥0} (q + k)^−s, for s > 1 and q > 0,
/// by Euler–Maclaurin summation.
pub fn hurwitz_zeta(s: f64, q: f64) -> f64 {
    const N: usize = 12;
    // B_2j / (2j)! for j = 1..=7.
    const B_OVER_FACT: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 720.0,
        1.0 / 30240.0,
        -1.0 / 1_209_600.0,
        1.0 / 47_900_160.0,
        -691.0 / 1_307_674_368_000.0,
        1.0 / 74_724_249_600.0,
    ];
    if !(s > 1.0 && q > 0.0) {
        return f64::INFINITY;
    }
    let mut sum = 0.0;
    for k in 0..N {
        sum += (q + k as f64).powf(-s);
    }
    let a = q + N as f64;
    sum += a.powf(1.0 - s) / (s - 1.0) + 0.5 * a.powf(-s);
    // Rising factorial s(s+1)…(s+2j−2) times a^(−s−2j+1).
    let mut rising = s;
    let mut power = a.powf(-s - 1.0);
    for (j, b) in B_OVER_FACT.iter().enumerate() {
        sum += b * rising * power;
        let m = 2.0 * j as f64;
        rising *= (s + m + 1.0) * (s + m + 2.0);
        power /= a * a;
    }
    sum
}

/// Discrete power-law MLE, `P(k) = k^−alpha / ζ(alpha, k_min)` for `k ≥ k_min`.
pub fn fit_power_law_discrete_at(data: &[u64], k_min: u64) -> Option<PowerLawFit> {
    if k_min == 0 {
        return None;
    }
    let mut tail: Vec<u64> = data.iter().copied().filter(|&k| k >= k_min).collect();
    if tail.len() < MIN_TAIL {
        return None;
    }
    tail.sort_unstable();
    let alpha = discrete_alpha(&tail, k_min)?;
    let ks = ks_discrete(&tail, k_min, alpha);
    Some(PowerLawFit {
        alpha,
        x_min: k_min as f64,
        n_tail: tail.len(),
        ks,
    })
}

/// Discrete power-law MLE with `k_min` chosen by minimum KS distance.
pub fn fit_power_law_discrete(data: &[u64]) -> Option<PowerLawFit> {
    let mut xs: Vec<u64> = data.iter().copied().filter(|&k| k > 0).collect();
    if xs.len() < MIN_TAIL {
        return None;
    }
    xs.sort_unstable();
    let mut best: Option<PowerLawFit> = None;
    for start in candidate_starts(&xs) {
        let k_min = xs[start];
        let tail = &xs[start..];
        let Some(alpha) = discrete_alpha(tail, k_min) else {
            continue;
        };
        let ks = ks_discrete(tail, k_min, alpha);
        if best.is_none_or(|b| ks < b.ks) {
            best = Some(PowerLawFit {
                alpha,
                x_min: k_min as f64,
                n_tail: tail.len(),
                ks,
            });
        }
    }
    best
}

fn discrete_alpha(sorted_tail: &[u64], k_min: u64) -> Option<f64> {
    let n = sorted_tail.len() as f64;
    let log_sum: f64 = sorted_tail.iter().map(|&k| (k as f64).ln()).sum();
    let q = k_min as f64;
    let neg_ll = |alpha: f64| alpha * log_sum + n * hurwitz_zeta(alpha, q).ln();
    let alpha = golden_section(neg_ll, 1.0 + 1e-6, 10.0, 1e-7);
    alpha.is_finite().then_some(alpha)
}

fn ks_discrete(sorted_tail: &[u64], k_min: u64, alpha: f64) -> f64 {
    let n = sorted_tail.len() as f64;
    let z = hurwitz_zeta(alpha, k_min as f64);
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < sorted_tail.len() {
        let k = sorted_tail[i];
        let mut j = i;
        while j < sorted_tail.len() && sorted_tail[j] == k {
            j += 1;
        }
        // Compare CDFs just below and at k, where the empirical CDF jumps.
        let below_fit = 1.0 - hurwitz_zeta(alpha, k as f64) / z;
        let at_fit = 1.0 - hurwitz_zeta(alpha, k as f64 + 1.0) / z;
        d = d
            .max((below_fit - i as f64 / n).abs())
            .max((at_fit - j as f64 / n).abs());
        i = j;
    }
    d
}

/// Exponent of a pure power law bounded to `[x_min, x_max]`, by MLE.
///
/// Use it when the map caps a distance scale: the density is renormalised
/// over the window, so the cap does not bias the exponent.
pub fn fit_bounded_power_law(data: &[f64], x_min: f64, x_max: f64) -> Option<PowerLawFit> {
    if !(x_min > 0.0 && x_max > x_min && x_max.is_finite()) {
        return None;
    }
    let tail: Vec<f64> = data
        .iter()
        .copied()
        .filter(|x| *x >= x_min && *x <= x_max)
        .collect();
    if tail.len() < MIN_TAIL {
        return None;
    }
    let n = tail.len() as f64;
    let log_sum: f64 = tail.iter().map(|x| x.ln()).sum();
    let (la, lb) = (x_min.ln(), x_max.ln());
    let log_norm = |alpha: f64| {
        let e = 1.0 - alpha;
        if e.abs() < 1e-9 {
            (lb - la).ln()
        } else {
            // ln |(b^e − a^e)/e|, computed without overflow.
            let hi = (e * lb).max(e * la);
            hi + ((e * lb - hi).exp() - (e * la - hi).exp()).abs().ln() - e.abs().ln()
        }
    };
    let neg_ll = |alpha: f64| alpha * log_sum + n * log_norm(alpha);
    let alpha = golden_section(neg_ll, -5.0, 10.0, 1e-8);
    let mut sorted = tail;
    sorted.sort_by(f64::total_cmp);
    let cdf = |x: f64| (log_norm_partial(alpha, la, x.ln()) - log_norm(alpha)).exp();
    let ks = sorted
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            let c = cdf(x);
            (c - k as f64 / n).abs().max((c - (k + 1) as f64 / n).abs())
        })
        .fold(0.0, f64::max);
    Some(PowerLawFit {
        alpha,
        x_min,
        n_tail: sorted.len(),
        ks,
    })
}

/// ln ∫_{e^la}^{e^lx} x^−alpha dx.
fn log_norm_partial(alpha: f64, la: f64, lx: f64) -> f64 {
    if lx <= la {
        return f64::NEG_INFINITY;
    }
    let e = 1.0 - alpha;
    if e.abs() < 1e-9 {
        (lx - la).ln()
    } else {
        let hi = (e * lx).max(e * la);
        hi + ((e * lx - hi).exp() - (e * la - hi).exp()).abs().ln() - e.abs().ln()
    }
}

/// A fitted `p(x) ∝ (x + shift)^−exponent · e^(−x/cutoff)` on `[x_min, x_max]`.
///
/// For the plain truncated power law `shift` is zero. A `cutoff` of infinity
/// means the likelihood preferred no exponential cut-off within the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TruncatedPowerLawFit {
    /// Power-law exponent of the density (`1 + β` in Song et al. 2010).
    pub exponent: f64,
    /// Scale of the exponential cut-off, in the data's unit.
    pub cutoff: f64,
    /// Shift added to `x` inside the power (Δr₀ in González et al. 2008).
    pub shift: f64,
    /// Lower bound of the fitted range.
    pub x_min: f64,
    /// Upper bound of the fitted range, if any.
    pub x_max: Option<f64>,
    /// Samples inside the range.
    pub n: usize,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
}

impl TruncatedPowerLawFit {
    fn lambda(&self) -> f64 {
        if self.cutoff.is_finite() {
            1.0 / self.cutoff
        } else {
            0.0
        }
    }

    /// Complementary CDF of the fitted law at `x`, within the fitted range.
    pub fn ccdf(&self, x: f64) -> f64 {
        if x <= self.x_min {
            return 1.0;
        }
        if self.x_max.is_some_and(|m| x >= m) {
            return 0.0;
        }
        let lambda = self.lambda();
        let total = log_integral(self.exponent, lambda, self.shift, self.x_min, self.x_max);
        let upper = log_integral(self.exponent, lambda, self.shift, x, self.x_max);
        (upper - total).exp()
    }
}

/// ln ∫_lo^hi (x + shift)^−a · e^(−λx) dx, with `hi = None` meaning ∞.
///
/// Substituting u = ln(x + shift) makes the integrand smooth and log-concave
/// in u, so Simpson's rule on a fine grid around its peak is accurate.
pub fn log_integral(a: f64, lambda: f64, shift: f64, lo: f64, hi: Option<f64>) -> f64 {
    if lo + shift <= 0.0 || !a.is_finite() || lambda.is_nan() || lambda < 0.0 {
        return f64::INFINITY;
    }
    let u0 = (lo + shift).ln();
    let log_f = |u: f64| (1.0 - a) * u - lambda * (u.exp() - shift);
    let slope = |u: f64| (1.0 - a) - lambda * u.exp();
    if hi.is_none() && lambda == 0.0 {
        if a <= 1.0 {
            return f64::INFINITY;
        }
        return (1.0 - a) * u0 - (a - 1.0).ln();
    }
    let u_hi = hi.map(|h| (h + shift).ln());
    if u_hi.is_some_and(|u| u <= u0) {
        return f64::NEG_INFINITY;
    }
    // The log-integrand is concave in u: find its peak, then walk right
    // until it has dropped far enough to be negligible.
    let mut u_peak = u0;
    if a < 1.0 && lambda > 0.0 {
        u_peak = ((1.0 - a) / lambda).ln().max(u0);
    }
    if let Some(u1) = u_hi {
        u_peak = u_peak.min(u1);
    }
    let peak = log_f(u_peak);
    let mut step: f64 = 0.25;
    let mut u_end = u_peak + step;
    while log_f(u_end) > peak - 50.0 && step < 1e4 {
        step *= 2.0;
        u_end = u_peak + step;
    }
    if let Some(u1) = u_hi {
        u_end = u_end.min(u1);
    }
    if u_end <= u0 {
        return f64::NEG_INFINITY;
    }
    let scale = slope(u_peak).abs().max(1.0);
    let h_target = 0.02 / scale;
    let mut intervals = ((u_end - u0) / h_target).ceil() as usize;
    intervals = intervals.clamp(256, 200_000);
    if intervals % 2 == 1 {
        intervals += 1;
    }
    let h = (u_end - u0) / intervals as f64;
    let mut acc = 0.0;
    for i in 0..=intervals {
        let w = if i == 0 || i == intervals {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        acc += w * (log_f(u0 + i as f64 * h) - peak).exp();
    }
    peak + (acc * h / 3.0).ln()
}

/// Thins a sorted sample to evenly spaced order statistics.
fn thin_sorted(sorted: &[f64], max: usize) -> Vec<f64> {
    if sorted.len() <= max {
        return sorted.to_vec();
    }
    (0..max)
        .map(|k| sorted[(2 * k + 1) * sorted.len() / (2 * max)])
        .collect()
}

fn window(data: &[f64], x_min: f64, x_max: Option<f64>) -> Vec<f64> {
    let mut xs: Vec<f64> = data
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x >= x_min && x_max.is_none_or(|m| *x <= m))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs
}

/// Fits `p(x) ∝ x^−exponent · e^(−x/cutoff)` on `[x_min, x_max]` by MLE.
///
/// With `x_max = None` the range is unbounded. The optimisation is
/// Nelder–Mead on (exponent, ln 1/cutoff); the likelihood of this
/// exponential family is concave, so the optimum is unique.
pub fn fit_truncated_power_law(
    data: &[f64],
    x_min: f64,
    x_max: Option<f64>,
) -> Option<TruncatedPowerLawFit> {
    if x_min.is_nan() || x_min <= 0.0 {
        return None;
    }
    let xs = window(data, x_min, x_max);
    if xs.len() < MIN_TAIL {
        return None;
    }
    let n = xs.len() as f64;
    let sum_log: f64 = xs.iter().map(|x| x.ln()).sum();
    let sum_x: f64 = xs.iter().sum();
    let mean = sum_x / n;
    // Bounds on λ keep the search in numbers the integrator handles: a cut-off
    // far beyond the largest sample is indistinguishable from none.
    let x_top = xs[xs.len() - 1].max(x_min * 1.0001);
    let ln_lambda_min = (1e-4 / x_top).ln();
    let ln_lambda_max = (1e3 / x_min).ln();
    let to_lambda = |t: f64| t.clamp(ln_lambda_min, ln_lambda_max).exp();
    let neg_ll = |p: &[f64]| {
        let (a, lambda) = (p[0], to_lambda(p[1]));
        let z = log_integral(a, lambda, 0.0, x_min, x_max);
        let v = a * sum_log + lambda * sum_x + n * z;
        if v.is_finite() { v } else { f64::MAX }
    };
    let alpha0 = (1.0 + n / (sum_log - n * x_min.ln()).max(1e-9)).clamp(0.2, 4.0);
    let start = [alpha0, (1.0 / mean).ln()];
    let (p, v) = minimise_with_restart(&neg_ll, &start, &[0.3, 1.0]);
    let ln_lambda = p[1].clamp(ln_lambda_min, ln_lambda_max);
    let cutoff = if ln_lambda <= ln_lambda_min + 1e-6 {
        f64::INFINITY
    } else {
        1.0 / ln_lambda.exp()
    };
    Some(TruncatedPowerLawFit {
        exponent: p[0],
        cutoff,
        shift: 0.0,
        x_min,
        x_max,
        n: xs.len(),
        log_likelihood: -v,
    })
}

/// Exponent range of the shifted law. A negative exponent with a large
/// shift would fit a hump-shaped sample as a gamma-like bump, which says
/// nothing about a tail; keeping the density non-increasing makes a poor fit
/// visible instead.
pub const SHIFTED_EXPONENT: (f64, f64) = (0.0, 10.0);

/// Fits `p(x) ∝ (x + shift)^−exponent · e^(−x/cutoff)` on `[x_min, x_max]`,
/// with the exponent within [`SHIFTED_EXPONENT`].
///
/// This is the jump-length law of González et al. (2008). Samples beyond
/// [`MAX_FIT_SAMPLES`] are thinned to evenly spaced order statistics, which
/// keeps the fit deterministic and fast.
pub fn fit_shifted_truncated_power_law(
    data: &[f64],
    x_min: f64,
    x_max: Option<f64>,
) -> Option<TruncatedPowerLawFit> {
    if x_min.is_nan() || x_min < 0.0 {
        return None;
    }
    let all = window(data, x_min, x_max);
    if all.len() < MIN_TAIL {
        return None;
    }
    let xs = thin_sorted(&all, MAX_FIT_SAMPLES);
    let n = xs.len() as f64;
    let sum_x: f64 = xs.iter().sum();
    let mean = sum_x / n;
    let x_top = xs[xs.len() - 1].max(x_min + 1e-9);
    let x_ref = mean.max(1e-12);
    let ln_lambda_min = (1e-4 / x_top).ln();
    let ln_lambda_max = (1e3 / x_ref).ln();
    let ln_shift_min = (1e-4 * x_ref).ln();
    let ln_shift_max = (1e3 * x_ref).ln();
    let neg_ll = |p: &[f64]| {
        let a = p[0].clamp(SHIFTED_EXPONENT.0, SHIFTED_EXPONENT.1);
        let lambda = p[1].clamp(ln_lambda_min, ln_lambda_max).exp();
        let shift = p[2].clamp(ln_shift_min, ln_shift_max).exp();
        let sum_log: f64 = xs.iter().map(|x| (x + shift).ln()).sum();
        let z = log_integral(a, lambda, shift, x_min, x_max);
        let v = a * sum_log + lambda * sum_x + n * z;
        if v.is_finite() { v } else { f64::MAX }
    };
    let start = [1.5, (1.0 / x_top).ln(), (0.5 * x_ref).ln()];
    let (p, v) = minimise_with_restart(&neg_ll, &start, &[0.3, 1.0, 1.0]);
    let ln_lambda = p[1].clamp(ln_lambda_min, ln_lambda_max);
    let cutoff = if ln_lambda <= ln_lambda_min + 1e-6 {
        f64::INFINITY
    } else {
        1.0 / ln_lambda.exp()
    };
    Some(TruncatedPowerLawFit {
        exponent: p[0].clamp(SHIFTED_EXPONENT.0, SHIFTED_EXPONENT.1),
        cutoff,
        shift: p[2].clamp(ln_shift_min, ln_shift_max).exp(),
        x_min,
        x_max,
        n: all.len(),
        log_likelihood: -v * all.len() as f64 / n,
    })
}

/// Fits `p(x) ∝ (x + shift)^−exponent · e^(−x/cutoff)` on `[x_min, ∞)` with
/// the shift fixed (the jump-length law of González et al. 2008 with their
/// Δr₀), the exponent within [`SHIFTED_EXPONENT`] and the cutoff free.
pub fn fit_truncated_power_law_fixed_shift(
    data: &[f64],
    shift: f64,
    x_min: f64,
) -> Option<TruncatedPowerLawFit> {
    if x_min.is_nan() || x_min < 0.0 || !(shift.is_finite() && shift >= 0.0) {
        return None;
    }
    let all = window(data, x_min, None);
    if all.len() < MIN_TAIL {
        return None;
    }
    let xs = thin_sorted(&all, MAX_FIT_SAMPLES);
    let n = xs.len() as f64;
    let sum_x: f64 = xs.iter().sum();
    let sum_log: f64 = xs.iter().map(|x| (x + shift).ln()).sum();
    let x_top = xs[xs.len() - 1].max(x_min + 1e-9);
    let x_ref = (sum_x / n).max(1e-12);
    let ln_lambda_min = (1e-4 / x_top).ln();
    let ln_lambda_max = (1e3 / x_ref).ln();
    let neg_ll = |p: &[f64]| {
        let a = p[0].clamp(SHIFTED_EXPONENT.0, SHIFTED_EXPONENT.1);
        let lambda = p[1].clamp(ln_lambda_min, ln_lambda_max).exp();
        let z = log_integral(a, lambda, shift, x_min, None);
        let v = a * sum_log + lambda * sum_x + n * z;
        if v.is_finite() { v } else { f64::MAX }
    };
    let start = [1.5, (1.0 / x_top).ln()];
    let (p, v) = minimise_with_restart(&neg_ll, &start, &[0.3, 1.0]);
    let ln_lambda = p[1].clamp(ln_lambda_min, ln_lambda_max);
    let cutoff = if ln_lambda <= ln_lambda_min + 1e-6 {
        f64::INFINITY
    } else {
        1.0 / ln_lambda.exp()
    };
    Some(TruncatedPowerLawFit {
        exponent: p[0].clamp(SHIFTED_EXPONENT.0, SHIFTED_EXPONENT.1),
        cutoff,
        shift,
        x_min,
        x_max: None,
        n: all.len(),
        log_likelihood: -v * all.len() as f64 / n,
    })
}

fn minimise_with_restart<F: Fn(&[f64]) -> f64>(
    f: &F,
    start: &[f64],
    step: &[f64],
) -> (Vec<f64>, f64) {
    let (p, _) = nelder_mead(f, start, step, 2000, 1e-10);
    // A restart from the first optimum escapes a simplex that collapsed early.
    let small: Vec<f64> = step.iter().map(|s| s * 0.2).collect();
    nelder_mead(f, &p, &small, 2000, 1e-12)
}

/// Minimises `f` with the Nelder–Mead simplex method.
///
/// Returns the best point and its value. Deterministic: no randomness.
pub fn nelder_mead<F: Fn(&[f64]) -> f64>(
    f: &F,
    start: &[f64],
    step: &[f64],
    max_iter: usize,
    tol: f64,
) -> (Vec<f64>, f64) {
    let d = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    simplex.push((start.to_vec(), f(start)));
    for i in 0..d {
        let mut p = start.to_vec();
        p[i] += step.get(i).copied().unwrap_or(1.0);
        let v = f(&p);
        simplex.push((p, v));
    }
    for _ in 0..max_iter {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[d].1);
        if (worst - best).abs() <= tol * (best.abs() + tol) {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| simplex[..d].iter().map(|(p, _)| p[j]).sum::<f64>() / d as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            (0..d)
                .map(|j| centroid[j] + t * (simplex[d].0[j] - centroid[j]))
                .collect()
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            simplex[d] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[d - 1].1 {
            simplex[d] = (reflected, fr);
        } else {
            let t = if fr < simplex[d].1 { -0.5 } else { 0.5 };
            let contracted = along(t);
            let fc = f(&contracted);
            if fc < fr.min(simplex[d].1) {
                simplex[d] = (contracted, fc);
            } else {
                let anchor = simplex[0].0.clone();
                for (p, v) in simplex.iter_mut().skip(1) {
                    for j in 0..d {
                        p[j] = anchor[j] + 0.5 * (p[j] - anchor[j]);
                    }
                    *v = f(p);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (p, v) = simplex.swap_remove(0);
    (p, v)
}

/// Minimises a unimodal `f` on `[lo, hi]` by golden-section search.
pub fn golden_section<F: Fn(f64) -> f64>(f: F, lo: f64, hi: f64, tol: f64) -> f64 {
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - phi * (b - a);
    let mut d = a + phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while (b - a).abs() > tol * (1.0 + a.abs() + b.abs()) {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = f(d);
        }
    }
    (a + b) / 2.0
}

/// Least-squares slope and intercept of ln y against ln x.
///
/// For curves such as S(t) or rank–frequency plots, not for densities.
/// Points with a non-positive coordinate are skipped.
pub fn loglog_slope(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

/// Two-sample Kolmogorov–Smirnov statistic: the largest distance between
/// the empirical CDFs of `a` and `b`; `None` when either has no finite value.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Option<f64> {
    let sorted = |v: &[f64]| {
        let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        s.sort_by(f64::total_cmp);
        s
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        // Step past every copy of the smaller value in both samples at once,
        // so ties never open a spurious gap.
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    Some(d)
}

/// Empirical complementary CDF, P(X ≥ x), at up to `max_points` values
/// spread evenly in rank, for plotting.
pub fn ccdf_points(values: &[f64], max_points: usize) -> Vec<(f64, f64)> {
    let mut xs: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 || max_points == 0 {
        return Vec::new();
    }
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut i = 0;
    while i < n {
        let x = xs[i];
        out.push((x, (n - i) as f64 / n as f64));
        while i < n && xs[i] == x {
            i += 1;
        }
    }
    if out.len() > max_points {
        // Keep points spread in log-x so both the body and the tail show.
        let m = out.len();
        let mut keep: Vec<(f64, f64)> = (0..max_points)
            .map(|k| out[k * (m - 1) / (max_points - 1).max(1)])
            .collect();
        keep.dedup_by(|a, b| a.0 == b.0);
        return keep;
    }
    out
}

/// Quantile by linear interpolation between order statistics.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn fixed_shift_fit_recovers_the_jump_law() {
        // Jumps drawn by the generator's own sampler of the published law
        // (β 1.75, Δr₀ 1.5 km, κ 100 km), fitted over 0.5 km and more.
        let law = crate::population::beyond::JumpLaw::published(100.0);
        let mut rng = Pcg64Mcg::seed_from_u64(11);
        let km: Vec<f64> = (0..20_000).map(|_| law.draw(&mut rng) / 1000.0).collect();
        let f = fit_truncated_power_law_fixed_shift(&km, 1.5, 0.5).expect("fit");
        assert!((f.exponent - 1.75).abs() < 0.08, "beta {}", f.exponent);
        assert!(f.cutoff > 30.0 && f.cutoff < 400.0, "kappa {}", f.cutoff);
    }

    fn power_law_sample(alpha: f64, x_min: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let u: f64 = rng.random_range(0.0..1.0);
                x_min * (1.0 - u).powf(-1.0 / (alpha - 1.0))
            })
            .collect()
    }

    #[test]
    fn continuous_power_law_recovers_alpha_with_fixed_and_chosen_x_min() {
        let xs = power_law_sample(2.5, 1.0, 20_000, 7);
        let fixed = fit_power_law_continuous_at(&xs, 1.0).expect("fit");
        assert!((fixed.alpha - 2.5).abs() < 0.05, "alpha {}", fixed.alpha);
        let chosen = fit_power_law_continuous(&xs).expect("fit");
        assert!((chosen.alpha - 2.5).abs() < 0.05, "alpha {}", chosen.alpha);
        assert!(chosen.ks < 0.05);
    }

    #[test]
    fn continuous_x_min_is_found_above_a_uniform_body() {
        // Uniform body on [0, 5) below a power-law tail from 5.
        let mut xs = power_law_sample(2.2, 5.0, 10_000, 3);
        xs.extend((0..10_000).map(|i| 5.0 * i as f64 / 10_000.0));
        let fit = fit_power_law_continuous(&xs).expect("fit");
        assert!(fit.x_min >= 4.0 && fit.x_min <= 8.0, "x_min {}", fit.x_min);
        assert!((fit.alpha - 2.2).abs() < 0.1, "alpha {}", fit.alpha);
    }

    #[test]
    fn hurwitz_zeta_matches_known_values() {
        assert!((hurwitz_zeta(2.0, 1.0) - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-10);
        assert!((hurwitz_zeta(4.0, 1.0) - std::f64::consts::PI.powi(4) / 90.0).abs() < 1e-10);
        // ζ(2, 3) = π²/6 − 1 − 1/4.
        let expect = std::f64::consts::PI.powi(2) / 6.0 - 1.25;
        assert!((hurwitz_zeta(2.0, 3.0) - expect).abs() < 1e-10);
        assert!((hurwitz_zeta(1.5, 1.0) - 2.612_375_348_685_488).abs() < 1e-9);
    }

    #[test]
    fn discrete_power_law_recovers_alpha() {
        let mut rng = Pcg64Mcg::seed_from_u64(11);
        let zeta = rand_distr::Zeta::new(2.5).expect("valid");
        let ks: Vec<u64> = (0..20_000).map(|_| rng.sample(zeta) as u64).collect();
        let fixed = fit_power_law_discrete_at(&ks, 1).expect("fit");
        assert!((fixed.alpha - 2.5).abs() < 0.05, "alpha {}", fixed.alpha);
        let chosen = fit_power_law_discrete(&ks).expect("fit");
        assert!((chosen.alpha - 2.5).abs() < 0.1, "alpha {}", chosen.alpha);
    }

    #[test]
    fn bounded_power_law_is_unbiased_by_the_cap() {
        let xs: Vec<f64> = power_law_sample(1.75, 1.0, 40_000, 5)
            .into_iter()
            .filter(|x| *x <= 30.0)
            .collect();
        let fit = fit_bounded_power_law(&xs, 1.0, 30.0).expect("fit");
        assert!((fit.alpha - 1.75).abs() < 0.05, "alpha {}", fit.alpha);
        // The unbounded estimator is biased up by the cap.
        let naive = fit_power_law_continuous_at(&xs, 1.0).expect("fit");
        assert!(naive.alpha > fit.alpha + 0.1);
    }

    #[test]
    fn log_integral_matches_closed_forms() {
        // ∫_1^∞ x^−2 dx = 1.
        assert!(log_integral(2.0, 0.0, 0.0, 1.0, None).abs() < 1e-12);
        // ∫_0^∞ e^(−x/2) dx = 2, with a = 0 and shift 1 so the log is defined.
        let v = log_integral(0.0, 0.5, 1.0, 0.0, None).exp();
        assert!((v - 2.0).abs() < 1e-6, "{v}");
        // ∫_1^3 x^−1 e^0 dx = ln 3, with a tiny λ.
        let v = log_integral(1.0, 1e-12, 0.0, 1.0, Some(3.0)).exp();
        assert!((v - 3f64.ln()).abs() < 1e-6, "{v}");
        // ∫_2^∞ x^−1.8 e^(−x/17) dx against a fine trapezoid sum.
        let mut direct = 0.0;
        let h = 1e-3;
        let mut x = 2.0;
        while x < 2000.0 {
            let f = |x: f64| x.powf(-1.8) * (-x / 17.0).exp();
            direct += 0.5 * h * (f(x) + f(x + h));
            x += h;
        }
        let v = log_integral(1.8, 1.0 / 17.0, 0.0, 2.0, None).exp();
        assert!((v / direct - 1.0).abs() < 1e-4, "{v} vs {direct}");
    }

    /// Rejection sampler for (x + shift)^−a e^(−x/cutoff), x ≥ x_min, a > 1.
    fn truncated_sample(
        a: f64,
        cutoff: f64,
        shift: f64,
        x_min: f64,
        n: usize,
        seed: u64,
    ) -> Vec<f64> {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let y_min = x_min + shift;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let u: f64 = rng.random_range(0.0..1.0);
            let y = y_min * (1.0 - u).powf(-1.0 / (a - 1.0));
            let x = y - shift;
            let keep: f64 = rng.random_range(0.0..1.0);
            if keep < (-(x - x_min) / cutoff).exp() {
                out.push(x);
            }
        }
        out
    }

    #[test]
    fn truncated_power_law_recovers_exponent_and_cutoff() {
        // Song et al. (2010): β = 0.8, τ = 17 h, so the exponent is 1.8.
        let xs = truncated_sample(1.8, 17.0, 0.0, 0.5, 20_000, 21);
        let fit = fit_truncated_power_law(&xs, 0.5, None).expect("fit");
        assert!(
            (fit.exponent - 1.8).abs() < 0.05,
            "exponent {}",
            fit.exponent
        );
        assert!(
            (fit.cutoff / 17.0 - 1.0).abs() < 0.25,
            "cutoff {}",
            fit.cutoff
        );
        let c = fit.ccdf(0.5);
        assert!((c - 1.0).abs() < 1e-9);
        assert!(fit.ccdf(10.0) < 1.0 && fit.ccdf(10.0) > 0.0);
    }

    #[test]
    fn truncated_power_law_without_cutoff_reports_infinity_or_far_scale() {
        let xs = power_law_sample(2.5, 1.0, 20_000, 9);
        let fit = fit_truncated_power_law(&xs, 1.0, None).expect("fit");
        assert!(
            (fit.exponent - 2.5).abs() < 0.06,
            "exponent {}",
            fit.exponent
        );
        assert!(fit.cutoff > 100.0, "cutoff {}", fit.cutoff);
    }

    #[test]
    fn shifted_truncated_power_law_recovers_exponent() {
        // González et al. (2008): β = 1.75, Δr₀ = 1.5 km, κ = 40 km here.
        let xs = truncated_sample(1.75, 40.0, 1.5, 0.0, 20_000, 33);
        let fit = fit_shifted_truncated_power_law(&xs, 0.0, None).expect("fit");
        assert!(
            (fit.exponent - 1.75).abs() < 0.1,
            "exponent {}",
            fit.exponent
        );
        assert!((fit.shift - 1.5).abs() < 0.6, "shift {}", fit.shift);
    }

    #[test]
    fn loglog_slope_of_an_exact_power_is_exact() {
        let pts: Vec<(f64, f64)> = (1..20)
            .map(|t| (t as f64, 3.0 * (t as f64).powf(0.6)))
            .collect();
        let (s, c) = loglog_slope(&pts).expect("slope");
        assert!((s - 0.6).abs() < 1e-12 && (c - 3f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn quantile_and_ccdf_points() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.5), 2.5);
        let c = ccdf_points(&[1.0, 1.0, 2.0, 4.0], 10);
        assert_eq!(c, vec![(1.0, 1.0), (2.0, 0.5), (4.0, 0.25)]);
    }

    #[test]
    fn two_sample_ks_measures_the_largest_cdf_gap() {
        assert_eq!(ks_two_sample(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), Some(0.0));
        // Disjoint samples are a full distance apart.
        assert_eq!(ks_two_sample(&[1.0, 2.0], &[3.0, 4.0]), Some(1.0));
        // F_a(4) = 1/2 against F_b(4) = 1 is the widest gap.
        let d = ks_two_sample(&[1.0, 2.0, 5.0, 6.0], &[2.5, 3.0, 4.0, 2.0]).expect("ks");
        assert!((d - 0.5).abs() < 1e-12, "{d}");
        assert_eq!(ks_two_sample(&[], &[1.0]), None);
    }
}
