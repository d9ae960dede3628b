//! Importers: OpenCelliD exports and cell-plan CSV files.
//!
//! Both are plain comma-separated text without quoting, as OpenCelliD
//! writes it. Every malformed value is reported with the file, the 1-based
//! line and the column name; a file that leaves no cell on the map is an
//! error too, since a network without cells cannot locate anybody.

use std::collections::BTreeMap;
use std::path::Path;

use geo::Coord;

use crate::map::Map;

use super::layout::site_defaults;
use super::{Cell, CellId, CellIdx, Environment, RadioError, RadioParams, Technology, tracking};

/// The columns of an OpenCelliD export, in order.
pub const OPENCELLID_COLUMNS: [&str; 14] = [
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
];

/// The columns a cell plan may have. `cell` and either `lon`/`lat` or
/// `x`/`y` (projected metres of the map) are required; the others take the
/// defaults of `[radio]` and of the site environment when absent or empty.
pub const CELL_PLAN_COLUMNS: [&str; 17] = [
    "cell",
    "site",
    "lon",
    "lat",
    "x",
    "y",
    "technology",
    "tac",
    "height_m",
    "azimuth_deg",
    "tilt_deg",
    "h_beamwidth_deg",
    "v_beamwidth_deg",
    "power_dbm",
    "gain_dbi",
    "path_loss_exponent",
    "environment",
];

/// The largest tracking-area code: 5G's are 24 bits, LTE's and the
/// location-area codes of GSM and UMTS 16.
pub const MAX_AREA_CODE: u32 = (1 << 24) - 1;

fn read_text(path: &Path) -> Result<String, RadioError> {
    std::fs::read_to_string(path).map_err(|source| RadioError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses one field; the error names the file, line and column.
struct LineCtx<'a> {
    path: &'a Path,
    line: usize,
}

impl LineCtx<'_> {
    fn err(&self, field: &str, message: String) -> RadioError {
        RadioError::Csv {
            path: self.path.to_path_buf(),
            line: self.line,
            field: field.to_string(),
            message,
        }
    }

    fn num<T: std::str::FromStr>(
        &self,
        field: &str,
        raw: &str,
        what: &str,
    ) -> Result<T, RadioError> {
        raw.trim()
            .parse::<T>()
            .map_err(|_| self.err(field, format!("expected {what}, got {raw:?}")))
    }

    /// A tracking-area or location-area code: 16 bits (LAC, LTE TAC) or 24
    /// (5G TAC), so that it fits the signed 32-bit `tac` columns.
    fn area_code(&self, field: &str, raw: &str) -> Result<u32, RadioError> {
        let what = format!("an area code (0–{MAX_AREA_CODE})");
        let v: u32 = self.num(field, raw, &what)?;
        if v > MAX_AREA_CODE {
            return Err(self.err(field, format!("expected {what}, got {v}")));
        }
        Ok(v)
    }

    fn float(
        &self,
        field: &str,
        raw: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Result<f64, RadioError> {
        let v: f64 = self.num(field, raw, "a number")?;
        if !v.is_finite() || !range.contains(&v) {
            return Err(self.err(
                field,
                format!(
                    "expected a number from {} to {}, got {raw:?}",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(v)
    }
}

/// Splits a line on commas, trimming blanks and a trailing carriage return.
fn split(line: &str) -> impl Iterator<Item = &str> {
    line.trim_end_matches('\r').split(',').map(str::trim)
}

/// Reads an OpenCelliD export, keeping the cells of `[radio] mcc`/`mnc`
/// and `technologies` that lie in the map's bounding box. The header line is
/// optional. OpenCelliD positions are averages of where the cell was heard,
/// not masts, and have no azimuth: cells become omni cells at that point,
/// and the cells of one LTE eNodeB share a site. The `area` column is the
/// tracking (or location) area code; `range` picks the environment. Rows of
/// technologies mobsynth does not model (CDMA) are skipped, and so are
/// repeated cells after the first.
pub fn read_opencellid(
    path: &Path,
    params: &RadioParams,
    map: &Map,
) -> Result<Vec<Cell>, RadioError> {
    let text = read_text(path)?;
    let mut cells = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut sites: BTreeMap<(Technology, u64), u32> = BTreeMap::new();
    let (mut of_network, mut outside) = (0usize, 0usize);
    for (i, line) in text.lines().enumerate() {
        let ctx = LineCtx { path, line: i + 1 };
        if line.trim().is_empty()
            || (i == 0 && line.trim_start().to_ascii_lowercase().starts_with("radio"))
        {
            continue;
        }
        let mut f = [""; 14];
        let mut n = 0;
        for (k, v) in split(line).enumerate() {
            if k < f.len() {
                f[k] = v;
            }
            n = k + 1;
        }
        if n < 9 {
            return Err(ctx.err(
                OPENCELLID_COLUMNS[n.min(13)],
                format!(
                    "missing: the line has {n} fields, expected {} ({})",
                    OPENCELLID_COLUMNS.len(),
                    OPENCELLID_COLUMNS.join(",")
                ),
            ));
        }
        if n > f.len() {
            return Err(ctx.err(
                OPENCELLID_COLUMNS[f.len() - 1],
                format!(
                    "the line has {n} fields, expected {} ({})",
                    OPENCELLID_COLUMNS.len(),
                    OPENCELLID_COLUMNS.join(",")
                ),
            ));
        }
        if f[0].is_empty() {
            return Err(ctx.err(
                "radio",
                "expected GSM, UMTS, LTE, NR or CDMA, got an empty field".into(),
            ));
        }
        let mcc: u16 = ctx.num("mcc", f[1], "a mobile country code (0–999)")?;
        if mcc > 999 {
            return Err(ctx.err(
                "mcc",
                format!("expected a mobile country code (0–999), got {mcc}"),
            ));
        }
        let mnc: u16 = ctx.num("net", f[2], "a mobile network code (0–999)")?;
        if mnc > 999 {
            return Err(ctx.err(
                "net",
                format!("expected a mobile network code (0–999), got {mnc}"),
            ));
        }
        let area = ctx.area_code("area", f[3])?;
        let cell: u64 = ctx.num("cell", f[4], "a cell identity (unsigned integer)")?;
        if cell > CellId::MAX_LOCAL {
            return Err(ctx.err("cell", format!("cell identity {cell} exceeds 36 bits")));
        }
        let lon = ctx.float("lon", f[6], -180.0..=180.0)?;
        let lat = ctx.float("lat", f[7], -90.0..=90.0)?;
        let range = if f[8].is_empty() {
            0.0
        } else {
            ctx.float("range", f[8], 0.0..=1.0e7)?
        };
        let Some(technology) = Technology::parse(f[0]) else {
            if f[0].eq_ignore_ascii_case("CDMA") {
                continue;
            }
            return Err(ctx.err(
                "radio",
                format!("expected GSM, UMTS, LTE, NR or CDMA, got {:?}", f[0]),
            ));
        };
        if mcc != params.mcc || mnc != params.mnc || !params.technologies.contains(&technology) {
            continue;
        }
        of_network += 1;
        if !map.bbox.contains(lon, lat) {
            outside += 1;
            continue;
        }
        if !seen.insert((technology, cell)) {
            continue;
        }
        let site_key = match technology {
            Technology::Lte => cell >> 8,
            _ => cell | (1 << 40),
        };
        let next = sites.len() as u32;
        let site = *sites.entry((technology, site_key)).or_insert(next);
        let environment = if range > 0.0 && range < 1000.0 {
            Environment::Urban
        } else if range < 3000.0 {
            Environment::Suburban
        } else {
            Environment::Rural
        };
        let (height_m, power_dbm, _) = site_defaults(environment);
        cells.push(Cell {
            idx: CellIdx(0),
            id: CellId::new(mcc, mnc, cell),
            site,
            pos: map.projection.to_xy(lon, lat),
            lon,
            lat,
            azimuth_deg: None,
            technology,
            tac: area,
            height_m,
            power_dbm,
            gain_dbi: params.omni_gain_dbi,
            tilt_deg: 0.0,
            h_beamwidth_deg: 360.0,
            v_beamwidth_deg: params.v_beamwidth_deg,
            path_loss_exponent: params.exponent(environment),
            environment,
        });
    }
    if cells.is_empty() {
        let techs: Vec<&str> = params.technologies.iter().map(|t| t.name()).collect();
        let message = if of_network > 0 {
            format!(
                "all {outside} cells of MCC {} MNC {} lie outside the map's bounding box \
                 (lon {:.4}..{:.4}, lat {:.4}..{:.4})",
                params.mcc,
                params.mnc,
                map.bbox.min_lon,
                map.bbox.max_lon,
                map.bbox.min_lat,
                map.bbox.max_lat
            )
        } else {
            format!(
                "no cell of MCC {} MNC {} with technology {} (set `[radio] mcc`, `mnc` and `technologies`)",
                params.mcc,
                params.mnc,
                techs.join("/")
            )
        };
        return Err(RadioError::NoCells {
            path: path.to_path_buf(),
            message,
        });
    }
    Ok(cells)
}

/// Reads a cell plan: a CSV file whose header names its columns, among
/// [`CELL_PLAN_COLUMNS`]. `cell` is the cell identity within the network
/// (ECI for LTE); `azimuth_deg` empty or `omni` makes an omni cell; `site`
/// groups cells on one mast (by default, cells at the same position);
/// `tac` absent means tracking areas come from clustering; `environment` is
/// `urban`, `suburban` (default) or `rural` and sets the defaults of height,
/// power, tilt and path-loss exponent. Cells of technologies not listed in
/// `[radio] technologies` are left out. Cells may lie outside the map (they
/// still serve it), but not all of them.
pub fn read_cell_plan(
    path: &Path,
    params: &RadioParams,
    map: &Map,
) -> Result<Vec<Cell>, RadioError> {
    let text = read_text(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(RadioError::Header {
            path: path.to_path_buf(),
            message: "the file is empty; expected a header line".into(),
        });
    };
    let mut col: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, name) in split(header).enumerate() {
        let Some(known) = CELL_PLAN_COLUMNS.iter().find(|c| **c == name) else {
            return Err(RadioError::Header {
                path: path.to_path_buf(),
                message: format!(
                    "unknown column {name:?}; expected some of {}",
                    CELL_PLAN_COLUMNS.join(",")
                ),
            });
        };
        if col.insert(known, k).is_some() {
            return Err(RadioError::Header {
                path: path.to_path_buf(),
                message: format!("column {name:?} appears twice"),
            });
        }
    }
    let has = |c: &str| col.contains_key(c);
    let geographic = has("lon") && has("lat");
    if !has("cell") || !(geographic || (has("x") && has("y"))) {
        return Err(RadioError::Header {
            path: path.to_path_buf(),
            message: "the header needs `cell` and either `lon`,`lat` or `x`,`y`".into(),
        });
    }
    let mut cells: Vec<Cell> = Vec::new();
    let mut ids = BTreeMap::new();
    let mut sites: BTreeMap<(i64, i64, u64), u32> = BTreeMap::new();
    let mut fields: Vec<&str> = Vec::with_capacity(col.len());
    let mut inside = 0usize;
    for (i, line) in lines {
        let ctx = LineCtx { path, line: i + 1 };
        fields.clear();
        fields.extend(split(line));
        if fields.len() != col.len() {
            return Err(ctx.err(
                "cell",
                format!(
                    "the line has {} fields, the header {}",
                    fields.len(),
                    col.len()
                ),
            ));
        }
        let get = |c: &str| col.get(c).map(|&k| fields[k]).filter(|v| !v.is_empty());
        let technology = match get("technology") {
            None => Technology::Lte,
            Some(t) => Technology::parse(t).ok_or_else(|| {
                ctx.err(
                    "technology",
                    format!("expected GSM, UMTS, LTE or NR, got {t:?}"),
                )
            })?,
        };
        let id: u64 = match get("cell") {
            Some(v) => ctx.num("cell", v, "a cell identity (unsigned integer)")?,
            None => return Err(ctx.err("cell", "missing; every cell needs an identity".into())),
        };
        if id > CellId::MAX_LOCAL {
            return Err(ctx.err("cell", format!("cell identity {id} exceeds 36 bits")));
        }
        if let Some(first) = ids.insert((technology, id), ctx.line) {
            return Err(ctx.err("cell", format!("cell {id} already defined on line {first}")));
        }
        let req =
            |c: &str| get(c).ok_or_else(|| ctx.err(c, "missing; the column is required".into()));
        let (pos, lon, lat) = if geographic {
            let lon = ctx.float("lon", req("lon")?, -180.0..=180.0)?;
            let lat = ctx.float("lat", req("lat")?, -90.0..=90.0)?;
            (map.projection.to_xy(lon, lat), lon, lat)
        } else {
            let x = ctx.float("x", req("x")?, -1.0e7..=1.0e7)?;
            let y = ctx.float("y", req("y")?, -1.0e7..=1.0e7)?;
            let p = Coord { x, y };
            let (lon, lat) = map.projection.to_lon_lat(p);
            (p, lon, lat)
        };
        if !params.technologies.contains(&technology) {
            continue;
        }
        if map.bbox.contains(lon, lat) {
            inside += 1;
        }
        let environment = match get("environment") {
            None => Environment::Suburban,
            Some(e) => [
                Environment::Urban,
                Environment::Suburban,
                Environment::Rural,
            ]
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(e))
            .ok_or_else(|| {
                ctx.err(
                    "environment",
                    format!("expected urban, suburban or rural, got {e:?}"),
                )
            })?,
        };
        let (dh, dp, dt) = site_defaults(environment);
        let opt = |c: &str, default: f64, range: std::ops::RangeInclusive<f64>| match get(c) {
            None => Ok(default),
            Some(v) => ctx.float(c, v, range),
        };
        let azimuth_deg = match get("azimuth_deg") {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("omni") => None,
            Some(v) => Some(ctx.float("azimuth_deg", v, 0.0..=360.0)?),
        };
        let site_key = match get("site") {
            Some(v) => (
                0,
                0,
                ctx.num::<u64>("site", v, "a site number (unsigned integer)")?,
            ),
            None => (
                (pos.x * 10.0).round() as i64,
                (pos.y * 10.0).round() as i64,
                u64::MAX,
            ),
        };
        let next = sites.len() as u32;
        let site = *sites.entry(site_key).or_insert(next);
        let tac = match get("tac") {
            Some(v) => ctx.area_code("tac", v)?,
            None if has("tac") => {
                return Err(ctx.err(
                    "tac",
                    "missing; fill it on every line or drop the column".into(),
                ));
            }
            None => 0,
        };
        let default_gain = if azimuth_deg.is_some() {
            params.sector_gain_dbi
        } else {
            params.omni_gain_dbi
        };
        cells.push(Cell {
            idx: CellIdx(0),
            id: CellId::new(params.mcc, params.mnc, id),
            site,
            pos,
            lon,
            lat,
            azimuth_deg,
            technology,
            tac,
            height_m: opt("height_m", dh, 0.0..=1000.0)?,
            power_dbm: opt("power_dbm", dp, -30.0..=80.0)?,
            gain_dbi: opt("gain_dbi", default_gain, -10.0..=40.0)?,
            tilt_deg: opt("tilt_deg", dt, -90.0..=90.0)?,
            h_beamwidth_deg: opt("h_beamwidth_deg", params.h_beamwidth_deg, 1.0..=360.0)?,
            v_beamwidth_deg: opt("v_beamwidth_deg", params.v_beamwidth_deg, 1.0..=180.0)?,
            path_loss_exponent: opt(
                "path_loss_exponent",
                params.exponent(environment),
                1.5..=8.0,
            )?,
            environment,
        });
    }
    if cells.is_empty() {
        return Err(RadioError::NoCells {
            path: path.to_path_buf(),
            message: format!(
                "no cell of technology {} in the plan",
                params
                    .technologies
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        });
    }
    if inside == 0 {
        return Err(RadioError::NoCells {
            path: path.to_path_buf(),
            message: format!(
                "all {} cells lie outside the map's bounding box (lon {:.4}..{:.4}, lat {:.4}..{:.4})",
                cells.len(),
                map.bbox.min_lon,
                map.bbox.max_lon,
                map.bbox.min_lat,
                map.bbox.max_lat
            ),
        });
    }
    if !has("tac") {
        assign_tacs(&mut cells, params.sites_per_tracking_area);
    }
    Ok(cells)
}

/// Gives every cell the tracking area of its site, from clustering.
pub fn assign_tacs(cells: &mut [Cell], sites_per_area: u32) {
    let n_sites = cells.iter().map(|c| c.site + 1).max().unwrap_or(0) as usize;
    let mut pos = vec![Coord { x: 0.0, y: 0.0 }; n_sites];
    for c in cells.iter() {
        pos[c.site as usize] = c.pos;
    }
    let tac = tracking::cluster(&pos, sites_per_area);
    for c in cells.iter_mut() {
        c.tac = tac[c.site as usize];
    }
}
