//! The stages of a run, per unit of work, on the bundled default scenario:
//! population synthesis, one subscriber's days, one subscriber's events, and
//! encoding events to Parquet. `cargo bench --bench pipeline`.
//! Whole runs at scale are measured by `benches/run.sh`.

use mobsynth::calendar::Calendar;
use mobsynth::days::{self, PersonDays, World};
use mobsynth::events::{Event, Simulator};
use mobsynth::map::Map;
use mobsynth::population::{self, Subscriber};
use mobsynth::radio::Network;
use mobsynth::routing::Router;
use mobsynth::scenario::Scenario;
use mobsynth::sink::network_tables::EventsBuilder;
use mobsynth::sink::{Compression, Format, OpenFile, Provenance};
use mobsynth::spec::RunSpec;

// The allocator of the binary, so that allocation costs are the run's.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

struct Fixture {
    scenario: Scenario,
    calendar: Calendar,
    map: Map,
}

impl Fixture {
    fn spec(&self) -> RunSpec<'_> {
        self.scenario.spec(&self.calendar)
    }
}

fn fixture(subscribers: u32, days: u32) -> Fixture {
    let mut scenario = Scenario::bundled("default").expect("bundled scenario");
    scenario.subscribers = subscribers;
    scenario.days = days;
    let map = scenario.load_map().expect("bundled map");
    let calendar = scenario.calendar().expect("calendar");
    Fixture {
        scenario,
        calendar,
        map,
    }
}

#[divan::bench(sample_count = 10)]
fn population_10k(bencher: divan::Bencher) {
    let f = fixture(10_000, 1);
    bencher
        .counter(divan::counter::ItemsCount::new(10_000usize))
        .bench(|| {
            population::synthesize(&f.spec(), &f.scenario.population, &f.map).expect("population")
        });
}

fn people(f: &Fixture) -> Vec<Subscriber> {
    population::synthesize(&f.spec(), &f.scenario.population, &f.map).expect("population")
}

/// 200 subscribers × 7 days of activities and routed trips; divide by 1,400
/// for one subscriber-day.
#[divan::bench(sample_count = 10)]
fn days_200_subscribers_7_days(bencher: divan::Bencher) {
    let f = fixture(200, 7);
    let subs = people(&f);
    let world = World::new(f.spec(), &f.scenario.mobility, &f.map).expect("world");
    let router = Router::new(&f.map.graph);
    let mut query = router.query();
    bencher
        .counter(divan::counter::ItemsCount::new(subs.len() * 7))
        .bench_local(|| {
            for s in &subs {
                divan::black_box(days::simulate(&world, &mut query, s));
            }
        });
}

fn simulated(f: &Fixture) -> (Vec<Subscriber>, Vec<PersonDays>) {
    let subs = people(f);
    let world = World::new(f.spec(), &f.scenario.mobility, &f.map).expect("world");
    let router = Router::new(&f.map.graph);
    let mut query = router.query();
    let days = subs
        .iter()
        .map(|s| days::simulate(&world, &mut query, s))
        .collect();
    (subs, days)
}

/// Events of 200 subscribers × 7 days; the counter is events.
#[divan::bench(sample_count = 10)]
fn events_200_subscribers_7_days(bencher: divan::Bencher) {
    let f = fixture(200, 7);
    let network = Network::build(
        &f.scenario.radio,
        f.scenario.radio_file().as_deref(),
        f.scenario.seed,
        &f.map,
    )
    .expect("network");
    let (subs, days) = simulated(&f);
    let mut sim = Simulator::new(f.spec(), &f.scenario.phone, &network);
    let mut out: Vec<Event> = Vec::new();
    let mut total = 0;
    for (s, d) in subs.iter().zip(&days) {
        out.clear();
        sim.simulate(s, d, &mut out);
        total += out.len();
    }
    bencher
        .counter(divan::counter::ItemsCount::new(total))
        .bench_local(|| {
            for (s, d) in subs.iter().zip(&days) {
                out.clear();
                sim.simulate(s, d, &mut out);
            }
            divan::black_box(out.len());
        });
}

/// Building Arrow batches and encoding them as Parquet (zstd); the counter
/// is events.
#[divan::bench(sample_count = 10)]
fn events_to_parquet(bencher: divan::Bencher) {
    let f = fixture(300, 2);
    let network = Network::build(
        &f.scenario.radio,
        f.scenario.radio_file().as_deref(),
        f.scenario.seed,
        &f.map,
    )
    .expect("network");
    let (subs, days) = simulated(&f);
    let mut sim = Simulator::new(f.spec(), &f.scenario.phone, &network);
    let mut events: Vec<Event> = Vec::new();
    for (s, d) in subs.iter().zip(&days) {
        sim.simulate(s, d, &mut events);
    }
    let dir = std::env::temp_dir().join(format!("mobsynth-bench-{}", std::process::id()));
    let path = dir.join("events.parquet");
    let provenance = Provenance::new("bench", 1);
    bencher
        .counter(divan::counter::ItemsCount::new(events.len()))
        .bench_local(|| {
            let mut builder = EventsBuilder::new(events.len(), false);
            for e in &events {
                builder.append(e);
            }
            let (batch, _) = builder.finish(&f.map);
            let mut file = OpenFile::create(
                "events",
                &path,
                Format::Parquet,
                Compression::Zstd,
                batch.schema(),
                &provenance,
            )
            .expect("file");
            file.write(&batch).expect("write");
            divan::black_box(file.finish().expect("finish"));
        });
    let _ = std::fs::remove_dir_all(&dir);
}
