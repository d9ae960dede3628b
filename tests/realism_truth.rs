//! The ground truth of a CI-sized run, judged by the validator's own truth
//! metrics against the good bands of the realism targets: on the bundled
//! Liechtenstein map and, when the shared extracts are present, on Monaco
//! (a 2 km² extract, where most activities lie beyond the edge) for the
//! survey figures and the jump law.
//!
//! `cargo test --release --test realism_truth -- --nocapture` prints every
//! metric with its band.

use std::path::Path;

use mobsynth::days::{self, World};
use mobsynth::map::Map;
use mobsynth::population;
use mobsynth::routing::Router;
use mobsynth::scenario::{BUNDLED_MAP, BUNDLED_MAP_NAME, Scenario};
use mobsynth::validate::simulated::truth_records;
use mobsynth::validate::{Config, DayRange, Metric, report, truth_metrics};
use rayon::prelude::*;

const RESIDENTS: u32 = 1000;
const DAYS: u32 = 28;

/// The realism targets' metrics of the truth tables, asserted.
const ASSERTED: &[&str] = &[
    "truth.leave_home.weekday",
    "truth.leave_home.sunday",
    "truth.trips_per_day.all",
    "truth.trips_per_day.age30_49",
    "truth.trips_per_day.age80",
    "truth.mode_share.walk",
    "truth.mode_share.bike",
    "truth.mode_share.car_driver",
    "truth.mode_share.car_passenger",
    "truth.mode_share.public_transport",
    "truth.travel_minutes",
    "truth.distinct_locations_slope",
    "truth.zipf_zeta",
    "truth.exploration_gamma",
    "truth.uncorrelated_entropy",
    "truth.motifs_top17",
    "truth.jump_beta",
    "truth.radius_of_gyration_tail",
    "truth.visitation_law_eta",
    "truth.returners_share",
];

/// On a small extract, the figures that depend on the world beyond the edge.
const ASSERTED_SMALL_MAP: &[&str] = &[
    "truth.trips_per_day.all",
    "truth.mode_share.walk",
    "truth.mode_share.bike",
    "truth.mode_share.car_driver",
    "truth.mode_share.car_passenger",
    "truth.mode_share.public_transport",
    "truth.travel_minutes",
    "truth.jump_beta",
    "truth.radius_of_gyration_tail",
    "truth.visitation_law_eta",
];

/// Simulates the residents and roamers of a 28-day run and measures it.
fn measure(map: &Map, timezone: &str) -> Vec<Metric> {
    let text = format!(
        "name = \"realism\"\nmap = \"{BUNDLED_MAP_NAME}\"\nseed = 2026\nsubscribers = {RESIDENTS}\n\
         days = {DAYS}\nstart = \"2026-03-02\"\ntimezone = \"{timezone}\"\n"
    );
    let scenario = Scenario::parse(&text, "realism.toml", None).expect("scenario");
    let calendar = scenario.calendar().expect("calendar");
    let spec = scenario.spec(&calendar);
    let subs = population::synthesize(&spec, &scenario.population, map).expect("population");
    let router = Router::new(&map.graph);
    let world = World::new(spec, &scenario.mobility, map).expect("world");
    let people: Vec<_> = subs
        .into_par_iter()
        .filter(|s| s.is_person())
        .map_init(
            || router.query(),
            |q, s| {
                let pd = days::simulate(&world, q, &s);
                (s, pd)
            },
        )
        .collect();
    let records = truth_records(people.iter().map(|(s, pd)| (s, pd)));
    // The run's days, as a dataset's manifest gives them to the validator.
    let days = calendar.days();
    let config = Config {
        period: Some(DayRange {
            first: days[0].epoch_day(),
            last: days[days.len() - 1].epoch_day(),
        }),
        calendar: calendar.clone(),
        ..Config::default()
    };
    truth_metrics(&records.persons, &records.stays, &records.trips, &config)
}

/// The asserted metrics that are missing or outside their band.
fn failures(name: &str, metrics: &[Metric], asserted: &[&str]) -> Vec<String> {
    eprintln!("{name}:\n{}", report::terminal_table(metrics));
    asserted
        .iter()
        .map(|id| match metrics.iter().find(|m| m.id == *id) {
            None => format!("{name}: {id} not measured"),
            Some(m) if m.passed == Some(true) => String::new(),
            Some(m) => format!("{name}: {id} = {:.3} outside {:?}", m.value, m.band),
        })
        .filter(|f| !f.is_empty())
        .collect()
}

#[test]
fn ground_truth_lands_in_the_good_bands() {
    let map = Map::load_bytes(BUNDLED_MAP_NAME.as_ref(), BUNDLED_MAP).expect("bundled map");
    let metrics = measure(&map, "Europe/Vaduz");
    let mut failed = failures("Liechtenstein", &metrics, ASSERTED);

    // Inbound roamers are reported on their own and not judged: tourists
    // stay a few days of the four weeks.
    let days = metrics
        .iter()
        .find(|m| m.id == "truth.roamers.days_present")
        .expect("roamer summary");
    assert!(days.value > 1.0 && days.value < 7.0, "{}", days.value);
    assert_eq!(days.passed, None);

    let monaco = Path::new("../shared/data/osm/monaco.osm.pbf");
    if monaco.exists() {
        let map = Map::load(monaco).expect("Monaco map");
        failed.extend(failures(
            "Monaco",
            &measure(&map, "Europe/Monaco"),
            ASSERTED_SMALL_MAP,
        ));
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
