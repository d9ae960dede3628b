//! Cell-site footprints for the reference pipeline's second variant: each
//! site's predicted best-server area, split over the zones of a zoning.
//!
//! An operator knows its cell plan and predicts coverage from it with a
//! propagation model; it does not know the shadowing a handset meets at a
//! given spot. So the prediction here is the radio model's deterministic
//! part (log-distance path loss, the 3GPP antenna pattern, power, gain and
//! tilt of each cell, all read from the dataset's `cells` table) without
//! its shadowing field. A grid of points [`FOOTPRINT_SPACING_M`] apart
//! over the sites' bounding box is given to the cell with the strongest
//! predicted level in each technology layer, and a site's footprint is the
//! points of all its cells, counted once per layer. Dividing counts over
//! zones by the share of the footprint each zone holds is the "cell
//! footprint" allocation of the ESSnet on mobile network data (Ricciato et
//! al. 2020, "Towards a methodological framework for estimating present
//! population density from mobile network operator data", Pervasive and
//! Mobile Computing 68).

use std::collections::BTreeMap;

use geo::Coord;
use rstar::{RTree, primitives::GeomWithData};

use crate::map::Projection;
use crate::radio::signal::{AntennaModel, received_dbm};
use crate::radio::{Cell, CellId, CellIdx, Environment, Technology};
use crate::reader::{
    DatasetError, DatasetReader, column_f64, column_i64, column_opt_f64, column_str, err,
};
use crate::sink::network_tables::cells_schema;
use crate::zones::{ZoneId, Zoning};

/// Distance between the grid points a footprint is counted on, metres.
pub const FOOTPRINT_SPACING_M: f64 = 100.0;

/// Zones holding less than this share of a footprint are dropped and the
/// rest renormalised: a sliver of a zone at a footprint's edge is below
/// what a prediction can tell, and every zone kept multiplies the trips a
/// split origin–destination pair is spread over.
pub const MIN_ZONE_SHARE: f64 = 0.02;

/// Sites searched for the best server of a point, nearest first; the best
/// server is among the nearest few in any layout a planner would draw.
const CANDIDATE_SITES: usize = 12;

/// Each site's zones with their share of its footprint, in units of
/// `unit` that sum to `unit` per site; a site whose footprint is empty (no
/// grid point predicted to it) is wholly in the zone of its position.
pub fn site_zone_shares(
    reader: &DatasetReader,
    projection: &Projection,
    zoning: &Zoning,
    model: &AntennaModel,
    unit: i64,
) -> Result<BTreeMap<i64, Vec<(ZoneId, i64)>>, DatasetError> {
    let (cells, position_zone) = read_cells(reader, projection, zoning)?;
    let mut counts: BTreeMap<i64, BTreeMap<ZoneId, u64>> = BTreeMap::new();
    let mut technologies: Vec<Technology> = cells.iter().map(|(c, _)| c.technology).collect();
    technologies.sort_unstable();
    technologies.dedup();
    let xs = || cells.iter().map(|(c, _)| c.pos.x);
    let ys = || cells.iter().map(|(c, _)| c.pos.y);
    let min = Coord {
        x: xs().fold(f64::MAX, f64::min),
        y: ys().fold(f64::MAX, f64::min),
    };
    let max = Coord {
        x: xs().fold(f64::MIN, f64::max),
        y: ys().fold(f64::MIN, f64::max),
    };
    for t in technologies {
        let layer: Vec<&(Cell, i64)> = cells.iter().filter(|(c, _)| c.technology == t).collect();
        // Sites of the layer by position, each with its cells.
        let mut by_site: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, (c, _)) in layer.iter().enumerate() {
            by_site.entry(c.site).or_default().push(i);
        }
        let tree = RTree::bulk_load(
            by_site
                .values()
                .map(|idx| {
                    let p = layer[idx[0]].0.pos;
                    GeomWithData::new([p.x, p.y], idx.clone())
                })
                .collect(),
        );
        let columns = ((max.x - min.x) / FOOTPRINT_SPACING_M).floor() as i64;
        let rows = ((max.y - min.y) / FOOTPRINT_SPACING_M).floor() as i64;
        for j in 0..=rows {
            for i in 0..=columns {
                let p = Coord {
                    x: min.x + i as f64 * FOOTPRINT_SPACING_M,
                    y: min.y + j as f64 * FOOTPRINT_SPACING_M,
                };
                let best = tree
                    .nearest_neighbor_iter([p.x, p.y])
                    .take(CANDIDATE_SITES)
                    .flat_map(|site| site.data.iter())
                    .map(|&k| (received_dbm(&layer[k].0, model, p), k))
                    .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
                if let Some((_, k)) = best {
                    let (lon, lat) = projection.to_lon_lat(p);
                    *counts
                        .entry(layer[k].1)
                        .or_default()
                        .entry(zoning.zone_of(lon, lat))
                        .or_default() += 1;
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    for (site, zone) in position_zone {
        let shares = counts
            .get(&site)
            .map(|c| shares_of(c, unit))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec![(zone, unit)]);
        out.insert(site, shares);
    }
    Ok(out)
}

/// Point counts by zone as shares summing to `unit`: zones under
/// [`MIN_ZONE_SHARE`] dropped, the rest rounded by largest remainder.
fn shares_of(counts: &BTreeMap<ZoneId, u64>, unit: i64) -> Vec<(ZoneId, i64)> {
    let total: u64 = counts.values().sum();
    let kept: Vec<(ZoneId, u64)> = counts
        .iter()
        .filter(|&(_, &n)| n as f64 >= MIN_ZONE_SHARE * total as f64)
        .map(|(&z, &n)| (z, n))
        .collect();
    let kept_total: u64 = kept.iter().map(|k| k.1).sum();
    if kept_total == 0 {
        return Vec::new();
    }
    let exact: Vec<f64> = kept
        .iter()
        .map(|k| k.1 as f64 * unit as f64 / kept_total as f64)
        .collect();
    let mut out: Vec<(ZoneId, i64)> = kept
        .iter()
        .zip(&exact)
        .map(|(k, e)| (k.0, e.floor() as i64))
        .collect();
    let mut left = unit - out.iter().map(|o| o.1).sum::<i64>();
    // Largest remainders first; ties to the lower zone, for determinism.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for i in order.into_iter().cycle() {
        if left <= 0 {
            break;
        }
        out[i].1 += 1;
        left -= 1;
    }
    out.retain(|o| o.1 > 0);
    out
}

/// The cells of the dataset as the signal model takes them, each with its
/// site id, and each site's zone by position.
#[allow(clippy::type_complexity)]
fn read_cells(
    reader: &DatasetReader,
    projection: &Projection,
    zoning: &Zoning,
) -> Result<(Vec<(Cell, i64)>, BTreeMap<i64, ZoneId>), DatasetError> {
    let path = reader.dir().join("cells");
    let mut cells = Vec::new();
    let mut sites: BTreeMap<i64, ZoneId> = BTreeMap::new();
    let mut dense: BTreeMap<i64, u32> = BTreeMap::new();
    for b in reader.read("cells", cells_schema())? {
        let id = column_i64(&b, "cell_id", &path)?;
        let site = column_i64(&b, "site_id", &path)?;
        let tech = column_str(&b, "technology", &path)?;
        let env = column_str(&b, "environment", &path)?;
        let (lon, lat) = (column_f64(&b, "lon", &path)?, column_f64(&b, "lat", &path)?);
        let azimuth = column_opt_f64(&b, "azimuth_deg", &path)?;
        let height = column_f64(&b, "height_m", &path)?;
        let power = column_f64(&b, "power_dbm", &path)?;
        let gain = column_f64(&b, "gain_dbi", &path)?;
        let tilt = column_f64(&b, "tilt_deg", &path)?;
        let hbw = column_f64(&b, "h_beamwidth_deg", &path)?;
        let vbw = column_f64(&b, "v_beamwidth_deg", &path)?;
        let ple = column_f64(&b, "path_loss_exponent", &path)?;
        for i in 0..b.num_rows() {
            let technology = Technology::parse(&tech[i]).ok_or_else(|| {
                err(
                    &path,
                    format!("cell {}: unknown technology {:?}", id[i], tech[i]),
                )
            })?;
            let environment = match env[i].as_str() {
                "urban" => Environment::Urban,
                "suburban" => Environment::Suburban,
                _ => Environment::Rural,
            };
            let next = dense.len() as u32;
            let site_index = *dense.entry(site[i]).or_insert(next);
            sites
                .entry(site[i])
                .or_insert_with(|| zoning.zone_of(lon[i], lat[i]));
            let cell = Cell {
                idx: CellIdx(cells.len() as u32),
                id: CellId(id[i] as u64),
                site: site_index,
                pos: projection.to_xy(lon[i], lat[i]),
                lon: lon[i],
                lat: lat[i],
                azimuth_deg: azimuth[i],
                technology,
                tac: 0,
                height_m: height[i],
                power_dbm: power[i],
                gain_dbi: gain[i],
                tilt_deg: tilt[i],
                h_beamwidth_deg: hbw[i],
                v_beamwidth_deg: vbw[i],
                path_loss_exponent: ple[i],
                environment,
            };
            cells.push((cell, site[i]));
        }
    }
    if cells.is_empty() {
        return Err(err(&path, "the dataset has no cells"));
    }
    Ok((cells, sites))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_drop_slivers_and_sum_to_the_unit() {
        let counts = BTreeMap::from([(ZoneId(1), 50), (ZoneId(2), 49), (ZoneId(3), 1)]);
        let s = shares_of(&counts, 1_000_000);
        // Zone 3 holds 1% of the footprint: dropped, the rest renormalised.
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().map(|x| x.1).sum::<i64>(), 1_000_000);
        assert_eq!(s[0], (ZoneId(1), 505_051));
        assert_eq!(s[1], (ZoneId(2), 494_949));
        let thirds = BTreeMap::from([(ZoneId(1), 1), (ZoneId(2), 1), (ZoneId(3), 1)]);
        let s = shares_of(&thirds, 100);
        assert_eq!(s, vec![(ZoneId(1), 34), (ZoneId(2), 33), (ZoneId(3), 33)]);
    }
}
