//! Whole runs through the binary: determinism across threads and parts,
//! the user's data kept safe, the event stream, the pinned CI fixture.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use arrow::array::{Array, AsArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mobsynth-dataset-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn mobsynth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap()
}

fn small_run(out: &Path, extra: &[&str]) -> Output {
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
    o
}

/// Every file under `dir` with its bytes, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// An integer column of a Parquet file, whatever its integer type.
fn i64_column(path: &Path, column: &str) -> Vec<i64> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        out.extend(mobsynth::reader::column_i64(&batch.unwrap(), column, path).unwrap());
    }
    out
}

#[test]
fn one_thread_and_two_threads_write_the_same_bytes() {
    let (a, b) = (scratch("t1"), scratch("t2"));
    small_run(&a, &["--threads", "1"]);
    small_run(&b, &["--threads", "2"]);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between 1 and 2 threads");
    }
    for table in ["subscribers.parquet", "cells.parquet", "manifest.json"] {
        assert!(fa.contains_key(table), "{table} missing: {:?}", fa.keys());
    }
    for table in [
        "events/",
        "truth/stays/",
        "truth/trips/",
        "truth/event_positions/",
    ] {
        assert!(fa.keys().any(|k| k.starts_with(table)), "{table} missing");
    }
}

/// Chunks finish in any order on several threads and windows depend on the
/// number of threads; over two groups of files the bytes must not.
#[test]
fn several_groups_are_the_same_bytes_on_one_and_five_threads() {
    let (a, b) = (scratch("g1"), scratch("g5"));
    for (out, threads) in [(&a, "1"), (&b, "5")] {
        let o = mobsynth(&[
            "run",
            "--subscribers",
            "2400",
            "--days",
            "7",
            "--quiet",
            "--threads",
            threads,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    assert!(
        fa.keys()
            .any(|k| k.starts_with("events/") && k.ends_with("part-00001.parquet")),
        "one group only: {:?}",
        fa.keys()
    );
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between 1 and 5 threads");
    }
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn without_truth_the_operator_tables_are_the_same_bytes() {
    let (full, bare) = (scratch("truth"), scratch("no-truth"));
    small_run(&full, &[]);
    small_run(&bare, &["--no-truth"]);
    let (ff, fb) = (files(&full), files(&bare));
    assert!(
        fb.keys().all(|k| !k.starts_with("truth/")),
        "truth tables written: {:?}",
        fb.keys()
    );
    let observable: Vec<&String> = ff
        .keys()
        .filter(|k| !k.starts_with("truth/") && *k != "manifest.json")
        .collect();
    assert!(observable.iter().any(|k| k.starts_with("events/")));
    assert_eq!(
        observable,
        fb.keys()
            .filter(|k| *k != "manifest.json")
            .collect::<Vec<_>>()
    );
    for name in observable {
        assert!(ff[name] == fb[name], "{name} differs without the truth");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&fb["manifest.json"]).expect("manifest parses");
    let tables: Vec<&String> = manifest["tables"].as_object().unwrap().keys().collect();
    assert_eq!(tables, ["cells", "events", "subscribers"]);
    assert!(
        manifest["scenario"]
            .as_str()
            .unwrap()
            .contains("truth = false")
    );

    // The validator measures what the events support and nothing else.
    let json = bare.join("metrics.json");
    let o = mobsynth(&[
        "validate",
        bare.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let ids: Vec<&str> = metrics
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().any(|id| id.starts_with("events.")), "{ids:?}");
    assert!(ids.iter().all(|id| !id.starts_with("truth.")), "{ids:?}");
    assert!(!ids.contains(&"events.jump_lengths_vs_truth"), "{ids:?}");

    // Positions are truth too: asking for them without it is an error.
    let o = mobsynth(&[
        "run",
        "--subscribers",
        "10",
        "--no-truth",
        "--positions-every",
        "60",
        "-o",
        scratch("no-truth-positions").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("positions_every_s") && err.contains("truth"),
        "{err}"
    );
}

#[test]
fn the_parts_together_hold_exactly_the_rows_of_one_run() {
    let whole = scratch("whole");
    small_run(&whole, &[]);
    let mut from_parts: Vec<i64> = Vec::new();
    for k in 0..3 {
        let dir = scratch(&format!("part{k}"));
        small_run(&dir, &["--parts", "3", "--part", &k.to_string()]);
        for (name, _) in files(&dir) {
            if name.starts_with("events/") {
                from_parts.extend(i64_column(&dir.join(&name), "event_id"));
            }
        }
    }
    let mut from_whole: Vec<i64> = Vec::new();
    for (name, _) in files(&whole) {
        if name.starts_with("events/") {
            from_whole.extend(i64_column(&whole.join(&name), "event_id"));
        }
    }
    assert!(!from_whole.is_empty());
    from_parts.sort_unstable();
    from_whole.sort_unstable();
    assert_eq!(from_parts, from_whole);
}

#[test]
fn a_non_empty_output_directory_is_kept_unless_overwrite_is_given() {
    let dir = scratch("keep");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), "years of work").unwrap();
    let o = mobsynth(&[
        "run",
        "--subscribers",
        "20",
        "--days",
        "1",
        "--quiet",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not empty") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("thesis.tex")).unwrap(),
        "years of work"
    );
    small_run(&dir, &["--overwrite"]);
    assert!(!dir.join("thesis.tex").exists());
}

#[test]
fn the_stream_is_in_time_order_and_parses() {
    let o = mobsynth(&[
        "run",
        "--subscribers",
        "60",
        "--days",
        "1",
        "--quiet",
        "--stdout",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut last = String::new();
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let ts = v["timestamp"].as_str().unwrap().to_string();
        assert!(ts >= last, "{ts} after {last}");
        assert!(v.get("lon").is_none(), "truth leaked into the log");
        last = ts;
        n += 1;
    }
    assert!(n > 100, "{n} events");
}

#[test]
fn a_closed_pipe_ends_the_stream_with_success() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args([
            "run",
            "--subscribers",
            "200",
            "--days",
            "1",
            "--quiet",
            "--stdout",
            "--format",
            "csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with(b"event_id,timestamp,"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn interrupt_mid_run(signal: &str) {
    let dir = scratch(&format!("interrupted-{signal}"));
    let child = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args([
            "run",
            "--subscribers",
            "40000",
            "--days",
            "3",
            "--quiet",
            "-o",
            dir.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is writing, then interrupt it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !dir.join("subscribers.parquet.tmp").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted") && err.contains("incomplete"),
        "{err}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["completed"], false);
    for name in files(&dir).keys() {
        assert!(!name.ends_with(".tmp"), "partial file left: {name}");
    }
}

#[test]
fn sigint_leaves_only_complete_files_and_an_incomplete_manifest() {
    interrupt_mid_run("-INT");
}

#[test]
fn sigterm_leaves_only_complete_files_and_an_incomplete_manifest() {
    interrupt_mid_run("-TERM");
}

/// Every table of a run, in every format, reads back with its documented
/// schema (Parquet) or parses row by row (CSV with a header, NDJSON).
#[test]
fn every_table_reads_back_in_every_format() {
    // The generator's own list of tables and schemas.
    // Tables of a scenario section (dirty logs, happenings) have tests of
    // their own.
    let schemas: Vec<(&str, _)> = mobsynth::Table::ALL
        .iter()
        .filter(|t| t.section().is_none())
        .map(|t| (t.name(), t.schema()))
        .collect();
    let parquet = scratch("formats-parquet");
    small_run(&parquet, &["--positions-every", "900"]);
    for (name, _) in files(&parquet) {
        let of_table =
            |t: &str| name.starts_with(&format!("{t}/")) || name.starts_with(&format!("{t}."));
        let Some((_, schema)) = schemas.iter().find(|(t, _)| of_table(t)) else {
            continue;
        };
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(File::open(parquet.join(&name)).unwrap())
                .unwrap();
        assert_eq!(reader.schema().fields(), schema.fields(), "{name}");
        let rows: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
        assert!(rows > 0, "{name} is empty");
    }
    for format in ["csv", "ndjson"] {
        let dir = scratch(&format!("formats-{format}"));
        small_run(&dir, &["--format", format, "--positions-every", "900"]);
        let all = files(&dir);
        for (table, schema) in &schemas {
            let names: Vec<&String> = all
                .keys()
                .filter(|n| {
                    n.ends_with(format)
                        && (n.starts_with(&format!("{table}/"))
                            || n.starts_with(&format!("{table}.")))
                })
                .collect();
            assert!(!names.is_empty(), "{table} has no {format} file");
            for name in names {
                let text = String::from_utf8(all[name].clone()).unwrap();
                let mut lines = text.lines();
                if format == "csv" {
                    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
                    let expected: Vec<&str> =
                        schema.fields().iter().map(|f| f.name().as_str()).collect();
                    assert_eq!(header, expected, "{name}");
                    assert!(lines.all(|l| !l.is_empty()), "{name}");
                } else {
                    for line in lines {
                        let row: serde_json::Value = serde_json::from_str(line).unwrap();
                        assert!(row.is_object(), "{name}");
                        assert!(
                            row.as_object()
                                .unwrap()
                                .keys()
                                .all(|k| schema.field_with_name(k).is_ok()),
                            "{name}: unknown column in {line}"
                        );
                    }
                }
            }
        }
    }
}

/// Rows of a table's Parquet files, all partitions.
fn batches(dir: &Path, table: &str) -> Vec<arrow::record_batch::RecordBatch> {
    let mut out = Vec::new();
    for name in files(dir)
        .keys()
        .filter(|n| n.starts_with(&format!("{table}/")))
    {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(dir.join(name)).unwrap())
            .unwrap()
            .build()
            .unwrap();
        out.extend(reader.map(|b| b.unwrap()));
    }
    out
}

/// A primitive column's values.
fn values<T: arrow::datatypes::ArrowPrimitiveType>(
    b: &arrow::record_batch::RecordBatch,
    name: &str,
) -> Vec<T::Native> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<T>()
        .values()
        .to_vec()
}

/// A dictionary or string column as text, nulls as `None`.
fn texts(b: &arrow::record_batch::RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = arrow::compute::cast(
        b.column_by_name(name).unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let c = c.as_string::<i32>();
    (0..c.len())
        .map(|i| (!c.is_null(i)).then(|| c.value(i).to_string()))
        .collect()
}

#[test]
fn sampled_positions_sit_at_the_stays_and_keep_their_rhythm() {
    use arrow::datatypes::{Float64Type, TimestampMillisecondType as Ms};
    use mobsynth::reader::column_i64;
    let dir = scratch("positions");
    small_run(&dir, &["--positions-every", "600"]);
    // Start ms, end ms, activity, lon, lat of every stay, by subscriber.
    type StayRow = (i64, i64, Option<String>, f64, f64);
    let mut stays: BTreeMap<i64, Vec<StayRow>> = BTreeMap::new();
    for b in batches(&dir, "truth/stays") {
        let (sub, start, end) = (
            column_i64(&b, "subscriber_id", &dir).unwrap(),
            values::<Ms>(&b, "start"),
            values::<Ms>(&b, "end"),
        );
        let act = texts(&b, "activity");
        let (lon, lat) = (
            values::<Float64Type>(&b, "lon"),
            values::<Float64Type>(&b, "lat"),
        );
        for i in 0..b.num_rows() {
            stays.entry(sub[i]).or_default().push((
                start[i],
                end[i],
                act[i].clone(),
                lon[i],
                lat[i],
            ));
        }
    }
    let (mut at_stays, mut travelling) = (0, 0);
    for b in batches(&dir, "truth/positions") {
        let (sub, t) = (
            column_i64(&b, "subscriber_id", &dir).unwrap(),
            values::<Ms>(&b, "timestamp"),
        );
        let act = texts(&b, "activity");
        let (lon, lat) = (
            values::<Float64Type>(&b, "lon"),
            values::<Float64Type>(&b, "lat"),
        );
        for i in 0..b.num_rows() {
            assert_eq!(t[i] % 600_000, 0, "samples fall on the 10-minute grid");
            let Some(activity) = &act[i] else {
                travelling += 1;
                continue;
            };
            at_stays += 1;
            let here = stays[&sub[i]]
                .iter()
                .find(|s| s.0 <= t[i] && t[i] < s.1)
                .expect("a sample at a stay falls within one");
            assert_eq!(here.2.as_ref(), Some(activity));
            assert_eq!((here.3, here.4), (lon[i], lat[i]));
        }
    }
    // People spend most of the day at their stays and about an hour and a
    // half travelling.
    let share = travelling as f64 / (at_stays + travelling) as f64;
    assert!(
        at_stays > 0 && share > 0.02 && share < 0.15,
        "travelling share {share}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_truth_stays_within_the_run_period() {
    use arrow::datatypes::TimestampMillisecondType as Ms;
    // Enough people that some are still on their way home at the end.
    let out = scratch("period");
    let o = mobsynth(&[
        "run",
        "--subscribers",
        "3000",
        "--days",
        "1",
        "--quiet",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let end: jiff::Timestamp = manifest["period_end"].as_str().unwrap().parse().unwrap();
    let end_ms = end.as_millisecond();
    let mut latest_trip_end = i64::MIN;
    for b in batches(&out, "truth/trips") {
        latest_trip_end = latest_trip_end.max(values::<Ms>(&b, "end").into_iter().max().unwrap());
    }
    assert!(
        latest_trip_end > end_ms,
        "nobody was travelling at the end; the test needs more people"
    );
    for b in batches(&out, "truth/stays") {
        for start in values::<Ms>(&b, "start") {
            assert!(
                start < end_ms,
                "a stay starts at {start} ms, after the period ({end_ms} ms)"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// The rows of a group wait in memory while the budget allows and in a
/// temporary file beyond it; the Parquet file is the same bytes either way,
/// and nothing temporary stays.
#[test]
fn rows_held_in_memory_or_spilled_make_the_same_file() {
    use mobsynth::sink::{
        Compression, Dataset, Format, ManifestInfo, OutputOptions, Provenance, Unit,
    };
    let source = scratch("held-source");
    small_run(&source, &[]);
    let rows = batches(&source, "events");
    assert!(rows.len() > 4, "{} batches", rows.len());
    let total: usize = rows.iter().map(|b| b.get_array_memory_size()).sum();
    let mut written = Vec::new();
    for (name, budget) in [
        ("memory", None),
        ("half", Some(total / 2)),
        ("disk", Some(0)),
    ] {
        let dir = scratch(&format!("held-{name}"));
        let options = OutputOptions {
            dir: dir.clone(),
            format: Format::Parquet,
            compression: Compression::Zstd,
            overwrite: false,
            part: 0,
            parts: 1,
        };
        let mut dataset = Dataset::create(options, Provenance::new("test", 1)).unwrap();
        if let Some(b) = budget {
            dataset.set_memory_budget(b);
        }
        dataset.begin(Unit::Group(0));
        for b in &rows {
            dataset.write("events", Some("2026-01-05"), b).unwrap();
        }
        let temporary: Vec<String> = files(&dir)
            .into_keys()
            .filter(|f| f.ends_with(".spill.tmp"))
            .collect();
        assert_eq!(
            temporary.is_empty(),
            budget.is_none(),
            "{name}: {temporary:?}"
        );
        dataset.complete().unwrap();
        dataset
            .finish(ManifestInfo {
                period_start: "2026-01-05T00:00:00Z".into(),
                period_end: "2026-01-06T00:00:00Z".into(),
                timezone: "UTC".into(),
                scenario_toml: String::new(),
                inputs: Vec::new(),
            })
            .unwrap();
        let out = files(&dir);
        assert!(
            out.keys().all(|f| !f.ends_with(".tmp")),
            "{name}: {:?}",
            out.keys()
        );
        let parquet = out
            .get("events/date=2026-01-05/part-00000.parquet")
            .unwrap_or_else(|| panic!("{name}: {:?}", out.keys()))
            .clone();
        written.push(parquet);
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(written[0] == written[1], "half spilled differs");
    assert!(written[0] == written[2], "all spilled differs");
    let _ = std::fs::remove_dir_all(&source);
}

/// Times and event ids rise along each subscriber's rows and are stored as
/// differences, never through a dictionary.
#[test]
fn times_and_event_ids_are_delta_encoded() {
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let out = scratch("delta");
    small_run(&out, &[]);
    let all = files(&out);
    for (table, columns) in [
        ("events/", &["event_id", "timestamp", "end_time"][..]),
        ("truth/stays/", &["start", "end"][..]),
        ("truth/trips/", &["start", "end"][..]),
    ] {
        let name = all
            .keys()
            .find(|f| f.starts_with(table) && f.ends_with(".parquet"))
            .unwrap_or_else(|| panic!("no {table} file"));
        let reader = SerializedFileReader::new(File::open(out.join(name)).unwrap()).unwrap();
        let group = reader.metadata().row_group(0);
        for &column in columns {
            let chunk = group
                .columns()
                .iter()
                .find(|c| c.column_path().string() == column)
                .unwrap_or_else(|| panic!("{name}: no column {column}"));
            let encodings: Vec<Encoding> = chunk.encodings().collect();
            assert!(
                encodings.contains(&Encoding::DELTA_BINARY_PACKED)
                    && !encodings.contains(&Encoding::RLE_DICTIONARY)
                    && !encodings.contains(&Encoding::PLAIN_DICTIONARY),
                "{name} {column}: {encodings:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}
