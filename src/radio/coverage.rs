//! Precomputed best servers.
//!
//! Space is cut into square pixels (50 m by default). For every pixel that a
//! road or a place touches, the strongest cells of a layer are computed once,
//! at the pixel centre, and kept in a dense raster; the simulation then only
//! looks them up. A point outside those pixels is computed on demand, at its
//! pixel centre too, so a lookup gives the same answer either way.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use geo::Coord;
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::map::Map;

use super::signal::{AntennaModel, received_dbm};
use super::{Cell, CellIdx, Technology};

/// How many servers each pixel keeps: the best one plus candidates for
/// reselection and handover.
pub const SERVERS: usize = 4;

/// How many of the nearest sites are evaluated for a pixel. A site further
/// away than the twelfth nearest cannot beat them all except in freak
/// shadowing, which the model accepts losing.
const CANDIDATE_SITES: usize = 12;

/// Largest raster, in pixels; a bigger extent coarsens the resolution so
/// that the index stays within about 128 MB.
const MAX_PIXELS: usize = 32 << 20;

/// A cell and the level received from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Server {
    pub cell: CellIdx,
    /// Received level (RSRP for LTE/NR, RSCP for UMTS, RxLev for GSM), dBm.
    pub dbm: f32,
}

const NO_SERVER: Server = Server {
    cell: CellIdx(u32::MAX),
    dbm: f32::NEG_INFINITY,
};

/// The strongest cells at a point, strongest first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Servers([Server; SERVERS]);

impl Servers {
    /// The strongest cell, if the layer has any.
    pub fn best(&self) -> Option<Server> {
        let s = self.0[0];
        (s.cell.0 != u32::MAX).then_some(s)
    }

    /// The kept servers, strongest first.
    pub fn iter(&self) -> impl Iterator<Item = Server> + '_ {
        self.0.iter().copied().take_while(|s| s.cell.0 != u32::MAX)
    }

    /// The level of `cell` here, if it is among the kept servers.
    pub fn level_of(&self, cell: CellIdx) -> Option<f32> {
        self.iter().find(|s| s.cell == cell).map(|s| s.dbm)
    }

    /// The strongest server other than `cell`.
    pub fn best_other(&self, cell: CellIdx) -> Option<Server> {
        self.iter().find(|s| s.cell != cell)
    }

    /// The weakest kept level: a bound for any cell not kept.
    pub fn floor_dbm(&self) -> f32 {
        self.iter().last().map_or(f32::NEG_INFINITY, |s| s.dbm)
    }
}

type SitePoint = GeomWithData<[f64; 2], u32>;

/// Best servers of one technology layer.
#[derive(Debug)]
pub struct Coverage {
    pub technology: Technology,
    origin: Coord,
    /// `origin` in global pixels, kept because lookups need it every time.
    origin_px: (i64, i64),
    resolution_m: f64,
    nx: usize,
    ny: usize,
    /// Pixel → slot in `slots`, or `u32::MAX` when not precomputed.
    index: Vec<u32>,
    slots: Vec<Servers>,
    sites: RTree<SitePoint>,
    /// Cells of each site of this layer: `site_cells[site_start[i]..site_start[i + 1]]`.
    site_start: Vec<u32>,
    site_cells: Vec<CellIdx>,
    /// Pixels of the raster's extent computed on demand, in tiles of
    /// `TILE`² made when first touched: trajectories come back to them
    /// (access walks, and trips in a straight line where a mode's network
    /// misses a place), and reading a set cell takes no lock. The values are
    /// the same whoever computes them first, so sharing them between threads
    /// changes no result.
    tiles: Vec<OnceLock<Box<[OnceLock<Servers>]>>>,
    /// Tiles per raster row.
    tiles_x: usize,
    /// Pixels outside the raster's extent computed on demand.
    computed: RwLock<HashMap<(i64, i64), Servers>>,
}

/// Side of a tile of on-demand pixels, in pixels.
const TILE: usize = 16;

/// Side of a block of precomputed pixels stored together, in pixels.
const SLOT_BLOCK: usize = 8;

impl Coverage {
    /// Computes the best servers of the layer at every pixel that holds one
    /// of `points`, or is next to one.
    pub fn build(
        cells: &[Cell],
        technology: Technology,
        model: &AntennaModel,
        resolution_m: f64,
        points: &[Coord],
    ) -> Coverage {
        let (sites, site_start, site_cells) = index_sites(cells, technology);
        let mut cov = Coverage {
            technology,
            origin: Coord { x: 0.0, y: 0.0 },
            origin_px: (0, 0),
            resolution_m,
            nx: 0,
            ny: 0,
            index: Vec::new(),
            slots: Vec::new(),
            sites,
            site_start,
            site_cells,
            tiles: Vec::new(),
            tiles_x: 0,
            computed: RwLock::new(HashMap::new()),
        };
        let Some((lo, hi)) = super::bounds(points.iter().copied()) else {
            return cov;
        };
        let area = (hi.x - lo.x + 2.0 * resolution_m) * (hi.y - lo.y + 2.0 * resolution_m);
        let res = resolution_m.max((area / MAX_PIXELS as f64).sqrt());
        cov.resolution_m = res;
        // The origin sits on the global pixel lattice, so that pixel centres
        // do not depend on which points were covered.
        cov.origin = Coord {
            x: ((lo.x / res).floor() - 1.0) * res,
            y: ((lo.y / res).floor() - 1.0) * res,
        };
        cov.origin_px = (
            (cov.origin.x / res).round() as i64,
            (cov.origin.y / res).round() as i64,
        );
        cov.nx = ((hi.x - cov.origin.x) / res).floor() as usize + 2;
        cov.ny = ((hi.y - cov.origin.y) / res).floor() as usize + 2;
        let mut wanted = vec![false; cov.nx * cov.ny];
        for p in points {
            let (ix, iy) = cov.pixel_of(*p);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    if let Some(i) = cov.dense_index(ix + dx, iy + dy) {
                        wanted[i] = true;
                    }
                }
            }
        }
        let mut pixels: Vec<usize> = (0..wanted.len()).filter(|&i| wanted[i]).collect();
        // Slots in blocks of nearby pixels rather than raster rows: a device
        // moving in any direction then finds its next pixels' servers in
        // memory it has just touched.
        let nx = cov.nx;
        pixels.sort_by_key(|&i| {
            let (x, y) = (i % nx, i / nx);
            (
                y / SLOT_BLOCK,
                x / SLOT_BLOCK,
                y % SLOT_BLOCK,
                x % SLOT_BLOCK,
            )
        });
        let slots: Vec<Servers> = pixels
            .par_iter()
            .map(|&i| {
                let (ix, iy) = ((i % cov.nx) as i64, (i / cov.nx) as i64);
                let g = cov.origin_pixel();
                cov.compute(cells, model, g.0 + ix, g.1 + iy)
            })
            .collect();
        cov.index = vec![u32::MAX; wanted.len()];
        for (slot, &i) in pixels.iter().enumerate() {
            cov.index[i] = slot as u32;
        }
        cov.slots = slots;
        cov.tiles_x = cov.nx.div_ceil(TILE);
        cov.tiles = (0..cov.tiles_x * cov.ny.div_ceil(TILE))
            .map(|_| OnceLock::new())
            .collect();
        cov
    }

    /// Side of a pixel, metres.
    pub fn resolution_m(&self) -> f64 {
        self.resolution_m
    }

    /// Number of precomputed pixels.
    pub fn precomputed(&self) -> usize {
        self.slots.len()
    }

    /// Global pixel coordinates of a point.
    fn pixel_of(&self, p: Coord) -> (i64, i64) {
        (
            floor_i64(p.x / self.resolution_m),
            floor_i64(p.y / self.resolution_m),
        )
    }

    fn origin_pixel(&self) -> (i64, i64) {
        self.origin_px
    }

    fn dense_index(&self, ix: i64, iy: i64) -> Option<usize> {
        let (ox, oy) = self.origin_px;
        let (x, y) = (ix - ox, iy - oy);
        (x >= 0 && y >= 0 && (x as usize) < self.nx && (y as usize) < self.ny)
            .then(|| y as usize * self.nx + x as usize)
    }

    /// The best servers at a point: from the raster when precomputed,
    /// otherwise computed now.
    pub fn servers(&self, cells: &[Cell], model: &AntennaModel, p: Coord) -> Servers {
        let (ix, iy) = self.pixel_of(p);
        if let Some(i) = self.dense_index(ix, iy) {
            let slot = self.index[i];
            if slot != u32::MAX {
                return self.slots[slot as usize];
            }
            let (x, y) = (i % self.nx, i / self.nx);
            let tile = self.tiles[(y / TILE) * self.tiles_x + x / TILE]
                .get_or_init(|| (0..TILE * TILE).map(|_| OnceLock::new()).collect());
            return *tile[(y % TILE) * TILE + x % TILE]
                .get_or_init(|| self.compute(cells, model, ix, iy));
        }
        if let Some(s) = self
            .computed
            .read()
            .ok()
            .and_then(|m| m.get(&(ix, iy)).copied())
        {
            return s;
        }
        let s = self.compute(cells, model, ix, iy);
        if let Ok(mut m) = self.computed.write() {
            m.insert((ix, iy), s);
        }
        s
    }

    /// The strongest cells at the centre of pixel (ix, iy).
    fn compute(&self, cells: &[Cell], model: &AntennaModel, ix: i64, iy: i64) -> Servers {
        let centre = Coord {
            x: (ix as f64 + 0.5) * self.resolution_m,
            y: (iy as f64 + 0.5) * self.resolution_m,
        };
        let mut best = [NO_SERVER; SERVERS];
        for site in self
            .sites
            .nearest_neighbor_iter([centre.x, centre.y])
            .take(CANDIDATE_SITES)
        {
            let s = site.data as usize;
            let range = self.site_start[s] as usize..self.site_start[s + 1] as usize;
            for &c in &self.site_cells[range] {
                let dbm = received_dbm(&cells[c.index()], model, centre) as f32;
                insert_sorted(&mut best, Server { cell: c, dbm });
            }
        }
        Servers(best)
    }
}

/// `v.floor() as i64`, without the library call that the baseline x86-64
/// target makes of `floor` (every lookup of a moving device needs two).
fn floor_i64(v: f64) -> i64 {
    let i = v as i64;
    if (i as f64) > v {
        i.saturating_sub(1)
    } else {
        i
    }
}

/// Inserts into a list sorted by level (strongest first), dropping the
/// weakest; ties keep the lower cell index first so results never depend on
/// evaluation order.
fn insert_sorted(best: &mut [Server; SERVERS], s: Server) {
    let beats = |a: &Server, b: &Server| a.dbm > b.dbm || (a.dbm == b.dbm && a.cell < b.cell);
    let Some(pos) = best.iter().position(|b| beats(&s, b)) else {
        return;
    };
    for i in (pos + 1..SERVERS).rev() {
        best[i] = best[i - 1];
    }
    best[pos] = s;
}

/// Groups a layer's cells by site and indexes the sites.
fn index_sites(cells: &[Cell], t: Technology) -> (RTree<SitePoint>, Vec<u32>, Vec<CellIdx>) {
    let mut of_layer: Vec<&Cell> = cells.iter().filter(|c| c.technology == t).collect();
    of_layer.sort_by_key(|c| (c.site, c.idx));
    let mut points = Vec::new();
    let mut start = Vec::new();
    let mut site_cells = Vec::with_capacity(of_layer.len());
    let mut last_site = None;
    for c in of_layer {
        if last_site != Some(c.site) {
            last_site = Some(c.site);
            points.push(SitePoint::new([c.pos.x, c.pos.y], start.len() as u32));
            start.push(site_cells.len() as u32);
        }
        site_cells.push(c.idx);
    }
    start.push(site_cells.len() as u32);
    (RTree::bulk_load(points), start, site_cells)
}

/// The points the simulation can visit on a map: every place, and every
/// road sampled at 20 m steps.
pub fn points_to_cover(map: &Map) -> Vec<Coord> {
    const STEP_M: f64 = 20.0;
    let mut pts: Vec<Coord> = map.places.iter().map(|p| p.pos).collect();
    for shape in map.graph.edges.iter().map(|e| &e.shape) {
        let line = &map.graph.shape[shape.start as usize..shape.end as usize];
        for pair in line.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let len = (b.x - a.x).hypot(b.y - a.y);
            let n = (len / STEP_M).ceil().max(1.0) as usize;
            for k in 0..n {
                let t = k as f64 / n as f64;
                pts.push(Coord {
                    x: a.x + (b.x - a.x) * t,
                    y: a.y + (b.y - a.y) * t,
                });
            }
        }
        if let Some(last) = line.last() {
            pts.push(*last);
        }
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::floor_i64;

    #[test]
    fn floor_i64_matches_the_library_floor() {
        let values = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999_999,
            -2.999_999,
            1e15 + 0.5,
            -1e15 - 0.5,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
        ];
        for v in values {
            assert_eq!(floor_i64(v), v.floor() as i64, "{v}");
        }
        for k in -2000..2000 {
            let v = k as f64 * 0.37 / 50.0;
            assert_eq!(floor_i64(v), v.floor() as i64, "{v}");
        }
    }
}
