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
//! file. Users are written in blocks of consecutive ids holding at most
//! [`BLOCK_ROWS`] calls and texts, each block reading the events again, so
//! memory stays bounded however long the run (one block, one reading, for
//! runs up to that size).

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

/// Most calls and texts held in memory at once (about 100 bytes each).
pub const BLOCK_ROWS: usize = 4_000_000;

pub fn export(
    data: &DatasetReader,
    out: &mut Output,
    notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    export_in_blocks(data, out, notes, BLOCK_ROWS)
}

/// Calls `f(subscriber, row)` for every call and text of `events` whose
/// subscriber `keep` accepts, in the order stored.
fn each_row(
    data: &DatasetReader,
    on_net: &HashMap<String, i64>,
    keep: &dyn Fn(i64) -> bool,
    f: &mut dyn FnMut(i64, Row),
) -> Result<(), ExportError> {
    let path = data.dir().join("events");
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
                if !keep(sub[i]) {
                    continue;
                }
                let number = cp[i].clone().unwrap_or_default();
                let correspondent = match on_net.get(&number) {
                    Some(id) => id.to_string(),
                    None => number,
                };
                let duration = (interaction == "call").then(|| dur[i].unwrap_or(0) / 1000);
                f(
                    sub[i],
                    (
                        time[i],
                        interaction,
                        direction,
                        correspondent,
                        duration,
                        cell[i],
                    ),
                );
            }
        }
    }
    Ok(())
}

/// [`export`] holding at most `block_rows` calls and texts at once (but
/// always one user whole).
pub fn export_in_blocks(
    data: &DatasetReader,
    out: &mut Output,
    notes: &mut Vec<String>,
    block_rows: usize,
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

    // The first reading keeps rows while they fit, and counts every user's
    // rows; when they did not fit, the rest is read again block by block.
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    let mut users: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    let mut held = 0usize;
    let mut overflow = false;
    each_row(data, &on_net, &|_| true, &mut |sub, row| {
        *counts.entry(sub).or_default() += 1;
        if !overflow {
            users.entry(sub).or_default().push(row);
            held += 1;
            overflow = held > block_rows;
        }
    })?;
    let mut unanswered = 0u64;
    if !overflow {
        write_users(users, out, &tz, &mut unanswered)?;
    } else {
        drop(users);
        // Consecutive users whose rows fit in a block, one user at least.
        let mut blocks: Vec<(i64, i64)> = Vec::new();
        let mut rows_in = 0usize;
        for (&user, &n) in &counts {
            match blocks.last_mut() {
                Some(block) if rows_in + n <= block_rows => {
                    block.1 = user;
                    rows_in += n;
                }
                _ => {
                    blocks.push((user, user));
                    rows_in = n;
                }
            }
        }
        for (lo, hi) in blocks {
            let mut users: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
            each_row(
                data,
                &on_net,
                &|s| (lo..=hi).contains(&s),
                &mut |sub, row| {
                    users.entry(sub).or_default().push(row);
                },
            )?;
            write_users(users, out, &tz, &mut unanswered)?;
        }
    }
    if unanswered > 0 {
        notes.push(format!(
            "{unanswered} calls shorter than a second (unanswered) have call_duration 0"
        ));
    }
    Ok(())
}

/// Writes `records/<user>.csv` for each user, rows in time order, and
/// counts the calls of 0 seconds.
fn write_users(
    users: BTreeMap<i64, Vec<Row>>,
    out: &mut Output,
    tz: &jiff::tz::TimeZone,
    unanswered: &mut u64,
) -> Result<(), ExportError> {
    for (user, mut records) in users {
        records.sort_by(|a, b| (a.0, a.2, &a.3).cmp(&(b.0, b.2, &b.3)));
        let mut f = out.file(&format!("records/{user}.csv"))?;
        f.write_all(HEADER.as_bytes())?;
        f.write_all(b"\n")?;
        for (t, interaction, direction, correspondent, duration, antenna) in records {
            if duration == Some(0) {
                *unanswered += 1;
            }
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
    Ok(())
}
