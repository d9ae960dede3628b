//! The privacy audit: known answers for each attack on products crafted
//! from a real run's truth (a planted below-k cell, a planted differencing
//! leak recovered exactly, a correctly suppressed product with no leak),
//! uniqueness recomputed by another path, bad input, and one whole audit of
//! a small real dataset.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{mobsynth, temp};
use mobsynth::reader::{
    DatasetReader, column_f64, column_i64, column_opt_f64, column_opt_i64, column_str,
};
use mobsynth::sink::tables::subscribers_schema;

/// A small run and its truth products as CSV on `h3:8`.
fn small_run() -> &'static (PathBuf, PathBuf) {
    static DIR: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp("run");
        let truth = temp("truth");
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
        let out = mobsynth(&[
            "products",
            dir.to_str().unwrap(),
            "--zones",
            "h3:8",
            "--format",
            "csv",
            "-o",
            truth.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, truth)
    })
}

/// zone, date, hour.
type ZoneHour = (String, String, String);

/// footfall rows: zone, date, hour, age_band, sex → visitors.
type Footfall = BTreeMap<(String, String, String, String, String), i64>;

fn read_footfall(path: &Path) -> Footfall {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "zone,date,hour,age_band,sex,visitors,visits,dwell_minutes"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                (
                    f[0].to_string(),
                    f[1].to_string(),
                    f[2].to_string(),
                    f[3].to_string(),
                    f[4].to_string(),
                ),
                f[5].parse().unwrap(),
            )
        })
        .collect()
}

fn write_footfall(path: &Path, rows: &Footfall) {
    let mut text = String::from("zone,date,hour,age_band,sex,visitors\n");
    for ((z, d, h, a, s), v) in rows {
        text.push_str(&format!("{z},{d},{h},{a},{s},{v}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn write_totals(path: &Path, rows: &BTreeMap<(String, String, String), i64>) {
    let mut text = String::from("zone,date,hour,visitors\n");
    for ((z, d, h), v) in rows {
        text.push_str(&format!("{z},{d},{h},{v}\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// Runs the audit (no unicity, no trajectories unless `all`) and returns
/// its JSON.
fn audit(extra: &[&str], all: bool) -> serde_json::Value {
    let (dir, _) = small_run();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = temp(&format!("audit-{n}.json"));
    let mut args = vec![
        "privacy",
        dir.to_str().unwrap(),
        "--zones",
        "h3:8",
        "--json",
        json.to_str().unwrap(),
    ];
    if !all {
        args.extend(["--no-unicity", "--no-trajectory"]);
    }
    args.extend(extra);
    let out = mobsynth(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

const AGE_BANDS: [&str; 7] = ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

#[test]
fn a_planted_below_k_cell_is_found_and_the_truth_itself_counts_right() {
    let (_, truth) = small_run();
    let all = read_footfall(&truth.join("footfall.csv"));
    // The truth released as is: its visitors are the true contributors, so
    // the violations are exactly its rows with 1..k-1 visitors.
    let k = 3;
    let expected = all.values().filter(|&&v| v >= 1 && v < k).count();
    let v = audit(
        &[
            "--product",
            &format!("footfall={}", truth.join("footfall.csv").display()),
            "--k",
            "3",
        ],
        false,
    );
    assert_eq!(v["threshold"][0]["below_k"], expected as u64);
    assert_eq!(v["threshold"][0]["rows"], all.len() as u64);
    // A product of cells of at least k and one planted cell below it.
    let mut planted: Footfall = all
        .iter()
        .filter(|(_, v)| **v >= k)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let (small_key, small) = all.iter().find(|(_, v)| **v == 1).expect("a cell of one");
    planted.insert(small_key.clone(), *small);
    let path = temp("planted.csv");
    write_footfall(&path, &planted);
    let v = audit(
        &[
            "--product",
            &format!("footfall={}", path.display()),
            "--k",
            "3",
        ],
        false,
    );
    let t = &v["threshold"][0];
    assert_eq!(t["below_k"], 1);
    assert_eq!(t["examples"][0]["true_contributors"], 1);
    let key: Vec<String> = t["examples"][0]["key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        key,
        vec![
            small_key.0.clone(),
            small_key.1.clone(),
            small_key.2.clone(),
            small_key.3.clone(),
            small_key.4.clone()
        ]
    );
}

#[test]
fn a_planted_differencing_leak_is_recovered_exactly() {
    let (_, truth) = small_run();
    let all = read_footfall(&truth.join("footfall.csv"));
    // A zone-hour with several cells; the breakdown publishes every cell of
    // the age × sex cube there (zeros included) but one, suppressed, and
    // the zone total.
    let mut groups: BTreeMap<ZoneHour, Vec<(String, String, i64)>> = BTreeMap::new();
    for ((z, d, h, a, s), v) in &all {
        groups
            .entry((z.clone(), d.clone(), h.clone()))
            .or_default()
            .push((a.clone(), s.clone(), *v));
    }
    let (gkey, cells) = groups
        .iter()
        .find(|(_, c)| c.len() >= 3 && c.iter().all(|c| c.1 != "unknown"))
        .expect("a zone-hour with three cells");
    let hidden = cells
        .iter()
        .max_by_key(|c| (c.2, c.0.clone()))
        .unwrap()
        .clone();
    let mut breakdown = Footfall::new();
    for a in AGE_BANDS {
        for s in ["F", "M"] {
            if (a, s) == (hidden.0.as_str(), hidden.1.as_str()) {
                continue;
            }
            let v = cells
                .iter()
                .find(|c| c.0 == a && c.1 == s)
                .map_or(0, |c| c.2);
            breakdown.insert(
                (
                    gkey.0.clone(),
                    gkey.1.clone(),
                    gkey.2.clone(),
                    a.into(),
                    s.into(),
                ),
                v,
            );
        }
    }
    let total: i64 = cells.iter().map(|c| c.2).sum();
    let fine = temp("fine.csv");
    let coarse = temp("coarse.csv");
    write_footfall(&fine, &breakdown);
    write_totals(&coarse, &BTreeMap::from([(gkey.clone(), total)]));
    let v = audit(
        &[
            "--product",
            &format!("footfall={}", fine.display()),
            "--product",
            &format!("footfall={}", coarse.display()),
        ],
        false,
    );
    let d = v["differencing"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{v}");
    assert_eq!(d[0]["recovered"], 1);
    assert_eq!(d[0]["recovered_exactly"], 1);
    let cell = &d[0]["cells"][0];
    assert_eq!(cell["recovered"].as_f64(), Some(hidden.2 as f64));
    assert_eq!(cell["true_contributors"], hidden.2);
    assert_eq!(cell["below_k"], hidden.2 < 15);
    assert_eq!(cell["key"][3][1], hidden.0.as_str());
    assert_eq!(cell["key"][4][1], hidden.1.as_str());
}

#[test]
fn a_correctly_suppressed_product_reports_no_leak() {
    let (_, truth) = small_run();
    let all = read_footfall(&truth.join("footfall.csv"));
    // Small enough that some zone-hours of 300 people have every age × sex
    // cell at or above it.
    let k = 2;
    // Primary suppression: cells below k. Secondary: a zone total only
    // where none of its cells was suppressed, so nothing can be subtracted.
    let kept: Footfall = all
        .iter()
        .filter(|(_, v)| **v >= k)
        .map(|(a, b)| (a.clone(), *b))
        .collect();
    let mut totals: BTreeMap<(String, String, String), (i64, bool)> = BTreeMap::new();
    for ((z, d, h, _, _), v) in &all {
        let t = totals
            .entry((z.clone(), d.clone(), h.clone()))
            .or_insert((0, true));
        t.0 += v;
        t.1 &= *v >= k;
    }
    let totals: BTreeMap<_, i64> = totals
        .into_iter()
        .filter(|(_, (t, clean))| *clean && *t >= k)
        .map(|(key, (t, _))| (key, t))
        .collect();
    assert!(!totals.is_empty() && !kept.is_empty());
    let fine = temp("sup-fine.csv");
    let coarse = temp("sup-coarse.csv");
    write_footfall(&fine, &kept);
    write_totals(&coarse, &totals);
    let v = audit(
        &[
            "--product",
            &format!("footfall={}", fine.display()),
            "--product",
            &format!("footfall={}", coarse.display()),
            "--k",
            &k.to_string(),
        ],
        false,
    );
    for t in v["threshold"].as_array().unwrap() {
        assert_eq!(t["below_k"], 0, "{t}");
    }
    for d in v["differencing"].as_array().unwrap() {
        assert_eq!(d["recovered"], 0, "{d}");
        assert_eq!(d["small_remainders"], 0, "{d}");
    }
}

#[test]
fn uniqueness_matches_a_recount_from_the_subscribers_table() {
    let (dir, _) = small_run();
    let v = audit(&[], false);
    // Recount: home and anchor in their H3 cells, people with an anchor, no
    // machines.
    let reader = DatasetReader::open(dir).unwrap();
    let path = dir.join("subscribers");
    let mut pairs: Vec<(String, String)> = Vec::new();
    for b in reader.read("subscribers", subscribers_schema()).unwrap() {
        let device = column_str(&b, "device", &path).unwrap();
        let anchor = column_opt_i64(&b, "anchor_place_id", &path).unwrap();
        let _ = column_i64(&b, "subscriber_id", &path).unwrap();
        let f = |n: &str| column_f64(&b, n, &path).unwrap();
        let (hlon, hlat, alon, alat) = (
            f("home_lon"),
            f("home_lat"),
            f("anchor_lon"),
            f("anchor_lat"),
        );
        let known = column_opt_f64(&b, "anchor_lon", &path).unwrap();
        for i in 0..b.num_rows() {
            if device[i] == "iot" || known[i].is_none() {
                continue;
            }
            // An anchor beyond the map's edge (a position without a place)
            // counts as `outside`.
            let work = match anchor[i] {
                Some(_) => h3(alon[i], alat[i]),
                None => "outside".to_string(),
            };
            pairs.push((h3(hlon[i], hlat[i]), work));
        }
    }
    let mut size: HashMap<&(String, String), usize> = HashMap::new();
    for p in &pairs {
        *size.entry(p).or_insert(0) += 1;
    }
    let unique = pairs.iter().filter(|p| size[p] == 1).count();
    let u = &v["uniqueness"][0];
    assert_eq!(u["key"], "home,work");
    assert_eq!(u["people"], pairs.len() as u64);
    assert_eq!(u["unique"], unique as u64);
    assert_eq!(u["sets"], size.len() as u64);
}

fn h3(lon: f64, lat: f64) -> String {
    let ll = h3o::LatLng::new(lat, lon).unwrap();
    ll.to_cell(h3o::Resolution::Eight).to_string()
}

#[test]
fn a_whole_audit_of_a_small_run() {
    let (_, truth) = small_run();
    let html = temp("report.html");
    let v = audit(
        &[
            "--product",
            &format!("footfall={}", truth.join("footfall.csv").display()),
            "--add-totals",
            "--suppress",
            "--report",
            html.to_str().unwrap(),
        ],
        true,
    );
    let u = v["unicity"].as_array().unwrap();
    assert_eq!(u.len(), 4);
    // More points single out more people.
    let shares: Vec<f64> = u
        .iter()
        .map(|p| p["share_unique"].as_f64().unwrap())
        .collect();
    assert!(shares.windows(2).all(|w| w[0] <= w[1] + 0.02), "{shares:?}");
    let t = &v["trajectory"];
    let acc = t["accuracy"].as_f64().unwrap();
    assert!(acc > 0.3 && acc <= 1.0, "{t}");
    assert_eq!(t["hours"], 48);
    // The truth suppressed at k leaves no cell below k.
    assert_eq!(v["threshold"][0]["below_k"], 0);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Trajectory recovery") && page.ends_with("</html>\n"));
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let (dir, truth) = small_run();
    let d = dir.to_str().unwrap();
    let ff = format!("footfall={}", truth.join("footfall.csv").display());
    let check = |args: &[&str], needle: &str| {
        let o = mobsynth(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    };
    check(
        &[
            "privacy",
            d,
            "--zones",
            "h3:8",
            "--k",
            "0",
            "--product",
            &ff,
        ],
        "--k 0",
    );
    // The product was made on h3:8.
    check(
        &["privacy", d, "--zones", "h3:7", "--product", &ff],
        "not zones of h3:7",
    );
    // Columns that are not footfall's.
    let wrong = temp("wrong.csv");
    std::fs::write(&wrong, "zone,when,count\n881f8e0c01fffff,x,3\n").unwrap();
    check(
        &[
            "privacy",
            d,
            "--zones",
            "h3:8",
            "--product",
            &format!("footfall={}", wrong.display()),
        ],
        "missing",
    );
    check(
        &["privacy", d, "--zones", "h3:8", "--product", "dwell=x.csv"],
        "no product",
    );
    // A release's own zoning that is not one.
    let ff_at = format!("footfall@h3:99={}", truth.join("footfall.csv").display());
    check(
        &["privacy", d, "--zones", "h3:8", "--product", &ff_at],
        "--product footfall@h3:99=",
    );
}

#[test]
fn planted_canaries_are_reported_when_a_released_cell_exposes_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = std::fs::read_to_string(root.join("scenarios/default.toml")).unwrap()
        + "\n[canaries]\ncount = 2\n";
    let file = temp("canary.toml");
    std::fs::write(&file, scenario).unwrap();
    let dir = temp("canary-run");
    let truth = temp("canary-truth");
    let map = root.join("scenarios/maps/liechtenstein.osm.pbf");
    let d = dir.to_str().unwrap();
    let o = mobsynth(&[
        "run",
        file.to_str().unwrap(),
        "--map",
        map.to_str().unwrap(),
        "--subscribers",
        "200",
        "--days",
        "1",
        "--quiet",
        "-o",
        d,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = mobsynth(&[
        "products",
        d,
        "--zones",
        "h3:8",
        "--format",
        "csv",
        "-o",
        truth.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ff = format!("footfall={}", truth.join("footfall.csv").display());
    let od = format!("od={}", truth.join("od.csv").display());
    let run = |k: &str, product: &str| -> serde_json::Value {
        let json = temp(&format!("canary-{k}.json"));
        let o = mobsynth(&[
            "privacy",
            d,
            "--zones",
            "h3:8",
            "--product",
            product,
            "--k",
            k,
            "--no-unicity",
            "--no-trajectory",
            "--json",
            json.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
    };
    // Every cell is below a k of 10,000: each canary cell exposes it.
    let v = run("10000", &ff);
    let c = &v["canaries"];
    assert_eq!(c["planted"], 2);
    assert!(c["cells_with_a_canary"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(c["exposing_cells"], c["cells_with_a_canary"]);
    assert_eq!(c["canaries_exposed"], serde_json::json!([0, 1]));
    // Their commutes are in the released `od` too.
    let v = run("10000", &od);
    let c = &v["canaries"];
    assert!(c["exposing_cells"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(c["examples"][0]["key"][0][0], "origin_zone");
    // No cell is below a k of 1.
    let v = run("1", &ff);
    assert_eq!(v["canaries"]["exposing_cells"], 0);
    // The canaries work nights: every work stay of theirs begins between
    // 20:00 and 23:59 local time (CET, UTC+1 in early March).
    let reader = DatasetReader::open(&dir).unwrap();
    let path = dir.join("truth/stays");
    let mut night_work = 0;
    for b in reader
        .read("truth/stays", mobsynth::sink::tables::stays_schema())
        .unwrap()
    {
        let id = column_i64(&b, "subscriber_id", &path).unwrap();
        let start = common::ints(&b, "start");
        let activity = common::strings(&b, "activity");
        for i in 0..b.num_rows() {
            if id[i] < 2 && activity[i] == "work" {
                let local_h = (start[i] / 1000 + 3600).rem_euclid(86_400) / 3600;
                assert!((20..24).contains(&local_h), "work from {local_h}:00");
                night_work += 1;
            }
        }
    }
    assert!(night_work > 0);
    // The canaries commute: each has a work place, apart from home.
    let path = dir.join("subscribers");
    for b in reader.read("subscribers", subscribers_schema()).unwrap() {
        let id = column_i64(&b, "subscriber_id", &path).unwrap();
        let anchor = column_opt_i64(&b, "anchor_place_id", &path).unwrap();
        for i in 0..b.num_rows() {
            if id[i] < 2 {
                assert!(anchor[i].is_some());
            }
        }
    }
}

#[test]
fn unicity_at_four_points_is_the_validators() {
    let (dir, _) = small_run();
    let json = temp("validate.json");
    let o = mobsynth(&[
        "validate",
        dir.to_str().unwrap(),
        "--only",
        "events.unicity_4_points",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let validator = v
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "events.unicity_4_points")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    let mut args = vec![
        "privacy",
        dir.to_str().unwrap(),
        "--zones",
        "h3:8",
        "--no-trajectory",
    ];
    let out = temp("unicity.json");
    args.extend(["--json", out.to_str().unwrap()]);
    let o = mobsynth(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let p4 = v["unicity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["points"] == 4)
        .unwrap()["share_unique"]
        .as_f64()
        .unwrap();
    assert_eq!(p4, validator);
}

/// A CSV file's header and rows, as text.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn write_csv(path: &Path, header: &str, rows: &[Vec<String>]) {
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// The small run's truth products as CSV on another zoning.
fn truth_at(zones: &str) -> PathBuf {
    let (dir, _) = small_run();
    let out = temp(&format!("truth-{}", zones.replace(':', "")));
    if !out.join("presence.csv").exists() {
        let o = mobsynth(&[
            "products",
            dir.to_str().unwrap(),
            "--zones",
            zones,
            "--format",
            "csv",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    out
}

#[test]
fn an_hour_suppressed_from_a_released_day_is_recovered_exactly() {
    let (_, truth) = small_run();
    let (header, rows) = read_csv(&truth.join("od.csv"));
    assert_eq!(
        header,
        [
            "origin_zone",
            "destination_zone",
            "date",
            "departure_hour",
            "mode",
            "trips"
        ]
    );
    // Trips by (origin, destination, date, mode), then departure hour.
    let mut days: BTreeMap<Vec<String>, BTreeMap<i64, i64>> = BTreeMap::new();
    for r in &rows {
        let key = vec![r[0].clone(), r[1].clone(), r[2].clone(), r[4].clone()];
        let hour: i64 = r[3].parse().unwrap();
        days.entry(key)
            .or_default()
            .insert(hour, r[5].parse().unwrap());
    }
    // A day with trips at two hours at least; the busiest hour is
    // suppressed, every other hour released, zeros included, with the day.
    let (day, hours) = days
        .iter()
        .find(|(_, h)| h.len() >= 2)
        .expect("a day cell with trips at two hours");
    let (&hidden_hour, &hidden) = hours.iter().max_by_key(|(h, t)| (**t, -**h)).unwrap();
    let hourly: Vec<Vec<String>> = (0..24)
        .filter(|h| *h != hidden_hour)
        .map(|h| {
            let t = hours.get(&h).copied().unwrap_or(0);
            vec![
                day[0].clone(),
                day[1].clone(),
                day[2].clone(),
                h.to_string(),
                day[3].clone(),
                t.to_string(),
            ]
        })
        .collect();
    let total: i64 = hours.values().sum();
    let mut daily = day.clone();
    daily.push(total.to_string());
    let (h_path, d_path) = (temp("od-hourly.csv"), temp("od-daily.csv"));
    write_csv(
        &h_path,
        "origin_zone,destination_zone,date,departure_hour,mode,trips",
        &hourly,
    );
    write_csv(
        &d_path,
        "origin_zone,destination_zone,date,mode,trips",
        &[daily],
    );
    let v = audit(
        &[
            "--product",
            &format!("od={}", h_path.display()),
            "--product",
            &format!("od={}", d_path.display()),
        ],
        false,
    );
    let d = v["differencing"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{v}");
    assert_eq!(d[0]["over"], serde_json::json!(["departure_hour"]));
    assert_eq!(d[0]["recovered"], 1);
    assert_eq!(d[0]["recovered_exactly"], 1);
    let cell = &d[0]["cells"][0];
    assert_eq!(cell["recovered"].as_f64(), Some(hidden as f64));
    assert_eq!(cell["true_value"].as_f64(), Some(hidden as f64));
    assert_eq!(cell["key"][3][1], hidden_hour.to_string().as_str());
    // Distinct travellers: at least one, at most one per trip.
    let n = cell["true_contributors"].as_i64().unwrap();
    assert!(n >= 1 && n <= hidden, "{cell}");
    assert_eq!(cell["below_k"], n < 15);
    // The daily release's contributors are the day's distinct travellers:
    // no more than the trips, and no fewer than the busiest hour's.
    let t = v["threshold"].as_array().unwrap();
    assert_eq!(t.len(), 2);
    // Released with its hour, the day leaks nothing.
    let mut all = hourly.clone();
    all.push(vec![
        day[0].clone(),
        day[1].clone(),
        day[2].clone(),
        hidden_hour.to_string(),
        day[3].clone(),
        hidden.to_string(),
    ]);
    write_csv(
        &h_path,
        "origin_zone,destination_zone,date,departure_hour,mode,trips",
        &all,
    );
    let v = audit(
        &[
            "--product",
            &format!("od={}", h_path.display()),
            "--product",
            &format!("od={}", d_path.display()),
        ],
        false,
    );
    assert_eq!(v["differencing"][0]["recovered"], 0, "{v}");
    // A daily footfall is refused: visitors do not add up over hours.
    let ff = temp("footfall-daily.csv");
    std::fs::write(&ff, "zone,date,visitors\noutside,2026-03-02,3\n").unwrap();
    let (dir, _) = small_run();
    let o = mobsynth(&[
        "privacy",
        dir.to_str().unwrap(),
        "--zones",
        "h3:8",
        "--product",
        &format!("footfall={}", ff.display()),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("do not add up"));
}

#[test]
fn a_square_suppressed_at_a_fine_grid_is_recovered_from_the_coarse_grid() {
    let coarse = truth_at("grid:1000");
    let fine = truth_at("grid:500");
    let (_, crows) = read_csv(&coarse.join("presence.csv"));
    let (fheader, frows) = read_csv(&fine.join("presence.csv"));
    assert_eq!(fheader, ["zone", "hour", "people", "person_minutes"]);
    let fine_people: HashMap<(String, String), i64> = frows
        .iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
        .collect();
    // The four 500 m squares of a 1 km square (i, j): (2i + a, 2j + b).
    let children = |zone: &str| -> Vec<String> {
        let (i, j) = zone.split_once('_').unwrap();
        let (i, j): (i64, i64) = (i.parse().unwrap(), j.parse().unwrap());
        let mut v = Vec::new();
        for a in 0..2 {
            for b in 0..2 {
                v.push(format!("{}_{}", 2 * i + a, 2 * j + b));
            }
        }
        v
    };
    // A coarse zone-hour whose people are in two squares at least (the
    // grids nest exactly: the children add up to the coarse count).
    let (zone, hour, total) = crows
        .iter()
        .filter(|r| r[0] != "outside")
        .map(|r| (r[0].clone(), r[1].clone(), r[2].parse::<i64>().unwrap()))
        .find(|(z, h, _)| {
            children(z)
                .iter()
                .filter(|c| fine_people.contains_key(&((*c).clone(), h.clone())))
                .count()
                >= 2
        })
        .expect("a 1 km square-hour over two 500 m squares");
    let kids = children(&zone);
    let counts: Vec<i64> = kids
        .iter()
        .map(|c| {
            fine_people
                .get(&(c.clone(), hour.clone()))
                .copied()
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(counts.iter().sum::<i64>(), total);
    let hidden = (0..4).max_by_key(|&i| (counts[i], i)).unwrap();
    let released: Vec<Vec<String>> = (0..4)
        .filter(|&i| i != hidden)
        .map(|i| vec![kids[i].clone(), hour.clone(), counts[i].to_string()])
        .collect();
    let (f_path, c_path) = (temp("grid500.csv"), temp("grid1000.csv"));
    write_csv(&f_path, "zone,hour,people", &released);
    write_csv(
        &c_path,
        "zone,hour,people",
        &[vec![zone.clone(), hour.clone(), total.to_string()]],
    );
    let run = |zones: &str, coarse_at: &str, fine_at: &str| {
        audit_on(
            zones,
            &[
                "--product",
                &format!("presence{coarse_at}={}", c_path.display()),
                "--product",
                &format!("presence{fine_at}={}", f_path.display()),
            ],
        )
    };
    // Either zoning may be `--zones`.
    for v in [
        run("grid:1000", "", "@grid:500"),
        run("grid:500", "@grid:1000", ""),
    ] {
        let d = v["differencing"].as_array().unwrap();
        assert_eq!(d.len(), 1, "{v}");
        assert_eq!(d[0]["recovered"], 1, "{v}");
        assert_eq!(d[0]["recovered_exactly"], 1);
        let cell = &d[0]["cells"][0];
        assert_eq!(cell["key"][0][1], kids[hidden].as_str());
        assert_eq!(cell["recovered"].as_f64(), Some(counts[hidden] as f64));
        assert_eq!(cell["true_value"].as_f64(), Some(counts[hidden] as f64));
        // Presence counts distinct people: the value is the contributors.
        assert_eq!(cell["true_contributors"], counts[hidden]);
        assert_eq!(cell["below_k"], counts[hidden] < 15);
    }
    // All four squares released: nothing to recover.
    let mut all = released.clone();
    all.push(vec![
        kids[hidden].clone(),
        hour.clone(),
        counts[hidden].to_string(),
    ]);
    write_csv(&f_path, "zone,hour,people", &all);
    let v = run("grid:1000", "", "@grid:500");
    assert_eq!(v["differencing"][0]["recovered"], 0, "{v}");
    // A fine release on a zoning that does not nest is not differenced.
    let v = audit_on(
        "grid:1000",
        &[
            "--product",
            &format!("presence={}", c_path.display()),
            "--product",
            &format!(
                "presence@h3:8={}",
                truth_at("h3:8").join("presence.csv").display()
            ),
        ],
    );
    assert_eq!(v["differencing"].as_array().unwrap().len(), 0, "{v}");
}

/// The audit on `zones`, without unicity and trajectories.
fn audit_on(zones: &str, extra: &[&str]) -> serde_json::Value {
    let (dir, _) = small_run();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = temp(&format!("audit-on-{n}.json"));
    let mut args = vec![
        "privacy",
        dir.to_str().unwrap(),
        "--zones",
        zones,
        "--no-unicity",
        "--no-trajectory",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = mobsynth(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}
