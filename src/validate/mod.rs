//! Realism metrics: how a synthetic dataset compares with the published laws
//! of human mobility and phone activity.
//!
//! The module owns the plain record types it measures ([`StayRecord`],
//! [`TripRecord`], [`PersonRecord`], [`EventRecord`]), one function per
//! metric, the fitters behind them ([`fit`]) and the HTML and terminal
//! reports ([`report`]). Metric code does no I/O: callers load the records
//! and pass slices.
//!
//! Every result is deterministic. Sampling uses a seeded `Pcg64Mcg`, and no
//! result depends on hash-map iteration order.
//!
//! Local time: days, hours and half-hour slots are those of the run's
//! [`Calendar`], the one the generator partitions its output by, rebuilt
//! from the dataset's manifest; across a daylight-saving change the days
//! are 23 or 25 hours long, as the generator's are. Weekday metrics count
//! Sundays by the date; holidays are not told apart from other weekdays.

mod charts;
pub mod dataset;
pub mod event_log;
pub mod fit;
pub mod mapview;
pub mod mobility;
pub mod motifs;
pub mod network;
pub mod report;
pub mod simulated;
pub mod survey;

use serde::Serialize;

pub use crate::calendar::Calendar;
use std::collections::{BTreeMap, BTreeSet};

pub use event_log::event_metrics;
pub use mobility::truth_metrics;

/// Seconds in a day.
pub const DAY_S: i64 = 86_400;

pub use crate::days::{Activity, TripMode};
pub use crate::events::EventType;

/// One ground-truth stay. Times are UTC seconds; x/y are metres in a local
/// planar projection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StayRecord {
    pub subscriber: u64,
    pub start_s: i64,
    pub end_s: i64,
    pub place: u64,
    pub x_m: f64,
    pub y_m: f64,
    pub activity: Activity,
}

/// One ground-truth trip. Times are UTC seconds; distance in metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TripRecord {
    pub subscriber: u64,
    pub start_s: i64,
    pub end_s: i64,
    pub mode: TripMode,
    pub distance_m: f64,
    pub from_activity: Activity,
    pub to_activity: Activity,
}

/// Demographics needed by the survey-based metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PersonRecord {
    pub subscriber: u64,
    pub age: u8,
    /// False for inbound roamers, who are not part of a travel survey.
    pub resident: bool,
}

/// One observable network event, located at its serving cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EventRecord {
    pub subscriber: u64,
    pub time_s: i64,
    pub kind: EventType,
    pub cell: u64,
    pub cell_x_m: f64,
    pub cell_y_m: f64,
}

/// Settings shared by all metrics.
#[derive(Debug, Clone)]
pub struct Config {
    /// The run's local days and time zone.
    pub calendar: Calendar,
    /// Seed for sampled metrics (unicity).
    pub seed: u64,
    /// Largest distance the map allows, in metres. `None` takes the diagonal
    /// of the bounding box of the observed positions.
    pub map_diameter_m: Option<f64>,
    /// Subscribers sampled for the unicity test.
    pub unicity_sample: usize,
    /// The local days of the run, when known (a dataset's manifest says);
    /// otherwise they are taken from the data. The data alone can overstate
    /// them: a trip home that ends after the run's last midnight leaves a
    /// stay that begins on the day after.
    pub period: Option<DayRange>,
    /// Local days of the period that are not measured (the days a
    /// happening touches, or the ordinary days when the happening days are
    /// measured). The caller drops their rows before the metrics see them;
    /// per-day metrics leave them out of their denominators too.
    pub set_apart: BTreeSet<i64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            calendar: Calendar::fixed_offset(0),
            seed: 0x6d6f_6273_796e_7468,
            map_diameter_m: None,
            unicity_sample: 2_000,
            period: None,
            set_apart: BTreeSet::new(),
        }
    }
}

/// One measured metric, judged against its published band.
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// Stable identifier, e.g. `truth.trips_per_day`.
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// Measured value; NaN when the data cannot support the metric.
    pub value: f64,
    /// Inclusive band a realistic dataset lands in.
    pub band: Option<(f64, f64)>,
    /// The published value, as a sentence fragment.
    pub published: &'static str,
    /// Where the published value comes from.
    pub source: &'static str,
    /// `None` when the metric was not judged (no data, too short a run, or
    /// no band).
    pub passed: Option<bool>,
    /// Supporting numbers and any caveat.
    pub detail: String,
    /// The distribution behind the value, for the report.
    pub plot: Option<Plot>,
}

/// Static description of a metric: what it is and what it should be.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub id: &'static str,
    pub name: &'static str,
    pub band: Option<(f64, f64)>,
    pub published: &'static str,
    pub source: &'static str,
}

impl Metric {
    /// A metric judged by whether `value` lies inside the spec's band.
    pub fn judged(spec: &Spec, value: f64, detail: String) -> Metric {
        let passed = match spec.band {
            Some((lo, hi)) if value.is_finite() => Some(value >= lo && value <= hi),
            _ => None,
        };
        Metric {
            id: spec.id,
            name: spec.name,
            value,
            band: spec.band,
            published: spec.published,
            source: spec.source,
            passed,
            detail,
            plot: None,
        }
    }

    /// A metric whose data are missing or insufficient.
    pub fn missing(spec: &Spec, why: &str) -> Metric {
        let mut m = Metric::judged(spec, f64::NAN, why.to_string());
        m.passed = None;
        m
    }

    /// Attaches a plot.
    pub fn with_plot(mut self, plot: Plot) -> Metric {
        self.plot = Some(plot);
        self
    }

    /// Overrides the verdict, for metrics judged on shape rather than a band.
    pub fn with_verdict(mut self, passed: Option<bool>) -> Metric {
        self.passed = passed;
        self
    }
}

/// Keeps the metrics named by `patterns`: an exact id
/// (`truth.zipf_zeta`) or a prefix ending in a dot (`truth.mode_share.`).
/// A pattern that matches nothing is an error naming it, so a typo cannot
/// silently judge fewer metrics.
pub fn select_metrics(metrics: Vec<Metric>, patterns: &[String]) -> Result<Vec<Metric>, String> {
    let matches = |p: &str, id: &str| id == p || (p.ends_with('.') && id.starts_with(p));
    if let Some(p) = patterns
        .iter()
        .find(|p| !metrics.iter().any(|m| matches(p, m.id)))
    {
        return Err(format!(
            "`{p}` names no measured metric (use an id such as `truth.zipf_zeta` or a prefix such as `truth.mode_share.`)"
        ));
    }
    Ok(metrics
        .into_iter()
        .filter(|m| patterns.iter().any(|p| matches(p, m.id)))
        .collect())
}

/// A curve for a log-log chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Drawn as a line (a fitted or published law) rather than as markers.
    pub line: bool,
}

/// The distribution behind a metric. In the JSON output its kind is a
/// field, `"kind": "log_log"` or `"kind": "bars"`, beside the others.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plot {
    /// Curves on log-log axes, typically an empirical CCDF with a law.
    LogLog {
        x_label: String,
        y_label: String,
        series: Vec<Series>,
    },
    /// Bars per category, optionally with published reference values.
    Bars {
        y_label: String,
        labels: Vec<String>,
        measured: Vec<f64>,
        reference: Option<Vec<f64>>,
    },
}

/// Local calendar day number (days since 1970-01-01 local).
pub fn local_day(time_s: i64, calendar: &Calendar) -> i64 {
    calendar.local_day(time_s)
}

/// Local wall-clock seconds since midnight.
pub fn local_second_of_day(time_s: i64, calendar: &Calendar) -> i64 {
    calendar.local_second_of_day(time_s)
}

/// Day of week of a local day number, 0 = Monday … 6 = Sunday.
pub fn weekday(day: i64) -> u8 {
    // 1970-01-01 was a Thursday.
    (day + 3).rem_euclid(7) as u8
}

/// The local days a run covers, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub first: i64,
    pub last: i64,
}

impl DayRange {
    /// Number of days.
    pub fn len(&self) -> i64 {
        self.last - self.first + 1
    }

    /// Whether the range holds no day.
    pub fn is_empty(&self) -> bool {
        self.len() <= 0
    }

    /// The days of the range a per-day metric counts: all of them but those
    /// in `set_apart`.
    pub fn measured(self, set_apart: &BTreeSet<i64>) -> impl Iterator<Item = i64> + '_ {
        (self.first..=self.last).filter(move |d| !set_apart.contains(d))
    }

    /// Days from the first stay start to the last stay end.
    ///
    /// A run ending exactly at midnight does not count the next day.
    pub fn from_stays(stays: &[StayRecord], calendar: &Calendar) -> Option<DayRange> {
        let start = stays.iter().map(|s| s.start_s).min()?;
        let end = stays.iter().map(|s| s.end_s.max(s.start_s + 1)).max()?;
        Some(DayRange::of_period(start, end, calendar))
    }

    /// The local days of a run from `start` to `end` (exclusive), UTC
    /// seconds.
    pub fn of_period(start_s: i64, end_s: i64, calendar: &Calendar) -> DayRange {
        DayRange {
            first: local_day(start_s, calendar),
            last: local_day(end_s.max(start_s + 1) - 1, calendar),
        }
    }

    /// Days from the first to the last event.
    pub fn from_events(events: &[EventRecord], calendar: &Calendar) -> Option<DayRange> {
        let start = events.iter().map(|e| e.time_s).min()?;
        let end = events.iter().map(|e| e.time_s).max()?;
        Some(DayRange {
            first: local_day(start, calendar),
            last: local_day(end, calendar),
        })
    }
}

/// A maximal run of consecutive stays at one place: one visit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Visit {
    pub place: u64,
    pub start_s: i64,
    pub end_s: i64,
    pub x_m: f64,
    pub y_m: f64,
    pub activity: Activity,
}

impl Visit {
    /// Straight-line distance to another visit, in metres.
    pub fn distance_to(&self, other: &Visit) -> f64 {
        (self.x_m - other.x_m).hypot(self.y_m - other.y_m)
    }
}

/// Each subscriber's visits in time order, subscribers in id order.
///
/// Consecutive stays at the same place that touch are merged, so a stay
/// split at midnight counts as one visit; stays on either side of a day the
/// validator sets apart are not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trajectories {
    pub people: Vec<(u64, Vec<Visit>)>,
}

impl Trajectories {
    /// Groups and merges ground-truth stays.
    pub fn from_stays(stays: &[StayRecord]) -> Trajectories {
        let mut by_sub: BTreeMap<u64, Vec<&StayRecord>> = BTreeMap::new();
        for s in stays {
            by_sub.entry(s.subscriber).or_default().push(s);
        }
        let people = by_sub
            .into_iter()
            .map(|(sub, mut list)| {
                list.sort_by_key(|s| (s.start_s, s.end_s, s.place));
                let visits = merge_touching_runs(list.iter().map(|s| Visit {
                    place: s.place,
                    start_s: s.start_s,
                    end_s: s.end_s,
                    x_m: s.x_m,
                    y_m: s.y_m,
                    activity: s.activity,
                }));
                (sub, visits)
            })
            .collect();
        Trajectories { people }
    }

    /// Diagonal of the bounding box of all visit positions, in metres.
    pub fn extent_m(&self) -> f64 {
        let mut bb = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for v in self.people.iter().flat_map(|(_, vs)| vs) {
            bb = (
                bb.0.min(v.x_m),
                bb.1.min(v.y_m),
                bb.2.max(v.x_m),
                bb.3.max(v.y_m),
            );
        }
        if bb.0.is_finite() {
            (bb.2 - bb.0).hypot(bb.3 - bb.1)
        } else {
            0.0
        }
    }
}

/// Merges consecutive visits to the same place.
pub(crate) fn merge_runs<I: IntoIterator<Item = Visit>>(visits: I) -> Vec<Visit> {
    let mut out: Vec<Visit> = Vec::new();
    for v in visits {
        match out.last_mut() {
            Some(last) if last.place == v.place => last.end_s = last.end_s.max(v.end_s),
            _ => out.push(v),
        }
    }
    out
}

/// Merges consecutive visits to the same place when one ends as the next
/// begins. Ground-truth stays at one place are never consecutive in an
/// ordinary run (a trip separates them); a gap between two stays at one place
/// is a day set apart by the validator, which must not join the visits on
/// either side of it into one long visit.
fn merge_touching_runs<I: IntoIterator<Item = Visit>>(visits: I) -> Vec<Visit> {
    let mut out: Vec<Visit> = Vec::new();
    for v in visits {
        match out.last_mut() {
            Some(last) if last.place == v.place && v.start_s <= last.end_s => {
                last.end_s = last.end_s.max(v.end_s)
            }
            _ => out.push(v),
        }
    }
    out
}

/// Sorted copy of the finite values.
pub(crate) fn sorted_finite(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Mean of a slice; NaN when empty.
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_selected_by_id_or_dotted_prefix() {
        let spec = |id| Spec {
            id,
            name: "",
            band: Some((0.0, 1.0)),
            published: "",
            source: "",
        };
        let all = || {
            [
                "truth.mode_share.walk",
                "truth.mode_share.bike",
                "truth.zipf_zeta",
            ]
            .map(|id| Metric::judged(&spec(id), 0.5, String::new()))
            .to_vec()
        };
        let ids = |m: Vec<Metric>| m.iter().map(|m| m.id).collect::<Vec<_>>();
        let picked = select_metrics(all(), &["truth.mode_share.".into()]).expect("prefix");
        assert_eq!(
            ids(picked),
            ["truth.mode_share.walk", "truth.mode_share.bike"]
        );
        let picked = select_metrics(all(), &["truth.zipf_zeta".into()]).expect("id");
        assert_eq!(ids(picked), ["truth.zipf_zeta"]);
        // A prefix without its dot is not a prefix, and names nothing.
        let err = select_metrics(all(), &["truth.zipf".into()]).expect_err("typo");
        assert!(err.contains("`truth.zipf`"), "{err}");
    }

    #[test]
    fn weekdays_and_local_days() {
        // 2026-03-01 is a Sunday; 2026-03-02 a Monday.
        let sunday_noon_utc = 1_772_366_400;
        let cet = Calendar::fixed_offset(3600);
        let day = local_day(sunday_noon_utc, &cet);
        assert_eq!(weekday(day), 6);
        assert_eq!(weekday(day + 1), 0);
        // 23:30 UTC on Sunday is 00:30 Monday at UTC+1.
        let late = sunday_noon_utc + 11 * 3600 + 1800;
        assert_eq!(local_day(late, &cet), day + 1);
        assert_eq!(local_second_of_day(late, &cet), 1800);
    }

    #[test]
    fn consecutive_stays_at_one_place_merge() {
        let s = |start, end, place| StayRecord {
            subscriber: 1,
            start_s: start,
            end_s: end,
            place,
            x_m: 0.0,
            y_m: 0.0,
            activity: Activity::Home,
        };
        let t = Trajectories::from_stays(&[s(100, 200, 2), s(0, 100, 1), s(200, 300, 2)]);
        let places: Vec<(u64, i64, i64)> = t.people[0]
            .1
            .iter()
            .map(|v| (v.place, v.start_s, v.end_s))
            .collect();
        assert_eq!(places, vec![(1, 0, 100), (2, 100, 300)]);
    }
}
