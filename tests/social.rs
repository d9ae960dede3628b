//! Who calls whom: on-net calls are recorded at both ends, whatever the
//! parts; the contacts table and the bandicoot export agree with the log;
//! bad `[social]` values are refused by key.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};
use arrow::record_batch::RecordBatch;
use mobsynth::{Model, Options, Scenario, Table};

/// A call or text: (subscriber, type, time ms, duration ms, counterpart).
type Rec = (i64, String, i64, Option<i64>, String);

fn scenario() -> Scenario {
    let mut s = Scenario::bundled("default").expect("bundled default");
    (s.subscribers, s.days) = (800, 2);
    s
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = cast(b.column_by_name(name).expect(name), &DataType::Utf8).expect("to text");
    let s = c.as_string::<i32>();
    (0..s.len())
        .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
        .collect()
}

fn ints(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = cast(b.column_by_name(name).expect(name), &DataType::Int64).expect("to int64");
    let a = c.as_primitive::<Int64Type>();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect()
}

/// The calls and texts of part `part` of `parts`, in the order written.
fn calls(model: &Model, part: u32, parts: u32) -> Vec<Rec> {
    let generator = model.generator(Options { part, parts }).expect("a part");
    let mut out = Vec::new();
    for chunk in generator.chunks() {
        for (_, b) in chunk.table(Table::Events) {
            let kind = strings(b, "event_type");
            let sub = ints(b, "subscriber_id");
            let time = ints(b, "timestamp");
            let dur = ints(b, "duration_ms");
            let cp = strings(b, "counterpart");
            for i in 0..b.num_rows() {
                let k = kind[i].clone().unwrap_or_default();
                if k.starts_with("VOICE_") || k.starts_with("SMS_") {
                    out.push((
                        sub[i].unwrap_or(-1),
                        k,
                        time[i].unwrap_or(0),
                        dur[i],
                        cp[i].clone().unwrap_or_default(),
                    ));
                }
            }
        }
    }
    out
}

/// (twinned, unanswered, other unmatched) of on-net VOICE_MO records.
fn twins(records: &[Rec], msisdn: &HashMap<String, i64>) -> (usize, usize, Vec<Rec>) {
    let id_msisdn: HashMap<i64, &String> = msisdn.iter().map(|(m, &i)| (i, m)).collect();
    let mt: BTreeSet<(i64, String, i64, Option<i64>)> = records
        .iter()
        .filter(|r| r.1 == "VOICE_MT")
        .map(|r| (r.0, r.4.clone(), r.2, r.3))
        .collect();
    let (mut found, mut unanswered, mut missing) = (0, 0, Vec::new());
    for r in records.iter().filter(|r| r.1 == "VOICE_MO") {
        let Some(&callee) = msisdn.get(&r.4) else {
            continue;
        };
        let me = id_msisdn[&r.0].clone();
        if mt.contains(&(callee, me, r.2, r.3)) {
            found += 1;
        } else if r.3 == Some(0) {
            unanswered += 1;
        } else {
            missing.push(r.clone());
        }
    }
    (found, unanswered, missing)
}

#[test]
fn on_net_calls_have_their_twin_in_one_part_and_across_two() {
    let model = Model::build(scenario()).expect("model");
    let msisdn: HashMap<String, i64> = model
        .subscribers()
        .iter()
        .map(|s| (s.msisdn.to_string(), s.id.0 as i64))
        .collect();
    let whole = calls(&model, 0, 1);
    let (found, unanswered, missing) = twins(&whole, &msisdn);
    assert!(found > 500, "{found} on-net calls mirrored");
    // A callee away from the region records nothing; everyone else does.
    // People work, shop and visit beyond the map's edge, so on this map
    // about one answered on-net call in eight reaches a callee out there.
    let share = found as f64 / (found + unanswered + missing.len()) as f64;
    assert!(share > 0.8, "mirror share {share}: missing {missing:?}");
    // Each unmatched answered call is to a callee without any record at
    // that moment: the callee is off our network, not out of step.
    for r in &missing {
        let callee = msisdn[&r.4];
        assert!(
            !whole
                .iter()
                .any(|c| c.0 == callee && c.2 == r.2 && c.1 == "VOICE_MT"),
            "{r:?} has an MT at the callee that differs"
        );
    }
    // The same records, and so the same twins, from two parts.
    let mut union = calls(&model, 0, 2);
    union.extend(calls(&model, 1, 2));
    let sorted = |mut v: Vec<Rec>| {
        v.sort();
        v
    };
    assert_eq!(sorted(union.clone()), sorted(whole.clone()));
    let halves = twins(&union, &msisdn);
    assert_eq!((halves.0, halves.1), (found, unanswered));
    // And the twins really span the parts: some callers are in part 0 and
    // their callees in part 1.
    let split = model.subscribers().len() as i64 / 2;
    assert!(
        whole
            .iter()
            .filter(|r| r.1 == "VOICE_MO" && r.0 < split)
            .any(|r| msisdn.get(&r.4).is_some_and(|&c| c >= split))
    );
}

#[test]
fn contacts_are_each_pair_once_and_explain_the_on_net_log() {
    let model = Model::build(scenario()).expect("model");
    let generator = model.generator(Options::default()).expect("generator");
    let batch = generator
        .whole_table(Table::Contacts)
        .expect("contacts in part 0");
    let a = ints(&batch, "subscriber_a");
    let b = ints(&batch, "subscriber_b");
    let kind = strings(&batch, "kind");
    let mut pairs = BTreeSet::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..batch.num_rows() {
        let (x, y) = (a[i].unwrap_or(-1), b[i].unwrap_or(-1));
        assert!(0 <= x && x < y, "pair ({x}, {y}) not ordered");
        assert!(pairs.insert((x, y)), "pair ({x}, {y}) twice");
        *kinds
            .entry(kind[i].clone().unwrap_or_default())
            .or_default() += 1;
    }
    for k in ["household", "work", "social"] {
        assert!(
            kinds.get(k).copied().unwrap_or(0) > 0,
            "no {k} ties: {kinds:?}"
        );
    }
    // Every on-net call or text in the log is between two contacts.
    let msisdn: HashMap<String, i64> = model
        .subscribers()
        .iter()
        .map(|s| (s.msisdn.to_string(), s.id.0 as i64))
        .collect();
    let mut on_net = 0;
    for r in calls(&model, 0, 1) {
        if let Some(&o) = msisdn.get(&r.4) {
            on_net += 1;
            assert!(
                pairs.contains(&(r.0.min(o), r.0.max(o))),
                "{r:?} not a contact"
            );
        }
    }
    assert!(on_net > 1000);
    // Part 1 does not write the table again.
    let part1 = model
        .generator(Options { part: 1, parts: 2 })
        .expect("part 1");
    assert!(part1.whole_table(Table::Contacts).is_none());
}

#[test]
fn the_network_is_off_without_an_on_net_share_and_bad_values_name_their_key() {
    let mut s = scenario();
    s.social.on_net_share = 0.0;
    let model = Model::build(s).expect("model");
    assert!(model.social().is_empty());
    for (key, text) in [
        ("social.on_net_share", "[social]\non_net_share = 1.5\n"),
        (
            "social.distance_decay_alpha",
            "[social]\ndistance_decay_alpha = -2\n",
        ),
    ] {
        let toml = format!(
            "name = \"x\"\nseed = 1\nsubscribers = 10\ndays = 1\nstart = \"2026-03-02\"\ntimezone = \"Europe/Vaduz\"\n{text}"
        );
        let err = Scenario::parse(&toml, "bad.toml", None).expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains(key) && !msg.contains('\n'), "{msg}");
    }
}

#[test]
fn the_bandicoot_export_holds_both_sides_in_its_documented_format() {
    let dir = std::env::temp_dir().join(format!("mobsynth-social-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let out = dir.join("bc");
    let bin = env!("CARGO_BIN_EXE_mobsynth");
    let run = |args: &[&str]| {
        let o = Command::new(bin)
            .args(args)
            .output()
            .expect("mobsynth runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let p = |x: &PathBuf| x.to_str().expect("utf-8").to_string();
    run(&[
        "run",
        "default",
        "--subscribers",
        "400",
        "--days",
        "1",
        "-q",
        "-o",
        &p(&data),
    ]);
    run(&["export", "bandicoot", &p(&data), "-o", &p(&out)]);
    let antennas = std::fs::read_to_string(out.join("antennas.csv")).expect("antennas");
    let mut lines = antennas.lines();
    assert_eq!(lines.next(), Some("antenna_id,latitude,longitude"));
    let ids: BTreeSet<String> = lines
        .map(|l| l.split(',').next().unwrap_or("").to_string())
        .collect();
    let mut records: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for entry in std::fs::read_dir(out.join("records")).expect("records") {
        let path = entry.expect("entry").path();
        let user = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("file");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("interaction,direction,correspondent_id,datetime,call_duration,antenna_id")
        );
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        for r in &rows {
            assert_eq!(r.len(), 6, "{r:?}");
            assert!(r[0] == "call" || r[0] == "text", "{r:?}");
            assert!(r[1] == "in" || r[1] == "out", "{r:?}");
            assert!(!r[2].is_empty());
            // bandicoot parses `%Y-%m-%d %H:%M:%S`.
            let d = r[3].as_bytes();
            assert!(
                d.len() == 19 && d[4] == b'-' && d[7] == b'-' && d[10] == b' ' && d[13] == b':',
                "{r:?}"
            );
            if r[0] == "text" {
                assert!(r[4].is_empty(), "{r:?}");
            } else {
                assert!(r[4].parse::<u32>().is_ok(), "{r:?}");
            }
            assert!(ids.contains(&r[5]), "antenna {} unknown", r[5]);
        }
        records.insert(user, rows);
    }
    // Both sides: an out call to a user with a file has the matching in
    // record in that file, at the same time and duration.
    let mut mirrored = 0;
    for (user, rows) in &records {
        for r in rows.iter().filter(|r| r[0] == "call" && r[1] == "out") {
            if let Some(theirs) = records.get(&r[2])
                && theirs
                    .iter()
                    .any(|t| t[1] == "in" && &t[2] == user && t[3] == r[3] && t[4] == r[4])
            {
                mirrored += 1;
            }
        }
    }
    assert!(mirrored > 50, "{mirrored} reciprocated calls");
    // Written in blocks of a few users (each block reading the events
    // again), the files are the same, byte for byte.
    let blocks = dir.join("bc-blocks");
    let reader = mobsynth::reader::DatasetReader::open(&data).expect("dataset");
    let mut output = mobsynth::export::Output::create(&blocks, false).expect("output");
    mobsynth::export::bandicoot::export_in_blocks(&reader, &mut output, &mut Vec::new(), 50)
        .expect("export in blocks");
    for user in records.keys() {
        let rel = format!("records/{user}.csv");
        assert_eq!(
            std::fs::read(blocks.join(&rel)).expect("block file"),
            std::fs::read(out.join(&rel)).expect("whole file"),
            "{rel}"
        );
    }
    assert_eq!(
        std::fs::read_dir(blocks.join("records"))
            .expect("records")
            .count(),
        records.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn roamers_have_sparse_ties_and_their_on_net_calls_are_mirrored_when_both_are_here() {
    use mobsynth::reader::DatasetReader;
    use mobsynth::sink::tables::subscribers_schema;
    use mobsynth::validate::network::load;

    let dir = std::env::temp_dir().join(format!("mobsynth-roamers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    // Many roamers, so that their few ties carry enough calls to check.
    let toml = "name = \"roamers\"\nseed = 7\nsubscribers = 1500\ndays = 2\nstart = \"2026-03-02\"\ntimezone = \"Europe/Vaduz\"\n[population]\nroamer_share = 0.3\n";
    let file = dir.join("roamers.toml");
    std::fs::write(&file, toml).expect("scenario file");
    let data = dir.join("data");
    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/maps/liechtenstein.osm.pbf");
    let o = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(["run", file.to_str().expect("utf-8"), "-q", "--map"])
        .arg(&map)
        .arg("-o")
        .arg(&data)
        .output()
        .expect("mobsynth runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = load(&data).expect("dataset");
    let roamers: BTreeSet<u64> = d.roamers.iter().copied().collect();
    let residents: BTreeSet<u64> = d.members.iter().map(|m| m.id).collect();
    assert!(roamers.len() > 300, "{} roamers", roamers.len());

    // Sparse ties of two kinds: companions among roamers, hosts to residents.
    let mut degree: HashMap<u64, usize> = HashMap::new();
    let mut companions: HashMap<u64, usize> = HashMap::new();
    let (mut n_companion, mut n_host) = (0, 0);
    for (a, b, kind, w) in &d.contacts {
        assert!(*w > 0.0, "tie ({a}, {b}) without weight");
        let (ra, rb) = (roamers.contains(a), roamers.contains(b));
        match kind.as_str() {
            "companion" => {
                assert!(ra && rb, "companion tie ({a}, {b}) not between roamers");
                n_companion += 1;
                *companions.entry(*a).or_default() += 1;
                *companions.entry(*b).or_default() += 1;
            }
            "host" => {
                assert!(
                    (ra && residents.contains(b)) || (rb && residents.contains(a)),
                    "host tie ({a}, {b}) not between a roamer and a resident"
                );
                n_host += 1;
            }
            _ => assert!(!ra && !rb, "{kind} tie ({a}, {b}) with a roamer"),
        }
        for x in [a, b] {
            *degree.entry(*x).or_default() += 1;
        }
    }
    assert!(
        n_companion > 100 && n_host > 10,
        "{n_companion} companion, {n_host} host ties"
    );
    // A party is at most four: three companions each.
    assert!(companions.values().all(|&k| k <= 3));
    let mean = |set: &BTreeSet<u64>| {
        set.iter()
            .map(|x| degree.get(x).copied().unwrap_or(0))
            .sum::<usize>() as f64
            / set.len() as f64
    };
    let (roamer_mean, resident_mean) = (mean(&roamers), mean(&residents));
    assert!(
        roamer_mean > 0.5 && roamer_mean < resident_mean / 4.0,
        "ties per roamer {roamer_mean}, per resident {resident_mean}"
    );

    // Their on-net calls: with a twin at the callee when the callee is in
    // the region (or unanswered), and none when the callee is away, which
    // for a roamer includes the days before and after its visit.
    // Each roamer's visit, UTC ms, from the subscribers table and the
    // calendar (independently of the validator's spans).
    let reader = DatasetReader::open(&data).expect("dataset");
    let calendar = reader.calendar().expect("calendar");
    let day = |k: Option<i64>, end: bool| {
        let d = &calendar.days()[k.expect("a roamer's day") as usize];
        1000 * if end { d.end_utc } else { d.start_utc }
    };
    let mut visits: HashMap<u64, (i64, i64)> = HashMap::new();
    for b in reader
        .read("subscribers", subscribers_schema())
        .expect("subscribers")
    {
        let (id, first, last) = (
            ints(&b, "subscriber_id"),
            ints(&b, "first_day"),
            ints(&b, "last_day"),
        );
        let roamer = b.column_by_name("roamer").expect("roamer").as_boolean();
        for i in (0..b.num_rows()).filter(|&i| roamer.value(i)) {
            let id = id[i].expect("id") as u64;
            visits.insert(id, (day(first[i], false), day(last[i], true)));
        }
    }
    assert_eq!(visits.len(), roamers.len());
    let mt: BTreeSet<(u64, u64, i64, Option<i64>)> = d
        .calls
        .iter()
        .filter(|c| !c.text && !c.mo)
        .filter_map(|c| c.other.map(|o| (c.subscriber, o, c.time_ms, c.duration_ms)))
        .collect();
    let (mut here, mut mirrored, mut unanswered, mut away, mut roamer_mo) = (0, 0, 0, 0, 0);
    for c in d.calls.iter().filter(|c| !c.text && c.mo) {
        let Some(callee) = c.other else { continue };
        if !(roamers.contains(&c.subscriber) || roamers.contains(&callee)) {
            continue;
        }
        roamer_mo += usize::from(roamers.contains(&c.subscriber));
        let twin = mt.contains(&(callee, c.subscriber, c.time_ms, c.duration_ms));
        // Before or after a roamer's visit: no record at all. On a trip
        // across the edge the truth's span is the whole trip, and the
        // device is followed from the border, so a twin may or may not
        // exist.
        let outside_visit = visits
            .get(&callee)
            .is_some_and(|&(a, b)| c.time_ms < a || c.time_ms >= b);
        if d.is_away(callee, c.time_ms) {
            away += 1;
            assert!(
                !(outside_visit && twin),
                "{c:?}: a roamer away recorded the call"
            );
        } else {
            here += 1;
            if twin {
                mirrored += 1;
            } else {
                assert_eq!(c.duration_ms, Some(0), "{c:?} has no twin");
                unanswered += 1;
            }
        }
    }
    assert!(
        mirrored >= 20 && away >= 10 && roamer_mo >= 30,
        "{mirrored} mirrored of {here} ({unanswered} unanswered, {away} away); {roamer_mo} made by roamers"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
