//! Scaling laws of individual mobility from ground-truth stays: stay
//! durations, jump lengths, radius of gyration, S(t), Zipf visitation,
//! exploration, entropy, returners and explorers, familiar locations and
//! the visitation law; plus [`truth_metrics`], which runs every truth metric.
//!
//! These work on [`Trajectories`]: each subscriber's stays with consecutive
//! stays at one place merged into one visit. "Weighted by visits" means
//! each visit counts once, whatever its duration.

use super::charts::{ccdf_plot, fmt_scale, histogram_plot, law_series};
use super::fit::{self, TruncatedPowerLawFit};
use super::motifs;
use super::survey;
use super::{
    Activity, Config, DayRange, Metric, PersonRecord, Plot, Series, Spec, StayRecord, Trajectories,
    TripRecord, Visit, local_day, mean, sorted_finite,
};
use crate::calendar::Calendar;
use std::collections::{BTreeMap, BTreeSet};

const SONG: &str = "Song, Koren, Wang, Barabási (2010), Nature Physics 6";
const GONZALEZ: &str = "González, Hidalgo, Barabási (2008), Nature 453";

/// Places beyond the map's edge have no place id; they are keyed by their
/// position (to 10 m) with this bit set, which no place id has.
pub const OUTSIDE_PLACE_BIT: u64 = 1 << 63;

/// The place key of a stay beyond the map's edge at projected `(x, y)`.
pub fn outside_place_key(x_m: f64, y_m: f64) -> u64 {
    let cell = |v: f64| (v / 10.0).round() as i64 as u64;
    let h = cell(x_m)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
        ^ cell(y_m).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h | OUTSIDE_PLACE_BIT
}

/// Whether a place key is that of a place beyond the map's edge.
pub fn is_outside_place(place: u64) -> bool {
    place & OUTSIDE_PLACE_BIT != 0
}

/// Run length below which multi-day metrics are reported but not judged.
pub const MIN_MULTI_DAY_RUN: i64 = 14;

/// Stays shorter than this are below the time resolution of the CDR data the
/// published stay-duration law comes from.
pub const STAY_FIT_MIN_H: f64 = 0.5;

/// Jumps shorter than this are moves within one site, not relocations.
pub const JUMP_FIT_MIN_KM: f64 = 0.1;

/// The truth's jump law is fitted over jumps of at least this length,
/// beyond the map's edge included.
pub const TRUTH_JUMP_FIT_MIN_KM: f64 = 0.5;

/// The published offset Δr₀ of the jump law, km, fixed in the truth's fit.
pub const JUMP_OFFSET_KM: f64 = 1.5;

/// The radius of gyration's tail is judged by p90 / median at least this.
pub const RG_TAIL_RATIO_MIN: f64 = 2.0;

/// Visits shorter than this do not make a place familiar
/// (Alessandretti et al. 2018 use the same threshold).
pub const FAMILIAR_MIN_VISIT_S: i64 = 600;

/// Width of the familiar-locations window.
pub const FAMILIAR_WINDOW_DAYS: i64 = 28;

/// Visitation-law distances start here: closer places share the home's
/// neighbourhood and the annulus area is ill-defined.
pub const VISITATION_MIN_R_M: f64 = 1_000.0;

/// Visitation-law distances reach at least this far, beyond the map's edge
/// if need be: places outside have their real positions in the truth, and a
/// window of 1 to 1.8 km (half of Monaco's diameter) holds too few scales to
/// fit an exponent.
pub const VISITATION_MIN_R_MAX_M: f64 = 10_000.0;

/// Reported, not judged: the law is a property of CDR location sequences
/// (a stay ends at the next record elsewhere), not of diaries of about three
/// trips a day (see `docs/MODEL.md`).
pub const STAY_DURATION: Spec = Spec {
    id: "truth.stay_duration_beta",
    name: "Stay durations: beta of dt^-(1+beta) e^(-dt/tau) (reported)",
    band: None,
    published: "beta 0.8, tau 17 h",
    source: SONG,
};
pub const JUMP_LENGTH: Spec = Spec {
    id: "truth.jump_beta",
    name: "Jump lengths: beta of (dr+1.5 km)^-beta e^(-dr/kappa), jumps >= 0.5 km",
    band: Some((1.5, 2.0)),
    published: "beta 1.75, dr0 1.5 km",
    source: GONZALEZ,
};
pub const RADIUS_OF_GYRATION: Spec = Spec {
    id: "truth.radius_of_gyration_tail",
    name: "Radius of gyration: tail, p90 / median over people",
    band: Some((RG_TAIL_RATIO_MIN, f64::INFINITY)),
    published: "(rg+rg0)^-1.65 e^(-rg/kappa); heavy right tail, most people below a few km",
    source: GONZALEZ,
};
pub const DISTINCT_LOCATIONS: Spec = Spec {
    id: "truth.distinct_locations_slope",
    name: "Distinct locations S(t): log-log slope over days",
    band: Some((0.5, 0.7)),
    published: "S(t) ~ t^0.6",
    source: SONG,
};
pub const ZIPF: Spec = Spec {
    id: "truth.zipf_zeta",
    name: "Visitation frequency: Zipf exponent zeta",
    band: Some((1.05, 1.35)),
    published: "f_k ~ k^-1.2",
    source: SONG,
};
pub const EXPLORATION: Spec = Spec {
    id: "truth.exploration_gamma",
    name: "Exploration: gamma of P(new) = rho S^-gamma",
    band: Some((0.15, 0.30)),
    published: "rho 0.6, gamma 0.21",
    source: SONG,
};
pub const ENTROPY: Spec = Spec {
    id: "truth.uncorrelated_entropy",
    name: "Normalised uncorrelated entropy, mean",
    band: Some((0.5, 0.7)),
    published: "mean about 0.61 (European CDR)",
    source: "Pappalardo & Simini (2018), Data Mining and Knowledge Discovery 32",
};
pub const RETURNERS: Spec = Spec {
    id: "truth.returners_share",
    name: "Returners: share with s2 = rg(top 2) / rg > 0.5",
    band: Some((0.05, 0.95)),
    published: "both returners and explorers present; bimodal s2",
    source: "Pappalardo et al. (2015), Nature Communications 6",
};
pub const FAMILIAR: Spec = Spec {
    id: "truth.familiar_locations",
    name: "Familiar locations in a 4-week window, mean",
    band: Some((10.0, 40.0)),
    published: "about 25, stable over time",
    source: "Alessandretti et al. (2018), Nature Human Behaviour 2",
};
pub const VISITATION_LAW: Spec = Spec {
    id: "truth.visitation_law_eta",
    name: "Visitation law: eta of rho(r, f) ~ (r f)^-eta",
    band: Some((1.7, 2.3)),
    published: "eta 2",
    source: "Schläpfer et al. (2021), Nature 593",
};

/// All ground-truth metrics.
pub fn truth_metrics(
    persons: &[PersonRecord],
    stays: &[StayRecord],
    trips: &[TripRecord],
    config: &Config,
) -> Vec<Metric> {
    let calendar = &config.calendar;
    // Like the published studies, the mobility laws describe residents;
    // inbound roamers are present a few days only and are reported apart.
    let roamers: BTreeSet<u64> = persons
        .iter()
        .filter(|p| !p.resident)
        .map(|p| p.subscriber)
        .collect();
    let (roamer_stays, resident_stays): (Vec<StayRecord>, Vec<StayRecord>) =
        stays.iter().partition(|s| roamers.contains(&s.subscriber));
    let stays = &resident_stays[..];
    let traj = Trajectories::from_stays(stays);
    let days = config
        .period
        .or_else(|| DayRange::from_stays(stays, calendar))
        .or_else(|| survey::trip_days(trips, calendar));
    let diameter_m = config
        .map_diameter_m
        .unwrap_or_else(|| inside_extent_m(&traj));
    let mut out = Vec::new();
    out.extend(survey::leaving_home(
        persons,
        trips,
        days,
        &config.set_apart,
        calendar,
    ));
    out.extend(survey::trips_per_person_day(
        persons,
        trips,
        days,
        &config.set_apart,
        calendar,
    ));
    out.extend(survey::mode_shares(persons, trips));
    out.push(survey::commute_distance(trips));
    out.push(survey::travel_minutes(
        persons,
        trips,
        days,
        &config.set_apart,
        calendar,
    ));
    out.push(stay_durations(&traj, &STAY_DURATION));
    out.push(truth_jump_lengths(&traj));
    out.push(radius_of_gyration_tail(&traj));
    out.push(distinct_locations(&traj, days, &config.set_apart, calendar));
    out.push(zipf_visitation(&traj));
    out.push(exploration(&traj));
    out.push(uncorrelated_entropy(&traj, days));
    out.push(motifs::daily_motifs(&traj, calendar));
    out.push(returners_explorers(&traj));
    out.push(familiar_locations(&traj, days, calendar));
    out.push(visitation_law(&traj, diameter_m));
    out.extend(roamer_summary(&roamer_stays, calendar));
    out
}

pub const ROAMER_DAYS: Spec = Spec {
    id: "truth.roamers.days_present",
    name: "Inbound roamers: local days present, mean",
    band: None,
    published: "not judged; tourists stay a few days",
    source: "scenario",
};
pub const ROAMER_RADIUS: Spec = Spec {
    id: "truth.roamers.radius_of_gyration_km",
    name: "Inbound roamers: radius of gyration, median (km)",
    band: None,
    published: "not judged",
    source: "scenario",
};

/// What inbound roamers did, reported beside the residents' laws but not
/// judged: no published law covers a few days of a visitor's stay.
pub fn roamer_summary(stays: &[StayRecord], calendar: &Calendar) -> Vec<Metric> {
    if stays.is_empty() {
        return Vec::new();
    }
    let traj = Trajectories::from_stays(stays);
    let days: Vec<f64> = traj
        .people
        .iter()
        .map(|(_, vs)| {
            let d: BTreeSet<i64> = vs
                .iter()
                .flat_map(|v| local_day(v.start_s, calendar)..=local_day(v.end_s - 1, calendar))
                .collect();
            d.len() as f64
        })
        .collect();
    let mut radii: Vec<f64> = radius_of_gyration_per_person(&traj)
        .into_iter()
        .map(|(_, r)| r / 1000.0)
        .filter(|r| r.is_finite())
        .collect();
    radii.sort_by(f64::total_cmp);
    let median_radius = radii.get(radii.len() / 2).copied().unwrap_or(f64::NAN);
    let people = traj.people.len();
    vec![
        Metric::judged(&ROAMER_DAYS, mean(&days), format!("{people} roamers")),
        Metric::judged(&ROAMER_RADIUS, median_radius, format!("{people} roamers")),
    ]
}

/// Durations of visits in hours, leaving out each person's first and last
/// visit, which the run's start and end cut short.
pub fn visit_durations_h(traj: &Trajectories) -> Vec<f64> {
    traj.people
        .iter()
        .filter(|(_, vs)| vs.len() > 2)
        .flat_map(|(_, vs)| vs[1..vs.len() - 1].iter())
        .map(|v| (v.end_s - v.start_s) as f64 / 3600.0)
        .collect()
}

/// Stay-duration law fitted by maximum likelihood above [`STAY_FIT_MIN_H`].
pub fn stay_durations(traj: &Trajectories, spec: &Spec) -> Metric {
    let hours = visit_durations_h(traj);
    let Some(f) = fit::fit_truncated_power_law(&hours, STAY_FIT_MIN_H, None) else {
        return Metric::missing(spec, "too few stays to fit");
    };
    let published = TruncatedPowerLawFit {
        exponent: 1.8,
        cutoff: 17.0,
        shift: 0.0,
        x_min: STAY_FIT_MIN_H,
        x_max: None,
        n: 0,
        log_likelihood: f64::NAN,
    };
    let tail: Vec<f64> = hours
        .iter()
        .copied()
        .filter(|h| *h >= STAY_FIT_MIN_H)
        .collect();
    let laws = vec![
        law_series("fit", &f, &tail),
        law_series("published", &published, &tail),
    ];
    Metric::judged(
        spec,
        f.exponent - 1.0,
        format!(
            "tau {} h; {} stays of at least {STAY_FIT_MIN_H} h",
            fmt_scale(f.cutoff),
            f.n
        ),
    )
    .with_plot(ccdf_plot("stay duration (h)", &tail, laws))
}

/// The diagonal of the bounding box of the visits inside the map, metres:
/// the map's size when the dataset gives none (places beyond the edge lie
/// up to hundreds of km away and are not the map).
fn inside_extent_m(traj: &Trajectories) -> f64 {
    let (mut x0, mut y0, mut x1, mut y1) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for v in traj.people.iter().flat_map(|(_, vs)| vs) {
        if !is_outside_place(v.place) {
            (x0, y0, x1, y1) = (x0.min(v.x_m), y0.min(v.y_m), x1.max(v.x_m), y1.max(v.y_m));
        }
    }
    if x0.is_finite() {
        (x1 - x0).hypot(y1 - y0)
    } else {
        0.0
    }
}

/// Distances in km between consecutive visits of each person.
pub fn jump_lengths_km(traj: &Trajectories) -> Vec<f64> {
    traj.people
        .iter()
        .flat_map(|(_, vs)| vs.windows(2).map(|w| w[0].distance_to(&w[1]) / 1000.0))
        .collect()
}

/// Distances in km between consecutive visits of each person when both
/// lie inside the map (neither beyond its edge).
pub fn jump_lengths_inside_km(traj: &Trajectories) -> Vec<f64> {
    traj.people
        .iter()
        .flat_map(|(_, vs)| {
            vs.windows(2)
                .filter(|w| !is_outside_place(w[0].place) && !is_outside_place(w[1].place))
                .map(|w| w[0].distance_to(&w[1]) / 1000.0)
        })
        .collect()
}

/// The truth's jump-length law (González et al. 2008): Δr₀ fixed at the
/// published 1.5 km, β and κ fitted by maximum likelihood over every jump
/// of [`TRUTH_JUMP_FIT_MIN_KM`] or more, beyond the map's edge included.
pub fn truth_jump_lengths(traj: &Trajectories) -> Metric {
    let spec = &JUMP_LENGTH;
    let km = jump_lengths_km(traj);
    let min = TRUTH_JUMP_FIT_MIN_KM;
    let Some(f) = fit::fit_truncated_power_law_fixed_shift(&km, JUMP_OFFSET_KM, min) else {
        return Metric::missing(spec, "too few jumps to fit");
    };
    let published = TruncatedPowerLawFit {
        exponent: 1.75,
        cutoff: f64::INFINITY,
        shift: JUMP_OFFSET_KM,
        x_min: min,
        x_max: None,
        n: 0,
        log_likelihood: f64::NAN,
    };
    let tail: Vec<f64> = km.iter().copied().filter(|d| *d >= min).collect();
    let laws = vec![
        law_series("fit", &f, &tail),
        law_series("published", &published, &tail),
    ];
    Metric::judged(
        spec,
        f.exponent,
        format!(
            "kappa {} km, dr0 fixed {JUMP_OFFSET_KM} km; {} jumps of {min} km or more, p99 {:.0} km",
            fmt_scale(f.cutoff),
            f.n,
            fit::quantile(&sorted_finite(tail.iter().copied()), 0.99),
        ),
    )
    .with_plot(ccdf_plot("jump length (km)", &tail, laws))
}

/// Jump-length law (González et al. 2008) fitted by maximum likelihood over
/// [[`JUMP_FIT_MIN_KM`], map diameter].
pub fn jump_lengths(traj: &Trajectories, diameter_m: f64, spec: &Spec) -> Metric {
    let km = jump_lengths_km(traj);
    let x_max = diameter_m / 1000.0;
    if x_max.is_nan() || x_max <= JUMP_FIT_MIN_KM {
        return Metric::missing(spec, "map too small or no positions");
    }
    let Some(f) = fit::fit_shifted_truncated_power_law(&km, JUMP_FIT_MIN_KM, Some(x_max)) else {
        return Metric::missing(spec, "too few jumps to fit");
    };
    let published = TruncatedPowerLawFit {
        exponent: 1.75,
        cutoff: f64::INFINITY,
        shift: 1.5,
        x_min: JUMP_FIT_MIN_KM,
        x_max: Some(x_max),
        n: 0,
        log_likelihood: f64::NAN,
    };
    let tail: Vec<f64> = km
        .iter()
        .copied()
        .filter(|d| *d >= JUMP_FIT_MIN_KM && *d <= x_max)
        .collect();
    let laws = vec![
        law_series("fit", &f, &tail),
        law_series("published", &published, &tail),
    ];
    Metric::judged(
        spec,
        f.exponent,
        format!(
            "dr0 {:.2} km, kappa {} km, fitted over {JUMP_FIT_MIN_KM}-{x_max:.1} km; {} jumps",
            f.shift,
            fmt_scale(f.cutoff),
            f.n
        ),
    )
    .with_plot(ccdf_plot("jump length (km)", &tail, laws))
}

/// Radius of gyration of a set of visits, each counted once, in metres.
pub fn radius_of_gyration_m(visits: &[Visit]) -> f64 {
    if visits.is_empty() {
        return f64::NAN;
    }
    let n = visits.len() as f64;
    let cx = visits.iter().map(|v| v.x_m).sum::<f64>() / n;
    let cy = visits.iter().map(|v| v.y_m).sum::<f64>() / n;
    let ms = visits
        .iter()
        .map(|v| (v.x_m - cx).powi(2) + (v.y_m - cy).powi(2))
        .sum::<f64>()
        / n;
    ms.sqrt()
}

/// Radius of gyration per person, in metres, for people with a visit.
pub fn radius_of_gyration_per_person(traj: &Trajectories) -> Vec<(u64, f64)> {
    traj.people
        .iter()
        .filter(|(_, vs)| !vs.is_empty())
        .map(|(s, vs)| (*s, radius_of_gyration_m(vs)))
        .collect()
}

/// Radii of gyration in km over people (sorted), and the law
/// (rg + rg0)^−β e^(−rg/κ) fitted to the positive ones, shared by the
/// truth's tail metric and the events' median.
struct RadiusOfGyration {
    km: Vec<f64>,
    positive: Vec<f64>,
    median: f64,
    p90: f64,
    fitted: Option<fit::TruncatedPowerLawFit>,
}

impl RadiusOfGyration {
    /// `None` for fewer than 2 people.
    fn of(traj: &Trajectories) -> Option<RadiusOfGyration> {
        let km = sorted_finite(
            radius_of_gyration_per_person(traj)
                .into_iter()
                .map(|(_, r)| r / 1000.0),
        );
        if km.len() < 2 {
            return None;
        }
        let positive: Vec<f64> = km.iter().copied().filter(|r| *r > 0.0).collect();
        let fitted = fit::fit_shifted_truncated_power_law(&positive, 0.0, None);
        Some(RadiusOfGyration {
            median: fit::quantile(&km, 0.5),
            p90: fit::quantile(&km, 0.9),
            km,
            positive,
            fitted,
        })
    }

    /// `detail` with the fit appended (labelled `fit_label`), and the plot
    /// of the distribution with the fitted law.
    fn finish(&self, mut m: Metric, fit_label: &str) -> Metric {
        let mut laws = Vec::new();
        if let Some(f) = &self.fitted {
            laws.push(law_series("fit", f, &self.positive));
            m.detail.push_str(&format!(
                "; {fit_label} exponent {:.2} (published 1.65), rg0 {:.2} km, kappa {} km",
                f.exponent,
                f.shift,
                fmt_scale(f.cutoff)
            ));
        }
        m.with_plot(ccdf_plot("radius of gyration (km)", &self.positive, laws))
    }
}

/// The radius of gyration's right tail (González et al. 2008): p90 / median
/// over people, judged at [`RG_TAIL_RATIO_MIN`] or more, together with a
/// fitted tail: the law (rg + rg0)^−β e^(−rg/κ) fitted by maximum likelihood
/// must have its cutoff κ beyond the p90 (a tail that reaches past the
/// bulk). The median is reported beside it.
pub fn radius_of_gyration_tail(traj: &Trajectories) -> Metric {
    let spec = &RADIUS_OF_GYRATION;
    let Some(rg) = RadiusOfGyration::of(traj) else {
        return Metric::missing(spec, "fewer than 2 people");
    };
    let (median, p90) = (rg.median, rg.p90);
    let detail = format!(
        "median {median:.2} km, p90 {p90:.2} km, {} people",
        rg.km.len()
    );
    let ratio = if median > 0.0 { p90 / median } else { f64::NAN };
    let m = Metric::judged(spec, ratio, detail);
    let verdict = m
        .passed
        .map(|p| p && rg.fitted.as_ref().is_some_and(|f| f.cutoff > p90));
    rg.finish(m.with_verdict(verdict), "tail fit")
}

/// Radius-of-gyration distribution: median in km, judged on "most people
/// below a few km" and a right tail (mean above median).
pub fn radius_of_gyration(traj: &Trajectories, spec: &Spec) -> Metric {
    let Some(rg) = RadiusOfGyration::of(traj) else {
        return Metric::missing(spec, "fewer than 2 people");
    };
    let mean = mean(&rg.km);
    let detail = format!(
        "mean {mean:.2} km, p90 {:.2} km, {} people",
        rg.p90,
        rg.km.len()
    );
    let m = Metric::judged(spec, rg.median, detail);
    let verdict = m.passed.map(|p| p && mean > rg.median);
    rg.finish(m.with_verdict(verdict), "fit")
}

/// Mean number of distinct places seen by the end of each day of the run,
/// over people with at least one visit.
pub fn distinct_places_by_day(
    traj: &Trajectories,
    days: DayRange,
    calendar: &Calendar,
) -> Vec<f64> {
    let n_days = days.len().max(0) as usize;
    let mut totals = vec![0.0; n_days];
    let mut people = 0usize;
    for (_, vs) in &traj.people {
        if vs.is_empty() {
            continue;
        }
        people += 1;
        let mut seen = BTreeSet::new();
        let mut i = 0;
        for (d, total) in totals.iter_mut().enumerate() {
            let day_end = calendar.utc_of_local_midnight(days.first + d as i64 + 1);
            while i < vs.len() && vs[i].start_s < day_end {
                seen.insert(vs[i].place);
                i += 1;
            }
            *total += seen.len() as f64;
        }
    }
    if people > 0 {
        for t in &mut totals {
            *t /= people as f64;
        }
    }
    totals
}

/// Log-log slope of the mean S(t) over days 1…D.
///
/// Days `set_apart` (happening days, whose visits the caller dropped) are
/// left out of the curve: t counts the measured days only.
pub fn distinct_locations(
    traj: &Trajectories,
    days: Option<DayRange>,
    set_apart: &BTreeSet<i64>,
    calendar: &Calendar,
) -> Metric {
    let Some(days) = days.filter(|d| d.measured(set_apart).count() >= 2) else {
        return Metric::missing(&DISTINCT_LOCATIONS, "need at least 2 days");
    };
    let s: Vec<f64> = distinct_places_by_day(traj, days, calendar)
        .into_iter()
        .zip(days.first..)
        .filter(|(_, day)| !set_apart.contains(day))
        .map(|(v, _)| v)
        .collect();
    let pts: Vec<(f64, f64)> = s
        .iter()
        .enumerate()
        .map(|(d, v)| ((d + 1) as f64, *v))
        .collect();
    let Some((slope, icpt)) = fit::loglog_slope(&pts) else {
        return Metric::missing(&DISTINCT_LOCATIONS, "no visits");
    };
    let short = (s.len() as i64) < MIN_MULTI_DAY_RUN;
    let line: Vec<(f64, f64)> = pts
        .iter()
        .map(|(t, _)| (*t, (icpt + slope * t.ln()).exp()))
        .collect();
    let reference = reference_power(&pts, 0.6);
    let m = Metric::judged(
        &DISTINCT_LOCATIONS,
        slope,
        format!(
            "S after {} days: {:.1}{}",
            s.len(),
            s.last().copied().unwrap_or(0.0),
            if short {
                "; run shorter than 14 days, not judged"
            } else {
                ""
            }
        ),
    );
    let verdict = if short { None } else { m.passed };
    m.with_verdict(verdict).with_plot(Plot::LogLog {
        x_label: "day t".into(),
        y_label: "mean distinct places S(t)".into(),
        series: vec![
            Series {
                label: "measured".into(),
                points: pts,
                line: false,
            },
            Series {
                label: "fit".into(),
                points: line,
                line: true,
            },
            Series {
                label: "published t^0.6".into(),
                points: reference,
                line: true,
            },
        ],
    })
}

/// A power law with the given exponent through the first point of a curve.
fn reference_power(pts: &[(f64, f64)], exponent: f64) -> Vec<(f64, f64)> {
    let Some(&(x0, y0)) = pts.first() else {
        return Vec::new();
    };
    pts.iter()
        .map(|(x, _)| (*x, y0 * (x / x0).powf(exponent)))
        .collect()
}

/// Visit counts per place for each person, most visited first; ties go to
/// the lower place id so the order never depends on hashing.
pub fn ranked_visit_counts(visits: &[Visit]) -> Vec<(u64, usize)> {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for v in visits {
        *counts.entry(v.place).or_insert(0) += 1;
    }
    let mut ranked: Vec<(u64, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

/// Mean visit share of the k-th most visited place, k = 1, 2, …, averaged
/// over the people who have at least k places, with that number of people.
pub fn zipf_curve(traj: &Trajectories) -> Vec<(f64, usize)> {
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for (_, vs) in &traj.people {
        let ranked = ranked_visit_counts(vs);
        let total = vs.len() as f64;
        for (k, (_, c)) in ranked.iter().enumerate() {
            if sums.len() <= k {
                sums.push((0.0, 0));
            }
            sums[k].0 += *c as f64 / total;
            sums[k].1 += 1;
        }
    }
    sums.into_iter().map(|(s, n)| (s / n as f64, n)).collect()
}

/// Zipf exponent ζ of the mean rank–frequency curve.
///
/// Ranks are used up to the deepest rank still reached by at least half of
/// the people with two or more places, so a few very mobile people do not
/// set the tail.
pub fn zipf_visitation(traj: &Trajectories) -> Metric {
    let curve = zipf_curve(traj);
    let Some(&(_, base)) = curve.get(1) else {
        return Metric::missing(&ZIPF, "nobody visits two places");
    };
    let k_max = curve
        .iter()
        .take_while(|(_, n)| 2 * n >= base)
        .count()
        .max(2);
    let pts: Vec<(f64, f64)> = curve
        .iter()
        .take(k_max)
        .enumerate()
        .map(|(k, (f, _))| ((k + 1) as f64, *f))
        .collect();
    let Some((slope, icpt)) = fit::loglog_slope(&pts) else {
        return Metric::missing(&ZIPF, "degenerate rank-frequency curve");
    };
    let shown: Vec<(f64, f64)> = curve
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n >= 5 || curve.len() < 50)
        .map(|(k, (f, _))| ((k + 1) as f64, *f))
        .collect();
    let line: Vec<(f64, f64)> = pts
        .iter()
        .map(|(k, _)| (*k, (icpt + slope * k.ln()).exp()))
        .collect();
    let reference = reference_power(&pts, -1.2);
    Metric::judged(
        &ZIPF,
        -slope,
        format!("ranks 1-{k_max} fitted; {base} people with 2+ places"),
    )
    .with_plot(Plot::LogLog {
        x_label: "rank k".into(),
        y_label: "mean visit share f_k".into(),
        series: vec![
            Series {
                label: "measured".into(),
                points: shown,
                line: false,
            },
            Series {
                label: "fit".into(),
                points: line,
                line: true,
            },
            Series {
                label: "published k^-1.2".into(),
                points: reference,
                line: true,
            },
        ],
    })
}

/// For each number of distinct places seen so far, S: (steps, steps to a
/// new place). A step is every visit after a person's first.
pub fn exploration_counts(traj: &Trajectories) -> BTreeMap<usize, (u64, u64)> {
    let mut counts: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
    for (_, vs) in &traj.people {
        let mut seen = BTreeSet::new();
        for (i, v) in vs.iter().enumerate() {
            let new = seen.insert(v.place);
            if i == 0 {
                continue;
            }
            let e = counts.entry(seen.len() - new as usize).or_insert((0, 0));
            e.0 += 1;
            e.1 += new as u64;
        }
    }
    counts
}

/// Fits P(new | S) = min(1, ρ S^−γ) by maximum likelihood on the Bernoulli
/// outcomes; returns (ρ, γ).
///
/// Steps taken while a person knows a single place are left out when every
/// one of them went somewhere new: with consecutive visits to one place
/// merged, that step cannot be a return, and its certainty says nothing
/// about the exploration law.
pub fn fit_exploration(counts: &BTreeMap<usize, (u64, u64)>) -> Option<(f64, f64)> {
    let forced = counts.get(&1).is_some_and(|(n, k)| n == k);
    let counts: BTreeMap<usize, (u64, u64)> = counts
        .iter()
        .filter(|(s, _)| !(forced && **s == 1))
        .map(|(s, c)| (*s, *c))
        .collect();
    let total: u64 = counts.values().map(|c| c.0).sum();
    let novel: u64 = counts.values().map(|c| c.1).sum();
    if total < fit::MIN_TAIL as u64 || novel == 0 || counts.len() < 2 {
        return None;
    }
    let rows: Vec<(f64, f64, f64)> = counts
        .iter()
        .map(|(s, (n, k))| ((*s as f64).ln(), *n as f64, *k as f64))
        .collect();
    let neg_ll = |p: &[f64]| {
        let (ln_rho, gamma) = (p[0], p[1]);
        rows.iter()
            .map(|(ln_s, n, k)| {
                let q = (ln_rho - gamma * ln_s).exp().clamp(1e-12, 1.0 - 1e-12);
                -(k * q.ln() + (n - k) * (1.0 - q).ln())
            })
            .sum::<f64>()
    };
    let (p, _) = fit::nelder_mead(&neg_ll, &[(0.6f64).ln(), 0.2], &[0.5, 0.2], 4000, 1e-12);
    Some((p[0].exp(), p[1]))
}

/// Exploration law P(new) = ρ S^−γ.
pub fn exploration(traj: &Trajectories) -> Metric {
    let counts = exploration_counts(traj);
    let Some((rho, gamma)) = fit_exploration(&counts) else {
        return Metric::missing(&EXPLORATION, "too few visits");
    };
    let measured: Vec<(f64, f64)> = counts
        .iter()
        .filter(|(_, (n, k))| *n >= 10 && *k > 0)
        .map(|(s, (n, k))| (*s as f64, *k as f64 / *n as f64))
        .collect();
    let fitted = measured
        .iter()
        .map(|(s, _)| (*s, (rho * s.powf(-gamma)).min(1.0)))
        .collect();
    let published = measured
        .iter()
        .map(|(s, _)| (*s, (0.6 * s.powf(-0.21)).min(1.0)))
        .collect();
    let steps: u64 = counts.values().map(|c| c.0).sum();
    Metric::judged(&EXPLORATION, gamma, format!("rho {rho:.3}; {steps} steps")).with_plot(
        Plot::LogLog {
            x_label: "distinct places so far S".into(),
            y_label: "P(next place is new)".into(),
            series: vec![
                Series {
                    label: "measured".into(),
                    points: measured,
                    line: false,
                },
                Series {
                    label: "fit".into(),
                    points: fitted,
                    line: true,
                },
                Series {
                    label: "published 0.6 S^-0.21".into(),
                    points: published,
                    line: true,
                },
            ],
        },
    )
}

/// Shannon entropy of a person's visit distribution divided by ln(number of
/// distinct places); `None` for fewer than two places.
pub fn normalised_entropy(visits: &[Visit]) -> Option<f64> {
    let ranked = ranked_visit_counts(visits);
    if ranked.len() < 2 {
        return None;
    }
    let total = visits.len() as f64;
    let h: f64 = ranked
        .iter()
        .map(|(_, c)| {
            let p = *c as f64 / total;
            -p * p.ln()
        })
        .sum();
    Some(h / (ranked.len() as f64).ln())
}

/// Mean normalised uncorrelated entropy over people with two or more places.
///
/// Judged on runs of 4 weeks or more only, like familiar locations: the
/// published value comes from months of data, and the normalised entropy
/// of a short window is higher (a week has few visits per place: on the
/// default scenario 0.78 at 7 days against 0.67 at 28), so a shorter run
/// reports it without a verdict.
pub fn uncorrelated_entropy(traj: &Trajectories, days: Option<DayRange>) -> Metric {
    let values: Vec<f64> = traj
        .people
        .iter()
        .filter_map(|(_, vs)| normalised_entropy(vs))
        .collect();
    if values.is_empty() {
        return Metric::missing(&ENTROPY, "nobody visits two places");
    }
    let run_days = days.map_or(0, |d| d.len());
    let full = run_days >= FAMILIAR_WINDOW_DAYS;
    let detail = if full {
        format!("{} people", values.len())
    } else {
        format!(
            "{} people; run of {run_days} days is shorter than 4 weeks; not judged",
            values.len()
        )
    };
    let m = Metric::judged(&ENTROPY, mean(&values), detail).with_plot(histogram_plot(
        "normalised entropy",
        &values,
        0.0,
        1.0,
        10,
    ));
    let verdict = if full { m.passed } else { None };
    m.with_verdict(verdict)
}

/// s₂ = r_g of the visits to a person's two most visited places over r_g of
/// all visits (Pappalardo et al. 2015); `None` when r_g is zero.
pub fn s2(visits: &[Visit]) -> Option<f64> {
    let rg = radius_of_gyration_m(visits);
    if rg.is_nan() || rg <= 0.0 {
        return None;
    }
    let ranked = ranked_visit_counts(visits);
    let top: BTreeSet<u64> = ranked.iter().take(2).map(|(p, _)| *p).collect();
    let sub: Vec<Visit> = visits
        .iter()
        .filter(|v| top.contains(&v.place))
        .copied()
        .collect();
    Some(radius_of_gyration_m(&sub) / rg)
}

/// Share of returners (s₂ > 0.5); passes when both returners and explorers
/// make up at least 5% each. The detail gives Sarle's bimodality coefficient.
pub fn returners_explorers(traj: &Trajectories) -> Metric {
    let values: Vec<f64> = traj.people.iter().filter_map(|(_, vs)| s2(vs)).collect();
    if values.is_empty() {
        return Metric::missing(&RETURNERS, "nobody moves");
    }
    let share = values.iter().filter(|v| **v > 0.5).count() as f64 / values.len() as f64;
    let bc = bimodality_coefficient(&values)
        .map(|b| format!("{b:.2} (above 0.555 suggests bimodal)"))
        .unwrap_or_else(|| "n/a".into());
    Metric::judged(
        &RETURNERS,
        share,
        format!("{} people; bimodality coefficient {bc}", values.len()),
    )
    .with_plot(histogram_plot("s2", &values, 0.0, 1.0, 10))
}

/// Sarle's bimodality coefficient with the small-sample correction.
pub fn bimodality_coefficient(values: &[f64]) -> Option<f64> {
    let n = values.len() as f64;
    if n < 4.0 {
        return None;
    }
    let m = mean(values);
    let m2 = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
    if m2.is_nan() || m2 <= 0.0 {
        return None;
    }
    let m3 = values.iter().map(|v| (v - m).powi(3)).sum::<f64>() / n;
    let m4 = values.iter().map(|v| (v - m).powi(4)).sum::<f64>() / n;
    let g = m3 / m2.powf(1.5);
    let k = m4 / (m2 * m2) - 3.0;
    Some((g * g + 1.0) / (k + 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0))))
}

/// Number of places a person visited at least twice, each visit lasting at
/// least [`FAMILIAR_MIN_VISIT_S`], among visits starting in local days
/// `[from_day, to_day]`.
pub fn familiar_count(visits: &[Visit], from_day: i64, to_day: i64, calendar: &Calendar) -> usize {
    let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
    for v in visits {
        let d = local_day(v.start_s, calendar);
        if d >= from_day && d <= to_day && v.end_s - v.start_s >= FAMILIAR_MIN_VISIT_S {
            *counts.entry(v.place).or_insert(0) += 1;
        }
    }
    counts.values().filter(|c| **c >= 2).count()
}

/// Familiar locations (after Alessandretti et al. 2018): places visited at
/// least twice, for at least 10 minutes each time, within a sliding 4-week
/// window. The value is the mean over people for the run's last window;
/// the detail lists the mean for every window ending on a seventh day, to
/// show whether the number is stable. Runs shorter than 4 weeks use the
/// whole run and are not judged.
pub fn familiar_locations(
    traj: &Trajectories,
    days: Option<DayRange>,
    calendar: &Calendar,
) -> Metric {
    let Some(days) = days else {
        return Metric::missing(&FAMILIAR, "no days");
    };
    let people: Vec<&Vec<Visit>> = traj
        .people
        .iter()
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .collect();
    if people.is_empty() {
        return Metric::missing(&FAMILIAR, "no visits");
    }
    let window_mean = |end: i64| {
        let from = (end - FAMILIAR_WINDOW_DAYS + 1).max(days.first);
        let counts: Vec<f64> = people
            .iter()
            .map(|v| familiar_count(v, from, end, calendar) as f64)
            .collect();
        mean(&counts)
    };
    let value = window_mean(days.last);
    let full = days.len() >= FAMILIAR_WINDOW_DAYS;
    let mut history = Vec::new();
    let mut end = days.first + FAMILIAR_WINDOW_DAYS - 1;
    while end <= days.last {
        history.push(format!("{:.1}", window_mean(end)));
        end += 7;
    }
    let detail = if full {
        format!("weekly windows: {}", history.join(", "))
    } else {
        format!(
            "run of {} days is shorter than the 4-week window; not judged",
            days.len()
        )
    };
    let m = Metric::judged(&FAMILIAR, value, detail);
    let verdict = if full { m.passed } else { None };
    m.with_verdict(verdict)
}

/// Each person's home: the `Home` place with the longest total stay.
pub fn home_of(visits: &[Visit]) -> Option<Visit> {
    let mut time: BTreeMap<u64, (i64, Visit)> = BTreeMap::new();
    for v in visits.iter().filter(|v| v.activity == Activity::Home) {
        let e = time.entry(v.place).or_insert((0, *v));
        e.0 += v.end_s - v.start_s;
    }
    time.into_values()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.place.cmp(&a.1.place)))
        .map(|(_, v)| v)
}

/// (distance from home in metres, number of visits) for every person and
/// every place other than their home.
pub fn visitor_pairs(traj: &Trajectories) -> Vec<(f64, u64)> {
    let mut pairs = Vec::new();
    for (_, vs) in &traj.people {
        let Some(home) = home_of(vs) else { continue };
        for (place, count) in ranked_visit_counts(vs) {
            if place == home.place {
                continue;
            }
            if let Some(v) = vs.iter().find(|v| v.place == place) {
                pairs.push((home.distance_to(v), count as u64));
            }
        }
    }
    pairs
}

/// Visitation-law exponent η of ρ(r, f) ∝ (r f)^−η (Schläpfer et al. 2021).
///
/// Method: the law factorises, so at any fixed frequency the visitors of a
/// place live at distances whose density per unit area falls as r^−η; per
/// unit distance (annulus 2πr dr) that is r^(1−η). Pooling all
/// (visitor, place) pairs, the distances from home therefore follow a power
/// law with exponent η − 1, fitted by MLE bounded to
/// [[`VISITATION_MIN_R_M`], half the map diameter, at least
/// [`VISITATION_MIN_R_MAX_M`]]. The value is that
/// exponent plus one. The detail gives a second estimate from the visit
/// counts, whose distribution at fixed r falls as f^−η (discrete MLE).
/// Uniform population around each place is assumed, and the edge of the map
/// truncates annuli; both bias η on small maps.
pub fn visitation_law(traj: &Trajectories, diameter_m: f64) -> Metric {
    let pairs = visitor_pairs(traj);
    let r_max = (diameter_m / 2.0).max(VISITATION_MIN_R_MAX_M);
    let distances: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let Some(f) = fit::fit_bounded_power_law(&distances, VISITATION_MIN_R_M, r_max) else {
        return Metric::missing(&VISITATION_LAW, "too few visitor-place pairs in range");
    };
    let eta = f.alpha + 1.0;
    let freqs: Vec<u64> = pairs.iter().map(|p| p.1).collect();
    let eta_f = fit::fit_power_law_discrete(&freqs)
        .map(|p| format!("{:.2} (from k >= {})", p.alpha, p.x_min))
        .unwrap_or_else(|| "n/a".into());
    let km: Vec<f64> = distances
        .iter()
        .filter(|d| **d >= VISITATION_MIN_R_M && **d <= r_max)
        .map(|d| d / 1000.0)
        .collect();
    Metric::judged(
        &VISITATION_LAW,
        eta,
        format!(
            "{} pairs within {:.1}-{:.1} km; eta from visit counts {eta_f}",
            f.n_tail,
            VISITATION_MIN_R_M / 1000.0,
            r_max / 1000.0
        ),
    )
    .with_plot(ccdf_plot(
        "visitor's distance from home (km)",
        &km,
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::survey::*;
    use super::*;
    use crate::validate::{DAY_S, TripMode};

    const H: u64 = 1;
    const W: u64 = 2;
    const S: u64 = 3;
    const G: u64 = 4;
    /// 2026-03-02, a Monday, as a local day number.
    const MONDAY: i64 = 20_514;
    /// Central European Time.
    const OFFSET: i64 = 3600;

    /// Local time of these records: UTC+1 throughout.
    fn local() -> Calendar {
        Calendar::fixed_offset(OFFSET)
    }

    fn position(place: u64) -> (f64, f64) {
        match place {
            W => (4000.0, 0.0),
            S => (0.0, 3000.0),
            G => (4000.0, 3000.0),
            _ => (0.0, 0.0),
        }
    }

    fn utc(day: i64, hour: i64) -> i64 {
        (MONDAY + day) * DAY_S + hour * 3600 - OFFSET
    }

    /// Person 1 (age 40): a working week with a shop trip on Tuesday and
    /// Saturday, the gym on Thursday, home all Sunday. Person 2 (age 85)
    /// stays home. Every home stay is split at midnight, as a simulator
    /// writing one day at a time would.
    fn week() -> (Vec<PersonRecord>, Vec<StayRecord>, Vec<TripRecord>) {
        let days: [&[(u64, i64, i64)]; 7] = [
            &[(H, 0, 8), (W, 8, 17), (H, 17, 24)],
            &[(H, 0, 8), (W, 8, 17), (S, 17, 18), (H, 18, 24)],
            &[(H, 0, 8), (W, 8, 17), (H, 17, 24)],
            &[(H, 0, 8), (W, 8, 17), (G, 17, 19), (H, 19, 24)],
            &[(H, 0, 8), (W, 8, 17), (H, 17, 24)],
            &[(H, 0, 10), (S, 10, 11), (H, 11, 24)],
            &[(H, 0, 24)],
        ];
        let activity = |p| match p {
            H => Activity::Home,
            W => Activity::Work,
            S => Activity::Shopping,
            _ => Activity::Leisure,
        };
        let mut stays = Vec::new();
        let mut trips = Vec::new();
        for (d, list) in days.iter().enumerate() {
            for (i, &(place, from, to)) in list.iter().enumerate() {
                let (x, y) = position(place);
                stays.push(StayRecord {
                    subscriber: 1,
                    start_s: utc(d as i64, from),
                    end_s: utc(d as i64, to),
                    place,
                    x_m: x,
                    y_m: y,
                    activity: activity(place),
                });
                if i > 0 {
                    let prev = list[i - 1].0;
                    let (px, py) = position(prev);
                    trips.push(TripRecord {
                        subscriber: 1,
                        start_s: utc(d as i64, from),
                        end_s: utc(d as i64, from) + 1800,
                        mode: if i % 2 == 1 {
                            TripMode::CarDriver
                        } else {
                            TripMode::Walk
                        },
                        distance_m: (x - px).hypot(y - py),
                        from_activity: activity(prev),
                        to_activity: activity(place),
                    });
                }
            }
            stays.push(StayRecord {
                subscriber: 2,
                start_s: utc(d as i64, 0),
                end_s: utc(d as i64, 24),
                place: 99,
                x_m: 500.0,
                y_m: 500.0,
                activity: Activity::Home,
            });
        }
        let persons = vec![
            PersonRecord {
                subscriber: 1,
                age: 40,
                resident: true,
            },
            PersonRecord {
                subscriber: 2,
                age: 85,
                resident: true,
            },
            // A roamer's absence from the trips must not count.
            PersonRecord {
                subscriber: 3,
                age: 30,
                resident: false,
            },
        ];
        (persons, stays, trips)
    }

    fn person_one(traj: &Trajectories) -> &[Visit] {
        &traj.people[0].1
    }

    #[test]
    fn week_merges_into_the_expected_visits() {
        let (_, stays, _) = week();
        let traj = Trajectories::from_stays(&stays);
        let places: Vec<u64> = person_one(&traj).iter().map(|v| v.place).collect();
        assert_eq!(places, vec![H, W, H, W, S, H, W, H, W, G, H, W, H, S, H]);
        // Person 2's seven home stays are one visit.
        assert_eq!(traj.people[1].1.len(), 1);
        let days = DayRange::from_stays(&stays, &local()).expect("days");
        assert_eq!(
            days,
            DayRange {
                first: MONDAY,
                last: MONDAY + 6
            }
        );
    }

    #[test]
    fn truth_metrics_speak_plain_words() {
        let (persons, stays, trips) = week();
        let config = Config {
            calendar: local(),
            ..Config::default()
        };
        let metrics = truth_metrics(&persons, &stays, &trips, &config);
        assert!(metrics.iter().any(|m| m.id == MODE_SPECS[0].id));
        // Names, details, chart labels and the JSON's own keys: everything
        // the terminal, the report and the JSON show.
        let json = serde_json::to_string(&metrics).expect("serialise");
        let leaked = crate::validate::report::leaked_rust_names(&json);
        assert!(leaked.is_empty(), "Rust names in the report: {leaked:?}");
    }

    #[test]
    fn week_radius_of_gyration_entropy_and_s2() {
        let (_, stays, _) = week();
        let traj = Trajectories::from_stays(&stays);
        // Visits: home ×7 at (0,0), work ×5 at (4,0) km, shop ×2 at (0,3) km,
        // gym ×1 at (4,3) km. Centre of mass (1.6, 0.6) km; mean squared
        // distance (7·2.92 + 5·6.12 + 2·8.32 + 11.52)/15 = 5.28 km².
        let rg = radius_of_gyration_m(person_one(&traj));
        assert!((rg - 5_280_000f64.sqrt()).abs() < 1e-6, "{rg}");
        assert_eq!(radius_of_gyration_m(&traj.people[1].1), 0.0);
        // Entropy of (7, 5, 2, 1)/15 over ln 4.
        let h = normalised_entropy(person_one(&traj)).expect("entropy");
        assert!((h - 0.84474).abs() < 1e-4, "{h}");
        assert_eq!(normalised_entropy(&traj.people[1].1), None);
        // Top two places: home ×7 and work ×5, 4 km apart:
        // rg² = 7·5/12² · 16 km², so s2 = sqrt(3.8889)/sqrt(5.28).
        let s = s2(person_one(&traj)).expect("s2");
        assert!(
            (s - (35.0 / 144.0 * 16.0f64 / 5.28).sqrt()).abs() < 1e-9,
            "{s}"
        );
        assert!((s - 0.8582).abs() < 1e-4);
        let m = uncorrelated_entropy(&traj, None);
        assert_eq!(m.passed, None, "a run shorter than 4 weeks is not judged");
        let four_weeks = DayRange {
            first: MONDAY,
            last: MONDAY + FAMILIAR_WINDOW_DAYS - 1,
        };
        let m = uncorrelated_entropy(&traj, Some(four_weeks));
        assert_eq!(m.passed, Some(false));
    }

    #[test]
    fn week_distinct_places_zipf_and_exploration() {
        let (_, stays, _) = week();
        let traj = Trajectories::from_stays(&stays);
        let days = DayRange {
            first: MONDAY,
            last: MONDAY + 6,
        };
        let only_one = Trajectories {
            people: vec![traj.people[0].clone()],
        };
        let s = distinct_places_by_day(&only_one, days, &local());
        assert_eq!(s, vec![2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0]);
        // Person 2 adds one place on every day to the mean.
        let both = distinct_places_by_day(&traj, days, &local());
        assert_eq!(both, vec![1.5, 2.0, 2.0, 2.5, 2.5, 2.5, 2.5]);
        // A week is too short to judge S(t).
        let m = distinct_locations(&traj, Some(days), &BTreeSet::new(), &local());
        assert_eq!(m.passed, None);
        assert!(m.value > 0.0);

        let curve = zipf_curve(&only_one);
        let shares: Vec<f64> = curve.iter().map(|c| c.0).collect();
        assert_eq!(shares, vec![7.0 / 15.0, 5.0 / 15.0, 2.0 / 15.0, 1.0 / 15.0]);
        // Least-squares slope of ln f_k on ln k over k = 1..4, by hand: −1.3820.
        let z = zipf_visitation(&only_one);
        assert!((z.value - 1.3820).abs() < 1e-3, "{}", z.value);
        assert_eq!(z.passed, Some(false));

        let counts = exploration_counts(&only_one);
        let expect: BTreeMap<usize, (u64, u64)> =
            [(1, (1, 1)), (2, (3, 1)), (3, (5, 1)), (4, (5, 0))]
                .into_iter()
                .collect();
        assert_eq!(counts, expect);
    }

    #[test]
    fn week_survey_figures() {
        let (persons, stays, trips) = week();
        let days = DayRange::from_stays(&stays, &local());
        let [all, weekday, sunday] =
            leaving_home(&persons, &trips, days, &BTreeSet::new(), &local());
        assert_eq!(all.value, 6.0 / 14.0);
        assert_eq!(weekday.value, 5.0 / 10.0);
        assert_eq!(sunday.value, 0.0);
        let [t_all, t_mid, t_old] =
            trips_per_person_day(&persons, &trips, days, &BTreeSet::new(), &local());
        assert_eq!(t_all.value, 14.0 / 14.0);
        assert_eq!(t_mid.value, 2.0);
        assert_eq!(t_old.value, 0.0);
        assert_eq!(
            travel_minutes(&persons, &trips, days, &BTreeSet::new(), &local()).value,
            30.0
        );
        let modes = mode_shares(&persons, &trips);
        // Odd-numbered legs drive (8 of 14 trips), even-numbered ones walk.
        assert_eq!(modes[2].value, 8.0 / 14.0);
        assert_eq!(modes[0].value, 6.0 / 14.0);
        assert!(modes[0].plot.is_some() && modes[1].plot.is_none());
        // Commutes: five home→work trips of 4 km.
        let c = commute_distance(&trips);
        assert_eq!(c.value, 4.0);
        assert_eq!(c.passed, Some(false));
    }

    #[test]
    fn a_trip_home_after_the_last_midnight_adds_no_day() {
        let (persons, mut stays, trips) = week();
        // Back home half an hour after the run ended: a stay that begins on
        // the day after the run.
        stays.push(StayRecord {
            start_s: utc(7, 0) + 1800,
            end_s: utc(7, 0) + 1800,
            ..stays[stays.len() - 1]
        });
        let from_data = DayRange::from_stays(&stays, &local()).expect("days");
        assert_eq!(from_data.len(), 8);
        let period = DayRange::of_period(utc(0, 0), utc(7, 0), &local());
        assert_eq!(
            period,
            DayRange {
                first: MONDAY,
                last: MONDAY + 6
            }
        );
        let [all, weekday, _] =
            leaving_home(&persons, &trips, Some(period), &BTreeSet::new(), &local());
        assert_eq!(all.value, 6.0 / 14.0);
        assert_eq!(weekday.value, 5.0 / 10.0);
        let config = Config {
            calendar: local(),
            period: Some(period),
            ..Config::default()
        };
        let metrics = truth_metrics(&persons, &stays, &trips, &config);
        let trips_per_day = metrics
            .iter()
            .find(|m| m.id == "truth.trips_per_day.all")
            .expect("measured");
        assert_eq!(trips_per_day.value, 1.0);
    }

    #[test]
    fn week_familiar_locations_and_home() {
        let (_, stays, _) = week();
        let traj = Trajectories::from_stays(&stays);
        // Home, work and shop are visited twice or more; the gym once.
        assert_eq!(
            familiar_count(person_one(&traj), MONDAY, MONDAY + 6, &local()),
            3
        );
        let m = familiar_locations(&traj, DayRange::from_stays(&stays, &local()), &local());
        assert_eq!(m.value, 1.5);
        assert_eq!(m.passed, None);
        assert_eq!(home_of(person_one(&traj)).map(|v| v.place), Some(H));
        let mut pairs = visitor_pairs(&traj);
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(pairs, vec![(3000.0, 2), (4000.0, 5), (5000.0, 1)]);
    }

    #[test]
    fn week_motifs() {
        let (_, stays, _) = week();
        let m = motifs::daily_motifs(&Trajectories::from_stays(&stays), &local());
        assert_eq!(m.value, 1.0);
        // Person 1: four 2-cycles, two 3-cycles, one home day; person 2: 7 home days.
        assert!(
            m.detail.starts_with("14 person-days, 3 distinct motifs"),
            "{}",
            m.detail
        );
        let Some(Plot::Bars { measured, .. }) = &m.plot else {
            panic!("motif chart missing");
        };
        assert_eq!(&measured[..3], &[8.0 / 14.0, 4.0 / 14.0, 2.0 / 14.0]);
    }

    #[test]
    fn all_truth_metrics_run_on_the_week_and_on_nothing() {
        let (persons, stays, trips) = week();
        let config = Config {
            calendar: local(),
            ..Config::default()
        };
        let metrics = truth_metrics(&persons, &stays, &trips, &config);
        let mut ids: Vec<&str> = metrics.iter().map(|m| m.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "metric ids must be unique");
        let mut shuffled = stays.clone();
        shuffled.reverse();
        let again = truth_metrics(&persons, &shuffled, &trips, &config);
        let text = |m: &[Metric]| serde_json::to_string(m).expect("serialise");
        assert_eq!(text(&metrics), text(&again));
        let empty = truth_metrics(&[], &[], &[], &config);
        assert_eq!(empty.len(), n);
        assert!(empty.iter().all(|m| m.passed.is_none()));
    }
}

#[cfg(test)]
mod epr_tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    /// Visits of people following exploration and preferential return with
    /// P(new) = ρ S^−γ, one visit per hour.
    fn epr(people: u64, steps: usize, rho: f64, gamma: f64, seed: u64) -> Trajectories {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut out = Vec::new();
        for sub in 0..people {
            let mut counts: Vec<u64> = vec![1];
            let mut seq = vec![0u64];
            for _ in 1..steps {
                let s = counts.len() as f64;
                let explore = rng.random_bool((rho * s.powf(-gamma)).min(1.0));
                let place = if explore {
                    counts.push(0);
                    counts.len() - 1
                } else {
                    let total: u64 = counts.iter().sum();
                    let mut r = rng.random_range(0..total);
                    let mut k = 0;
                    while r >= counts[k] {
                        r -= counts[k];
                        k += 1;
                    }
                    k
                };
                counts[place] += 1;
                seq.push(place as u64);
            }
            let visits = seq
                .iter()
                .enumerate()
                .map(|(i, &p)| Visit {
                    place: p,
                    start_s: i as i64 * 3600,
                    end_s: i as i64 * 3600 + 3600,
                    x_m: p as f64 * 100.0,
                    y_m: 0.0,
                    activity: Activity::Other,
                })
                .collect();
            // Consecutive repeats are kept: each step is a visit here.
            out.push((sub, visits));
        }
        Trajectories { people: out }
    }

    #[test]
    fn exploration_fit_recovers_epr_parameters() {
        let traj = epr(1000, 300, 0.6, 0.21, 5);
        let (rho, gamma) = fit_exploration(&exploration_counts(&traj)).expect("fit");
        assert!((rho - 0.6).abs() < 0.03, "rho {rho}");
        assert!((gamma - 0.21).abs() < 0.02, "gamma {gamma}");
        let m = exploration(&traj);
        assert_eq!(m.passed, Some(true));
    }
}
