//! The map model on the real extracts: graph invariants, snapping, routing.

use std::path::{Path, PathBuf};

use mobsynth::map::osm::read_pbf;
use mobsynth::map::places::{SNAP_DETOUR_M, snap_distance};
use mobsynth::map::{Map, NodeId, PlaceClass, TravelMode, distance};
use mobsynth::rng::{Purpose, stream};
use mobsynth::routing::Router;
use rand::RngExt;

fn bundled() -> PathBuf {
    PathBuf::from("scenarios/maps/liechtenstein.osm.pbf")
}

/// The extracts that come with the project's shared data, when present.
fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new("../shared/data/osm").join(name);
    p.exists().then_some(p)
}

fn all_maps() -> Vec<PathBuf> {
    let mut maps = vec![bundled()];
    maps.extend(
        ["andorra.osm.pbf", "monaco.osm.pbf"]
            .iter()
            .filter_map(|n| shared(n)),
    );
    maps
}

#[test]
fn places_snap_to_a_node_every_mode_reaches_unless_it_is_far() {
    for path in all_maps() {
        let map = Map::load(&path).unwrap();
        let g = &map.graph;
        assert!(
            map.places.len() > 500,
            "{}: only {} places",
            path.display(),
            map.places.len()
        );
        let served_by_all = |n: NodeId| TravelMode::ALL.iter().all(|&m| g.serves(n, m));
        let served_by_any = |n: NodeId| TravelMode::ALL.iter().any(|&m| g.serves(n, m));
        let nearest = |p: &mobsynth::map::Place, keep: &dyn Fn(NodeId) -> bool| {
            (0..g.node_count() as u32)
                .map(NodeId)
                .filter(|&n| keep(n))
                .map(|n| distance(p.pos, g.node_pos(n)))
                .fold(f64::INFINITY, f64::min)
        };
        let mut fully = 0;
        for (i, p) in map.places.iter().enumerate() {
            assert!(
                served_by_any(p.node),
                "{}: {:?} off every network",
                path.display(),
                p.id
            );
            fully += usize::from(served_by_all(p.node));
            // By brute force on a sample: the snap is the nearest node every
            // mode reaches, or the nearest node at all when that is far.
            if i % 25 == 0 {
                let d = snap_distance(g, p);
                let any = nearest(p, &served_by_any);
                let all = nearest(p, &served_by_all);
                let expect = if all <= any + SNAP_DETOUR_M { all } else { any };
                assert!(
                    (d - expect).abs() < 1e-6,
                    "{}: {:?} snapped {d} m, nearest {expect} m",
                    path.display(),
                    p.id
                );
            }
        }
        // Liechtenstein's extract closes the road into Balzers, a sixth of
        // its places, to motor vehicles: the town keeps its own streets.
        assert!(
            fully * 4 >= map.places.len() * 3,
            "{}: only {fully} of {} places reached by every mode",
            path.display(),
            map.places.len()
        );
        let homes = map
            .places
            .iter()
            .filter(|p| p.class == PlaceClass::Home)
            .count();
        assert!(homes > 100, "{}: {homes} homes", path.display());
    }
}

#[test]
fn routes_are_never_shorter_than_the_straight_line_and_have_plausible_speeds() {
    for path in all_maps() {
        let map = Map::load(&path).unwrap();
        let router = Router::new(&map.graph);
        let mut query = router.query();
        let mut rng = stream(3, Purpose::Validate, 0, 0);
        let mut routed = 0;
        for _ in 0..300 {
            let a = map.places[rng.random_range(0..map.places.len())].node;
            let b = map.places[rng.random_range(0..map.places.len())].node;
            for mode in TravelMode::ALL {
                let served = map.graph.serves(a, mode) && map.graph.serves(b, mode);
                let Some(route) = query.route(mode, a, b) else {
                    assert!(!served, "{}: no {mode:?} route", path.display());
                    continue;
                };
                let crow = distance(map.graph.node_pos(a), map.graph.node_pos(b));
                assert!(
                    route.length_m + 1e-6 >= crow,
                    "{mode:?} route {} m < straight line {crow} m",
                    route.length_m
                );
                // The edges chain from a to b.
                if let (Some(first), Some(last)) = (route.edges.first(), route.edges.last()) {
                    assert_eq!(map.graph.edge(*first).from, a);
                    assert_eq!(map.graph.edge(*last).to, b);
                    for w in route.edges.windows(2) {
                        assert_eq!(map.graph.edge(w[0]).to, map.graph.edge(w[1]).from);
                    }
                    assert!(
                        route
                            .edges
                            .iter()
                            .all(|&e| map.graph.edge(e).access.allows(mode))
                    );
                    // The edges are the ones the search weighed (of parallel
                    // edges, the fastest): their times add up to its weight,
                    // whole milliseconds per edge.
                    let searched = query.travel_time_s(mode, a, b).unwrap();
                    let slack = 0.001 * route.edges.len() as f64;
                    assert!(
                        (route.time_s - searched).abs() <= slack,
                        "{mode:?} route {} s, search {searched} s",
                        route.time_s
                    );
                }
                if route.length_m > 2_000.0 {
                    let kmh = route.length_m / route.time_s * 3.6;
                    let (lo, hi) = match mode {
                        TravelMode::Car => (15.0, 110.0),
                        TravelMode::Bike => (8.0, 16.0),
                        TravelMode::Walk => (2.5, 5.0),
                    };
                    assert!(
                        (lo..=hi).contains(&kmh),
                        "{}: {mode:?} at {kmh:.1} km/h",
                        path.display()
                    );
                    routed += 1;
                }
                let t = query.travel_time_s(mode, a, b).unwrap();
                assert!(
                    (t - route.time_s).abs() <= 0.001 * route.edges.len() as f64 + 1e-6,
                    "{t} vs {}",
                    route.time_s
                );
            }
        }
        assert!(
            routed > 100,
            "{}: only {routed} long routes",
            path.display()
        );
    }
}

#[test]
fn oneway_roads_are_driven_only_in_their_direction() {
    let path = bundled();
    let raw = read_pbf(&path).unwrap();
    let map = Map::load(&path).unwrap();
    let mut checked = 0;
    for way in raw
        .ways
        .iter()
        .filter(|w| w.tags.get("oneway") == Some("yes"))
    {
        let pts: Vec<_> = way
            .refs
            .iter()
            .filter_map(|&id| raw.node(id))
            .map(|n| map.projection.to_xy(n.lon, n.lat))
            .collect();
        let index_of = |p: geo::Coord, after: usize| {
            pts[after..]
                .iter()
                .position(|q| distance(*q, p) < 0.01)
                .map(|i| i + after)
        };
        for e in map
            .graph
            .edges
            .iter()
            .filter(|e| e.way_id == way.id && e.access.allows(TravelMode::Car))
        {
            let Some(from) = index_of(map.graph.node_pos(e.from), 0) else {
                continue;
            };
            // On a closed way the end node also stands first: look past the start.
            let to = index_of(map.graph.node_pos(e.to), from + 1);
            assert!(to.is_some(), "way {} driven against its direction", way.id);
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} oneway segments checked");
}

#[test]
fn a_oneway_segment_is_bypassed_when_driving_back() {
    let map = Map::load(&bundled()).unwrap();
    let router = Router::new(&map.graph);
    let mut query = router.query();
    let g = &map.graph;
    let mut checked = 0;
    for e in g.edges.iter().filter(|e| e.access.allows(TravelMode::Car)) {
        let has_reverse = g
            .out_edges(e.to)
            .iter()
            .any(|&r| g.edge(r).to == e.from && g.edge(r).access.allows(TravelMode::Car));
        if has_reverse {
            continue;
        }
        let back = query.route(TravelMode::Car, e.to, e.from).unwrap();
        assert!(
            back.edges.len() > 1 && back.length_m > distance(g.node_pos(e.from), g.node_pos(e.to))
        );
        checked += 1;
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn sparse_extracts_fall_back_to_landuse_and_residential_roads() {
    let Some(path) = shared("andorra.osm.pbf") else {
        return;
    };
    let map = Map::load(&path).unwrap();
    assert!(map.used_sparse_fallback);
    let from_roads = map
        .places
        .iter()
        .filter(|p| p.class == PlaceClass::Home && p.source == mobsynth::map::PlaceSource::Road)
        .count();
    assert!(from_roads > 100, "{from_roads}");
    let dense = Map::load(&bundled()).unwrap();
    assert!(!dense.used_sparse_fallback);
}

/// The metres kept along each edge's shape are its points' distances added
/// up, and no road is longer in its straightened shape than as mapped.
#[test]
fn edge_shapes_are_measured_point_by_point() {
    use mobsynth::map::EdgeId;
    for path in all_maps() {
        let map = Map::load(&path).unwrap();
        let g = &map.graph;
        for i in 0..g.edges.len() {
            let id = EdgeId(i as u32);
            let (shape, along) = (g.edge_shape(id), g.edge_shape_m(id));
            assert_eq!(shape.len(), along.len(), "{}: edge {i}", path.display());
            assert_eq!(
                along.first().copied(),
                Some(0.0),
                "{}: edge {i}",
                path.display()
            );
            let mut sum = 0.0;
            for k in 1..shape.len() {
                sum += distance(shape[k - 1], shape[k]);
                assert!(
                    (along[k] - sum).abs() < 1e-6,
                    "{}: edge {i} point {k}: {} m kept, {sum} m measured",
                    path.display(),
                    along[k]
                );
            }
            assert!(
                sum <= g.edges[i].length_m + 1e-6,
                "{}: edge {i}: shape {sum} m, road {} m",
                path.display(),
                g.edges[i].length_m
            );
        }
    }
}

#[test]
fn loading_is_deterministic() {
    let a = Map::load(&bundled()).unwrap();
    let b = Map::load(&bundled()).unwrap();
    assert_eq!(a.graph.edges, b.graph.edges);
    assert_eq!(a.places, b.places);
}

#[test]
fn recent_routes_are_the_routes_searched_afresh() {
    let path = &all_maps()[0];
    let map = Map::load(path).unwrap();
    let router = Router::new(&map.graph);
    let mut remembering = router.query();
    let mut fresh = router.query();
    let mut rng = stream(5, Purpose::Validate, 0, 0);
    // More pairs than are kept, asked in a mixed order with repeats, so that
    // some answers come from memory, some after being forgotten.
    let pairs: Vec<(NodeId, NodeId)> = (0..40)
        .map(|_| {
            let a = map.places[rng.random_range(0..map.places.len())].node;
            let b = map.places[rng.random_range(0..map.places.len())].node;
            (a, b)
        })
        .collect();
    for i in 0..200 {
        let (a, b) = if i % 2 == 0 {
            pairs[(i / 2) % 6]
        } else {
            pairs[(i * 7) % pairs.len()]
        };
        let mode = TravelMode::ALL[(i / 3) % TravelMode::ALL.len()];
        assert_eq!(
            remembering.recent_route(mode, a, b).cloned(),
            fresh.route(mode, a, b),
            "{mode:?} {a:?} -> {b:?}, query {i}"
        );
    }
}
