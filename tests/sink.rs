//! The dataset writer: formats round-trip, files appear whole, a user's data
//! is never overwritten without being asked.

use std::fs::File;
use std::path::{Path, PathBuf};

use mobsynth::days::{Activity, Stay};
use mobsynth::map::{Map, PlaceId};
use mobsynth::sink::tables::{StaysBuilder, stays_schema};
use mobsynth::sink::{
    Compression, Dataset, Format, ManifestInfo, OutputOptions, Provenance, SinkError, Unit,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mobsynth-sink-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(dir: &Path, format: Format) -> OutputOptions {
    OutputOptions {
        dir: dir.to_path_buf(),
        format,
        compression: Compression::Zstd,
        overwrite: false,
        part: 0,
        parts: 1,
    }
}

fn info() -> ManifestInfo {
    ManifestInfo {
        period_start: "2026-03-01T23:00:00Z".into(),
        period_end: "2026-03-02T23:00:00Z".into(),
        timezone: "Europe/Vaduz".into(),
        scenario_toml: "name = \"t\"\n".into(),
        inputs: Vec::new(),
    }
}

fn stays(map: &Map, n: usize) -> arrow::record_batch::RecordBatch {
    let mut b = StaysBuilder::new(16);
    for i in 0..n {
        let place = &map.places[i % map.places.len()];
        let stay = Stay {
            start: 1_772_406_000 + i as i64 * 60,
            end: 1_772_406_000 + i as i64 * 60 + 3600,
            activity: if i % 2 == 0 {
                Activity::Home
            } else {
                Activity::Work
            },
            place: Some(PlaceId(place.id.0)),
            pos: place.pos,
        };
        b.append(i as u32 % 7, &stay, map);
    }
    b.finish()
}

fn map() -> Map {
    Map::load(Path::new("scenarios/maps/liechtenstein.osm.pbf")).unwrap()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn parquet_round_trips_with_schema_and_provenance() {
    let map = map();
    let dir = scratch("parquet");
    let mut ds = Dataset::create(options(&dir, Format::Parquet), Provenance::new("t", 7)).unwrap();
    let batch = stays(&map, 1000);
    ds.write("truth/stays", Some("2026-03-02"), &batch).unwrap();
    ds.write("truth/stays", Some("2026-03-02"), &batch).unwrap();
    let manifest = ds.finish(info()).unwrap();
    assert!(manifest.completed);
    assert_eq!(manifest.tables["truth/stays"], 2000);

    let path = dir.join("truth/stays/date=2026-03-02/part-00000.parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.schema().fields(), stays_schema().fields());
    let rows: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 2000);

    let meta = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let kv = meta
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .clone();
    let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
    assert_eq!(get("generator").as_deref(), Some("mobsynth"));
    assert_eq!(get("synthetic").as_deref(), Some("true"));
    assert_eq!(get("seed").as_deref(), Some("7"));
    assert_eq!(get("scenario").as_deref(), Some("t"));

    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["completed"], true);
    assert_eq!(
        json["files"][0]["path"],
        "truth/stays/date=2026-03-02/part-00000.parquet"
    );
    assert_eq!(json["files"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(
        all_files(&dir)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".tmp"))
    );
}

#[test]
fn csv_has_a_header_and_plain_strings() {
    let map = map();
    let dir = scratch("csv");
    let mut ds = Dataset::create(options(&dir, Format::Csv), Provenance::new("t", 7)).unwrap();
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 10))
        .unwrap();
    ds.finish(info()).unwrap();
    let text =
        std::fs::read_to_string(dir.join("truth/stays/date=2026-03-02/part-00000.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "subscriber_id,start,end,activity,place_id,lon,lat,out_of_area"
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first.len(), 8);
    assert_eq!(first[7], "false");
    assert_eq!(first[3], "home");
    assert!(first[1].ends_with('Z'), "{}", first[1]);
    assert_eq!(text.lines().count(), 11);
}

#[test]
fn ndjson_lines_parse_as_objects() {
    let map = map();
    let dir = scratch("ndjson");
    let mut ds = Dataset::create(options(&dir, Format::Ndjson), Provenance::new("t", 7)).unwrap();
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 10))
        .unwrap();
    ds.finish(info()).unwrap();
    let text =
        std::fs::read_to_string(dir.join("truth/stays/date=2026-03-02/part-00000.ndjson")).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[1]["activity"], "work");
    assert!(rows[0]["lon"].as_f64().unwrap() > 9.0);
}

#[test]
fn a_non_empty_directory_is_refused_unless_overwrite_is_set() {
    let dir = scratch("refuse");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let err = Dataset::create(options(&dir, Format::Parquet), Provenance::new("t", 1))
        .err()
        .unwrap();
    assert!(matches!(err, SinkError::NotEmpty(_)));
    assert!(err.to_string().contains("--overwrite"));
    assert_eq!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep me"
    );
    let mut opts = options(&dir, Format::Parquet);
    opts.overwrite = true;
    let ds = Dataset::create(opts, Provenance::new("t", 1)).unwrap();
    ds.finish(info()).unwrap();
    assert!(!dir.join("precious.txt").exists());
}

#[test]
fn an_abandoned_dataset_leaves_no_partial_file_and_says_so() {
    let map = map();
    let dir = scratch("abandon");
    let mut ds = Dataset::create(options(&dir, Format::Parquet), Provenance::new("t", 1)).unwrap();
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 100))
        .unwrap();
    let manifest = ds.abandon(info()).unwrap();
    assert!(!manifest.completed);
    let files = all_files(&dir);
    assert_eq!(files, vec![dir.join("manifest.json")], "{files:?}");
}

#[test]
fn an_unwritable_directory_is_an_error_naming_it() {
    let err = Dataset::create(
        options(Path::new("/proc/mobsynth-cannot-be-here"), Format::Csv),
        Provenance::new("t", 1),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("/proc/mobsynth-cannot-be-here"),
        "{err}"
    );
}

#[test]
fn each_group_writes_complete_files_of_its_own() {
    let map = map();
    let dir = scratch("groups");
    let mut ds = Dataset::open_run(
        options(&dir, Format::Parquet),
        Provenance::new("t", 1),
        info(),
        false,
    )
    .unwrap();
    // The manifest exists from the start and says the run is incomplete.
    let manifest = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
    };
    assert_eq!(manifest()["completed"], false);
    ds.begin(Unit::Group(0));
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 10))
        .unwrap();
    ds.write("truth/stays", Some("2026-03-03"), &stays(&map, 5))
        .unwrap();
    ds.complete().unwrap();
    let group0 = [
        dir.join("manifest.json"),
        dir.join("truth/stays/date=2026-03-02/part-00000.parquet"),
        dir.join("truth/stays/date=2026-03-03/part-00000.parquet"),
    ];
    assert_eq!(all_files(&dir), group0.to_vec());
    assert!(ds.is_done(Unit::Group(0)));
    ds.begin(Unit::Group(1));
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 7))
        .unwrap();
    // Interrupted: group 1 is dropped, group 0 stays and is listed.
    let m = ds.abandon(info()).unwrap();
    assert!(!m.completed);
    assert_eq!(m.tables["truth/stays"], 15);
    assert_eq!(all_files(&dir), group0.to_vec());
    assert_eq!(manifest()["files"].as_array().unwrap().len(), 2);

    // Resumed: group 0 is known to be done.
    let mut ds = Dataset::open_run(
        options(&dir, Format::Parquet),
        Provenance::new("t", 1),
        info(),
        true,
    )
    .unwrap();
    assert!(ds.is_done(Unit::Group(0)));
    assert!(!ds.is_done(Unit::Group(1)));
    ds.begin(Unit::Group(1));
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 7))
        .unwrap();
    ds.complete().unwrap();
    let m = ds.finish(info()).unwrap();
    assert!(m.completed);
    assert_eq!(m.tables["truth/stays"], 22);
    assert!(
        dir.join("truth/stays/date=2026-03-02/part-00001.parquet")
            .exists()
    );
}

#[test]
fn parts_of_a_split_run_name_their_groups_apart() {
    let map = map();
    let dir = scratch("split-groups");
    let mut opts = options(&dir, Format::Csv);
    opts.part = 2;
    opts.parts = 3;
    let mut ds = Dataset::open_run(opts, Provenance::new("t", 1), info(), false).unwrap();
    ds.begin(Unit::Group(4));
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 3))
        .unwrap();
    ds.complete().unwrap();
    ds.finish(info()).unwrap();
    assert!(
        dir.join("truth/stays/date=2026-03-02/part-00002-00004.csv")
            .exists(),
        "{:?}",
        all_files(&dir)
    );
}

#[test]
fn resume_of_another_run_is_refused_and_changes_nothing() {
    let map = map();
    let dir = scratch("resume-refused");
    let mut ds = Dataset::open_run(
        options(&dir, Format::Parquet),
        Provenance::new("t", 1),
        info(),
        false,
    )
    .unwrap();
    ds.begin(Unit::Group(0));
    ds.write("truth/stays", Some("2026-03-02"), &stays(&map, 10))
        .unwrap();
    ds.complete().unwrap();
    drop(ds);
    let before: Vec<(PathBuf, Vec<u8>)> = all_files(&dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    let mut other = info();
    other.scenario_toml = "name = \"u\"\n".into();
    let err = Dataset::open_run(
        options(&dir, Format::Parquet),
        Provenance::new("t", 1),
        other,
        true,
    )
    .err()
    .unwrap();
    assert!(matches!(err, SinkError::Resume { .. }));
    let text = err.to_string();
    assert!(text.contains("manifest.json: cannot resume"), "{text}");
    assert!(text.contains("name = \"u\""), "{text}");
    let after: Vec<(PathBuf, Vec<u8>)> = all_files(&dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    assert_eq!(before, after);
}
