//! Spatial sampling shared by population synthesis and the days model:
//! places drawn in proportion to a weight, places drawn by a gravity model
//! around an origin, and the border gates through which people leave the map.

use std::collections::BTreeMap;
use std::ops::Range;

use geo::Coord;
use rand::{Rng, RngExt};

use crate::map::{Map, NodeId, PlaceId, RoadClass, RoadGraph, TravelMode, distance};

/// Places drawn in proportion to a fixed weight.
#[derive(Clone, Debug, Default)]
pub struct WeightedPlaces {
    ids: Vec<PlaceId>,
    cumulative: Vec<f64>,
}

impl WeightedPlaces {
    /// Keeps the places with a positive, finite weight.
    pub fn new(items: impl IntoIterator<Item = (PlaceId, f64)>) -> Self {
        let mut out = WeightedPlaces::default();
        let mut total = 0.0;
        for (id, w) in items {
            if w.is_finite() && w > 0.0 {
                total += w;
                out.ids.push(id);
                out.cumulative.push(total);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// One place, or `None` when there is none.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<PlaceId> {
        let total = *self.cumulative.last()?;
        let u = rng.random::<f64>() * total;
        let i = self.cumulative.partition_point(|&c| c <= u);
        self.ids.get(i.min(self.ids.len() - 1)).copied()
    }
}

#[derive(Clone, Debug)]
struct Cell {
    /// Weighted centroid of the cell's places.
    centre: Coord,
    weight: f64,
    places: Range<usize>,
}

/// Places drawn by a gravity model: first a grid cell with probability ∝
/// (its total weight × kernel(distance from the origin)), then a place in
/// the cell ∝ its weight. Working on cells keeps a draw at O(cells) however
/// many places a map has; distances inside the origin's own cell are taken
/// as half a cell, which keeps power-law kernels finite.
#[derive(Clone, Debug, Default)]
pub struct GravityPlaces {
    cells: Vec<Cell>,
    ids: Vec<PlaceId>,
    cumulative: Vec<f64>,
    half_cell_m: f64,
}

impl GravityPlaces {
    /// Groups the places with a positive weight into square cells of
    /// `cell_m` metres.
    pub fn new(map: &Map, items: impl IntoIterator<Item = (PlaceId, f64)>, cell_m: f64) -> Self {
        let mut by_cell: BTreeMap<(i64, i64), Vec<(PlaceId, f64)>> = BTreeMap::new();
        for (id, w) in items {
            if w.is_finite() && w > 0.0 {
                let p = map.place(id).pos;
                let key = ((p.x / cell_m).floor() as i64, (p.y / cell_m).floor() as i64);
                by_cell.entry(key).or_default().push((id, w));
            }
        }
        let mut out = GravityPlaces {
            half_cell_m: cell_m / 2.0,
            ..Default::default()
        };
        for (_, places) in by_cell {
            let start = out.ids.len();
            let (mut total, mut cx, mut cy) = (0.0, 0.0, 0.0);
            for (id, w) in places {
                let p = map.place(id).pos;
                total += w;
                cx += p.x * w;
                cy += p.y * w;
                out.ids.push(id);
                out.cumulative.push(total);
            }
            out.cells.push(Cell {
                centre: Coord {
                    x: cx / total,
                    y: cy / total,
                },
                weight: total,
                places: start..out.ids.len(),
            });
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// One place near `origin`, weighted by `kernel(distance in metres)`;
    /// `scratch` is reused between calls to avoid allocating.
    pub fn sample<R: Rng + ?Sized>(
        &self,
        origin: Coord,
        kernel: impl Fn(f64) -> f64,
        rng: &mut R,
        scratch: &mut Vec<f64>,
    ) -> Option<PlaceId> {
        self.weigh(origin, kernel, scratch);
        self.draw(scratch, rng)
    }

    /// Fills `weights` with the cumulative cell weights around `origin`, for
    /// any number of [`GravityPlaces::draw`]s from the same origin: the
    /// weighing visits every cell, a draw only bisects.
    pub fn weigh(&self, origin: Coord, kernel: impl Fn(f64) -> f64, weights: &mut Vec<f64>) {
        weights.clear();
        let mut total = 0.0;
        for c in &self.cells {
            let d = distance(origin, c.centre).max(self.half_cell_m);
            let w = c.weight * kernel(d);
            total += if w.is_finite() && w > 0.0 { w } else { 0.0 };
            weights.push(total);
        }
    }

    /// One place by the `weights` of the last [`GravityPlaces::weigh`].
    pub fn draw<R: Rng + ?Sized>(&self, weights: &[f64], rng: &mut R) -> Option<PlaceId> {
        let total = weights.last().copied().unwrap_or(0.0);
        if total <= 0.0 || weights.len() != self.cells.len() {
            return None;
        }
        let u = rng.random::<f64>() * total;
        let ci = weights
            .partition_point(|&c| c <= u)
            .min(self.cells.len() - 1);
        let cell = &self.cells[ci];
        // Cumulative weights restart at every cell.
        let cum = &self.cumulative[cell.places.clone()];
        let v = rng.random::<f64>() * cum[cum.len() - 1];
        let j = cum.partition_point(|&c| c <= v).min(cum.len() - 1);
        Some(self.ids[cell.places.start + j])
    }
}

/// Where roads leave the map: people going abroad pass through one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gate {
    /// A node of the car network.
    pub node: NodeId,
    pub pos: Coord,
    /// Relative traffic through the gate, from the road class.
    pub weight: f64,
}

fn gate_weight(class: RoadClass) -> f64 {
    match class {
        RoadClass::Motorway | RoadClass::Trunk => 4.0,
        RoadClass::Primary => 3.0,
        RoadClass::Secondary => 2.0,
        _ => 1.0,
    }
}

/// Gates closer than this to a stronger one are the same crossing.
const GATE_MERGE_M: f64 = 300.0;

/// The border gates of a road graph. An extract cuts every road at its
/// border, so a main road that dead-ends is where traffic leaves the map:
/// those are the gates. A map where no main road dead-ends (an island, or a
/// hand-cut extract) gets the outermost car nodes in eight compass
/// directions instead.
pub fn find_gates(graph: &RoadGraph) -> Vec<Gate> {
    let n = graph.node_count();
    // Up to two distinct car neighbours per node suffice to tell dead ends.
    let mut neighbours: Vec<[u32; 2]> = vec![[u32::MAX; 2]; n];
    let mut best_class: Vec<Option<RoadClass>> = vec![None; n];
    let mut note = |a: NodeId, b: NodeId, class: RoadClass| {
        let slot = &mut neighbours[a.index()];
        if slot[0] == u32::MAX || slot[0] == b.0 {
            slot[0] = b.0;
        } else {
            slot[1] = b.0;
        }
        let c = &mut best_class[a.index()];
        *c = Some(c.map_or(class, |old| old.min(class)));
    };
    for e in &graph.edges {
        if e.access.allows(TravelMode::Car) && e.from != e.to {
            note(e.from, e.to, e.class);
            note(e.to, e.from, e.class);
        }
    }
    let dead_ends = |max_class: RoadClass| -> Vec<Gate> {
        (0..n)
            .filter(|&i| neighbours[i][0] != u32::MAX && neighbours[i][1] == u32::MAX)
            .filter_map(|i| {
                let class = best_class[i]?;
                (class <= max_class).then(|| Gate {
                    node: NodeId(i as u32),
                    pos: graph.nodes[i],
                    weight: gate_weight(class),
                })
            })
            .collect()
    };
    let mut gates = dead_ends(RoadClass::Secondary);
    if gates.is_empty() {
        gates = dead_ends(RoadClass::Tertiary);
    }
    if gates.is_empty() {
        gates = compass_extremes(graph);
    }
    // Strongest first, then by node, so merging is deterministic.
    gates.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.node.cmp(&b.node)));
    let mut kept: Vec<Gate> = Vec::new();
    for g in gates {
        if kept.iter().all(|k| distance(k.pos, g.pos) > GATE_MERGE_M) {
            kept.push(g);
        }
    }
    kept.sort_by_key(|g| g.node);
    kept
}

fn compass_extremes(graph: &RoadGraph) -> Vec<Gate> {
    let mut out: Vec<Gate> = Vec::new();
    for k in 0..8 {
        let angle = k as f64 * std::f64::consts::FRAC_PI_4;
        let (dx, dy) = (angle.cos(), angle.sin());
        let best = (0..graph.node_count() as u32)
            .map(NodeId)
            .filter(|&v| graph.serves(v, TravelMode::Car))
            .max_by(|&a, &b| {
                let pa = graph.node_pos(a);
                let pb = graph.node_pos(b);
                (pa.x * dx + pa.y * dy).total_cmp(&(pb.x * dx + pb.y * dy))
            });
        if let Some(node) = best
            && out.iter().all(|g| g.node != node)
        {
            out.push(Gate {
                node,
                pos: graph.node_pos(node),
                weight: 1.0,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    #[test]
    fn weighted_places_follow_their_weights() {
        let w = WeightedPlaces::new([(PlaceId(0), 1.0), (PlaceId(1), 0.0), (PlaceId(2), 3.0)]);
        assert_eq!(w.len(), 2);
        let mut rng = stream(1, Purpose::Validate, 0, 0);
        let n = 20_000;
        let twos = (0..n)
            .filter(|_| w.sample(&mut rng) == Some(PlaceId(2)))
            .count();
        let share = twos as f64 / n as f64;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        assert_eq!(WeightedPlaces::new([]).sample(&mut rng), None);
    }
}
