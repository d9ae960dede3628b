//! The road graph: junctions as nodes, road segments between them as directed
//! edges, each edge open to some travel modes.
//!
//! Only junctions and way ends become nodes, and an edge keeps the road's
//! shape between them, which makes the graph about five times smaller than
//! one with every OSM node while trajectories still follow the road. After
//! the build, each mode keeps only its largest strongly connected component:
//! an edge outside it loses that mode's access, and edges no mode can use are
//! dropped. So every edge open to a mode is usable both ways round a trip.

use std::collections::HashMap;

use geo::{Coord, LineString, Simplify};
use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use super::osm::{RawOsm, RawWay, Tags};
use super::{BoundingBox, Projection, distance};

/// Dense index of a graph node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

/// Dense index of a directed edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl EdgeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// How a traveller moves over the road graph. Public transport is routed as
/// a slower car by the layers above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TravelMode {
    Car,
    Bike,
    Walk,
}

impl TravelMode {
    pub const ALL: [TravelMode; 3] = [TravelMode::Car, TravelMode::Bike, TravelMode::Walk];

    fn bit(self) -> u8 {
        1 << self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            TravelMode::Car => "car",
            TravelMode::Bike => "bike",
            TravelMode::Walk => "walk",
        }
    }
}

/// The set of modes allowed on an edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessMask(u8);

impl AccessMask {
    pub fn allows(self, mode: TravelMode) -> bool {
        self.0 & mode.bit() != 0
    }
    fn with(self, mode: TravelMode, yes: bool) -> Self {
        if yes {
            AccessMask(self.0 | mode.bit())
        } else {
            AccessMask(self.0 & !mode.bit())
        }
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The OSM highway classes the graph distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoadClass {
    Motorway,
    Trunk,
    Primary,
    Secondary,
    Tertiary,
    Unclassified,
    Residential,
    LivingStreet,
    Service,
    Track,
    Cycleway,
    Path,
    Footway,
    Pedestrian,
    Steps,
}

impl RoadClass {
    fn parse(highway: &str) -> Option<RoadClass> {
        Some(match highway.trim_end_matches("_link") {
            "motorway" => RoadClass::Motorway,
            "trunk" => RoadClass::Trunk,
            "primary" => RoadClass::Primary,
            "secondary" => RoadClass::Secondary,
            "tertiary" => RoadClass::Tertiary,
            "unclassified" | "road" => RoadClass::Unclassified,
            "residential" => RoadClass::Residential,
            "living_street" => RoadClass::LivingStreet,
            "service" => RoadClass::Service,
            "track" => RoadClass::Track,
            "cycleway" => RoadClass::Cycleway,
            "path" | "bridleway" => RoadClass::Path,
            "footway" | "corridor" => RoadClass::Footway,
            "pedestrian" => RoadClass::Pedestrian,
            "steps" => RoadClass::Steps,
            _ => return None,
        })
    }

    /// Free-flow car speed in km/h when the way has no usable `maxspeed`:
    /// typical posted limits in central Europe, lowered a little for
    /// junctions and curves.
    pub fn default_car_kmh(self) -> f64 {
        match self {
            RoadClass::Motorway => 110.0,
            RoadClass::Trunk => 85.0,
            RoadClass::Primary => 65.0,
            RoadClass::Secondary => 55.0,
            RoadClass::Tertiary => 45.0,
            RoadClass::Unclassified => 40.0,
            RoadClass::Residential => 30.0,
            RoadClass::LivingStreet => 10.0,
            RoadClass::Service => 15.0,
            _ => 10.0,
        }
    }

    /// Whether cars may use this class at all, before access tags.
    fn car_class(self) -> bool {
        self <= RoadClass::Service
    }

    /// A short lower-case name, as in OSM.
    pub fn name(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::Trunk => "trunk",
            RoadClass::Primary => "primary",
            RoadClass::Secondary => "secondary",
            RoadClass::Tertiary => "tertiary",
            RoadClass::Unclassified => "unclassified",
            RoadClass::Residential => "residential",
            RoadClass::LivingStreet => "living_street",
            RoadClass::Service => "service",
            RoadClass::Track => "track",
            RoadClass::Cycleway => "cycleway",
            RoadClass::Path => "path",
            RoadClass::Footway => "footway",
            RoadClass::Pedestrian => "pedestrian",
            RoadClass::Steps => "steps",
        }
    }
}

/// Cycling speed on the flat, 15 km/h (a typical urban average).
pub const BIKE_SPEED_MPS: f64 = 15.0 / 3.6;
/// Walking speed, 4.8 km/h (the commonly used 1.34 m/s).
pub const WALK_SPEED_MPS: f64 = 1.34;

/// How far, in metres, a road's polyline may be straightened when the graph
/// is built (Ramer–Douglas–Peucker): well below a coverage pixel, and about
/// the precision of mapped road centre lines.
const SHAPE_TOLERANCE_M: f64 = 3.0;

/// A directed road segment between two junctions.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    /// Length along the road, in metres; never less than the straight line.
    pub length_m: f64,
    /// Free-flow car speed, m/s.
    pub car_speed_mps: f64,
    pub class: RoadClass,
    pub access: AccessMask,
    /// The OSM way the segment belongs to.
    pub way_id: i64,
    /// Index range into [`RoadGraph::shape`], from `from` to `to`.
    pub shape: std::ops::Range<u32>,
}

impl Edge {
    /// Free-flow travel time for `mode`, in seconds. Only meaningful when the
    /// edge allows the mode.
    pub fn travel_time_s(&self, mode: TravelMode) -> f64 {
        let speed = match mode {
            TravelMode::Car => self.car_speed_mps,
            TravelMode::Bike => match self.class {
                RoadClass::Track | RoadClass::Path | RoadClass::Footway | RoadClass::Pedestrian => {
                    BIKE_SPEED_MPS * 0.7
                }
                _ => BIKE_SPEED_MPS,
            },
            TravelMode::Walk => match self.class {
                RoadClass::Steps => WALK_SPEED_MPS * 0.5,
                _ => WALK_SPEED_MPS,
            },
        };
        self.length_m / speed
    }
}

/// The road graph shared by all modes.
#[derive(Debug, Default)]
pub struct RoadGraph {
    /// Node positions, projected, in metres.
    pub nodes: Vec<Coord>,
    pub edges: Vec<Edge>,
    /// Polyline points of all edges, see [`Edge::shape`].
    pub shape: Vec<Coord>,
    /// Metres along its edge at each point of `shape`: every trip step
    /// needs them, and they are measured once here.
    shape_m: Vec<f64>,
    /// `out_start[n]..out_start[n + 1]` are the ids of edges leaving node n.
    out_start: Vec<u32>,
    out_edges: Vec<EdgeId>,
}

impl RoadGraph {
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn edge(&self, id: EdgeId) -> &Edge {
        &self.edges[id.index()]
    }

    pub fn node_pos(&self, id: NodeId) -> Coord {
        self.nodes[id.index()]
    }

    /// Edges leaving `node`.
    pub fn out_edges(&self, node: NodeId) -> &[EdgeId] {
        let (a, b) = (
            self.out_start[node.index()],
            self.out_start[node.index() + 1],
        );
        &self.out_edges[a as usize..b as usize]
    }

    /// The polyline of an edge, from its start to its end.
    pub fn edge_shape(&self, id: EdgeId) -> &[Coord] {
        let r = &self.edges[id.index()].shape;
        &self.shape[r.start as usize..r.end as usize]
    }

    /// Metres along an edge at each point of [`Self::edge_shape`], from 0 at
    /// its start to the length of its shape.
    pub fn edge_shape_m(&self, id: EdgeId) -> &[f64] {
        let r = &self.edges[id.index()].shape;
        &self.shape_m[r.start as usize..r.end as usize]
    }

    /// Whether `node` has an edge, in or out, open to `mode`; after the build
    /// that means it lies in the mode's main component.
    pub fn serves(&self, node: NodeId, mode: TravelMode) -> bool {
        self.out_edges(node)
            .iter()
            .any(|&e| self.edge(e).access.allows(mode))
    }

    /// Number of nodes in each mode's component, in [`TravelMode::ALL`] order.
    pub fn component_sizes(&self) -> [usize; 3] {
        TravelMode::ALL.map(|m| {
            (0..self.nodes.len() as u32)
                .filter(|&n| self.serves(NodeId(n), m))
                .count()
        })
    }

    /// The point `offset_m` metres along an edge from its start.
    pub fn point_along(&self, id: EdgeId, offset_m: f64) -> Coord {
        let shape = self.edge_shape(id);
        let mut left = offset_m.max(0.0);
        for pair in shape.windows(2) {
            let seg = distance(pair[0], pair[1]);
            if left <= seg && seg > 0.0 {
                let t = left / seg;
                return Coord {
                    x: pair[0].x + (pair[1].x - pair[0].x) * t,
                    y: pair[0].y + (pair[1].y - pair[0].y) * t,
                };
            }
            left -= seg;
        }
        shape.last().copied().unwrap_or_default()
    }

    fn index_out_edges(&mut self) {
        let mut count = vec![0u32; self.nodes.len() + 1];
        for e in &self.edges {
            count[e.from.index() + 1] += 1;
        }
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let mut fill = count.clone();
        let mut out = vec![EdgeId(0); self.edges.len()];
        for (i, e) in self.edges.iter().enumerate() {
            let slot = &mut fill[e.from.index()];
            out[*slot as usize] = EdgeId(i as u32);
            *slot += 1;
        }
        self.out_start = count;
        self.out_edges = out;
    }

    fn measure_shapes(&mut self) {
        let mut shape_m = vec![0.0; self.shape.len()];
        for e in &self.edges {
            let r = e.shape.start as usize..e.shape.end as usize;
            let mut along = 0.0;
            for (m, pair) in shape_m[r.clone()]
                .iter_mut()
                .skip(1)
                .zip(self.shape[r].windows(2))
            {
                along += distance(pair[0], pair[1]);
                *m = along;
            }
        }
        self.shape_m = shape_m;
    }
}

/// Per-direction access of a highway way: (forward, backward) masks.
fn way_access(class: RoadClass, highway: &str, tags: &Tags) -> (AccessMask, AccessMask) {
    let yes = |k: &str| {
        matches!(
            tags.get(k),
            Some("yes" | "designated" | "permissive" | "destination")
        )
    };
    let general_no = tags.denies(&["access"]);
    let car = class.car_class()
        && !tags.denies(&["motor_vehicle", "motorcar", "vehicle"])
        && (!general_no || yes("motor_vehicle") || yes("motorcar"));
    let bike_class = !matches!(class, RoadClass::Motorway | RoadClass::Steps)
        && (!matches!(class, RoadClass::Footway | RoadClass::Pedestrian) || yes("bicycle"));
    let bike = (bike_class || yes("bicycle"))
        && !tags.denies(&["bicycle", "vehicle"])
        && (!general_no || yes("bicycle"));
    let walk_class = !matches!(class, RoadClass::Motorway | RoadClass::Trunk) || yes("foot");
    let walk = walk_class && !tags.denies(&["foot"]) && (!general_no || yes("foot"));

    let oneway = match tags.get("oneway") {
        Some("yes" | "true" | "1") => 1,
        Some("-1" | "reverse") => -1,
        Some("no" | "false" | "0") => 0,
        _ if tags.get("junction") == Some("roundabout")
            || highway == "motorway"
            || highway == "motorway_link" =>
        {
            1
        }
        _ => 0,
    };
    let bike_contraflow = tags.get("oneway:bicycle") == Some("no")
        || tags
            .get("cycleway")
            .is_some_and(|v| v.starts_with("opposite"));
    let bike_oneway = if bike_contraflow { 0 } else { oneway };
    let base = AccessMask::default().with(TravelMode::Walk, walk);
    let fwd = base
        .with(TravelMode::Car, car && oneway >= 0)
        .with(TravelMode::Bike, bike && bike_oneway >= 0);
    let bwd = base
        .with(TravelMode::Car, car && oneway <= 0)
        .with(TravelMode::Bike, bike && bike_oneway <= 0);
    (fwd, bwd)
}

/// Parses an OSM `maxspeed` value into km/h.
pub fn parse_maxspeed(value: &str) -> Option<f64> {
    let v = value.trim();
    let zone = match v.to_ascii_lowercase().as_str() {
        "walk" => Some(7.0),
        "none" => Some(130.0),
        s if s.ends_with(":urban") => Some(50.0),
        s if s.ends_with(":rural") => Some(80.0),
        s if s.ends_with(":motorway") => Some(120.0),
        s if s.ends_with(":living_street") => Some(10.0),
        s if s.ends_with(":zone30") || s.ends_with(":zone:30") => Some(30.0),
        _ => None,
    };
    if zone.is_some() {
        return zone;
    }
    let (number, mph) = match v.strip_suffix("mph") {
        Some(n) => (n.trim(), true),
        None => (
            v.trim_end_matches("km/h").trim_end_matches("kmh").trim(),
            false,
        ),
    };
    let kmh: f64 = number.parse().ok()?;
    let kmh = if mph { kmh * 1.609_344 } else { kmh };
    (kmh > 0.0 && kmh <= 200.0).then_some(kmh)
}

struct RoadWay<'a> {
    way: &'a RawWay,
    class: RoadClass,
    fwd: AccessMask,
    bwd: AccessMask,
    car_kmh: f64,
}

fn road_ways(raw: &RawOsm) -> Vec<RoadWay<'_>> {
    raw.ways
        .iter()
        .filter_map(|way| {
            let highway = way.tags.get("highway")?;
            let class = RoadClass::parse(highway)?;
            if way.tags.get("area") == Some("yes") || way.refs.len() < 2 {
                return None;
            }
            let (fwd, bwd) = way_access(class, highway, &way.tags);
            if fwd.is_empty() && bwd.is_empty() {
                return None;
            }
            let posted = way.tags.get("maxspeed").and_then(parse_maxspeed);
            // Posted limits are upper bounds: traffic averages somewhat below.
            let car_kmh = posted.map_or(class.default_car_kmh(), |p| p * 0.9).max(5.0);
            Some(RoadWay {
                way,
                class,
                fwd,
                bwd,
                car_kmh,
            })
        })
        .collect()
}

/// Builds the graph from the raw OSM, with each mode reduced to its largest
/// strongly connected component. Returns the graph, the projection centred on
/// the roads and their bounding box; an error says why no graph could be made.
pub fn build(raw: &RawOsm) -> Result<(RoadGraph, Projection, BoundingBox), String> {
    let roads = road_ways(raw);
    if roads.is_empty() {
        return Err(format!(
            "none of its {} ways is a highway usable by car, bike or foot",
            raw.ways.len()
        ));
    }
    // Junctions: nodes used more than once across all road ways, plus way ends.
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for r in &roads {
        for &id in &r.way.refs {
            *uses.entry(id).or_default() += 1;
        }
    }
    let mut bbox = BoundingBox {
        min_lon: f64::MAX,
        min_lat: f64::MAX,
        max_lon: f64::MIN,
        max_lat: f64::MIN,
    };
    for &id in uses.keys() {
        if let Some(n) = raw.node(id) {
            bbox.min_lon = bbox.min_lon.min(n.lon);
            bbox.max_lon = bbox.max_lon.max(n.lon);
            bbox.min_lat = bbox.min_lat.min(n.lat);
            bbox.max_lat = bbox.max_lat.max(n.lat);
        }
    }
    if bbox.min_lon > bbox.max_lon {
        return Err("its roads reference no node the file contains".into());
    }
    let projection = Projection::new(
        (bbox.min_lon + bbox.max_lon) / 2.0,
        (bbox.min_lat + bbox.max_lat) / 2.0,
    );

    let mut graph = RoadGraph::default();
    let mut node_of_osm: HashMap<i64, NodeId> = HashMap::new();
    let mut node_id = |graph: &mut RoadGraph, osm: i64, p: Coord| {
        *node_of_osm.entry(osm).or_insert_with(|| {
            graph.nodes.push(p);
            NodeId(graph.nodes.len() as u32 - 1)
        })
    };
    for r in &roads {
        // Resolve positions, skipping refs whose node the extract cut off.
        let pts: Vec<(i64, Coord)> = r
            .way
            .refs
            .iter()
            .filter_map(|&id| raw.node(id).map(|n| (id, projection.to_xy(n.lon, n.lat))))
            .collect();
        if pts.len() < 2 {
            continue;
        }
        let last = pts.len() - 1;
        let closed = pts[0].0 == pts[last].0;
        let mut seg_start = 0;
        for i in 1..=last {
            // A closed way gets a split half-way round, so it never becomes a self-loop.
            let junction = i == last
                || uses.get(&pts[i].0).copied().unwrap_or(0) > 1
                || (closed && i == last / 2);
            if !junction {
                continue;
            }
            let seg = &pts[seg_start..=i];
            seg_start = i;
            if seg[0].0 == seg[seg.len() - 1].0 {
                continue;
            }
            let length: f64 = seg.windows(2).map(|w| distance(w[0].1, w[1].1)).sum();
            if length <= 0.0 {
                continue;
            }
            // Points that bend the line by less than the tolerance add
            // nothing a trajectory could show, but every trip walks them.
            let line = LineString::from(seg.iter().map(|p| p.1).collect::<Vec<_>>())
                .simplify(SHAPE_TOLERANCE_M);
            let a = node_id(&mut graph, seg[0].0, seg[0].1);
            let b = node_id(&mut graph, seg[seg.len() - 1].0, seg[seg.len() - 1].1);
            for (forward, access) in [(true, r.fwd), (false, r.bwd)] {
                if access.is_empty() {
                    continue;
                }
                let start = graph.shape.len() as u32;
                if forward {
                    graph.shape.extend_from_slice(&line.0);
                } else {
                    graph.shape.extend(line.0.iter().rev());
                }
                let (from, to) = if forward { (a, b) } else { (b, a) };
                graph.edges.push(Edge {
                    from,
                    to,
                    length_m: length,
                    car_speed_mps: r.car_kmh / 3.6,
                    class: r.class,
                    access,
                    way_id: r.way.id,
                    shape: start..graph.shape.len() as u32,
                });
            }
        }
    }
    if graph.edges.is_empty() {
        return Err("its highways have no segment with two known nodes".into());
    }
    let junctions = graph.nodes.len();
    keep_main_components(&mut graph);
    if graph.edges.is_empty() {
        return Err("no mode has a connected road network".into());
    }
    // A real network keeps nearly all its junctions (96–98% on the
    // Liechtenstein, Andorra and Monaco extracts); an extract of loose
    // fragments would put everyone on one street.
    if graph.nodes.len() * 2 < junctions {
        return Err(format!(
            "its roads are disconnected fragments: the largest connected network holds {} of {junctions} junctions",
            graph.nodes.len()
        ));
    }
    let [car, ..] = graph.component_sizes();
    if car < 2 {
        return Err("no two junctions are connected by a road cars may use".into());
    }
    Ok((graph, projection, bbox))
}

/// Restricts each mode to its largest strongly connected component, then
/// drops unused edges and nodes and renumbers what is left.
fn keep_main_components(graph: &mut RoadGraph) {
    for mode in TravelMode::ALL {
        let mut g: DiGraph<(), ()> = DiGraph::with_capacity(graph.nodes.len(), graph.edges.len());
        for _ in 0..graph.nodes.len() {
            g.add_node(());
        }
        for e in graph.edges.iter().filter(|e| e.access.allows(mode)) {
            g.add_edge(e.from.0.into(), e.to.0.into(), ());
        }
        let components = tarjan_scc(&g);
        // Ties go to the component holding the lowest node id, for determinism.
        let largest = components.iter().max_by_key(|c| {
            (
                c.len(),
                std::cmp::Reverse(c.iter().map(|n| n.index()).min()),
            )
        });
        let mut inside = vec![false; graph.nodes.len()];
        if let Some(c) = largest.filter(|c| c.len() > 1) {
            for n in c {
                inside[n.index()] = true;
            }
        }
        for e in &mut graph.edges {
            if e.access.allows(mode) && !(inside[e.from.index()] && inside[e.to.index()]) {
                e.access = e.access.with(mode, false);
            }
        }
    }
    let mut used = vec![false; graph.nodes.len()];
    graph.edges.retain(|e| !e.access.is_empty());
    for e in &graph.edges {
        used[e.from.index()] = true;
        used[e.to.index()] = true;
    }
    let mut new_id = vec![u32::MAX; graph.nodes.len()];
    let mut nodes = Vec::new();
    for (i, p) in graph.nodes.iter().enumerate() {
        if used[i] {
            new_id[i] = nodes.len() as u32;
            nodes.push(*p);
        }
    }
    graph.nodes = nodes;
    let mut shape = Vec::with_capacity(graph.shape.len());
    for e in &mut graph.edges {
        e.from = NodeId(new_id[e.from.index()]);
        e.to = NodeId(new_id[e.to.index()]);
        let start = shape.len() as u32;
        shape.extend_from_slice(&graph.shape[e.shape.start as usize..e.shape.end as usize]);
        e.shape = start..shape.len() as u32;
    }
    graph.shape = shape;
    graph.measure_shapes();
    graph.index_out_edges();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxspeed_values_parse_to_kmh() {
        assert_eq!(parse_maxspeed("50"), Some(50.0));
        assert_eq!(parse_maxspeed("80 km/h"), Some(80.0));
        assert!((parse_maxspeed("30 mph").unwrap() - 48.28).abs() < 0.01);
        assert_eq!(parse_maxspeed("CH:urban"), Some(50.0));
        assert_eq!(parse_maxspeed("walk"), Some(7.0));
        assert_eq!(parse_maxspeed("signals"), None);
        assert_eq!(parse_maxspeed("0"), None);
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        Tags(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn oneway_closes_the_backward_direction_for_cars_only() {
        let (f, b) = way_access(
            RoadClass::Residential,
            "residential",
            &tags(&[("oneway", "yes")]),
        );
        assert!(f.allows(TravelMode::Car) && !b.allows(TravelMode::Car));
        assert!(b.allows(TravelMode::Walk));
        assert!(!b.allows(TravelMode::Bike));
        let (_, b) = way_access(
            RoadClass::Residential,
            "residential",
            &tags(&[("oneway", "yes"), ("oneway:bicycle", "no")]),
        );
        assert!(b.allows(TravelMode::Bike) && !b.allows(TravelMode::Car));
        let (f, b) = way_access(RoadClass::Primary, "primary", &tags(&[("oneway", "-1")]));
        assert!(!f.allows(TravelMode::Car) && b.allows(TravelMode::Car));
    }

    #[test]
    fn footways_and_motorways_keep_their_modes_apart() {
        let (f, _) = way_access(RoadClass::Footway, "footway", &tags(&[]));
        assert!(
            f.allows(TravelMode::Walk) && !f.allows(TravelMode::Car) && !f.allows(TravelMode::Bike)
        );
        let (f, b) = way_access(RoadClass::Motorway, "motorway", &tags(&[]));
        assert!(f.allows(TravelMode::Car) && !f.allows(TravelMode::Walk) && b.is_empty());
        let (f, _) = way_access(
            RoadClass::Service,
            "service",
            &tags(&[("access", "private")]),
        );
        assert!(!f.allows(TravelMode::Car));
    }
}
