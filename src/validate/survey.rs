//! Travel-survey figures from ground-truth trips, compared with Mobilität in
//! Deutschland 2017: leaving home, trips per day, mode shares, commute
//! distances and time spent travelling.
//!
//! Like a household travel survey, these count residents only; inbound
//! roamers are left out. A trip belongs to the local day it starts on, and
//! person-days include days without any trip.

use super::charts::ccdf_plot;
use super::fit;
use super::{
    Activity, DayRange, Metric, PersonRecord, Plot, Spec, TripMode, TripRecord, local_day, mean,
    sorted_finite, weekday,
};
use crate::calendar::Calendar;
use std::collections::{BTreeMap, BTreeSet};

const MID: &str = "infas/BMVI (2018), Mobilität in Deutschland 2017";

pub const LEAVE_HOME: Spec = Spec {
    id: "truth.leave_home.all",
    name: "Share of people leaving home, all days",
    band: Some((0.80, 0.90)),
    published: "85%",
    source: MID,
};
pub const LEAVE_HOME_WEEKDAY: Spec = Spec {
    id: "truth.leave_home.weekday",
    name: "Share of people leaving home, weekdays",
    band: Some((0.83, 0.93)),
    published: "88%",
    source: MID,
};
pub const LEAVE_HOME_SUNDAY: Spec = Spec {
    id: "truth.leave_home.sunday",
    name: "Share of people leaving home, Sundays",
    band: Some((0.68, 0.78)),
    published: "73%",
    source: MID,
};
pub const TRIPS_PER_DAY: Spec = Spec {
    id: "truth.trips_per_day.all",
    name: "Trips per person per day",
    band: Some((2.8, 3.4)),
    published: "3.1",
    source: MID,
};
pub const TRIPS_PER_DAY_30_49: Spec = Spec {
    id: "truth.trips_per_day.age30_49",
    name: "Trips per person per day, ages 30-49",
    band: Some((3.3, 3.9)),
    published: "about 3.6",
    source: MID,
};
pub const TRIPS_PER_DAY_80: Spec = Spec {
    id: "truth.trips_per_day.age80",
    name: "Trips per person per day, ages 80+",
    band: Some((1.6, 2.2)),
    published: "about 1.9",
    source: MID,
};
/// Published mode shares, in [`TripMode::ALL`] order.
pub const MODE_SHARES_PUBLISHED: [f64; 5] = [0.22, 0.11, 0.43, 0.14, 0.10];
pub const MODE_SPECS: [Spec; 5] = [
    Spec {
        id: "truth.mode_share.walk",
        name: "Mode share: walk",
        band: Some((0.17, 0.27)),
        published: "22%",
        source: MID,
    },
    Spec {
        id: "truth.mode_share.bike",
        name: "Mode share: bike",
        band: Some((0.06, 0.16)),
        published: "11%",
        source: MID,
    },
    Spec {
        id: "truth.mode_share.car_driver",
        name: "Mode share: car as driver",
        band: Some((0.38, 0.48)),
        published: "43%",
        source: MID,
    },
    Spec {
        id: "truth.mode_share.car_passenger",
        name: "Mode share: car as passenger",
        band: Some((0.09, 0.19)),
        published: "14%",
        source: MID,
    },
    Spec {
        id: "truth.mode_share.public_transport",
        name: "Mode share: public transport",
        band: Some((0.05, 0.15)),
        published: "10%",
        source: MID,
    },
];
pub const COMMUTE: Spec = Spec {
    id: "truth.commute_km",
    name: "Commute distance, median (km)",
    band: None,
    published: "median 8.1 km, mean 16 km; judged on shape: median < mean",
    source: MID,
};
pub const TRAVEL_MINUTES: Spec = Spec {
    id: "truth.travel_minutes",
    name: "Minutes travelling per person per day",
    band: Some((60.0, 100.0)),
    published: "about 80-90 min",
    source: MID,
};
pub(crate) fn trip_days(trips: &[TripRecord], calendar: &Calendar) -> Option<DayRange> {
    let first = trips.iter().map(|t| t.start_s).min()?;
    let last = trips.iter().map(|t| t.start_s).max()?;
    Some(DayRange {
        first: local_day(first, calendar),
        last: local_day(last, calendar),
    })
}

fn residents(persons: &[PersonRecord]) -> BTreeMap<u64, u8> {
    persons
        .iter()
        .filter(|p| p.resident)
        .map(|p| (p.subscriber, p.age))
        .collect()
}

/// Trips per (resident, local day).
fn trips_by_person_day(
    residents: &BTreeMap<u64, u8>,
    trips: &[TripRecord],
    calendar: &Calendar,
) -> BTreeMap<(u64, i64), u32> {
    let mut counts = BTreeMap::new();
    for t in trips
        .iter()
        .filter(|t| residents.contains_key(&t.subscriber))
    {
        *counts
            .entry((t.subscriber, local_day(t.start_s, calendar)))
            .or_insert(0) += 1;
    }
    counts
}

/// Share of resident-days with at least one trip: all days, Monday–Friday,
/// and Sundays.
pub fn leaving_home(
    persons: &[PersonRecord],
    trips: &[TripRecord],
    days: Option<DayRange>,
    set_apart: &BTreeSet<i64>,
    calendar: &Calendar,
) -> [Metric; 3] {
    let specs = [&LEAVE_HOME, &LEAVE_HOME_WEEKDAY, &LEAVE_HOME_SUNDAY];
    let res = residents(persons);
    let Some(days) = days.filter(|_| !res.is_empty()) else {
        return specs.map(|s| Metric::missing(s, "no residents or no days"));
    };
    let counts = trips_by_person_day(&res, trips, calendar);
    // [all, weekday, sunday] × (person-days, person-days with a trip)
    let mut tally = [(0u64, 0u64); 3];
    for &sub in res.keys() {
        for day in days.measured(set_apart) {
            let out = counts.contains_key(&(sub, day)) as u64;
            let wd = weekday(day);
            let groups = [true, wd < 5, wd == 6];
            for (g, t) in groups.iter().zip(tally.iter_mut()) {
                if *g {
                    t.0 += 1;
                    t.1 += out;
                }
            }
        }
    }
    let mut i = 0;
    specs.map(|spec| {
        let (n, k) = tally[i];
        i += 1;
        if n == 0 {
            Metric::missing(spec, "no such days in the run")
        } else {
            Metric::judged(spec, k as f64 / n as f64, format!("{k} of {n} person-days"))
        }
    })
}

/// Mean trips per resident-day, stay-at-home days included: all ages,
/// ages 30–49 and ages 80+.
pub fn trips_per_person_day(
    persons: &[PersonRecord],
    trips: &[TripRecord],
    days: Option<DayRange>,
    set_apart: &BTreeSet<i64>,
    calendar: &Calendar,
) -> [Metric; 3] {
    let specs = [&TRIPS_PER_DAY, &TRIPS_PER_DAY_30_49, &TRIPS_PER_DAY_80];
    let res = residents(persons);
    let Some(days) = days.filter(|_| !res.is_empty()) else {
        return specs.map(|s| Metric::missing(s, "no residents or no days"));
    };
    let mut per_person: BTreeMap<u64, u64> = BTreeMap::new();
    for t in trips.iter().filter(|t| res.contains_key(&t.subscriber)) {
        let d = local_day(t.start_s, calendar);
        if d >= days.first && d <= days.last && !set_apart.contains(&d) {
            *per_person.entry(t.subscriber).or_insert(0) += 1;
        }
    }
    let groups: [fn(u8) -> bool; 3] = [|_| true, |a| (30..=49).contains(&a), |a| a >= 80];
    let mut i = 0;
    specs.map(|spec| {
        let in_group = groups[i];
        i += 1;
        let people: Vec<u64> = res
            .iter()
            .filter(|(_, age)| in_group(**age))
            .map(|(s, _)| *s)
            .collect();
        if people.is_empty() {
            return Metric::missing(spec, "no residents in this age group");
        }
        let total: u64 = people
            .iter()
            .map(|s| per_person.get(s).copied().unwrap_or(0))
            .sum();
        let person_days = people.len() as f64 * days.measured(set_apart).count() as f64;
        Metric::judged(
            spec,
            total as f64 / person_days,
            format!("{total} trips over {person_days} person-days"),
        )
    })
}

/// Share of residents' trips by mode, by count. The first metric carries the
/// bar chart of all modes.
pub fn mode_shares(persons: &[PersonRecord], trips: &[TripRecord]) -> Vec<Metric> {
    let res = residents(persons);
    let counted: Vec<&TripRecord> = trips
        .iter()
        .filter(|t| res.is_empty() || res.contains_key(&t.subscriber))
        .collect();
    if counted.is_empty() {
        return MODE_SPECS
            .iter()
            .map(|s| Metric::missing(s, "no trips"))
            .collect();
    }
    let n = counted.len() as f64;
    let shares: Vec<f64> = TripMode::ALL
        .iter()
        .map(|m| counted.iter().filter(|t| t.mode == *m).count() as f64 / n)
        .collect();
    let plot = Plot::Bars {
        y_label: "share of trips".into(),
        labels: [
            "walk",
            "bike",
            "car driver",
            "car passenger",
            "public transport",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        measured: shares.clone(),
        reference: Some(MODE_SHARES_PUBLISHED.to_vec()),
    };
    let mut out: Vec<Metric> = MODE_SPECS
        .iter()
        .zip(&shares)
        .map(|(spec, &v)| Metric::judged(spec, v, format!("{} trips", counted.len())))
        .collect();
    out[0].plot = Some(plot);
    out
}

/// Home→work trip lengths, judged on shape: right-skewed, median < mean.
pub fn commute_distance(trips: &[TripRecord]) -> Metric {
    let km = sorted_finite(
        trips
            .iter()
            .filter(|t| t.from_activity == Activity::Home && t.to_activity == Activity::Work)
            .map(|t| t.distance_m / 1000.0),
    );
    if km.len() < 2 {
        return Metric::missing(&COMMUTE, "fewer than 2 home-to-work trips");
    }
    let median = fit::quantile(&km, 0.5);
    let mean = mean(&km);
    Metric::judged(
        &COMMUTE,
        median,
        format!(
            "mean {mean:.2} km over {} trips; shape judged, not scale",
            km.len()
        ),
    )
    .with_verdict(Some(median < mean))
    .with_plot(ccdf_plot("commute distance (km)", &km, Vec::new()))
}

/// Minutes spent travelling per resident-day, stay-at-home days included.
pub fn travel_minutes(
    persons: &[PersonRecord],
    trips: &[TripRecord],
    days: Option<DayRange>,
    set_apart: &BTreeSet<i64>,
    calendar: &Calendar,
) -> Metric {
    let res = residents(persons);
    let Some(days) = days.filter(|_| !res.is_empty()) else {
        return Metric::missing(&TRAVEL_MINUTES, "no residents or no days");
    };
    let seconds: i64 = trips
        .iter()
        .filter(|t| res.contains_key(&t.subscriber))
        .filter(|t| {
            let d = local_day(t.start_s, calendar);
            d >= days.first && d <= days.last && !set_apart.contains(&d)
        })
        .map(|t| (t.end_s - t.start_s).max(0))
        .sum();
    let person_days = res.len() as f64 * days.measured(set_apart).count() as f64;
    Metric::judged(
        &TRAVEL_MINUTES,
        seconds as f64 / 60.0 / person_days,
        format!("{person_days} person-days"),
    )
}
