//! The world beyond the map's edge and the map's own time zone, on the real
//! extracts: places outside lie outside the extract at real, plausible
//! distances and never on a border gate; the share of activities outside
//! follows from the map's size; a run on the Monaco extract uses
//! Europe/Monaco without being told, and a scenario whose zone is hours away
//! from its map is warned about.

use std::path::{Path, PathBuf};
use std::process::Command;

use mobsynth::days::{self, PersonDays, World};
use mobsynth::map::{Map, distance};
use mobsynth::population::beyond::Extent;
use mobsynth::population::spatial::find_gates;
use mobsynth::population::{self, Subscriber};
use mobsynth::routing::Router;
use mobsynth::scenario::{BUNDLED_MAP, BUNDLED_MAP_NAME, Scenario};
use rayon::prelude::*;

const MONACO: &str = "../shared/data/osm/monaco.osm.pbf";

fn scenario_text(map: &str, timezone: Option<&str>, residents: u32, days: u32) -> String {
    let tz = timezone.map_or(String::new(), |z| format!("timezone = \"{z}\"\n"));
    format!(
        "name = \"beyond\"\nmap = \"{map}\"\nseed = 7\nsubscribers = {residents}\ndays = {days}\n\
         start = \"2026-03-02\"\n{tz}"
    )
}

fn simulate(map: &Map, residents: u32, days: u32) -> Vec<(Subscriber, PersonDays)> {
    let text = scenario_text(BUNDLED_MAP_NAME, Some("Europe/Vaduz"), residents, days);
    let scenario = Scenario::parse(&text, "beyond.toml", None).expect("scenario");
    let calendar = scenario.calendar().expect("calendar");
    let spec = scenario.spec(&calendar);
    let subs = population::synthesize(&spec, &scenario.population, map).expect("population");
    let router = Router::new(&map.graph);
    let world = World::new(spec, &scenario.mobility, map).expect("world");
    subs.into_par_iter()
        .filter(|s| s.is_person() && !s.is_roamer())
        .map_init(
            || router.query(),
            |q, s| {
                let pd = days::simulate(&world, q, &s);
                (s, pd)
            },
        )
        .collect()
}

/// Checks every stay beyond the edge and returns the share of out-of-home
/// stays that lie beyond it.
fn check_outside(name: &str, map: &Map, people: &[(Subscriber, PersonDays)]) -> f64 {
    let extent = Extent::of(&map.graph);
    let gates = find_gates(&map.graph);
    let (mut away, mut outside) = (0usize, 0usize);
    let mut far = Vec::new();
    for (sub, pd) in people {
        let home = map.place(sub.home).pos;
        for s in &pd.stays {
            if s.place == Some(sub.home) {
                continue;
            }
            away += 1;
            if !s.out_of_area() {
                continue;
            }
            outside += 1;
            assert!(
                !extent.contains(s.pos),
                "{name}: {:?} is inside the extract",
                s.pos
            );
            for g in &gates {
                assert!(
                    distance(g.pos, s.pos) > 100.0,
                    "{name}: a stay outside sits on the gate at {:?}",
                    g.pos
                );
            }
            let (lon, lat) = map.lon_lat(s.pos);
            assert!((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat));
            // Plausible: within a day's travel of home (a jump may start from
            // a stop other than home, so a place outside can be close to a
            // home near the edge).
            let km = distance(home, s.pos) / 1000.0;
            assert!(km < 2_000.0, "{name}: a stay {km} km from home");
            far.push(km);
        }
        for t in &pd.trips {
            let (a, b) = (&pd.stays[t.from_stay], &pd.stays[t.to_stay]);
            // The real distance is at least the straight line between both ends.
            assert!(
                t.distance_m + 1.0 >= distance(a.pos, b.pos),
                "{name}: trip of {} m between ends {} m apart",
                t.distance_m,
                distance(a.pos, b.pos)
            );
            if a.out_of_area() || b.out_of_area() {
                assert!(
                    t.outside.is_some(),
                    "{name}: a trip beyond the edge has no outside part"
                );
            }
        }
    }
    assert!(away > 0, "{name}: nobody left home");
    // Places outside spread over the jump law's range, not piled at the edge.
    far.sort_by(f64::total_cmp);
    if let Some(&median) = far.get(far.len() / 2) {
        eprintln!("{name}: places outside, median {median:.1} km from home");
        assert!(median > 1.0 && median < 100.0, "{name}: median {median} km");
    }
    outside as f64 / away as f64
}

#[test]
fn places_beyond_the_edge_are_real_and_follow_the_map_size() {
    let liechtenstein =
        Map::load_bytes(BUNDLED_MAP_NAME.as_ref(), BUNDLED_MAP).expect("bundled map");
    let people = simulate(&liechtenstein, 300, 7);
    let share_li = check_outside("Liechtenstein", &liechtenstein, &people);
    eprintln!("Liechtenstein: {share_li:.3} of out-of-home stays beyond the edge");
    assert!(share_li > 0.01, "{share_li}");
    if Path::new(MONACO).exists() {
        let monaco = Map::load(Path::new(MONACO)).expect("Monaco map");
        let people = simulate(&monaco, 300, 7);
        let share_mc = check_outside("Monaco", &monaco, &people);
        eprintln!("Monaco: {share_mc:.3} of out-of-home stays beyond the edge");
        // On a 2 km² extract most out-of-home activities lie beyond it, far
        // more than in a 160 km² country.
        assert!(share_mc > 0.5, "{share_mc}");
        assert!(share_mc > 1.5 * share_li, "{share_mc} vs {share_li}");
    }
}

#[test]
fn a_scenario_without_a_time_zone_takes_the_map_s_and_a_far_one_warns() {
    if !Path::new(MONACO).exists() {
        return;
    }
    let here = Some(PathBuf::from("."));
    let s = Scenario::parse(&scenario_text(MONACO, None, 10, 1), "m.toml", here.clone())
        .expect("scenario without a zone");
    assert_eq!(s.timezone, "Europe/Monaco");
    assert!(s.timezone_from_map);
    assert!(s.time_zone_warning().is_none());
    // No US extract is shared here: a US zone on the Monaco map stands for
    // a Vaduz scenario run on a US map (the same six hours apart).
    let far = Scenario::parse(
        &scenario_text(MONACO, Some("America/New_York"), 10, 1),
        "m.toml",
        here.clone(),
    )
    .expect("scenario");
    let warning = far.time_zone_warning().expect("a warning");
    assert!(warning.contains("America/New_York") && warning.contains("Europe/Monaco"));
    // A neighbouring zone of the same offset is no disagreement.
    let near = Scenario::parse(
        &scenario_text(MONACO, Some("Europe/Vaduz"), 10, 1),
        "m.toml",
        here,
    )
    .expect("scenario");
    assert!(near.time_zone_warning().is_none());
}

#[test]
fn run_with_another_map_uses_its_time_zone_and_records_it() {
    if !Path::new(MONACO).exists() {
        return;
    }
    let out = std::env::temp_dir().join(format!("mobsynth-beyond-{}", std::process::id()));
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mobsynth"))
            .args(["run", "--map", MONACO, "--subscribers", "20", "--days", "1"])
            .args(["--yes", "--overwrite", "-o"])
            .arg(&out)
            .args(extra)
            .output()
            .expect("mobsynth runs")
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("time zone: Europe/Monaco"), "{stderr}");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("\"timezone\": \"Europe/Monaco\""),
        "{manifest}"
    );
    // --timezone overrides, and a zone six hours away is warned about.
    let o = run(&["--timezone", "America/New_York", "-q"]);
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("Europe/Monaco"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&out);
}
