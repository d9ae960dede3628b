//! Time-shortest paths over the road graph, one contraction hierarchy per
//! travel mode (`fast_paths`).
//!
//! A [`Router`] is prepared once per map and shared read-only between
//! threads; each thread makes its own [`RouteQuery`], which holds the
//! search state that `fast_paths` reuses between queries. Weights are whole
//! milliseconds of free-flow travel time, at least one, because the library
//! drops zero-weight edges.

use fast_paths::{FastGraph, InputGraph, PathCalculator};

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
    global_of: Vec<NodeId>,
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

impl<'g> Router<'g> {
    /// Prepares the hierarchies; takes a fraction of a second on a small
    /// country.
    pub fn new(graph: &'g RoadGraph) -> Router<'g> {
        let modes = TravelMode::ALL
            .iter()
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
                ModeRouter {
                    fast: fast_paths::prepare(&input),
                    local_of,
                    global_of,
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
        }
    }
}

/// Per-thread routing state.
pub struct RouteQuery<'r, 'g> {
    router: &'r Router<'g>,
    calculators: Vec<PathCalculator>,
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
            let (u, v) = (m.global_of[pair[0]], m.global_of[pair[1]]);
            // Parallel edges may join the same junctions; the search used the fastest.
            let edge = graph
                .out_edges(u)
                .iter()
                .copied()
                .filter(|&e| graph.edge(e).to == v && graph.edge(e).access.allows(mode))
                .min_by_key(|&e| weight_ms(graph, e, mode))?;
            let e = graph.edge(edge);
            route.length_m += e.length_m;
            route.time_s += e.travel_time_s(mode);
            route.edges.push(edge);
        }
        Some(route)
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
