//! Metrics computed from the observable event log alone, as an analyst with
//! only network data would: call volumes, burstiness, the circadian profile,
//! signalling sanity checks, re-identifiability, and mobility recovered
//! from cell positions.
//!
//! Mobility from events: each subscriber's events in time order are cut into
//! runs of consecutive events at the same cell position (co-sited sectors
//! share a position, so they count as one place). A run is a stay when its
//! own events span at least [`MIN_EVENT_STAY_S`]: a lone event, or a few
//! in quick succession, shows a device passing by or briefly served by a
//! neighbouring site, not a dwell. The stay ends when the next run begins,
//! which over-estimates the dwell of a quiet device: that is what sparse
//! network data allows. An A → B → A detour with B shorter than
//! [`OSCILLATION_S`] is an oscillation between cells and is dropped, as
//! analysts of CDR data do before measuring mobility.

use super::charts::ccdf_plot;
use super::fit;
use super::mobility;
use super::motifs;
use super::{
    Activity, Config, DayRange, EventRecord, EventType, Metric, Plot, Series, Spec, Trajectories,
    Visit, local_day, local_second_of_day, mean, merge_runs, sorted_finite, weekday,
};
use crate::calendar::Calendar;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::collections::BTreeMap;

/// Shortest observed dwell at one cell position that counts as a stay.
pub const MIN_EVENT_STAY_S: i64 = 600;

/// A return handover within this many seconds is a ping-pong.
pub const PING_PONG_WINDOW_S: i64 = 10;

/// Points drawn per subscriber in the unicity test.
pub const UNICITY_POINTS: usize = 4;

pub const CALLS_PER_DAY: Spec = Spec {
    id: "events.calls_per_day_median",
    name: "Calls (voice MO + MT) per subscriber-day, median",
    band: Some((1.0, 5.0)),
    published: "heavy-tailed; a typical person makes a few calls a day",
    source: "Candia et al. (2008), J. Phys. A 41",
};
pub const INTER_EVENT: Spec = Spec {
    id: "events.inter_event_decades",
    name: "Pooled inter-event times: decades spanned by the CCDF (10% to 0.1%)",
    band: Some((3.0, f64::INFINITY)),
    published: "heavy-tailed at population level; individuals Weibull-like, not Poisson",
    source: "Candia et al. (2008), J. Phys. A 41; Jiang et al. (2013)",
};
pub const NIGHT_SHARE: Spec = Spec {
    id: "events.night_share",
    name: "Share of activity events between 00 and 06 local time",
    band: Some((0.0, 0.10)),
    published: "low 01-06 h, rising from 07 h, daytime plateau, evening peak",
    source: "Candia et al. (2008), J. Phys. A 41",
};
pub const TAU_PERIODIC: Spec = Spec {
    id: "events.tau_periodic_max_per_idle_day",
    name: "TAU_PERIODIC per idle-all-day device-day, max",
    band: Some((0.0, 27.0)),
    published: "T3412 defaults to 54 min, so at most about 27 a day",
    source: "3GPP TS 24.301, timer T3412",
};
pub const PING_PONG: Spec = Spec {
    id: "events.ping_pong_share",
    name: "Ping-pong handovers (A>B>A within 10 s) / all handovers",
    band: Some((0.0, 0.10)),
    published: "real networks tune for a few %",
    source: "network tuning practice; no single publication",
};
pub const UNICITY: Spec = Spec {
    id: "events.unicity_4_points",
    name: "Unicity: share identified by 4 random (hour, cell) points",
    band: Some((0.90, 1.0)),
    published: "95% with 4 points among 1.5M people; higher in smaller populations",
    source: "de Montjoye et al. (2013), Scientific Reports 3",
};
pub const EVENT_RG: Spec = Spec {
    id: "events.radius_of_gyration_km",
    name: "Radius of gyration from events, median over subscribers (km)",
    band: Some((0.0, 5.0)),
    published: "(rg+rg0)^-1.65 e^(-rg/kappa); heavy right tail, most people below a few km",
    source: "González, Hidalgo, Barabási (2008), Nature 453",
};
pub const EVENT_JUMPS: Spec = Spec {
    id: "events.jump_beta",
    name: "Jump lengths from events: beta of (dr+dr0)^-beta e^(-dr/kappa) (reported; judged by the shape against the truth)",
    band: None,
    published: "beta 1.75, dr0 1.5 km",
    source: "González, Hidalgo, Barabási (2008), Nature 453",
};
pub const EVENT_STAYS: Spec = Spec {
    id: "events.stay_duration_beta",
    name: "Stay durations from events: beta of dt^-(1+beta) e^(-dt/tau) (reported)",
    band: None,
    published: "beta 0.8, tau 17 h",
    source: "Song, Koren, Wang, Barabási (2010), Nature Physics 6",
};

pub const EVENT_JUMPS_VS_TRUTH: Spec = Spec {
    id: "events.jump_lengths_vs_truth",
    name: "Jump lengths from events against the truth: two-sample KS distance, jumps of 1 km or more",
    band: Some((0.0, 0.2)),
    published: "cell-level jumps keep the shape of the true jumps above the site spacing",
    source: "González, Hidalgo, Barabási (2008), Nature 453",
};

/// Jumps shorter than this stay within one site's reach and cannot show in
/// cell positions, so the comparison starts here.
pub const JUMP_COMPARE_MIN_KM: f64 = 1.0;

/// Whether the jumps seen from events follow the shape of the true jumps:
/// the two-sample Kolmogorov–Smirnov distance between the two samples of
/// jump lengths of at least [`JUMP_COMPARE_MIN_KM`], with both medians.
/// The true jumps are those within the region (both ends inside the map):
/// the network cannot see beyond it.
pub fn jumps_against_truth(events: &Trajectories, truth: &Trajectories) -> Metric {
    let long = |km: Vec<f64>| -> Vec<f64> {
        km.into_iter()
            .filter(|d| *d >= JUMP_COMPARE_MIN_KM)
            .collect()
    };
    let seen = long(mobility::jump_lengths_km(events));
    let true_jumps = long(mobility::jump_lengths_inside_km(truth));
    let Some(d) = fit::ks_two_sample(&seen, &true_jumps) else {
        return Metric::missing(&EVENT_JUMPS_VS_TRUTH, "no jumps of 1 km or more");
    };
    let median = |v: &[f64]| {
        let s = sorted_finite(v.iter().copied());
        s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
    };
    Metric::judged(
        &EVENT_JUMPS_VS_TRUTH,
        d,
        format!(
            "median {:.2} km from events, {:.2} km true; {} and {} jumps",
            median(&seen),
            median(&true_jumps),
            seen.len(),
            true_jumps.len()
        ),
    )
    .with_plot(Plot::LogLog {
        x_label: "jump length (km)".into(),
        y_label: "P(X >= x)".into(),
        series: vec![
            Series {
                label: "from events".into(),
                points: fit::ccdf_points(&seen, 300),
                line: false,
            },
            Series {
                label: "truth".into(),
                points: fit::ccdf_points(&true_jumps, 300),
                line: true,
            },
        ],
    })
}

/// All event-log metrics; with the ground truth's visits of the same
/// subscribers, also how the jumps seen from events compare with them.
pub fn event_metrics(
    events: &[EventRecord],
    truth: Option<&Trajectories>,
    config: &Config,
) -> Vec<Metric> {
    let calendar = &config.calendar;
    let by_sub = group_sorted(events);
    let traj = stays_from_events(&by_sub);
    let diameter_m = config.map_diameter_m.unwrap_or_else(|| traj.extent_m());
    let mut metrics = vec![
        calls_per_subscriber_day(
            &by_sub,
            config
                .period
                .or_else(|| DayRange::from_events(events, calendar)),
            calendar,
        ),
        inter_event_times(&by_sub),
        night_share(events, calendar),
        tau_periodic(&by_sub, calendar),
        ping_pong(&by_sub),
        unicity(&by_sub, calendar, config.unicity_sample, config.seed),
        mobility::radius_of_gyration(&traj, &EVENT_RG),
        mobility::jump_lengths(&traj, diameter_m, &EVENT_JUMPS),
        mobility::stay_durations(&traj, &EVENT_STAYS),
        motifs::daily_motifs_from_events(&by_sub, calendar),
    ];
    if let Some(truth) = truth {
        metrics.push(jumps_against_truth(&traj, truth));
    }
    metrics
}

/// Events per subscriber in time order (ties by kind, then cell), subscribers
/// in id order.
pub fn group_sorted(events: &[EventRecord]) -> Vec<(u64, Vec<EventRecord>)> {
    let mut map: BTreeMap<u64, Vec<EventRecord>> = BTreeMap::new();
    for e in events {
        map.entry(e.subscriber).or_default().push(*e);
    }
    map.into_iter()
        .map(|(s, mut v)| {
            v.sort_by_key(|e| (e.time_s, e.kind, e.cell));
            (s, v)
        })
        .collect()
}

/// Voice calls per subscriber-day, for every day a subscriber is seen on
/// the network (days seen without a call count as zero).
pub fn calls_per_day_counts(
    by_sub: &[(u64, Vec<EventRecord>)],
    days: DayRange,
    calendar: &Calendar,
) -> Vec<u32> {
    let mut out = Vec::new();
    for (_, list) in by_sub {
        // Only days the subscriber is seen on the network count: a visitor
        // is here a few days of the run, and a day abroad says nothing of
        // how much someone calls.
        let mut per_day: Vec<Option<u32>> = vec![None; days.len().max(0) as usize];
        for e in list {
            let d = local_day(e.time_s, calendar) - days.first;
            if let Some(c) = usize::try_from(d).ok().and_then(|d| per_day.get_mut(d)) {
                *c = Some(c.unwrap_or(0) + u32::from(e.kind.is_voice()));
            }
        }
        out.extend(per_day.into_iter().flatten());
    }
    out
}

/// Calls per subscriber-day: median (the value), p90, p99 and max.
pub fn calls_per_subscriber_day(
    by_sub: &[(u64, Vec<EventRecord>)],
    days: Option<DayRange>,
    calendar: &Calendar,
) -> Metric {
    let Some(days) = days else {
        return Metric::missing(&CALLS_PER_DAY, "no events");
    };
    let counts = sorted_finite(
        calls_per_day_counts(by_sub, days, calendar)
            .into_iter()
            .map(f64::from),
    );
    if counts.is_empty() {
        return Metric::missing(&CALLS_PER_DAY, "no subscriber-days");
    }
    let q = |p| fit::quantile(&counts, p);
    let zero = counts.iter().filter(|c| **c == 0.0).count() as f64 / counts.len() as f64;
    let positive: Vec<f64> = counts.iter().copied().filter(|c| *c > 0.0).collect();
    Metric::judged(
        &CALLS_PER_DAY,
        q(0.5),
        format!(
            "p90 {:.0}, p99 {:.0}, max {:.0}, mean {:.2}; {:.0}% of {} subscriber-days without a call",
            q(0.9),
            q(0.99),
            counts.last().copied().unwrap_or(0.0),
            mean(&counts),
            100.0 * zero,
            counts.len()
        ),
    )
    .with_plot(ccdf_plot("calls per subscriber-day", &positive, Vec::new()))
}

/// Positive gaps in seconds between one subscriber's consecutive activity
/// events (voice, SMS, data), pooled over subscribers. Simultaneous records
/// are one interaction logged twice, so zero gaps are dropped.
pub fn inter_event_gaps_s(by_sub: &[(u64, Vec<EventRecord>)]) -> Vec<f64> {
    by_sub
        .iter()
        .flat_map(|(_, list)| activity_gaps_s(list))
        .collect()
}

/// Positive gaps between one subscriber's time-ordered activity events.
fn activity_gaps_s(list: &[EventRecord]) -> Vec<f64> {
    let times: Vec<i64> = list
        .iter()
        .filter(|e| e.kind.is_activity())
        .map(|e| e.time_s)
        .collect();
    times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0)
        .map(|g| g as f64)
        .collect()
}

/// Burstiness B = (σ − μ)/(σ + μ) of one sequence of gaps (Goh & Barabási
/// 2008): −1 regular, 0 Poisson, towards 1 bursty.
pub fn burstiness(gaps: &[f64]) -> Option<f64> {
    if gaps.len() < 2 {
        return None;
    }
    let m = mean(gaps);
    let sd = (gaps.iter().map(|g| (g - m).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
    (sd + m > 0.0).then(|| (sd - m) / (sd + m))
}

/// Decades of τ between the pooled gaps exceeded by 90% and by 0.1% of
/// gaps. A Poisson process spans under 2 decades; heavy-tailed data 3 or more.
pub fn inter_event_times(by_sub: &[(u64, Vec<EventRecord>)]) -> Metric {
    let gaps = sorted_finite(inter_event_gaps_s(by_sub));
    if gaps.len() < fit::MIN_TAIL {
        return Metric::missing(&INTER_EVENT, "too few activity events");
    }
    let (lo, hi) = (fit::quantile(&gaps, 0.1), fit::quantile(&gaps, 0.999));
    let span = (hi / lo).log10();
    let per_user: Vec<f64> = by_sub
        .iter()
        .filter_map(|(_, list)| {
            let g = activity_gaps_s(list);
            (g.len() >= 10).then(|| burstiness(&g)).flatten()
        })
        .collect();
    let b = sorted_finite(per_user);
    let b_text = if b.is_empty() {
        "n/a".to_string()
    } else {
        format!("{:.2} over {} subscribers", fit::quantile(&b, 0.5), b.len())
    };
    Metric::judged(
        &INTER_EVENT,
        span,
        format!(
            "gaps {lo:.0} s (10%) to {hi:.0} s (0.1%), {} gaps; median individual burstiness {b_text}",
            gaps.len()
        ),
    )
    .with_plot(ccdf_plot("inter-event time (s)", &gaps, Vec::new()))
}

/// Share of activity events in each local hour of the week, Monday 00 h
/// first.
pub fn circadian_profile(events: &[EventRecord], calendar: &Calendar) -> Vec<f64> {
    let mut counts = vec![0.0; 168];
    let mut total = 0.0;
    for e in events.iter().filter(|e| e.kind.is_activity()) {
        let day = local_day(e.time_s, calendar);
        let hour = local_second_of_day(e.time_s, calendar) / 3600;
        counts[weekday(day) as usize * 24 + hour as usize] += 1.0;
        total += 1.0;
    }
    if total > 0.0 {
        for c in &mut counts {
            *c /= total;
        }
    }
    counts
}

/// Share of activity events from 00:00 to 05:59 local time.
pub fn night_share(events: &[EventRecord], calendar: &Calendar) -> Metric {
    let profile = circadian_profile(events, calendar);
    let total: f64 = profile.iter().sum();
    if total <= 0.0 {
        return Metric::missing(&NIGHT_SHARE, "no activity events");
    }
    let night: f64 = (0..7)
        .flat_map(|d| (0..6).map(move |h| d * 24 + h))
        .map(|i| profile[i])
        .sum();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let labels = (0..168)
        .map(|i| format!("{} {:02}h", DAYS[i / 24], i % 24))
        .collect();
    let n = events.iter().filter(|e| e.kind.is_activity()).count();
    Metric::judged(&NIGHT_SHARE, night, format!("{n} activity events")).with_plot(Plot::Bars {
        y_label: "share of activity events per hour of week".into(),
        labels,
        measured: profile,
        reference: None,
    })
}

/// TAU_PERIODIC count for each device-day whose events are all
/// TAU_PERIODIC.
pub fn idle_day_tau_counts(by_sub: &[(u64, Vec<EventRecord>)], calendar: &Calendar) -> Vec<u32> {
    let mut out = Vec::new();
    for (_, list) in by_sub {
        let mut days: BTreeMap<i64, (u32, bool)> = BTreeMap::new();
        for e in list {
            let d = days
                .entry(local_day(e.time_s, calendar))
                .or_insert((0, true));
            if e.kind == EventType::TauPeriodic {
                d.0 += 1;
            } else {
                d.1 = false;
            }
        }
        out.extend(days.into_values().filter(|(_, idle)| *idle).map(|(n, _)| n));
    }
    out
}

/// Periodic tracking-area updates per idle-all-day device-day: the maximum.
pub fn tau_periodic(by_sub: &[(u64, Vec<EventRecord>)], calendar: &Calendar) -> Metric {
    let counts = idle_day_tau_counts(by_sub, calendar);
    let Some(max) = counts.iter().max() else {
        return Metric::missing(&TAU_PERIODIC, "no device-day with only periodic updates");
    };
    let sorted = sorted_finite(counts.iter().map(|c| f64::from(*c)));
    Metric::judged(
        &TAU_PERIODIC,
        f64::from(*max),
        format!(
            "median {:.0} over {} idle device-days",
            fit::quantile(&sorted, 0.5),
            counts.len()
        ),
    )
}

/// (ping-pong handovers, all handovers). A handover's target is its `cell`;
/// the one to A right after one to B, which itself followed one to A, is a
/// ping-pong when it comes within [`PING_PONG_WINDOW_S`] of the one to B.
pub fn ping_pong_counts(by_sub: &[(u64, Vec<EventRecord>)]) -> (usize, usize) {
    let (mut pp, mut total) = (0, 0);
    for (_, list) in by_sub {
        let ho: Vec<&EventRecord> = list
            .iter()
            .filter(|e| e.kind == EventType::Handover)
            .collect();
        total += ho.len();
        pp += ho
            .windows(3)
            .filter(|w| {
                w[2].cell == w[0].cell
                    && w[1].cell != w[2].cell
                    && w[2].time_s - w[1].time_s <= PING_PONG_WINDOW_S
            })
            .count();
    }
    (pp, total)
}

/// Share of handovers that are ping-pongs.
pub fn ping_pong(by_sub: &[(u64, Vec<EventRecord>)]) -> Metric {
    let (pp, total) = ping_pong_counts(by_sub);
    if total == 0 {
        return Metric::missing(&PING_PONG, "no handovers");
    }
    Metric::judged(
        &PING_PONG,
        pp as f64 / total as f64,
        format!("{pp} of {total} handovers"),
    )
}

/// Share of sampled subscribers singled out by [`UNICITY_POINTS`] random
/// points of their own trace (de Montjoye et al. 2013).
///
/// A point is (local hour since the epoch, cell) of any event. Subscribers
/// with fewer distinct points cannot be tested and are not sampled. Up to
/// `sample` subscribers are drawn, and their points, with a `Pcg64Mcg`
/// seeded by `seed`: the same seed and data give the same value.
pub fn unicity_share(
    by_sub: &[(u64, Vec<EventRecord>)],
    calendar: &Calendar,
    sample: usize,
    seed: u64,
) -> Option<(f64, usize)> {
    unicity_share_of_points(by_sub, calendar, sample, seed, UNICITY_POINTS)
}

/// [`unicity_share`] with `points` random points instead of
/// [`UNICITY_POINTS`] (the privacy audit's curve over p = 2..5). With
/// `points` = 4 it draws exactly what [`unicity_share`] draws.
pub fn unicity_share_of_points(
    by_sub: &[(u64, Vec<EventRecord>)],
    calendar: &Calendar,
    sample: usize,
    seed: u64,
    points_drawn: usize,
) -> Option<(f64, usize)> {
    if points_drawn == 0 {
        return None;
    }
    let traces: Vec<Vec<(i64, u64)>> = by_sub
        .iter()
        .map(|(_, list)| {
            // As in de Montjoye et al., the points are the calls and texts
            // the subscriber made or received: their data recorded the
            // antenna at each call or text, not data sessions or signalling.
            let mut points: Vec<(i64, u64)> = list
                .iter()
                .filter(|e| e.kind.is_call_or_text())
                .map(|e| (calendar.local_seconds(e.time_s).div_euclid(3600), e.cell))
                .collect();
            points.sort_unstable();
            points.dedup();
            points
        })
        .collect();
    // Every (point, subscriber index) pair, sorted: the subscribers sharing a
    // point form one ascending run, found by binary search.
    let mut index: Vec<((i64, u64), usize)> = traces
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.iter().map(move |p| (*p, i)))
        .collect();
    index.sort_unstable();
    let holders = |p: (i64, u64)| -> &[((i64, u64), usize)] {
        let lo = index.partition_point(|e| e.0 < p);
        let hi = index.partition_point(|e| e.0 <= p);
        &index[lo..hi]
    };
    let mut eligible: Vec<usize> = (0..traces.len())
        .filter(|&i| traces[i].len() >= points_drawn)
        .collect();
    if eligible.is_empty() || sample == 0 {
        return None;
    }
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let take = sample.min(eligible.len());
    partial_shuffle(&mut eligible, take, &mut rng);
    let mut unique = 0;
    for &who in &eligible[..take] {
        let mut points: Vec<usize> = (0..traces[who].len()).collect();
        partial_shuffle(&mut points, points_drawn, &mut rng);
        let mut lists: Vec<&[((i64, u64), usize)]> = points[..points_drawn]
            .iter()
            .map(|&k| holders(traces[who][k]))
            .collect();
        lists.sort_by_key(|l| l.len());
        let Some((first, rest)) = lists.split_first() else {
            continue;
        };
        let matches = first
            .iter()
            .filter(|(_, c)| {
                rest.iter()
                    .all(|l| l.binary_search_by_key(c, |e| e.1).is_ok())
            })
            .count();
        if matches == 1 {
            unique += 1;
        }
    }
    Some((unique as f64 / take as f64, take))
}

fn partial_shuffle<T>(v: &mut [T], k: usize, rng: &mut Pcg64Mcg) {
    for i in 0..k.min(v.len()) {
        let j = rng.random_range(i..v.len());
        v.swap(i, j);
    }
}

/// Unicity metric on a deterministic sample.
pub fn unicity(
    by_sub: &[(u64, Vec<EventRecord>)],
    calendar: &Calendar,
    sample: usize,
    seed: u64,
) -> Metric {
    match unicity_share(by_sub, calendar, sample, seed) {
        Some((share, n)) => Metric::judged(
            &UNICITY,
            share,
            format!(
                "{n} subscribers sampled (seed {seed}) among {}",
                by_sub.len()
            ),
        ),
        None => Metric::missing(&UNICITY, "no subscriber with 4 distinct points"),
    }
}

/// A stay shorter than this between two stays at one position is taken for
/// an oscillation between neighbouring cells, not a trip.
pub const OSCILLATION_S: i64 = 3600;

/// Removes A → B → A detours whose B lasts less than [`OSCILLATION_S`]: a
/// device that does not move is often served by a neighbouring site for a
/// while, and analysts filter these before measuring mobility.
fn drop_oscillations(visits: Vec<Visit>) -> Vec<Visit> {
    let mut out: Vec<Visit> = Vec::with_capacity(visits.len());
    for (i, v) in visits.iter().enumerate() {
        let between_same = i > 0
            && visits
                .get(i + 1)
                .is_some_and(|next| next.place == visits[i - 1].place && next.place != v.place);
        if between_same && v.end_s - v.start_s < OSCILLATION_S {
            continue;
        }
        out.push(*v);
    }
    out
}

/// Stays detected from events, as described in the module docs. Places are
/// numbered by distinct cell position.
pub fn stays_from_events(by_sub: &[(u64, Vec<EventRecord>)]) -> Trajectories {
    let mut places: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let mut people = Vec::new();
    for (sub, list) in by_sub {
        // (position, first event time) of each run.
        // (position, first event time, last event time) of each run.
        let mut runs: Vec<((f64, f64), i64, i64)> = Vec::new();
        for e in list {
            let pos = (e.cell_x_m, e.cell_y_m);
            match runs.last_mut() {
                Some(r) if r.0 == pos => r.2 = e.time_s,
                _ => runs.push((pos, e.time_s, e.time_s)),
            }
        }
        let last_time = list.last().map(|e| e.time_s).unwrap_or(0);
        let mut visits = Vec::new();
        for (i, (pos, start, seen_until)) in runs.iter().enumerate() {
            let end = runs.get(i + 1).map(|r| r.1).unwrap_or(last_time);
            if seen_until - start < MIN_EVENT_STAY_S {
                continue;
            }
            let key = (pos.0.to_bits(), pos.1.to_bits());
            let next_id = places.len() as u64;
            let place = *places.entry(key).or_insert(next_id);
            visits.push(Visit {
                place,
                start_s: *start,
                end_s: end,
                x_m: pos.0,
                y_m: pos.1,
                activity: Activity::Other,
            });
        }
        people.push((*sub, merge_runs(drop_oscillations(visits))));
    }
    Trajectories { people }
}

#[cfg(test)]
mod tests {
    fn utc() -> Calendar {
        Calendar::fixed_offset(0)
    }

    use super::*;

    fn ev(sub: u64, t: i64, kind: EventType, cell: u64) -> EventRecord {
        EventRecord {
            subscriber: sub,
            time_s: t,
            kind,
            cell,
            cell_x_m: cell as f64 * 1000.0,
            cell_y_m: 0.0,
        }
    }

    #[test]
    fn ping_pong_needs_a_quick_return_to_the_same_cell() {
        use EventType::Handover as H;
        let events = vec![
            // A→B, then back to A 5 s later: one ping-pong.
            ev(1, 100, H, 1),
            ev(1, 200, H, 2),
            ev(1, 205, H, 1),
            // Back to B 60 s later: too slow.
            ev(1, 265, H, 2),
            // Onward to C: not a return.
            ev(1, 266, H, 3),
            // Another subscriber's handovers never pair with these.
            ev(2, 201, H, 2),
            ev(2, 202, H, 3),
            ev(2, 203, H, 2),
            // A voice event in between is not a handover and is skipped.
            ev(2, 204, EventType::VoiceMo, 9),
        ];
        let g = group_sorted(&events);
        assert_eq!(ping_pong_counts(&g), (2, 8));
        let m = ping_pong(&g);
        assert_eq!(m.value, 0.25);
        assert_eq!(m.passed, Some(false));
    }

    #[test]
    fn night_share_uses_local_time_and_activity_events_only() {
        let h = 3600;
        let events = vec![
            // 23:30 UTC = 01:30 at UTC+2: night.
            ev(1, 23 * h + 1800, EventType::SmsMo, 1),
            // 04:30 UTC = 06:30 local: day.
            ev(1, 4 * h + 1800, EventType::VoiceMt, 1),
            ev(1, 10 * h, EventType::DataSession, 1),
            ev(1, 12 * h, EventType::VoiceMo, 1),
            // Signalling at night does not count.
            ev(1, 23 * h, EventType::TauPeriodic, 1),
        ];
        let m = night_share(&events, &Calendar::fixed_offset(2 * h));
        assert_eq!(m.value, 0.25);
        assert_eq!(m.passed, Some(false));
        let profile = circadian_profile(&events, &Calendar::fixed_offset(2 * h));
        assert!((profile.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // 1970-01-02 local is a Friday: the 01:30 event falls at Fri 01 h.
        assert_eq!(profile[4 * 24 + 1], 0.25);
    }

    #[test]
    fn tau_counts_only_idle_device_days() {
        let day = 86_400;
        let mut events = Vec::new();
        // Device 1, day 0: 27 periodic updates, all idle.
        events.extend((0..27).map(|i| ev(1, i * 3240, EventType::TauPeriodic, 1)));
        // Device 1, day 1: 30 updates and a call, not idle.
        events.extend((0..30).map(|i| ev(1, day + i * 2000, EventType::TauPeriodic, 1)));
        events.push(ev(1, day + 500, EventType::VoiceMo, 1));
        // Device 2, day 0: 28 updates, idle: over the limit.
        events.extend((0..28).map(|i| ev(2, i * 3000, EventType::TauPeriodic, 1)));
        let g = group_sorted(&events);
        assert_eq!(idle_day_tau_counts(&g, &utc()), vec![27, 28]);
        let m = tau_periodic(&g, &utc());
        assert_eq!(m.value, 28.0);
        assert_eq!(m.passed, Some(false));
    }

    #[test]
    fn calls_per_day_count_the_days_seen_without_a_call() {
        let day = 86_400;
        let events = vec![
            ev(1, 10, EventType::VoiceMo, 1),
            ev(1, 20, EventType::VoiceMt, 1),
            ev(1, 30, EventType::SmsMo, 1),
            ev(2, day + 5, EventType::VoiceMo, 1),
            ev(2, 2 * day + 5, EventType::DataSession, 1),
        ];
        let g = group_sorted(&events);
        let days = DayRange::from_events(&events, &utc()).expect("days");
        // Subscriber 1 is seen on day 0 only; subscriber 2 on days 1 and 2,
        // with a call on the first.
        assert_eq!(calls_per_day_counts(&g, days, &utc()), vec![2, 1, 0]);
    }

    #[test]
    fn unicity_is_deterministic_and_detects_twins() {
        let mut events = Vec::new();
        // Subscribers 1 and 2 share one trace; 3 has its own.
        for sub in [1, 2] {
            events.extend((0..6).map(|h| ev(sub, h * 3600, EventType::SmsMo, 10 + h as u64)));
        }
        events.extend((0..6).map(|h| ev(3, h * 3600, EventType::VoiceMt, 20 + h as u64)));
        // Data sessions are not points: subscriber 5 has none to test.
        events.extend((0..6).map(|h| ev(5, h * 3600, EventType::DataSession, 30 + h as u64)));
        // Subscriber 4 has too few points to test.
        events.push(ev(4, 0, EventType::VoiceMo, 10));
        let g = group_sorted(&events);
        let (share, n) = unicity_share(&g, &utc(), 100, 1).expect("sample");
        assert_eq!(n, 3);
        assert!((share - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            unicity_share(&g, &utc(), 2, 9),
            unicity_share(&g, &utc(), 2, 9)
        );
    }

    #[test]
    fn event_stays_drop_passing_cells() {
        let events = vec![
            ev(1, 0, EventType::TauPeriodic, 1),
            ev(1, 3000, EventType::TauPeriodic, 1),
            // Passing through cell 2 for 60 s.
            ev(1, 7000, EventType::Handover, 2),
            ev(1, 7060, EventType::Handover, 3),
            ev(1, 9000, EventType::VoiceMo, 3),
            ev(1, 9500, EventType::DataSession, 3),
        ];
        let t = stays_from_events(&group_sorted(&events));
        let v: Vec<(f64, i64, i64)> = t.people[0]
            .1
            .iter()
            .map(|v| (v.x_m, v.start_s, v.end_s))
            .collect();
        assert_eq!(v, vec![(1000.0, 0, 7000), (3000.0, 7060, 9500)]);
    }

    #[test]
    fn a_stay_needs_an_observed_dwell_and_short_detours_are_oscillations() {
        let events = vec![
            ev(1, 0, EventType::VoiceMo, 1),
            ev(1, 1200, EventType::DataSession, 1),
            // One lone event at cell 2, then nothing for two hours: no
            // dwell was observed there.
            ev(1, 2000, EventType::TauPeriodic, 2),
            ev(1, 9200, EventType::VoiceMo, 1),
            // Served from cell 3 for 20 minutes, back at cell 1 within the
            // hour: an oscillation.
            ev(1, 10000, EventType::DataSession, 3),
            ev(1, 11200, EventType::DataSession, 3),
            ev(1, 12000, EventType::VoiceMo, 1),
            ev(1, 13000, EventType::VoiceMo, 1),
            // Cell 4 for two hours is a real stay.
            ev(1, 14000, EventType::DataSession, 4),
            ev(1, 21200, EventType::DataSession, 4),
        ];
        let t = stays_from_events(&group_sorted(&events));
        let v: Vec<(f64, i64, i64)> = t.people[0]
            .1
            .iter()
            .map(|v| (v.x_m, v.start_s, v.end_s))
            .collect();
        assert_eq!(v, vec![(1000.0, 0, 14000), (4000.0, 14000, 21200)]);
    }

    #[test]
    fn burstiness_of_regular_and_bursty_gaps() {
        assert_eq!(burstiness(&[5.0, 5.0, 5.0]), Some(-1.0));
        let b = burstiness(&[1.0, 1.0, 1.0, 1.0, 1000.0]).expect("b");
        assert!(b > 0.3);
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    /// Two subscribers over two days: one shuttles between two sites 4 km
    /// apart with hour-long dwells, the other sits at one site.
    fn log() -> Vec<EventRecord> {
        let at = |sub, t, kind, cell: u64, x: f64| EventRecord {
            subscriber: sub,
            time_s: t,
            kind,
            cell,
            cell_x_m: x,
            cell_y_m: 0.0,
        };
        let mut v = Vec::new();
        for k in 0..48 {
            let (cell, x) = if k % 2 == 0 { (1, 0.0) } else { (2, 4000.0) };
            v.push(at(7, k * 3600, EventType::DataSession, cell, x));
            v.push(at(7, k * 3600 + 1200, EventType::VoiceMo, cell, x));
            v.push(at(8, k * 3600 + 600, EventType::TauPeriodic, 5, 100.0));
        }
        v
    }

    #[test]
    fn event_mobility_recovers_the_shuttle() {
        let events = log();
        let traj = stays_from_events(&group_sorted(&events));
        let shuttle = &traj.people[0].1;
        assert_eq!(shuttle.len(), 48);
        assert_eq!(mobility::radius_of_gyration_m(shuttle), 2000.0);
        assert!(mobility::jump_lengths_km(&traj).iter().all(|d| *d == 4.0));
        // The sitter's periodic updates are one long stay.
        assert_eq!(traj.people[1].1.len(), 1);
    }

    #[test]
    fn event_metrics_speak_plain_words() {
        let metrics = event_metrics(&log(), None, &Config::default());
        let json = serde_json::to_string(&metrics).expect("serialise");
        let leaked = super::super::report::leaked_rust_names(&json);
        assert!(leaked.is_empty(), "Rust names in the report: {leaked:?}");
    }

    #[test]
    fn event_metrics_are_complete_and_independent_of_input_order() {
        let events = log();
        let config = Config::default();
        let a = event_metrics(&events, None, &config);
        let mut reversed = events.clone();
        reversed.reverse();
        let b = event_metrics(&reversed, None, &config);
        let text = |m: &[Metric]| serde_json::to_string(m).expect("serialise");
        assert_eq!(text(&a), text(&b));
        let mut ids: Vec<&str> = a.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), a.len());
        let calls = a.iter().find(|m| m.id == CALLS_PER_DAY.id).expect("calls");
        // Subscriber 7 calls 24 times a day, subscriber 8 never.
        assert_eq!(calls.value, 12.0);
        assert!(
            event_metrics(&[], None, &config)
                .iter()
                .all(|m| m.passed.is_none())
        );
    }
}
