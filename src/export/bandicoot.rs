//! bandicoot export: one CSV of calls and texts per user, and the antennas.
//!
//! bandicoot (github.com/computationalprivacy/bandicoot, `docs/quickstart.rst`
//! and `bandicoot/io.py`, `read_csv`) reads `records/<user>.csv` with the
//! header `interaction,direction,correspondent_id,datetime,call_duration,antenna_id`:
//! - `interaction`: `call` or `text`;
//! - `direction`: `out` for VOICE_MO/SMS_MO, `in` for VOICE_MT/SMS_MT;
//! - `correspondent_id`: another subscriber's `subscriber_id` when the other
//!   party is on-net (so `read_csv(..., network=True)` finds their file and
//!   the reciprocated records), else the outside number;
//! - `datetime`: local time of the region, `YYYY-MM-DD HH:MM:SS`;
//! - `call_duration`: whole seconds for calls, empty for texts;
//! - `antenna_id`: the serving cell's `cell_id`;
//!
//! and `antennas.csv` with `antenna_id,latitude,longitude` (WGS84 degrees).
//! Rows of a user are in time order; users without calls or texts get no
//! file. All of a run's calls and texts are held in memory while writing.

use std::collections::{BTreeMap, HashMap};

use super::{ExportError, Output, time_zone};
use crate::reader::{
    DatasetReader, column_f64, column_i64, column_ms, column_opt_i64, column_opt_str, column_str,
};
use crate::sink::network_tables::{cells_schema, events_schema};
use crate::sink::tables::subscribers_schema;

/// Tables the bandicoot export reads.
pub const TABLES: &[&str] = &["subscribers", "cells", "events"];

pub const HEADER: &str = "interaction,direction,correspondent_id,datetime,call_duration,antenna_id";

/// A record: (time ms, interaction, direction, correspondent, duration s, antenna).
type Row = (i64, &'static str, &'static str, String, Option<i64>, i64);

pub fn export(
    data: &DatasetReader,
    out: &mut Output,
    notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    let tz = time_zone(data)?;
    let path = data.dir().join("subscribers");
    let mut on_net: HashMap<String, i64> = HashMap::new();
    for b in data.read("subscribers", subscribers_schema())? {
        let id = column_i64(&b, "subscriber_id", &path)?;
        let msisdn = column_str(&b, "msisdn", &path)?;
        for (i, m) in msisdn.into_iter().enumerate() {
            on_net.insert(m, id[i]);
        }
    }
    let path = data.dir().join("cells");
    let mut antennas = String::from("antenna_id,latitude,longitude\n");
    let mut rows = 0;
    for b in data.read("cells", cells_schema())? {
        let id = column_i64(&b, "cell_id", &path)?;
        let lon = column_f64(&b, "lon", &path)?;
        let lat = column_f64(&b, "lat", &path)?;
        for i in 0..b.num_rows() {
            antennas.push_str(&format!("{},{},{}\n", id[i], lat[i], lon[i]));
            rows += 1;
        }
    }
    out.write_whole("antennas.csv", &antennas, rows)?;

    let path = data.dir().join("events");
    let mut users: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    let mut unanswered = 0u64;
    for date in data.dates("events") {
        for b in data.read_date("events", &date, events_schema())? {
            let kind = column_str(&b, "event_type", &path)?;
            let sub = column_i64(&b, "subscriber_id", &path)?;
            let time = column_ms(&b, "timestamp", &path)?;
            let cell = column_i64(&b, "cell_id", &path)?;
            let dur = column_opt_i64(&b, "duration_ms", &path)?;
            let cp = column_opt_str(&b, "counterpart", &path)?;
            for i in 0..b.num_rows() {
                let (interaction, direction) = match kind[i].as_str() {
                    "VOICE_MO" => ("call", "out"),
                    "VOICE_MT" => ("call", "in"),
                    "SMS_MO" => ("text", "out"),
                    "SMS_MT" => ("text", "in"),
                    _ => continue,
                };
                let number = cp[i].clone().unwrap_or_default();
                let correspondent = match on_net.get(&number) {
                    Some(id) => id.to_string(),
                    None => number,
                };
                let duration = (interaction == "call").then(|| dur[i].unwrap_or(0) / 1000);
                if duration == Some(0) {
                    unanswered += 1;
                }
                users.entry(sub[i]).or_default().push((
                    time[i],
                    interaction,
                    direction,
                    correspondent,
                    duration,
                    cell[i],
                ));
            }
        }
    }
    for (user, mut records) in users {
        records.sort_by(|a, b| (a.0, a.2, &a.3).cmp(&(b.0, b.2, &b.3)));
        let mut f = out.file(&format!("records/{user}.csv"))?;
        f.write_all(HEADER.as_bytes())?;
        f.write_all(b"\n")?;
        for (t, interaction, direction, correspondent, duration, antenna) in records {
            let when = jiff::Timestamp::from_millisecond(t)
                .unwrap_or_default()
                .to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string();
            let duration = duration.map(|d| d.to_string()).unwrap_or_default();
            f.row(&format!(
                "{interaction},{direction},{correspondent},{when},{duration},{antenna}"
            ))?;
        }
        out.commit(f)?;
    }
    if unanswered > 0 {
        notes.push(format!(
            "{unanswered} calls shorter than a second (unanswered) have call_duration 0"
        ));
    }
    Ok(())
}
