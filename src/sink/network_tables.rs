//! The network's tables: `cells`, `events` (the observable log) and
//! `truth/event_positions` (where each event really happened).
//!
//! The true position never enters `events`: an analyst's pipeline reads the
//! log alone and can be scored against the truth afterwards.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder,
    StringBuilder, StringDictionaryBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Int8Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::tables::{
    NameDictionary, batch, dict_type, field, i16_of, i32_of, i64_of, ts_column, ts_type,
};
use crate::events::{Event, EventType};
use crate::map::Map;
use crate::population::Subscriber;
use crate::radio::{Cell, Network, Technology};

/// Name of a technology, as written.
pub fn technology_name(t: Technology) -> &'static str {
    match t {
        Technology::Gsm => "GSM",
        Technology::Umts => "UMTS",
        Technology::Lte => "LTE",
        Technology::Nr => "NR",
    }
}

/// Schema of `cells`.
pub fn cells_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("cell_id", DataType::Int64, false),
        field("site_id", DataType::Int64, false),
        field("mcc", DataType::Int16, false),
        field("mnc", DataType::Int16, false),
        field("technology", dict_type(), false),
        field("tac", DataType::Int32, false),
        field("lon", DataType::Float64, false),
        field("lat", DataType::Float64, false),
        field("azimuth_deg", DataType::Float64, true),
        field("height_m", DataType::Float64, false),
        field("power_dbm", DataType::Float64, false),
        field("gain_dbi", DataType::Float64, false),
        field("tilt_deg", DataType::Float64, false),
        field("h_beamwidth_deg", DataType::Float64, false),
        field("v_beamwidth_deg", DataType::Float64, false),
        field("path_loss_exponent", DataType::Float64, false),
        field("environment", dict_type(), false),
    ]))
}

/// The `cells` table.
pub fn cells_batch(network: &Network) -> RecordBatch {
    let cells: &[Cell] = network.cells();
    let mut id = Int64Builder::new();
    let mut site = Int64Builder::new();
    let mut mcc = Int16Builder::new();
    let mut mnc = Int16Builder::new();
    let mut tech = StringDictionaryBuilder::<Int8Type>::new();
    let mut tac = Int32Builder::new();
    let mut lon = Float64Builder::new();
    let mut lat = Float64Builder::new();
    let mut azimuth = Float64Builder::new();
    let mut height = Float64Builder::new();
    let mut power = Float64Builder::new();
    let mut gain = Float64Builder::new();
    let mut tilt = Float64Builder::new();
    let mut hbw = Float64Builder::new();
    let mut vbw = Float64Builder::new();
    let mut ple = Float64Builder::new();
    let mut env = StringDictionaryBuilder::<Int8Type>::new();
    for c in cells {
        id.append_value(i64_of(c.id.0));
        site.append_value(i64::from(c.site));
        mcc.append_value(i16_of(c.id.mcc()));
        mnc.append_value(i16_of(c.id.mnc()));
        tech.append_value(technology_name(c.technology));
        tac.append_value(i32_of(c.tac));
        lon.append_value(c.lon);
        lat.append_value(c.lat);
        azimuth.append_option(c.azimuth_deg);
        height.append_value(c.height_m);
        power.append_value(c.power_dbm);
        gain.append_value(c.gain_dbi);
        tilt.append_value(c.tilt_deg);
        hbw.append_value(c.h_beamwidth_deg);
        vbw.append_value(c.v_beamwidth_deg);
        ple.append_value(c.path_loss_exponent);
        env.append_value(c.environment.name());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(site.finish()),
        Arc::new(mcc.finish()),
        Arc::new(mnc.finish()),
        Arc::new(tech.finish()),
        Arc::new(tac.finish()),
        Arc::new(lon.finish()),
        Arc::new(lat.finish()),
        Arc::new(azimuth.finish()),
        Arc::new(height.finish()),
        Arc::new(power.finish()),
        Arc::new(gain.finish()),
        Arc::new(tilt.finish()),
        Arc::new(hbw.finish()),
        Arc::new(vbw.finish()),
        Arc::new(ple.finish()),
        Arc::new(env.finish()),
    ];
    batch(&cells_schema(), columns)
}

/// Schema of `events`.
pub fn events_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("event_id", DataType::Int64, false),
        field("timestamp", ts_type(), false),
        field("subscriber_id", DataType::Int64, false),
        field("imsi", DataType::Utf8, false),
        field("event_type", dict_type(), false),
        field("cell_id", DataType::Int64, false),
        field("tac", DataType::Int32, false),
        field("technology", dict_type(), false),
        field("end_time", ts_type(), true),
        field("duration_ms", DataType::Int32, true),
        field("end_cell_id", DataType::Int64, true),
        field("source_cell_id", DataType::Int64, true),
        field("bytes_up", DataType::Int64, true),
        field("bytes_down", DataType::Int64, true),
        field("counterpart", DataType::Utf8, true),
        field("timing_advance", DataType::Int16, true),
        field("rsrp_dbm", DataType::Float32, true),
    ]))
}

/// Schema of `events` with `[log_quality]` on: `cell_id` may be missing,
/// and `received_at` (when the record reached the ingest) is added last.
pub fn events_schema_with_faults() -> SchemaRef {
    let mut fields: Vec<_> = events_schema()
        .fields()
        .iter()
        .map(|f| match f.name().as_str() {
            "cell_id" => field("cell_id", DataType::Int64, true),
            _ => f.as_ref().clone(),
        })
        .collect();
    fields.push(field("received_at", ts_type(), false));
    Arc::new(Schema::new(fields))
}

/// Schema of `truth/event_positions`.
pub fn event_positions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("event_id", DataType::Int64, false),
        field("timestamp", ts_type(), false),
        field("subscriber_id", DataType::Int64, false),
        field("lon", DataType::Float64, false),
        field("lat", DataType::Float64, false),
    ]))
}

/// Builds `events` and `truth/event_positions` batches: events are kept as
/// they come and turned into columns at the end, when their number is
/// known, so that no column is made larger than it needs and then shrunk.
pub struct EventsBuilder {
    rows: Vec<Event>,
    /// With `[log_quality]` on: each row's (received_at, cell missing).
    delivery: Option<Vec<(i64, bool)>>,
    /// Whether `truth/event_positions` is built too.
    positions: bool,
}

impl EventsBuilder {
    /// With room for `rows` events; with `positions`, the builder also
    /// makes `truth/event_positions`.
    pub fn new(rows: usize, positions: bool) -> Self {
        EventsBuilder {
            rows: Vec::with_capacity(rows),
            delivery: None,
            positions,
        }
    }

    /// Builds the `events` of a dirty log ([`events_schema_with_faults`]):
    /// rows are appended with [`EventsBuilder::append_delivered`].
    pub fn with_faults(mut self) -> Self {
        self.delivery = Some(Vec::with_capacity(self.rows.capacity()));
        self
    }

    /// Appends one record of a dirty log.
    pub fn append_delivered(&mut self, d: &crate::log_quality::Delivered) {
        self.rows.push(d.event);
        if let Some(delivery) = &mut self.delivery {
            delivery.push((d.received_ms, d.cell_missing));
        }
    }

    /// Appends one event.
    pub fn append(&mut self, e: &Event) {
        self.rows.push(*e);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The `events` batch and, when built, the matching
    /// `truth/event_positions` batch; the builder is empty afterwards.
    pub fn finish(&mut self, map: &Map) -> (RecordBatch, Option<RecordBatch>) {
        use std::fmt::Write as _;
        let mut columns = EventColumns::new(self.rows.len(), self.positions);
        let mut imsi = String::new();
        let mut last = None;
        for (i, e) in self.rows.iter().enumerate() {
            if last != Some(e.imsi) {
                imsi.clear();
                let _ = write!(imsi, "{:015}", e.imsi);
                last = Some(e.imsi);
            }
            // A duplicate is one event delivered twice: its true position
            // is written once.
            let positions = columns.positions;
            if i > 0 && self.rows[i - 1].id == e.id {
                columns.positions = false;
            }
            columns.append(&imsi, e, map);
            columns.positions = positions;
        }
        self.rows.clear();
        let (events, positions) = columns.finish();
        match self.delivery.as_mut() {
            Some(delivery) => {
                let events = crate::sink::faults::with_delivery(events, delivery);
                delivery.clear();
                (events, positions)
            }
            None => (events, positions),
        }
    }
}

/// The column builders of a batch of events, sized exactly for it.
struct EventColumns {
    id: Int64Builder,
    time: TimestampMillisecondBuilder,
    subscriber: Int64Builder,
    imsi: StringBuilder,
    kind: NameDictionary,
    cell: Int64Builder,
    tac: Int32Builder,
    technology: NameDictionary,
    end_time: TimestampMillisecondBuilder,
    duration: Int32Builder,
    end_cell: Int64Builder,
    source_cell: Int64Builder,
    bytes_up: Int64Builder,
    bytes_down: Int64Builder,
    counterpart: StringBuilder,
    timing_advance: Int16Builder,
    rsrp: Float32Builder,
    pos_id: Int64Builder,
    pos_time: TimestampMillisecondBuilder,
    pos_subscriber: Int64Builder,
    pos_lon: Float64Builder,
    pos_lat: Float64Builder,
    /// Whether `truth/event_positions` is built too.
    positions: bool,
    /// Scratch for number formatting, reused across rows.
    text: String,
}

impl EventColumns {
    /// With room for `rows` events; with `positions`, the builder also
    /// makes `truth/event_positions`.
    fn new(rows: usize, positions: bool) -> Self {
        let pos_rows = if positions { rows } else { 0 };
        EventColumns {
            id: Int64Builder::with_capacity(rows),
            time: ts_column(rows),
            subscriber: Int64Builder::with_capacity(rows),
            imsi: StringBuilder::with_capacity(rows, rows * 15),
            kind: NameDictionary::new(EventType::ALL.len(), rows),
            cell: Int64Builder::with_capacity(rows),
            tac: Int32Builder::with_capacity(rows),
            technology: NameDictionary::new(Technology::ALL.len(), rows),
            end_time: ts_column(rows),
            duration: Int32Builder::with_capacity(rows),
            end_cell: Int64Builder::with_capacity(rows),
            source_cell: Int64Builder::with_capacity(rows),
            bytes_up: Int64Builder::with_capacity(rows),
            bytes_down: Int64Builder::with_capacity(rows),
            // Only calls and texts, a few in ten events, have a counterpart.
            counterpart: StringBuilder::with_capacity(rows, rows * 3),
            timing_advance: Int16Builder::with_capacity(rows),
            rsrp: Float32Builder::with_capacity(rows),
            pos_id: Int64Builder::with_capacity(pos_rows),
            pos_time: ts_column(pos_rows),
            pos_subscriber: Int64Builder::with_capacity(pos_rows),
            pos_lon: Float64Builder::with_capacity(pos_rows),
            pos_lat: Float64Builder::with_capacity(pos_rows),
            positions,
            text: String::new(),
        }
    }

    /// Appends one event; `imsi` is the subscriber's IMSI as written.
    fn append(&mut self, imsi: &str, e: &Event, map: &Map) {
        use std::fmt::Write as _;
        self.id.append_value(i64_of(e.id));
        self.time.append_value(e.time_ms);
        self.subscriber.append_value(i64::from(e.subscriber.0));
        self.imsi.append_value(imsi);
        self.kind.append(e.kind as usize, e.kind.name());
        self.cell.append_value(i64_of(e.cell.0));
        self.tac.append_value(i32_of(e.tac));
        self.technology
            .append(e.technology as usize, technology_name(e.technology));
        self.end_time
            .append_option(e.duration_ms.map(|d| e.time_ms + d as i64));
        self.duration.append_option(e.duration_ms.map(i32_of));
        self.end_cell.append_option(e.end_cell.map(|c| i64_of(c.0)));
        self.source_cell
            .append_option(e.source_cell.map(|c| i64_of(c.0)));
        self.bytes_up.append_option(e.bytes_up.map(i64_of));
        self.bytes_down.append_option(e.bytes_down.map(i64_of));
        match e.counterpart {
            Some(n) => {
                self.text.clear();
                let _ = write!(self.text, "{n}");
                self.counterpart.append_value(&self.text);
            }
            None => self.counterpart.append_null(),
        }
        self.timing_advance
            .append_option(e.timing_advance.map(i16_of));
        self.rsrp.append_option(e.rsrp_dbm);
        if !self.positions {
            return;
        }
        let (lon, lat) = map.lon_lat(e.true_pos);
        self.pos_id.append_value(i64_of(e.id));
        self.pos_time.append_value(e.time_ms);
        self.pos_subscriber.append_value(i64::from(e.subscriber.0));
        self.pos_lon.append_value(lon);
        self.pos_lat.append_value(lat);
    }

    /// The `events` batch and, when built, the matching
    /// `truth/event_positions` batch.
    fn finish(&mut self) -> (RecordBatch, Option<RecordBatch>) {
        let events: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.subscriber.finish()),
            Arc::new(self.imsi.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.cell.finish()),
            Arc::new(self.tac.finish()),
            Arc::new(self.technology.finish()),
            Arc::new(self.end_time.finish()),
            Arc::new(self.duration.finish()),
            Arc::new(self.end_cell.finish()),
            Arc::new(self.source_cell.finish()),
            Arc::new(self.bytes_up.finish()),
            Arc::new(self.bytes_down.finish()),
            Arc::new(self.counterpart.finish()),
            Arc::new(self.timing_advance.finish()),
            Arc::new(self.rsrp.finish()),
        ];
        let positions = self.positions.then(|| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(self.pos_id.finish()),
                Arc::new(self.pos_time.finish()),
                Arc::new(self.pos_subscriber.finish()),
                Arc::new(self.pos_lon.finish()),
                Arc::new(self.pos_lat.finish()),
            ];
            batch(&event_positions_schema(), columns)
        });
        (batch(&events_schema(), events), positions)
    }
}

/// A UTC instant in milliseconds as the files' text encoders write it: CSV
/// always with three digits of fraction, NDJSON (Arrow's JSON writer)
/// without a fraction on whole seconds.
fn rfc3339_ms(ms: i64, csv: bool) -> String {
    let t = jiff::Timestamp::from_millisecond(ms).unwrap_or_default();
    if !csv && ms.rem_euclid(1000) == 0 {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// One event as a line of the stream: NDJSON, or CSV in the column order of
/// [`events_schema`], as the files' encoders write the same row (a test
/// holds them equal field by field). Appends to `out`, newline included.
pub fn event_line(out: &mut Vec<u8>, csv: bool, subscriber: &Subscriber, imsi: &str, e: &Event) {
    event_line_with(out, csv, subscriber, imsi, e, None);
}

/// One record of a dirty log as a line of the stream, in the column order
/// of [`events_schema_with_faults`]: as [`event_line`], with `received_at`
/// and without `cell_id` when it is missing.
pub fn delivered_line(
    out: &mut Vec<u8>,
    csv: bool,
    subscriber: &Subscriber,
    imsi: &str,
    d: &crate::log_quality::Delivered,
) {
    event_line_with(
        out,
        csv,
        subscriber,
        imsi,
        &d.event,
        Some((d.received_ms, d.cell_missing)),
    );
}

fn event_line_with(
    out: &mut Vec<u8>,
    csv: bool,
    subscriber: &Subscriber,
    imsi: &str,
    e: &Event,
    delivery: Option<(i64, bool)>,
) {
    let ts = rfc3339_ms(e.time_ms, csv);
    let cell_missing = delivery.is_some_and(|(_, missing)| missing);
    let opt = |v: Option<u64>| v.map(|x| x.to_string());
    let end_time = e.duration_ms.map(|d| rfc3339_ms(e.time_ms + d as i64, csv));
    let fields: [(&str, Option<String>, bool); 18] = [
        ("event_id", Some(e.id.to_string()), false),
        ("timestamp", Some(ts), true),
        ("subscriber_id", Some(subscriber.id.0.to_string()), false),
        ("imsi", Some(imsi.to_string()), true),
        ("event_type", Some(e.kind.name().to_string()), true),
        (
            "cell_id",
            (!cell_missing).then(|| e.cell.0.to_string()),
            false,
        ),
        ("tac", Some(e.tac.to_string()), false),
        (
            "technology",
            Some(technology_name(e.technology).to_string()),
            true,
        ),
        ("end_time", end_time, true),
        ("duration_ms", opt(e.duration_ms.map(u64::from)), false),
        ("end_cell_id", opt(e.end_cell.map(|c| c.0)), false),
        ("source_cell_id", opt(e.source_cell.map(|c| c.0)), false),
        ("bytes_up", opt(e.bytes_up), false),
        ("bytes_down", opt(e.bytes_down), false),
        ("counterpart", opt(e.counterpart), true),
        (
            "timing_advance",
            opt(e.timing_advance.map(u64::from)),
            false,
        ),
        // As the files write it: the shortest text that reads back as the
        // same 32-bit value.
        ("rsrp_dbm", e.rsrp_dbm.map(|r| r.to_string()), false),
        (
            "received_at",
            delivery.map(|(t, _)| rfc3339_ms(t, csv)),
            true,
        ),
    ];
    // A clean log has no `received_at` column at all.
    let columns = if delivery.is_some() { 18 } else { 17 };
    if csv {
        for (i, (_, v, _)) in fields[..columns].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            if let Some(v) = v {
                out.extend_from_slice(v.as_bytes());
            }
        }
    } else {
        out.push(b'{');
        let mut first = true;
        for (name, v, quoted) in &fields {
            let Some(v) = v else { continue };
            if !first {
                out.push(b',');
            }
            first = false;
            let _ = if *quoted {
                write!(out, "\"{name}\":\"{v}\"")
            } else {
                write!(out, "\"{name}\":{v}")
            };
        }
        out.push(b'}');
    }
    out.push(b'\n');
}

/// The CSV header line of the stream.
pub fn event_csv_header() -> Vec<u8> {
    csv_header(&events_schema())
}

/// The CSV header line of a dirty log's stream.
pub fn event_csv_header_with_faults() -> Vec<u8> {
    csv_header(&events_schema_with_faults())
}

fn csv_header(schema: &Schema) -> Vec<u8> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    (names.join(",") + "\n").into_bytes()
}
