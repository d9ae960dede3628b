//! The `mobsynth` command line: parses arguments and calls the library.
//!
//! Exit codes: 0 success (also when a stream's reader closes the pipe);
//! 1 a failure while running (I/O, full disk); 2 bad input or usage;
//! 3 `validate --strict` found a metric outside its band, or `score
//! --max-wape` a product above it;
//! 130 interrupted (SIGINT or SIGTERM), with a manifest saying so.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use mobsynth::map::Map;
use mobsynth::routing::Router;
use mobsynth::run::{Progress, RunOptions, RunReport, StreamOptions};
use mobsynth::scenario::{BUNDLED, Scenario};
use mobsynth::sink::stream::Pace;
use mobsynth::sink::{Compression, Format, OutputOptions};

// A run allocates a trajectory, a route and a day plan per trip, and
// column buffers per chunk, from every thread at once: jemalloc's
// per-thread caches and its slower return of freed pages to the system
// serve that with less CPU than the system allocator (1M x 1 day: 8% less).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Synthetic mobile-network data: subscribers, their days, and the events an
/// operator's network would record of them.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write its dataset.
    Run(Box<RunArgs>),
    /// Print what a map file holds once imported: roads, components, places.
    InspectMap {
        /// An OpenStreetMap `.osm.pbf` file.
        map: PathBuf,
    },
    /// Measure a dataset against the published laws of human mobility and
    /// phone activity.
    Validate(ValidateArgs),
    /// Rewrite a dataset in the layout another tool reads (FlowKit/FlowDB,
    /// GeoParquet, the ESSnet simulator, scikit-mobility, trackintel).
    Export(ExportArgs),
    /// Write the truth's zone products (presence, footfall, od, commute,
    /// home_work, dwell) of a dataset on a zoning.
    Products(ProductsArgs),
    /// Write the same products from the events alone, by a documented
    /// reference pipeline: a floor every real pipeline should beat.
    Baseline(BaselineArgs),
    /// Score a pipeline's zone products against the truth.
    Score(ScoreArgs),
    /// Audit an aggregate product before release: threshold violations,
    /// differencing, uniqueness, unicity and trajectory recovery, with the
    /// truth as the oracle.
    Privacy(PrivacyArgs),
    /// Score a cleaning step: the event ids it flagged as faulty against the
    /// dataset's `truth/log_faults` (precision, recall, recall per fault).
    ScoreCleaning(ScoreCleaningArgs),
    /// Bundled scenarios.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Parquet,
    Csv,
    Ndjson,
}

#[derive(Clone, Copy, ValueEnum)]
enum CompressionArg {
    Zstd,
    Snappy,
    None,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario file, or the name of a bundled scenario (`default`,
    /// `ci-fixture`); the bundled default scenario when omitted.
    scenario: Option<PathBuf>,
    /// Use this `.osm.pbf` map instead of the scenario's (and the time zone
    /// of its location, unless --timezone is given)
    #[arg(long)]
    map: Option<PathBuf>,
    /// IANA time zone of the region, e.g. Europe/Vaduz; overrides the
    /// scenario's and the map's
    #[arg(long)]
    timezone: Option<String>,
    /// Number of resident subscribers.
    #[arg(long, allow_negative_numbers = true)]
    subscribers: Option<u32>,
    /// Number of days.
    #[arg(long, allow_negative_numbers = true)]
    days: Option<u32>,
    /// Also write `truth/positions`: every subscriber's true position every
    /// this many seconds (0 for none; overrides the scenario's
    /// `positions_every_s`).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    positions_every: Option<u32>,
    /// Write only what an operator would hold (`subscribers`, `cells`,
    /// `events`), without the `truth/` tables; the events are the same.
    #[arg(long)]
    no_truth: bool,
    /// First day, YYYY-MM-DD, local time.
    #[arg(long)]
    start: Option<String>,
    /// Seed of every random stream.
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Output directory.
    #[arg(short, long, default_value = "mobsynth-out")]
    output: PathBuf,
    /// File format of every table.
    #[arg(long, value_enum, default_value = "parquet")]
    format: FormatArg,
    /// Parquet compression.
    #[arg(long, value_enum, default_value = "zstd")]
    compression: CompressionArg,
    /// Split the subscribers into this many parts (for several machines).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    parts: u32,
    /// Write only this part, 0-based (see --parts).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    part: u32,
    /// Worker threads; all cores when omitted. Output does not depend on it.
    #[arg(long, allow_negative_numbers = true)]
    threads: Option<usize>,
    /// Replace the contents of a non-empty output directory.
    #[arg(long)]
    overwrite: bool,
    /// Finish an interrupted run in its output directory: the same scenario,
    /// seed and options write only what is missing, and the result is the
    /// same bytes as an uninterrupted run.
    #[arg(long, conflicts_with_all = ["overwrite", "stdout"])]
    resume: bool,
    /// Write events to standard output in time order instead of files
    /// (NDJSON, or CSV with --format csv).
    #[arg(long)]
    stdout: bool,
    /// With --stdout: emit this many events per second.
    #[arg(
        long,
        requires = "stdout",
        conflicts_with = "speed",
        allow_negative_numbers = true
    )]
    rate: Option<f64>,
    /// With --stdout: replay this many simulated seconds per second.
    #[arg(long, requires = "stdout", allow_negative_numbers = true)]
    speed: Option<f64>,
    /// With --stdout (NDJSON): print `SUBSCRIBER_ID<TAB>json` lines, a key
    /// per record for Kafka producers (`kcat -P -K'\t'`).
    #[arg(long, requires = "stdout")]
    key: bool,
    /// No progress bars and no summary.
    #[arg(short, long)]
    quiet: bool,
    /// Run even when the estimated output is huge or larger than the free
    /// space, without asking.
    #[arg(long)]
    yes: bool,
}

#[derive(clap::Args)]
struct ScoreCleaningArgs {
    /// A directory written by `mobsynth run` with `[log_quality]` and the truth.
    dir: PathBuf,
    /// The flagged event ids: one per line (a first line that is not a
    /// number is a header; in CSV the first column is read).
    #[arg(long)]
    flagged: PathBuf,
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// A directory written by `mobsynth run`.
    dir: PathBuf,
    /// Also write the metrics as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write a self-contained HTML report with a chart per metric.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Exit with code 3 when any metric falls outside its band.
    #[arg(long)]
    strict: bool,
    /// Measure a deterministic sample of this many subscribers.
    #[arg(long)]
    sample: Option<usize>,
    /// Report and judge only these metrics: ids such as `truth.zipf_zeta`, or
    /// prefixes ending in a dot such as `events.`, separated by commas.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportKindArg {
    /// FlowDB's events.calls/sms/mds as daily CSV files, the cells and sites
    /// tables, and psql scripts that load them.
    Flowkit,
    /// GeoParquet 1.1 layers of cells, homes, stays and positions.
    Geoparquet,
    /// The ESSnet simulator's AntennaInfo, persons, antennas and grid files
    /// with their *_dict.xml descriptions.
    Essnet,
    /// scikit-mobility TrajDataFrame CSVs (uid, lat, lng, datetime).
    Skmob,
    /// trackintel positionfixes and staypoints CSVs.
    Trackintel,
    /// bandicoot: records/<user>.csv of calls and texts, and antennas.csv.
    Bandicoot,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// What to export for.
    #[arg(value_enum)]
    kind: ExportKindArg,
    /// A directory written by `mobsynth run`.
    dataset: PathBuf,
    /// Output directory.
    #[arg(short, long)]
    output: PathBuf,
    /// Replace the contents of a non-empty output directory.
    #[arg(long)]
    overwrite: bool,
    /// essnet: length of one time tick in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    tick: u32,
}

#[derive(clap::Args)]
struct ZoneArgs {
    /// A directory written by `mobsynth run`.
    dataset: PathBuf,
    /// The zoning: `h3:RES` (H3 cells), `grid:METRES` (squares in a
    /// projection centred on the dataset) or a GeoJSON file of polygons.
    #[arg(long)]
    zones: String,
    /// The GeoJSON property that holds each zone's id (the feature's `id`
    /// when omitted).
    #[arg(long)]
    zone_id: Option<String>,
    /// Shortest stay that counts as a visit, minutes.
    #[arg(long, default_value_t = mobsynth::products::DEFAULT_MIN_DWELL_MIN)]
    min_dwell: u32,
    /// Multiply counts by this (subscribers to population); counts are then
    /// written as floating point.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
}

#[derive(clap::Args)]
struct ProductsArgs {
    #[command(flatten)]
    zones: ZoneArgs,
    /// Output directory.
    #[arg(short, long)]
    output: PathBuf,
    /// File format of every product.
    #[arg(long, value_enum, default_value = "parquet")]
    format: ProductFormatArg,
    /// Replace the contents of a non-empty output directory.
    #[arg(long)]
    overwrite: bool,
}

#[derive(clap::Args)]
struct BaselineArgs {
    #[command(flatten)]
    products: ProductsArgs,
    /// Distinct weekdays a site must be seen in working hours to be taken
    /// for a work place.
    #[arg(long, default_value_t = 2)]
    work_min_days: u32,
    /// How a cell site's events go to zones: wholly to the zone holding the
    /// site (`position`), or split over the zones of its predicted coverage
    /// area by the share each holds (`coverage`; counts are then fractional).
    #[arg(long, value_enum, default_value = "position")]
    site_zones: SiteZonesArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum SiteZonesArg {
    Position,
    Coverage,
}

#[derive(clap::Args)]
struct ScoreArgs {
    #[command(flatten)]
    zones: ZoneArgs,
    /// A pipeline's product as NAME=PATH (Parquet or CSV), e.g.
    /// `footfall=out/footfall.parquet`; repeat for several.
    #[arg(long = "product", value_name = "NAME=PATH", required = true)]
    products: Vec<String>,
    /// Also write the scores as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write a self-contained HTML report with a map of the error per
    /// zone.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Read the truth from this directory written by `mobsynth products`
    /// for the same dataset, zones and --min-dwell, instead of computing it.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Leave keys whose truth is below this out of MdAPE.
    #[arg(long, default_value_t = 10.0)]
    mape_floor: f64,
    /// Exit with code 3 when any product's WAPE (of its first value column)
    /// is above this, e.g. 0.3.
    #[arg(long)]
    max_wape: Option<f64>,
}

#[derive(clap::Args)]
struct PrivacyArgs {
    #[command(flatten)]
    zones: ZoneArgs,
    /// A released product as NAME=PATH (Parquet or CSV; NAME one of
    /// footfall, presence, od, commute); repeat for several, the same NAME
    /// too (a total and its breakdown). NAME@ZONING=PATH: a release on
    /// another zoning than --zones (e.g. presence@grid:1000=...).
    #[arg(long = "product", value_name = "NAME=PATH")]
    products: Vec<String>,
    /// Cells with fewer true contributors than this are violations
    /// (FlowKit's redaction rule drops counts of 15 or fewer).
    #[arg(long, default_value_t = mobsynth::privacy::DEFAULT_K)]
    k: i64,
    /// Drop every released row whose count is below k before the audit (the
    /// naive suppression), then look for what still leaks.
    #[arg(long)]
    suppress: bool,
    /// Release each age × sex `footfall` with its zone totals (summed
    /// before suppression), as operators do.
    #[arg(long)]
    add_totals: bool,
    /// Release each hourly `od` with its daily totals (summed over
    /// departure hours before suppression).
    #[arg(long)]
    add_daily: bool,
    /// Subscribers sampled for unicity and trajectories scored.
    #[arg(long, default_value_t = mobsynth::privacy::DEFAULT_SAMPLE)]
    sample: usize,
    /// Skip the unicity curve of the raw log.
    #[arg(long)]
    no_unicity: bool,
    /// Skip trajectory recovery from presence.
    #[arg(long)]
    no_trajectory: bool,
    /// Also write the audit as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write a self-contained HTML report.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProductFormatArg {
    Parquet,
    Csv,
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Print a bundled scenario with every default written out.
    Show {
        /// default or ci-fixture.
        #[arg(default_value = "default")]
        name: String,
    },
    /// List the bundled scenarios.
    List,
}

const EXIT_FAILURE: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_UNREALISTIC: u8 = 3;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // One line, like every other error; `--help` has the details.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("mobsynth: error: {}", first.trim_start_matches("error: "));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    // A second signal while stopping gracefully ends the process at once.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    });
    match dispatch(cli, &interrupted) {
        Ok(code) => code,
        Err(Failure(code, message)) => {
            eprintln!("mobsynth: error: {message}");
            ExitCode::from(code)
        }
    }
}

/// An error message with its exit code.
struct Failure(u8, String);

fn bad_input(e: impl std::fmt::Display) -> Failure {
    Failure(EXIT_BAD_INPUT, e.to_string())
}

fn dispatch(cli: Cli, interrupted: &AtomicBool) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::InspectMap { map } => {
            let map = Map::load(&map).map_err(bad_input)?;
            let t = Instant::now();
            let router = Router::new(&map.graph);
            let prep = t.elapsed().as_secs_f64();
            drop(router);
            print!("{}", mobsynth::inspect::map_summary(&map));
            println!("routing prep   {prep:.3} s (contraction hierarchies for car, bike, walk)");
            Ok(ExitCode::SUCCESS)
        }
        Command::Scenario { command } => {
            match command {
                ScenarioCommand::Show { name } => {
                    print!("{}", Scenario::bundled(&name).map_err(bad_input)?.to_toml())
                }
                ScenarioCommand::List => {
                    for (name, _) in BUNDLED {
                        println!("{name}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run(*args, interrupted),
        Command::Validate(args) => validate(args),
        Command::Export(args) => export(args),
        Command::Products(args) => zone_products(&args, None),
        Command::Baseline(args) => {
            let site_zones = match args.site_zones {
                SiteZonesArg::Position => mobsynth::baseline::SiteZones::Position,
                SiteZonesArg::Coverage => mobsynth::baseline::SiteZones::Coverage,
            };
            zone_products(&args.products, Some((args.work_min_days, site_zones)))
        }
        Command::Score(args) => score(args),
        Command::Privacy(args) => privacy(args),
        Command::ScoreCleaning(args) => score_cleaning(args),
    }
}

fn product_request<'a>(
    z: &'a ZoneArgs,
    output: &'a std::path::Path,
    format: ProductFormatArg,
    overwrite: bool,
) -> Result<mobsynth::products::Request<'a>, Failure> {
    use mobsynth::products::{ProductOptions, tables::ProductFormat};
    if !(z.scale.is_finite() && z.scale > 0.0) {
        return Err(bad_input(format!(
            "--scale {}: expected a positive number",
            z.scale
        )));
    }
    Ok(mobsynth::products::Request {
        dataset: &z.dataset,
        zones: &z.zones,
        zone_id: z.zone_id.as_deref(),
        options: ProductOptions {
            min_dwell_min: z.min_dwell,
            scale: z.scale,
        },
        format: match format {
            ProductFormatArg::Parquet => ProductFormat::Parquet,
            ProductFormatArg::Csv => ProductFormat::Csv,
        },
        output,
        overwrite,
    })
}

fn products_failure(e: mobsynth::products::ProductsError) -> Failure {
    match e {
        mobsynth::products::ProductsError::Write(e) if !e.refused => {
            Failure(EXIT_FAILURE, e.to_string())
        }
        e => bad_input(e),
    }
}

/// `products`, or `baseline` with its work-day threshold and site zones.
fn zone_products(
    args: &ProductsArgs,
    baseline: Option<(u32, mobsynth::baseline::SiteZones)>,
) -> Result<ExitCode, Failure> {
    let request = product_request(&args.zones, &args.output, args.format, args.overwrite)?;
    let written = match baseline {
        None => mobsynth::products::write_truth(&request),
        Some((days, site_zones)) => mobsynth::baseline::write_baseline(&request, days, site_zones),
    }
    .map_err(products_failure)?;
    for (name, rows) in written {
        println!("{name:<10} {rows:>9} rows");
    }
    Ok(ExitCode::SUCCESS)
}

fn score_cleaning(args: ScoreCleaningArgs) -> Result<ExitCode, Failure> {
    use mobsynth::log_quality::score;
    let dataset = mobsynth::reader::DatasetReader::open(&args.dir).map_err(bad_input)?;
    let flagged = score::read_flagged(&args.flagged).map_err(bad_input)?;
    let s = score::score(&dataset, &flagged).map_err(bad_input)?;
    println!(
        "flagged {}  faulty {}  true positives {}  precision {:.4}  recall {:.4}",
        s.flagged,
        s.faulty,
        s.true_positives,
        s.precision(),
        s.recall()
    );
    println!(
        "{:<16} {:>10} {:>10} {:>8}",
        "fault", "events", "flagged", "recall"
    );
    for (fault, (n, hit)) in &s.by_fault {
        let recall = if *n == 0 {
            1.0
        } else {
            *hit as f64 / *n as f64
        };
        println!("{:<16} {n:>10} {hit:>10} {recall:>8.4}", fault.name());
    }
    Ok(ExitCode::SUCCESS)
}

fn score(args: ScoreArgs) -> Result<ExitCode, Failure> {
    use mobsynth::score::{RunError, SCORED, ScoreOptions};
    let mut files = Vec::new();
    for p in &args.products {
        let Some((name, path)) = p.split_once('=') else {
            return Err(bad_input(format!("--product {p}: expected NAME=PATH")));
        };
        if !SCORED.contains(&name) {
            return Err(bad_input(format!(
                "--product {p}: no product {name:?} (expected one of {})",
                SCORED.join(", ")
            )));
        }
        files.push((name.to_string(), PathBuf::from(path)));
    }
    let request = product_request(
        &args.zones,
        std::path::Path::new(""),
        ProductFormatArg::Parquet,
        false,
    )?;
    let options = ScoreOptions {
        mape_floor: args.mape_floor,
    };
    let scores = mobsynth::score::run(
        &request,
        &files,
        &options,
        args.truth.as_deref(),
        args.json.as_deref(),
        args.report.as_deref(),
    )
    .map_err(|e| match e {
        RunError::Products(e) => products_failure(e),
        RunError::Score(e) => bad_input(e),
        RunError::Write(m) => Failure(EXIT_FAILURE, m),
    })?;
    print!("{}", mobsynth::score::report::terminal_table(&scores));
    if let Some(max) = args.max_wape {
        let over: Vec<String> = scores
            .main_wapes()
            .into_iter()
            // A WAPE that cannot be computed (no truth at all) does not pass.
            .filter(|(_, w)| w.is_nan() || *w > max)
            .map(|(p, w)| format!("{p} {:.1}%", w * 100.0))
            .collect();
        if !over.is_empty() {
            return Err(Failure(
                EXIT_UNREALISTIC,
                format!("WAPE above --max-wape {max}: {}", over.join(", ")),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn privacy(args: PrivacyArgs) -> Result<ExitCode, Failure> {
    use mobsynth::privacy::{AUDITED, PrivacyError, PrivacyOptions};
    let mut files = Vec::new();
    for p in &args.products {
        let Some((name, path)) = p.split_once('=') else {
            return Err(bad_input(format!("--product {p}: expected NAME=PATH")));
        };
        let base = name.split_once('@').map_or(name, |(n, _)| n);
        if !AUDITED.contains(&base) {
            return Err(bad_input(format!(
                "--product {p}: no product {base:?} to audit (expected one of {})",
                AUDITED.join(", ")
            )));
        }
        files.push((name.to_string(), PathBuf::from(path)));
    }
    let products = product_request(
        &args.zones,
        std::path::Path::new(""),
        ProductFormatArg::Parquet,
        false,
    )?;
    let request = mobsynth::privacy::Request {
        products,
        files: &files,
        options: PrivacyOptions {
            k: args.k,
            suppress: args.suppress,
            add_totals: args.add_totals,
            add_daily: args.add_daily,
            sample: args.sample,
            unicity: !args.no_unicity,
            trajectory: !args.no_trajectory,
        },
        json: args.json.as_deref(),
        html: args.report.as_deref(),
    };
    let audit = mobsynth::privacy::run(&request).map_err(|e| match e {
        PrivacyError::Products(e) => products_failure(e),
        PrivacyError::Input(e) => bad_input(e),
        PrivacyError::Options(m) => bad_input(m),
        PrivacyError::Write(m) => Failure(EXIT_FAILURE, m),
    })?;
    print!("{}", mobsynth::privacy::report::terminal_table(&audit));
    Ok(ExitCode::SUCCESS)
}

fn run(args: RunArgs, interrupted: &AtomicBool) -> Result<ExitCode, Failure> {
    let bundled_name = |p: &PathBuf| {
        let name = p.to_str()?;
        (!p.exists() && BUNDLED.iter().any(|(n, _)| *n == name)).then_some(name.to_string())
    };
    let mut scenario = match &args.scenario {
        Some(path) => match bundled_name(path) {
            Some(name) => Scenario::bundled(&name),
            None => Scenario::from_file(path),
        },
        None => Scenario::bundled("default"),
    }
    .map_err(bad_input)?;
    let map_replaced = args.map.is_some();
    if let Some(m) = args.map {
        scenario.set_map_file(m);
    }
    // The time zone: --timezone, else the map's own when --map replaced the
    // map (or the scenario names none), else the scenario's.
    match args.timezone {
        Some(tz) => {
            scenario.timezone = tz;
            scenario.timezone_from_map = false;
        }
        None if map_replaced || scenario.timezone.trim().is_empty() => {
            scenario.use_map_time_zone().map_err(bad_input)?;
        }
        None => {}
    }
    if let Some(n) = args.subscribers {
        scenario.subscribers = n;
    }
    if let Some(d) = args.days {
        scenario.days = d;
    }
    if let Some(s) = args.start {
        scenario.start = s;
    }
    if let Some(s) = args.seed {
        scenario.seed = s;
    }
    if let Some(s) = args.positions_every {
        scenario.positions_every_s = s;
    }
    if args.no_truth {
        scenario.truth = false;
    }
    if let Err((key, message)) = scenario.check() {
        return Err(bad_input(format!(
            "`{key}` (from the command line or {}): {message}",
            scenario.origin
        )));
    }
    // A zone the scenario or --timezone names is the user's own; one taken
    // from the map is said, since the user did not choose it.
    if !args.quiet && scenario.timezone_from_map {
        eprintln!("time zone: {} (from the map's location)", scenario.timezone);
    }
    if let Some(warning) = scenario.time_zone_warning() {
        eprintln!("mobsynth: warning: {warning}");
    }
    let pace = match (args.rate, args.speed) {
        (Some(r), _) => Pace::Rate(r),
        (_, Some(x)) => Pace::Speed(x),
        _ => Pace::Unpaced,
    };
    let format = match args.format {
        FormatArg::Parquet => Format::Parquet,
        FormatArg::Csv => Format::Csv,
        FormatArg::Ndjson => Format::Ndjson,
    };
    let stream = args.stdout.then_some(StreamOptions {
        csv: matches!(args.format, FormatArg::Csv),
        pace,
        key: args.key,
    });
    let quiet = args.quiet;
    let options = RunOptions {
        scenario,
        output: OutputOptions {
            dir: args.output,
            format,
            compression: match args.compression {
                CompressionArg::Zstd => Compression::Zstd,
                CompressionArg::Snappy => Compression::Snappy,
                CompressionArg::None => Compression::None,
            },
            overwrite: args.overwrite,
            part: args.part,
            parts: args.parts,
        },
        threads: args.threads,
        stream,
        resume: args.resume,
    };
    // The library refuses the same; checked here too so that nothing is
    // asked about a run that cannot start.
    options
        .check()
        .map_err(|e| bad_input(cli_words(&e.to_string())))?;
    let dir = options.output.dir.clone();
    let streaming = options.stream.is_some();
    if !streaming && !args.yes {
        confirm_size(&options)?;
    }
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:30}] {pos}/{len} subscribers, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("simulating");
    let show = |p: Progress| {
        if bar.length() != Some(p.total) {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.reset_eta();
        } else {
            bar.set_position(p.done);
        }
    };
    let result = mobsynth::run::run(options, interrupted, &show);
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            if !quiet {
                eprint!("{}", summary(&report, &dir, streaming));
            }
            if report.completed {
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure(
                    EXIT_INTERRUPTED,
                    if streaming {
                        "interrupted; the stream stopped early".to_string()
                    } else {
                        format!(
                            "interrupted; {} holds only complete files and its manifest says the run is incomplete (--resume finishes it)",
                            dir.display()
                        )
                    },
                ))
            }
        }
        Err(e) if e.is_bad_input() => Err(bad_input(cli_words(&e.to_string()))),
        Err(e) => Err(Failure(EXIT_FAILURE, e.to_string())),
    }
}

/// The library names options as its fields are named; the command line
/// user knows them as flags.
fn cli_words(message: &str) -> String {
    let flags = [
        ("part ", "--part "),
        ("threads:", "--threads:"),
        ("resume and overwrite:", "--resume and --overwrite:"),
        ("resume:", "--resume:"),
        ("rate:", "--rate:"),
        ("speed:", "--speed:"),
    ];
    flags
        .iter()
        .find(|(word, _)| message.starts_with(word))
        .map_or(message.to_string(), |(word, flag)| {
            format!("{flag}{}", &message[word.len()..])
        })
}

fn summary(r: &RunReport, dir: &std::path::Path, streaming: bool) -> String {
    let mut s = String::new();
    if streaming {
        s += &format!("streamed {} events\n", r.events);
    } else {
        s += &format!("wrote {}\n", dir.display());
        if r.resumed_subscribers > 0 {
            s += &format!(
                "  resumed: the files of {} subscribers were already complete\n",
                r.resumed_subscribers
            );
        }
        for (table, rows) in &r.rows {
            s += &format!("  {table:<24} {rows:>12} rows\n");
        }
    }
    s += &format!(
        "{} subscribers, {} subscriber-days, {} events in {:.2} s ({:.0} events/s)",
        r.subscribers,
        r.subscriber_days,
        r.events,
        r.wall_s,
        r.events as f64 / r.wall_s.max(1e-9)
    );
    if let Some(b) = peak_rss_bytes() {
        s += &format!(", peak memory {:.0} MiB", b as f64 / (1 << 20) as f64);
    }
    s + "\n"
}

fn export(args: ExportArgs) -> Result<ExitCode, Failure> {
    use mobsynth::export::{ExportKind, ExportOptions};
    let options = ExportOptions {
        kind: match args.kind {
            ExportKindArg::Flowkit => ExportKind::Flowkit,
            ExportKindArg::Geoparquet => ExportKind::Geoparquet,
            ExportKindArg::Essnet => ExportKind::Essnet,
            ExportKindArg::Skmob => ExportKind::Skmob,
            ExportKindArg::Trackintel => ExportKind::Trackintel,
            ExportKindArg::Bandicoot => ExportKind::Bandicoot,
        },
        dataset: args.dataset,
        output: args.output,
        overwrite: args.overwrite,
        tick_s: args.tick,
    };
    let report = mobsynth::export::export(&options).map_err(|e| {
        let code = if e.is_bad_input() {
            EXIT_BAD_INPUT
        } else {
            EXIT_FAILURE
        };
        Failure(code, e.to_string())
    })?;
    eprintln!("wrote {}", options.output.display());
    for f in &report.files {
        eprintln!("  {:<40} {:>10} rows", f.path, f.rows);
    }
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> Result<ExitCode, Failure> {
    use mobsynth::validate::{dataset, report};
    let data = dataset::load(&args.dir, args.sample).map_err(bad_input)?;
    // With happenings, the judged metrics are those of the other days.
    let mut evaluation = dataset::evaluate_apart(&data);
    if !args.only.is_empty() {
        evaluation
            .select(&args.only)
            .map_err(|e| Failure(EXIT_BAD_INPUT, format!("--only: {e}")))?;
    }
    let metrics = &evaluation.metrics;
    if data.machines > 0 {
        println!(
            "{} IoT/M2M devices left out: the laws describe people",
            data.machines
        );
    }
    if let Some((kept, total)) = data.sampled {
        println!("measured on a deterministic sample of {kept} of {total} subscribers");
    }
    if let Some(h) = &evaluation.happening_days {
        print!("{}", report::ordinary_days_line(h));
    }
    print!("{}", report::terminal_table(metrics));
    if let Some(h) = &evaluation.happening_days {
        print!("{}", report::happening_days_table(h));
    }
    let write = |path: &PathBuf, text: String| {
        std::fs::write(path, text).map_err(|e| {
            Failure(
                EXIT_FAILURE,
                format!("{}: cannot write: {e}", path.display()),
            )
        })
    };
    if let Some(path) = &args.json {
        let json = evaluation
            .to_json()
            .map_err(|e| Failure(EXIT_FAILURE, e.to_string()))?;
        write(path, json + "\n")?;
    }
    if let Some(path) = &args.report {
        let title = format!("mobsynth realism report: {}", data.scenario_name);
        write(
            path,
            report::html_report_apart(
                &title,
                &evaluation,
                &mobsynth::validate::mapview::map_svg(&data),
            ),
        )?;
    }
    let failed: Vec<&str> = metrics
        .iter()
        .filter(|m| m.passed == Some(false))
        .map(|m| m.id)
        .collect();
    if args.strict && !failed.is_empty() {
        return Err(Failure(
            EXIT_UNREALISTIC,
            format!(
                "{} metric(s) outside their band: {}",
                failed.len(),
                failed.join(", ")
            ),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Above this, a run asks before it starts.
const LARGE_OUTPUT_BYTES: f64 = 200e9;

/// Guards against a request that would fill the disk or take far more than
/// was likely meant: states the estimate and asks, or refuses without a
/// terminal to ask on (`--yes` skips this).
fn confirm_size(options: &RunOptions) -> Result<(), Failure> {
    use std::io::{BufRead, IsTerminal, Write};
    let expected = options.estimate();
    let (estimate, memory) = (expected.output_bytes, expected.memory_bytes);
    let free = free_bytes(&options.output.dir);
    let problem = match (free, total_memory_bytes()) {
        (_, Some(total)) if memory > 0.9 * total as f64 => format!(
            "this run would need about {} of memory but the machine has {}",
            human(memory),
            human(total as f64)
        ),
        (free, _) => match free {
            Some(free) if estimate > 0.9 * free as f64 => format!(
                "this run would write about {} but only {} are free where {} goes",
                human(estimate),
                human(free as f64),
                options.output.dir.display()
            ),
            _ if estimate > LARGE_OUTPUT_BYTES => {
                format!("this run would write about {}", human(estimate))
            }
            _ => return Ok(()),
        },
    };
    if !std::io::stdin().is_terminal() {
        return Err(bad_input(format!("{problem}; pass --yes to run anyway")));
    }
    eprint!("mobsynth: {problem}. Continue? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(bad_input(format!("{problem}; not started")))
    }
}

/// Peak resident memory of this process, from the kernel's accounting.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Physical memory of the machine, from the kernel's accounting.
fn total_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Free bytes on the file system that holds `dir` (or its nearest existing
/// parent).
fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let mut probe = dir.to_path_buf();
    while !probe.exists() {
        probe = probe
            .parent()
            .filter(|p| !p.as_os_str().is_empty())?
            .to_path_buf();
    }
    let c = std::ffi::CString::new(probe.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated path and `stat` a properly sized,
    // writable struct that statvfs fills in.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut stat) };
    (rc == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

fn human(bytes: f64) -> String {
    if bytes >= 1e12 {
        format!("{:.1} TB", bytes / 1e12)
    } else if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else {
        format!("{:.0} MB", bytes / 1e6)
    }
}
