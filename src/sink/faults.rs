//! The dirty log's columns: `events` with `received_at` and a missing
//! `cell_id`, and the `truth/log_faults` table that labels every fault
//! (see `crate::log_quality`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, Int64Builder, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Int64Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::network_tables::events_schema_with_faults;
use super::tables::{NameDictionary, batch, dict_type, field, i64_of, ts_column, ts_type};
use crate::log_quality::{Fault, FaultRecord};

/// `events` rows (in [`super::network_tables::events_schema`]) with each
/// row's (received_at, cell missing): the `cell_id` of a missing cell
/// becomes null and `received_at` is added.
pub(super) fn with_delivery(events: RecordBatch, delivery: &[(i64, bool)]) -> RecordBatch {
    let mut columns: Vec<ArrayRef> = events.columns().to_vec();
    let schema = events_schema_with_faults();
    if let Ok(i) = schema.index_of("cell_id") {
        let cells = columns[i].as_primitive::<Int64Type>();
        let cells: Int64Array = cells
            .iter()
            .zip(delivery)
            .map(|(c, &(_, missing))| if missing { None } else { c })
            .collect();
        columns[i] = Arc::new(cells);
    }
    let received: TimestampMillisecondArray = delivery
        .iter()
        .map(|&(t, _)| Some(t))
        .collect::<TimestampMillisecondArray>()
        .with_timezone("UTC");
    columns.push(Arc::new(received));
    debug_assert_eq!(columns[0].len(), delivery.len());
    batch(&schema, columns)
}

/// Schema of `truth/log_faults`.
pub fn log_faults_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("event_id", DataType::Int64, false),
        field("timestamp", ts_type(), false),
        field("subscriber_id", DataType::Int64, false),
        field("fault", dict_type(), false),
        field("shift_ms", DataType::Int64, true),
        field("true_cell_id", DataType::Int64, true),
    ]))
}

/// Builds `truth/log_faults` batches.
pub struct LogFaultsBuilder {
    rows: Vec<FaultRecord>,
}

impl LogFaultsBuilder {
    pub fn new() -> Self {
        LogFaultsBuilder { rows: Vec::new() }
    }

    pub fn append(&mut self, f: &FaultRecord) {
        self.rows.push(*f);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The batch of the rows appended; the builder is empty afterwards.
    pub fn finish(&mut self) -> RecordBatch {
        let n = self.rows.len();
        let mut id = Int64Builder::with_capacity(n);
        let mut time = ts_column(n);
        let mut subscriber = Int64Builder::with_capacity(n);
        let mut fault = NameDictionary::new(Fault::ALL.len(), n);
        let mut shift = Int64Builder::with_capacity(n);
        let mut cell = Int64Builder::with_capacity(n);
        for r in self.rows.drain(..) {
            id.append_value(i64_of(r.event_id));
            time.append_value(r.time_ms);
            subscriber.append_value(i64_of(r.subscriber));
            fault.append(r.fault as usize, r.fault.name());
            shift.append_option(r.shift_ms);
            cell.append_option(r.true_cell.map(i64_of));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(time.finish()),
            Arc::new(subscriber.finish()),
            Arc::new(fault.finish()),
            Arc::new(shift.finish()),
            Arc::new(cell.finish()),
        ];
        batch(&log_faults_schema(), columns)
    }
}

impl Default for LogFaultsBuilder {
    fn default() -> Self {
        Self::new()
    }
}
