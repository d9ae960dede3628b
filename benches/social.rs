//! Building the social network: wall time, CPU time and memory for 100,000
//! and 1,000,000 subscribers of the bundled default map (population drawn
//! first, not counted). `cargo bench --bench social`; prints one line per
//! size. Sizes can be given as arguments: `cargo bench --bench social -- 250000`.

use std::time::Instant;

use mobsynth::population;
use mobsynth::scenario::Scenario;
use mobsynth::social::SocialNetwork;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A field of /proc/self/status in kB (Linux), or 0.
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User plus system CPU seconds of the process so far (Linux), or 0.
fn cpu_s() -> f64 {
    let ticks = 100.0;
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .map(|s| {
            let after = s.rsplit(')').next().unwrap_or("");
            let f: Vec<&str> = after.split_whitespace().collect();
            let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            (get(11) + get(12)) / ticks
        })
        .unwrap_or(0.0)
}

fn main() {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    let mut scenario = Scenario::bundled("default").expect("bundled scenario");
    scenario.days = 1;
    let map = scenario.load_map().expect("bundled map");
    for n in sizes {
        scenario.subscribers = n;
        let calendar = scenario.calendar().expect("calendar");
        let spec = scenario.spec(&calendar);
        let subscribers =
            population::synthesize(&spec, &scenario.population, &map).expect("population");
        let rss_before = status_kb("VmRSS:");
        let (cpu0, t0) = (cpu_s(), Instant::now());
        let net = SocialNetwork::build(
            &scenario.social,
            &scenario.phone,
            scenario.seed,
            &subscribers,
            &map,
        );
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_s() - cpu0);
        println!(
            "{n} subscribers: {} ties, {wall:.2} s wall, {cpu:.2} s CPU, network {:.0} MB, peak RSS {:.0} MB (population alone {:.0} MB)",
            net.len(),
            net.heap_bytes() as f64 / 1e6,
            status_kb("VmHWM:") as f64 / 1e3,
            rss_before as f64 / 1e3,
        );
    }
}
