//! Faults and bad input through the binary, beyond the cases of
//! `cli_errors.rs` and `dataset.rs`: corrupt and degenerate maps, impossible
//! scenario values, malformed tower files, output that cannot be written,
//! interrupted runs and `--resume`. Each case checks the exit code, that the
//! one-line message names the cause, and what is left on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MAP: &str = "scenarios/maps/liechtenstein.osm.pbf";

/// A fresh, empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mobsynth-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mobsynth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap()
}

/// Checks the error contract (exit code, one line, no panic, every needle
/// present) and returns the message.
#[track_caller]
fn assert_error(out: &Output, code: i32, needles: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("mobsynth: error: "), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in {err}");
    }
    err
}

/// Every file under `dir`, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ---------------------------------------------------------------------------
// Maps

/// (start, length) of every blob's payload in a PBF file, from its headers.
fn blobs(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let header_len = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        let header = &data[pos + 4..pos + 4 + header_len];
        let mut size = 0;
        let mut fields = Fields(header);
        while let Some((field, value)) = fields.next() {
            if let (3, Value::Varint(v)) = (field, value) {
                size = v as usize;
            }
        }
        out.push((pos + 4 + header_len, size));
        pos += 4 + header_len + size;
    }
    out
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Reads the top-level fields of a protobuf message.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.0[0];
            self.0 = &self.0[1..];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                break;
            }
        }
        v
    }

    fn next(&mut self) -> Option<(u64, Value<'a>)> {
        if self.0.is_empty() {
            return None;
        }
        let key = self.varint();
        let value = match key & 7 {
            0 => Value::Varint(self.varint()),
            2 => {
                let len = self.varint() as usize;
                let (bytes, rest) = self.0.split_at(len);
                self.0 = rest;
                Value::Bytes(bytes)
            }
            wire => panic!("wire type {wire} not expected in a PBF header"),
        };
        Some((key >> 3, value))
    }
}

/// A map file must never get as far as an output directory.
fn run_on_map(map: &Path, name: &str) -> (Output, PathBuf) {
    let out = scratch(name).join("out");
    let o = mobsynth(&[
        "run",
        "--map",
        path_str(map),
        "--subscribers",
        "20",
        "--days",
        "1",
        "--quiet",
        "-o",
        path_str(&out),
    ]);
    (o, out)
}

#[test]
fn a_pbf_with_a_corrupt_compressed_blob_is_refused() {
    let mut data = std::fs::read(MAP).unwrap();
    let all = blobs(&data);
    assert_eq!(all.len(), 21, "the bundled map changed: {all:?}");
    // Blob 0 is the header; damage the middle of the second data blob, whose
    // payload is zlib data (field 3 of Blob) following its raw size.
    let (start, len) = all[2];
    let mut blob = Fields(&data[start..start + len]);
    let mut zlib = None;
    while let Some((field, value)) = blob.next() {
        if let (3, Value::Bytes(b)) = (field, value) {
            zlib = Some((b.as_ptr() as usize - data.as_ptr() as usize, b.len()));
        }
    }
    let (offset, len) = zlib.expect("the blobs of the bundled map are zlib-compressed");
    let middle = offset + len / 2;
    for b in &mut data[middle..middle + 16] {
        *b ^= 0xa5;
    }
    let dir = scratch("corrupt-blob");
    let map = dir.join("corrupt.osm.pbf");
    std::fs::write(&map, &data).unwrap();

    let o = mobsynth(&["inspect-map", path_str(&map)]);
    assert_error(
        &o,
        2,
        &[path_str(&map), "not a valid OpenStreetMap PBF file", "zlib"],
    );
    assert!(o.stdout.is_empty(), "half a summary printed");

    let (o, out) = run_on_map(&map, "corrupt-blob-run");
    assert_error(&o, 2, &[path_str(&map), "not a valid OpenStreetMap PBF"]);
    assert!(!out.exists(), "output directory created for a bad map");
}

/// A minimal OSM PBF writer: uncompressed blobs, one block of dense nodes
/// and one of ways, every way tagged `highway=residential`.
mod pbf {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
        varint(out, (field << 3) | wire);
    }

    fn bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
        key(out, field, 2);
        varint(out, data.len() as u64);
        out.extend_from_slice(data);
    }

    fn uint(out: &mut Vec<u8>, field: u64, v: u64) {
        key(out, field, 0);
        varint(out, v);
    }

    fn zigzag(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    /// A packed field of signed values, each stored as the difference to
    /// the one before, as dense nodes and way refs are.
    fn packed_delta(out: &mut Vec<u8>, field: u64, values: &[i64]) {
        let mut packed = Vec::new();
        let mut last = 0;
        for &v in values {
            varint(&mut packed, zigzag(v - last));
            last = v;
        }
        bytes(out, field, &packed);
    }

    fn blob(out: &mut Vec<u8>, kind: &str, block: &[u8]) {
        let mut body = Vec::new();
        bytes(&mut body, 1, block);
        uint(&mut body, 2, block.len() as u64);
        let mut header = Vec::new();
        bytes(&mut header, 1, kind.as_bytes());
        uint(&mut header, 3, body.len() as u64);
        out.extend_from_slice(&(header.len() as u32).to_be_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&body);
    }

    /// A PBF file of `nodes` (id, lon, lat) and residential `ways` (id, node
    /// ids).
    pub fn file(nodes: &[(i64, f64, f64)], ways: &[(i64, Vec<i64>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut header = Vec::new();
        bytes(&mut header, 4, b"OsmSchema-V0.6");
        bytes(&mut header, 4, b"DenseNodes");
        blob(&mut out, "OSMHeader", &header);

        let mut strings = Vec::new();
        for s in ["", "highway", "residential"] {
            bytes(&mut strings, 1, s.as_bytes());
        }
        // Coordinates in the default granularity of 100 nanodegrees.
        let fixed = |deg: f64| (deg * 1e7).round() as i64;
        let mut dense = Vec::new();
        packed_delta(
            &mut dense,
            1,
            &nodes.iter().map(|n| n.0).collect::<Vec<_>>(),
        );
        packed_delta(
            &mut dense,
            8,
            &nodes.iter().map(|n| fixed(n.2)).collect::<Vec<_>>(),
        );
        packed_delta(
            &mut dense,
            9,
            &nodes.iter().map(|n| fixed(n.1)).collect::<Vec<_>>(),
        );
        let mut node_group = Vec::new();
        bytes(&mut node_group, 2, &dense);

        let mut way_group = Vec::new();
        for (id, refs) in ways {
            let mut way = Vec::new();
            uint(&mut way, 1, *id as u64);
            bytes(&mut way, 2, &[1]);
            bytes(&mut way, 3, &[2]);
            packed_delta(&mut way, 8, refs);
            bytes(&mut way_group, 3, &way);
        }

        let mut block = Vec::new();
        bytes(&mut block, 1, &strings);
        bytes(&mut block, 2, &node_group);
        bytes(&mut block, 2, &way_group);
        blob(&mut out, "OSMData", &block);
        out
    }
}

/// Nodes on a `side` × `side` grid about 300 m apart in Liechtenstein's
/// valley, numbered row by row from 1.
fn grid_nodes(side: i64) -> Vec<(i64, f64, f64)> {
    (0..side * side)
        .map(|i| {
            let (row, col) = (i / side, i % side);
            (
                i + 1,
                9.50 + 0.004 * col as f64,
                47.14 + 0.0027 * row as f64,
            )
        })
        .collect()
}

#[test]
fn the_hand_written_pbf_of_a_connected_grid_is_a_usable_map() {
    // Guards the encoder: the fragments test below means something only if
    // the same encoder's connected streets load.
    let side = 6;
    let nodes = grid_nodes(side);
    let mut ways = Vec::new();
    for r in 0..side {
        ways.push((100 + r, (0..side).map(|c| r * side + c + 1).collect()));
        ways.push((200 + r, (0..side).map(|c| c * side + r + 1).collect()));
    }
    let dir = scratch("grid");
    let map = dir.join("grid.osm.pbf");
    std::fs::write(&map, pbf::file(&nodes, &ways)).unwrap();
    let o = mobsynth(&["inspect-map", path_str(&map)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("36 nodes"), "{text}");
}

#[test]
fn a_map_whose_roads_are_all_disconnected_fragments_is_refused() {
    // 18 short streets, none sharing a node with another: the largest road
    // network anyone could travel is one 300 m street.
    let side = 6;
    let nodes = grid_nodes(side);
    let ways: Vec<(i64, Vec<i64>)> = (0..side * side / 2)
        .map(|k| (100 + k, vec![2 * k + 1, 2 * k + 2]))
        .collect();
    let dir = scratch("fragments");
    let map = dir.join("fragments.osm.pbf");
    std::fs::write(&map, pbf::file(&nodes, &ways)).unwrap();

    // Keeping the largest fragment would leave one street for everybody:
    // the map is unusable, and the user should hear so rather than get a
    // dataset of a whole population on 300 m of road.
    let o = mobsynth(&["inspect-map", path_str(&map)]);
    assert_error(&o, 2, &[path_str(&map), "no usable roads", "connected"]);
    let (o, out) = run_on_map(&map, "fragments-run");
    assert_error(&o, 2, &[path_str(&map), "no usable roads", "connected"]);
    assert!(!out.exists(), "output written from a map of fragments");
}

// ---------------------------------------------------------------------------
// Scenarios

/// The default scenario with every key written out, one edit applied, saved
/// as `bad.toml` in a scratch directory; returns the file and its text.
fn edited_scenario(name: &str, from: &str, to: &str) -> (PathBuf, String) {
    let o = mobsynth(&["scenario", "show", "default"]);
    assert!(o.status.success());
    let map = std::fs::canonicalize(MAP).unwrap();
    let text = String::from_utf8(o.stdout).unwrap().replace(
        "map = \"maps/liechtenstein.osm.pbf\"",
        &format!("map = {:?}", map.to_str().unwrap()),
    );
    assert!(text.contains(from), "{from:?} not in the default scenario");
    let text = text.replacen(from, to, 1);
    let path = scratch(name).join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

fn default_scenario(name: &str) -> (PathBuf, String) {
    edited_scenario(name, "seed = 42", "seed = 42")
}

/// 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

/// Runs a scenario that must be refused before any output is written.
fn refused(scenario: &Path, extra: &[&str]) -> Output {
    let out = scenario.with_file_name("out");
    let mut args = vec!["run", path_str(scenario), "--quiet", "-o", path_str(&out)];
    args.extend_from_slice(extra);
    let o = mobsynth(&args);
    assert!(!out.exists(), "output written for a refused scenario");
    o
}

#[test]
fn a_negative_number_of_subscribers_names_its_line() {
    let (path, text) = edited_scenario("negative", "subscribers = 5000", "subscribers = -5");
    let line = format!("line {}", line_of(&text, "subscribers"));
    assert_error(&refused(&path, &[]), 2, &[path_str(&path), &line, "-5"]);
}

#[test]
fn a_negative_number_of_subscribers_on_the_command_line_is_one_line() {
    let (path, _) = default_scenario("negative-cli");
    let o = refused(&path, &["--subscribers", "-5"]);
    assert_error(&o, 2, &["--subscribers", "-5"]);
}

#[test]
fn zero_subscribers_on_the_command_line_name_the_key() {
    let (path, _) = default_scenario("zero-cli");
    let o = refused(&path, &["--subscribers", "0"]);
    assert_error(&o, 2, &["`subscribers`", "command line", "at least 1"]);
}

/// Event ids are the subscriber id × 2³² + a sequence number in a signed
/// 64-bit column, so subscriber ids stop below 2³¹.
#[test]
fn more_subscribers_than_event_ids_can_number_name_the_key() {
    let (path, _) = default_scenario("too-many-cli");
    let o = refused(&path, &["--subscribers", "2147483648", "--yes"]);
    assert_error(
        &o,
        2,
        &["`subscribers`", "at most 2147483647", "2147483648"],
    );
}

/// `duration_ms` is a signed 32-bit column; a day of call fits it.
#[test]
fn a_call_cap_beyond_a_day_names_the_key() {
    let (path, text) = edited_scenario(
        "call-cap",
        "call_duration_max_s = 7200.0",
        "call_duration_max_s = 90000.0",
    );
    let line = format!("line {}", line_of(&text, "call_duration_max_s"));
    let o = refused(&path, &[]);
    assert_error(
        &o,
        2,
        &[
            path_str(&path),
            &line,
            "`phone.call_duration_max_s`",
            "at most 86400",
        ],
    );
}

#[test]
fn device_shares_that_do_not_sum_to_one_name_the_key() {
    let (path, _) = edited_scenario("devices", "smartphone = 0.88", "smartphone = 0.5");
    let o = refused(&path, &[]);
    assert_error(
        &o,
        2,
        &[path_str(&path), "`population.devices`", "sum to 1", "0.62"],
    );
}

#[test]
fn device_shares_that_do_not_sum_to_one_name_the_line_of_their_table() {
    let (path, text) = edited_scenario("devices-line", "smartphone = 0.88", "smartphone = 0.5");
    let line = format!("line {}", line_of(&text, "[population.devices]"));
    assert_error(&refused(&path, &[]), 2, &[path_str(&path), &line]);
}

#[test]
fn age_shares_that_do_not_sum_to_one_name_the_key() {
    let (path, _) = edited_scenario("ages", "share = 0.0592", "share = 0.5");
    let o = refused(&path, &[]);
    assert_error(
        &o,
        2,
        &[path_str(&path), "`population.age_groups`", "sum to 1"],
    );
}

#[test]
fn an_age_band_ending_before_it_starts_names_its_line() {
    let (path, text) = edited_scenario("age-band", "from = 10\nto = 14", "from = 10\nto = 9");
    let line = format!("line {}", line_of(&text, "to = 9"));
    let o = refused(&path, &[]);
    assert_error(
        &o,
        2,
        &[path_str(&path), "population.age_groups[0].to", &line],
    );
}

#[test]
fn a_start_date_that_does_not_exist_names_its_line() {
    let (path, text) = edited_scenario("start", "start = \"2026-03-02\"", "start = \"2026-02-29\"");
    let line = format!("line {}", line_of(&text, "start ="));
    let o = refused(&path, &[]);
    assert_error(&o, 2, &[path_str(&path), &line, "`start`", "2026-02-29"]);
}

#[test]
fn a_start_date_that_does_not_exist_on_the_command_line_is_refused() {
    let (path, _) = default_scenario("start-cli");
    let o = refused(&path, &["--start", "2026-04-31"]);
    assert_error(&o, 2, &["`start`", "command line", "2026-04-31"]);
}

#[test]
fn an_unknown_time_zone_names_its_line() {
    let (path, text) = edited_scenario(
        "timezone",
        "timezone = \"Europe/Vaduz\"",
        "timezone = \"Europe/Atlantis\"",
    );
    let line = format!("line {}", line_of(&text, "timezone ="));
    let o = refused(&path, &[]);
    assert_error(
        &o,
        2,
        &[path_str(&path), &line, "`timezone`", "Europe/Atlantis"],
    );
}

// ---------------------------------------------------------------------------
// Tower files

/// A scenario taking its cells from `cells.csv` beside it, in the format
/// `source` (`opencellid` or `cell_plan`), with that file's `content`.
fn tower_scenario(name: &str, source: &str, content: &[u8]) -> (PathBuf, PathBuf) {
    let (path, _) = edited_scenario(
        name,
        "source = \"generated\"",
        &format!("source = \"{source}\"\nfile = \"cells.csv\""),
    );
    let cells = path.with_file_name("cells.csv");
    std::fs::write(&cells, content).unwrap();
    (path, cells)
}

const OPENCELLID_HEADER: &str =
    "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n";
const OPENCELLID_GOOD: &str =
    "LTE,1,1,2001,25601,0,9.5210,47.1410,800,12,1,1459692074,1534343222,0\n";

/// An OpenCelliD file whose third line is `bad`.
fn opencellid_with(name: &str, bad: &str) -> (Output, PathBuf) {
    let text = format!("{OPENCELLID_HEADER}{OPENCELLID_GOOD}{bad}\n");
    let (scenario, cells) = tower_scenario(name, "opencellid", text.as_bytes());
    (refused(&scenario, &[]), cells)
}

#[test]
fn an_opencellid_line_with_too_few_fields_names_file_and_line() {
    let (o, cells) = opencellid_with("ocid-short", "LTE,1,1,2001");
    assert_error(
        &o,
        2,
        &[path_str(&cells), "line 3", "4 fields", "expected 14"],
    );
}

#[test]
fn an_opencellid_line_with_a_word_for_a_number_names_the_field() {
    let (o, cells) = opencellid_with(
        "ocid-word",
        "LTE,one,1,2001,25602,0,9.5230,47.1420,800,9,1,1459692074,1534343222,0",
    );
    assert_error(&o, 2, &[path_str(&cells), "line 3", "`mcc`", "\"one\""]);
}

#[test]
fn an_opencellid_line_with_a_nan_longitude_names_the_field() {
    let (o, cells) = opencellid_with(
        "ocid-nan",
        "LTE,1,1,2001,25602,0,NaN,47.1420,800,9,1,1459692074,1534343222,0",
    );
    assert_error(&o, 2, &[path_str(&cells), "line 3", "`lon`", "NaN"]);
}

#[test]
fn an_opencellid_line_with_a_negative_range_names_the_field() {
    let (o, cells) = opencellid_with(
        "ocid-range",
        "LTE,1,1,2001,25602,0,9.5230,47.1420,-800,9,1,1459692074,1534343222,0",
    );
    assert_error(&o, 2, &[path_str(&cells), "line 3", "`range`", "-800"]);
}

#[test]
fn an_opencellid_line_with_a_cell_identity_beyond_36_bits_names_the_field() {
    let (o, cells) = opencellid_with(
        "ocid-cell",
        "LTE,1,1,2001,99999999999999,0,9.5230,47.1420,800,9,1,1459692074,1534343222,0",
    );
    assert_error(&o, 2, &[path_str(&cells), "line 3", "`cell`", "36 bits"]);
}

/// Area codes are at most 24 bits (5G TAC), so they fit the signed 32-bit
/// `tac` columns.
#[test]
fn an_opencellid_line_with_an_area_code_beyond_24_bits_names_the_field() {
    let (o, cells) = opencellid_with(
        "ocid-area",
        "LTE,1,1,16777216,25602,0,9.5230,47.1420,800,9,1,1459692074,1534343222,0",
    );
    assert_error(
        &o,
        2,
        &[
            path_str(&cells),
            "line 3",
            "`area`",
            "0–16777215",
            "16777216",
        ],
    );
}

#[test]
fn an_opencellid_line_with_extra_fields_names_file_and_line() {
    let (o, cells) = opencellid_with(
        "ocid-long",
        "LTE,1,1,2001,25602,0,9.5230,47.1420,800,9,1,1459692074,1534343222,0,extra",
    );
    assert_error(
        &o,
        2,
        &[path_str(&cells), "line 3", "15 fields", "expected 14"],
    );
}

#[test]
fn an_opencellid_line_with_a_four_digit_country_code_names_the_field() {
    let (o, cells) = opencellid_with(
        "ocid-mcc",
        "LTE,1000,1,2001,25602,0,9.5230,47.1420,800,9,1,1459692074,1534343222,0",
    );
    assert_error(
        &o,
        2,
        &[path_str(&cells), "line 3", "`mcc`", "0–999", "1000"],
    );
    let (o, cells) = opencellid_with(
        "ocid-mnc",
        "LTE,1,65535,2001,25602,0,9.5230,47.1420,800,9,1,1459692074,1534343222,0",
    );
    assert_error(&o, 2, &[path_str(&cells), "line 3", "`net`", "65535"]);
}

#[test]
fn an_opencellid_file_with_bytes_that_are_not_text_names_the_file() {
    let mut data = format!("{OPENCELLID_HEADER}{OPENCELLID_GOOD}").into_bytes();
    data.extend_from_slice(b"LTE,1,1,2001,25602,0,9.5230,47.14\xff\xfe,800,9,1,1,1,0\n");
    let (scenario, cells) = tower_scenario("ocid-binary", "opencellid", &data);
    let o = refused(&scenario, &[]);
    assert_error(&o, 2, &[path_str(&cells), "UTF-8"]);
}

#[test]
fn an_opencellid_file_of_only_a_header_has_no_cells() {
    let (scenario, cells) =
        tower_scenario("ocid-header", "opencellid", OPENCELLID_HEADER.as_bytes());
    let o = refused(&scenario, &[]);
    assert_error(&o, 2, &[path_str(&cells), "no cell of MCC 1 MNC 1"]);
}

#[test]
fn a_missing_tower_file_is_named() {
    let (scenario, cells) = tower_scenario("ocid-missing", "opencellid", b"");
    std::fs::remove_file(&cells).unwrap();
    let o = refused(&scenario, &[]);
    assert_error(&o, 2, &[path_str(&cells), "cannot read cell file"]);
}

#[test]
fn a_cell_plan_line_with_a_missing_field_names_file_and_line() {
    let plan = "cell,lon,lat,azimuth_deg\n25601,9.5210,47.1410,0\n25602,9.5210\n";
    let (scenario, cells) = tower_scenario("plan-short", "cell_plan", plan.as_bytes());
    let o = refused(&scenario, &[]);
    assert_error(&o, 2, &[path_str(&cells), "line 3", "2 fields"]);
}

// ---------------------------------------------------------------------------
// Output that cannot be written

/// Arguments of a small run writing to `out`.
fn small_run_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    // --yes: these runs are meant to reach the disk, not the size guard.
    let mut args = vec![
        "run",
        "--yes",
        "--subscribers",
        "400",
        "--days",
        "1",
        "--quiet",
        "-o",
        path_str(out),
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs the binary with files limited to `blocks` blocks of the shell's
/// `ulimit` unit. SIGXFSZ is ignored, so writing past the limit fails with
/// EFBIG as on a full disk, instead of killing the process.
fn with_file_size_limit(blocks: u32, args: &[&str], tmpdir: Option<&Path>) -> Output {
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\"");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args);
    if let Some(dir) = tmpdir {
        cmd.env("TMPDIR", dir);
    }
    cmd.output().unwrap()
}

/// What an unfinished run may leave: no temporary file, and every data file
/// complete and listed in a manifest that says the run is incomplete. The
/// manifest may be missing only when `manifest_optional` (a full disk may
/// not have room for it).
#[track_caller]
fn assert_only_complete_files(out: &Path, manifest_optional: bool) {
    let all = files(out);
    let partial: Vec<&String> = all.iter().filter(|f| f.ends_with(".tmp")).collect();
    assert!(partial.is_empty(), "partial files left: {partial:?}");
    let manifest = out.join("manifest.json");
    if !manifest.exists() {
        assert!(manifest_optional, "no manifest; files left: {all:?}");
        assert!(all.is_empty(), "files without a manifest: {all:?}");
        return;
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(manifest["completed"], false, "{manifest}");
    let listed: Vec<(String, u64)> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    for name in all.iter().filter(|f| *f != "manifest.json") {
        let Some((_, bytes)) = listed.iter().find(|(p, _)| p == name) else {
            panic!("{name} is not in the manifest");
        };
        let data = std::fs::read(out.join(name)).unwrap();
        assert_eq!(data.len() as u64, *bytes, "{name} has another size");
        if name.ends_with(".parquet") {
            assert!(
                data.starts_with(b"PAR1") && data.ends_with(b"PAR1"),
                "{name} is not a whole Parquet file"
            );
        }
    }
    for (name, _) in &listed {
        assert!(all.contains(name), "{name} listed but missing");
    }
}

#[test]
fn a_file_size_limit_at_the_end_of_a_run_leaves_only_complete_files() {
    // Parquet keeps row groups in memory, so the limit is hit while the
    // files are completed.
    let out = scratch("fsize-parquet").join("out");
    let o = with_file_size_limit(200, &small_run_args(&out, &[]), None);
    let err = assert_error(&o, 1, &[path_str(&out), "File too large"]);
    assert!(err.contains(".parquet"), "file not named: {err}");
    assert_only_complete_files(&out, false);
}

#[test]
fn a_file_size_limit_in_the_middle_of_a_run_leaves_only_complete_files() {
    // CSV goes to disk as it is encoded, so the limit is hit while
    // subscribers are still being simulated.
    let out = scratch("fsize-csv").join("out");
    let o = with_file_size_limit(1000, &small_run_args(&out, &["--format", "csv"]), None);
    let err = assert_error(&o, 1, &[path_str(&out), "File too large"]);
    assert!(err.contains(".csv"), "file not named: {err}");
    assert_only_complete_files(&out, false);
}

#[test]
fn a_file_size_limit_on_the_stream_spill_removes_the_spill() {
    let tmp = scratch("fsize-spill");
    let o = with_file_size_limit(200, &small_run_args(&tmp, &["--stdout"]), Some(&tmp));
    assert_error(&o, 1, &[path_str(&tmp), "spill file", "File too large"]);
    assert!(o.stdout.is_empty(), "a partial stream was written");
    assert_eq!(files(&tmp), Vec::<String>::new(), "spill files left");
}

#[test]
fn a_full_standard_output_is_a_failure() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipped: this system has no /dev/full");
        return;
    }
    let o = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args([
            "run",
            "--subscribers",
            "50",
            "--days",
            "1",
            "--quiet",
            "--stdout",
        ])
        .stdout(std::fs::File::create(full).unwrap())
        .output()
        .unwrap();
    assert_error(&o, 1, &["<stdout>", "No space left on device"]);
}

#[test]
fn an_output_directory_under_sysfs_cannot_be_created() {
    // Root may write anywhere chmod allows, but not into sysfs.
    if !Path::new("/sys/kernel").is_dir() {
        eprintln!("skipped: this system has no sysfs");
        return;
    }
    let out = Path::new("/sys/mobsynth-faults-out");
    let o = mobsynth(&small_run_args(out, &[]));
    assert_error(&o, 1, &[path_str(out), "cannot create output directory"]);
    assert!(!out.exists());
}

#[test]
fn an_output_path_that_is_a_file_is_left_alone() {
    let out = scratch("output-is-a-file").join("results.txt");
    std::fs::write(&out, "keep me").unwrap();
    let o = mobsynth(&small_run_args(&out, &[]));
    assert_error(&o, 1, &[path_str(&out), "Not a directory"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs with `options` at a fresh directory, or says why not
    /// (mounting needs privileges a CI runner may lack).
    fn tmpfs(name: &str, options: &str) -> Result<Mount, String> {
        let at = scratch(name).join("mnt");
        std::fs::create_dir_all(&at).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs", path_str(&at)])
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !o.status.success() {
            return Err(String::from_utf8_lossy(&o.stderr).trim().to_string());
        }
        Ok(Mount(at))
    }

    fn remount_read_only(&self) {
        let o = Command::new("mount")
            .args(["-o", "remount,ro", path_str(&self.0)])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn an_output_directory_on_a_read_only_file_system_cannot_be_created() {
    let mount = match Mount::tmpfs("ro-new", "ro,size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: cannot mount a read-only tmpfs: {why}");
            return;
        }
    };
    let out = mount.0.join("out");
    let o = mobsynth(&small_run_args(&out, &[]));
    assert_error(
        &o,
        1,
        &[
            path_str(&out),
            "cannot create output directory",
            "Read-only file system",
        ],
    );
    assert!(!out.exists());
}

#[test]
fn an_empty_output_directory_on_a_read_only_file_system_stays_empty() {
    let mount = match Mount::tmpfs("ro-existing", "size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: cannot mount a tmpfs: {why}");
            return;
        }
    };
    let out = mount.0.join("out");
    std::fs::create_dir(&out).unwrap();
    mount.remount_read_only();
    let o = mobsynth(&small_run_args(&out, &[]));
    assert_error(
        &o,
        1,
        &[path_str(&out), "cannot create", "Read-only file system"],
    );
    assert_eq!(files(&out), Vec::<String>::new());
}

#[test]
fn a_disk_that_fills_up_mid_run_leaves_only_complete_files() {
    // Room for the small tables but not for the events.
    let mount = match Mount::tmpfs("full", "size=256k") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: cannot mount a small tmpfs: {why}");
            return;
        }
    };
    let out = mount.0.join("out");
    let o = mobsynth(&small_run_args(&out, &[]));
    assert_error(&o, 1, &[path_str(&out), "No space left on device"]);
    assert_only_complete_files(&out, true);
}

// ---------------------------------------------------------------------------
// Interrupted runs and --resume

/// Every file under `dir` with its bytes, by relative path.
fn contents(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[track_caller]
fn assert_same_files(expected: &Path, actual: &Path) {
    let (a, b) = (contents(expected), contents(actual));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "other files"
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs");
    }
}

/// The default scenario at 5000 subscribers over 7 days: three groups of
/// subscribers, so three files per table and day.
fn resumable_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--yes",
        "--subscribers",
        "5000",
        "--days",
        "7",
        "--quiet",
        "-o",
        path_str(out),
    ];
    args.extend_from_slice(extra);
    args
}

/// One uninterrupted run, shared by the tests that compare with it.
fn uninterrupted() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let out = scratch("resume-reference").join("out");
        // Two threads here, one in the resumed run: the groups' files must
        // not depend on it.
        let o = mobsynth(&resumable_args(&out, &["--threads", "2"]));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let all = files(&out);
        for g in 0..3 {
            let name = format!("part-{g:05}.parquet");
            assert!(all.iter().any(|f| f.ends_with(&name)), "no {name}: {all:?}");
        }
        out
    })
}

fn copy_dir(from: &Path, to: &Path) {
    for f in files(from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), target).unwrap();
    }
}

#[test]
fn a_run_stopped_by_sigint_resumes_to_the_bytes_of_an_uninterrupted_run() {
    let reference = uninterrupted();
    let out = scratch("resume-sigint").join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(resumable_args(&out, &[]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop it as soon as the first group's files are complete.
    let first_done = || {
        files(&out)
            .iter()
            .any(|f| f.starts_with("events/") && f.ends_with("/part-00000.parquet"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !first_done() {
        assert!(std::time::Instant::now() < deadline, "no group completed");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill() with a child's pid and a signal number has no memory effects.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0);
    let o = child.wait_with_output().unwrap();
    assert_error(&o, 130, &["interrupted", "--resume"]);
    assert_only_complete_files(&out, false);
    let kept = files(&out);
    assert!(
        kept.iter().any(|f| f.ends_with("/part-00000.parquet")),
        "the finished group was not kept: {kept:?}"
    );
    assert!(
        !kept.iter().any(|f| f.ends_with("/part-00002.parquet")),
        "the run was not interrupted: {kept:?}"
    );

    // The rest, on one thread: the files do not depend on the thread count.
    let o = mobsynth(&resumable_args(&out, &["--resume", "--threads", "1"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(reference, &out);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["completed"], true);
}

#[test]
fn resume_rewrites_exactly_the_missing_files() {
    let reference = uninterrupted();
    let out = scratch("resume-deleted").join("out");
    copy_dir(reference, &out);
    // A whole group gone, one file of another, a whole-run table, stray
    // temporary files, and the manifest no longer saying complete.
    let mut deleted = 0;
    for f in files(&out) {
        if f.ends_with("/part-00001.parquet")
            || f == "subscribers.parquet"
            || (f.starts_with("truth/trips/") && f.ends_with("/part-00002.parquet") && deleted < 20)
        {
            std::fs::remove_file(out.join(&f)).unwrap();
            deleted += 1;
        }
    }
    assert!(deleted > 28, "only {deleted} files deleted");
    let some_date = files(&out)
        .into_iter()
        .find(|f| f.starts_with("events/date="))
        .unwrap();
    let stray = out
        .join(&some_date)
        .with_file_name("part-00001.parquet.tmp");
    std::fs::write(&stray, "half a file").unwrap();
    std::fs::write(out.join("manifest.json.tmp"), "{").unwrap();
    let manifest = out.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("\"completed\": true"));
    std::fs::write(
        &manifest,
        text.replace("\"completed\": true", "\"completed\": false"),
    )
    .unwrap();
    // A file that was truncated is written again too.
    let events_0 = out.join(&some_date).with_file_name("part-00000.parquet");
    let data = std::fs::read(&events_0).unwrap();
    std::fs::write(&events_0, &data[..data.len() / 2]).unwrap();

    let o = mobsynth(&resumable_args(&out, &["--resume"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(reference, &out);

    // Resuming a complete run changes nothing.
    let o = mobsynth(&resumable_args(&out, &["--resume"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(reference, &out);
}

/// A finished ci-fixture run to resume into, and its files.
fn fixture_dir(name: &str) -> PathBuf {
    let out = scratch(name).join("out");
    let o = mobsynth(&["run", "ci-fixture", "--quiet", "-o", path_str(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn resume_refuses_another_run_and_changes_nothing() {
    let out = fixture_dir("resume-other");
    // As if interrupted: resume would have work to do.
    let events = files(&out)
        .into_iter()
        .find(|f| f.starts_with("events/"))
        .unwrap();
    std::fs::remove_file(out.join(events)).unwrap();
    let before = contents(&out);
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--seed", "8"], &["seed = 8", "seed = 20260302"]),
        (&["--subscribers", "301"], &["subscribers = 301"]),
        (&["--format", "csv"], &["--format", "parquet", "csv"]),
        (&["--compression", "snappy"], &["--compression", "snappy"]),
        (&["--parts", "2"], &["--part/--parts", "0 of 2"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec![
            "run",
            "ci-fixture",
            "--quiet",
            "--resume",
            "-o",
            path_str(&out),
        ];
        args.extend_from_slice(extra);
        let o = mobsynth(&args);
        let mut all = vec![path_str(&out), "manifest.json", "cannot resume"];
        all.extend_from_slice(needles);
        assert_error(&o, 2, &all);
        assert!(contents(&out) == before, "{extra:?} changed the directory");
    }
    // Another scenario altogether.
    let o = mobsynth(&["run", "--quiet", "--resume", "-o", path_str(&out)]);
    assert_error(&o, 2, &["cannot resume", "scenario"]);
    assert!(contents(&out) == before);
    // A directory mobsynth did not write.
    let foreign = scratch("resume-foreign");
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let o = mobsynth(&["run", "ci-fixture", "--resume", "-o", path_str(&foreign)]);
    assert_error(&o, 2, &["manifest.json", "cannot resume"]);
    assert_eq!(files(&foreign), vec!["notes.txt".to_string()]);
}

/// A directory written with the layouts of an earlier mobsynth (version 1
/// had unsigned integer columns) cannot be completed with today's: its files
/// and the new ones would disagree on column types.
#[test]
fn resume_refuses_a_directory_of_an_older_schema_version_and_changes_nothing() {
    use mobsynth::sink::SCHEMA_VERSION;
    let out = fixture_dir("resume-schema");
    let events = files(&out)
        .into_iter()
        .find(|f| f.starts_with("events/"))
        .unwrap();
    std::fs::remove_file(out.join(events)).unwrap();
    let manifest = out.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let now = format!("\"schema_version\": {SCHEMA_VERSION},");
    assert!(text.contains(&now), "{text}");
    let old = format!("\"schema_version\": {},", SCHEMA_VERSION - 1);
    std::fs::write(&manifest, text.replacen(&now, &old, 1)).unwrap();
    let before = contents(&out);
    let o = mobsynth(&[
        "run",
        "ci-fixture",
        "--quiet",
        "--resume",
        "-o",
        path_str(&out),
    ]);
    let difference = format!(
        "schema version is {} in the directory but {SCHEMA_VERSION} in this run",
        SCHEMA_VERSION - 1
    );
    assert_error(
        &o,
        2,
        &[
            path_str(&manifest),
            "cannot resume",
            &difference,
            "nothing was changed",
        ],
    );
    assert!(contents(&out) == before, "the directory changed");
}

#[test]
fn resume_is_refused_with_stdout_and_with_overwrite() {
    let out = scratch("resume-args");
    for other in ["--stdout", "--overwrite"] {
        let o = mobsynth(&["run", "ci-fixture", "--resume", other, "-o", path_str(&out)]);
        assert_error(&o, 2, &["--resume", other]);
    }
    assert_eq!(files(&out), Vec::<String>::new());
}

#[test]
fn resume_into_an_empty_or_missing_directory_is_a_plain_run() {
    let fixture = fixture_dir("resume-fresh-reference");
    let out = scratch("resume-fresh").join("out");
    let o = mobsynth(&[
        "run",
        "ci-fixture",
        "--quiet",
        "--resume",
        "-o",
        path_str(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(&fixture, &out);
}

// ---------------------------------------------------------------------------
// Fuzz seeds, replayed

/// Deterministic variations of a file: every line dropped, doubled or cut
/// short, and characters that mean something to a parser written over a
/// spread of positions. Libfuzzer goes much further (see `fuzz/`); this is
/// the share CI can afford on every run.
fn variations(seed: &[u8]) -> Vec<Vec<u8>> {
    let lines: Vec<&[u8]> = seed.split_inclusive(|&b| b == b'\n').collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        let without: Vec<u8> = lines
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != i)
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        out.push(without);
        let mut doubled: Vec<u8> = lines[..=i].concat();
        doubled.extend(lines[i..].concat());
        out.push(doubled);
        let mut cut: Vec<u8> = lines[..i].concat();
        cut.extend_from_slice(&lines[i][..lines[i].len() / 2]);
        out.push(cut);
    }
    let specials: [&[u8]; 10] = [
        b",", b"\n", b"-", b"9e999", b"nan", b"\xff", b"\"", b"[", b"=", b"",
    ];
    let step = (seed.len() / 97).max(1);
    for (n, pos) in (0..seed.len()).step_by(step).enumerate() {
        let mut v = seed[..pos].to_vec();
        v.extend_from_slice(specials[n % specials.len()]);
        v.extend_from_slice(&seed[pos + 1..]);
        out.push(v);
    }
    out
}

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new("fuzz/seeds").join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// Feeds every seed and its variations to `check`, naming the input that
/// panicked.
fn replay(target: &str, check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for (path, seed) in seeds(target) {
        for input in std::iter::once(seed.clone()).chain(variations(&seed)) {
            if std::panic::catch_unwind(|| check(&input)).is_err() {
                panic!(
                    "{target}: a variation of {} panicked:\n{}",
                    path.display(),
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }
}

#[test]
fn the_scenario_fuzz_seeds_and_their_variations_never_panic() {
    use mobsynth::scenario::Scenario;
    replay("scenario", |data| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = Scenario::parse(text, "seed", None);
        }
    });
}

#[test]
fn the_tower_file_fuzz_seeds_and_their_variations_never_panic() {
    use mobsynth::map::Map;
    use mobsynth::radio::{RadioParams, import};
    let map = Map::load(Path::new(MAP)).unwrap();
    let params = RadioParams::default();
    let file = scratch("fuzz-seeds").join("cells.csv");
    replay("opencellid", |data| {
        std::fs::write(&file, data).unwrap();
        let _ = import::read_opencellid(&file, &params, &map);
    });
    replay("cell_plan", |data| {
        std::fs::write(&file, data).unwrap();
        let _ = import::read_cell_plan(&file, &params, &map);
    });
}

/// A long run writes four spills per day of the run for its first group at
/// once; none may stay open, or the usual limit of 1,024 open files ends a
/// run of a year. Here 128 files must do for 100 days.
#[test]
fn a_long_run_needs_few_open_files() {
    let out = scratch("open-files");
    let script = "ulimit -n 128; exec \"$0\" \"$@\"";
    let o = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mobsynth"))
        .args([
            "run",
            "--subscribers",
            "3",
            "--days",
            "100",
            "--quiet",
            "-o",
            path_str(&out),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written = files(&out);
    let days = written
        .iter()
        .filter(|f| f.starts_with("events/") && f.ends_with("part-00000.parquet"))
        .count();
    assert_eq!(days, 100, "one events file per day");
    assert!(written.iter().all(|f| !f.ends_with(".tmp")));
    let _ = std::fs::remove_dir_all(&out);
}

// ---------------------------------------------------------------------------
// Happenings and dirty logs

/// An example scenario of `scenarios/` with one edit, the map made absolute,
/// saved in a scratch directory; returns the file and its text.
fn edited_example(name: &str, example: &str, from: &str, to: &str) -> (PathBuf, String) {
    let map = std::fs::canonicalize(MAP).unwrap();
    let text = std::fs::read_to_string(format!("scenarios/{example}.toml"))
        .unwrap()
        .replace(
            "map = \"maps/liechtenstein.osm.pbf\"",
            &format!("map = {:?}", map.to_str().unwrap()),
        );
    assert!(text.contains(from), "{from:?} not in {example}");
    let text = text.replacen(from, to, 1);
    let path = scratch(name).join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    (path, text)
}

#[test]
fn bad_happenings_name_file_line_and_key() {
    for (name, example, from, to, prefix, needles) in [
        (
            "kind",
            "gathering",
            "kind = \"gathering\"",
            "kind = \"parade\"",
            "kind",
            &["unknown variant `parade`"][..],
        ),
        (
            "window",
            "gathering",
            "end = \"2026-03-03T21:00\"",
            "end = \"2026-03-03T17:00\"",
            "end",
            &["`happenings[0].end`", "after start"][..],
        ),
        (
            "venue",
            "gathering",
            "lon = 9.5119",
            "lon = 12.0",
            "lon",
            &["`happenings[0].lon`", "outside the map"][..],
        ),
        (
            "site",
            "outage",
            "radius_m = 1500",
            "radius_m = 1500\nsites = [99999]",
            "sites",
            &["`happenings[0].sites`", "99999", "not in the cell plan"][..],
        ),
        (
            "share",
            "relocation",
            "share = 0.4",
            "share = 1.4",
            "share",
            &["`happenings[0].share`", "1.4"][..],
        ),
        (
            "other-kind",
            "gathering",
            "attendees = 600",
            "attendees = 600\ncompliance = 0.5",
            "compliance",
            &["`happenings[0].compliance`", "closure only"][..],
        ),
        (
            "rate",
            "dirty-logs",
            "late_rate = 0.02",
            "late_rate = 1.5",
            "late_rate",
            &["`log_quality.late_rate`", "between 0 and 1"][..],
        ),
        (
            "negative-rate",
            "dirty-logs",
            "duplicate_rate = 0.01",
            "duplicate_rate = -0.1",
            "duplicate_rate",
            &["`log_quality.duplicate_rate`"][..],
        ),
        (
            "fault-key",
            "dirty-logs",
            "late_rate = 0.02",
            "late_rate = 0.02\nlateness = 3",
            "lateness",
            &["lateness"][..],
        ),
    ] {
        let (path, text) = edited_example(&format!("happening-{name}"), example, from, to);
        let line = format!("line {}", line_of(&text, prefix));
        let mut all = vec![path_str(&path), line.as_str()];
        all.extend_from_slice(needles);
        assert_error(&refused(&path, &[]), 2, &all);
    }
}

#[test]
fn truncated_lines_are_refused_for_files_and_keys_for_csv() {
    let (path, _) = edited_example(
        "truncated",
        "dirty-logs",
        "truncated_line_rate = 0",
        "truncated_line_rate = 0.1",
    );
    assert_error(
        &refused(&path, &[]),
        2,
        &["truncated_line_rate", "--stdout"],
    );
    let o = mobsynth(&[
        "run",
        "ci-fixture",
        "--stdout",
        "--key",
        "--format",
        "csv",
        "-q",
    ]);
    assert_error(&o, 2, &["key", "NDJSON"]);
}
