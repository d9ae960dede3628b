//! Plot data for metrics: empirical CCDFs with fitted and published laws
//! drawn over them, and histograms. Rendering lives in the report.

use super::fit::{self, TruncatedPowerLawFit};
use super::{Plot, Series};

/// The fitted law's CCDF, conditioned on the data's lower bound, at points
/// spread over the data range.
pub(crate) fn law_series(label: &str, law: &TruncatedPowerLawFit, data: &[f64]) -> Series {
    let lo = law
        .x_min
        .max(data.iter().copied().fold(f64::INFINITY, f64::min));
    let hi = data.iter().copied().fold(0.0, f64::max);
    let mut points = Vec::new();
    if lo > 0.0 && hi > lo {
        for i in 0..=40 {
            let x = lo * (hi / lo).powf(i as f64 / 40.0);
            let y = law.ccdf(x);
            if y > 0.0 && y.is_finite() {
                points.push((x, y));
            }
        }
    }
    Series {
        label: format!("{label}: exponent {:.2}", law.exponent),
        points,
        line: true,
    }
}

pub(crate) fn ccdf_plot(x_label: &str, values: &[f64], laws: Vec<Series>) -> Plot {
    let mut series = vec![Series {
        label: "measured".into(),
        points: fit::ccdf_points(values, 300)
            .into_iter()
            .filter(|(x, _)| *x > 0.0)
            .collect(),
        line: false,
    }];
    series.extend(laws);
    Plot::LogLog {
        x_label: x_label.into(),
        y_label: "P(X >= x)".into(),
        series,
    }
}

pub(crate) fn histogram_plot(label: &str, values: &[f64], lo: f64, hi: f64, bins: usize) -> Plot {
    let mut counts = vec![0.0; bins];
    for v in values {
        let b = (((v - lo) / (hi - lo)) * bins as f64).floor();
        let b = (b.max(0.0) as usize).min(bins - 1);
        counts[b] += 1.0;
    }
    let n = values.len().max(1) as f64;
    Plot::Bars {
        y_label: format!("share of people by {label}"),
        labels: (0..bins)
            .map(|i| format!("{:.1}", lo + (hi - lo) * i as f64 / bins as f64))
            .collect(),
        measured: counts.into_iter().map(|c| c / n).collect(),
        reference: None,
    }
}

/// A cut-off scale for text, saying so when there is none.
pub(crate) fn fmt_scale(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "none (beyond the data)".into()
    }
}
