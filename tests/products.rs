//! Zone products, the reference pipeline and scoring: known answers on a
//! crafted two-person dataset (across a midnight and the night clocks go
//! back), an independent recomputation of `footfall` and `od` on a real
//! run, and scoring's known answers through the command line.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use arrow::array::AsArray;
use arrow::datatypes::DataType;
use common::{floats, ints, mobsynth, read_parquet, strings, temp};
use mobsynth::products::{ProductOptions, Products, Source, truth};
use mobsynth::reader::{DatasetReader, column_f64, column_i64, column_ms, column_str};
use mobsynth::sink::tables::{stays_schema, subscribers_schema, trips_schema};
use mobsynth::zones::Zoning;

/// zone, local day, hour, age band, sex.
type FootfallKey = (String, i32, u8, String, String);
/// origin, destination, local day, hour, mode, trips.
type OdRow = (String, String, i32, u8, Option<String>, i64);
/// origin, destination, local day, hour, mode.
type OdKey = (String, String, i64, i64, String);

// ---------------------------------------------------------------------------
// A crafted dataset, written by hand in the mobsynth layout (CSV).

const ZONES_GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"name":"A"},"geometry":{"type":"Polygon","coordinates":[[[9.40,47.05],[9.55,47.05],[9.55,47.15],[9.40,47.15],[9.40,47.05]]]}},
 {"type":"Feature","properties":{"name":"B"},"geometry":{"type":"Polygon","coordinates":[[[9.55,47.15],[9.70,47.15],[9.70,47.25],[9.55,47.25],[9.55,47.15]]]}}
]}"#;

const A: (f64, f64) = (9.50, 47.10);
const B: (f64, f64) = (9.60, 47.20);
const NOWHERE: (f64, f64) = (9.00, 46.00);

fn write_file(dir: &Path, rel: &str, text: &str, table: &str, files: &mut Vec<serde_json::Value>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    files.push(serde_json::json!({
        "path": rel, "table": table, "rows": text.lines().count() - 1,
        "bytes": text.len(), "sha256": "",
    }));
}

/// Two people around the night of 25 October 2026, when Europe/Vaduz goes
/// from UTC+2 to UTC+1 at 01:00 UTC, and a meter that must not count.
fn crafted_dataset() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(write_crafted_dataset).clone()
}

fn write_crafted_dataset() -> PathBuf {
    let dir = temp("crafted");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let subs = "subscriber_id,imsi,msisdn,imei,age,sex,occupation,has_car,device,contract,roamer,home_mcc,home_mnc,first_day,last_day,home_place_id,home_lon,home_lat,anchor_place_id,anchor_lon,anchor_lat\n";
    let subs = format!(
        "{subs}1,001010000000001,1,001,30,F,employed,true,smartphone,postpaid,false,1,1,,,1,{},{},2,{},{}\n\
         2,001010000000002,2,002,70,M,retired,false,smartphone,postpaid,false,1,1,,,1,{},{},,,\n\
         3,001010000000003,3,003,40,M,other,false,iot,postpaid,false,1,1,,,3,{},{},,,\n",
        A.0, A.1, B.0, B.1, A.0, A.1, B.0, B.1
    );
    write_file(&dir, "subscribers.csv", &subs, "subscribers", &mut files);
    let cells = "cell_id,site_id,mcc,mnc,technology,tac,lon,lat,azimuth_deg,height_m,power_dbm,gain_dbi,tilt_deg,h_beamwidth_deg,v_beamwidth_deg,path_loss_exponent,environment\n";
    let cells = format!(
        "{cells}1,1,1,1,LTE,1,{},{},,25,43,15,6,65,10,3.6,urban\n2,2,1,1,LTE,1,{},{},,25,43,15,6,65,10,3.6,urban\n",
        A.0, A.1, B.0, B.1
    );
    write_file(&dir, "cells.csv", &cells, "cells", &mut files);
    let stay = |sub: u32, start: &str, end: &str, (lon, lat): (f64, f64)| {
        format!("{sub},2026-10-{start}Z,2026-10-{end}Z,home,1,{lon},{lat},false\n")
    };
    let header = "subscriber_id,start,end,activity,place_id,lon,lat,out_of_area\n";
    // Partitions by the local date a stay starts on.
    let day24 = [
        // Person 1 at A from 22:00 local (CEST) through midnight and the
        // clock change until 03:30 local (CET).
        stay(1, "24T20:00:00.000", "25T02:30:00.000", A),
        // Person 2: ten minutes at A (no visit), then 80 minutes across
        // midnight.
        stay(2, "24T21:10:00.000", "24T21:20:00.000", A),
        stay(2, "24T21:50:00.000", "24T23:10:00.000", A),
        stay(3, "24T20:00:00.000", "24T23:00:00.000", B),
    ]
    .concat();
    let day25 = [
        // Person 1: fifteen minutes at B, then back at A in the same local
        // hour as the stay of the day before ended: one visitor, two visits.
        stay(1, "25T02:35:00.000", "25T02:50:00.000", B),
        stay(1, "25T02:55:00.000", "25T03:30:00.000", A),
        stay(2, "25T04:00:00.000", "25T05:00:00.000", NOWHERE),
    ]
    .concat();
    write_file(
        &dir,
        "truth/stays/date=2026-10-24/part-00000.csv",
        &format!("{header}{day24}"),
        "truth/stays",
        &mut files,
    );
    write_file(
        &dir,
        "truth/stays/date=2026-10-25/part-00000.csv",
        &format!("{header}{day25}"),
        "truth/stays",
        &mut files,
    );
    let trips = "subscriber_id,start,end,mode,distance_m,origin_place_id,destination_place_id,origin_activity,destination_activity,origin_lon,origin_lat,destination_lon,destination_lat,origin_out_of_area,destination_out_of_area\n";
    let trips = format!(
        "{trips}1,2026-10-25T02:30:00.000Z,2026-10-25T02:35:00.000Z,walk,100,1,2,home,work,{},{},{},{},false,false\n\
         1,2026-10-25T02:50:00.000Z,2026-10-25T02:55:00.000Z,walk,100,2,1,work,home,{},{},{},{},false,false\n",
        A.0, A.1, B.0, B.1, B.0, B.1, A.0, A.1
    );
    write_file(
        &dir,
        "truth/trips/date=2026-10-25/part-00000.csv",
        &trips,
        "truth/trips",
        &mut files,
    );
    let manifest = serde_json::json!({
        "generator": "mobsynth", "version": "0.1.0", "schema_version": 1,
        "scenario_name": "crafted", "seed": 1, "part": 0, "parts": 1, "format": "csv",
        "compression": "zstd", "completed": true, "synthetic": true, "attribution": "",
        "period_start": "2026-10-23T22:00:00Z", "period_end": "2026-10-25T23:00:00Z",
        "timezone": "Europe/Vaduz", "tables": {}, "files": files,
        // The two local days around the clock change, which the reader's
        // calendar rebuilds from the scenario.
        "scenario": "name = \"crafted\"\nseed = 1\nstart = \"2026-10-24\"\ndays = 2\nsubscribers = 2\ntimezone = \"Europe/Vaduz\"\n",
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(dir.join("zones.geojson"), ZONES_GEOJSON).unwrap();
    dir
}

fn crafted_products() -> (Products, Zoning, PathBuf) {
    let dir = crafted_dataset();
    let source = Source::open(&dir).unwrap();
    let zoning = Zoning::parse(
        dir.join("zones.geojson").to_str().unwrap(),
        Some("name"),
        (0.0, 0.0),
    )
    .unwrap();
    let p = truth(&source, &zoning, &ProductOptions::default()).unwrap();
    (p, zoning, dir)
}

/// `day` of October 2026 as days since 1970-01-01.
fn october(day: i32) -> i32 {
    mobsynth::products::clock::day_of(&format!("2026-10-{day:02}")).unwrap()
}

#[test]
fn footfall_of_the_crafted_pair_matches_hand_counts_across_midnight_and_the_clock_change() {
    let (p, zoning, _) = crafted_products();
    let mut got: BTreeMap<FootfallKey, (i64, i64, i64)> = BTreeMap::new();
    for (k, c) in &p.footfall {
        got.insert(
            (
                zoning.key(k.zone),
                k.when.day,
                k.when.hour,
                mobsynth::products::AGE_BANDS[k.band as usize].2.to_string(),
                mobsynth::products::SEXES[k.sex as usize].to_string(),
            ),
            (c.visitors, c.visits, c.dwell_ms / 60_000),
        );
    }
    let f = |z: &str, day, hour, band: &str, sex: &str| {
        (
            z.to_string(),
            october(day),
            hour,
            band.to_string(),
            sex.to_string(),
        )
    };
    let expected = BTreeMap::from([
        // Person 1 at A: 22 and 23 h of the 24th, then 00, 01 h (CEST), 02 h
        // twice (01:00 UTC is 02:00 CET): one visitor, one visit, 120
        // minutes; 03 h: the end of the first stay and the third, one
        // visitor and two visits; 04 h.
        (f("A", 24, 22, "25-34", "F"), (1, 1, 60)),
        (f("A", 24, 23, "25-34", "F"), (1, 1, 60)),
        (f("A", 25, 0, "25-34", "F"), (1, 1, 60)),
        (f("A", 25, 1, "25-34", "F"), (1, 1, 60)),
        (f("A", 25, 2, "25-34", "F"), (1, 1, 120)),
        (f("A", 25, 3, "25-34", "F"), (1, 2, 35)),
        (f("A", 25, 4, "25-34", "F"), (1, 1, 30)),
        (f("B", 25, 3, "25-34", "F"), (1, 1, 15)),
        // Person 2's 80 minutes; the ten before are no visit.
        (f("A", 24, 23, "65+", "M"), (1, 1, 10)),
        (f("A", 25, 0, "65+", "M"), (1, 1, 60)),
        (f("A", 25, 1, "65+", "M"), (1, 1, 10)),
        // An hour in no polygon: 05:00 and 06:00 CET.
        (f("outside", 25, 5, "65+", "M"), (1, 1, 60)),
    ]);
    assert_eq!(got, expected);
}

#[test]
fn presence_and_the_rest_of_the_crafted_pair_match_hand_counts() {
    let (p, zoning, _) = crafted_products();
    let utc = |day: i32, hour: i64| october(day) as i64 * 86_400_000 + hour * 3_600_000;
    let got: BTreeMap<(String, i64), (i64, i64)> = p
        .presence
        .iter()
        .map(|(&(h, z), c)| ((zoning.key(z), h), (c.people, c.person_ms / 60_000)))
        .collect();
    let expected = BTreeMap::from([
        (("A".to_string(), utc(24, 20)), (1, 60)),
        // Person 1's hour and person 2's 10 + 10 minutes, none at 21:30.
        (("A".to_string(), utc(24, 21)), (1, 80)),
        (("A".to_string(), utc(24, 22)), (2, 120)),
        (("A".to_string(), utc(24, 23)), (1, 70)),
        (("A".to_string(), utc(25, 0)), (1, 60)),
        (("A".to_string(), utc(25, 1)), (1, 60)),
        // Stays end before the half hour or begin after it.
        (("A".to_string(), utc(25, 2)), (0, 35)),
        (("A".to_string(), utc(25, 3)), (0, 30)),
        (("B".to_string(), utc(25, 2)), (0, 15)),
        (("outside".to_string(), utc(25, 4)), (1, 60)),
    ]);
    assert_eq!(got, expected);
    // Trips leave at 03:30 and 03:50 CET on the 25th.
    let od: Vec<OdRow> =
        p.od.iter()
            .map(|(k, &n)| {
                (
                    zoning.key(k.origin),
                    zoning.key(k.destination),
                    k.when.day,
                    k.when.hour,
                    k.mode.clone(),
                    n,
                )
            })
            .collect();
    let walk = Some("walk".to_string());
    assert_eq!(
        od,
        vec![
            ("A".into(), "B".into(), october(25), 3, walk.clone(), 1),
            ("B".into(), "A".into(), october(25), 3, walk, 1),
        ]
    );
    let hw: Vec<(i64, Option<String>, Option<String>)> = p
        .home_work
        .iter()
        .map(|(&s, h)| {
            (
                s,
                h.home.map(|z| zoning.key(z)),
                h.work.map(|z| zoning.key(z)),
            )
        })
        .collect();
    assert_eq!(
        hw,
        vec![
            (1, Some("A".into()), Some("B".into())),
            (2, Some("A".into()), None)
        ]
    );
    assert_eq!(p.commute().len(), 1);
    // Visits by start date: person 1's 390 and person 2's 80 minutes on the
    // 24th at A: the median is 235.
    let a24 = p.dwell[&(zoning.parse_key("A").unwrap(), october(24))];
    assert_eq!(a24.stays, 2);
    assert_eq!(a24.quantiles[2], 235.0);
    assert_eq!(a24.quantiles[0], 80.0 + 0.1 * 310.0);
}

// ---------------------------------------------------------------------------
// A real run, shared by the tests below.

fn small_run() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp("run");
        let out = mobsynth(&[
            "run",
            "--subscribers",
            "300",
            "--days",
            "2",
            "--quiet",
            "-o",
            dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn flags(b: &arrow::record_batch::RecordBatch, name: &str) -> Vec<bool> {
    b.column_by_name(name)
        .unwrap()
        .as_boolean()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

/// H3 cell of a point, by the crate directly.
fn h3(lon: f64, lat: f64) -> String {
    h3o::LatLng::new(lat, lon)
        .unwrap()
        .to_cell(h3o::Resolution::Eight)
        .to_string()
}

#[test]
fn footfall_and_od_of_a_run_equal_a_recomputation_over_the_rows() {
    let data = small_run();
    let out = temp("truth-h3");
    let o = mobsynth(&[
        "products",
        data.to_str().unwrap(),
        "--zones",
        "h3:8",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A second run into the same place is refused without --overwrite.
    let again = mobsynth(&[
        "products",
        data.to_str().unwrap(),
        "--zones",
        "h3:8",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));

    let reader = DatasetReader::open(data).unwrap();
    let tz = jiff::tz::TimeZone::get(&reader.manifest().timezone).unwrap();
    // Local date (days since 1970) and hour of an instant, by jiff's own
    // zoned arithmetic.
    let local = |ms: i64| {
        let z = jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .to_zoned_datetime(tz.clone());
        let days = z
            .date()
            .since((jiff::Unit::Day, jiff::civil::date(1970, 1, 1)))
            .unwrap()
            .get_days();
        (days, z.hour() as i64)
    };
    let sp = data.join("subscribers");
    let mut who: BTreeMap<i64, (String, String)> = BTreeMap::new();
    for b in reader.read("subscribers", subscribers_schema()).unwrap() {
        let (id, age) = (
            column_i64(&b, "subscriber_id", &sp).unwrap(),
            column_i64(&b, "age", &sp).unwrap(),
        );
        let (sex, device) = (
            column_str(&b, "sex", &sp).unwrap(),
            column_str(&b, "device", &sp).unwrap(),
        );
        for i in 0..b.num_rows() {
            if device[i] == "iot" {
                continue;
            }
            let band = match age[i] {
                ..=17 => "0-17",
                18..=24 => "18-24",
                25..=34 => "25-34",
                35..=44 => "35-44",
                45..=54 => "45-54",
                55..=64 => "55-64",
                _ => "65+",
            };
            who.insert(id[i], (band.to_string(), sex[i].clone()));
        }
    }
    // footfall: every (key, subscriber), every (key, visit), minutes.
    type Key = (String, i64, i64, String, String);
    let mut visitors: BTreeSet<(Key, i64)> = BTreeSet::new();
    let mut visits: BTreeSet<(Key, i64, i64)> = BTreeSet::new();
    let mut dwell: BTreeMap<Key, i64> = BTreeMap::new();
    let stp = data.join("truth/stays");
    for b in reader.read("truth/stays", stays_schema()).unwrap() {
        let sub = column_i64(&b, "subscriber_id", &stp).unwrap();
        let (start, end) = (
            column_ms(&b, "start", &stp).unwrap(),
            column_ms(&b, "end", &stp).unwrap(),
        );
        let (lon, lat) = (
            column_f64(&b, "lon", &stp).unwrap(),
            column_f64(&b, "lat", &stp).unwrap(),
        );
        let beyond = flags(&b, "out_of_area");
        for i in 0..b.num_rows() {
            let Some((band, sex)) = who.get(&sub[i]) else {
                continue;
            };
            if end[i] - start[i] < 15 * 60_000 {
                continue;
            }
            // Beyond the map's edge is `outside` whatever the zoning.
            let zone = if beyond[i] {
                "outside".to_string()
            } else {
                h3(lon[i], lat[i])
            };
            // Minute by minute: a different walk from the products' hours.
            let mut t = start[i];
            while t < end[i] {
                let next = ((t / 60_000) + 1) * 60_000;
                let step = next.min(end[i]) - t;
                let (day, hour) = local(t);
                let key = (zone.clone(), day as i64, hour, band.clone(), sex.clone());
                visitors.insert((key.clone(), sub[i]));
                visits.insert((key.clone(), sub[i], start[i]));
                *dwell.entry(key).or_insert(0) += step;
                t = next;
            }
        }
    }
    let mut expected: BTreeMap<Key, (i64, i64, f64)> = BTreeMap::new();
    for (k, _) in &visitors {
        expected.entry(k.clone()).or_insert((0, 0, 0.0)).0 += 1;
    }
    for (k, _, _) in &visits {
        expected.get_mut(k).unwrap().1 += 1;
    }
    for (k, ms) in &dwell {
        expected.get_mut(k).unwrap().2 = *ms as f64 / 60_000.0;
    }
    // People work and shop beyond the map's edge on this map.
    assert!(expected.keys().any(|k| k.0 == "outside"));
    let mut got: BTreeMap<Key, (i64, i64, f64)> = BTreeMap::new();
    for b in read_parquet(&out.join("footfall.parquet")) {
        let (zone, date, hour) = (strings(&b, "zone"), ints(&b, "date"), ints(&b, "hour"));
        let (band, sex) = (strings(&b, "age_band"), strings(&b, "sex"));
        let (v, n, d) = (
            ints(&b, "visitors"),
            ints(&b, "visits"),
            floats(&b, "dwell_minutes"),
        );
        for i in 0..b.num_rows() {
            got.insert(
                (
                    zone[i].clone(),
                    date[i],
                    hour[i],
                    band[i].clone(),
                    sex[i].clone(),
                ),
                (v[i], n[i], d[i]),
            );
        }
    }
    assert!(expected.len() > 500, "{} footfall rows", expected.len());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (k, e) in &expected {
        let g = got[k];
        assert_eq!((g.0, g.1), (e.0, e.1), "{k:?}");
        assert!((g.2 - e.2).abs() < 1e-6, "{k:?}: {} vs {}", g.2, e.2);
    }

    // od from the trips' rows.
    let mut od: BTreeMap<OdKey, i64> = BTreeMap::new();
    let tp = data.join("truth/trips");
    for b in reader.read("truth/trips", trips_schema()).unwrap() {
        let sub = column_i64(&b, "subscriber_id", &tp).unwrap();
        let start = column_ms(&b, "start", &tp).unwrap();
        let mode = column_str(&b, "mode", &tp).unwrap();
        let (ol, oa) = (
            column_f64(&b, "origin_lon", &tp).unwrap(),
            column_f64(&b, "origin_lat", &tp).unwrap(),
        );
        let (dl, da) = (
            column_f64(&b, "destination_lon", &tp).unwrap(),
            column_f64(&b, "destination_lat", &tp).unwrap(),
        );
        let (ob, db) = (
            flags(&b, "origin_out_of_area"),
            flags(&b, "destination_out_of_area"),
        );
        let zone = |beyond: bool, lon: f64, lat: f64| {
            if beyond {
                "outside".to_string()
            } else {
                h3(lon, lat)
            }
        };
        for i in 0..b.num_rows() {
            if !who.contains_key(&sub[i]) {
                continue;
            }
            let (day, hour) = local(start[i]);
            *od.entry((
                zone(ob[i], ol[i], oa[i]),
                zone(db[i], dl[i], da[i]),
                day as i64,
                hour,
                mode[i].clone(),
            ))
            .or_insert(0) += 1;
        }
    }
    let mut got = BTreeMap::new();
    for b in read_parquet(&out.join("od.parquet")) {
        let (o, d, date, hour) = (
            strings(&b, "origin_zone"),
            strings(&b, "destination_zone"),
            ints(&b, "date"),
            ints(&b, "departure_hour"),
        );
        let (mode, trips) = (strings(&b, "mode"), ints(&b, "trips"));
        for i in 0..b.num_rows() {
            got.insert(
                (
                    o[i].clone(),
                    d[i].clone(),
                    date[i],
                    hour[i],
                    mode[i].clone(),
                ),
                trips[i],
            );
        }
    }
    assert!(od.len() > 100, "{} od rows", od.len());
    assert_eq!(got, od);
}

fn score_json(args: &[&str]) -> (Output, serde_json::Value) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let json = temp(&format!("score-{n}.json"));
    let mut all: Vec<&str> = vec!["score"];
    all.extend(args);
    all.extend(["--json", json.to_str().unwrap()]);
    let o = mobsynth(&all);
    let v = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (o, v)
}

#[test]
fn the_truth_scores_perfectly_and_the_baseline_is_gated() {
    let data = small_run();
    let truth_dir = temp("truth-grid");
    let d = data.to_str().unwrap();
    let o = mobsynth(&[
        "products",
        d,
        "--zones",
        "grid:1000",
        "-o",
        truth_dir.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = |name: &str| format!("{name}={}", truth_dir.join(format!("{name}.csv")).display());
    let products: Vec<String> = [
        "presence",
        "footfall",
        "od",
        "commute",
        "home_work",
        "dwell",
    ]
    .iter()
    .map(|n| t(n))
    .collect();
    let mut args: Vec<&str> = vec![d, "--zones", "grid:1000", "--max-wape", "0"];
    for p in &products {
        args.extend(["--product", p.as_str()]);
    }
    let (o, v) = score_json(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let columns = v["columns"].as_array().unwrap();
    assert!(columns.len() >= 8);
    for c in columns {
        assert_eq!(c["wape"], 0.0, "{c}");
        assert_eq!(c["bias"], 0.0, "{c}");
        assert!((c["spearman"].as_f64().unwrap() - 1.0).abs() < 1e-12, "{c}");
        if !c["cpc"].is_null() {
            assert_eq!(c["cpc"], 1.0, "{c}");
            assert_eq!(c["nrmse"], 0.0, "{c}");
        }
    }
    assert_eq!(v["home_work"]["home_right_share"], 1.0);
    assert_eq!(v["home_work"]["work_right_share"], 1.0);
    assert_eq!(v["home_work"]["home_median_error_m"], 0.0);
    // The truth read back from the products' files scores the same.
    let truth_arg = truth_dir.to_str().unwrap();
    let mut with_files = args.clone();
    with_files.extend(["--truth", truth_arg]);
    let (o, from_files) = score_json(&with_files);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(from_files["columns"], v["columns"]);
    assert_eq!(from_files["home_work"], v["home_work"]);
    // Truth made on other zones is refused.
    let mut other = args.clone();
    other[2] = "grid:500";
    other.extend(["--truth", truth_arg]);
    let (o, _) = score_json(&other);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("products.json: `zones`"));
    // Truth of another dataset is refused.
    let mut other = args.clone();
    let crafted = crafted_dataset();
    other[0] = crafted.to_str().unwrap();
    other.extend(["--truth", truth_arg]);
    let (o, _) = score_json(&other);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another dataset"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The baseline is worse than the truth: gated at WAPE 1%, it fails with
    // code 3.
    let base = temp("baseline-grid");
    let o = mobsynth(&[
        "baseline",
        d,
        "--zones",
        "grid:1000",
        "-o",
        base.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = |name: &str| format!("{name}={}", base.join(format!("{name}.parquet")).display());
    let (ff, od, hw) = (b("footfall"), b("od"), b("home_work"));
    let report = temp("report.html");
    let o = mobsynth(&[
        "score",
        d,
        "--zones",
        "grid:1000",
        "--product",
        &ff,
        "--product",
        &od,
        "--product",
        &hw,
        "--max-wape",
        "0.01",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("footfall.visitors") && table.contains("no mode column"),
        "{table}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("<svg") && html.contains("Error per zone") && html.contains("Home and work")
    );
    // The reference pipeline finds most homes (a detected site's zone).
    let (_, v) = score_json(&[d, "--zones", "grid:1000", "--product", &hw]);
    let share = v["home_work"]["home_right_share"].as_f64().unwrap();
    assert!(share > 0.5, "{share}");
}

/// Sums of a count column by hour, and the zones named.
fn by_hour(path: &Path, column: &str) -> (BTreeMap<i64, f64>, BTreeSet<String>) {
    let mut sums = BTreeMap::new();
    let mut zones = BTreeSet::new();
    for b in read_parquet(path) {
        let hours = ints(&b, "hour");
        for ((h, v), z) in hours
            .iter()
            .zip(floats(&b, column))
            .zip(strings(&b, "zone"))
        {
            *sums.entry(*h).or_insert(0.0) += v;
            zones.insert(z);
        }
    }
    (sums, zones)
}

#[test]
fn the_coverage_variant_splits_sites_over_zones_and_keeps_every_total() {
    let d = small_run().to_str().unwrap();
    let run = |variant: &str| {
        let out = temp(&format!("baseline-{variant}"));
        let o = mobsynth(&[
            "baseline",
            d,
            "--zones",
            "grid:500",
            "--site-zones",
            variant,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (position, coverage) = (run("position"), run("coverage"));
    let schema = |dir: &Path| read_parquet(&dir.join("presence.parquet"))[0].schema();
    assert_eq!(
        schema(&position)
            .field_with_name("people")
            .unwrap()
            .data_type(),
        &DataType::Int64
    );
    assert_eq!(
        schema(&coverage)
            .field_with_name("people")
            .unwrap()
            .data_type(),
        &DataType::Float64
    );
    // The same people each hour, spread over more zones: a footprint
    // reaches zones that hold no site.
    let (p, pz) = by_hour(&position.join("presence.parquet"), "people");
    let (c, cz) = by_hour(&coverage.join("presence.parquet"), "people");
    assert_eq!(p.keys().collect::<Vec<_>>(), c.keys().collect::<Vec<_>>());
    for (h, n) in &p {
        assert!((c[h] - n).abs() < 1e-3, "hour {h}: {n} vs {}", c[h]);
    }
    assert!(cz.len() > pz.len() + 10, "{} vs {}", cz.len(), pz.len());
    // Trips are split over pairs of zones and keep their total too.
    let total = |dir: &Path| -> f64 {
        read_parquet(&dir.join("od.parquet"))
            .iter()
            .flat_map(|b| floats(b, "trips"))
            .sum()
    };
    let (tp, tc) = (total(&position), total(&coverage));
    assert!(tp > 100.0 && (tp - tc).abs() < 1e-3 * tp, "{tp} vs {tc}");
}

#[test]
fn a_pipeline_file_with_duplicate_or_foreign_keys_is_reported() {
    let data = small_run();
    let d = data.to_str().unwrap();
    let dir = temp("bad-pipeline");
    std::fs::create_dir_all(&dir).unwrap();
    // Read one real key of the truth to make a pipeline of three rows.
    let truth_dir = temp("truth-for-bad");
    assert!(
        mobsynth(&[
            "products",
            d,
            "--zones",
            "h3:8",
            "-o",
            truth_dir.to_str().unwrap()
        ])
        .status
        .success()
    );
    let b = &read_parquet(&truth_dir.join("commute.parquet"))[0];
    let (h, w, n) = (
        strings(b, "home_zone"),
        strings(b, "work_zone"),
        ints(b, "people"),
    );
    let dup = dir.join("dup.csv");
    std::fs::write(
        &dup,
        format!(
            "home_zone,work_zone,people\n{},{},1\n{},{},2\n",
            h[0], w[0], h[0], w[0]
        ),
    )
    .unwrap();
    let o = mobsynth(&[
        "score",
        d,
        "--zones",
        "h3:8",
        "--product",
        &format!("commute={}", dup.display()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("1 duplicate keys") && e.contains("dup.csv"),
        "{e}"
    );
    // A zone of another resolution is reported, and scored against 0.
    let foreign = dir.join("foreign.csv");
    std::fs::write(
        &foreign,
        format!(
            "home_zone,work_zone,people\n{},{},{}\n8a1f8d4b29a7fff,{},5\n",
            h[0], w[0], n[0], w[0]
        ),
    )
    .unwrap();
    let (o, v) = score_json(&[
        d,
        "--zones",
        "h3:8",
        "--product",
        &format!("commute={}", foreign.display()),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not in h3:8"));
    assert_eq!(v["files"][0]["keys_not_in_zoning"], 1);
    let c = &v["columns"][0];
    assert_eq!(c["pipeline_total"].as_f64().unwrap(), (n[0] + 5) as f64);
    // A product that does not exist, and a bad zoning, are bad input.
    let o = mobsynth(&["score", d, "--zones", "h3:8", "--product", "nope=x.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let o = mobsynth(&[
        "products",
        d,
        "--zones",
        "h3:99",
        "-o",
        dir.join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 to 15"));
}

#[test]
fn the_html_report_renders_in_a_headless_browser() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        println!("skipped: no chromium on this machine to render the report with");
        return;
    };
    let data = small_run();
    let d = data.to_str().unwrap();
    let truth_dir = temp("truth-for-html");
    assert!(
        mobsynth(&[
            "products",
            d,
            "--zones",
            "h3:8",
            "-o",
            truth_dir.to_str().unwrap()
        ])
        .status
        .success()
    );
    let report = temp("rendered.html");
    let ff = format!("footfall={}", truth_dir.join("footfall.parquet").display());
    let o = mobsynth(&[
        "score",
        d,
        "--zones",
        "h3:8",
        "--product",
        &ff,
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let shot = temp("rendered.png");
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,1400",
            &format!("file://{}", report.display()),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A rendered page is a PNG of some size, not an error page's few bytes.
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 20_000, "{} bytes", png.len());
}
