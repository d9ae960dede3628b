//! Trajectory exports for the Python mobility libraries: scikit-mobility's
//! `TrajDataFrame` and trackintel's positionfixes and staypoints.
//!
//! scikit-mobility (github.com/scikit-mobility/scikit-mobility,
//! `skmob/core/trajectorydataframe.py` and `skmob/utils/constants.py`)
//! reads a table with the columns `uid`, `lat`, `lng`, `datetime`:
//! - `skmob/truth_stays.csv`: one point per ground-truth stay, at its place
//!   and start;
//! - `skmob/events.csv`: one point per event, at the serving cell's mast
//!   (what an analyst of the log sees).
//!
//! trackintel (github.com/mie-lab/trackintel, `trackintel/io/file.py` and its
//! test data `tests/data/positionfixes.csv`, `tests/data/staypoints.csv`)
//! reads `;`-separated files whose first, unnamed column is the id:
//! - `trackintel/positionfixes.csv`: `;user_id;tracked_at;latitude;longitude`,
//!   one fix per event at the serving cell;
//! - `trackintel/staypoints.csv`: `;user_id;started_at;finished_at;purpose;geom`,
//!   the ground-truth stays with `geom` a WKT `POINT (lon lat)` and
//!   `purpose` the stay's activity.
//!
//! Times are UTC (`YYYY-MM-DDTHH:MM:SS.mmmZ`), coordinates WGS84 degrees,
//! `uid`/`user_id` the `subscriber_id`. Rows are in date partitions' order,
//! and by user and time within a partition.

use std::collections::HashMap;

use super::{ExportError, Output, utc_time};
use crate::reader::{DatasetReader, column_f64, column_i64, column_ms, column_str};
use crate::sink::network_tables::{cells_schema, events_schema};
use crate::sink::tables::stays_schema;

/// Tables the scikit-mobility export reads.
pub const SKMOB_TABLES: &[&str] = &["cells", "events", "truth/stays"];
/// Tables the trackintel export reads.
pub const TRACKINTEL_TABLES: &[&str] = &["cells", "events", "truth/stays"];

/// A stay: (user, start ms, end ms, lon, lat, activity).
type StayRow = (i64, i64, i64, f64, f64, String);

/// A fix: (user, time ms, lon, lat).
type Fix = (i64, i64, f64, f64);

pub fn export_skmob(
    data: &DatasetReader,
    out: &mut Output,
    _notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    let mut f = out.file("skmob/truth_stays.csv")?;
    f.write_all(b"uid,lat,lng,datetime\n")?;
    for_each_day_of_stays(data, &mut |stays| {
        for (uid, start, _, lon, lat, _) in stays {
            f.row(&format!("{uid},{lat},{lon},{}", utc_time(start)))?;
        }
        Ok(())
    })?;
    out.commit(f)?;
    let mut f = out.file("skmob/events.csv")?;
    f.write_all(b"uid,lat,lng,datetime\n")?;
    for_each_day_of_fixes(data, &mut |fixes| {
        for (uid, t, lon, lat) in fixes {
            f.row(&format!("{uid},{lat},{lon},{}", utc_time(t)))?;
        }
        Ok(())
    })?;
    out.commit(f)
}

pub fn export_trackintel(
    data: &DatasetReader,
    out: &mut Output,
    _notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    let mut f = out.file("trackintel/positionfixes.csv")?;
    f.write_all(b";user_id;tracked_at;latitude;longitude\n")?;
    let mut id = 0u64;
    for_each_day_of_fixes(data, &mut |fixes| {
        for (uid, t, lon, lat) in fixes {
            f.row(&format!("{id};{uid};{};{lat};{lon}", utc_time(t)))?;
            id += 1;
        }
        Ok(())
    })?;
    out.commit(f)?;
    let mut f = out.file("trackintel/staypoints.csv")?;
    f.write_all(b";user_id;started_at;finished_at;purpose;geom\n")?;
    let mut id = 0u64;
    for_each_day_of_stays(data, &mut |stays| {
        for (uid, start, end, lon, lat, activity) in stays {
            f.row(&format!(
                "{id};{uid};{};{};{activity};POINT ({lon} {lat})",
                utc_time(start),
                utc_time(end)
            ))?;
            id += 1;
        }
        Ok(())
    })?;
    out.commit(f)
}

/// Hands each date partition's stays to `each`, sorted by user and start.
fn for_each_day_of_stays(
    data: &DatasetReader,
    each: &mut dyn FnMut(Vec<StayRow>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let path = data.dir().join("truth/stays");
    for date in data.dates("truth/stays") {
        let mut rows: Vec<StayRow> = Vec::new();
        for b in data.read_date("truth/stays", &date, stays_schema())? {
            let sub = column_i64(&b, "subscriber_id", &path)?;
            let start = column_ms(&b, "start", &path)?;
            let end = column_ms(&b, "end", &path)?;
            let lon = column_f64(&b, "lon", &path)?;
            let lat = column_f64(&b, "lat", &path)?;
            let activity = column_str(&b, "activity", &path)?;
            for (i, activity) in activity.into_iter().enumerate() {
                rows.push((sub[i], start[i], end[i], lon[i], lat[i], activity));
            }
        }
        rows.sort_by_key(|r| (r.0, r.1, r.2));
        each(rows)?;
    }
    Ok(())
}

/// Hands each date partition's events to `each` as (user, time, lon, lat)
/// at the serving cell, sorted by user and time.
fn for_each_day_of_fixes(
    data: &DatasetReader,
    each: &mut dyn FnMut(Vec<Fix>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let path = data.dir().join("cells");
    let mut cells: HashMap<i64, (f64, f64)> = HashMap::new();
    for b in data.read("cells", cells_schema())? {
        let id = column_i64(&b, "cell_id", &path)?;
        let lon = column_f64(&b, "lon", &path)?;
        let lat = column_f64(&b, "lat", &path)?;
        for i in 0..b.num_rows() {
            cells.insert(id[i], (lon[i], lat[i]));
        }
    }
    let path = data.dir().join("events");
    for date in data.dates("events") {
        let mut rows = Vec::new();
        for b in data.read_date("events", &date, events_schema())? {
            let id = column_i64(&b, "event_id", &path)?;
            let sub = column_i64(&b, "subscriber_id", &path)?;
            let time = column_ms(&b, "timestamp", &path)?;
            let cell = column_i64(&b, "cell_id", &path)?;
            for i in 0..b.num_rows() {
                let (lon, lat) = cells.get(&cell[i]).copied().ok_or_else(|| {
                    crate::reader::err(
                        &path,
                        format!(
                            "event {} names cell {}, which is not in `cells`",
                            id[i], cell[i]
                        ),
                    )
                })?;
                rows.push((sub[i], time[i], id[i], lon, lat));
            }
        }
        rows.sort_by_key(|r| (r.0, r.1, r.2));
        each(
            rows.into_iter()
                .map(|(s, t, _, lon, lat)| (s, t, lon, lat))
                .collect(),
        )?;
    }
    Ok(())
}
