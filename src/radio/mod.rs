//! The radio network: sites, cells, tracking areas and the signal model.
//!
//! A [`Network`] comes from one of three sources ([`RadioSource`]): sites
//! generated from the map's population and road density ([`layout`]), an
//! OpenCelliD export or an operator-style cell plan ([`import`]). Cells are
//! grouped into tracking areas ([`tracking`]). Received levels follow
//! [`signal`]; the best servers of every point the simulation can visit are
//! computed once per map ([`coverage`]) and only looked up afterwards.

pub mod coverage;
pub mod import;
pub mod layout;
pub mod signal;
pub mod tracking;

use std::path::{Path, PathBuf};

use geo::Coord;
use serde::{Deserialize, Serialize};

use crate::map::Map;

pub use coverage::{Coverage, SERVERS, Server, Servers};
pub use signal::AntennaModel;

/// Where the cells come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RadioSource {
    /// Sites placed by population and road density (see [`layout`]).
    #[default]
    Generated,
    /// An OpenCelliD CSV export, filtered to the map and to `mcc`/`mnc`.
    Opencellid,
    /// A cell-plan CSV (see [`import::read_cell_plan`] for its columns).
    CellPlan,
}

/// A radio access technology; each one is a separate layer of cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Technology {
    Gsm,
    Umts,
    Lte,
    Nr,
}

impl Technology {
    pub const ALL: [Technology; 4] = [
        Technology::Gsm,
        Technology::Umts,
        Technology::Lte,
        Technology::Nr,
    ];

    /// The name used in files: GSM, UMTS, LTE, NR.
    pub fn name(self) -> &'static str {
        match self {
            Technology::Gsm => "GSM",
            Technology::Umts => "UMTS",
            Technology::Lte => "LTE",
            Technology::Nr => "NR",
        }
    }

    /// Parses a name as written by OpenCelliD or a cell plan (any case).
    pub fn parse(s: &str) -> Option<Technology> {
        let s = s.trim();
        Technology::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }

    /// Metres per timing-advance step: GSM counts bit periods (553.5 m),
    /// LTE and NR 16·Ts (78.12 m). UMTS has no timing advance.
    pub fn timing_advance_step_m(self) -> Option<f64> {
        match self {
            Technology::Gsm => Some(553.5),
            Technology::Umts => None,
            Technology::Lte | Technology::Nr => Some(78.12),
        }
    }
}

/// The environment a generated site serves; it sets mast height, power,
/// tilt and path-loss exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Environment {
    Urban,
    Suburban,
    Rural,
}

impl Environment {
    pub fn name(self) -> &'static str {
        match self {
            Environment::Urban => "urban",
            Environment::Suburban => "suburban",
            Environment::Rural => "rural",
        }
    }
}

/// Dense index of a cell in [`Network::cells`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellIdx(pub u32);

impl CellIdx {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A global cell identity packed into 64 bits, ECGI-style:
/// `mcc << 46 | mnc << 36 | cell`, where `cell` is the cell identity within
/// the network, up to 36 bits: the 28-bit E-UTRAN cell identity (eNodeB id ×
/// 256 + sector), the 36-bit NR cell identity, or for GSM and UMTS the cell
/// identity as the source gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellId(pub u64);

impl CellId {
    /// Largest cell identity within a network (36 bits).
    pub const MAX_LOCAL: u64 = (1 << 36) - 1;

    pub fn new(mcc: u16, mnc: u16, cell: u64) -> CellId {
        CellId(((mcc as u64) << 46) | ((mnc as u64) << 36) | (cell & Self::MAX_LOCAL))
    }
    pub fn mcc(self) -> u16 {
        (self.0 >> 46) as u16
    }
    pub fn mnc(self) -> u16 {
        ((self.0 >> 36) & 0x3FF) as u16
    }
    /// The cell identity within the network.
    pub fn local(self) -> u64 {
        self.0 & Self::MAX_LOCAL
    }
}

/// One cell (a sector, or an omni cell) with everything the `cells` table
/// and the signal model need.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub idx: CellIdx,
    pub id: CellId,
    /// Dense site index; cells of one site share a mast and a shadowing field.
    pub site: u32,
    /// Antenna position, projected metres.
    pub pos: Coord,
    pub lon: f64,
    pub lat: f64,
    /// Boresight bearing, degrees from north; `None` for an omni cell.
    pub azimuth_deg: Option<f64>,
    pub technology: Technology,
    /// Tracking-area code (location-area code for GSM and UMTS).
    pub tac: u32,
    /// Antenna height above ground, metres.
    pub height_m: f64,
    /// Total transmit power, dBm.
    pub power_dbm: f64,
    /// Peak antenna gain, dBi.
    pub gain_dbi: f64,
    /// Electrical + mechanical down-tilt, degrees.
    pub tilt_deg: f64,
    pub h_beamwidth_deg: f64,
    pub v_beamwidth_deg: f64,
    /// Exponent of the log-distance path loss.
    pub path_loss_exponent: f64,
    pub environment: Environment,
}

/// Parameters of the radio network, from the scenario's `[radio]` section.
/// Sources of the defaults are in `docs/MODEL.md`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RadioParams {
    /// `generated` (default), `opencellid` or `cell_plan`.
    pub source: RadioSource,
    /// The CSV file for `opencellid` and `cell_plan`, relative to the
    /// scenario file.
    pub file: Option<PathBuf>,
    /// Mobile country code of the simulated network (001, ITU test network).
    pub mcc: u16,
    /// Mobile network code of the simulated network (01).
    pub mnc: u16,
    /// Technology layers: built by `generated`, kept by the importers.
    /// Default `["LTE"]`.
    pub technologies: Vec<Technology>,
    /// Inter-site distance in the densest areas, metres (400).
    pub isd_min_m: f64,
    /// Inter-site distance in the emptiest areas that have roads, metres (6000).
    pub isd_max_m: f64,
    /// Sites per tracking area when TACs come from clustering (30).
    pub sites_per_tracking_area: u32,
    /// Path-loss exponents by environment (3.6 urban, 3.3 suburban, 3.0 rural).
    pub path_loss_exponent_urban: f64,
    pub path_loss_exponent_suburban: f64,
    pub path_loss_exponent_rural: f64,
    /// Standard deviation of the log-normal shadowing, dB (8).
    pub shadowing_sigma_db: f64,
    /// Decorrelation distance of the shadowing, metres (80).
    pub shadowing_correlation_m: f64,
    /// Correlation of the shadowing of two sites at one point (0.5).
    pub shadowing_site_correlation: f64,
    /// Horizontal 3 dB beamwidth of sector antennas, degrees (65).
    pub h_beamwidth_deg: f64,
    /// Vertical 3 dB beamwidth, degrees (10).
    pub v_beamwidth_deg: f64,
    /// Front-to-back cap Am, dB (25).
    pub front_to_back_db: f64,
    /// Vertical side-lobe cap SLAv, dB (20).
    pub side_lobe_db: f64,
    /// Peak gain of a sector antenna, dBi (15).
    pub sector_gain_dbi: f64,
    /// Gain of an omni antenna, dBi (11).
    pub omni_gain_dbi: f64,
    /// Side of the coverage raster, metres (50).
    pub coverage_resolution_m: f64,
    /// Idle-mode reselection hysteresis, dB (4).
    pub idle_hysteresis_db: f64,
    /// Idle-mode reselection timer Treselection, seconds (1).
    pub reselection_time_s: f64,
    /// Connected-mode A3 offset, dB (3).
    pub a3_offset_db: f64,
    /// Connected-mode time-to-trigger, milliseconds (320).
    pub time_to_trigger_ms: f64,
    /// Periodic tracking-area update timer T3412, minutes (54).
    pub t3412_min: f64,
}

impl Default for RadioParams {
    fn default() -> Self {
        RadioParams {
            source: RadioSource::Generated,
            file: None,
            mcc: 1,
            mnc: 1,
            technologies: vec![Technology::Lte],
            isd_min_m: 400.0,
            isd_max_m: 6000.0,
            sites_per_tracking_area: 30,
            path_loss_exponent_urban: 3.6,
            path_loss_exponent_suburban: 3.3,
            path_loss_exponent_rural: 3.0,
            shadowing_sigma_db: 8.0,
            shadowing_correlation_m: 80.0,
            shadowing_site_correlation: 0.5,
            h_beamwidth_deg: 65.0,
            v_beamwidth_deg: 10.0,
            front_to_back_db: 25.0,
            side_lobe_db: 20.0,
            sector_gain_dbi: 15.0,
            omni_gain_dbi: 11.0,
            coverage_resolution_m: 50.0,
            idle_hysteresis_db: 4.0,
            reselection_time_s: 1.0,
            a3_offset_db: 3.0,
            time_to_trigger_ms: 320.0,
            t3412_min: 54.0,
        }
    }
}

impl RadioParams {
    /// Checks values; the error is (key, what was expected).
    pub fn check(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        if self.source != RadioSource::Generated && self.file.is_none() {
            return err(
                "file",
                "is required when source is opencellid or cell_plan".into(),
            );
        }
        if self.mcc > 999 {
            return err("mcc", format!("must be at most 999, got {}", self.mcc));
        }
        if self.mnc > 999 {
            return err("mnc", format!("must be at most 999, got {}", self.mnc));
        }
        if self.technologies.is_empty() {
            return err(
                "technologies",
                "must list at least one of GSM, UMTS, LTE, NR".into(),
            );
        }
        let positive: [(&str, f64); 12] = [
            ("isd_min_m", self.isd_min_m),
            ("isd_max_m", self.isd_max_m),
            ("path_loss_exponent_urban", self.path_loss_exponent_urban),
            (
                "path_loss_exponent_suburban",
                self.path_loss_exponent_suburban,
            ),
            ("path_loss_exponent_rural", self.path_loss_exponent_rural),
            ("shadowing_correlation_m", self.shadowing_correlation_m),
            ("h_beamwidth_deg", self.h_beamwidth_deg),
            ("v_beamwidth_deg", self.v_beamwidth_deg),
            ("coverage_resolution_m", self.coverage_resolution_m),
            ("t3412_min", self.t3412_min),
            ("front_to_back_db", self.front_to_back_db),
            ("side_lobe_db", self.side_lobe_db),
        ];
        for (k, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return err(k, format!("must be a positive number, got {v}"));
            }
        }
        let non_negative: [(&str, f64); 5] = [
            ("shadowing_sigma_db", self.shadowing_sigma_db),
            ("idle_hysteresis_db", self.idle_hysteresis_db),
            ("reselection_time_s", self.reselection_time_s),
            ("a3_offset_db", self.a3_offset_db),
            ("time_to_trigger_ms", self.time_to_trigger_ms),
        ];
        for (k, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return err(k, format!("must be zero or more, got {v}"));
            }
        }
        if !(0.0..=1.0).contains(&self.shadowing_site_correlation) {
            return err(
                "shadowing_site_correlation",
                format!(
                    "must be between 0 and 1, got {}",
                    self.shadowing_site_correlation
                ),
            );
        }
        if self.isd_max_m < self.isd_min_m {
            return err("isd_max_m", "must not be below isd_min_m".into());
        }
        if self.sites_per_tracking_area == 0 {
            return err("sites_per_tracking_area", "must be at least 1".into());
        }
        if !(5.0..=1000.0).contains(&self.coverage_resolution_m) {
            return err(
                "coverage_resolution_m",
                format!(
                    "must be between 5 and 1000, got {}",
                    self.coverage_resolution_m
                ),
            );
        }
        Ok(())
    }

    /// The path-loss exponent of an environment.
    pub fn exponent(&self, env: Environment) -> f64 {
        match env {
            Environment::Urban => self.path_loss_exponent_urban,
            Environment::Suburban => self.path_loss_exponent_suburban,
            Environment::Rural => self.path_loss_exponent_rural,
        }
    }

    /// The model constants shared by every cell.
    pub fn antenna_model(&self, seed: u64) -> AntennaModel {
        AntennaModel {
            front_to_back_db: self.front_to_back_db,
            side_lobe_db: self.side_lobe_db,
            shadowing_sigma_db: self.shadowing_sigma_db,
            shadowing_correlation_m: self.shadowing_correlation_m,
            shadowing_site_correlation: self.shadowing_site_correlation,
            seed,
        }
    }
}

/// Errors while building the network. Each names the file, the line and the
/// field when there is one.
#[derive(Debug, thiserror::Error)]
pub enum RadioError {
    /// The cell file could not be read; check the path in `[radio] file`.
    #[error("{path}: cannot read cell file: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line of a CSV file is malformed; fix the named field.
    #[error("{path}: line {line}: field `{field}`: {message}")]
    Csv {
        path: PathBuf,
        line: usize,
        field: String,
        message: String,
    },
    /// The file has no header, or its header lacks a required column.
    #[error("{path}: line 1: {message}")]
    Header { path: PathBuf, message: String },
    /// No cell survived the filters (technology, MCC/MNC, map extent).
    #[error("{path}: {message}")]
    NoCells { path: PathBuf, message: String },
    /// The generated layout found nowhere to put a site.
    #[error("cannot generate a radio network: {0}")]
    Layout(String),
}

/// One technology layer: its cells, an index of its sites and the
/// precomputed best servers.
#[derive(Debug)]
pub struct Layer {
    pub technology: Technology,
    pub coverage: Coverage,
}

/// The radio network of a run.
#[derive(Debug)]
pub struct Network {
    cells: Vec<Cell>,
    layers: Vec<Layer>,
    params: RadioParams,
    model: AntennaModel,
}

/// Dense index of a layer in [`Network::layers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerIdx(pub u8);

/// The lower-left and upper-right corners of a set of points, if any.
fn bounds(points: impl IntoIterator<Item = Coord>) -> Option<(Coord, Coord)> {
    points.into_iter().fold(None, |acc, p| {
        let (lo, hi) = acc.unwrap_or((p, p));
        Some((
            Coord {
                x: lo.x.min(p.x),
                y: lo.y.min(p.y),
            },
            Coord {
                x: hi.x.max(p.x),
                y: hi.y.max(p.y),
            },
        ))
    })
}

impl Network {
    /// Builds the network on a map: reads the cells from `file` (the
    /// `[radio] file`, resolved to a path) or generates them, assigns
    /// tracking areas, then precomputes coverage along every road and at
    /// every place.
    pub fn build(
        params: &RadioParams,
        file: Option<&Path>,
        seed: u64,
        map: &Map,
    ) -> Result<Network, RadioError> {
        let file = file.unwrap_or(Path::new(""));
        let cells = match params.source {
            RadioSource::Generated => layout::generate(params, map, seed)?,
            RadioSource::Opencellid => import::read_opencellid(file, params, map)?,
            RadioSource::CellPlan => import::read_cell_plan(file, params, map)?,
        };
        let points = coverage::points_to_cover(map);
        Ok(Network::from_cells(cells, params, seed, &points))
    }

    /// A network from ready cells (TACs already set), with coverage
    /// precomputed at `points` (projected metres). Elsewhere it is computed
    /// on demand, with the same result.
    pub fn from_cells(
        mut cells: Vec<Cell>,
        params: &RadioParams,
        seed: u64,
        points: &[Coord],
    ) -> Network {
        for (i, c) in cells.iter_mut().enumerate() {
            c.idx = CellIdx(i as u32);
        }
        let model = params.antenna_model(seed);
        let mut techs: Vec<Technology> = cells.iter().map(|c| c.technology).collect();
        techs.sort();
        techs.dedup();
        let layers = techs
            .into_iter()
            .map(|t| Layer {
                technology: t,
                coverage: Coverage::build(&cells, t, &model, params.coverage_resolution_m, points),
            })
            .collect();
        Network {
            cells,
            layers,
            params: params.clone(),
            model,
        }
    }

    /// Every cell, ordered by [`CellIdx`].
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    pub fn cell(&self, idx: CellIdx) -> &Cell {
        &self.cells[idx.index()]
    }

    /// The technology layers present, in [`Technology`] order.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The layer of a technology, if the network has it.
    pub fn layer_of(&self, t: Technology) -> Option<LayerIdx> {
        self.layers
            .iter()
            .position(|l| l.technology == t)
            .map(|i| LayerIdx(i as u8))
    }

    pub fn params(&self) -> &RadioParams {
        &self.params
    }

    /// The best servers of a layer at a point, strongest first.
    pub fn servers(&self, layer: LayerIdx, p: Coord) -> Servers {
        self.layers[layer.0 as usize]
            .coverage
            .servers(&self.cells, &self.model, p)
    }

    /// The level (dBm) a handset at `p` receives from one cell, computed
    /// exactly (not from the raster).
    pub fn received_dbm(&self, cell: CellIdx, p: Coord) -> f64 {
        signal::received_dbm(&self.cells[cell.index()], &self.model, p)
    }
}
