//! A whole run: the [`Generator`]'s chunks written as a dataset (files) or
//! a time-ordered stream. The generator makes the rows; this layer
//! schedules chunks on threads, hands them to the writer in order and
//! reports progress through a callback, never drawing anything itself.
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
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::calendar::Calendar;
use crate::generate::{Chunk, GenerateError, Generator, Model, Options, Worker};
use crate::radio::RadioSource;
use crate::scenario::{BUNDLED_MAP_NAME, MapSource, Scenario, bundled_map_bytes};
use crate::sink::files::checksum_of;
use std::io::Write as _;

use crate::sink::network_tables::{
    delivered_line, event_csv_header, event_csv_header_with_faults, event_line,
};
use crate::sink::stream::{Pace, Spill, StreamEnd, StreamRecord};
use crate::sink::{Dataset, InputFile, ManifestInfo, OutputOptions, Provenance, SinkError, Unit};

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

/// Chunks per group of files for a run of `days` days with chunks of
/// `chunk` subscribers: each group writes its own file per table and day.
fn group_chunks(chunk: usize, days: u32) -> usize {
    (GROUP_SUBSCRIBER_DAYS / (chunk * days.max(1) as usize)).max(1)
}

/// Subscribers per group of files for a run of `days` days.
pub fn group_subscribers(days: u32) -> usize {
    let chunk = crate::generate::chunk_subscribers(days);
    chunk * group_chunks(chunk, days)
}

/// What a run needs beyond the scenario.
pub struct RunOptions {
    pub scenario: Scenario,
    pub output: OutputOptions,
    /// Worker threads; all cores when `None`.
    pub threads: Option<usize>,
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
    /// Prefix each NDJSON line with its subscriber id and a tab
    /// (`key<TAB>json`), for Kafka producers such as `kcat -K'\t'` that
    /// partition by key and so keep each subscriber's records in order.
    pub key: bool,
}

impl RunOptions {
    /// Refuses options that contradict each other: a part that does not
    /// exist, no threads, resuming a stream or overwriting what is resumed,
    /// a pace that is not a positive number.
    pub fn check(&self) -> Result<(), RunError> {
        let refuse = |m: &str| Err(RunError::Options(m.to_string()));
        self.generator_options().check()?;
        if self.threads == Some(0) {
            return refuse("threads: must be at least 1");
        }
        if self.resume && self.stream.is_some() {
            return refuse("resume: a stream has no files to resume");
        }
        if self.resume && self.output.overwrite {
            return refuse("resume and overwrite: choose one");
        }
        if self.stream.is_some_and(|s| s.key && s.csv) {
            return refuse("key: keys are for NDJSON lines; the CSV header line would have none");
        }
        let truncating = self
            .scenario
            .log_quality
            .as_ref()
            .is_some_and(|q| q.truncated_line_rate > 0.0);
        if truncating && self.stream.is_none() {
            return refuse(
                "log_quality.truncated_line_rate: truncated lines are made in the stream (--stdout) only; set it to 0 for files",
            );
        }
        match self.stream.map(|s| s.pace) {
            Some(Pace::Rate(r)) if !(r > 0.0 && r.is_finite()) => {
                refuse("rate: must be a positive number of events per second")
            }
            Some(Pace::Speed(x)) if !(x > 0.0 && x.is_finite()) => {
                refuse("speed: must be a positive number")
            }
            _ => Ok(()),
        }
    }

    fn generator_options(&self) -> Options {
        Options {
            part: self.output.part,
            parts: self.output.parts,
        }
    }
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
    pub completed: bool,
}

/// Where a run stands, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Subscribers of this part done, including those resumed.
    pub done: u64,
    /// Subscribers of this part.
    pub total: u64,
    /// Subscribers an earlier attempt had completed.
    pub resumed: u64,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error("{origin}: {message}")]
    Input { origin: String, message: String },
    /// Options that contradict each other.
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("cannot start {0} worker threads")]
    Threads(usize),
}

impl RunError {
    /// Whether the error is the user's input (scenario, map, options, an
    /// output directory that cannot be used as asked) rather than a failure
    /// while running.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RunError::Generate(_)
                | RunError::Input { .. }
                | RunError::Options(_)
                | RunError::Sink(SinkError::NotEmpty(_) | SinkError::Resume { .. })
        )
    }
}

/// Parquet bytes a subscriber-day takes on the default map, all tables
/// (measured: 1.2–1.3 kB); text formats take about five times as much.
const PARQUET_BYTES_PER_SUBSCRIBER_DAY: f64 = 1_400.0;
/// Peak memory of a run: a fixed part (map, routing, coverage, one group's
/// rows held for writing) and the population, measured at 100,000 and
/// 1,000,000 subscribers (271 and 397 MiB).
const BASE_MEMORY_BYTES: f64 = 260.0 * 1024.0 * 1024.0;
const MEMORY_BYTES_PER_SUBSCRIBER: f64 = 150.0;
/// Temporary disk space of one group's spill, at most: rows beyond what a
/// group may hold in memory (dense sampled positions) wait on disk at about
/// six times their Parquet size.
const SPILL_BYTES: f64 = 200e6;

/// What a run is expected to take, before it starts.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    /// Bytes written, the spill of one group included.
    pub output_bytes: f64,
    /// Peak resident memory.
    pub memory_bytes: f64,
}

impl RunOptions {
    /// The output's size and the memory the run will need, from measured
    /// rates on the default map.
    pub fn estimate(&self) -> Estimate {
        let s = &self.scenario;
        // Sampled positions repeat while people stay put, which Parquet
        // encodes in about 1.5 bytes a row; a text row takes about 60.
        let samples = match s.positions_every_s {
            0 => 0.0,
            every => 86_400.0 / f64::from(every),
        };
        let per_day = match self.output.format {
            crate::sink::Format::Parquet => PARQUET_BYTES_PER_SUBSCRIBER_DAY + 2.0 * samples,
            crate::sink::Format::Csv | crate::sink::Format::Ndjson => {
                5.0 * PARQUET_BYTES_PER_SUBSCRIBER_DAY + 60.0 * samples
            }
        };
        // The truth tables are about two fifths of the bytes (100k × 1 day:
        // 56 of 134 MB).
        let per_day = if s.truth { per_day } else { 0.6 * per_day };
        let output =
            s.subscribers as f64 * s.days as f64 * per_day / self.output.parts.max(1) as f64;
        Estimate {
            // A group's spill, if any, sits beside the partitions until it
            // is encoded.
            output_bytes: output + SPILL_BYTES,
            memory_bytes: BASE_MEMORY_BYTES
                + MEMORY_BYTES_PER_SUBSCRIBER * f64::from(s.subscribers),
        }
    }
}

/// What a simulated chunk brings the writer.
enum ChunkOut {
    Batches(Chunk),
    /// Stream mode: encoded event lines per day, unsorted.
    Lines(BTreeMap<usize, Vec<StreamRecord>>, u64),
}

impl ChunkOut {
    fn events(&self) -> u64 {
        match self {
            ChunkOut::Batches(c) => c.events,
            ChunkOut::Lines(_, n) => *n,
        }
    }
}

fn simulate_chunk(
    generator: &Generator<'_>,
    stream: Option<StreamOptions>,
    index: usize,
    worker: &mut Worker<'_>,
) -> ChunkOut {
    let Some(stream) = stream else {
        return ChunkOut::Batches(generator.chunk(index, worker));
    };
    let calendar = generator.calendar();
    let mut lines: BTreeMap<usize, Vec<StreamRecord>> = BTreeMap::new();
    if let Some(dirty) = generator.log_quality() {
        let (mut delivered, mut faults) = (Vec::new(), Vec::new());
        let events = generator.chunk_events(index, worker, &mut |s, events| {
            let imsi = format!("{:015}", s.imsi);
            delivered.clear();
            dirty.apply(s, events, &mut delivered, &mut faults);
            faults.clear();
            let mut copy = 0;
            for (i, d) in delivered.iter().enumerate() {
                copy = if i > 0 && delivered[i - 1].event.id == d.event.id {
                    copy + 1
                } else {
                    0
                };
                let mut line = Vec::with_capacity(256);
                if stream.key {
                    let _ = write!(line, "{}\t", s.id.0);
                }
                let start = line.len();
                delivered_line(&mut line, stream.csv, s, &imsi, d);
                if let Some(share) = dirty.truncation(d.event.id, copy) {
                    let body = line.len() - 1 - start;
                    line.truncate(start + ((body as f64 * share) as usize).clamp(1, body));
                    line.push(b'\n');
                }
                // The stream is in order of arrival: late records come late.
                let day = calendar.day_of(d.received_ms.div_euclid(1000));
                lines.entry(day).or_default().push(StreamRecord {
                    time_ms: d.received_ms,
                    id: d.event.id,
                    line,
                });
            }
        });
        return ChunkOut::Lines(lines, events);
    }
    let events = generator.chunk_events(index, worker, &mut |s, events| {
        let imsi = format!("{:015}", s.imsi);
        for e in events {
            let mut line = Vec::with_capacity(256);
            if stream.key {
                let _ = write!(line, "{}\t", s.id.0);
            }
            event_line(&mut line, stream.csv, s, &imsi, e);
            let day = calendar.day_of(e.time_ms.div_euclid(1000));
            lines.entry(day).or_default().push(StreamRecord {
                time_ms: e.time_ms,
                id: e.id,
                line,
            });
        }
    });
    ChunkOut::Lines(lines, events)
}

/// Runs a scenario to the end, or until `interrupted` is set, telling
/// `progress` where it stands as chunks are handed to the writer.
pub fn run(
    options: RunOptions,
    interrupted: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    options.check()?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(t) = options.threads {
        pool = pool.num_threads(t);
    }
    let pool = pool
        .build()
        .map_err(|_| RunError::Threads(options.threads.unwrap_or(0)))?;

    let part = options.generator_options();
    let model = Model::build(options.scenario)?;
    let generator = model.generator(part)?;
    let scenario = model.scenario();
    let calendar = model.calendar();
    let output = options.output;
    let mine = generator.subscribers();
    let chunk = generator.chunk_size();
    // Groups of files, as ranges of chunks; a stream has no files, so it is
    // one group.
    let n_chunks = generator.chunk_count();
    let per_group = match options.stream {
        Some(_) => n_chunks.max(1),
        None => group_chunks(chunk, scenario.days),
    };
    let info = match options.stream {
        Some(_) => None,
        None => Some(manifest_info(scenario, calendar, input_files(scenario)?)),
    };
    let sink = match &info {
        None => Sink::Stream(Spill::new(calendar.len())?),
        Some(info) => {
            let provenance = Provenance::new(&scenario.name, scenario.seed);
            let dataset =
                Dataset::open_run(output.clone(), provenance, info.clone(), options.resume)?;
            Sink::Files(Box::new(dataset))
        }
    };
    // Groups an earlier attempt completed are skipped.
    let todo: Vec<(u32, std::ops::Range<usize>)> = (0..n_chunks.div_ceil(per_group))
        .map(|g| (g as u32, g * per_group..((g + 1) * per_group).min(n_chunks)))
        .filter(|(g, _)| match &sink {
            Sink::Files(dataset) => !dataset.is_done(Unit::Group(*g)),
            Sink::Stream(_) => true,
        })
        .collect();
    let subscribers_in = |chunks: &std::ops::Range<usize>| {
        generator.chunk_range(chunks.start).start..generator.chunk_range(chunks.end - 1).end
    };
    let to_simulate: usize = todo.iter().map(|(_, c)| subscribers_in(c).len()).sum();
    let resumed = mine.len() - to_simulate;
    let mut position = Progress {
        done: resumed as u64,
        total: mine.len() as u64,
        resumed: resumed as u64,
    };
    progress(position);

    // A window is what the writer takes at a time: a chunk per thread at
    // least, few enough subscriber-days that memory does not grow with the
    // length of the run. Windows never cross a group, so the files do not
    // depend on the number of threads.
    let threads = pool.current_num_threads().max(1);
    let window_chunks =
        (WINDOW_SUBSCRIBER_DAYS / (chunk * scenario.days as usize)).clamp(threads, 4 * threads);
    let mut completed = true;
    let stream = options.stream;
    // The next window is simulated while the last one is written.
    let (written, sink) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Window>(1);
        let pool = &pool;
        let generator = &generator;
        let writer = scope.spawn(move || {
            let mut sink = sink;
            let mut events_total = 0u64;
            // The tables of the whole run are written first, while the
            // first windows are simulated (until the queue to the writer is
            // full): a million subscribers take a second.
            if let Sink::Files(dataset) = &mut sink
                && !dataset.is_done(Unit::Whole)
                && let Err(e) = write_whole(dataset, generator)
            {
                return (Err(e), sink);
            }
            for w in rx {
                events_total += w.chunks.iter().map(ChunkOut::events).sum::<u64>();
                if let Err(e) = write_window(&mut sink, calendar, pool, w) {
                    return (Err(e), sink);
                }
            }
            (Ok(events_total), sink)
        });
        // Chunks are simulated as soon as a thread is free and handed on in
        // order. Simulating a window as one parallel job made every thread
        // wait for the last chunk of each window, and for as long as a file
        // took to encode when a waiting thread picked one up meanwhile.
        let windows: Vec<(u32, bool, bool, std::ops::Range<usize>)> = todo
            .iter()
            .flat_map(|(group, chunks)| {
                let n = chunks.len().div_ceil(window_chunks);
                (0..n).map(move |i| {
                    let start = chunks.start + i * window_chunks;
                    let end = (start + window_chunks).min(chunks.end);
                    (*group, i == 0, i + 1 == n, start..end)
                })
            })
            .collect();
        let jobs: Vec<(usize, usize)> = windows
            .iter()
            .enumerate()
            .flat_map(|(w, (_, _, _, chunks))| chunks.clone().map(move |c| (w, c)))
            .collect();
        let workers: Vec<Mutex<Option<Worker>>> = (0..threads).map(|_| Mutex::new(None)).collect();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let (workers, jobs) = (&workers, &jobs);
        pool.in_place_scope(|s| {
            let (mut spawned, mut received, mut next) = (0, 0, 0);
            let mut ready: BTreeMap<usize, ChunkOut> = BTreeMap::new();
            let mut chunks = Vec::new();
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
                        let worker = worker.get_or_insert_with(|| generator.worker());
                        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            simulate_chunk(generator, stream, jobs[k].1, worker)
                        }));
                        let _ = done.send((k, out));
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
                let out = match result {
                    Ok(out) => out,
                    Err(panic) => std::panic::resume_unwind(panic),
                };
                if stop {
                    continue;
                }
                ready.insert(k, out);
                while let Some(out) = ready.remove(&next) {
                    chunks.push(out);
                    let w = jobs[next].0;
                    next += 1;
                    if next < jobs.len() && jobs[next].0 == w {
                        continue;
                    }
                    let (group, first, last, ref block) = windows[w];
                    let window = Window {
                        group,
                        first,
                        last,
                        chunks: std::mem::take(&mut chunks),
                    };
                    // A closed channel means the writer failed; its error is reported below.
                    if tx.send(window).is_err() {
                        completed = false;
                        stop = true;
                        break;
                    }
                    position.done += subscribers_in(block).len() as u64;
                    progress(position);
                }
            }
        });
        drop(tx);
        writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
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
            let csv = stream.is_some_and(|s| s.csv);
            let pace = stream.map_or(Pace::Unpaced, |s| s.pace);
            let header = csv.then(|| match scenario.log_quality {
                Some(_) => event_csv_header_with_faults(),
                None => event_csv_header(),
            });
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
    chunks: Vec<ChunkOut>,
}

/// The files a run reads besides the scenario, identified by contents, so
/// that `--resume` can tell whether they changed.
fn input_files(scenario: &Scenario) -> Result<Vec<InputFile>, RunError> {
    let hash = |name: String, path: Option<PathBuf>| -> Result<InputFile, RunError> {
        let result = match &path {
            None => checksum_of(bundled_map_bytes().unwrap_or_default()),
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

fn manifest_info(scenario: &Scenario, calendar: &Calendar, inputs: Vec<InputFile>) -> ManifestInfo {
    let (start, end) = calendar.span();
    ManifestInfo {
        inputs,
        period_start: rfc3339(start),
        period_end: rfc3339(end),
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
fn write_whole(dataset: &mut Dataset, generator: &Generator<'_>) -> Result<(), SinkError> {
    dataset.begin(Unit::Whole);
    for table in generator.tables().into_iter().filter(|t| !t.by_date()) {
        if let Some(batch) = generator.whole_table(table) {
            dataset.write(table.name(), None, &batch)?;
        }
    }
    dataset.complete()
}

fn write_window(
    sink: &mut Sink,
    calendar: &Calendar,
    pool: &rayon::ThreadPool,
    w: Window,
) -> Result<(), SinkError> {
    match sink {
        Sink::Files(dataset) => {
            if w.first {
                dataset.begin(Unit::Group(w.group));
            }
            for c in &w.chunks {
                if let ChunkOut::Batches(chunk) = c {
                    for (table, day, batch) in &chunk.batches {
                        dataset.write(table.name(), Some(calendar.date(*day)), batch)?;
                    }
                }
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
            for c in w.chunks {
                if let ChunkOut::Lines(lines, _) = c {
                    for (d, mut lines) in lines {
                        per_day.entry(d).or_default().append(&mut lines);
                    }
                }
            }
            for (d, mut records) in per_day {
                spill.add_run(d, &mut records)?;
            }
        }
    }
    Ok(())
}
