//! Dirty logs: the faults a real ingest shows (duplicated, late and
//! out-of-order records, cells the plan does not know, missing cells, device
//! clocks off by an hour, truncated lines), applied to the clean events
//! after they are simulated, and labelled in `truth/log_faults` so that a
//! cleaning step can be scored ([`score`]).
//!
//! The `[log_quality]` section of a scenario switches it on; without it
//! nothing here runs and the output is the bytes it always was. Every
//! decision is a draw from a stream keyed by the event (whose id holds the
//! subscriber) or, for a clock offset, by the subscriber, so that faults do
//! not depend on threads, parts or chunks.

pub mod score;

use std::collections::HashSet;

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::events::Event;
use crate::population::Subscriber;
use crate::radio::{CellId, Network};
use crate::rng::{self, Purpose};

/// The `[log_quality]` section: each fault's rate and size. An empty
/// section switches every fault on at its default; set a rate to 0 to
/// leave a fault out. Defaults are chosen to be visible in a small run, not
/// measured on a network (see `docs/MODEL.md`, "Dirty logs").
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogQualityParams {
    /// Share of records delivered twice (0.01); the copy has the same
    /// `event_id` and arrives up to `duplicate_delay_max_s` later.
    pub duplicate_rate: f64,
    /// Longest delay of a duplicate after its original, seconds (60).
    pub duplicate_delay_max_s: f64,
    /// Share of records delivered late (0.02): they keep their event time
    /// and arrive after a log-normal delay.
    pub late_rate: f64,
    /// Median delay of a late record, seconds (600), and its log-normal σ (1.5).
    pub late_delay_median_s: f64,
    pub late_delay_sigma: f64,
    /// Share of records delivered a little out of order (0.05): delayed by
    /// a uniform 1 s to `out_of_order_max_s` (30), enough to pass records
    /// that follow them.
    pub out_of_order_rate: f64,
    pub out_of_order_max_s: f64,
    /// Share of records whose `cell_id` is not in the cell plan (0.002).
    pub unknown_cell_rate: f64,
    /// Share of records without a `cell_id` (0.002).
    pub missing_cell_rate: f64,
    /// Share of subscribers whose records carry a clock offset (0.01) for
    /// the whole run, of `clock_offset_s` seconds (3600), either sign.
    pub clock_offset_share: f64,
    pub clock_offset_s: f64,
    /// Share of stream lines cut short (0: only when asked). Applies to the
    /// text lines of `--stdout`; a run that writes files refuses it.
    pub truncated_line_rate: f64,
}

impl Default for LogQualityParams {
    fn default() -> Self {
        LogQualityParams {
            duplicate_rate: 0.01,
            duplicate_delay_max_s: 60.0,
            late_rate: 0.02,
            late_delay_median_s: 600.0,
            late_delay_sigma: 1.5,
            out_of_order_rate: 0.05,
            out_of_order_max_s: 30.0,
            unknown_cell_rate: 0.002,
            missing_cell_rate: 0.002,
            clock_offset_share: 0.01,
            clock_offset_s: 3600.0,
            truncated_line_rate: 0.0,
        }
    }
}

/// Longest delay or clock offset accepted, seconds: a week.
const MAX_SHIFT_S: f64 = 7.0 * 86_400.0;

impl LogQualityParams {
    /// Checks values; the error is (key, what was expected).
    pub fn check(&self) -> check::Check {
        for (k, v) in [
            ("duplicate_rate", self.duplicate_rate),
            ("late_rate", self.late_rate),
            ("out_of_order_rate", self.out_of_order_rate),
            ("unknown_cell_rate", self.unknown_cell_rate),
            ("missing_cell_rate", self.missing_cell_rate),
            ("clock_offset_share", self.clock_offset_share),
            ("truncated_line_rate", self.truncated_line_rate),
        ] {
            check::probability(k, v)?;
        }
        for (k, v) in [
            ("duplicate_delay_max_s", self.duplicate_delay_max_s),
            ("late_delay_median_s", self.late_delay_median_s),
            ("out_of_order_max_s", self.out_of_order_max_s),
            ("clock_offset_s", self.clock_offset_s),
        ] {
            check::in_range(k, v, 0.0, MAX_SHIFT_S, "seconds between 0 and 604800")?;
        }
        check::in_range(
            "late_delay_sigma",
            self.late_delay_sigma,
            0.0,
            5.0,
            "a log-normal σ between 0 and 5",
        )
    }
}

/// A fault applied to a record, as `truth/log_faults` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    Duplicate,
    Late,
    OutOfOrder,
    UnknownCell,
    MissingCell,
    ClockOffset,
    TruncatedLine,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::Duplicate,
        Fault::Late,
        Fault::OutOfOrder,
        Fault::UnknownCell,
        Fault::MissingCell,
        Fault::ClockOffset,
        Fault::TruncatedLine,
    ];

    /// The name written in `truth/log_faults`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Duplicate => "duplicate",
            Fault::Late => "late",
            Fault::OutOfOrder => "out_of_order",
            Fault::UnknownCell => "unknown_cell",
            Fault::MissingCell => "missing_cell",
            Fault::ClockOffset => "clock_offset",
            Fault::TruncatedLine => "truncated_line",
        }
    }

    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One record as the ingest receives it: the event as recorded (its time
/// shifted by a clock offset, its cell replaced by an unknown one), when it
/// arrived, and whether its cell is missing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delivered {
    pub event: Event,
    /// UTC milliseconds when the record reached the ingest.
    pub received_ms: i64,
    /// The record has no `cell_id`.
    pub cell_missing: bool,
}

/// One row of `truth/log_faults`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultRecord {
    pub event_id: u64,
    pub subscriber: u64,
    /// The record's `timestamp` as written (after any clock offset): the
    /// row goes to that day's partition, as the record does.
    pub time_ms: i64,
    pub fault: Fault,
    /// Delay (late, out of order, duplicate: after the original) or clock
    /// offset, milliseconds.
    pub shift_ms: Option<i64>,
    /// Unknown or missing cell: the cell that really served the record.
    pub true_cell: Option<u64>,
}

/// Applies the faults of one scenario; built once per run.
#[derive(Clone, Debug)]
pub struct LogQuality {
    pub params: LogQualityParams,
    seed: u64,
    /// Every cell id of the plan, so that an unknown id is surely unknown.
    plan: HashSet<u64>,
}

/// Sub-keys of the per-event draws: one stream per event, one draw order.
const SUBSCRIBER_CLOCK: u64 = u64::MAX;

impl LogQuality {
    pub fn new(params: &LogQualityParams, seed: u64, network: &Network) -> LogQuality {
        LogQuality {
            params: params.clone(),
            seed,
            plan: network.cells().iter().map(|c| c.id.0).collect(),
        }
    }

    /// The clock offset of a subscriber's records, milliseconds (0 for most).
    pub fn clock_offset_ms(&self, subscriber: &Subscriber) -> i64 {
        let p = &self.params;
        if p.clock_offset_share <= 0.0 {
            return 0;
        }
        let mut r = rng::stream(
            self.seed,
            Purpose::LogFaults,
            u64::from(subscriber.id.0),
            SUBSCRIBER_CLOCK,
        );
        if r.random::<f64>() >= p.clock_offset_share {
            return 0;
        }
        let sign = if r.random::<bool>() { 1.0 } else { -1.0 };
        (sign * p.clock_offset_s * 1000.0).round() as i64
    }

    /// The records one subscriber's `events` (in time order) become, in the
    /// order they are written to files (each duplicate right after its
    /// original), and the faults applied to them.
    pub fn apply(
        &self,
        subscriber: &Subscriber,
        events: &[Event],
        out: &mut Vec<Delivered>,
        faults: &mut Vec<FaultRecord>,
    ) {
        let p = &self.params;
        let offset = self.clock_offset_ms(subscriber);
        let sub = u64::from(subscriber.id.0);
        for e in events {
            let mut r = rng::stream(self.seed, Purpose::LogFaults, e.id, 0);
            // Every draw is made whatever the rates, so that changing one
            // rate never moves another fault.
            let u: [f64; 6] = std::array::from_fn(|_| r.random::<f64>());
            let z: f64 = StandardNormal.sample(&mut r);
            let mut d = Delivered {
                event: *e,
                received_ms: e.time_ms,
                cell_missing: false,
            };
            d.event.time_ms += offset;
            let record = |fault, shift_ms, true_cell| FaultRecord {
                event_id: e.id,
                subscriber: sub,
                time_ms: e.time_ms + offset,
                fault,
                shift_ms,
                true_cell,
            };
            let mut mine = Vec::new();
            if offset != 0 {
                mine.push(record(Fault::ClockOffset, Some(offset), None));
            }
            if u[0] < p.late_rate {
                let delay_s = p.late_delay_median_s * (p.late_delay_sigma * z).exp();
                let delay = (delay_s.min(MAX_SHIFT_S) * 1000.0).round().max(1.0) as i64;
                d.received_ms += delay;
                mine.push(record(Fault::Late, Some(delay), None));
            } else if u[1] < p.out_of_order_rate {
                // Late records are already out of order; this is the short kind.
                let delay_s = 1.0 + u[5] * (p.out_of_order_max_s - 1.0).max(0.0);
                let delay = (delay_s * 1000.0).round() as i64;
                d.received_ms += delay;
                mine.push(record(Fault::OutOfOrder, Some(delay), None));
            }
            if u[2] < p.unknown_cell_rate {
                d.event.cell = self.unknown_cell(e);
                mine.push(record(Fault::UnknownCell, None, Some(e.cell.0)));
            } else if u[3] < p.missing_cell_rate {
                d.cell_missing = true;
                mine.push(record(Fault::MissingCell, None, Some(e.cell.0)));
            }
            out.push(d);
            if u[4] < p.duplicate_rate {
                let delay = (u[5] * p.duplicate_delay_max_s * 1000.0).round() as i64;
                let mut copy = d;
                copy.received_ms += delay;
                out.push(copy);
                mine.push(record(Fault::Duplicate, Some(delay), None));
            }
            faults.append(&mut mine);
        }
    }

    /// A cell id of the event's network that the plan does not hold.
    fn unknown_cell(&self, e: &Event) -> CellId {
        let (mcc, mnc) = (e.cell.mcc(), e.cell.mnc());
        let mut h = rng::key_hash(self.seed, Purpose::LogFaults, e.id, 1);
        loop {
            let id = CellId::new(mcc, mnc, h & CellId::MAX_LOCAL);
            if !self.plan.contains(&id.0) {
                return id;
            }
            h = rng::mix64(h);
        }
    }

    /// Whether stream line `event_id` (its `copy`-th delivery) is cut short,
    /// and where: a share of the line's length in (0, 1).
    pub fn truncation(&self, event_id: u64, copy: u64) -> Option<f64> {
        let p = self.params.truncated_line_rate;
        if p <= 0.0 {
            return None;
        }
        let mut r = rng::stream(self.seed, Purpose::LogFaults, event_id, 2 + copy);
        (r.random::<f64>() < p).then(|| 0.1 + 0.8 * r.random::<f64>())
    }
}
