//! Happenings on real runs of the bundled map: a gathering fills its venue's
//! cells and its attendees are in the truth; an outage's sites carry nothing
//! in the window while their neighbours gain; a closure leaves no stay at a
//! closed place; relocated residents leave their homes; parts agree.
//! Each test compares the run with the same scenario without the
//! happening, which is the independent reference.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{i64s, ms, strings};
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
