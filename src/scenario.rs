//! Scenario files: what to simulate, where, for how long, from which seed.
//!
//! A scenario is a TOML file. Top-level keys say what to run (map, seed,
//! subscribers, days, start date, time zone); one section per pipeline stage
//! holds that stage's model parameters, each with documented defaults. Parsing
//! happens in two steps: serde checks keys and types (unknown keys are
//! errors), then [`Scenario::validate`] checks values. Every error names the
//! file, the line and the key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, CalendarError};
use crate::days::MobilityParams;
use crate::events::PhoneParams;
use crate::happenings::HappeningSpec;
use crate::log_quality::LogQualityParams;
use crate::map::{Map, MapError};
use crate::population::PopulationParams;
use crate::population::canary::CanaryParams;
use crate::radio::{RadioParams, RadioSource};
use crate::social::SocialParams;
use crate::spec::RunSpec;

/// The bundled default scenario.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");
/// The bundled CI fixture: small and fast.
pub const CI_FIXTURE_SCENARIO: &str = include_str!("../scenarios/ci-fixture.toml");
/// The bundled default map, so that the default scenario runs from anywhere
/// (with the `bundled-map` feature, on by default).
/// © OpenStreetMap contributors, ODbL 1.0 (see scenarios/maps/README.md).
#[cfg(feature = "bundled-map")]
pub const BUNDLED_MAP: &[u8] = include_bytes!("../scenarios/maps/liechtenstein.osm.pbf");

/// The bundled map's bytes, when this build carries it.
pub fn bundled_map_bytes() -> Option<&'static [u8]> {
    #[cfg(feature = "bundled-map")]
    return Some(BUNDLED_MAP);
    #[cfg(not(feature = "bundled-map"))]
    None
}
/// The file name under which scenarios refer to the bundled map.
pub const BUNDLED_MAP_NAME: &str = "maps/liechtenstein.osm.pbf";

/// The scenarios compiled into the binary, by name.
pub const BUNDLED: &[(&str, &str)] = &[
    ("default", DEFAULT_SCENARIO),
    ("ci-fixture", CI_FIXTURE_SCENARIO),
];

/// A scenario error, with the place it was found.
#[derive(Debug, thiserror::Error)]
#[error("{origin}{}: {message}", line.map(|l| format!(": line {l}")).unwrap_or_default())]
pub struct ScenarioError {
    /// The scenario file, or `<bundled NAME>`.
    pub origin: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Where the map of a scenario comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapSource {
    /// A file on disk.
    File(PathBuf),
    /// The map compiled into the binary.
    Bundled,
}

/// A whole scenario.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, written into every output file.
    pub name: String,
    /// The `.osm.pbf` map, relative to the scenario file; the bundled map
    /// when omitted.
    #[serde(default = "bundled_map")]
    pub map: PathBuf,
    /// The seed all random streams derive from.
    pub seed: u64,
    /// Number of resident subscribers (inbound roamers come on top, see
    /// `[population]`).
    pub subscribers: u32,
    /// Number of simulated days.
    pub days: u32,
    /// First simulated day, `YYYY-MM-DD`, in local time.
    pub start: String,
    /// IANA time zone of the simulated region, e.g. `Europe/Vaduz`; when
    /// omitted, the zone at the map's location.
    #[serde(default)]
    pub timezone: String,
    /// Seconds between the true positions of the optional `truth/positions`
    /// table; 0 (the default) writes none.
    #[serde(default)]
    pub positions_every_s: u32,
    /// Whether to write the `truth/` tables (stays, trips, event positions).
    /// Without them a run writes only what an operator would hold
    /// (`subscribers`, `cells`, `events`), with the same bytes, faster.
    #[serde(default = "write_truth")]
    pub truth: bool,
    #[serde(default)]
    pub population: PopulationParams,
    #[serde(default)]
    pub mobility: MobilityParams,
    #[serde(default)]
    pub radio: RadioParams,
    #[serde(default)]
    pub phone: PhoneParams,
    /// Canary subscribers for privacy audits (`[canaries]`); none by
    /// default, and then not written, so output bytes do not change.
    #[serde(default, skip_serializing_if = "CanaryParams::is_off")]
    pub canaries: CanaryParams,
    /// Dirty logs: faults of the ingest, labelled in `truth/log_faults`.
    /// Off (absent) by default, and then written nowhere, so that the
    /// output is what it was without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_quality: Option<LogQualityParams>,
    /// Days that are not ordinary: gatherings, outages, closures,
    /// relocations (`[[happenings]]`). None by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub happenings: Vec<HappeningSpec>,
    /// Who calls whom: the social network among subscribers.
    #[serde(default)]
    pub social: SocialParams,
    /// Set when loaded; not part of the file.
    #[serde(skip)]
    pub origin: String,
    /// Whether `timezone` was taken from the map's location.
    #[serde(skip)]
    pub timezone_from_map: bool,
    #[serde(skip)]
    base_dir: Option<PathBuf>,
    /// The text parsed, to name the line of a value found wrong later
    /// (a happening checked against the map).
    #[serde(skip)]
    text: Option<String>,
}

fn write_truth() -> bool {
    true
}

fn bundled_map() -> PathBuf {
    PathBuf::from(BUNDLED_MAP_NAME)
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            origin: origin.clone(),
            line: None,
            message: format!("cannot read scenario file: {e}"),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Scenario::parse(&text, &origin, Some(base))
    }

    /// A scenario compiled into the binary, by name.
    pub fn bundled(name: &str) -> Result<Scenario, ScenarioError> {
        let (_, text) = BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ScenarioError {
                origin: format!("<bundled {name}>"),
                line: None,
                message: format!(
                    "no bundled scenario of that name; known: {}",
                    BUNDLED
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        Scenario::parse(text, &format!("<bundled {name}>"), None)
    }

    /// Parses and validates scenario text. `base_dir` resolves a relative
    /// map path; without it the map must be the bundled one.
    pub fn parse(
        text: &str,
        origin: &str,
        base_dir: Option<PathBuf>,
    ) -> Result<Scenario, ScenarioError> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError {
            origin: origin.to_string(),
            line: e.span().map(|s| line_at(text, s.start)),
            message: e.message().trim().replace('\n', " "),
        })?;
        scenario.origin = origin.to_string();
        scenario.base_dir = base_dir;
        scenario.text = Some(text.to_string());
        if scenario.timezone.trim().is_empty() {
            // A missing map is reported when it is loaded; here it only
            // leaves the zone unknown.
            if let Ok(Some(zone)) = scenario.map_time_zone() {
                scenario.timezone = zone;
                scenario.timezone_from_map = true;
            }
        }
        scenario.check().map_err(|(key, message)| ScenarioError {
            origin: origin.to_string(),
            line: line_of_key(text, &key),
            message: format!("`{key}`: {message}"),
        })?;
        Ok(scenario)
    }

    /// Checks values; the error is (dotted key, what was expected).
    pub fn check(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        if self.name.trim().is_empty() {
            return err("name", "must not be empty".into());
        }
        if self.subscribers == 0 {
            return err("subscribers", "must be at least 1".into());
        }
        if self.days == 0 || self.days > 3660 {
            return err(
                "days",
                format!("must be between 1 and 3660, got {}", self.days),
            );
        }
        if self.timezone.trim().is_empty() {
            return err(
                "timezone",
                "not given, and the map's location gives none: name an IANA time zone such as Europe/Vaduz".into(),
            );
        }
        if let Err(e) = self.calendar() {
            return err(e.key, e.message);
        }
        if self.canaries.count > self.subscribers {
            return err(
                "canaries.count",
                format!(
                    "must be at most the {} resident subscribers, got {}",
                    self.subscribers, self.canaries.count
                ),
            );
        }
        if self.positions_every_s > 86_400 {
            return err(
                "positions_every_s",
                format!(
                    "must be between 1 and 86400 seconds, or 0 for none, got {}",
                    self.positions_every_s
                ),
            );
        }
        if !self.truth && self.positions_every_s > 0 {
            return err(
                "positions_every_s",
                "`truth/positions` is a truth table: set it to 0, or `truth` to true".to_string(),
            );
        }
        let section = |name: &str, r: Result<(), (String, String)>| {
            r.map_err(|(k, m)| (format!("{name}.{k}"), m))
        };
        section("population", self.population.check())?;
        section("mobility", self.mobility.check())?;
        section("radio", self.radio.check())?;
        section("phone", self.phone.check())?;
        if let Some(q) = &self.log_quality {
            section("log_quality", q.check())?;
        }
        // A gathering's added events carry the happening's index in 7 bits
        // of their id.
        if self.happenings.len() > 100 {
            return err(
                "happenings",
                format!("at most 100 happenings, got {}", self.happenings.len()),
            );
        }
        for (i, h) in self.happenings.iter().enumerate() {
            section(&format!("happenings[{i}]"), h.check())?;
        }
        section("social", self.social.check())?;
        Ok(())
    }

    /// The run's calendar: its days in the scenario's time zone, with the
    /// `[mobility]` holidays.
    pub fn calendar(&self) -> Result<Calendar, CalendarError> {
        Calendar::new(
            &self.start,
            self.days,
            &self.timezone,
            &self.mobility.holiday_dates(),
        )
    }

    /// The line of the scenario file where a dotted key is set, when the
    /// scenario was parsed from text.
    pub fn line_of(&self, dotted: &str) -> Option<usize> {
        self.text.as_deref().and_then(|t| line_of_key(t, dotted))
    }

    /// The first simulated day.
    pub fn start_date(&self) -> Result<jiff::civil::Date, String> {
        crate::calendar::parse_date(&self.start)
    }

    /// The region's time zone.
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, String> {
        crate::calendar::time_zone(&self.timezone)
    }

    /// The run as the stages see it, on `calendar` (from
    /// [`Scenario::calendar`]).
    pub fn spec<'c>(&self, calendar: &'c Calendar) -> RunSpec<'c> {
        RunSpec {
            seed: self.seed,
            subscribers: self.subscribers,
            calendar,
        }
    }

    /// The time zone at the location of the scenario's map (the centre of
    /// the extract), from the boundaries embedded in the binary; `None`
    /// when the location has none (the open sea) or the file tells no
    /// location.
    pub fn map_time_zone(&self) -> Result<Option<String>, MapError> {
        let centre = match self.map_source() {
            MapSource::File(path) => crate::map::zone::centre_of_file(&path)?,
            MapSource::Bundled => bundled_map_bytes().and_then(crate::map::zone::centre_of_bytes),
        };
        Ok(centre.and_then(|(lon, lat)| crate::map::zone::zone_at(lon, lat)))
    }

    /// Takes the time zone from the map's location (after the map was
    /// replaced); keeps the current one when the location gives none.
    pub fn use_map_time_zone(&mut self) -> Result<(), MapError> {
        if let Some(zone) = self.map_time_zone()? {
            self.timezone = zone;
            self.timezone_from_map = true;
        }
        Ok(())
    }

    /// A warning naming both zones when the scenario's time zone and the
    /// map's location are more than a few hours of UTC offset apart (at the
    /// first simulated day), which means the days run at the wrong local
    /// times.
    pub fn time_zone_warning(&self) -> Option<String> {
        let map_zone = self.map_time_zone().ok()??;
        let when = self
            .calendar()
            .ok()?
            .days()
            .first()
            .map(|d| d.start_utc)
            .and_then(|t| jiff::Timestamp::from_second(t).ok())?;
        let gap = crate::map::zone::offset_gap_hours(&self.timezone, &map_zone, when)?;
        (gap > crate::map::zone::DISAGREEMENT_HOURS).then(|| {
            format!(
                "the scenario's time zone {} is {gap} hours of UTC offset away from {map_zone}, the zone at the map's location; days run in {} local time (give --timezone {map_zone} to follow the map)",
                self.timezone, self.timezone
            )
        })
    }

    /// Loads the scenario's map.
    pub fn load_map(&self) -> Result<Map, MapError> {
        match self.map_source() {
            MapSource::File(path) => Map::load(&path),
            MapSource::Bundled => bundled_map_bytes()
                .map(|bytes| Map::load_bytes(Path::new(BUNDLED_MAP_NAME), bytes))
                .unwrap_or_else(|| Err(MapError::NotBundled)),
        }
    }

    /// The `[radio] file` resolved against the scenario's directory, when
    /// the cells come from a file.
    pub fn radio_file(&self) -> Option<PathBuf> {
        match (&self.radio.source, &self.radio.file) {
            (RadioSource::Generated, _) | (_, None) => None,
            (_, Some(file)) => Some(self.resolve_path(file)),
        }
    }

    /// Where to read the map from.
    pub fn map_source(&self) -> MapSource {
        match &self.base_dir {
            Some(dir) => MapSource::File(dir.join(&self.map)),
            None if self.map == Path::new(BUNDLED_MAP_NAME) => MapSource::Bundled,
            None => MapSource::File(self.map.clone()),
        }
    }

    /// A path from the scenario file, resolved against the scenario's
    /// directory when it is relative.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        match &self.base_dir {
            Some(dir) => dir.join(p),
            None => p.to_path_buf(),
        }
    }

    /// Replaces the map by a file given on the command line.
    pub fn set_map_file(&mut self, path: PathBuf) {
        self.map = path;
        self.base_dir = Some(PathBuf::new());
    }

    /// The scenario as TOML, with every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// 1-based line number of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where a dotted key (`key`, `section.key`,
/// `section.array[2].key`) is set; for a key that is itself a table, the
/// line of its header.
fn line_of_key(text: &str, dotted: &str) -> Option<usize> {
    let (section, key) = match dotted.rsplit_once('.') {
        Some((s, k)) => (Some(s), k),
        None => (None, dotted),
    };
    // A list value is named with its index; the line is the key's.
    let key = key.split('[').next().unwrap_or(key);
    let mut current: Option<String> = None;
    let mut array_counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut headers: Vec<(String, usize)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix("[[") {
            let name = h.trim_end_matches("]]").trim().to_string();
            let n = array_counts.entry(name.clone()).or_default();
            current = Some(format!("{name}[{n}]"));
            *n += 1;
        } else if let Some(h) = t.strip_prefix('[') {
            current = Some(h.trim_end_matches(']').trim().to_string());
        } else {
            let in_section = match (section, &current) {
                (None, None) => true,
                (Some(s), Some(c)) => s == c,
                _ => false,
            };
            if in_section
                && t.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                return Some(i + 1);
            }
            continue;
        }
        headers.push((current.clone().unwrap_or_default(), i + 1));
    }
    // Not set by a line of its own: the header of the table it belongs to,
    // or of the table it is.
    let base = dotted.split('[').next().unwrap_or(dotted);
    [dotted, section.unwrap_or_default(), base]
        .iter()
        .find_map(|want| {
            headers
                .iter()
                .find(|(name, _)| name == want)
                .map(|(_, line)| *line)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "name = \"t\"\nmap = \"m.osm.pbf\"\nseed = 1\nsubscribers = 10\ndays = 1\nstart = \"2026-03-02\"\ntimezone = \"Europe/Vaduz\"\n";

    #[test]
    fn bundled_scenarios_parse_and_use_the_bundled_map() {
        for (name, _) in BUNDLED {
            let s = Scenario::bundled(name).unwrap();
            assert_eq!(s.map_source(), MapSource::Bundled, "{name}");
        }
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = format!("{MINIMAL}colour = \"blue\"\n");
        let e = Scenario::parse(&text, "s.toml", None).unwrap_err();
        assert_eq!(e.line, Some(8));
        assert!(e.to_string().contains("colour"), "{e}");
        assert!(e.to_string().starts_with("s.toml: line 8:"), "{e}");
    }

    #[test]
    fn wrong_type_is_named_with_its_line() {
        let text = MINIMAL.replace("subscribers = 10", "subscribers = \"many\"");
        let e = Scenario::parse(&text, "s.toml", None).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let negative = MINIMAL.replace("subscribers = 10", "subscribers = -5");
        let e = Scenario::parse(&negative, "s.toml", None).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn impossible_values_name_their_key() {
        for (from, to, key, line) in [
            ("subscribers = 10", "subscribers = 0", "subscribers", 4),
            ("2026-03-02", "2026-02-30", "start", 6),
            ("Europe/Vaduz", "Europe/Atlantis", "timezone", 7),
            ("days = 1", "days = 0", "days", 5),
        ] {
            let e = Scenario::parse(&MINIMAL.replace(from, to), "s.toml", None).unwrap_err();
            assert!(e.message.contains(key), "{e}");
            assert_eq!(e.line, Some(line), "{e}");
        }
    }

    #[test]
    fn relative_map_paths_resolve_against_the_scenario_file() {
        let s = Scenario::parse(MINIMAL, "x/s.toml", Some(PathBuf::from("x"))).unwrap();
        assert_eq!(
            s.map_source(),
            MapSource::File(PathBuf::from("x/m.osm.pbf"))
        );
    }

    #[test]
    fn a_written_scenario_parses_back_to_the_same() {
        let s = Scenario::bundled("default").unwrap();
        let again = Scenario::parse(&s.to_toml(), "again", None).unwrap();
        assert_eq!(s.to_toml(), again.to_toml());
    }
}
