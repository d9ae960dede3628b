//! The `mobsynth` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use mobsynth::map::Map;
use mobsynth::routing::Router;
use mobsynth::scenario::{BUNDLED, Scenario};

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
    /// Print what a map file holds once imported: roads, components, places.
    InspectMap {
        /// An OpenStreetMap `.osm.pbf` file.
        map: PathBuf,
    },
    /// Run a scenario.
    Run(RunArgs),
    /// Bundled scenarios.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario file; the bundled default scenario when omitted.
    scenario: Option<PathBuf>,
    /// Use this `.osm.pbf` map instead of the scenario's.
    #[arg(long)]
    map: Option<PathBuf>,
    /// Number of resident subscribers.
    #[arg(long)]
    subscribers: Option<u32>,
    /// Number of days.
    #[arg(long)]
    days: Option<u32>,
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    start: Option<String>,
    /// Seed of every random stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads; all cores when omitted.
    #[arg(long)]
    threads: Option<usize>,
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

/// Exit codes: 0 success, 1 a failure while running, 2 bad input or usage.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mobsynth: error: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::InspectMap { map } => {
            let map = Map::load(&map)?;
            let t = Instant::now();
            let router = Router::new(&map.graph);
            let prep = t.elapsed().as_secs_f64();
            drop(router);
            print!("{}", mobsynth::inspect::map_summary(&map));
            println!("routing prep   {prep:.3} s (contraction hierarchies for car, bike, walk)");
            Ok(())
        }
        Command::Scenario { command } => {
            match command {
                ScenarioCommand::Show { name } => print!("{}", Scenario::bundled(&name)?.to_toml()),
                ScenarioCommand::List => {
                    for (name, _) in BUNDLED {
                        println!("{name}");
                    }
                }
            }
            Ok(())
        }
        Command::Run(args) => {
            let mut scenario = match &args.scenario {
                Some(path) => Scenario::from_file(path)?,
                None => Scenario::bundled("default")?,
            };
            if let Some(m) = args.map {
                scenario.set_map_file(m);
            }
            let _ = (
                args.subscribers,
                args.days,
                args.start,
                args.seed,
                args.threads,
            );
            println!("scenario {} loaded", scenario.name);
            Ok(())
        }
    }
}
