//! The FlowKit export through a real PostgreSQL: FlowDB's tables are created
//! from `tests/data/flowdb/schema.sql`, the export is loaded with the psql
//! scripts it ships (`\copy`), and FlowKit-style queries (daily location by
//! modal cell, subscribers per cell and day, records per table) give the
//! same answers as the same computed in Rust over mobsynth's own Parquet.
//!
//! The test starts its own server (`initdb` + `pg_ctl`) in a temporary
//! directory, listening on a unix socket only, and stops it afterwards. When
//! the PostgreSQL server binaries are not installed it says so and passes
//! (`.ci/install-postgres.sh` installs them).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mobsynth::reader::{DatasetReader, column_i64, column_str};
use mobsynth::sink::network_tables::events_schema;
use mobsynth::sink::tables::subscribers_schema;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mobsynth-export-flowkit-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn mobsynth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The directory holding `initdb`, `pg_ctl` and `psql`: Debian's versioned
/// directory (newest first), or one on the PATH.
fn postgres_bin() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev());
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.into_iter().find(|d| {
        ["initdb", "pg_ctl", "psql"]
            .iter()
            .all(|p| d.join(p).is_file())
    })
}

/// A PostgreSQL server of the test's own, stopped when dropped.
struct Server {
    bin: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    port: u16,
    /// Run the server's commands as this user (PostgreSQL refuses root).
    as_user: Option<String>,
}

impl Server {
    fn start(bin: PathBuf, root: &Path) -> Result<Server, String> {
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let as_user = if is_root {
            // The Debian package creates a `postgres` system user.
            let exists = Command::new("id")
                .arg("postgres")
                .output()
                .is_ok_and(|o| o.status.success());
            if !exists {
                return Err(
                    "running as root and there is no `postgres` user to run the server as".into(),
                );
            }
            Some("postgres".to_string())
        } else {
            None
        };
        std::fs::create_dir_all(root).unwrap();
        let socket = root.join("socket");
        std::fs::create_dir_all(&socket).unwrap();
        if let Some(user) = &as_user {
            let o = Command::new("chown")
                .args(["-R", user])
                .arg(root)
                .output()
                .unwrap();
            assert!(o.status.success(), "chown: {o:?}");
        }
        let port = 20_000 + (std::process::id() % 20_000) as u16;
        let server = Server {
            bin,
            data: root.join("data"),
            socket,
            port,
            as_user,
        };
        let o = server
            .server_command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--locale=C",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(&server.data)
            .output()
            .unwrap();
        if !o.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&o.stderr)));
        }
        let options = format!(
            "-c listen_addresses='' -k {} -p {} -c fsync=off",
            server.socket.display(),
            server.port
        );
        let o = server
            .server_command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&server.data)
            .args(["-l"])
            .arg(root.join("server.log"))
            .args(["-o", &options, "start"])
            .output()
            .unwrap();
        if !o.status.success() {
            let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
            return Err(format!(
                "pg_ctl start: {}{log}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        Ok(server)
    }

    fn server_command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        match &self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// psql on the server, in `cwd`, with the connection's time zone `tz`.
    fn psql(&self, cwd: &Path, tz: &str) -> Command {
        let mut c = Command::new(self.bin.join("psql"));
        c.current_dir(cwd)
            .env("PGTZ", tz)
            .arg("-h")
            .arg(&self.socket)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", ","]);
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .server_command("pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// Parses `a,b,c` lines.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// What the queries should answer, computed over the dataset's own Parquet.
struct Expected {
    /// (day, msisdn) → the cell with most records that day, ties to the
    /// smallest id as text.
    modal: BTreeMap<(String, String), String>,
    /// (day, cell) → distinct subscribers with a record there that day.
    subscribers: BTreeMap<(String, String), usize>,
    /// table → records.
    records: BTreeMap<&'static str, usize>,
}

fn expected(dataset: &Path) -> Expected {
    let data = DatasetReader::open(dataset).unwrap();
    let mut msisdn: HashMap<i64, String> = HashMap::new();
    let p = dataset.join("subscribers");
    for b in data.read("subscribers", subscribers_schema()).unwrap() {
        let ids = column_i64(&b, "subscriber_id", &p).unwrap();
        let numbers = column_str(&b, "msisdn", &p).unwrap();
        msisdn.extend(ids.into_iter().zip(numbers));
    }
    let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut records: BTreeMap<&'static str, usize> = BTreeMap::new();
    let p = dataset.join("events");
    for date in data.dates("events") {
        for b in data.read_date("events", &date, events_schema()).unwrap() {
            let sub = column_i64(&b, "subscriber_id", &p).unwrap();
            let kind = column_str(&b, "event_type", &p).unwrap();
            let cell = column_i64(&b, "cell_id", &p).unwrap();
            for i in 0..b.num_rows() {
                let table = match kind[i].as_str() {
                    "VOICE_MO" | "VOICE_MT" => "calls",
                    "SMS_MO" | "SMS_MT" => "sms",
                    "DATA_SESSION" => "mds",
                    _ => continue,
                };
                *records.entry(table).or_default() += 1;
                *counts
                    .entry((date.clone(), msisdn[&sub[i]].clone(), cell[i].to_string()))
                    .or_default() += 1;
            }
        }
    }
    let mut modal: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
    let mut people: BTreeMap<(String, String), usize> = BTreeMap::new();
    // Keys come in ascending cell order, so a later cell wins only with
    // strictly more records.
    for ((day, who, cell), n) in counts {
        *people.entry((day.clone(), cell.clone())).or_default() += 1;
        let best = modal.entry((day, who)).or_insert((0, String::new()));
        if n > best.0 {
            *best = (n, cell);
        }
    }
    Expected {
        modal: modal.into_iter().map(|(k, (_, cell))| (k, cell)).collect(),
        subscribers: people,
        records,
    }
}

const LOCATED: &str = "WITH located AS (
    SELECT msisdn, datetime, location_id FROM events.calls
    UNION ALL SELECT msisdn, datetime, location_id FROM events.sms
    UNION ALL SELECT msisdn, datetime, location_id FROM events.mds)";

#[test]
fn flowkit_export_loads_into_flowdb_tables_and_answers_as_the_dataset_does() {
    let Some(bin) = postgres_bin() else {
        eprintln!(
            "skipping: PostgreSQL's initdb and pg_ctl are not installed (.ci/install-postgres.sh installs them)"
        );
        return;
    };
    let dataset = scratch("dataset");
    let export = scratch("export");
    ok(
        mobsynth(&[
            "run",
            "--subscribers",
            "300",
            "--days",
            "2",
            "--quiet",
            "-o",
            dataset.to_str().unwrap(),
        ]),
        "run",
    );
    ok(
        mobsynth(&[
            "export",
            "flowkit",
            dataset.to_str().unwrap(),
            "-o",
            export.to_str().unwrap(),
        ]),
        "export",
    );
    let server = match Server::start(bin, &scratch("postgres")) {
        Ok(s) => s,
        Err(why) => {
            eprintln!("skipping: cannot start PostgreSQL: {why}");
            return;
        }
    };
    let tz = DatasetReader::open(&dataset)
        .unwrap()
        .manifest()
        .timezone
        .clone();
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/flowdb");
    let sql =
        |cwd: &Path, args: &[&str]| ok(server.psql(cwd, &tz).args(args).output().unwrap(), "psql");
    sql(&schema, &["-f", "schema.sql"]);
    sql(&export, &["-f", "ingest_events.sql"]);
    sql(
        &export,
        &[
            "-f",
            schema.join("load_infrastructure.sql").to_str().unwrap(),
        ],
    );

    let want = expected(&dataset);
    assert!(
        want.records.values().sum::<usize>() > 1000,
        "{:?}",
        want.records
    );

    // Every record landed, in the partition of its local day.
    let counts = rows(&sql(
        &export,
        &[
            "-c",
            "SELECT 'calls', count(*) FROM events.calls UNION ALL SELECT 'sms', count(*) FROM events.sms UNION ALL SELECT 'mds', count(*) FROM events.mds ORDER BY 1",
        ],
    ));
    for r in &counts {
        assert_eq!(
            r[1].parse::<usize>().unwrap(),
            want.records[r[0].as_str()],
            "{} records",
            r[0]
        );
    }
    let misplaced = sql(
        &export,
        &[
            "-c",
            "SELECT count(*) FROM events.calls WHERE to_char(datetime, 'YYYYMMDD') <> substring(tableoid::regclass::text from '[0-9]{8}$')",
        ],
    );
    assert_eq!(
        misplaced.trim(),
        "0",
        "calls outside their local day's partition"
    );

    // Every location resolves to a cell.
    let unresolved = sql(
        &export,
        &[
            "-c",
            &format!(
                "{LOCATED} SELECT count(*) FROM located l LEFT JOIN infrastructure.cells c ON c.id = l.location_id WHERE c.id IS NULL"
            ),
        ],
    );
    assert_eq!(unresolved.trim(), "0");

    // Daily location by modal cell, as FlowKit's most-common daily location.
    let modal = sql(
        &export,
        &[
            "-c",
            &format!(
                "{LOCATED}, counted AS (
                    SELECT l.datetime::date AS day, l.msisdn, l.location_id, count(*) AS n
                    FROM located l JOIN infrastructure.cells c ON c.id = l.location_id
                    GROUP BY 1, 2, 3),
                ranked AS (
                    SELECT day, msisdn, location_id,
                        row_number() OVER (PARTITION BY day, msisdn ORDER BY n DESC, location_id) AS r
                    FROM counted)
                SELECT day, msisdn, location_id FROM ranked WHERE r = 1 ORDER BY 1, 2"
            ),
        ],
    );
    let got: BTreeMap<(String, String), String> = rows(&modal)
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].clone()))
        .collect();
    assert!(got.len() > 300, "{} daily locations", got.len());
    assert_eq!(got, want.modal);

    // Subscribers per cell and day.
    let per_cell = sql(
        &export,
        &[
            "-c",
            &format!(
                "{LOCATED} SELECT datetime::date, location_id, count(DISTINCT msisdn) FROM located GROUP BY 1, 2 ORDER BY 1, 2"
            ),
        ],
    );
    let got: BTreeMap<(String, String), usize> = rows(&per_cell)
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
        .collect();
    assert_eq!(got, want.subscribers);

    // The tables FlowKit's queries join on hold what the dataset holds.
    let cells = sql(
        &export,
        &[
            "-c",
            "SELECT count(*), count(DISTINCT site_id) FROM infrastructure.cells",
        ],
    );
    let sites = sql(
        &export,
        &["-c", "SELECT count(*) FROM infrastructure.sites"],
    );
    let manifest = DatasetReader::open(&dataset)
        .unwrap()
        .manifest()
        .tables
        .clone();
    let c = rows(&cells);
    assert_eq!(c[0][0].parse::<u64>().unwrap(), manifest["cells"]);
    assert_eq!(c[0][1], sites.trim());

    drop(server);
    for d in [&dataset, &export, &scratch("postgres")] {
        let _ = std::fs::remove_dir_all(d);
    }
}
