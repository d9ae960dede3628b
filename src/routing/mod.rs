//! Time-shortest paths over the road graph, one contraction hierarchy per
//! travel mode (`fast_paths`).
//!
//! A [`Router`] is prepared once per map and shared read-only between
//! threads; each thread makes its own [`RouteQuery`], which holds the
//! search state that `fast_paths` reuses between queries. Weights are whole
//! milliseconds of free-flow travel time, at least one, because the library
//! drops zero-weight edges.

use fast_paths::{FastGraph, InputGraph, PathCalculator};
use rayon::prelude::*;

use crate::map::{EdgeId, NodeId, RoadGraph, TravelMode};

/// A routed path.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Route {
    /// Edges in travel order; empty when origin and destination coincide.
    pub edges: Vec<EdgeId>,
    /// Length along the roads, metres.
    pub length_m: f64,
    /// Free-flow travel time, seconds.
    pub time_s: f64,
}

/// The prepared hierarchy of one mode, over that mode's nodes renumbered
/// densely.
struct ModeRouter {
    fast: FastGraph,
    local_of: Vec<u32>,
    /// The road edge taken between two adjacent nodes of this mode: for
    /// local node `u`, `hops[hops_start[u]..hops_start[u + 1]]`, one per
    /// neighbour, the fastest of any parallel edges. Found once here rather
    /// than among all out-edges at every step of every route.
    hops_start: Vec<u32>,
    hops: Vec<Hop>,
}

#[derive(Clone, Copy)]
struct Hop {
    to: u32,
    edge: EdgeId,
    time_s: f64,
}

/// Contraction hierarchies for every travel mode of a road graph.
pub struct Router<'g> {
    graph: &'g RoadGraph,
    modes: Vec<ModeRouter>,
}

const NOT_IN_MODE: u32 = u32::MAX;

fn weight_ms(graph: &RoadGraph, e: EdgeId, mode: TravelMode) -> usize {
    (graph.edge(e).travel_time_s(mode) * 1000.0)
        .round()
        .max(1.0) as usize
}

/// The hops of one mode (see [`ModeRouter::hops`]), by local node.
fn hops(
    graph: &RoadGraph,
    mode: TravelMode,
    local_of: &[u32],
    global_of: &[NodeId],
) -> (Vec<u32>, Vec<Hop>) {
    let mut start = Vec::with_capacity(global_of.len() + 1);
    let mut hops: Vec<Hop> = Vec::new();
    // The weight the search gave each kept hop, needed only here.
    let mut weights: Vec<usize> = Vec::new();
    for &u in global_of {
        start.push(hops.len() as u32);
        let first = hops.len();
        for &e in graph.out_edges(u) {
            let edge = graph.edge(e);
            if !edge.access.allows(mode) {
                continue;
            }
            let to = local_of[edge.to.index()];
            let w = weight_ms(graph, e, mode);
            let hop = Hop {
                to,
                edge: e,
                time_s: edge.travel_time_s(mode),
            };
            match hops[first..].iter().position(|h| h.to == to) {
                // Parallel edges: the first of the fastest, as the search
                // weighed them.
                Some(i) if weights[first + i] <= w => {}
                Some(i) => {
                    hops[first + i] = hop;
                    weights[first + i] = w;
                }
                None => {
                    hops.push(hop);
                    weights.push(w);
                }
            }
        }
    }
    start.push(hops.len() as u32);
    (start, hops)
}

impl<'g> Router<'g> {
    /// Prepares the hierarchies; takes a fraction of a second on a small
    /// country.
    pub fn new(graph: &'g RoadGraph) -> Router<'g> {
        // The modes' hierarchies are independent; on two cores the three
        // take the time of two.
        let modes = TravelMode::ALL
            .par_iter()
            .map(|&mode| {
                let mut local_of = vec![NOT_IN_MODE; graph.node_count()];
                let mut global_of = Vec::new();
                for n in 0..graph.node_count() as u32 {
                    if graph.serves(NodeId(n), mode) {
                        local_of[n as usize] = global_of.len() as u32;
                        global_of.push(NodeId(n));
                    }
                }
                let mut input = InputGraph::new();
                for (i, e) in graph.edges.iter().enumerate() {
                    if e.access.allows(mode) {
                        let (a, b) = (local_of[e.from.index()], local_of[e.to.index()]);
                        input.add_edge(
                            a as usize,
                            b as usize,
                            weight_ms(graph, EdgeId(i as u32), mode),
                        );
                    }
                }
                input.freeze();
                let (hops_start, hops) = hops(graph, mode, &local_of, &global_of);
                ModeRouter {
                    fast: fast_paths::prepare(&input),
                    local_of,
                    hops_start,
                    hops,
                }
            })
            .collect();
        Router { graph, modes }
    }

    pub fn graph(&self) -> &'g RoadGraph {
        self.graph
    }

    /// A query handle for one thread.
    pub fn query(&self) -> RouteQuery<'_, 'g> {
        RouteQuery {
            router: self,
            calculators: self
                .modes
                .iter()
                .map(|m| fast_paths::create_calculator(&m.fast))
                .collect(),
            recent: Vec::with_capacity(RECENT_ROUTES),
            next_recent: 0,
        }
    }
}

/// How many recent routes a [`RouteQuery`] keeps.
const RECENT_ROUTES: usize = 16;

/// Per-thread routing state.
pub struct RouteQuery<'r, 'g> {
    router: &'r Router<'g>,
    calculators: Vec<PathCalculator>,
    /// The last routes asked for, replaced oldest first: a person's days
    /// repeat their trips (the commute above all), and one thread simulates
    /// a person's whole run. A route is the same however it was found, so
    /// keeping it changes no result.
    recent: Vec<(TravelMode, NodeId, NodeId, Option<Route>)>,
    next_recent: usize,
}

impl RouteQuery<'_, '_> {
    /// The time-shortest path from `from` to `to` for `mode`, or `None` when
    /// either node is outside the mode's network.
    pub fn route(&mut self, mode: TravelMode, from: NodeId, to: NodeId) -> Option<Route> {
        let m = &self.router.modes[mode as usize];
        let (a, b) = (m.local_of[from.index()], m.local_of[to.index()]);
        if a == NOT_IN_MODE || b == NOT_IN_MODE {
            return None;
        }
        if a == b {
            return Some(Route::default());
        }
        let path = self.calculators[mode as usize].calc_path(&m.fast, a as usize, b as usize)?;
        let graph = self.router.graph;
        let mut route = Route {
            edges: Vec::with_capacity(path.get_nodes().len()),
            ..Route::default()
        };
        for pair in path.get_nodes().windows(2) {
            let (u, v) = (pair[0], pair[1] as u32);
            let range = m.hops_start[u] as usize..m.hops_start[u + 1] as usize;
            let hop = m.hops[range].iter().find(|h| h.to == v)?;
            route.length_m += graph.edge(hop.edge).length_m;
            route.time_s += hop.time_s;
            route.edges.push(hop.edge);
        }
        Some(route)
    }

    /// As [`Self::route`], from the recent routes when it is one of them.
    pub fn recent_route(&mut self, mode: TravelMode, from: NodeId, to: NodeId) -> Option<&Route> {
        let found = self
            .recent
            .iter()
            .position(|(m, a, b, _)| (*m, *a, *b) == (mode, from, to));
        let i = match found {
            Some(i) => i,
            None => {
                let route = self.route(mode, from, to);
                let i = self.next_recent;
                self.next_recent = (i + 1) % RECENT_ROUTES;
                if i < self.recent.len() {
                    self.recent[i] = (mode, from, to, route);
                } else {
                    self.recent.push((mode, from, to, route));
                }
                i
            }
        };
        self.recent[i].3.as_ref()
    }

    /// Only the travel time in seconds, without building the edge list.
    pub fn travel_time_s(&mut self, mode: TravelMode, from: NodeId, to: NodeId) -> Option<f64> {
        let m = &self.router.modes[mode as usize];
        let (a, b) = (m.local_of[from.index()], m.local_of[to.index()]);
        if a == NOT_IN_MODE || b == NOT_IN_MODE {
            return None;
        }
        let path = self.calculators[mode as usize].calc_path(&m.fast, a as usize, b as usize)?;
        Some(path.get_weight() as f64 / 1000.0)
    }
}
