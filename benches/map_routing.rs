//! Map import, routing preparation and route queries on the bundled map.
//!
//! `cargo bench --bench map_routing`. Queries run on one thread between
//! random pairs of place nodes, as the days stage asks them.

use std::path::Path;

use mobsynth::map::{Map, NodeId, TravelMode};
use mobsynth::rng::{Purpose, stream};
use mobsynth::routing::Router;
use rand::RngExt;

const MAP: &str = "scenarios/maps/liechtenstein.osm.pbf";

// The allocator of the binary, so that allocation costs are the run's.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

fn load() -> Map {
    Map::load(Path::new(MAP)).expect("the bundled map loads")
}

#[divan::bench(sample_count = 20)]
fn map_load() -> Map {
    load()
}

#[divan::bench(sample_count = 20)]
fn map_load_and_routing_prep(bencher: divan::Bencher) {
    bencher.bench(|| {
        let map = load();
        let router = Router::new(&map.graph);
        divan::black_box(router.graph().node_count());
    });
}

fn place_pairs(map: &Map, n: usize) -> Vec<(NodeId, NodeId)> {
    let mut rng = stream(1, Purpose::Validate, 0, 0);
    (0..n)
        .map(|_| {
            let a = map.places[rng.random_range(0..map.places.len())].node;
            let b = map.places[rng.random_range(0..map.places.len())].node;
            (a, b)
        })
        .collect()
}

/// 1,000 routes with their edge lists per iteration; divide the time by 1,000.
#[divan::bench(args = [TravelMode::Car, TravelMode::Bike, TravelMode::Walk], sample_count = 20)]
fn route_1000_queries(bencher: divan::Bencher, mode: TravelMode) {
    let map = load();
    let router = Router::new(&map.graph);
    let pairs = place_pairs(&map, 1000);
    let mut query = router.query();
    bencher
        .counter(divan::counter::ItemsCount::new(pairs.len()))
        .bench_local(|| {
            for &(a, b) in &pairs {
                divan::black_box(query.route(mode, a, b));
            }
        });
}
