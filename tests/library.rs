//! The library as an embedder sees it: the in-process generator yields the
//! rows a run writes, refuses what a run refuses, and every reader of a
//! dataset counts days as the generator partitioned them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use mobsynth::reader::{DatasetReader, column_i64, column_ms};
use mobsynth::validate::dataset;
use mobsynth::{Model, Options, Scenario, Table};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mobsynth-library-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn mobsynth(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .expect("mobsynth runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Seconds since 1970-01-01 of a `YYYY-MM-DD` date, in days.
fn epoch_day(date: &str) -> i64 {
    let d: jiff::civil::Date = date.parse().expect("a partition date");
    d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("a date in range")
        .timestamp()
        .as_second()
        .div_euclid(86_400)
}

#[test]
fn the_generator_in_process_yields_the_rows_a_run_writes() {
    let dir = scratch("rows");
    mobsynth(&[
        "run",
        "ci-fixture",
        "--quiet",
        "--parts",
        "2",
        "--part",
        "1",
        "-o",
        path(&dir),
    ]);
    let model = Model::build(Scenario::bundled("ci-fixture").unwrap()).unwrap();
    let generator = model.generator(Options { part: 1, parts: 2 }).unwrap();
    assert!(
        !generator.tables().contains(&Table::Cells),
        "cells: part 0 only"
    );
    let mut made: BTreeMap<&str, Vec<RecordBatch>> = BTreeMap::new();
    for table in generator.tables() {
        made.entry(table.name())
            .or_default()
            .extend(generator.whole_table(table));
    }
    for chunk in generator.chunks() {
        for (table, _day, batch) in chunk.batches {
            made.entry(table.name()).or_default().push(batch);
        }
    }
    let reader = DatasetReader::open(&dir).unwrap();
    let tables: Vec<&str> = made.keys().copied().collect();
    assert!(tables.contains(&"events") && tables.contains(&"truth/stays"));
    for (name, batches) in made {
        let table = Table::from_name(name).unwrap();
        let in_memory = arrow::compute::concat_batches(&table.schema(), &batches).unwrap();
        let written = reader.read(name, table.schema()).unwrap();
        let written = arrow::compute::concat_batches(&table.schema(), &written).unwrap();
        assert!(in_memory.num_rows() > 0, "{name}");
        // Row order within a file follows the chunks; files follow the days.
        // Compare as sorted sets of rows so that partitioning does not matter.
        let sorted = |b: &RecordBatch| {
            let mut rows: Vec<String> = (0..b.num_rows())
                .map(|i| {
                    b.columns()
                        .iter()
                        .map(|c| {
                            // Named time zones print only with chrono-tz;
                            // the instant is what matters.
                            let c = match c.data_type() {
                                DataType::Timestamp(..) => cast(c, &DataType::Int64).unwrap(),
                                _ => c.clone(),
                            };
                            arrow::util::display::array_value_to_string(&c, i).unwrap()
                        })
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(sorted(&in_memory), sorted(&written), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_library_refuses_a_part_that_does_not_exist() {
    let model = Model::build(Scenario::bundled("ci-fixture").unwrap()).unwrap();
    for (part, parts) in [(2, 2), (0, 0), (7, 3)] {
        let e = model
            .generator(Options { part, parts })
            .err()
            .expect("refused");
        assert!(e.to_string().contains("part"), "{e}");
    }
}

#[test]
fn a_scenario_without_a_map_runs_on_the_bundled_one() {
    let text = "name = \"nomap\"\nseed = 1\nsubscribers = 20\ndays = 1\nstart = \"2026-03-02\"\ntimezone = \"Europe/Vaduz\"\n";
    let scenario = Scenario::parse(text, "nomap.toml", None).unwrap();
    let model = Model::build(scenario).unwrap();
    assert!(!model.map().places.is_empty());
}

/// Across a change to summer time (Europe/Vaduz, 29 March 2026), every
/// stay and event belongs to the same local day in the generator's date
/// partitions and in the validator's reading of the dataset.
#[test]
fn validate_counts_days_as_the_partitions_across_a_clock_change() {
    let dir = scratch("dst");
    mobsynth(&[
        "run",
        "--quiet",
        "--subscribers",
        "150",
        "--days",
        "3",
        "--start",
        "2026-03-28",
        "-o",
        path(&dir),
    ]);
    let data = dataset::load(&dir, None).unwrap();
    let reader = DatasetReader::open(&dir).unwrap();
    let mut checked = 0;
    // Records in the hour after local midnight once clocks have moved: an
    // offset fixed at the start of the run puts them on the previous day.
    let mut after_midnight = 0;
    for (table, time) in [(Table::Stays, "start"), (Table::Events, "timestamp")] {
        for date in reader.dates(table.name()) {
            let day = epoch_day(&date);
            for b in reader
                .read_date(table.name(), &date, table.schema())
                .unwrap()
            {
                let p = Path::new(table.name());
                let times = column_ms(&b, time, p).unwrap();
                let subscribers = column_i64(&b, "subscriber_id", p).unwrap();
                assert_eq!(times.len(), subscribers.len());
                for t in times {
                    let t = t.div_euclid(1000);
                    assert_eq!(
                        mobsynth::validate::local_day(t, &data.calendar),
                        day,
                        "{} at {t} is in the partition of {date}",
                        table.name()
                    );
                    checked += 1;
                    let local = data.calendar.local_second_of_day(t);
                    if date.as_str() > "2026-03-29" && local < 3600 {
                        after_midnight += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked} records");
    assert!(
        after_midnight > 0,
        "no record just after midnight in summer time"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The stream is encoded by hand for speed; its rows must be the files'
/// rows field by field, in both text formats: the same names, values,
/// number formats, escaping and empty fields.
#[test]
fn the_stream_s_rows_are_the_files_rows() {
    let run = &[
        "--subscribers",
        "40",
        "--days",
        "1",
        "--seed",
        "7",
        "--quiet",
    ];
    for format in ["ndjson", "csv"] {
        let dir = scratch(&format!("stream-{format}"));
        let mut args = vec!["run", "--format", format, "-o", path(&dir)];
        args.extend(run);
        mobsynth(&args);
        let mut args = vec!["run", "--format", format, "--stdout"];
        args.extend(run);
        let out = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success());
        let stream = String::from_utf8(out.stdout).unwrap();
        // The files' rows, each under its event id (the first field).
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        let mut header = None;
        let reader = DatasetReader::open(&dir).unwrap();
        for f in reader.files("events") {
            let text = std::fs::read_to_string(dir.join(&f.path)).unwrap();
            let mut lines = text.lines();
            if format == "csv" {
                header = lines.next().map(str::to_string);
            }
            for line in lines {
                files.insert(event_id(format, line), line.to_string());
            }
        }
        let mut lines = stream.lines();
        if format == "csv" {
            assert_eq!(lines.next().map(str::to_string), header, "CSV header");
        }
        let mut n = 0;
        for line in lines {
            let id = event_id(format, line);
            let file_line = files
                .get(&id)
                .unwrap_or_else(|| panic!("event {id} not in the files"));
            if format == "ndjson" {
                let a: serde_json::Value = serde_json::from_str(line).unwrap();
                let b: serde_json::Value = serde_json::from_str(file_line).unwrap();
                assert_eq!(a, b, "event {id}");
            }
            assert_eq!(line, file_line, "event {id} ({format})");
            n += 1;
        }
        assert_eq!(n, files.len(), "{format}: every event streamed once");
        assert!(n > 1000, "{n} events");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn event_id(format: &str, line: &str) -> String {
    match format {
        "csv" => line.split(',').next().unwrap_or_default().to_string(),
        _ => serde_json::from_str::<serde_json::Value>(line).unwrap()["event_id"].to_string(),
    }
}
