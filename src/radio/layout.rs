//! Generated sites: placed by population and road density.
//!
//! Demand is counted on 250 m tiles: the floor area of every place plus a
//! little for each metre of road, so that empty valleys with a road still get
//! coverage. Smoothed over about 1.25 km, demand density ρ sets the wanted
//! inter-site distance `isd = isd_min · √(ρ_ref / ρ)`, clamped to
//! [isd_min, isd_max], with ρ_ref the 95th percentile: the number of sites
//! per area grows in proportion to demand, as capacity-driven planning does.
//! Tiles are visited from the densest down, and a site goes to a tile when no
//! site is nearer than 0.8 · isd, so every tile with demand ends up within
//! reach of a site. Each site carries three sectors with jittered azimuths on
//! every technology layer asked for.

use geo::Coord;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use rstar::RTree;

use crate::map::{Edge, Map, RoadGraph};
use crate::rng::{Purpose, stream};

use super::{Cell, CellId, CellIdx, Environment, RadioError, RadioParams, Technology, tracking};

const TILE_M: f64 = 250.0;
/// Floor-area equivalent of one metre of road, m².
const ROAD_DEMAND_M2_PER_M: f64 = 5.0;
/// Half-width of the smoothing window, tiles.
const SMOOTH_TILES: i64 = 2;

/// A generated site before it gets cells.
#[derive(Clone, Copy, Debug)]
pub struct SitePlan {
    pub pos: Coord,
    pub environment: Environment,
}

/// Mast height (m), total power (dBm) and down-tilt (°) by environment:
/// typical macro values (urban roof-top 25 m / 20 W, rural tower 40 m /
/// 40 W; 3GPP TR 36.942 uses 30 m and 43–46 dBm).
pub fn site_defaults(env: Environment) -> (f64, f64, f64) {
    match env {
        Environment::Urban => (25.0, 43.0, 6.0),
        Environment::Suburban => (30.0, 46.0, 4.0),
        Environment::Rural => (40.0, 46.0, 2.0),
    }
}

/// Places sites on the map.
pub fn place_sites(params: &RadioParams, map: &Map, seed: u64) -> Vec<SitePlan> {
    let pts = map
        .graph
        .nodes
        .iter()
        .copied()
        .chain(map.places.iter().map(|p| p.pos));
    let Some((lo, hi)) = super::bounds(pts) else {
        return Vec::new();
    };
    let nx = ((hi.x - lo.x) / TILE_M).floor() as usize + 1;
    let ny = ((hi.y - lo.y) / TILE_M).floor() as usize + 1;
    let tile = |p: Coord| {
        let ix = (((p.x - lo.x) / TILE_M).floor() as usize).min(nx - 1);
        let iy = (((p.y - lo.y) / TILE_M).floor() as usize).min(ny - 1);
        iy * nx + ix
    };
    let mut demand = vec![0.0f64; nx * ny];
    for p in &map.places {
        demand[tile(p.pos)] += p.capacity as f64;
    }
    for e in &map.graph.edges {
        let mid = edge_mid(&map.graph, e);
        demand[tile(mid)] += e.length_m * ROAD_DEMAND_M2_PER_M;
    }
    // Box-smoothed density via a summed-area table.
    let mut sat = vec![0.0f64; (nx + 1) * (ny + 1)];
    for y in 0..ny {
        for x in 0..nx {
            sat[(y + 1) * (nx + 1) + x + 1] =
                demand[y * nx + x] + sat[y * (nx + 1) + x + 1] + sat[(y + 1) * (nx + 1) + x]
                    - sat[y * (nx + 1) + x];
        }
    }
    let window = |x: usize, y: usize| {
        let x0 = (x as i64 - SMOOTH_TILES).max(0) as usize;
        let y0 = (y as i64 - SMOOTH_TILES).max(0) as usize;
        let x1 = (x + SMOOTH_TILES as usize + 1).min(nx);
        let y1 = (y + SMOOTH_TILES as usize + 1).min(ny);
        let s = sat[y1 * (nx + 1) + x1] - sat[y0 * (nx + 1) + x1] - sat[y1 * (nx + 1) + x0]
            + sat[y0 * (nx + 1) + x0];
        s / ((x1 - x0) * (y1 - y0)) as f64
    };
    let density: Vec<f64> = (0..nx * ny).map(|i| window(i % nx, i / nx)).collect();
    let mut positive: Vec<f64> = density.iter().copied().filter(|&d| d > 0.0).collect();
    if positive.is_empty() {
        return Vec::new();
    }
    positive.sort_by(f64::total_cmp);
    let reference = positive[(positive.len() - 1) * 95 / 100];
    let isd = |d: f64| {
        (params.isd_min_m * (reference / d).sqrt()).clamp(params.isd_min_m, params.isd_max_m)
    };
    let mut order: Vec<usize> = (0..nx * ny).filter(|&i| demand[i] > 0.0).collect();
    order.sort_by(|&a, &b| density[b].total_cmp(&density[a]).then(a.cmp(&b)));

    let mut rng = stream(seed, Purpose::Network, 0, 0);
    let mut tree: RTree<[f64; 2]> = RTree::new();
    let mut sites = Vec::new();
    for i in order {
        let want = isd(density[i]);
        let centre = Coord {
            x: lo.x + ((i % nx) as f64 + 0.5) * TILE_M,
            y: lo.y + ((i / nx) as f64 + 0.5) * TILE_M,
        };
        let jitter_x: f64 = rng.random_range(-0.3..0.3);
        let jitter_y: f64 = rng.random_range(-0.3..0.3);
        let p = Coord {
            x: centre.x + jitter_x * TILE_M,
            y: centre.y + jitter_y * TILE_M,
        };
        let free = tree
            .nearest_neighbor([p.x, p.y])
            .is_none_or(|q| (q[0] - p.x).hypot(q[1] - p.y) >= 0.8 * want);
        if free {
            tree.insert([p.x, p.y]);
            let environment = if want < 1000.0 {
                Environment::Urban
            } else if want < 2500.0 {
                Environment::Suburban
            } else {
                Environment::Rural
            };
            sites.push(SitePlan {
                pos: p,
                environment,
            });
        }
    }
    sites
}

/// Generates the cells of the network, tracking areas included.
pub fn generate(params: &RadioParams, map: &Map, seed: u64) -> Result<Vec<Cell>, RadioError> {
    let sites = place_sites(params, map, seed);
    if sites.is_empty() {
        return Err(RadioError::Layout(format!(
            "{}: the map has neither places nor roads",
            map.path.display()
        )));
    }
    let positions: Vec<Coord> = sites.iter().map(|s| s.pos).collect();
    let tacs = tracking::cluster(&positions, params.sites_per_tracking_area);
    let mut rng = stream(seed, Purpose::Network, 1, 0);
    let mut techs = params.technologies.clone();
    techs.sort();
    techs.dedup();
    let mut cells = Vec::with_capacity(sites.len() * 3 * techs.len());
    for (s, site) in sites.iter().enumerate() {
        let (height_m, power_dbm, tilt_deg) = site_defaults(site.environment);
        let base: f64 = rng.random_range(0.0..120.0);
        let mut azimuths = [0.0; 3];
        for (k, a) in azimuths.iter_mut().enumerate() {
            let jitter: f64 = StandardNormal.sample(&mut rng);
            *a = (base + 120.0 * k as f64 + 8.0 * jitter).rem_euclid(360.0);
        }
        let (lon, lat) = map.projection.to_lon_lat(site.pos);
        let enb = 1000 + s as u32;
        for &t in &techs {
            for (k, &az) in azimuths.iter().enumerate() {
                cells.push(Cell {
                    idx: CellIdx(0),
                    id: CellId::new(
                        params.mcc,
                        params.mnc,
                        ((enb << 8) | layer_sector(t, k)) as u64,
                    ),
                    site: s as u32,
                    pos: site.pos,
                    lon,
                    lat,
                    azimuth_deg: Some(az),
                    technology: t,
                    tac: tacs[s],
                    height_m,
                    power_dbm,
                    gain_dbi: params.sector_gain_dbi,
                    tilt_deg,
                    h_beamwidth_deg: params.h_beamwidth_deg,
                    v_beamwidth_deg: params.v_beamwidth_deg,
                    path_loss_exponent: params.exponent(site.environment),
                    environment: site.environment,
                });
            }
        }
    }
    Ok(cells)
}

/// The sector number of a cell: 1–3 on LTE, 11–13 on NR, 21–23 on GSM,
/// 31–33 on UMTS, so one site's cells never share an identity.
fn layer_sector(t: Technology, k: usize) -> u32 {
    let base = match t {
        Technology::Lte => 1,
        Technology::Nr => 11,
        Technology::Gsm => 21,
        Technology::Umts => 31,
    };
    base + k as u32
}

/// Midpoint between the ends of an edge's shape.
fn edge_mid(graph: &RoadGraph, e: &Edge) -> Coord {
    let shape = &graph.shape[e.shape.start as usize..e.shape.end as usize];
    match (shape.first(), shape.last()) {
        (Some(a), Some(b)) => Coord {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        },
        _ => graph.node_pos(e.from),
    }
}
