//! The event log of a whole run, on the default map, lands in the realism
//! bands of TARGETS.md that the radio and events stages promise. A CI-sized
//! run of four weeks; the issue notes hold the full-size figures.

use std::collections::{HashMap, HashSet};
use std::process::Command;

use mobsynth::validate::Metric;
use mobsynth::validate::dataset::{evaluate, load};

fn metrics() -> Vec<Metric> {
    let dir = std::env::temp_dir().join(format!("mobsynth-realism-events-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args([
            "run",
            "--subscribers",
            "500",
            "--days",
            "28",
            "--quiet",
            "-o",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = load(&dir, None).unwrap();
    everyone_is_seen_only_while_in_the_region(&data);
    let m = evaluate(&data);
    // The command-line validator, as a CI pipeline would run it, judges the
    // bands the population and radio stages promise and exits 0.
    let strict = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(["validate", dir.to_str().unwrap(), "--strict", "--only"])
        .arg(PROMISED.join(","))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        strict.status.success(),
        "{}{}",
        String::from_utf8_lossy(&strict.stdout),
        String::from_utf8_lossy(&strict.stderr)
    );
    m
}

/// No event falls outside the time a subscriber's truth covers: inbound
/// roamers in particular appear on the network only during their visit.
fn everyone_is_seen_only_while_in_the_region(data: &mobsynth::validate::dataset::LoadedDataset) {
    let mut span: HashMap<u64, (i64, i64)> = HashMap::new();
    // The truth's span includes a trip still under way when the run ends
    // (the stay it leads to is not written).
    let times = data
        .stays
        .iter()
        .map(|s| (s.subscriber, s.start_s, s.end_s));
    let trips = data
        .trips
        .iter()
        .map(|t| (t.subscriber, t.start_s, t.end_s));
    for (sub, start, end) in times.chain(trips) {
        let e = span.entry(sub).or_insert((start, end));
        *e = (e.0.min(start), e.1.max(end));
    }
    let roamers: HashSet<u64> = data
        .persons
        .iter()
        .filter(|p| !p.resident)
        .map(|p| p.subscriber)
        .collect();
    let mut roamer_events = 0;
    for e in &data.events {
        let (from, to) = span[&e.subscriber];
        assert!(
            (from..=to).contains(&e.time_s),
            "subscriber {} has {:?} at {}, outside its truth {from}..{to}",
            e.subscriber,
            e.kind,
            e.time_s
        );
        roamer_events += usize::from(roamers.contains(&e.subscriber));
    }
    assert!(roamer_events > 0, "the visitors' events are missing");
}

/// The metrics the population and radio stages promise to keep in band
/// (the truth's stay-duration exponent is a known gap, see docs/MODEL.md).
const PROMISED: &[&str] = &[
    "truth.leave_home.",
    "truth.trips_per_day.",
    "truth.mode_share.",
    "truth.travel_minutes",
    "truth.distinct_locations_slope",
    "truth.zipf_zeta",
    "truth.exploration_gamma",
    "truth.uncorrelated_entropy",
    "truth.motifs_top17",
    "events.calls_per_day_median",
    "events.inter_event_decades",
    "events.night_share",
    "events.tau_periodic_max_per_idle_day",
    "events.ping_pong_share",
    "events.radius_of_gyration_km",
    "events.jump_lengths_vs_truth",
    "events.motifs_top17",
    "events.unicity_4_points",
];

fn value(metrics: &[Metric], id: &str) -> f64 {
    let m = metrics
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("no metric {id}"));
    eprintln!("{id}: {} ({})", m.value, m.detail);
    m.value
}

#[test]
fn the_event_log_lands_in_the_published_bands() {
    let m = metrics();
    let calls = value(&m, "events.calls_per_day_median");
    assert!(
        (1.0..=5.0).contains(&calls),
        "median calls per subscriber-day {calls}"
    );
    let decades = value(&m, "events.inter_event_decades");
    assert!(decades >= 3.0, "inter-event times span {decades} decades");
    let night = value(&m, "events.night_share");
    assert!(night < 0.10, "night share {night}");
    let tau = value(&m, "events.tau_periodic_max_per_idle_day");
    assert!(tau <= 27.0, "{tau} periodic TAUs in an idle device-day");
    let ping_pong = value(&m, "events.ping_pong_share");
    assert!(ping_pong < 0.10, "ping-pong share {ping_pong}");
    // From events alone the radius of gyration is that of the region the
    // network sees (time beyond the map's edge is off this network): most
    // people within a few km. The truth's, with places beyond the edge, is
    // judged by its tail in the realism tests of the truth.
    let rg_events = value(&m, "events.radius_of_gyration_km");
    assert!(rg_events < 5.0, "events {rg_events} km");
    // Jumps seen from cell positions keep the shape of the true jumps above
    // the site spacing: a small two-sample KS distance.
    let jumps = m
        .iter()
        .find(|m| m.id == "events.jump_lengths_vs_truth")
        .expect("jump comparison");
    eprintln!("{}: {} ({})", jumps.id, jumps.value, jumps.detail);
    assert_eq!(jumps.passed, Some(true), "KS distance {}", jumps.value);
    // Four (hour, cell) points of calls and texts single out nearly everyone.
    let unicity = value(&m, "events.unicity_4_points");
    assert!(unicity >= 0.9, "unicity {unicity}");
}
