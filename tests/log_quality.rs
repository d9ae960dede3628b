//! Dirty logs (`[log_quality]`): every fault the records show is labelled in
//! `truth/log_faults`, and every label is seen in the records (recomputed
//! from the events and the cell plan, not from the fault model); rates are
//! those configured within sampling error; parts and threads give the same
//! bytes; the stream delivers records in order of arrival, duplicates
//! twice, with a key per line when asked; a cleaning step is scored.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use common::{i64s, mobsynth, ms, strings};
use mobsynth::{Model, Options, Scenario, Table};

const SCENARIO: &str = "scenarios/dirty-logs.toml";

fn scenario(subscribers: u32) -> Scenario {
    let mut s = Scenario::from_file(Path::new(SCENARIO)).unwrap();
    s.subscribers = subscribers;
    s.days = 1;
    s
}

fn scratch(name: &str) -> PathBuf {
    let dir = common::temp(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One record of `events`: (event id, timestamp, subscriber, cell, received_at).
type Row = (i64, i64, i64, Option<i64>, i64);
/// One row of `truth/log_faults`: (event id, subscriber, fault, shift_ms).
type FaultRow = (i64, i64, String, Option<i64>);

fn generate(s: Scenario, part: u32, parts: u32) -> (Vec<Row>, Vec<FaultRow>, HashSet<i64>) {
    let model = Model::build(s).unwrap();
    let plan: HashSet<i64> = model
        .network()
        .cells()
        .iter()
        .map(|c| c.id.0 as i64)
        .collect();
    let g = model.generator(Options { part, parts }).unwrap();
    let (mut rows, mut faults) = (Vec::new(), Vec::new());
    for chunk in g.chunks() {
        for (_, b) in chunk.table(Table::Events) {
            let (id, t, sub, cell, rx) = (
                i64s(b, "event_id"),
                ms(b, "timestamp"),
                i64s(b, "subscriber_id"),
                i64s(b, "cell_id"),
                ms(b, "received_at"),
            );
            for i in 0..b.num_rows() {
                rows.push((id[i].unwrap(), t[i], sub[i].unwrap(), cell[i], rx[i]));
            }
        }
        for (_, b) in chunk.table(Table::LogFaults) {
            let (id, sub, fault, shift) = (
                i64s(b, "event_id"),
                i64s(b, "subscriber_id"),
                strings(b, "fault"),
                i64s(b, "shift_ms"),
            );
            for i in 0..b.num_rows() {
                faults.push((id[i].unwrap(), sub[i].unwrap(), fault[i].clone(), shift[i]));
            }
        }
    }
    (rows, faults, plan)
}

/// Binomial bounds: `k` of `n` trials at `p`, within five standard errors.
#[track_caller]
fn within_sampling_error(what: &str, k: usize, n: usize, p: f64) {
    let (k, n) = (k as f64, n as f64);
    let sd = (n * p * (1.0 - p)).sqrt().max(1.0);
    assert!(
        (k - n * p).abs() <= 5.0 * sd,
        "{what}: {k} of {n}, expected {:.1} ± {:.1}",
        n * p,
        5.0 * sd
    );
}

#[test]
fn every_fault_is_labelled_and_every_label_is_in_the_records() {
    let s = scenario(600);
    let params = s.log_quality.clone().unwrap();
    let (rows, faults, plan) = generate(s, 0, 1);
    let mut by_fault: BTreeMap<&str, HashMap<i64, Option<i64>>> = BTreeMap::new();
    for (id, _, fault, shift) in &faults {
        by_fault
            .entry(fault.as_str())
            .or_default()
            .insert(*id, *shift);
    }
    let labelled = |f: &str, id: i64| by_fault.get(f).is_some_and(|m| m.contains_key(&id));
    let shift = |f: &str, id: i64| by_fault.get(f).and_then(|m| m.get(&id).copied().flatten());

    // Duplicates: an id written twice, exactly the labelled ones.
    let mut copies: HashMap<i64, usize> = HashMap::new();
    for r in &rows {
        *copies.entry(r.0).or_default() += 1;
    }
    let events = copies.len();
    for (id, n) in &copies {
        assert!(*n <= 2, "event {id} written {n} times");
        assert_eq!(*n == 2, labelled("duplicate", *id), "event {id}");
    }
    // Cells: a missing or unknown cell in the records is labelled, and the
    // other records' cells are in the plan.
    for r in &rows {
        match r.3 {
            None => assert!(labelled("missing_cell", r.0), "event {} has no cell", r.0),
            Some(c) => assert_eq!(
                !plan.contains(&c),
                labelled("unknown_cell", r.0),
                "event {}",
                r.0
            ),
        }
    }
    // Arrival: received_at minus the true time (timestamp less the clock
    // offset) is the labelled delay; 0 for a record on time. A duplicate's
    // second copy comes its own delay after the first.
    let mut first_seen = HashSet::new();
    for r in &rows {
        let offset = shift("clock_offset", r.0).unwrap_or(0);
        let true_time = r.1 - offset;
        let delay = shift("late", r.0)
            .or(shift("out_of_order", r.0))
            .unwrap_or(0);
        let expected = if first_seen.insert(r.0) {
            delay
        } else {
            delay + shift("duplicate", r.0).unwrap()
        };
        assert_eq!(r.4 - true_time, expected, "event {}", r.0);
    }
    // Clock offsets are per subscriber: all of a subscriber's events or none.
    let mut offset_subs: HashMap<i64, (usize, usize)> = HashMap::new();
    for r in rows.iter() {
        let e = offset_subs.entry(r.2).or_default();
        e.0 += 1;
        e.1 += usize::from(labelled("clock_offset", r.0));
    }
    let offset_count = offset_subs.values().filter(|(_, k)| *k > 0).count();
    assert!(offset_subs.values().all(|(n, k)| *k == 0 || k == n));
    for (id, _, f, shift) in &faults {
        if f == "clock_offset" {
            assert_eq!(
                shift.unwrap().abs(),
                (params.clock_offset_s * 1000.0) as i64,
                "{id}"
            );
        }
    }

    // Rates within sampling error of the configuration. Out-of-order is
    // drawn only for records that are not late.
    let count = |f: &str| by_fault.get(f).map_or(0, HashMap::len);
    within_sampling_error(
        "duplicate",
        count("duplicate"),
        events,
        params.duplicate_rate,
    );
    within_sampling_error("late", count("late"), events, params.late_rate);
    within_sampling_error(
        "out_of_order",
        count("out_of_order"),
        events - count("late"),
        params.out_of_order_rate,
    );
    within_sampling_error(
        "unknown_cell",
        count("unknown_cell"),
        events,
        params.unknown_cell_rate,
    );
    within_sampling_error(
        "missing_cell",
        count("missing_cell"),
        events - count("unknown_cell"),
        params.missing_cell_rate,
    );
    within_sampling_error(
        "clock_offset subscribers",
        offset_count,
        offset_subs.len(),
        params.clock_offset_share,
    );
    assert!(count("late") > 0 && count("duplicate") > 0 && count("unknown_cell") > 0);
}

#[test]
fn parts_make_the_same_records_as_the_whole_run() {
    let (mut whole, mut whole_faults, _) = generate(scenario(120), 0, 1);
    let (mut parts, mut parts_faults) = (Vec::new(), Vec::new());
    for p in 0..3 {
        let (r, f, _) = generate(scenario(120), p, 3);
        parts.extend(r);
        parts_faults.extend(f);
    }
    for v in [&mut whole, &mut parts] {
        v.sort();
    }
    for v in [&mut whole_faults, &mut parts_faults] {
        v.sort();
    }
    assert_eq!(whole, parts);
    assert_eq!(whole_faults, parts_faults);
}

#[test]
fn threads_write_the_same_bytes_and_a_clean_run_has_no_fault_column() {
    let dir = scratch("threads");
    let manifests: Vec<String> = ["1", "2"]
        .iter()
        .map(|t| {
            let out = dir.join(format!("t{t}"));
            let o = mobsynth(&[
                "run",
                SCENARIO,
                "--subscribers",
                "150",
                "--days",
                "1",
                "--threads",
                t,
                "-q",
                "-o",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let m: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap())
                    .unwrap();
            m["files"].to_string()
        })
        .collect();
    assert_eq!(manifests[0], manifests[1]);
    assert!(manifests[0].contains("truth/log_faults"));
    // The CI fixture, without the section, has neither the table nor the column.
    let clean = dir.join("clean");
    let o = mobsynth(&[
        "run",
        "ci-fixture",
        "--subscribers",
        "20",
        "-q",
        "-o",
        clean.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let reader = mobsynth::reader::DatasetReader::open(&clean).unwrap();
    assert!(!reader.has_table("truth/log_faults"));
    let b = reader.read("events", Table::Events.schema()).unwrap();
    assert!(b[0].column_by_name("received_at").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_stream_delivers_in_order_of_arrival_with_duplicates_and_keys() {
    let o = mobsynth(&[
        "run",
        SCENARIO,
        "--subscribers",
        "150",
        "--days",
        "1",
        "--stdout",
        "--key",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let (mut last_rx, mut overtaken, mut ids) = (String::new(), 0, HashMap::<i64, usize>::new());
    let mut latest_event = String::new();
    for line in text.lines() {
        let (key, json) = line.split_once('\t').expect("key<TAB>json");
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(key, v["subscriber_id"].to_string());
        let rx = v["received_at"].as_str().unwrap().to_string();
        let ts = v["timestamp"].as_str().unwrap().to_string();
        // RFC 3339 in UTC with the same layout compares as text, except that
        // whole seconds have no fraction: compare the first 19 characters.
        assert!(
            rx[..19] >= last_rx[..last_rx.len().min(19)],
            "{rx} after {last_rx}"
        );
        if ts[..19] < latest_event[..latest_event.len().min(19)] {
            overtaken += 1;
        }
        latest_event = latest_event.max(ts);
        last_rx = rx;
        *ids.entry(v["event_id"].as_i64().unwrap()).or_default() += 1;
    }
    assert!(overtaken > 0, "no record arrived after later ones");
    assert!(
        ids.values().any(|n| *n == 2),
        "no duplicate delivered twice"
    );
}

#[test]
fn a_cleaning_step_is_scored_against_the_truth() {
    let dir = scratch("score");
    let out = dir.join("data");
    let o = mobsynth(&[
        "run",
        SCENARIO,
        "--subscribers",
        "100",
        "--days",
        "1",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let reader = mobsynth::reader::DatasetReader::open(&out).unwrap();
    let mut faulty = HashSet::new();
    for b in reader
        .read("truth/log_faults", Table::LogFaults.schema())
        .unwrap()
    {
        faulty.extend(i64s(&b, "event_id").into_iter().flatten());
    }
    // Half the faulty ids and as many clean ones: precision 0.5, recall 0.5.
    let mut flagged: Vec<i64> = faulty.iter().copied().collect();
    flagged.sort();
    flagged.truncate(faulty.len() / 2);
    let half = flagged.len();
    let mut clean = 0;
    for b in reader.read("events", Table::Events.schema()).unwrap() {
        for id in i64s(&b, "event_id").into_iter().flatten() {
            if clean < half && !faulty.contains(&id) && !flagged.contains(&id) {
                flagged.push(id);
                clean += 1;
            }
        }
    }
    let file = dir.join("flagged.csv");
    let text: String = std::iter::once("event_id".to_string())
        .chain(flagged.iter().map(i64::to_string))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&file, text).unwrap();
    let score = mobsynth::log_quality::score::score(
        &reader,
        &mobsynth::log_quality::score::read_flagged(&file).unwrap(),
    )
    .unwrap();
    assert_eq!(score.precision(), 0.5);
    assert_eq!(score.true_positives as usize, half);
    assert_eq!(score.faulty as usize, faulty.len());
    let o = mobsynth(&[
        "score-cleaning",
        out.to_str().unwrap(),
        "--flagged",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("precision 0.5000"));
    // The validator reads a dirty log as a minimal cleaner would.
    let o = mobsynth(&["validate", out.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("not in the cells table"));
    let _ = std::fs::remove_dir_all(&dir);
}
