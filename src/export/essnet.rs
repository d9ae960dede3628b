//! ESSnet export: the output files of the European Statistical System's
//! mobile-network data simulator, which the destim/simutils R pipeline (and
//! the rest of the ESSnet Big Data methodology: deduplication, aggregation,
//! inference) reads.
//!
//! Layout and codes follow that simulator's public repositories:
//! `bogdanoancea/simulator` (`include/events/EventCode.h` for the event
//! codes; `data/output_schema_definition/antennas_dict.xml`,
//! `persons_dict.xml`, `grid_dict.xml` for the column names the readers take
//! from the `*_dict.xml` files) and `bogdanoancea/simutils`
//! (`R/read_simData.R`, `inst/extdata/metadata/output_files/`,
//! `inst/extdata/output_files/antennas.csv`), and the sample outputs of
//! `bogdanoancea/MobileNetworkDataSimulationTemplate`
//! (`code/docker/output/AntennaInfo_MNO_MNO1.csv`, `persons.csv`).
//!
//! Files, all CSV with a header:
//! - `AntennaInfo_MNO_MNO1.csv`: `t,Antenna ID,Event Code,Device ID,x,y,Tile ID`,
//!   one row per network event, in time order. `Event Code` is the
//!   simulator's: 0 `ATTACH_DEVICE` (an attach, or the first event of a
//!   device at a cell other than its last one), 1 `DETACH_DEVICE` (a
//!   detach), 2 `ALREADY_ATTACHED_DEVICE` (any other event at the same cell
//!   as the device's last one); 3 (`IN_RANGE_NOT_ATTACHED_DEVICE`) never
//!   occurs. `x`, `y` and `Tile ID` are where the device truly was, as the
//!   simulator writes them.
//! - `persons.csv`: `t,Person ID,x,y,Tile ID,Mobile Phone(s) ID`, the truth:
//!   every person's position at every tick while the dataset accounts for
//!   them, at the stay's place, or on a trip on the straight line from its
//!   origin to its destination in proportion to the time elapsed (the
//!   routed path is not in the truth tables).
//! - `antennas.csv`: the simulator's antenna columns at `t = 0`.
//! - `grid.csv`: `Origin X,Origin Y,X Tile Dim,Y Tile Dim,No Tiles X,No Tiles Y`.
//! - `AntennaInfo_dict.xml`, `persons_dict.xml`, `antennas_dict.xml`,
//!   `grid_dict.xml`: the column descriptions its readers take names from.
//! - `projection.txt`: the PROJ definition of the planar coordinates.
//!
//! Coordinates are planar metres of an equirectangular projection centred
//! on the cells (the one mobsynth's metrics use), shifted so that the grid's
//! lower-left corner is (0, 0): `+proj=eqc +lat_ts=φ0 +lat_0=φ0 +lon_0=λ0
//! +x_0=X0 +y_0=Y0 +R=6371008.8 +units=m`. The grid has square tiles of
//! [`TILE_M`] metres and covers every position written; tiles are numbered
//! from the south-west corner, row by row: `Tile ID = row × No Tiles X +
//! column`. Time `t` is seconds since the first local midnight of the
//! dataset, in whole ticks (`--tick`, 60 s by default): an event at second s
//! has `t = ⌊s / tick⌋ × tick`. A person's id is the `subscriber_id`; each
//! has one phone whose device id is the same number.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{ExportError, Output};
use crate::map::Projection;
use crate::reader::{
    DatasetReader, column_f64, column_i64, column_ms, column_opt_f64, column_str, err,
};
use crate::sink::network_tables::{cells_schema, event_positions_schema, events_schema};
use crate::sink::tables::{stays_schema, subscribers_schema, trips_schema};

/// Tables the export reads.
pub const TABLES: &[&str] = &[
    "subscribers",
    "cells",
    "events",
    "truth/event_positions",
    "truth/stays",
    "truth/trips",
];

/// Side of a grid tile, metres.
pub const TILE_M: f64 = 250.0;

/// The operator's name in file names and `mno_name`.
const MNO: &str = "MNO1";

/// The simulator's event codes (`EventCode.h`).
const ATTACH_DEVICE: u8 = 0;
const DETACH_DEVICE: u8 = 1;
const ALREADY_ATTACHED_DEVICE: u8 = 2;

/// The planar frame: projection, shift to the grid's corner, grid size.
struct Frame {
    projection: Projection,
    x0: f64,
    y0: f64,
    nx: i64,
    ny: i64,
}

impl Frame {
    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        let p = self.projection.to_xy(lon, lat);
        (p.x - self.x0, p.y - self.y0)
    }

    fn tile(&self, x: f64, y: f64) -> i64 {
        let col = ((x / TILE_M).floor() as i64).clamp(0, self.nx - 1);
        let row = ((y / TILE_M).floor() as i64).clamp(0, self.ny - 1);
        row * self.nx + col
    }
}

/// A stretch of a person's day: at one place, or moving in a straight line.
#[derive(Clone, Copy)]
struct Span {
    start_ms: i64,
    end_ms: i64,
    from: (f64, f64),
    to: (f64, f64),
}

impl Span {
    fn at(&self, ms: i64) -> (f64, f64) {
        let len = (self.end_ms - self.start_ms).max(1) as f64;
        let f = ((ms - self.start_ms) as f64 / len).clamp(0.0, 1.0);
        (
            self.from.0 + f * (self.to.0 - self.from.0),
            self.from.1 + f * (self.to.1 - self.from.1),
        )
    }
}

pub fn export(
    data: &DatasetReader,
    out: &mut Output,
    tick_s: u32,
    _notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    let tz = super::time_zone(data)?;
    let dir = data.dir();
    let dates = data.dates("events");
    let tick_ms = i64::from(tick_s) * 1000;
    let midnights: Vec<i64> = dates
        .iter()
        .map(|d| {
            midnight_ms(d, &tz).ok_or_else(|| err(dir, format!("partition {d:?} is not a date")))
        })
        .collect::<Result<_, _>>()?;
    let Some(&start_ms) = midnights.first() else {
        return Err(err(&dir.join("events"), "no date partitions").into());
    };
    let end_ms = match dates.last() {
        Some(d) => next_midnight_ms(d, &tz).unwrap_or(start_ms),
        None => start_ms,
    };

    let frame = frame(data)?;
    write_antennas(data, out, &frame)?;
    write_grid_and_dicts(out, &frame, tick_s, (end_ms - start_ms) / 1000)?;

    // Events, a day at a time, in time order.
    let mut info = out.file(&format!("AntennaInfo_MNO_{MNO}.csv"))?;
    info.write_all(b"t,Antenna ID,Event Code,Device ID,x,y,Tile ID\n")?;
    let mut last_cell: HashMap<i64, Option<i64>> = HashMap::new();
    let events_path = dir.join("events");
    let pos_path = dir.join("truth/event_positions");
    let mut line = String::new();
    for date in &dates {
        let mut where_: HashMap<i64, (f64, f64)> = HashMap::new();
        for b in data.read_date("truth/event_positions", date, event_positions_schema())? {
            let id = column_i64(&b, "event_id", &pos_path)?;
            let lon = column_f64(&b, "lon", &pos_path)?;
            let lat = column_f64(&b, "lat", &pos_path)?;
            for i in 0..b.num_rows() {
                where_.insert(id[i], (lon[i], lat[i]));
            }
        }
        // (device, time, event id, cell, is an attach, is a detach)
        let mut day: Vec<(i64, i64, i64, i64, bool, bool)> = Vec::new();
        for b in data.read_date("events", date, events_schema())? {
            let id = column_i64(&b, "event_id", &events_path)?;
            let time = column_ms(&b, "timestamp", &events_path)?;
            let sub = column_i64(&b, "subscriber_id", &events_path)?;
            let kind = column_str(&b, "event_type", &events_path)?;
            let cell = column_i64(&b, "cell_id", &events_path)?;
            for i in 0..b.num_rows() {
                day.push((
                    sub[i],
                    time[i],
                    id[i],
                    cell[i],
                    kind[i] == "ATTACH",
                    kind[i] == "DETACH",
                ));
            }
        }
        day.sort_unstable_by_key(|e| (e.0, e.1, e.2));
        let mut coded: Vec<(i64, i64, i64, i64, u8)> = Vec::with_capacity(day.len());
        for (sub, time, id, cell, attach, detach) in day {
            let last = last_cell.entry(sub).or_insert(None);
            let code = if detach {
                *last = None;
                DETACH_DEVICE
            } else if attach || *last != Some(cell) {
                *last = Some(cell);
                ATTACH_DEVICE
            } else {
                ALREADY_ATTACHED_DEVICE
            };
            coded.push((time, sub, id, cell, code));
        }
        coded.sort_unstable();
        for (time, sub, id, cell, code) in coded {
            let (lon, lat) = where_
                .get(&id)
                .copied()
                .ok_or_else(|| err(&pos_path, format!("event {id} has no true position")))?;
            let (x, y) = frame.xy(lon, lat);
            let t = (time - start_ms).div_euclid(tick_ms) * i64::from(tick_s);
            line.clear();
            let _ = write!(
                line,
                "{t},{cell},{code},{sub},{x:.6},{y:.6},{}",
                frame.tile(x, y)
            );
            info.row(&line)?;
        }
    }
    out.commit(info)?;

    write_persons(
        data, out, &frame, &dates, &midnights, end_ms, start_ms, tick_ms,
    )?;
    Ok(())
}

/// Local midnight at the start of `date`, ms since the epoch.
fn midnight_ms(date: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let d: jiff::civil::Date = date.parse().ok()?;
    let z = d.to_zoned_datetime(tz.clone()).ok()?;
    Some(z.timestamp().as_millisecond())
}

fn next_midnight_ms(date: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let d: jiff::civil::Date = date.parse().ok()?;
    midnight_ms(&d.tomorrow().ok()?.to_string(), tz)
}

/// The projection centred on the cells, and a grid over every position the
/// export writes (cells, stays, trips' ends, events' true positions).
fn frame(data: &DatasetReader) -> Result<Frame, ExportError> {
    let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    fn add(bbox: &mut [f64; 4], lon: f64, lat: f64) {
        *bbox = [
            bbox[0].min(lon),
            bbox[1].min(lat),
            bbox[2].max(lon),
            bbox[3].max(lat),
        ];
    }
    let path = data.dir().join("cells");
    for b in data.read("cells", cells_schema())? {
        let (lon, lat) = (column_f64(&b, "lon", &path)?, column_f64(&b, "lat", &path)?);
        for i in 0..b.num_rows() {
            add(&mut bbox, lon[i], lat[i]);
        }
    }
    if bbox[0] > bbox[2] {
        return Err(err(&path, "no cells").into());
    }
    let projection = Projection::new((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    for (table, schema, cols) in [
        ("truth/stays", stays_schema(), &[("lon", "lat")][..]),
        (
            "truth/trips",
            trips_schema(),
            &[
                ("origin_lon", "origin_lat"),
                ("destination_lon", "destination_lat"),
            ][..],
        ),
        (
            "truth/event_positions",
            event_positions_schema(),
            &[("lon", "lat")][..],
        ),
    ] {
        let path = data.dir().join(table);
        data.for_each_batch(table, schema, &mut |b| {
            for (lon_col, lat_col) in cols {
                let (lon, lat) = (
                    column_f64(&b, lon_col, &path)?,
                    column_f64(&b, lat_col, &path)?,
                );
                for i in 0..b.num_rows() {
                    add(&mut bbox, lon[i], lat[i]);
                }
            }
            Ok(())
        })?;
    }
    let lo = projection.to_xy(bbox[0], bbox[1]);
    let hi = projection.to_xy(bbox[2], bbox[3]);
    // The corner on a whole tile, with a tile of margin.
    let x0 = (lo.x / TILE_M).floor() * TILE_M - TILE_M;
    let y0 = (lo.y / TILE_M).floor() * TILE_M - TILE_M;
    let nx = ((hi.x - x0) / TILE_M).floor() as i64 + 2;
    let ny = ((hi.y - y0) / TILE_M).floor() as i64 + 2;
    Ok(Frame {
        projection,
        x0,
        y0,
        nx,
        ny,
    })
}

fn write_antennas(
    data: &DatasetReader,
    out: &mut Output,
    frame: &Frame,
) -> Result<(), ExportError> {
    let path = data.dir().join("cells");
    let mut f = out.file("antennas.csv")?;
    f.write_all(b"t,Antenna ID,x,y,MNO ID,mno_name,maxconnection,power,attenuationfactor,type,Smin,Qmin,Smid,SSteep,tilt,azim_dB_back,elev_dB_back,beam_h,beam_v,direction,z,Tile ID\n")?;
    for b in data.read("cells", cells_schema())? {
        let id = column_i64(&b, "cell_id", &path)?;
        let (lon, lat) = (column_f64(&b, "lon", &path)?, column_f64(&b, "lat", &path)?);
        let power = column_f64(&b, "power_dbm", &path)?;
        let ple = column_f64(&b, "path_loss_exponent", &path)?;
        let tilt = column_f64(&b, "tilt_deg", &path)?;
        let hbw = column_f64(&b, "h_beamwidth_deg", &path)?;
        let vbw = column_f64(&b, "v_beamwidth_deg", &path)?;
        let azimuth = column_opt_f64(&b, "azimuth_deg", &path)?;
        let height = column_f64(&b, "height_m", &path)?;
        for i in 0..b.num_rows() {
            let (x, y) = frame.xy(lon[i], lat[i]);
            // The simulator gives power in watts.
            let watts = 10f64.powf((power[i] - 30.0) / 10.0);
            let line = match azimuth[i] {
                Some(a) => format!(
                    "0,{},{x:.6},{y:.6},0,{MNO},,{watts:.6},{},directional,,,,,{},,,{},{},{a:.6},{},{}",
                    id[i],
                    ple[i],
                    tilt[i],
                    hbw[i],
                    vbw[i],
                    height[i],
                    frame.tile(x, y)
                ),
                None => format!(
                    "0,{},{x:.6},{y:.6},0,{MNO},,{watts:.6},{},omnidirectional,,,,,,,,,,,{},{}",
                    id[i],
                    ple[i],
                    height[i],
                    frame.tile(x, y)
                ),
            };
            f.row(&line)?;
        }
    }
    out.commit(f)
}

fn write_grid_and_dicts(
    out: &mut Output,
    frame: &Frame,
    tick_s: u32,
    period_s: i64,
) -> Result<(), ExportError> {
    out.write_whole(
        "grid.csv",
        &format!(
            "Origin X,Origin Y,X Tile Dim,Y Tile Dim,No Tiles X,No Tiles Y\n0,0,{TILE_M},{TILE_M},{},{}\n",
            frame.nx, frame.ny
        ),
        1,
    )?;
    let p = &frame.projection;
    out.write_whole(
        "projection.txt",
        &format!(
            "+proj=eqc +lat_ts={lat} +lat_0={lat} +lon_0={lon} +x_0={x0} +y_0={y0} +R={r} +units=m +no_defs\n",
            lat = p.lat0,
            lon = p.lon0,
            x0 = -frame.x0,
            y0 = -frame.y0,
            r = crate::map::EARTH_RADIUS_M
        ),
        0,
    )?;
    let last_t = (period_s / i64::from(tick_s) - 1).max(0) * i64::from(tick_s);
    let time = format!(
        "\t<specs_time type=\"Discrete\">\n\t\t<timeColName>t</timeColName>\n\t\t<time_start>0</time_start>\n\t\t<time_end>{last_t}</time_end>\n\t\t<time_increment>{tick_s}</time_increment>\n\t\t<time_unit>s</time_unit>\n\t\t<value_type>integer</value_type>\n\t</specs_time>\n"
    );
    let tile = "\t<specs_tile>\n\t\t<tileColName>Tile ID</tileColName>\n\t\t<tileID_value_type>unsignedInt</tileID_value_type>\n\t</specs_tile>\n";
    let coords = |tag: &str| {
        format!(
            "\t<{tag}>\n\t\t<XColName>x</XColName>\n\t\t<YColName>y</YColName>\n\t\t<value_type>decimal</value_type>\n\t</{tag}>\n"
        )
    };
    out.write_whole(
        "AntennaInfo_dict.xml",
        &format!(
            "<events>\n\t<specs_file>\n\t\t<fileName>AntennaInfo_MNO_{MNO}.csv</fileName>\n\t</specs_file>\n{time}\t<specs_cells>\n\t\t<cellIDColName>Antenna ID</cellIDColName>\n\t\t<cellID_value_type>string</cellID_value_type>\n\t</specs_cells>\n\t<specs_event_code>\n\t\t<eventCodeColName>Event Code</eventCodeColName>\n\t\t<value_type>integer</value_type>\n\t</specs_event_code>\n\t<specs_devices>\n\t\t<devColName>Device ID</devColName>\n\t\t<devID_value_type>unsignedInt</devID_value_type>\n\t</specs_devices>\n{}{tile}</events>\n",
            coords("specs_device_coords")
        ),
        0,
    )?;
    out.write_whole(
        "persons_dict.xml",
        &format!(
            "<persons>\n\t<specs_file>\n\t\t<fileName>persons.csv</fileName>\n\t</specs_file>\n{time}\t<specs_personID>\n\t\t<personIDColName>Person ID</personIDColName>\n\t\t<value_type>unsignedInt</value_type>\n\t</specs_personID>\n{}{tile}\t<specs_devices>\n\t\t<devColName>Mobile Phone(s) ID</devColName>\n\t\t<devID_value_type>string</devID_value_type>\n\t</specs_devices>\n</persons>\n",
            coords("specs_person_coords")
        ),
        0,
    )?;
    let mut antennas = String::from(
        "<antennas>\n\t<specs_file>\n\t\t<fileName>antennas.csv</fileName>\n\t</specs_file>\n",
    );
    antennas += &time;
    antennas += "\t<specs_cells>\n\t\t<cellIDColName>Antenna ID</cellIDColName>\n\t\t<cellID_value_type>string</cellID_value_type>\n\t</specs_cells>\n";
    antennas += &coords("specs_antenna_coords");
    antennas += "\t<specs_mno>\n\t\t<idColName>MNO ID</idColName>\n\t\t<id_value_type>unsignedInt</id_value_type>\n\t\t<nameColName>mno_name</nameColName>\n\t\t<name_value_type>string</name_value_type>\n\t</specs_mno>\n";
    for (spec, col, kind) in [
        ("max_connection", "maxconnection", "integer"),
        ("power", "power", "decimal"),
        ("attenuationfactor", "attenuationfactor", "decimal"),
        ("type", "type", "string"),
        ("Smin", "Smin", "decimal"),
        ("Qmin", "Qmin", "decimal"),
        ("Smid", "Smid", "decimal"),
        ("SSteep", "SSteep", "decimal"),
        ("tilt", "tilt", "decimal"),
        ("azim_dB_back", "azim_dB_back", "decimal"),
        ("elev_dB_back", "elev_dB_back", "decimal"),
        ("beam_h", "beam_h", "decimal"),
        ("beam_v", "beam_v", "decimal"),
        ("direction", "direction", "decimal"),
        ("z", "z", "decimal"),
    ] {
        let tag = match spec {
            "max_connection" => "maxConn".to_string(),
            s => s.to_string(),
        };
        let _ = write!(
            antennas,
            "\t<specs_{spec}>\n\t\t<{tag}ColName>{col}</{tag}ColName>\n\t\t<value_type>{kind}</value_type>\n\t</specs_{spec}>\n"
        );
    }
    antennas += tile;
    antennas += "</antennas>\n";
    out.write_whole("antennas_dict.xml", &antennas, 0)?;
    out.write_whole(
        "grid_dict.xml",
        "<grid>\n\t<specs_file>\n\t\t<fileName>grid.csv</fileName>\n\t</specs_file>\n\t<specs_grid_origin>\n\t\t<OriginXColName>Origin X</OriginXColName>\n\t\t<OriginYColName>Origin Y</OriginYColName>\n\t\t<value_type>decimal</value_type>\n\t</specs_grid_origin>\n\t<specs_grid_tile_dim>\n\t\t<XTileDimColName>X Tile Dim</XTileDimColName>\n\t\t<YTileDimColName>Y Tile Dim</YTileDimColName>\n\t\t<value_type>decimal</value_type>\n\t</specs_grid_tile_dim>\n\t<specs_grid_tile_no>\n\t\t<NoTilesXColName>No Tiles X</NoTilesXColName>\n\t\t<NoTilesYColName>No Tiles Y</NoTilesYColName>\n\t\t<value_type>integer</value_type>\n\t</specs_grid_tile_no>\n</grid>\n",
        0,
    )
}

/// `persons.csv`: a day at a time, every tick of the day in order, every
/// person the truth places at that time.
#[allow(clippy::too_many_arguments)]
fn write_persons(
    data: &DatasetReader,
    out: &mut Output,
    frame: &Frame,
    dates: &[String],
    midnights: &[i64],
    end_ms: i64,
    start_ms: i64,
    tick_ms: i64,
) -> Result<(), ExportError> {
    let tick_s = tick_ms / 1000;
    let mut people: Vec<i64> = Vec::new();
    let path = data.dir().join("subscribers");
    for b in data.read("subscribers", subscribers_schema())? {
        people.extend(column_i64(&b, "subscriber_id", &path)?);
    }
    people.sort_unstable();
    let mut f = out.file("persons.csv")?;
    f.write_all(b"t,Person ID,x,y,Tile ID,Mobile Phone(s) ID\n")?;
    // Spans reaching past the day they start on wait for the next day.
    let mut carried: BTreeMap<i64, Vec<Span>> = BTreeMap::new();
    let mut line = String::new();
    for (i, date) in dates.iter().enumerate() {
        let day_end = midnights.get(i + 1).copied().unwrap_or(end_ms);
        let mut spans: BTreeMap<i64, Vec<Span>> = std::mem::take(&mut carried);
        let stays_path = data.dir().join("truth/stays");
        for b in data.read_date("truth/stays", date, stays_schema())? {
            let sub = column_i64(&b, "subscriber_id", &stays_path)?;
            let (s, e) = (
                column_ms(&b, "start", &stays_path)?,
                column_ms(&b, "end", &stays_path)?,
            );
            let (lon, lat) = (
                column_f64(&b, "lon", &stays_path)?,
                column_f64(&b, "lat", &stays_path)?,
            );
            for k in 0..b.num_rows() {
                let p = frame.xy(lon[k], lat[k]);
                spans.entry(sub[k]).or_default().push(Span {
                    start_ms: s[k],
                    end_ms: e[k],
                    from: p,
                    to: p,
                });
            }
        }
        let trips_path = data.dir().join("truth/trips");
        for b in data.read_date("truth/trips", date, trips_schema())? {
            let sub = column_i64(&b, "subscriber_id", &trips_path)?;
            let (s, e) = (
                column_ms(&b, "start", &trips_path)?,
                column_ms(&b, "end", &trips_path)?,
            );
            let (olon, olat) = (
                column_f64(&b, "origin_lon", &trips_path)?,
                column_f64(&b, "origin_lat", &trips_path)?,
            );
            let (dlon, dlat) = (
                column_f64(&b, "destination_lon", &trips_path)?,
                column_f64(&b, "destination_lat", &trips_path)?,
            );
            for k in 0..b.num_rows() {
                spans.entry(sub[k]).or_default().push(Span {
                    start_ms: s[k],
                    end_ms: e[k],
                    from: frame.xy(olon[k], olat[k]),
                    to: frame.xy(dlon[k], dlat[k]),
                });
            }
        }
        for (sub, list) in spans.iter_mut() {
            list.sort_by_key(|s| (s.start_ms, s.end_ms));
            let later: Vec<Span> = list
                .iter()
                .filter(|s| s.end_ms > day_end)
                .copied()
                .collect();
            if !later.is_empty() {
                carried.insert(*sub, later);
            }
        }
        let mut cursors: BTreeMap<i64, usize> = BTreeMap::new();
        // The first tick at or after the day's start.
        let day_start = midnights[i];
        let mut t = start_ms + (day_start - start_ms + tick_ms - 1).div_euclid(tick_ms) * tick_ms;
        while t < day_end {
            for person in &people {
                let Some(list) = spans.get(person) else {
                    continue;
                };
                let c = cursors.entry(*person).or_insert(0);
                while *c < list.len() && list[*c].end_ms <= t {
                    *c += 1;
                }
                let Some(span) = list.get(*c).filter(|s| s.start_ms <= t) else {
                    continue;
                };
                let (x, y) = span.at(t);
                line.clear();
                let _ = write!(
                    line,
                    "{},{person},{x:.6},{y:.6},{},{person}",
                    (t - start_ms) / 1000 / tick_s * tick_s,
                    frame.tile(x, y)
                );
                f.row(&line)?;
            }
            t += tick_ms;
        }
    }
    out.commit(f)
}
