//! The generator as a library: a scenario in, Arrow record batches out,
//! table by table, a chunk of subscribers at a time.
//!
//! [`Model::build`] prepares what is built once per scenario (calendar,
//! map, population, radio network); [`Model::generator`] prepares a part of
//! the run (routing, the days model) and [`Generator::chunk`] simulates one
//! chunk of its subscribers into a [`Chunk`] of batches per [`Table`] and
//! day. Chunks are the unit of determinism: chunk `i` is the same bytes
//! whichever thread simulates it and in whatever order, so a caller may
//! simulate chunks in parallel (one [`Worker`] per thread) and keep them in
//! index order, which is the order of the files a run writes.
//!
//! This layer knows nothing of files, terminals or standard output: the
//! `run` module (files, stream) and any embedder are its clients.

use std::ops::Range;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::calendar::Calendar;
use crate::days::{self, PersonDays};
use crate::events::{self, Event};
use crate::happenings::Happenings;
use crate::log_quality::LogQuality;
use crate::map::{Map, MapError};
use crate::population::{self, Subscriber};
use crate::radio::Network;
use crate::routing::{RouteQuery, Router};
use crate::scenario::Scenario;
use crate::sink::faults::LogFaultsBuilder;
use crate::sink::network_tables::{
    EventsBuilder, cells_batch, cells_schema, event_positions_schema, events_schema,
};
use crate::sink::social_tables::{contacts_batch, contacts_schema};
use crate::sink::tables::{
    PositionsBuilder, StaysBuilder, TripsBuilder, positions_schema, stays_schema,
    subscribers_batch, subscribers_schema, trips_schema,
};
use crate::social::SocialNetwork;

/// Subscriber-days simulated as one chunk. The chunk size follows from the
/// scenario alone, so output does not depend on the number of threads.
const CHUNK_SUBSCRIBER_DAYS: usize = 256;

/// Subscribers per chunk for a run of `days` days.
pub fn chunk_subscribers(days: u32) -> usize {
    (CHUNK_SUBSCRIBER_DAYS / days.max(1) as usize).clamp(4, 256)
}

/// The subscribers of part `part` of `parts`: a contiguous index range.
/// `part` must be below `parts` (see [`Options::check`]).
pub fn part_range(total: usize, part: u32, parts: u32) -> Range<usize> {
    let (p, n) = (part as usize, parts.max(1) as usize);
    total * p.min(n) / n..total * (p + 1).min(n) / n
}

/// A table of the dataset: its name (the directory it is written to), its
/// schema, and how it is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Demographics, identifiers, home and anchor: one row per subscriber.
    Subscribers,
    /// The radio network's cells (written by part 0 only).
    Cells,
    /// The observable log: what the network recorded.
    Events,
    /// Truth: where each subscriber stayed, from when to when.
    Stays,
    /// Truth: each trip between two stays.
    Trips,
    /// Truth: where each subscriber really was at each event.
    EventPositions,
    /// Truth: positions sampled at a fixed interval (optional).
    Positions,
    /// Truth: every fault of a dirty log (with `[log_quality]` only).
    LogFaults,
    /// Truth: the scenario's happenings (with `[[happenings]]` only).
    Happenings,
    /// Truth: who attended a gathering or was relocated.
    HappeningParticipants,
    /// Truth: the social network's ties (written by part 0 only).
    Contacts,
}

impl Table {
    /// Every table, in the order a run writes them.
    pub const ALL: [Table; 11] = [
        Table::Subscribers,
        Table::Cells,
        Table::Stays,
        Table::Trips,
        Table::Events,
        Table::EventPositions,
        Table::Positions,
        Table::LogFaults,
        Table::Happenings,
        Table::HappeningParticipants,
        Table::Contacts,
    ];

    /// The table's name, which is also its directory in a dataset.
    pub fn name(self) -> &'static str {
        match self {
            Table::Subscribers => "subscribers",
            Table::Cells => "cells",
            Table::Events => "events",
            Table::Stays => "truth/stays",
            Table::Trips => "truth/trips",
            Table::EventPositions => "truth/event_positions",
            Table::Positions => "truth/positions",
            Table::LogFaults => "truth/log_faults",
            Table::Happenings => "truth/happenings",
            Table::HappeningParticipants => "truth/happening_participants",
            Table::Contacts => "truth/contacts",
        }
    }

    /// The table of a name, as [`Table::name`] gives it.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The Arrow schema every batch of the table has.
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Subscribers => subscribers_schema(),
            Table::Cells => cells_schema(),
            Table::Events => events_schema(),
            Table::Stays => stays_schema(),
            Table::Trips => trips_schema(),
            Table::EventPositions => event_positions_schema(),
            Table::Positions => positions_schema(),
            Table::LogFaults => crate::sink::faults::log_faults_schema(),
            Table::Happenings => crate::sink::happenings::happenings_schema(),
            Table::HappeningParticipants => crate::sink::happenings::participants_schema(),
            Table::Contacts => contacts_schema(),
        }
    }

    /// Whether the table is split into one partition per local day.
    pub fn by_date(self) -> bool {
        !matches!(
            self,
            Table::Subscribers
                | Table::Cells
                | Table::Contacts
                | Table::Happenings
                | Table::HappeningParticipants
        )
    }

    /// The scenario section without which the table is never written
    /// (`log_quality`, `happenings`), if any.
    pub fn section(self) -> Option<&'static str> {
        match self {
            Table::LogFaults => Some("log_quality"),
            Table::Happenings | Table::HappeningParticipants => Some("happenings"),
            _ => None,
        }
    }

    /// Whether the table is ground truth, which an operator would not hold.
    pub fn is_truth(self) -> bool {
        matches!(
            self,
            Table::Stays
                | Table::Trips
                | Table::EventPositions
                | Table::Positions
                | Table::LogFaults
                | Table::Happenings
                | Table::HappeningParticipants
                | Table::Contacts
        )
    }
}

/// Why a generator cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Map(#[from] MapError),
    /// A value of the scenario cannot be used; `origin` names the scenario.
    #[error("{origin}: {message}")]
    Scenario { origin: String, message: String },
    /// Options that contradict each other or the scenario.
    #[error("{0}")]
    Options(String),
}

/// What a generator makes besides what the scenario says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// This generator's part of the subscribers, 0-based.
    pub part: u32,
    /// How many parts the subscribers are split into.
    pub parts: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options { part: 0, parts: 1 }
    }
}

impl Options {
    /// Refuses a part that does not exist.
    pub fn check(&self) -> Result<(), GenerateError> {
        if self.parts == 0 || self.part >= self.parts {
            return Err(GenerateError::Options(format!(
                "part {} of {}: the part must be below the number of parts, which must be at least 1",
                self.part, self.parts
            )));
        }
        Ok(())
    }
}

/// What is built once per scenario: the calendar, the map, the population
/// and the radio network.
pub struct Model {
    scenario: Scenario,
    calendar: Calendar,
    map: Map,
    subscribers: Vec<Subscriber>,
    network: Network,
    happenings: Happenings,
    social: SocialNetwork,
}

impl Model {
    /// Checks the scenario, loads its map, draws its population and builds
    /// its radio network.
    pub fn build(scenario: Scenario) -> Result<Model, GenerateError> {
        let invalid = |message: String| GenerateError::Scenario {
            origin: scenario.origin.clone(),
            message,
        };
        scenario
            .check()
            .map_err(|(key, message)| invalid(format!("`{key}`: {message}")))?;
        let calendar = scenario.calendar().map_err(|e| invalid(e.to_string()))?;
        let map = scenario.load_map()?;
        let spec = scenario.spec(&calendar);
        let mut subscribers = population::synthesize(&spec, &scenario.population, &map)
            .map_err(|e| invalid(e.to_string()))?;
        population::canary::plant(&mut subscribers, &scenario.canaries, &map);
        let network = Network::build(
            &scenario.radio,
            scenario.radio_file().as_deref(),
            scenario.seed,
            &map,
        )
        .map_err(|e| invalid(e.to_string()))?;
        // A zone file is named relative to the scenario's file.
        let happening_specs: Vec<_> = scenario
            .happenings
            .iter()
            .cloned()
            .map(|mut h| {
                let resolve = |f: String| {
                    scenario
                        .resolve_path(std::path::Path::new(&f))
                        .display()
                        .to_string()
                };
                h.zone_file = h.zone_file.map(resolve);
                h.to_zone_file = h.to_zone_file.map(resolve);
                h
            })
            .collect();
        let happenings = Happenings::build(
            &happening_specs,
            scenario.seed,
            &calendar,
            &map,
            &network,
            &subscribers,
        )
        .map_err(|(i, key, message)| {
            let key = format!("happenings[{i}].{key}");
            let line = scenario
                .line_of(&key)
                .map(|l| format!("line {l}: "))
                .unwrap_or_default();
            invalid(format!("{line}`{key}`: {message}"))
        })?;
        let social = SocialNetwork::build(
            &scenario.social,
            &scenario.phone,
            scenario.seed,
            &subscribers,
            &map,
        );
        Ok(Model {
            scenario,
            calendar,
            map,
            subscribers,
            network,
            happenings,
            social,
        })
    }

    /// A generator of part `options.part` of `options.parts`.
    pub fn generator(&self, options: Options) -> Result<Generator<'_>, GenerateError> {
        options.check()?;
        let invalid = |message: String| GenerateError::Scenario {
            origin: self.scenario.origin.clone(),
            message,
        };
        let spec = self.scenario.spec(&self.calendar);
        let mut world = days::World::new(spec, &self.scenario.mobility, &self.map)
            .map_err(|e| invalid(e.to_string()))?;
        world.night_shift = population::canary::night_shift_workers(
            &self.subscribers,
            &self.scenario.canaries,
            &self.map,
        );
        let range = part_range(self.subscribers.len(), options.part, options.parts);
        Ok(Generator {
            model: self,
            router: Router::new(&self.map.graph),
            world,
            options,
            range,
            chunk: chunk_subscribers(self.scenario.days),
            truth: self.scenario.truth,
            positions_every_s: self.scenario.positions_every_s,
            log_quality: self
                .scenario
                .log_quality
                .as_ref()
                .map(|p| LogQuality::new(p, self.scenario.seed, &self.network)),
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn map(&self) -> &Map {
        &self.map
    }

    /// Every subscriber of the run, residents then inbound roamers.
    pub fn subscribers(&self) -> &[Subscriber] {
        &self.subscribers
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The scenario's happenings, resolved.
    pub fn happenings(&self) -> &Happenings {
        &self.happenings
    }

    /// Who calls whom among the subscribers.
    pub fn social(&self) -> &SocialNetwork {
        &self.social
    }
}

/// A part of a run, ready to simulate chunk by chunk.
pub struct Generator<'m> {
    model: &'m Model,
    router: Router<'m>,
    world: days::World<'m>,
    options: Options,
    /// The part's subscribers, as indices into the model's.
    range: Range<usize>,
    /// Subscribers per chunk.
    chunk: usize,
    truth: bool,
    positions_every_s: u32,
    /// The dirty log's faults, with `[log_quality]`.
    log_quality: Option<LogQuality>,
}

/// A thread's reusable state: routing queries and event buffers. Keep one
/// per thread; it never changes what a chunk holds.
pub struct Worker<'g> {
    query: RouteQuery<'g, 'g>,
    events: Vec<Event>,
    simulator: events::Simulator<'g>,
}

/// One chunk's rows: record batches per table and day, in the order a run
/// writes them.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The chunk's index in its part.
    pub index: usize,
    /// (table, day index, rows); a day without rows has no batch.
    pub batches: Vec<(Table, usize, RecordBatch)>,
    /// Events simulated.
    pub events: u64,
}

impl Chunk {
    /// The batches of one table, with their day index, in day order.
    pub fn table(&self, table: Table) -> impl Iterator<Item = (usize, &RecordBatch)> {
        self.batches
            .iter()
            .filter(move |(t, _, _)| *t == table)
            .map(|(_, d, b)| (*d, b))
    }
}

impl<'m> Generator<'m> {
    /// Writes (or leaves out) the truth tables, whatever the scenario says.
    pub fn with_truth(mut self, truth: bool) -> Self {
        self.truth = truth;
        if !truth {
            self.positions_every_s = 0;
        }
        self
    }

    /// Samples `truth/positions` every this many seconds (0 for none),
    /// whatever the scenario says. Has no effect without the truth.
    pub fn with_positions_every(mut self, seconds: u32) -> Self {
        self.positions_every_s = if self.truth { seconds } else { 0 };
        self
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    pub fn calendar(&self) -> &'m Calendar {
        &self.model.calendar
    }

    pub fn options(&self) -> Options {
        self.options
    }

    /// The tables this generator makes, in [`Table::ALL`] order.
    pub fn tables(&self) -> Vec<Table> {
        Table::ALL
            .into_iter()
            .filter(|t| match t {
                Table::Cells => self.options.part == 0,
                Table::Contacts => self.truth && self.options.part == 0,
                Table::Positions => self.positions_every_s > 0,
                Table::LogFaults => self.truth && self.log_quality.is_some(),
                Table::Happenings => {
                    self.truth && self.options.part == 0 && !self.model.happenings.is_empty()
                }
                Table::HappeningParticipants => self.truth && !self.model.happenings.is_empty(),
                t => self.truth || !t.is_truth(),
            })
            .collect()
    }

    /// The dirty log's faults, when the scenario has `[log_quality]`.
    pub fn log_quality(&self) -> Option<&LogQuality> {
        self.log_quality.as_ref()
    }

    /// The part's subscribers.
    pub fn subscribers(&self) -> &'m [Subscriber] {
        &self.model.subscribers[self.range.clone()]
    }

    /// The rows of a table that is not split by day (`subscribers`,
    /// `cells`); `None` for the others, and for `cells` beyond part 0.
    pub fn whole_table(&self, table: Table) -> Option<RecordBatch> {
        match table {
            Table::Subscribers => Some(subscribers_batch(self.subscribers(), &self.model.map)),
            Table::Cells if self.options.part == 0 => Some(cells_batch(&self.model.network)),
            Table::Happenings if self.options.part == 0 => Some(
                crate::sink::happenings::happenings_batch(&self.model.happenings, &self.model.map),
            ),
            Table::HappeningParticipants => {
                let mine: std::collections::HashSet<u32> =
                    self.subscribers().iter().map(|s| s.id.0).collect();
                Some(crate::sink::happenings::participants_batch(
                    &self.model.happenings,
                    &|s| mine.contains(&s),
                ))
            }
            Table::Contacts if self.truth && self.options.part == 0 => {
                Some(contacts_batch(&self.model.social))
            }
            _ => None,
        }
    }

    /// Subscribers per chunk.
    pub fn chunk_size(&self) -> usize {
        self.chunk
    }

    /// Number of chunks of the part.
    pub fn chunk_count(&self) -> usize {
        self.range.len().div_ceil(self.chunk)
    }

    /// The subscribers of chunk `index`, as indices into
    /// [`Generator::subscribers`].
    pub fn chunk_range(&self, index: usize) -> Range<usize> {
        let n = self.range.len();
        (index * self.chunk).min(n)..((index + 1) * self.chunk).min(n)
    }

    /// State for one thread.
    pub fn worker(&self) -> Worker<'_> {
        Worker {
            query: self.router.query(),
            events: Vec::new(),
            simulator: events::Simulator::new(
                self.world.spec(),
                &self.model.scenario.phone,
                &self.model.network,
            )
            .with_social(&self.model.social),
        }
    }

    /// Simulates chunk `index` into record batches.
    pub fn chunk(&self, index: usize, worker: &mut Worker<'_>) -> Chunk {
        let subscribers = &self.subscribers()[self.chunk_range(index)];
        let calendar = self.calendar();
        let map = &self.model.map;
        let days_n = calendar.len();
        let truth = self.truth;
        let truth_days = if truth { days_n } else { 0 };
        // A chunk holds a builder per day of the run: room is made for a day
        // of the chunk's subscribers at the default scenario's rates, so that
        // a long run does not reserve a thousand rows per day and table.
        let n = subscribers.len();
        let mut stays: Vec<StaysBuilder> =
            (0..truth_days).map(|_| StaysBuilder::new(5 * n)).collect();
        let mut trips: Vec<TripsBuilder> =
            (0..truth_days).map(|_| TripsBuilder::new(4 * n)).collect();
        let dirty = self.log_quality.as_ref();
        let mut events: Vec<EventsBuilder> = (0..days_n)
            .map(|_| EventsBuilder::new(64 * n, truth))
            .map(|b| if dirty.is_some() { b.with_faults() } else { b })
            .collect();
        let mut log_faults: Vec<LogFaultsBuilder> =
            (0..if dirty.is_some() { truth_days } else { 0 })
                .map(|_| LogFaultsBuilder::new())
                .collect();
        let (mut delivered, mut faults) = (Vec::new(), Vec::new());
        let every = i64::from(self.positions_every_s);
        let mut sampled: Vec<PositionsBuilder> = (0..if every > 0 { days_n } else { 0 })
            .map(|_| PositionsBuilder::new((n * (86_400 / every.max(1)) as usize).min(1 << 16)))
            .collect();
        let mut out = Chunk {
            index,
            ..Chunk::default()
        };
        let (from, to) = calendar.span();
        let happenings = &self.model.happenings;
        for s in subscribers {
            let mut person: PersonDays = days::simulate(&self.world, &mut worker.query, s);
            if !happenings.is_empty() {
                if let Some((k, home)) = happenings.new_home(s) {
                    let moved = Subscriber { home, ..s.clone() };
                    let there = days::simulate(&self.world, &mut worker.query, &moved);
                    happenings.move_home(k, s, &mut person, there);
                }
                happenings.edit_days(s, map, &mut person);
            }
            let id = s.id.0;
            if every > 0 {
                for p in person.sample_positions(from, to, every) {
                    sampled[calendar.day_of(p.t)].append(id, &p, map);
                }
            }
            if truth {
                // A trip still under way when the run ends arrives after it:
                // the stay it would begin lies outside the period and is not
                // written.
                for stay in person.stays.iter().filter(|s| s.start < to) {
                    stays[calendar.day_of(stay.start)].append(id, stay, map);
                }
                for trip in &person.trips {
                    trips[calendar.day_of(trip.start)].append(id, trip, &person, map);
                }
            }
            worker.events.clear();
            worker.simulator.simulate(s, &person, &mut worker.events);
            if !happenings.is_empty() {
                happenings.edit_events(s, &person, &self.model.network, &mut worker.events);
            }
            out.events += worker.events.len() as u64;
            let Some(dirty) = dirty else {
                for e in &worker.events {
                    events[calendar.day_of(e.time_ms.div_euclid(1000))].append(e);
                }
                continue;
            };
            delivered.clear();
            faults.clear();
            dirty.apply(s, &worker.events, &mut delivered, &mut faults);
            for d in &delivered {
                events[calendar.day_of(d.event.time_ms.div_euclid(1000))].append_delivered(d);
            }
            if truth {
                for f in &faults {
                    log_faults[calendar.day_of(f.time_ms.div_euclid(1000))].append(f);
                }
            }
        }
        // Tables in the order a run writes them, days in order within each.
        for (d, b) in stays.iter_mut().enumerate().filter(|(_, b)| !b.is_empty()) {
            out.batches.push((Table::Stays, d, b.finish()));
        }
        for (d, b) in trips.iter_mut().enumerate().filter(|(_, b)| !b.is_empty()) {
            out.batches.push((Table::Trips, d, b.finish()));
        }
        let mut positions = Vec::new();
        for (d, b) in events.iter_mut().enumerate().filter(|(_, b)| !b.is_empty()) {
            let (ev, pos) = b.finish(map);
            out.batches.push((Table::Events, d, ev));
            positions.extend(pos.map(|p| (Table::EventPositions, d, p)));
        }
        out.batches.append(&mut positions);
        for (d, b) in log_faults
            .iter_mut()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
        {
            out.batches.push((Table::LogFaults, d, b.finish()));
        }
        for (d, b) in sampled
            .iter_mut()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
        {
            out.batches.push((Table::Positions, d, b.finish()));
        }
        out
    }

    /// Simulates chunk `index` and hands each subscriber's events, in time
    /// order, to `each`, without building batches (for encoders of their
    /// own, such as a stream).
    pub fn chunk_events(
        &self,
        index: usize,
        worker: &mut Worker<'_>,
        each: &mut dyn FnMut(&Subscriber, &[Event]),
    ) -> u64 {
        let mut count = 0;
        let happenings = &self.model.happenings;
        for s in &self.subscribers()[self.chunk_range(index)] {
            let mut person = days::simulate(&self.world, &mut worker.query, s);
            if !happenings.is_empty() {
                happenings.edit_days(s, &self.model.map, &mut person);
            }
            worker.events.clear();
            worker.simulator.simulate(s, &person, &mut worker.events);
            if !happenings.is_empty() {
                happenings.edit_events(s, &person, &self.model.network, &mut worker.events);
            }
            count += worker.events.len() as u64;
            each(s, &worker.events);
        }
        count
    }

    /// Every chunk in order, simulated on the calling thread.
    pub fn chunks(&self) -> Chunks<'_, 'm> {
        Chunks {
            generator: self,
            worker: self.worker(),
            next: 0,
        }
    }
}

/// The chunks of a part in order, on one thread: see [`Generator::chunks`].
pub struct Chunks<'g, 'm> {
    generator: &'g Generator<'m>,
    worker: Worker<'g>,
    next: usize,
}

impl Iterator for Chunks<'_, '_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        if self.next >= self.generator.chunk_count() {
            return None;
        }
        self.next += 1;
        Some(self.generator.chunk(self.next - 1, &mut self.worker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_subscribers_once_and_bad_parts_are_refused() {
        let covered: Vec<usize> = (0..3).flat_map(|p| part_range(10, p, 3)).collect();
        assert_eq!(covered, (0..10).collect::<Vec<_>>());
        assert!(Options { part: 3, parts: 3 }.check().is_err());
        assert!(Options { part: 0, parts: 0 }.check().is_err());
        assert!(Options { part: 2, parts: 3 }.check().is_ok());
        // Even unchecked, a part beyond the last is empty rather than a panic.
        assert!(part_range(10, 5, 3).is_empty());
    }

    #[test]
    fn tables_know_their_names_and_kinds() {
        for t in Table::ALL {
            assert_eq!(Table::from_name(t.name()), Some(t));
            assert_eq!(t.is_truth(), t.name().starts_with("truth/"));
        }
        assert!(!Table::Subscribers.by_date() && Table::Events.by_date());
    }
}
