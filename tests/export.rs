//! The exports on a real run of the bundled scenario: each file holds what
//! the dataset holds (checked by another path than the export's), the same
//! dataset gives the same bytes, and bad input is one line naming what is
//! missing. The FlowKit round trip through PostgreSQL is in
//! `export_flowkit.rs`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mobsynth-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn mobsynth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap()
}

fn small_run(out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--subscribers",
        "150",
        "--days",
        "2",
        "--quiet",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = mobsynth(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn export(kind: &str, dataset: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "export",
        kind,
        dataset.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    mobsynth(&args)
}

fn exported(kind: &str, dataset: &Path, out: &Path) {
    let o = export(kind, dataset, out, &[]);
    assert!(
        o.status.success(),
        "{kind}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir` with its bytes, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Runs an export that must fail, and returns its one line of stderr.
fn refused(kind: &str, dataset: &Path, out: &Path, extra: &[&str]) -> String {
    let o = export(kind, dataset, out, extra);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{kind}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(stderr.starts_with("mobsynth: error: "), "{stderr}");
    stderr
}

/// Whether a `geo` metadata value follows the GeoParquet 1.1 JSON schema
/// (format-specs/schema.json): the required keys with their types, the
/// primary column among the columns, the geometry type names, and a bbox of
/// 4 or 6 numbers.
fn check_geo_metadata(geo: &serde_json::Value) -> Result<(), String> {
    let obj = geo.as_object().ok_or("geo is not an object")?;
    let version = obj
        .get("version")
        .and_then(|v| v.as_str())
        .ok_or("version missing or not a string")?;
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 || parts[0] != "1" || parts.iter().any(|p| p.parse::<u32>().is_err()) {
        return Err(format!("version {version:?} is not 1.x.y"));
    }
    let primary = obj
        .get("primary_column")
        .and_then(|v| v.as_str())
        .ok_or("primary_column missing or not a string")?;
    let columns = obj
        .get("columns")
        .and_then(|v| v.as_object())
        .ok_or("columns missing or not an object")?;
    if !columns.contains_key(primary) {
        return Err(format!("primary column {primary:?} not among the columns"));
    }
    for (name, c) in columns {
        let c = c.as_object().ok_or(format!("{name}: not an object"))?;
        let encoding = c
            .get("encoding")
            .and_then(|v| v.as_str())
            .ok_or("encoding")?;
        let allowed = [
            "WKB",
            "point",
            "linestring",
            "polygon",
            "multipoint",
            "multilinestring",
            "multipolygon",
        ];
        if !allowed.contains(&encoding) {
            return Err(format!("{name}: encoding {encoding:?}"));
        }
        let types = c
            .get("geometry_types")
            .and_then(|v| v.as_array())
            .ok_or(format!("{name}: geometry_types missing or not an array"))?;
        let mut seen = std::collections::BTreeSet::new();
        for t in types {
            let t = t.as_str().ok_or("geometry type not a string")?;
            let base = t.strip_suffix(" Z").unwrap_or(t);
            let base = base.strip_prefix("Multi").unwrap_or(base);
            if !["Point", "LineString", "Polygon", "GeometryCollection"].contains(&base)
                || (t.starts_with("MultiGeometryCollection"))
            {
                return Err(format!("{name}: geometry type {t:?}"));
            }
            if !seen.insert(t) {
                return Err(format!("{name}: geometry type {t:?} twice"));
            }
        }
        if let Some(bbox) = c.get("bbox") {
            let bbox = bbox.as_array().ok_or("bbox not an array")?;
            if !(bbox.len() == 4 || bbox.len() == 6) || bbox.iter().any(|v| !v.is_number()) {
                return Err(format!("{name}: bbox {bbox:?}"));
            }
        }
        if let Some(crs) = c.get("crs")
            && !(crs.is_object() || crs.is_null())
        {
            return Err(format!("{name}: crs {crs:?}"));
        }
    }
    Ok(())
}

#[test]
fn geoparquet_layers_carry_valid_metadata_and_points_equal_to_lon_lat() {
    let dataset = scratch("gp-dataset");
    let out = scratch("gp-out");
    small_run(&dataset, &["--positions-every", "1800"]);
    exported("geoparquet", &dataset, &out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dataset.join("manifest.json")).unwrap()).unwrap();
    let layers = [
        ("cells.parquet", "cells", "lon", "lat"),
        ("homes.parquet", "subscribers", "home_lon", "home_lat"),
        ("stays.parquet", "truth/stays", "lon", "lat"),
        ("positions.parquet", "truth/positions", "lon", "lat"),
        (
            "event_positions.parquet",
            "truth/event_positions",
            "lon",
            "lat",
        ),
    ];
    for (file, table, lon_col, lat_col) in layers {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(File::open(out.join(file)).unwrap()).unwrap();
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        let geo = kv
            .iter()
            .find(|k| k.key == "geo")
            .unwrap()
            .value
            .clone()
            .unwrap();
        let geo: serde_json::Value = serde_json::from_str(&geo).unwrap();
        check_geo_metadata(&geo).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(geo["version"], "1.1.0");
        assert_eq!(geo["columns"]["geometry"]["encoding"], "WKB");
        assert!(
            geo["columns"]["geometry"].get("crs").is_none(),
            "CRS84 by omission"
        );
        for f in builder.schema().fields() {
            assert!(
                !matches!(
                    f.data_type(),
                    DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64
                ),
                "{file}: {} is unsigned",
                f.name()
            );
        }
        let mut rows = 0u64;
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for b in builder.build().unwrap() {
            let b = b.unwrap();
            let lon = b
                .column_by_name(lon_col)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone();
            let lat = b
                .column_by_name(lat_col)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone();
            let geom = b
                .column_by_name("geometry")
                .unwrap()
                .as_binary::<i32>()
                .clone();
            for i in 0..b.num_rows() {
                let w = geom.value(i);
                assert_eq!(w.len(), 21, "{file}: a WKB point is 21 bytes");
                assert_eq!(w[0], 1, "little-endian");
                assert_eq!(u32::from_le_bytes(w[1..5].try_into().unwrap()), 1, "Point");
                let x = f64::from_le_bytes(w[5..13].try_into().unwrap());
                let y = f64::from_le_bytes(w[13..21].try_into().unwrap());
                assert_eq!((x, y), (lon.value(i), lat.value(i)), "{file} row {i}");
                assert!(!lon.is_null(i));
                bbox = [
                    bbox[0].min(x),
                    bbox[1].min(y),
                    bbox[2].max(x),
                    bbox[3].max(y),
                ];
            }
            rows += b.num_rows() as u64;
        }
        assert_eq!(rows, manifest["tables"][table].as_u64().unwrap(), "{file}");
        assert!(rows > 0, "{file}");
        let written: Vec<f64> = geo["columns"]["geometry"]["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        // serde_json's default parser may miss the last bit of a float.
        for (w, b) in written.iter().zip(bbox) {
            assert!(
                (w - b).abs() < 1e-12,
                "{file}: bbox {written:?} vs {bbox:?}"
            );
        }
    }
    // The checker itself refuses what the schema refuses.
    let bad = serde_json::json!({"version": "1.1.0", "primary_column": "geom",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}});
    assert!(check_geo_metadata(&bad).is_err());
    let bad = serde_json::json!({"version": "1.1.0", "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Dot"]}}});
    assert!(check_geo_metadata(&bad).is_err());
    for d in [&dataset, &out] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn every_export_is_the_same_bytes_twice_and_refuses_a_non_empty_directory() {
    let dataset = scratch("det-dataset");
    small_run(&dataset, &[]);
    for kind in ["flowkit", "geoparquet", "essnet", "skmob", "trackintel"] {
        let a = scratch(&format!("det-{kind}-a"));
        let b = scratch(&format!("det-{kind}-b"));
        exported(kind, &dataset, &a);
        exported(kind, &dataset, &b);
        let (fa, fb) = (files(&a), files(&b));
        assert!(!fa.is_empty(), "{kind} wrote nothing");
        assert!(
            fa.keys().all(|k| !k.ends_with(".tmp")),
            "{kind}: temporary file left"
        );
        assert_eq!(fa, fb, "{kind}: two exports differ");
        let err = refused(kind, &dataset, &a, &[]);
        assert!(
            err.contains("not empty") && err.contains("--overwrite"),
            "{err}"
        );
        assert_eq!(
            files(&a),
            fa,
            "{kind}: a refused export changed the directory"
        );
        let o = export(kind, &dataset, &a, &["--overwrite"]);
        assert!(o.status.success());
        assert_eq!(files(&a), fa, "{kind}: --overwrite wrote something else");
        for d in [&a, &b] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    let _ = std::fs::remove_dir_all(&dataset);
}

#[test]
fn bad_input_is_one_line_naming_what_is_missing() {
    let nothing = scratch("bad-nothing");
    std::fs::create_dir_all(&nothing).unwrap();
    let out = scratch("bad-out");
    let err = refused("flowkit", &nothing, &out, &[]);
    assert!(err.contains("manifest.json"), "{err}");
    assert!(
        !out.exists(),
        "a refused export created its output directory"
    );

    let operator = scratch("bad-no-truth");
    small_run(&operator, &["--no-truth"]);
    for kind in ["essnet", "skmob", "trackintel"] {
        let err = refused(kind, &operator, &out, &[]);
        assert!(err.contains("truth/"), "{kind}: {err}");
        assert!(err.contains("--no-truth"), "{kind}: {err}");
        assert!(!out.exists(), "{kind}: a refused export created its output");
    }
    // What an operator holds is enough for FlowKit.
    exported("flowkit", &operator, &out);
    let err = refused("essnet", &nothing, &scratch("bad-out2"), &["--tick", "0"]);
    assert!(err.contains("manifest.json"), "{err}");
    for d in [&nothing, &out, &operator] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Reads a CSV written by an export: header and rows, split on `sep`.
fn csv(path: &Path, sep: char) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(sep)
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(sep).map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn essnet_files_place_each_event_where_the_truth_says_on_the_documented_grid() {
    let dataset = scratch("es-dataset");
    let out = scratch("es-out");
    small_run(&dataset, &[]);
    let o = export("essnet", &dataset, &out, &["--tick", "30"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // The projection, read back from the PROJ string the export documents.
    let proj = std::fs::read_to_string(out.join("projection.txt")).unwrap();
    let param = |k: &str| -> f64 {
        proj.split_whitespace()
            .find_map(|p| p.strip_prefix(&format!("+{k}=")))
            .unwrap()
            .parse()
            .unwrap()
    };
    let (lat0, lon0, x0, y0, r) = (
        param("lat_0"),
        param("lon_0"),
        param("x_0"),
        param("y_0"),
        param("R"),
    );
    let project = |lon: f64, lat: f64| {
        (
            x0 + r * (lon - lon0).to_radians() * lat0.to_radians().cos(),
            y0 + r * (lat - lat0).to_radians(),
        )
    };
    let (gh, grid) = csv(&out.join("grid.csv"), ',');
    assert_eq!(
        gh,
        [
            "Origin X",
            "Origin Y",
            "X Tile Dim",
            "Y Tile Dim",
            "No Tiles X",
            "No Tiles Y"
        ]
    );
    let tile_m: f64 = grid[0][2].parse().unwrap();
    let nx: i64 = grid[0][4].parse().unwrap();
    let ny: i64 = grid[0][5].parse().unwrap();

    // The true position of every event, from the dataset's Parquet.
    let data = mobsynth::reader::DatasetReader::open(&dataset).unwrap();
    let mut truth: Vec<(f64, f64)> = Vec::new();
    let mut detaches = 0;
    let p = dataset.join("truth/event_positions");
    for b in data
        .read(
            "truth/event_positions",
            mobsynth::sink::network_tables::event_positions_schema(),
        )
        .unwrap()
    {
        let lon = mobsynth::reader::column_f64(&b, "lon", &p).unwrap();
        let lat = mobsynth::reader::column_f64(&b, "lat", &p).unwrap();
        truth.extend(lon.into_iter().zip(lat));
    }
    for b in data
        .read("events", mobsynth::sink::network_tables::events_schema())
        .unwrap()
    {
        let kind = mobsynth::reader::column_str(&b, "event_type", &p).unwrap();
        detaches += kind.iter().filter(|k| *k == "DETACH").count();
    }
    let mut expected: Vec<(i64, i64)> = truth
        .iter()
        .map(|&(lon, lat)| {
            let (x, y) = project(lon, lat);
            ((x * 1000.0).round() as i64, (y * 1000.0).round() as i64)
        })
        .collect();
    expected.sort_unstable();

    let (header, rows) = csv(&out.join("AntennaInfo_MNO_MNO1.csv"), ',');
    assert_eq!(
        header,
        [
            "t",
            "Antenna ID",
            "Event Code",
            "Device ID",
            "x",
            "y",
            "Tile ID"
        ]
    );
    assert_eq!(rows.len(), truth.len(), "one row per event");
    let mut got: Vec<(i64, i64)> = Vec::new();
    let mut last_t = 0;
    let mut codes = BTreeMap::new();
    for r in &rows {
        let t: i64 = r[0].parse().unwrap();
        assert_eq!(t % 30, 0, "whole ticks");
        assert!(t >= last_t, "time order");
        last_t = t;
        *codes.entry(r[2].clone()).or_insert(0) += 1;
        let (x, y): (f64, f64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        assert!(x >= 0.0 && y >= 0.0 && x < nx as f64 * tile_m && y < ny as f64 * tile_m);
        let tile = (y / tile_m).floor() as i64 * nx + (x / tile_m).floor() as i64;
        assert_eq!(r[6].parse::<i64>().unwrap(), tile, "{r:?}");
        got.push(((x * 1000.0).round() as i64, (y * 1000.0).round() as i64));
    }
    got.sort_unstable();
    // Positions written with 6 decimals; the PROJ parameters are exact.
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            (g.0 - e.0).abs() <= 1 && (g.1 - e.1).abs() <= 1,
            "{g:?} vs {e:?}"
        );
    }
    assert_eq!(codes.get("1").copied().unwrap_or(0), detaches, "{codes:?}");
    assert!(
        codes.keys().all(|c| ["0", "1", "2"].contains(&c.as_str())),
        "{codes:?}"
    );
    assert!(
        codes["2"] > codes["0"],
        "most events are at the cell already attached: {codes:?}"
    );

    // persons.csv: in tick order, on the grid, one phone each.
    let (header, persons) = csv(&out.join("persons.csv"), ',');
    assert_eq!(
        header,
        ["t", "Person ID", "x", "y", "Tile ID", "Mobile Phone(s) ID"]
    );
    let days = 2 * 86_400 / 30;
    assert!(persons.len() > 100 * days, "{} rows", persons.len());
    let mut last = (0i64, -1i64);
    for r in &persons {
        let key = (r[0].parse::<i64>().unwrap(), r[1].parse::<i64>().unwrap());
        assert!(key > last, "order: {key:?} after {last:?}");
        last = key;
        assert_eq!(r[1], r[5]);
    }
    for f in [
        "AntennaInfo_dict.xml",
        "persons_dict.xml",
        "antennas_dict.xml",
        "grid_dict.xml",
    ] {
        let xml = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(xml.contains("<fileName>"), "{f}");
    }
    for d in [&dataset, &out] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn trajectory_files_hold_every_stay_and_every_event_at_its_cell() {
    use mobsynth::reader::{DatasetReader, column_f64, column_i64, column_ms};
    let dataset = scratch("tr-dataset");
    let sk = scratch("tr-skmob");
    let ti = scratch("tr-trackintel");
    small_run(&dataset, &[]);
    exported("skmob", &dataset, &sk);
    exported("trackintel", &dataset, &ti);
    let data = DatasetReader::open(&dataset).unwrap();

    // Stays, by (user, start in ms) → (lon, lat), from the Parquet.
    let mut stays: BTreeMap<(i64, i64), (f64, f64)> = BTreeMap::new();
    let p = dataset.join("truth/stays");
    for b in data
        .read("truth/stays", mobsynth::sink::tables::stays_schema())
        .unwrap()
    {
        let (sub, start) = (
            column_i64(&b, "subscriber_id", &p).unwrap(),
            column_ms(&b, "start", &p).unwrap(),
        );
        let (lon, lat) = (
            column_f64(&b, "lon", &p).unwrap(),
            column_f64(&b, "lat", &p).unwrap(),
        );
        for i in 0..b.num_rows() {
            stays.insert((sub[i], start[i]), (lon[i], lat[i]));
        }
    }
    let ms = |s: &str| -> i64 { s.parse::<jiff::Timestamp>().unwrap().as_millisecond() };
    let (header, rows) = csv(&sk.join("skmob/truth_stays.csv"), ',');
    assert_eq!(header, ["uid", "lat", "lng", "datetime"]);
    assert_eq!(rows.len(), stays.len());
    for r in &rows {
        let key = (r[0].parse().unwrap(), ms(&r[3]));
        let lon_lat = (r[2].parse().unwrap(), r[1].parse().unwrap());
        assert_eq!(stays.get(&key), Some(&lon_lat), "{r:?}");
    }
    let (header, rows) = csv(&ti.join("trackintel/staypoints.csv"), ';');
    assert_eq!(
        header,
        [
            "",
            "user_id",
            "started_at",
            "finished_at",
            "purpose",
            "geom"
        ]
    );
    assert_eq!(rows.len(), stays.len());
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], i.to_string());
        let point = r[5]
            .strip_prefix("POINT (")
            .unwrap()
            .strip_suffix(')')
            .unwrap();
        let (lon, lat) = point.split_once(' ').unwrap();
        let key = (r[1].parse().unwrap(), ms(&r[2]));
        assert_eq!(
            stays.get(&key),
            Some(&(lon.parse().unwrap(), lat.parse().unwrap())),
            "{r:?}"
        );
        assert!(ms(&r[3]) >= ms(&r[2]));
    }

    // Events: one fix each, at a cell's mast; the counts per user agree.
    let mut cells = std::collections::BTreeSet::new();
    let p = dataset.join("cells");
    for b in data
        .read("cells", mobsynth::sink::network_tables::cells_schema())
        .unwrap()
    {
        let (lon, lat) = (
            column_f64(&b, "lon", &p).unwrap(),
            column_f64(&b, "lat", &p).unwrap(),
        );
        for i in 0..b.num_rows() {
            cells.insert((lon[i].to_bits(), lat[i].to_bits()));
        }
    }
    let mut per_user: BTreeMap<i64, usize> = BTreeMap::new();
    let p = dataset.join("events");
    for b in data
        .read("events", mobsynth::sink::network_tables::events_schema())
        .unwrap()
    {
        for s in column_i64(&b, "subscriber_id", &p).unwrap() {
            *per_user.entry(s).or_default() += 1;
        }
    }
    let (_, rows) = csv(&sk.join("skmob/events.csv"), ',');
    let mut got: BTreeMap<i64, usize> = BTreeMap::new();
    for r in &rows {
        *got.entry(r[0].parse().unwrap()).or_default() += 1;
        let (lat, lon): (f64, f64) = (r[1].parse().unwrap(), r[2].parse().unwrap());
        assert!(
            cells.contains(&(lon.to_bits(), lat.to_bits())),
            "{r:?} is not at a cell"
        );
    }
    assert_eq!(got, per_user);
    let (header, rows) = csv(&ti.join("trackintel/positionfixes.csv"), ';');
    assert_eq!(
        header,
        ["", "user_id", "tracked_at", "latitude", "longitude"]
    );
    assert_eq!(rows.len(), per_user.values().sum::<usize>());
    for d in [&dataset, &sk, &ti] {
        let _ = std::fs::remove_dir_all(d);
    }
}
