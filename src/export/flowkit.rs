//! FlowKit / FlowDB export: the CDR tables Flowminder's FlowDB holds
//! (`events.calls`, `events.sms`, `events.mds`) as daily CSV files, the
//! `infrastructure.cells` and `infrastructure.sites` tables, and two psql
//! scripts that load them.
//!
//! The layout follows FlowKit's own definitions (github.com/Flowminder/FlowKit):
//! the event tables of `flowdb/bin/build/0020_schema_events.sql` (every
//! column, in table order, so `COPY … CSV HEADER` needs no column list), the
//! cells and sites tables of `flowdb/bin/build/0020_schema_infrastructure.sql`,
//! and the daily files and partitions of the test-data ingest scripts
//! (`flowdb/testdata/test_data/sql/ingest_calls.sql`, `ingest_sms.sql`,
//! `ingest_mds.sql`, `ingest_cells.sql`): `records/calls/calls_YYYYMMDD.csv`
//! loaded into a partition `events.calls_YYYYMMDD` of that local day, and
//! `infrastructure/cells.csv` with `longitude`/`latitude` that become
//! `geom_point`.
//!
//! What maps to what:
//! - a call is one row per party record: `VOICE_MO` is `outgoing = true`,
//!   `VOICE_MT` `outgoing = false`; `id` is `CALLER-CALLEE-START_MS`, so the
//!   two records of a call between two subscribers share it; `duration` in
//!   seconds. Texts alike, without duration.
//! - `DATA_SESSION` is a row of `events.mds`: `id` the event id, `duration`
//!   in seconds, `volume_upload`/`volume_download`/`volume_total` in bytes.
//! - `location_id` is the start cell's `cell_id` as text, which
//!   `infrastructure.cells.id` resolves; `tac` is the device's type
//!   allocation code (the IMEI's first 8 digits), not the tracking area.
//! - `datetime` is local time with its UTC offset; files and partitions are
//!   local days, as the dataset's are, so the scripts set the connection's time
//!   zone to the dataset's.
//! - Attach, detach, location updates and handovers have no table in FlowDB
//!   and are left out (the report counts them).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{ExportError, Output, csv_field, local_time, time_zone};
use crate::reader::{
    DatasetReader, column_f64, column_i64, column_ms, column_opt_f64, column_opt_i64,
    column_opt_str, column_str,
};
use crate::sink::network_tables::{cells_schema, events_schema};
use crate::sink::tables::subscribers_schema;

/// Tables the export reads.
pub const TABLES: &[&str] = &["subscribers", "cells", "events"];

/// Header of `events.calls` files: every column of the table, in order.
pub const CALLS_COLUMNS: &str = "id,outgoing,datetime,duration,network,msisdn,msisdn_counterpart,location_id,imsi,imei,tac,operator_code,country_code";
/// Header of `events.sms` files.
pub const SMS_COLUMNS: &str = "id,outgoing,datetime,network,msisdn,msisdn_counterpart,location_id,imsi,imei,tac,operator_code,country_code";
/// Header of `events.mds` files.
pub const MDS_COLUMNS: &str = "id,datetime,duration,volume_total,volume_upload,volume_download,msisdn,location_id,imsi,imei,tac,operator_code,country_code";
/// Header of `infrastructure/cells.csv`, loaded through a staging table as
/// FlowKit's `ingest_cells.sql` does.
pub const CELLS_COLUMNS: &str = "id,version,site_id,type,lac,height,azimuth,electrical_tilt,date_of_first_service,date_of_last_service,longitude,latitude";
/// Header of `infrastructure/sites.csv`.
pub const SITES_COLUMNS: &str =
    "id,version,type,date_of_first_service,date_of_last_service,longitude,latitude";

/// A subscriber's identifiers as FlowDB carries them.
struct Party {
    msisdn: String,
    imei: String,
}

/// The three event tables.
const EVENT_TABLES: [(&str, &str); 3] = [
    ("calls", CALLS_COLUMNS),
    ("sms", SMS_COLUMNS),
    ("mds", MDS_COLUMNS),
];

pub fn export(
    data: &DatasetReader,
    out: &mut Output,
    notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    let tz = time_zone(data)?;
    let dir = data.dir();
    let dates = data.dates("events");
    let first = dates.first().cloned().unwrap_or_default();
    let last = dates.last().cloned().unwrap_or_default();

    let mut parties: HashMap<i64, Party> = HashMap::new();
    let path = dir.join("subscribers");
    for b in data.read("subscribers", subscribers_schema())? {
        let id = column_i64(&b, "subscriber_id", &path)?;
        let msisdn = column_str(&b, "msisdn", &path)?;
        let imei = column_str(&b, "imei", &path)?;
        for ((id, msisdn), imei) in id.into_iter().zip(msisdn).zip(imei) {
            parties.insert(id, Party { msisdn, imei });
        }
    }

    write_infrastructure(data, out, &first, &last)?;

    let mut left_out: BTreeMap<String, u64> = BTreeMap::new();
    let path = dir.join("events");
    let mut line = String::new();
    for date in &dates {
        let compact = date.replace('-', "");
        let mut files = Vec::new();
        for (table, header) in EVENT_TABLES {
            let mut f = out.file(&format!("records/{table}/{table}_{compact}.csv"))?;
            f.write_all(header.as_bytes())?;
            f.write_all(b"\n")?;
            files.push(f);
        }
        for b in data.read_date("events", date, events_schema())? {
            let id = column_i64(&b, "event_id", &path)?;
            let time = column_ms(&b, "timestamp", &path)?;
            let sub = column_i64(&b, "subscriber_id", &path)?;
            let imsi = column_str(&b, "imsi", &path)?;
            let kind = column_str(&b, "event_type", &path)?;
            let cell = column_i64(&b, "cell_id", &path)?;
            let duration = column_opt_i64(&b, "duration_ms", &path)?;
            let up = column_opt_i64(&b, "bytes_up", &path)?;
            let down = column_opt_i64(&b, "bytes_down", &path)?;
            let counterpart = column_opt_str(&b, "counterpart", &path)?;
            for i in 0..b.num_rows() {
                let party = parties.get(&sub[i]).ok_or_else(|| {
                    crate::reader::err(
                        &path,
                        format!(
                            "event {} names subscriber {}, who is not in `subscribers`",
                            id[i], sub[i]
                        ),
                    )
                })?;
                let tac = party.imei.get(..8).unwrap_or(&party.imei);
                let when = local_time(time[i], &tz);
                let other = counterpart[i].as_deref().unwrap_or("");
                line.clear();
                let table = match kind[i].as_str() {
                    k @ ("VOICE_MO" | "VOICE_MT" | "SMS_MO" | "SMS_MT") => {
                        let outgoing = k.ends_with("_MO");
                        let id = interaction_id(outgoing, &party.msisdn, other, time[i]);
                        let _ = write!(line, "{id},{outgoing},{when},");
                        if k.starts_with("VOICE") {
                            let _ = write!(line, "{},", seconds(duration[i]));
                        }
                        let _ = write!(
                            line,
                            ",{},{},{},{},{},{},,",
                            party.msisdn,
                            csv_field(other),
                            cell[i],
                            imsi[i],
                            party.imei,
                            tac
                        );
                        if k.starts_with("VOICE") { 0 } else { 1 }
                    }
                    "DATA_SESSION" => {
                        let (u, d) = (up[i].unwrap_or(0), down[i].unwrap_or(0));
                        let _ = write!(
                            line,
                            "{},{when},{},{},{u},{d},{},{},{},{},{},,",
                            id[i],
                            seconds(duration[i]),
                            u + d,
                            party.msisdn,
                            cell[i],
                            imsi[i],
                            party.imei,
                            tac
                        );
                        2
                    }
                    other => {
                        *left_out.entry(other.to_string()).or_default() += 1;
                        continue;
                    }
                };
                files[table].row(&line)?;
            }
        }
        for f in files {
            out.commit(f)?;
        }
    }
    out.write_whole("ingest_events.sql", &ingest_events_sql(data, &dates), 0)?;
    out.write_whole("ingest_infrastructure.sql", INGEST_INFRASTRUCTURE_SQL, 0)?;
    if !left_out.is_empty() {
        let counts: Vec<String> = left_out.iter().map(|(k, n)| format!("{n} {k}")).collect();
        notes.push(format!(
            "FlowDB has no table for network events: left out {}",
            counts.join(", ")
        ));
    }
    Ok(())
}

/// The `id` of a call or text: `CALLER-CALLEE-START_MS`, the same for the
/// caller's outgoing record and the callee's incoming one.
fn interaction_id(outgoing: bool, own: &str, other: &str, start_ms: i64) -> String {
    let (caller, callee) = if outgoing { (own, other) } else { (other, own) };
    format!("{caller}-{callee}-{start_ms}")
}

/// Milliseconds as seconds with three decimals; empty for none.
fn seconds(ms: Option<i64>) -> String {
    match ms {
        Some(ms) => format!("{}.{:03}", ms / 1000, ms % 1000),
        None => String::new(),
    }
}

fn write_infrastructure(
    data: &DatasetReader,
    out: &mut Output,
    first: &str,
    last: &str,
) -> Result<(), ExportError> {
    let path = data.dir().join("cells");
    let mut cells = out.file("infrastructure/cells.csv")?;
    cells.write_all(format!("{CELLS_COLUMNS}\n").as_bytes())?;
    // A site's position and technology: those of its first cell (a site's
    // sectors share the mast).
    let mut sites: BTreeMap<i64, (String, f64, f64)> = BTreeMap::new();
    for b in data.read("cells", cells_schema())? {
        let id = column_i64(&b, "cell_id", &path)?;
        let site = column_i64(&b, "site_id", &path)?;
        let tech = column_str(&b, "technology", &path)?;
        let tac = column_i64(&b, "tac", &path)?;
        let height = column_f64(&b, "height_m", &path)?;
        let azimuth = column_opt_f64(&b, "azimuth_deg", &path)?;
        let tilt = column_f64(&b, "tilt_deg", &path)?;
        let lon = column_f64(&b, "lon", &path)?;
        let lat = column_f64(&b, "lat", &path)?;
        for i in 0..b.num_rows() {
            let azimuth = azimuth[i].map(|a| format!("{a}")).unwrap_or_default();
            cells.row(&format!(
                "{},0,{},{},{},{},{azimuth},{},{first},{last},{},{}",
                id[i], site[i], tech[i], tac[i], height[i], tilt[i], lon[i], lat[i]
            ))?;
            sites
                .entry(site[i])
                .or_insert_with(|| (tech[i].clone(), lon[i], lat[i]));
        }
    }
    out.commit(cells)?;
    let mut f = out.file("infrastructure/sites.csv")?;
    f.write_all(format!("{SITES_COLUMNS}\n").as_bytes())?;
    for (id, (tech, lon, lat)) in &sites {
        f.row(&format!("{id},0,{tech},{first},{last},{lon},{lat}"))?;
    }
    out.commit(f)
}

/// A psql script that creates a partition per local day of each event
/// table and copies the day's file into it; run from the export directory.
fn ingest_events_sql(data: &DatasetReader, dates: &[String]) -> String {
    let tz = &data.manifest().timezone;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "-- Loads a mobsynth export into FlowDB's event tables (created by\n\
         -- flowdb/bin/build/0020_schema_events.sql). Run from this directory:\n\
         --   psql -v ON_ERROR_STOP=1 -f ingest_events.sql\n\
         -- Days and partitions are local days of {tz}.\n\
         SET TIME ZONE '{tz}';\nBEGIN;"
    );
    for (i, date) in dates.iter().enumerate() {
        let compact = date.replace('-', "");
        let next = next_day(date, dates.get(i + 1));
        for (table, header) in EVENT_TABLES {
            let _ = writeln!(
                s,
                "CREATE TABLE IF NOT EXISTS events.{table}_{compact} PARTITION OF events.{table} FOR VALUES FROM ('{date}') TO ('{next}');\n\
                 \\copy events.{table}_{compact} ({header}) FROM 'records/{table}/{table}_{compact}.csv' WITH (FORMAT csv, HEADER true)"
            );
        }
    }
    for (table, _) in EVENT_TABLES {
        let _ = writeln!(s, "ANALYZE events.{table};");
    }
    s.push_str("COMMIT;\n");
    s
}

/// The day after `date`, `YYYY-MM-DD`.
fn next_day(date: &str, following: Option<&String>) -> String {
    match date.parse::<jiff::civil::Date>() {
        Ok(d) => d
            .tomorrow()
            .map(|t| t.to_string())
            .unwrap_or_else(|_| date.to_string()),
        // Partition names come from the dataset's own paths; a name that is
        // not a date ends where the next begins.
        Err(_) => following.cloned().unwrap_or_else(|| date.to_string()),
    }
}

/// Loads `infrastructure/` as FlowKit's `ingest_cells.sql` does: through a
/// staging table, with PostGIS making `geom_point`.
const INGEST_INFRASTRUCTURE_SQL: &str = "\
-- Loads a mobsynth export into FlowDB's infrastructure tables (created by
-- flowdb/bin/build/0020_schema_infrastructure.sql, which needs PostGIS).
-- Run from this directory:  psql -v ON_ERROR_STOP=1 -f ingest_infrastructure.sql
BEGIN;
CREATE TEMP TABLE mobsynth_cells (
    id TEXT, version INTEGER, site_id TEXT, type TEXT, lac TEXT,
    height NUMERIC, azimuth NUMERIC, electrical_tilt NUMERIC,
    date_of_first_service DATE, date_of_last_service DATE,
    longitude NUMERIC, latitude NUMERIC);
\\copy mobsynth_cells FROM 'infrastructure/cells.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO infrastructure.cells (id, version, site_id, type, lac, height, azimuth,
        electrical_tilt, date_of_first_service, date_of_last_service, geom_point)
    SELECT id, version, site_id, type, lac, height, azimuth, electrical_tilt,
        date_of_first_service, date_of_last_service,
        ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)
    FROM mobsynth_cells;
CREATE TEMP TABLE mobsynth_sites (
    id TEXT, version INTEGER, type TEXT,
    date_of_first_service DATE, date_of_last_service DATE,
    longitude NUMERIC, latitude NUMERIC);
\\copy mobsynth_sites FROM 'infrastructure/sites.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO infrastructure.sites (id, version, type, date_of_first_service,
        date_of_last_service, geom_point)
    SELECT id, version, type, date_of_first_service, date_of_last_service,
        ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)
    FROM mobsynth_sites;
COMMIT;
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seconds_with_milliseconds() {
        assert_eq!(seconds(Some(61_005)), "61.005");
        assert_eq!(seconds(Some(999)), "0.999");
        assert_eq!(seconds(None), "");
    }

    #[test]
    fn both_parties_records_of_a_call_share_its_id() {
        let mo = interaction_id(true, "999100", "999200", 1_772_435_703_250);
        let mt = interaction_id(false, "999200", "999100", 1_772_435_703_250);
        assert_eq!(mo, mt);
        assert_eq!(mo, "999100-999200-1772435703250");
        assert_ne!(
            mo,
            interaction_id(true, "999200", "999100", 1_772_435_703_250)
        );
    }

    #[test]
    fn the_next_day_crosses_months() {
        assert_eq!(next_day("2026-02-28", None), "2026-03-01");
        assert_eq!(next_day("2026-12-31", None), "2027-01-01");
    }

    #[test]
    fn headers_have_the_columns_of_the_flowdb_tables() {
        assert_eq!(CALLS_COLUMNS.split(',').count(), 13);
        assert_eq!(SMS_COLUMNS.split(',').count(), 12);
        assert_eq!(MDS_COLUMNS.split(',').count(), 13);
    }
}
