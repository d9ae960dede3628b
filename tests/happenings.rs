//! Happenings on real runs of the bundled map: a gathering fills its venue's
//! cells and its attendees are in the truth; an outage's sites carry nothing
//! in the window while their neighbours gain; a closure leaves no stay at a
//! closed place; relocated residents leave their homes; parts agree;
//! `validate` judges the days without happenings and reports the happening
//! day apart.
//! Each test compares the run with the same scenario without the
//! happening, which is the independent reference.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{i64s, mobsynth, ms, read_parquet, strings, temp};
use mobsynth::{Model, Options, Scenario, Table};

fn scenario(name: &str, subscribers: u32) -> Scenario {
    let mut s = Scenario::from_file(Path::new(&format!("scenarios/{name}.toml"))).unwrap();
    s.subscribers = subscribers;
    s
}

fn without_happenings(mut s: Scenario) -> Scenario {
    s.happenings.clear();
    s
}

/// (subscriber, event id, time ms, cell id) of every event.
type EventRow = (i64, i64, i64, i64);
/// (subscriber, start ms, end ms, activity, place id) of every stay.
type StayRow = (i64, i64, i64, String, Option<i64>);

struct Run {
    model: Model,
    events: Vec<EventRow>,
    stays: Vec<StayRow>,
    participants: Vec<(i64, i64)>,
}

fn run(s: Scenario, part: u32, parts: u32) -> Run {
    let model = Model::build(s).unwrap();
    let (mut events, mut stays, mut participants) = (Vec::new(), Vec::new(), Vec::new());
    {
        let g = model.generator(Options { part, parts }).unwrap();
        if let Some(b) = g.whole_table(Table::HappeningParticipants) {
            let (h, sub) = (i64s(&b, "happening_id"), i64s(&b, "subscriber_id"));
            for i in 0..b.num_rows() {
                participants.push((h[i].unwrap(), sub[i].unwrap()));
            }
        }
        for chunk in g.chunks() {
            for (_, b) in chunk.table(Table::Events) {
                let (sub, id, t, cell) = (
                    i64s(b, "subscriber_id"),
                    i64s(b, "event_id"),
                    ms(b, "timestamp"),
                    i64s(b, "cell_id"),
                );
                for i in 0..b.num_rows() {
                    events.push((sub[i].unwrap(), id[i].unwrap(), t[i], cell[i].unwrap()));
                }
            }
            for (_, b) in chunk.table(Table::Stays) {
                let (sub, start, end, act, place) = (
                    i64s(b, "subscriber_id"),
                    ms(b, "start"),
                    ms(b, "end"),
                    strings(b, "activity"),
                    i64s(b, "place_id"),
                );
                for i in 0..b.num_rows() {
                    stays.push((sub[i].unwrap(), start[i], end[i], act[i].clone(), place[i]));
                }
            }
        }
    }
    Run {
        model,
        events,
        stays,
        participants,
    }
}

/// Cells by id: (site, x, y).
fn cells(model: &Model) -> HashMap<i64, (u32, f64, f64)> {
    model
        .network()
        .cells()
        .iter()
        .map(|c| (c.id.0 as i64, (c.site, c.pos.x, c.pos.y)))
        .collect()
}

fn near(a: (f64, f64), b: geo::Coord, r: f64) -> bool {
    ((a.0 - b.x).powi(2) + (a.1 - b.y).powi(2)).sqrt() <= r
}

#[test]
fn a_gathering_fills_its_venue_and_lists_its_attendees() {
    let with = run(scenario("gathering", 1500), 0, 1);
    let h = &with.model.happenings().items[0];
    let venue = with.model.map().place(h.venue.unwrap()).pos;
    let attendees: HashSet<i64> = with.participants.iter().map(|p| p.1).collect();
    assert_eq!(attendees.len(), 600);
    // Attendees stay at the venue during the event; nobody else is made to.
    let (from, to) = (h.start * 1000, h.end * 1000);
    let at_venue: HashSet<i64> = with
        .stays
        .iter()
        .filter(|s| s.4 == h.venue.map(|p| p.0 as i64) && s.1 <= from && s.2 >= to)
        .map(|s| s.0)
        .collect();
    let attended = attendees.intersection(&at_venue).count();
    assert!(
        attended as f64 >= 0.9 * attendees.len() as f64,
        "{attended} of 600 at the venue"
    );
    // Events on the venue's cells in the window: a peak against the run
    // without the gathering.
    let without = run(without_happenings(scenario("gathering", 1500)), 0, 1);
    let cells = cells(&with.model);
    let count = |r: &Run| {
        r.events
            .iter()
            .filter(|e| {
                e.2 >= from && e.2 < to && near((cells[&e.3].1, cells[&e.3].2), venue, 1000.0)
            })
            .count()
    };
    let (peak, usual) = (count(&with), count(&without));
    assert!(
        peak > 3 * usual.max(1),
        "venue cells: {peak} events with the gathering, {usual} without"
    );
}

#[test]
fn an_outage_silences_its_sites_and_neighbours_gain() {
    let with = run(scenario("outage", 1000), 0, 1);
    let without = run(without_happenings(scenario("outage", 1000)), 0, 1);
    let h = &with.model.happenings().items[0];
    assert!(!h.sites.is_empty());
    let cells = cells(&with.model);
    let (from, to) = (h.start * 1000, h.end * 1000);
    let in_window = |r: &Run, dark: bool| {
        r.events
            .iter()
            .filter(|e| e.2 >= from && e.2 < to)
            .filter(|e| {
                let (site, x, y) = cells[&e.3];
                let center = h.center.unwrap();
                h.sites.contains(&site) == dark && (dark || near((x, y), center, 6000.0))
            })
            .count()
    };
    assert_eq!(
        in_window(&with, true),
        0,
        "events on dark sites in the window"
    );
    assert!(in_window(&without, true) > 0);
    assert!(
        in_window(&with, false) > in_window(&without, false),
        "neighbours: {} with the outage, {} without",
        in_window(&with, false),
        in_window(&without, false)
    );
    // Outside the window, nothing changes.
    let outside = |r: &Run| {
        let mut v: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.2 < from - 3_600_000)
            .copied()
            .collect();
        v.sort();
        v
    };
    assert_eq!(outside(&with), outside(&without));
}

#[test]
fn a_closure_leaves_no_stay_at_closed_places() {
    let mut s = scenario("closure", 1000);
    s.happenings[0].compliance = Some(1.0);
    let with = run(s.clone(), 0, 1);
    let without = run(without_happenings(s), 0, 1);
    let h = &with.model.happenings().items[0];
    let map = with.model.map();
    let residents: HashSet<i64> = with
        .model
        .subscribers()
        .iter()
        .filter(|s| s.roaming.is_none())
        .map(|s| i64::from(s.id.0))
        .collect();
    let (from, to) = (h.start * 1000, h.end * 1000);
    let closed = |r: &Run| {
        r.stays
            .iter()
            .filter(|s| residents.contains(&s.0) && s.3 != "home" && s.1 < to && s.2 > from)
            .filter(|s| {
                s.4.is_some_and(|p| {
                    let place = map.place(mobsynth::map::PlaceId(p as u32));
                    near((place.pos.x, place.pos.y), h.center.unwrap(), h.radius_m)
                        && h.closed.contains(&place.class)
                })
            })
            .count()
    };
    assert!(
        closed(&without) > 20,
        "the area is visited on ordinary days"
    );
    assert_eq!(closed(&with), 0, "stays at closed places in the window");
}

#[test]
fn a_closure_of_geojson_zones_leaves_no_stay_inside_them() {
    // Central Vaduz as one GeoJSON square, its places of the closed kinds
    // (homes are never closed) shut; the point-in-square test below is the
    // independent check.
    let (w, e, south, north) = (9.505, 9.535, 47.130, 47.150);
    let dir = temp("closure-zones");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("zones.geojson");
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","id":"centre","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[[[{w},{south}],[{e},{south}],[{e},{north}],[{w},{north}],[{w},{south}]]]}}}}]}}"#
        ),
    )
    .unwrap();
    let mut s = scenario("closure", 1000);
    let h = &mut s.happenings[0];
    (h.lon, h.lat, h.radius_m) = (None, None, None);
    h.zone_file = Some(file.display().to_string());
    h.zone_ids = vec!["centre".into()];
    h.compliance = Some(1.0);
    let with = run(s.clone(), 0, 1);
    let without = run(without_happenings(s), 0, 1);
    let h = &with.model.happenings().items[0];
    let map = with.model.map();
    let (from, to) = (h.start * 1000, h.end * 1000);
    let inside = |r: &Run| {
        r.stays
            .iter()
            .filter(|s| s.3 != "home" && s.1 < to && s.2 > from)
            .filter(|s| {
                s.4.is_some_and(|p| {
                    let place = map.place(mobsynth::map::PlaceId(p as u32));
                    let (lon, lat) = map.lon_lat(place.pos);
                    (w..e).contains(&lon)
                        && (south..north).contains(&lat)
                        && h.closed.contains(&place.class)
                })
            })
            .filter(|s| with.model.subscribers()[s.0 as usize].roaming.is_none())
            .count()
    };
    assert!(
        inside(&without) > 20,
        "the zone is visited on ordinary days"
    );
    assert_eq!(inside(&with), 0, "stays in the closed zone in the window");
}

#[test]
fn relocated_residents_leave_their_homes() {
    let with = run(scenario("relocation", 800), 0, 1);
    let h = &with.model.happenings().items[0];
    let movers: HashSet<i64> = with.participants.iter().map(|p| p.1).collect();
    assert!(!movers.is_empty());
    let later = (h.start + 4 * 3600) * 1000;
    for s in with
        .stays
        .iter()
        .filter(|s| movers.contains(&s.0) && s.2 > later)
    {
        // Their new home lies beyond the map's edge: no place of the map.
        assert!(
            s.3 == "home" && s.4.is_none(),
            "a relocated resident stays {s:?}"
        );
    }
    // Their homes were in the area, and others there stayed.
    let map = with.model.map();
    for sub in with
        .model
        .subscribers()
        .iter()
        .filter(|s| movers.contains(&i64::from(s.id.0)))
    {
        let home = map.place(sub.home).pos;
        assert!(near((home.x, home.y), h.center.unwrap(), h.radius_m));
    }
    let moved_events = with
        .events
        .iter()
        .filter(|e| movers.contains(&e.0) && e.2 > later)
        .count();
    assert_eq!(
        moved_events, 0,
        "relocated residents' phones are on another network"
    );
}

#[test]
fn residents_relocated_within_the_map_live_from_their_new_homes_and_return() {
    let with = run(scenario("relocation-within", 800), 0, 1);
    let without = run(without_happenings(scenario("relocation-within", 800)), 0, 1);
    let h = &with.model.happenings().items[0];
    let (to, to_radius) = h.destination.unwrap();
    let map = with.model.map();
    let movers: HashSet<i64> = with.participants.iter().map(|p| p.1).collect();
    assert!(movers.len() >= 10, "{} movers", movers.len());
    let place_pos = |p: i64| {
        let pos = map.place(mobsynth::map::PlaceId(p as u32)).pos;
        (pos.x, pos.y)
    };
    // The day between the move and the return: every home stay of a mover
    // is in the destination area, and they still go out (trips from there).
    let (mid_from, mid_to) = ((h.start + 24 * 3600) * 1000, (h.start + 30 * 3600) * 1000);
    let mut mover_homes = 0;
    let mut out_mid = 0;
    for s in with.stays.iter().filter(|s| movers.contains(&s.0)) {
        if s.1 >= mid_from && s.1 < mid_to {
            if s.3 == "home" {
                mover_homes += 1;
                assert!(
                    near(place_pos(s.4.unwrap()), to, to_radius),
                    "a mover's home stay {s:?} is not in the destination area"
                );
            } else {
                out_mid += 1;
            }
        }
    }
    assert!(
        mover_homes > 0 && out_mid > 0,
        "{mover_homes} home stays, {out_mid} others"
    );
    // After the end, they are home again: the last home stay of a mover is
    // the same home as without the happening.
    let last_home = |stays: &[StayRow], sub: i64| {
        stays
            .iter()
            .filter(|s| s.0 == sub && s.3 == "home")
            .max_by_key(|s| s.1)
            .and_then(|s| s.4)
    };
    // A mover out late on the last evening moves back after the run ends
    // (the move needs both homes free for the trip and ten minutes).
    let back = movers
        .iter()
        .filter(|&&m| last_home(&with.stays, m) == last_home(&without.stays, m))
        .count();
    assert!(
        back * 10 >= movers.len() * 8,
        "{back} of {} back",
        movers.len()
    );
    for &m in &movers {
        let home = last_home(&with.stays, m).unwrap();
        assert!(
            last_home(&without.stays, m) == Some(home) || near(place_pos(home), to, to_radius),
            "mover {m} ends at neither home"
        );
    }
    // Others are untouched: the same stays as without the happening.
    let others = |r: &Run| -> Vec<StayRow> {
        let mut v: Vec<StayRow> = r
            .stays
            .iter()
            .filter(|s| !movers.contains(&s.0))
            .cloned()
            .collect();
        v.sort();
        v
    };
    assert_eq!(others(&with), others(&without));
}

#[test]
fn residents_relocated_into_geojson_zones_have_their_new_homes_there() {
    let (w, e, south, north) = (9.505, 9.535, 47.130, 47.150);
    let dir = temp("relocation-zones");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("zones.geojson");
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"name":"Vaduz"}},"geometry":{{"type":"Polygon","coordinates":[[[{w},{south}],[{e},{south}],[{e},{north}],[{w},{north}],[{w},{south}]]]}}}}]}}"#
        ),
    )
    .unwrap();
    let mut s = scenario("relocation-within", 600);
    let h = &mut s.happenings[0];
    (h.to_lon, h.to_lat, h.to_radius_m) = (None, None, None);
    h.to_zone_file = Some(file.display().to_string());
    h.to_zone_ids = vec!["Vaduz".into()];
    h.zone_id_property = Some("name".into());
    let with = run(s, 0, 1);
    let h = &with.model.happenings().items[0];
    let map = with.model.map();
    let movers: HashSet<i64> = with.participants.iter().map(|p| p.1).collect();
    assert!(movers.len() >= 10, "{} movers", movers.len());
    let (mid_from, mid_to) = ((h.start + 24 * 3600) * 1000, (h.start + 30 * 3600) * 1000);
    let homes: Vec<(f64, f64)> = with
        .stays
        .iter()
        .filter(|s| movers.contains(&s.0) && s.3 == "home" && s.1 >= mid_from && s.1 < mid_to)
        .map(|s| map.lon_lat(map.place(mobsynth::map::PlaceId(s.4.unwrap() as u32)).pos))
        .collect();
    assert!(!homes.is_empty());
    for (lon, lat) in homes {
        assert!(
            (w..e).contains(&lon) && (south..north).contains(&lat),
            "a mover's home at ({lon}, {lat}) is outside the destination zone"
        );
    }
}

#[test]
fn parts_make_the_same_events_with_happenings() {
    let whole = run(scenario("gathering", 300), 0, 1);
    let mut events = Vec::new();
    let mut participants = Vec::new();
    for p in 0..2 {
        let r = run(scenario("gathering", 300), p, 2);
        events.extend(r.events);
        participants.extend(r.participants);
    }
    let mut a = whole.events.clone();
    a.sort();
    events.sort();
    assert_eq!(a, events);
    let mut b = whole.participants.clone();
    b.sort();
    participants.sort();
    assert_eq!(b, participants);
}

/// Trips of residents (people, not roamers or IoT devices) per date
/// partition of `truth/trips`, and the number of residents: the files as
/// the writer split them, read without the validator.
fn resident_trips_by_date(dir: &Path) -> (HashMap<String, u64>, u64) {
    let mut residents = HashSet::new();
    for b in read_parquet(&dir.join("subscribers.parquet")) {
        let (id, roamer, device) = (
            i64s(&b, "subscriber_id"),
            strings(&b, "roamer"),
            strings(&b, "device"),
        );
        for i in 0..b.num_rows() {
            if roamer[i] == "false" && device[i] != "iot" {
                residents.insert(id[i].unwrap());
            }
        }
    }
    let mut trips = HashMap::new();
    for entry in std::fs::read_dir(dir.join("truth/trips")).unwrap() {
        let path = entry.unwrap().path();
        let date = path.file_name().unwrap().to_string_lossy()["date=".len()..].to_string();
        for file in std::fs::read_dir(&path).unwrap() {
            for b in read_parquet(&file.unwrap().path()) {
                let n = i64s(&b, "subscriber_id")
                    .into_iter()
                    .filter(|s| residents.contains(&s.unwrap()))
                    .count() as u64;
                *trips.entry(date.clone()).or_insert(0) += n;
            }
        }
    }
    (trips, residents.len() as u64)
}

fn metric<'a>(list: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no metric {id}"))
}

#[test]
fn validate_judges_the_days_without_happenings_and_reports_the_happening_day_apart() {
    // The closure (a flood) closes Vaduz's centre all Tuesday of a
    // Monday-to-Wednesday run.
    let dir = temp("validate-closure");
    let out = mobsynth(&[
        "run",
        "scenarios/closure.toml",
        "--subscribers",
        "600",
        "-q",
        "--yes",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (json, html) = (dir.join("validate.json"), dir.join("validate.html"));
    let out = mobsynth(&[
        "validate",
        dir.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--report",
        html.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("judged on the 2 day(s) without happenings: 2026-03-02, 2026-03-04"),
        "{text}"
    );
    assert!(
        text.contains("happening days, measured apart and not judged: 2026-03-03"),
        "{text}"
    );

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["happening_days"], serde_json::json!(["2026-03-03"]));
    assert_eq!(
        v["ordinary_days"],
        serde_json::json!(["2026-03-02", "2026-03-04"])
    );
    assert_eq!(v["happenings"][0]["kind"], "closure");
    assert_eq!(
        v["happenings"][0]["dates"],
        serde_json::json!(["2026-03-03"])
    );

    // Trips per person-day recomputed from the trips' date partitions: the
    // judged value leaves Tuesday out of both the trips and the days; the
    // happening day's value is Tuesday's alone.
    let (trips, residents) = resident_trips_by_date(&dir);
    let ordinary = (trips["2026-03-02"] + trips["2026-03-04"]) as f64 / (2 * residents) as f64;
    let tuesday = trips["2026-03-03"] as f64 / residents as f64;
    let judged = metric(&v["metrics"], "truth.trips_per_day.all");
    let apart = metric(&v["happening_day_metrics"], "truth.trips_per_day.all");
    assert!(
        (judged["value"].as_f64().unwrap() - ordinary).abs() < 1e-9,
        "{judged} vs {ordinary}"
    );
    assert!(
        (apart["value"].as_f64().unwrap() - tuesday).abs() < 1e-9,
        "{apart} vs {tuesday}"
    );
    assert!(
        judged["passed"].is_boolean(),
        "the ordinary days are judged"
    );
    // People stay home on the flooded day.
    assert!(tuesday < 0.95 * ordinary, "Tuesday {tuesday} vs {ordinary}");

    // The happening day's section holds the same metrics, none judged.
    let apart = v["happening_day_metrics"].as_array().unwrap();
    assert!(
        apart.len() > 20,
        "{} metrics on the happening day",
        apart.len()
    );
    assert!(apart.iter().all(|m| m["passed"].is_null()));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<section id=\"happening-days\">"));
    let _ = std::fs::remove_dir_all(&dir);
}
