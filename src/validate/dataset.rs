//! Reading a dataset that mobsynth wrote (Parquet, CSV or NDJSON) back into
//! the record types the metrics take.
//!
//! The manifest says the format and the time zone. Positions are projected
//! to planar metres around the centre of the cells, as the metrics measure
//! distances in metres.
//!
//! With `truth/happenings` rows, the days a happening touches are set apart
//! here, at the loading boundary: [`evaluate_apart`] judges the metrics on
//! the other days' rows only and measures the happening days' rows apart,
//! unjudged. The metrics themselves know nothing of happenings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use arrow::array::AsArray;
use arrow::record_batch::RecordBatch;
use serde::Serialize;

use super::mobility::outside_place_key;
use super::{Activity, EventRecord, EventType, PersonRecord, StayRecord, TripMode, TripRecord};
use crate::map::Projection;
pub use crate::reader::DatasetError;
use crate::reader::{
    DatasetReader, column_f64, column_i64, column_ms, column_opt_i64, column_str, err,
};
use crate::sink::happenings::happenings_schema;
use crate::sink::network_tables::{cells_schema, events_schema};
use crate::sink::tables::{stays_schema, subscribers_schema, trips_schema};

/// A dataset's records, ready for the metrics.
#[derive(Debug)]
pub struct LoadedDataset {
    pub persons: Vec<PersonRecord>,
    pub stays: Vec<StayRecord>,
    pub trips: Vec<TripRecord>,
    pub events: Vec<EventRecord>,
    /// The run's local days, as the generator partitioned them.
    pub calendar: super::Calendar,
    /// The local days of the run, from the manifest.
    pub period: Option<super::DayRange>,
    /// Diagonal of the cells' bounding box, metres.
    pub diameter_m: Option<f64>,
    pub seed: u64,
    pub scenario_name: String,
    /// Subscribers kept when sampling, and in the dataset.
    pub sampled: Option<(usize, usize)>,
    /// IoT/M2M devices, left out of every metric.
    pub machines: usize,
    /// Who calls whom: every subscriber's calls and texts with the others
    /// and `truth/contacts`, unsampled.
    pub network: super::network::NetworkData,
    /// The rows of `truth/happenings`, in id order; empty without it.
    pub happenings: Vec<HappeningWindow>,
}

/// One row of `truth/happenings`: what happened and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HappeningWindow {
    pub happening_id: i64,
    pub name: String,
    pub kind: String,
    /// The window, UTC seconds, end exclusive.
    #[serde(skip)]
    pub start_s: i64,
    #[serde(skip)]
    pub end_s: i64,
    /// The local dates (`YYYY-MM-DD`) of the run the window touches.
    pub dates: Vec<String>,
}

/// Reads `dir`. With `sample`, keeps only that many subscribers, chosen by a
/// hash of their id and the seed (the same ones every time).
pub fn load(dir: &Path, sample: Option<usize>) -> Result<LoadedDataset, DatasetError> {
    let reader = DatasetReader::open(dir)?;
    let manifest = reader.manifest();
    let calendar = reader.calendar()?;
    let days = calendar.days();
    let period = super::DayRange {
        first: days[0].epoch_day(),
        last: days[days.len() - 1].epoch_day(),
    };

    let subscribers = reader.read("subscribers", subscribers_schema())?;
    let mut persons = Vec::new();
    let mut machines = std::collections::BTreeSet::new();
    for b in &subscribers {
        let id = column_u64(b, "subscriber_id", &dir.join("subscribers"))?;
        let age = column_u64(b, "age", &dir.join("subscribers"))?;
        let roamer = b
            .column_by_name("roamer")
            .and_then(|c| c.as_boolean_opt().cloned())
            .ok_or_else(|| err(dir, "subscribers: column `roamer` missing"))?;
        let device = column_str(b, "device", &dir.join("subscribers"))?;
        for i in 0..b.num_rows() {
            // The laws describe people: meters and trackers are left out.
            if device[i] == "iot" {
                machines.insert(id[i]);
                continue;
            }
            persons.push(PersonRecord {
                subscriber: id[i],
                age: age[i].min(255) as u8,
                resident: !roamer.value(i),
            });
        }
    }
    let total = persons.len();
    let keep: Option<std::collections::BTreeSet<u64>> = sample.filter(|&n| n < total).map(|n| {
        let mut ranked: Vec<(u64, u64)> = persons
            .iter()
            .map(|p| {
                (
                    crate::rng::key_hash(
                        manifest.seed,
                        crate::rng::Purpose::Validate,
                        p.subscriber,
                        0,
                    ),
                    p.subscriber,
                )
            })
            .collect();
        ranked.sort_unstable();
        ranked.into_iter().take(n).map(|(_, id)| id).collect()
    });
    let kept = |id: u64| !machines.contains(&id) && keep.as_ref().is_none_or(|k| k.contains(&id));
    persons.retain(|p| kept(p.subscriber));

    // The cells fix the projection: the network covers the map.
    let cells = reader.read("cells", cells_schema())?;
    let mut cell_lonlat: HashMap<u64, (f64, f64)> = HashMap::new();
    for b in &cells {
        let p = dir.join("cells");
        let (id, lon, lat) = (
            column_u64(b, "cell_id", &p)?,
            column_f64(b, "lon", &p)?,
            column_f64(b, "lat", &p)?,
        );
        for i in 0..b.num_rows() {
            cell_lonlat.insert(id[i], (lon[i], lat[i]));
        }
    }
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) =
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(lon, lat) in cell_lonlat.values() {
        min_lon = min_lon.min(lon);
        max_lon = max_lon.max(lon);
        min_lat = min_lat.min(lat);
        max_lat = max_lat.max(lat);
    }
    let projection = if cell_lonlat.is_empty() {
        Projection::new(0.0, 0.0)
    } else {
        Projection::new((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0)
    };
    let diameter_m = (!cell_lonlat.is_empty()).then(|| {
        let a = projection.to_xy(min_lon, min_lat);
        let b = projection.to_xy(max_lon, max_lat);
        crate::map::distance(a, b)
    });

    let mut stays = Vec::new();
    for b in reader.read("truth/stays", stays_schema())? {
        let p = dir.join("truth/stays");
        let (sub, start, end) = (
            column_u64(&b, "subscriber_id", &p)?,
            column_ms(&b, "start", &p)?,
            column_ms(&b, "end", &p)?,
        );
        let activity = column_str(&b, "activity", &p)?;
        let place = column_opt_i64(&b, "place_id", &p)?;
        let (lon, lat) = (column_f64(&b, "lon", &p)?, column_f64(&b, "lat", &p)?);
        for i in 0..b.num_rows() {
            if !kept(sub[i]) {
                continue;
            }
            let xy = projection.to_xy(lon[i], lat[i]);
            stays.push(StayRecord {
                subscriber: sub[i],
                start_s: start[i].div_euclid(1000),
                end_s: end[i].div_euclid(1000),
                // Places beyond the map's edge have no id: their position is.
                place: place[i].map_or_else(|| outside_place_key(xy.x, xy.y), |v| v as u64),
                x_m: xy.x,
                y_m: xy.y,
                activity: parse_activity(&activity[i])
                    .ok_or_else(|| err(&p, format!("unknown activity {:?}", activity[i])))?,
            });
        }
    }
    stays.sort_by_key(|s| (s.subscriber, s.start_s));

    let mut trips = Vec::new();
    for b in reader.read("truth/trips", trips_schema())? {
        let p = dir.join("truth/trips");
        let (sub, start, end) = (
            column_u64(&b, "subscriber_id", &p)?,
            column_ms(&b, "start", &p)?,
            column_ms(&b, "end", &p)?,
        );
        let mode = column_str(&b, "mode", &p)?;
        let dist = column_f64(&b, "distance_m", &p)?;
        let (from, to) = (
            column_str(&b, "origin_activity", &p)?,
            column_str(&b, "destination_activity", &p)?,
        );
        for i in 0..b.num_rows() {
            if !kept(sub[i]) {
                continue;
            }
            let activity = |s: &str| {
                parse_activity(s).ok_or_else(|| err(&p, format!("unknown activity {s:?}")))
            };
            trips.push(TripRecord {
                subscriber: sub[i],
                start_s: start[i].div_euclid(1000),
                end_s: end[i].div_euclid(1000),
                mode: parse_mode(&mode[i])
                    .ok_or_else(|| err(&p, format!("unknown mode {:?}", mode[i])))?,
                distance_m: dist[i],
                from_activity: activity(&from[i])?,
                to_activity: activity(&to[i])?,
            });
        }
    }
    trips.sort_by_key(|t| (t.subscriber, t.start_s));

    let mut events = Vec::new();
    // A dirty log (`[log_quality]`) is read as the least a cleaning step
    // does: records without a known cell and repeated event ids are left
    // out; late, reordered and clock-shifted records are kept.
    let dirty = manifest.scenario.contains("[log_quality]");
    let mut seen_ids = std::collections::HashSet::new();
    for b in reader.read("events", events_schema())? {
        let p = dir.join("events");
        let ids = if dirty {
            column_u64(&b, "event_id", &p)?
        } else {
            Vec::new()
        };
        let (sub, time, cell) = (
            column_u64(&b, "subscriber_id", &p)?,
            column_ms(&b, "timestamp", &p)?,
            column_u64(&b, "cell_id", &p)?,
        );
        let kind = column_str(&b, "event_type", &p)?;
        for i in 0..b.num_rows() {
            if !kept(sub[i]) {
                continue;
            }
            if dirty && (!cell_lonlat.contains_key(&cell[i]) || !seen_ids.insert(ids[i])) {
                continue;
            }
            let (lon, lat) = cell_lonlat
                .get(&cell[i])
                .copied()
                .ok_or_else(|| err(&p, format!("cell {} is not in the cells table", cell[i])))?;
            let xy = projection.to_xy(lon, lat);
            events.push(EventRecord {
                subscriber: sub[i],
                time_s: time[i].div_euclid(1000),
                kind: parse_kind(&kind[i])
                    .ok_or_else(|| err(&p, format!("unknown event type {:?}", kind[i])))?,
                cell: cell[i],
                cell_x_m: xy.x,
                cell_y_m: xy.y,
            });
        }
    }
    events.sort_by_key(|e| (e.subscriber, e.time_s));

    let mut happenings = Vec::new();
    if reader.has_table("truth/happenings") {
        for b in reader.read("truth/happenings", happenings_schema())? {
            let p = dir.join("truth/happenings");
            let (id, start, end) = (
                column_i64(&b, "happening_id", &p)?,
                column_ms(&b, "start", &p)?,
                column_ms(&b, "end", &p)?,
            );
            let (name, kind) = (column_str(&b, "name", &p)?, column_str(&b, "kind", &p)?);
            for i in 0..b.num_rows() {
                let (start_s, end_s) = (start[i].div_euclid(1000), end[i].div_euclid(1000));
                let days = window_days(start_s, end_s, &calendar, period);
                happenings.push(HappeningWindow {
                    happening_id: id[i],
                    name: name[i].clone(),
                    kind: kind[i].clone(),
                    start_s,
                    end_s,
                    dates: days.iter().map(|d| date_of(&calendar, *d)).collect(),
                });
            }
        }
        happenings.sort_by_key(|h| h.happening_id);
    }

    Ok(LoadedDataset {
        sampled: keep.as_ref().map(|k| (k.len(), total)),
        machines: machines.len(),
        persons,
        stays,
        trips,
        events,
        calendar,
        period: Some(period),
        diameter_m,
        seed: manifest.seed,
        scenario_name: manifest.scenario_name.clone(),
        network: super::network::load(dir)?,
        happenings,
    })
}

/// The local days of `period` that the window `[start_s, end_s)` touches. A
/// window that ends at a midnight does not touch the day after it; an empty
/// window touches the day of its start.
fn window_days(
    start_s: i64,
    end_s: i64,
    calendar: &super::Calendar,
    period: super::DayRange,
) -> BTreeSet<i64> {
    let first = calendar.local_day(start_s).max(period.first);
    let last = calendar
        .local_day(end_s.max(start_s + 1) - 1)
        .min(period.last);
    (first..=last).collect()
}

/// `YYYY-MM-DD` of a local day number.
fn date_of(calendar: &super::Calendar, day: i64) -> String {
    calendar
        .days()
        .iter()
        .position(|d| d.epoch_day() == day)
        .map_or_else(|| format!("day {day}"), |i| calendar.date(i).to_string())
}

fn column_u64(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<u64>, DatasetError> {
    Ok(column_i64(b, name, path)?
        .into_iter()
        .map(|v| v as u64)
        .collect())
}

// The names are those the writer uses, so a dataset reads back exactly.
fn parse_activity(s: &str) -> Option<Activity> {
    Activity::ALL.into_iter().find(|a| a.name() == s)
}

fn parse_mode(s: &str) -> Option<TripMode> {
    TripMode::ALL.into_iter().find(|m| m.name() == s)
}

pub(crate) fn parse_kind(s: &str) -> Option<EventType> {
    EventType::ALL.into_iter().find(|k| k.name() == s)
}

/// Row counts per table, for the report header.
pub fn counts(d: &LoadedDataset) -> BTreeMap<&'static str, usize> {
    BTreeMap::from([
        ("subscribers", d.persons.len()),
        ("stays", d.stays.len()),
        ("trips", d.trips.len()),
        ("events", d.events.len()),
    ])
}

/// Every metric the dataset supports, over the whole run: from the truth
/// tables, then from the events alone, then who calls whom. Motifs and
/// unicity are the costly ones; `sample` in [`load`] bounds them.
pub fn evaluate(d: &LoadedDataset) -> Vec<super::Metric> {
    let mut metrics = measure(d, &d.stays, &d.trips, &d.events, BTreeSet::new());
    metrics.extend(super::network::network_metrics(&d.network, d.seed));
    metrics
}

/// The metrics of `stays`, `trips` and `events` (rows of `d`, or some of
/// them) over the run's days but those `set_apart`.
fn measure(
    d: &LoadedDataset,
    stays: &[StayRecord],
    trips: &[TripRecord],
    events: &[EventRecord],
    set_apart: BTreeSet<i64>,
) -> Vec<super::Metric> {
    let config = super::Config {
        calendar: d.calendar.clone(),
        seed: d.seed,
        map_diameter_m: d.diameter_m,
        period: d.period,
        set_apart,
        ..super::Config::default()
    };
    let mut metrics = Vec::new();
    if !stays.is_empty() {
        metrics.extend(super::truth_metrics(&d.persons, stays, trips, &config));
    }
    if !events.is_empty() {
        // The same subscribers on both sides: everyone who has events.
        let truth = (!stays.is_empty()).then(|| super::Trajectories::from_stays(stays));
        metrics.extend(super::event_metrics(events, truth.as_ref(), &config));
    }
    metrics
}

/// The metrics of a dataset with happenings set apart: judged on the days no
/// happening touches, and measured on the happening days without a verdict.
#[derive(Debug)]
pub struct Evaluation {
    /// Judged on the ordinary days (every day without happenings), then the
    /// network metrics over the whole run.
    pub metrics: Vec<super::Metric>,
    /// `None` when the dataset has no happenings.
    pub happening_days: Option<HappeningDays>,
}

/// The days happenings touch and what the metrics measure on them.
#[derive(Debug, Serialize)]
pub struct HappeningDays {
    /// Local dates (`YYYY-MM-DD`) the judged metrics measure.
    pub ordinary_days: Vec<String>,
    /// Local dates any happening's window touches.
    pub happening_days: Vec<String>,
    pub happenings: Vec<HappeningWindow>,
    /// The same metrics on the happening days' rows only, not judged.
    pub metrics: Vec<super::Metric>,
}

/// The JSON `validate --json` writes with happenings.
#[derive(Serialize)]
struct ApartJson<'a> {
    ordinary_days: &'a [String],
    happening_days: &'a [String],
    happenings: &'a [HappeningWindow],
    metrics: &'a [super::Metric],
    happening_day_metrics: &'a [super::Metric],
}

impl Evaluation {
    /// Keeps the metrics named by `patterns` (see [`super::select_metrics`]);
    /// a pattern must name a judged metric, and the happening days keep
    /// the same ones.
    pub fn select(&mut self, patterns: &[String]) -> Result<(), String> {
        self.metrics = super::select_metrics(std::mem::take(&mut self.metrics), patterns)?;
        let ids: BTreeSet<&str> = self.metrics.iter().map(|m| m.id).collect();
        if let Some(h) = &mut self.happening_days {
            h.metrics.retain(|m| ids.contains(m.id));
        }
        Ok(())
    }

    /// The JSON document: without happenings, the array of metrics; with
    /// them, an object with the ordinary and happening days, the
    /// happenings, the judged `metrics` and the unjudged
    /// `happening_day_metrics`.
    pub fn to_json(&self) -> serde_json::Result<String> {
        match &self.happening_days {
            None => serde_json::to_string_pretty(&self.metrics),
            Some(h) => serde_json::to_string_pretty(&ApartJson {
                ordinary_days: &h.ordinary_days,
                happening_days: &h.happening_days,
                happenings: &h.happenings,
                metrics: &self.metrics,
                happening_day_metrics: &h.metrics,
            }),
        }
    }
}

/// [`evaluate`], with the days any happening of `truth/happenings` touches
/// set apart. Those days' rows are dropped before the metrics see them:
/// events whose time falls on one, trips that start on one, and the part of
/// every stay that lies on one (a stay wholly on happening days is dropped;
/// one across a happening day keeps its parts on either side, which are not
/// joined again). Per-day metrics count only the other days in their
/// denominators. The happening days are then measured the same way on their
/// own rows, and reported without a verdict. The network metrics describe
/// the whole run and are not split.
pub fn evaluate_apart(d: &LoadedDataset) -> Evaluation {
    let happening: BTreeSet<i64> = d
        .happenings
        .iter()
        .flat_map(|h| window_days(h.start_s, h.end_s, &d.calendar, period_of(d)))
        .collect();
    if happening.is_empty() {
        return Evaluation {
            metrics: evaluate(d),
            happening_days: None,
        };
    }
    let run: Vec<i64> = period_of(d).measured(&BTreeSet::new()).collect();
    let ordinary: BTreeSet<i64> = run
        .iter()
        .copied()
        .filter(|day| !happening.contains(day))
        .collect();
    let view = |keep: &dyn Fn(i64) -> bool, set_apart: BTreeSet<i64>| {
        let (stays, trips, events) = rows_on(&d.stays, &d.trips, &d.events, &d.calendar, keep);
        measure(d, &stays, &trips, &events, set_apart)
    };
    let mut metrics = view(&|day| !happening.contains(&day), happening.clone());
    metrics.extend(super::network::network_metrics(&d.network, d.seed));
    let apart = view(&|day| happening.contains(&day), ordinary.clone())
        .into_iter()
        .map(|m| m.with_verdict(None))
        .collect();
    let dates = |days: &BTreeSet<i64>| days.iter().map(|x| date_of(&d.calendar, *x)).collect();
    Evaluation {
        metrics,
        happening_days: Some(HappeningDays {
            ordinary_days: dates(&ordinary),
            happening_days: dates(&happening),
            happenings: d.happenings.clone(),
            metrics: apart,
        }),
    }
}

/// The run's days; the manifest always gives them.
fn period_of(d: &LoadedDataset) -> super::DayRange {
    d.period.unwrap_or(super::DayRange { first: 0, last: -1 })
}

/// The rows on the local days for which `keep` holds: events whose time
/// falls on one, trips that start on one, stays cut to them.
fn rows_on(
    all_stays: &[StayRecord],
    all_trips: &[TripRecord],
    all_events: &[EventRecord],
    cal: &super::Calendar,
    keep: &dyn Fn(i64) -> bool,
) -> (Vec<StayRecord>, Vec<TripRecord>, Vec<EventRecord>) {
    let mut stays = Vec::new();
    for s in all_stays {
        let (first, last) = (
            cal.local_day(s.start_s),
            cal.local_day(s.end_s.max(s.start_s + 1) - 1),
        );
        // Each maximal run of kept days becomes one piece of the stay.
        let mut day = first;
        while day <= last {
            if !keep(day) {
                day += 1;
                continue;
            }
            let from = day;
            while day < last && keep(day + 1) {
                day += 1;
            }
            let start_s = s.start_s.max(cal.utc_of_local_midnight(from));
            let end_s = s.end_s.min(cal.utc_of_local_midnight(day + 1));
            if from == first && day == last {
                stays.push(*s);
            } else if end_s > start_s {
                stays.push(StayRecord {
                    start_s,
                    end_s,
                    ..*s
                });
            }
            day += 1;
        }
    }
    let trips = all_trips
        .iter()
        .filter(|t| keep(cal.local_day(t.start_s)))
        .copied()
        .collect();
    let events = all_events
        .iter()
        .filter(|e| keep(cal.local_day(e.time_s)))
        .copied()
        .collect();
    (stays, trips, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Calendar, DAY_S, DayRange, Trajectories};

    fn stay(start_s: i64, end_s: i64, place: u64) -> StayRecord {
        StayRecord {
            subscriber: 1,
            start_s,
            end_s,
            place,
            x_m: place as f64,
            y_m: 0.0,
            activity: Activity::Home,
        }
    }

    #[test]
    fn a_window_touches_the_days_it_overlaps_and_not_the_midnight_it_ends_on() {
        let utc = Calendar::fixed_offset(0);
        let run = DayRange { first: 0, last: 4 };
        let days = |a, b| window_days(a, b, &utc, run).into_iter().collect::<Vec<_>>();
        assert_eq!(days(DAY_S + 3600, DAY_S + 7200), [1]);
        assert_eq!(days(DAY_S, 2 * DAY_S), [1]);
        assert_eq!(days(DAY_S + 1, 3 * DAY_S + 1), [1, 2, 3]);
        // A relocation for good ends with the run: every day from its start.
        assert_eq!(days(2 * DAY_S + 28_800, 5 * DAY_S), [2, 3, 4]);
        assert_eq!(days(3 * DAY_S, 3 * DAY_S), [3]);
    }

    #[test]
    fn stays_are_cut_to_the_kept_days_and_not_joined_across_a_day_set_apart() {
        let utc = Calendar::fixed_offset(0);
        // Home from 18:00 on day 0 to 08:00 on day 3, then work on day 3.
        let stays = [
            stay(18 * 3600, 3 * DAY_S + 8 * 3600, 7),
            stay(3 * DAY_S + 9 * 3600, 3 * DAY_S + 17 * 3600, 9),
            stay(DAY_S + 3600, DAY_S + 7200, 8),
        ];
        let keep = |d: i64| d != 1;
        let (kept, _, _) = rows_on(&stays, &[], &[], &utc, &keep);
        let spans: Vec<(i64, i64, u64)> =
            kept.iter().map(|s| (s.start_s, s.end_s, s.place)).collect();
        assert_eq!(
            spans,
            [
                (18 * 3600, DAY_S, 7),
                (2 * DAY_S, 3 * DAY_S + 8 * 3600, 7),
                (3 * DAY_S + 9 * 3600, 3 * DAY_S + 17 * 3600, 9),
            ]
        );
        // Two visits at home, not one across the day set apart.
        let t = Trajectories::from_stays(&kept);
        assert_eq!(t.people[0].1.len(), 3);
        // The day set apart alone: the part of the long stay on it.
        let (apart, _, _) = rows_on(&stays, &[], &[], &utc, &|d| d == 1);
        let spans: Vec<(i64, i64)> = apart.iter().map(|s| (s.start_s, s.end_s)).collect();
        assert_eq!(spans, [(DAY_S, 2 * DAY_S), (DAY_S + 3600, DAY_S + 7200)]);
    }
}
