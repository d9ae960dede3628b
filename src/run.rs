//! A whole run: scenario → map → population → days → radio → events →
//! dataset.
//!
//! Subscribers are simulated in fixed chunks, in parallel, each chunk as
//! soon as a thread is free; chunks are handed to the writer in order, a
//! window of them at a time, so the files are the same bytes whatever the
//! number of threads. Consecutive chunks form
//! groups of about [`GROUP_SUBSCRIBER_DAYS`] subscriber-days; each group
//! writes complete files of its own (`date=…/part-GGGGG.parquet`), and only
//! one group is written at a time (its Parquet rows held, then encoded
//! one file per thread): memory is bounded by the window and the threads,
//! not by the number of subscribers or days, and an interrupted run keeps
//! every finished group for `--resume`. With `parts > 1` a run
//! simulates only its share of subscribers; the union of all parts holds the
//! same rows as one run.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use arrow::record_batch::RecordBatch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::days::{self, PersonDays};
use crate::events::{self, Event};
use crate::map::{Map, MapError};
use crate::population::{self, Subscriber};
use crate::radio::{Network, RadioSource};
use crate::routing::Router;
use crate::scenario::{BUNDLED_MAP, BUNDLED_MAP_NAME, MapSource, Scenario};
use crate::sink::files::checksum_of;
use crate::sink::radio_tables::{EventsBuilder, cells_batch, event_csv_header, event_line};
use crate::sink::stream::{Pace, Spill, StreamEnd, StreamRecord};
use crate::sink::tables::{PositionsBuilder, StaysBuilder, TripsBuilder, subscribers_batch};
use crate::sink::{
    Dataset, DayPartitions, InputFile, ManifestInfo, OutputOptions, Provenance, SinkError, Unit,
};

/// Subscriber-days simulated by one task. The chunk size follows from the
/// scenario alone, so output does not depend on the number of threads.
const CHUNK_SUBSCRIBER_DAYS: usize = 256;

/// Subscriber-days handed to the writer at a time, at most (but at least one
/// chunk per thread). While a group's files are encoded the writer takes
/// nothing and the next windows wait; small windows keep what waits small.
const WINDOW_SUBSCRIBER_DAYS: usize = 1024;

/// Subscriber-days per group of files: a group is the largest whole number
/// of chunks within this (at least one chunk). It follows from the number of
/// days alone, never from the number of threads. Larger groups mean fewer,
/// larger files, but more memory for the rows waiting to be encoded and for
/// each file being encoded.
pub const GROUP_SUBSCRIBER_DAYS: usize = 16384;

/// Subscribers per chunk for a run of `days` days.
pub fn chunk_subscribers(days: u32) -> usize {
    (CHUNK_SUBSCRIBER_DAYS / days.max(1) as usize).clamp(4, 256)
}

/// Subscribers per group of files for a run of `days` days: each group
/// writes its own file per table and day.
pub fn group_subscribers(days: u32) -> usize {
    let chunk = chunk_subscribers(days);
    chunk * (GROUP_SUBSCRIBER_DAYS / (chunk * days.max(1) as usize)).max(1)
}

/// What a run needs beyond the scenario.
pub struct RunOptions {
    pub scenario: Scenario,
    pub output: OutputOptions,
    /// Worker threads; all cores when `None`.
    pub threads: Option<usize>,
    /// Hide progress bars.
    pub quiet: bool,
    /// Stream events to standard output instead of writing files.
    pub stream: Option<StreamOptions>,
    /// Keep what an interrupted attempt of the same run left in the output
    /// directory and write only the rest.
    pub resume: bool,
}

/// How to stream events.
#[derive(Clone, Copy, Debug)]
pub struct StreamOptions {
    /// CSV lines (with a header) instead of NDJSON.
    pub csv: bool,
    pub pace: Pace,
}

/// What a run did.
#[derive(Debug)]
pub struct RunReport {
    pub rows: BTreeMap<String, u64>,
    /// Subscribers simulated by this invocation.
    pub subscribers: u64,
    pub subscriber_days: u64,
    /// Subscribers whose files an earlier attempt had completed.
    pub resumed_subscribers: u64,
    pub events: u64,
    pub wall_s: f64,
    pub peak_rss_bytes: Option<u64>,
    pub completed: bool,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("{origin}: {message}")]
    Input { origin: String, message: String },
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("cannot start {0} worker threads")]
    Threads(usize),
}

/// Loads the scenario's map.
pub fn load_map(scenario: &Scenario) -> Result<Map, MapError> {
    match scenario.map_source() {
        MapSource::File(path) => Map::load(&path),
        MapSource::Bundled => Map::load_bytes(Path::new(BUNDLED_MAP_NAME), BUNDLED_MAP),
    }
}

/// The subscribers of part `part` of `parts`: a contiguous index range.
pub fn part_range(total: usize, part: u32, parts: u32) -> Range<usize> {
    let (p, n) = (part as usize, parts.max(1) as usize);
    total * p / n..total * (p + 1) / n
}

/// Peak resident memory of this process, from the kernel's accounting.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Rows of one chunk, grouped by day partition.
#[derive(Default)]
struct ChunkTables {
    stays: BTreeMap<usize, RecordBatch>,
    trips: BTreeMap<usize, RecordBatch>,
    events: BTreeMap<usize, RecordBatch>,
    positions: BTreeMap<usize, RecordBatch>,
    /// Sampled true positions, when the scenario asks for them.
    sampled: BTreeMap<usize, RecordBatch>,
    /// Stream mode: encoded event lines per day, unsorted.
    lines: BTreeMap<usize, Vec<StreamRecord>>,
    events_count: u64,
}

/// Per-thread reusable state.
struct Worker<'r, 'g, 'n> {
    query: crate::routing::RouteQuery<'r, 'g>,
    events: Vec<Event>,
    simulator: events::Simulator<'n>,
}

fn simulate_chunk(
    ctx: &Context<'_>,
    worker: &mut Worker<'_, '_, '_>,
    subscribers: &[Subscriber],
) -> ChunkTables {
    let partitions = ctx.partitions;
    let days_n = partitions.len();
    let mut out = ChunkTables::default();
    if let Some(stream) = ctx.stream {
        for s in subscribers {
            let person: PersonDays = days::simulate(ctx.world, &mut worker.query, s);
            worker.events.clear();
            worker.simulator.simulate(s, &person, &mut worker.events);
            out.events_count += worker.events.len() as u64;
            let imsi = format!("{:015}", s.imsi);
            for e in &worker.events {
                let mut line = Vec::with_capacity(256);
                event_line(&mut line, stream.csv, s, &imsi, e);
                let day = partitions.day_of(e.time_ms.div_euclid(1000));
                out.lines.entry(day).or_default().push(StreamRecord {
                    time_ms: e.time_ms,
                    id: e.id,
                    line,
                });
            }
        }
        return out;
    }
    let truth = ctx.truth;
    let truth_days = if truth { days_n } else { 0 };
    // A chunk holds a builder per day of the run: room is made for a day of
    // the chunk's subscribers at the default scenario's rates, so that a
    // long run does not reserve a thousand rows per day and table.
    let n = subscribers.len();
    let mut stays: Vec<StaysBuilder> = (0..truth_days).map(|_| StaysBuilder::new(5 * n)).collect();
    let mut trips: Vec<TripsBuilder> = (0..truth_days).map(|_| TripsBuilder::new(4 * n)).collect();
    let mut events: Vec<EventsBuilder> = (0..days_n)
        .map(|_| EventsBuilder::new(64 * n, truth))
        .collect();
    let every = i64::from(ctx.positions_every_s);
    let mut sampled: Vec<PositionsBuilder> = (0..if every > 0 { days_n } else { 0 })
        .map(|_| PositionsBuilder::new((n * (86_400 / every.max(1)) as usize).min(1 << 16)))
        .collect();
    for s in subscribers {
        let person: PersonDays = days::simulate(ctx.world, &mut worker.query, s);
        let id = s.id.0;
        if every > 0 {
            let (from, to) = ctx.run_span;
            for p in person.sample_positions(from, to, every) {
                sampled[partitions.day_of(p.t)].append(id, &p, ctx.map);
            }
        }
        if truth {
            // A trip still under way when the run ends arrives after it: the
            // stay it would begin lies outside the period and is not written.
            for stay in person.stays.iter().filter(|s| s.start < ctx.run_span.1) {
                stays[partitions.day_of(stay.start)].append(id, stay, ctx.map);
            }
            for trip in &person.trips {
                trips[partitions.day_of(trip.start)].append(id, trip, &person, ctx.map);
            }
        }
        worker.events.clear();
        worker.simulator.simulate(s, &person, &mut worker.events);
        out.events_count += worker.events.len() as u64;
        for e in &worker.events {
            events[partitions.day_of(e.time_ms.div_euclid(1000))].append(e);
        }
    }
    for d in 0..days_n {
        if stays.get(d).is_some_and(|b| !b.is_empty()) {
            out.stays.insert(d, stays[d].finish());
        }
        if trips.get(d).is_some_and(|b| !b.is_empty()) {
            out.trips.insert(d, trips[d].finish());
        }
        if sampled.get(d).is_some_and(|b| !b.is_empty()) {
            out.sampled.insert(d, sampled[d].finish());
        }
        if !events[d].is_empty() {
            let (ev, pos) = events[d].finish(ctx.map);
            out.events.insert(d, ev);
            if let Some(pos) = pos {
                out.positions.insert(d, pos);
            }
        }
    }
    out
}

struct Context<'a> {
    stream: Option<StreamOptions>,
    /// Seconds between sampled true positions; 0 for none.
    positions_every_s: u32,
    /// Whether the truth tables are written.
    truth: bool,
    /// The run's first and last instant, UTC seconds.
    run_span: (i64, i64),
    map: &'a Map,
    world: &'a days::World<'a>,
    partitions: &'a DayPartitions,
}

/// Runs a scenario to the end, or until `interrupted` is set.
pub fn run(options: RunOptions, interrupted: &AtomicBool) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let scenario = &options.scenario;
    let input_err = |message: String| RunError::Input {
        origin: scenario.origin.clone(),
        message,
    };
    let calendar = days::calendar(scenario).map_err(|e| input_err(e.to_string()))?;
    let partitions = DayPartitions::new(&calendar);

    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = options.threads {
        pool = pool.num_threads(t);
    }
    let pool = pool
        .build()
        .map_err(|_| RunError::Threads(options.threads.unwrap_or(0)))?;

    let map = load_map(scenario)?;
    let router = Router::new(&map.graph);
    let subscribers =
        population::synthesize(scenario, &map).map_err(|e| input_err(e.to_string()))?;
    let world = days::World::new(scenario, &map).map_err(|e| input_err(e.to_string()))?;
    let network = Network::build(scenario, &map).map_err(|e| input_err(e.to_string()))?;

    // Checked once here so that the workers' own copies cannot fail.
    events::Simulator::new(scenario, &network).map_err(|e| input_err(e.to_string()))?;
    let output = options.output.clone();
    let range = part_range(subscribers.len(), output.part, output.parts);
    let mine = &subscribers[range];
    // Groups of files; a stream has no files, so it is one group.
    let group_size = match options.stream {
        Some(_) => mine.len().max(1),
        None => group_subscribers(scenario.days),
    };
    let info = match options.stream {
        Some(_) => None,
        None => Some(manifest_info(scenario, &partitions, input_files(scenario)?)),
    };
    let sink = match &info {
        None => Sink::Stream(Spill::new(partitions.len())?),
        Some(info) => {
            let provenance = Provenance::new(&scenario.name, scenario.seed);
            let dataset =
                Dataset::open_run(output.clone(), provenance, info.clone(), options.resume)?;
            Sink::Files(Box::new(dataset))
        }
    };
    // Groups an earlier attempt completed are skipped.
    let todo: Vec<(u32, &[Subscriber])> = mine
        .chunks(group_size)
        .enumerate()
        .map(|(g, s)| (g as u32, s))
        .filter(|(g, _)| match &sink {
            Sink::Files(dataset) => !dataset.is_done(Unit::Group(*g)),
            Sink::Stream(_) => true,
        })
        .collect();
    let to_simulate: usize = todo.iter().map(|(_, s)| s.len()).sum();
    let resumed = mine.len() - to_simulate;

    let bar = if options.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(mine.len() as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] {pos}/{len} subscribers, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("simulating");
    bar.set_position(resumed as u64);
    bar.reset_eta();

    let run_span = match (world.days.first(), world.days.last()) {
        (Some(first), Some(last)) => (first.start_utc, last.end_utc),
        _ => (0, 0),
    };
    let ctx = Context {
        stream: options.stream,
        positions_every_s: scenario.positions_every_s,
        truth: scenario.truth,
        run_span,
        map: &map,
        world: &world,
        partitions: &partitions,
    };
    // A window is what the writer takes at a time: a chunk per thread at
    // least, few enough subscriber-days that memory does not grow with the
    // length of the run. Windows never cross a group, so the files do not
    // depend on the number of threads.
    let threads = pool.current_num_threads().max(1);
    let chunk = chunk_subscribers(scenario.days);
    let window_chunks =
        (WINDOW_SUBSCRIBER_DAYS / (chunk * scenario.days as usize)).clamp(threads, 4 * threads);
    let window = chunk * window_chunks;
    let mut completed = true;
    // The next window is simulated while the last one is written.
    let (written, sink) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Window>(1);
        let partitions = &partitions;
        let pool = &pool;
        let (map, network) = (&map, &network);
        let writer = scope.spawn(move || {
            let mut sink = sink;
            let mut events_total = 0u64;
            // The tables of the whole run are written first, while the
            // first windows are simulated (until the queue to the writer is
            // full): a million subscribers take a second.
            if let Sink::Files(dataset) = &mut sink
                && !dataset.is_done(Unit::Whole)
                && let Err(e) = write_whole(dataset, mine, map, network, output.part)
            {
                return (Err(e), sink);
            }
            for w in rx {
                events_total += w.tables.iter().map(|t| t.events_count).sum::<u64>();
                if let Err(e) = write_window(&mut sink, partitions, pool, w) {
                    return (Err(e), sink);
                }
            }
            (Ok(events_total), sink)
        });
        // Chunks are simulated as soon as a thread is free and handed on in
        // order. Simulating a window as one parallel job made every thread
        // wait for the last chunk of each window, and for as long as a file
        // took to encode when a waiting thread picked one up meanwhile.
        let windows: Vec<(u32, bool, bool, &[Subscriber])> = todo
            .iter()
            .flat_map(|(group, members)| {
                let n = members.len().div_ceil(window);
                members
                    .chunks(window)
                    .enumerate()
                    .map(move |(i, block)| (*group, i == 0, i + 1 == n, block))
            })
            .collect();
        let jobs: Vec<(usize, &[Subscriber])> = windows
            .iter()
            .enumerate()
            .flat_map(|(w, (_, _, _, block))| block.chunks(chunk).map(move |c| (w, c)))
            .collect();
        let workers: Vec<Mutex<Option<Worker>>> = (0..threads).map(|_| Mutex::new(None)).collect();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let (ctx, workers, jobs, router) = (&ctx, &workers, &jobs, &router);
        pool.in_place_scope(|s| {
            let (mut spawned, mut received, mut next) = (0, 0, 0);
            let mut ready: BTreeMap<usize, ChunkTables> = BTreeMap::new();
            let mut tables = Vec::new();
            let mut stop = false;
            loop {
                // Two chunks per thread ahead at most, so that memory stays
                // bounded while the writer is busy.
                while !stop && spawned < jobs.len() && spawned < next + 2 * threads {
                    if interrupted.load(Ordering::SeqCst) {
                        completed = false;
                        stop = true;
                        break;
                    }
                    let (k, done) = (spawned, done_tx.clone());
                    s.spawn(move |_| {
                        let slot = rayon::current_thread_index().unwrap_or(0) % workers.len();
                        let mut worker =
                            workers[slot].lock().unwrap_or_else(PoisonError::into_inner);
                        let worker = worker.get_or_insert_with(|| Worker {
                            query: router.query(),
                            events: Vec::new(),
                            simulator: events::Simulator::new(scenario, network)
                                .expect("the scenario's calendar was checked above"),
                        });
                        let tables = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            simulate_chunk(ctx, worker, jobs[k].1)
                        }));
                        let _ = done.send((k, tables));
                    });
                    spawned += 1;
                }
                if received == spawned {
                    break;
                }
                let Ok((k, result)) = done_rx.recv() else {
                    break;
                };
                received += 1;
                let t = match result {
                    Ok(t) => t,
                    Err(panic) => std::panic::resume_unwind(panic),
                };
                if stop {
                    continue;
                }
                ready.insert(k, t);
                while let Some(t) = ready.remove(&next) {
                    tables.push(t);
                    let w = jobs[next].0;
                    next += 1;
                    if next < jobs.len() && jobs[next].0 == w {
                        continue;
                    }
                    let (group, first, last, block) = windows[w];
                    let window = Window {
                        group,
                        first,
                        last,
                        tables: std::mem::take(&mut tables),
                    };
                    // A closed channel means the writer failed; its error is reported below.
                    if tx.send(window).is_err() {
                        completed = false;
                        stop = true;
                        break;
                    }
                    bar.inc(block.len() as u64);
                }
            }
        });
        drop(tx);
        writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    bar.finish_and_clear();
    let events_total = match written {
        Ok(n) => n,
        Err(e) => {
            // Remove the unfinished files and say the run is incomplete; the
            // write error is what the user needs to see.
            if let (Sink::Files(dataset), Some(info)) = (sink, info) {
                let _ = dataset.abandon(info);
            }
            return Err(e.into());
        }
    };

    let rows = match (sink, info) {
        (Sink::Files(dataset), Some(info)) => {
            let manifest = if completed {
                dataset.finish(info)?
            } else {
                dataset.abandon(info)?
            };
            manifest.tables
        }
        (Sink::Stream(spill), _) => {
            let csv = options.stream.is_some_and(|s| s.csv);
            let pace = options.stream.map_or(Pace::Unpaced, |s| s.pace);
            let header = csv.then(event_csv_header);
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let stop = || interrupted.load(Ordering::SeqCst);
            if completed {
                let (_, end) = spill.drain(&mut out, header.as_deref(), pace, &stop)?;
                completed = end != StreamEnd::Interrupted;
            }
            BTreeMap::new()
        }
        (Sink::Files(_), None) => BTreeMap::new(),
    };
    Ok(RunReport {
        rows,
        subscribers: to_simulate as u64,
        subscriber_days: to_simulate as u64 * scenario.days as u64,
        resumed_subscribers: resumed as u64,
        events: events_total,
        wall_s: started.elapsed().as_secs_f64(),
        peak_rss_bytes: peak_rss_bytes(),
        completed,
    })
}

/// One simulated window: some chunks of a group, in order.
struct Window {
    group: u32,
    /// The group's first window: its files start here.
    first: bool,
    /// The group's last window: its files are complete after it.
    last: bool,
    tables: Vec<ChunkTables>,
}

/// The files a run reads besides the scenario, identified by contents, so
/// that `--resume` can tell whether they changed.
fn input_files(scenario: &Scenario) -> Result<Vec<InputFile>, RunError> {
    let hash = |name: String, path: Option<PathBuf>| -> Result<InputFile, RunError> {
        let result = match &path {
            None => checksum_of(BUNDLED_MAP),
            Some(p) => std::fs::File::open(p).and_then(checksum_of),
        };
        let (bytes, sha256) = result.map_err(|e| RunError::Input {
            origin: path.map_or(name.clone(), |p| p.display().to_string()),
            message: format!("cannot read: {e}"),
        })?;
        Ok(InputFile {
            name,
            bytes,
            sha256,
        })
    };
    let mut inputs = vec![match scenario.map_source() {
        MapSource::Bundled => hash(BUNDLED_MAP_NAME.to_string(), None)?,
        MapSource::File(path) => hash(scenario.map.display().to_string(), Some(path))?,
    }];
    let radio = &scenario.radio;
    if let (false, Some(file)) = (radio.source == RadioSource::Generated, &radio.file) {
        inputs.push(hash(
            file.display().to_string(),
            Some(scenario.resolve_path(file)),
        )?);
    }
    Ok(inputs)
}

enum Sink {
    Files(Box<Dataset>),
    Stream(Spill),
}

fn manifest_info(
    scenario: &Scenario,
    partitions: &DayPartitions,
    inputs: Vec<InputFile>,
) -> ManifestInfo {
    ManifestInfo {
        inputs,
        period_start: rfc3339(partitions.midnight(0)),
        period_end: rfc3339(partitions.midnight(partitions.len())),
        timezone: scenario.timezone.clone(),
        scenario_toml: scenario.to_toml(),
    }
}

fn rfc3339(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap_or_default()
        .to_string()
}

/// The tables that are not split by day: `subscribers`, and `cells` in
/// the first part.
fn write_whole(
    dataset: &mut Dataset,
    subscribers: &[Subscriber],
    map: &Map,
    network: &Network,
    part: u32,
) -> Result<(), SinkError> {
    dataset.begin(Unit::Whole);
    dataset.write("subscribers", None, &subscribers_batch(subscribers, map))?;
    if part == 0 {
        dataset.write("cells", None, &cells_batch(network))?;
    }
    dataset.complete()
}

fn write_window(
    sink: &mut Sink,
    partitions: &DayPartitions,
    pool: &rayon::ThreadPool,
    w: Window,
) -> Result<(), SinkError> {
    match sink {
        Sink::Files(dataset) => {
            if w.first {
                dataset.begin(Unit::Group(w.group));
            }
            for t in &w.tables {
                write_chunk(dataset, partitions, t)?;
            }
            if w.last {
                // The group's Parquet files are encoded on the run's threads;
                // this thread waits for the disk.
                dataset.complete_on(pool)?;
            }
        }
        Sink::Stream(spill) => {
            // One sorted run per day for the whole window keeps the merge narrow.
            let mut per_day: BTreeMap<usize, Vec<StreamRecord>> = BTreeMap::new();
            for t in w.tables {
                for (d, mut lines) in t.lines {
                    per_day.entry(d).or_default().append(&mut lines);
                }
            }
            for (d, mut records) in per_day {
                spill.add_run(d, &mut records)?;
            }
        }
    }
    Ok(())
}

fn write_chunk(
    dataset: &mut Dataset,
    partitions: &DayPartitions,
    t: &ChunkTables,
) -> Result<(), SinkError> {
    for (d, b) in &t.stays {
        dataset.write("truth/stays", Some(partitions.date(*d)), b)?;
    }
    for (d, b) in &t.trips {
        dataset.write("truth/trips", Some(partitions.date(*d)), b)?;
    }
    for (d, b) in &t.events {
        dataset.write("events", Some(partitions.date(*d)), b)?;
    }
    for (d, b) in &t.positions {
        dataset.write("truth/event_positions", Some(partitions.date(*d)), b)?;
    }
    for (d, b) in &t.sampled {
        dataset.write("truth/positions", Some(partitions.date(*d)), b)?;
    }
    Ok(())
}
