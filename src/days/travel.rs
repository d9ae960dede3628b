//! Turning a trip into a timed trajectory along the routed roads.
//!
//! Each mode adds what a door-to-door trip costs beyond the road itself:
//! walking to and from the parked car and searching for a space, walking to
//! the stop and waiting for public transport, locking the bike. Car and bus
//! speeds follow the time of day.

use geo::Coord;
use rand::Rng;

use super::params::MobilityParams;
use super::{TripMode, Waypoint};
use crate::calendar::{Day, DayKind};
use crate::map::graph::{BIKE_SPEED_MPS, WALK_SPEED_MPS};
use crate::map::{NodeId, RoadGraph, TravelMode, distance};
use crate::population::draw::{log_normal, unit};
use crate::routing::RouteQuery;

/// Where a leg starts or ends: a position and the road node it is reached
/// from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct End {
    pub pos: Coord,
    pub node: NodeId,
}

/// A travelled leg.
#[derive(Clone, Debug, Default)]
pub(crate) struct Leg {
    pub end: f64,
    pub distance_m: f64,
    pub path: Vec<Waypoint>,
    /// When the traveller is outside the map during the leg, UTC seconds.
    pub outside: Option<(f64, f64)>,
}

/// Average car speed beyond the map's edge on a short leg, m/s (30 km/h:
/// town streets next to the extract).
const OUTSIDE_CAR_NEAR_MPS: f64 = 30.0 / 3.6;
/// Average car speed beyond the map's edge on a long leg, m/s (70 km/h:
/// mostly main roads and motorways).
const OUTSIDE_CAR_FAR_MPS: f64 = 70.0 / 3.6;
/// Leg length over which the car speed beyond the edge rises from the town
/// speed towards the main-road speed, metres.
const OUTSIDE_CAR_SPEEDUP_M: f64 = 15_000.0;

/// Average car speed of a leg of `metres` beyond the map's edge: short legs
/// run on town streets, long ones mostly on main roads (assumption in line
/// with the average car trip speeds of travel surveys, which grow with the
/// trip's length).
fn outside_car_mps(metres: f64) -> f64 {
    OUTSIDE_CAR_NEAR_MPS
        + (OUTSIDE_CAR_FAR_MPS - OUTSIDE_CAR_NEAR_MPS)
            * (1.0 - (-metres / OUTSIDE_CAR_SPEEDUP_M).exp())
}
/// Routes missing in a mode's network, and every route beyond the map's
/// edge, are the straight line with this detour factor.
pub(crate) const DETOUR: f64 = 1.3;

/// The part of a leg beyond the map's edge: between the place outside and
/// the border gate, along the straight line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutsidePart {
    /// The place outside.
    pub pos: Coord,
    pub seconds: f64,
    /// Distance travelled, metres (the straight line with a detour).
    pub metres: f64,
}

/// Distance-based travel beyond the edge between `a` and `b` by `mode`.
pub(crate) fn outside_part(p: &MobilityParams, mode: TripMode, a: Coord, b: Coord) -> OutsidePart {
    let metres = distance(a, b) * DETOUR;
    let speed = match mode {
        TripMode::Walk => WALK_SPEED_MPS,
        TripMode::Bike => BIKE_SPEED_MPS,
        TripMode::CarDriver | TripMode::CarPassenger => outside_car_mps(metres),
        TripMode::PublicTransport => outside_car_mps(metres) * p.transit_speed_factor,
    };
    OutsidePart {
        pos: b,
        seconds: metres / speed,
        metres,
    }
}

fn smoothstep(a: f64, b: f64, x: f64) -> f64 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Car speed as a share of free flow at a local time: free at night, slower
/// in the day, slowest in the weekday peaks around 07:45 and 17:15.
pub(crate) fn speed_factor(p: &MobilityParams, kind: DayKind, local_s: f64) -> f64 {
    let h = (local_s / 3600.0).rem_euclid(24.0);
    let daytime = smoothstep(5.5, 7.0, h) * (1.0 - smoothstep(19.5, 22.0, h));
    let day = p.day_speed_factor;
    if kind == DayKind::Weekday {
        let peak = (-((h - 7.75) / 0.75).powi(2))
            .exp()
            .max((-((h - 17.25) / 1.0).powi(2)).exp());
        let f = 1.0 - (1.0 - day) * daytime - (day - p.peak_speed_factor).max(0.0) * peak;
        f.clamp(p.peak_speed_factor.min(day), 1.0)
    } else {
        (1.0 - (1.0 - day) * 0.6 * daytime).clamp(day, 1.0)
    }
}

struct PathBuilder {
    t: f64,
    pos: Coord,
    distance_m: f64,
    path: Vec<Waypoint>,
}

impl PathBuilder {
    fn new(t: f64, pos: Coord) -> Self {
        PathBuilder {
            t,
            pos,
            distance_m: 0.0,
            path: vec![Waypoint { t, pos }],
        }
    }

    /// Moves to `pos`, arriving after `dt` seconds.
    fn go(&mut self, pos: Coord, dt: f64) {
        self.go_measured(pos, dt, distance(self.pos, pos));
    }

    /// Moves `metres` to `pos`, arriving after `dt` seconds.
    fn go_measured(&mut self, pos: Coord, dt: f64, metres: f64) {
        self.distance_m += metres;
        self.t += dt.max(0.0);
        self.pos = pos;
        self.path.push(Waypoint { t: self.t, pos });
    }

    /// Stays put for `dt` seconds.
    fn hold(&mut self, dt: f64) {
        if dt > 0.0 {
            self.t += dt;
            self.path.push(Waypoint {
                t: self.t,
                pos: self.pos,
            });
        }
    }

    /// Walks straight to `pos`.
    fn walk(&mut self, pos: Coord) {
        let dt = distance(self.pos, pos) / WALK_SPEED_MPS;
        self.go(pos, dt);
    }
}

/// The inputs of one leg.
pub(crate) struct LegSpec<'a> {
    pub mode: TripMode,
    pub from: End,
    pub to: End,
    /// UTC seconds of departure.
    pub depart: f64,
    /// Coming from beyond the edge: the way from the place outside to the
    /// gate `from`.
    pub before: Option<OutsidePart>,
    /// Going beyond the edge: the way from the gate `to` to the place
    /// outside.
    pub after: Option<OutsidePart>,
    pub day: &'a Day,
}

/// Travels one leg.
pub(crate) fn travel<R: Rng + ?Sized>(
    graph: &RoadGraph,
    query: &mut RouteQuery,
    p: &MobilityParams,
    spec: &LegSpec,
    rng: &mut R,
) -> Leg {
    let mut outside = None;
    let mut b = match spec.before {
        Some(part) => {
            let mut b = PathBuilder::new(spec.depart, part.pos);
            b.go_measured(spec.from.pos, part.seconds, part.metres);
            outside = Some((spec.depart, b.t));
            b
        }
        None => PathBuilder::new(spec.depart, spec.from.pos),
    };
    let from_node = graph.node_pos(spec.from.node);
    let to_node = graph.node_pos(spec.to.node);
    let headway = p.transit_headway_s;
    let (road_mode, speed_scale) = match spec.mode {
        TripMode::Walk => (TravelMode::Walk, 1.0),
        TripMode::Bike => (TravelMode::Bike, 1.0),
        TripMode::CarDriver | TripMode::CarPassenger => (TravelMode::Car, 1.0),
        TripMode::PublicTransport => (TravelMode::Car, p.transit_speed_factor),
    };
    // Getting going (from beyond the edge, already under way).
    match spec.mode {
        _ if spec.before.is_some() => {}
        TripMode::Walk => b.walk(from_node),
        TripMode::Bike => {
            b.hold(30.0 + 60.0 * unit(rng));
            b.walk(from_node);
        }
        TripMode::CarDriver => {
            b.hold(30.0 + 90.0 * unit(rng));
            b.walk(from_node);
        }
        TripMode::CarPassenger => {
            b.hold(60.0 + 120.0 * unit(rng));
            b.walk(from_node);
        }
        TripMode::PublicTransport => {
            // Walk to the stop (taken to lie by the road node), then wait.
            let access = 150.0 + 450.0 * unit(rng);
            b.go(from_node, access / WALK_SPEED_MPS);
            b.hold(headway * unit(rng));
        }
    }
    // The road part.
    let motor = road_mode == TravelMode::Car;
    match query.recent_route(road_mode, spec.from.node, spec.to.node) {
        Some(route) => {
            for &e in &route.edges {
                let edge = graph.edge(e);
                let mut dt = edge.travel_time_s(road_mode) / speed_scale;
                if motor {
                    let local = spec.day.local_seconds(b.t);
                    dt /= speed_factor(p, spec.day.kind, local);
                }
                let shape = graph.edge_shape(e);
                let along = graph.edge_shape_m(e);
                let len = along.last().copied().unwrap_or(0.0);
                if len <= 0.0 || shape.len() < 2 {
                    b.go(graph.node_pos(edge.to), dt);
                    continue;
                }
                for (i, &pos) in shape.iter().enumerate().skip(1) {
                    let metres = along[i] - along[i - 1];
                    b.go_measured(pos, dt * metres / len, metres);
                }
            }
        }
        None => {
            // Not routable in this mode: straight line with a detour.
            let d = distance(from_node, to_node) * DETOUR;
            let speed = match road_mode {
                TravelMode::Walk => WALK_SPEED_MPS,
                TravelMode::Bike => BIKE_SPEED_MPS,
                TravelMode::Car => 40.0 / 3.6 * speed_scale,
            };
            b.go(to_node, d / speed);
            b.distance_m += d - distance(from_node, to_node);
        }
    }
    if spec.mode == TripMode::PublicTransport {
        // Stops: about 20 s dwell per kilometre travelled.
        b.hold(b.distance_m / 1000.0 * 20.0);
    }
    // Arriving (going beyond the edge, still under way).
    match spec.mode {
        _ if spec.after.is_some() => {}
        TripMode::Walk => b.walk(spec.to.pos),
        TripMode::Bike => {
            b.walk(spec.to.pos);
            b.hold(30.0 + 60.0 * unit(rng));
        }
        TripMode::CarDriver => {
            b.hold(log_normal(rng, p.parking_search_s, 0.7).min(1800.0));
            b.walk(spec.to.pos);
            b.hold(30.0 + 90.0 * unit(rng));
        }
        TripMode::CarPassenger => b.walk(spec.to.pos),
        TripMode::PublicTransport => {
            let egress = 150.0 + 450.0 * unit(rng);
            b.go(spec.to.pos, egress / WALK_SPEED_MPS);
        }
    }
    let crossing = b.t;
    if let Some(part) = spec.after {
        b.go_measured(part.pos, part.seconds, part.metres);
    }
    // Whole seconds, so that trip and stay times agree exactly.
    let end = b.t.ceil();
    if end > b.t {
        b.hold(end - b.t);
    }
    if spec.after.is_some() {
        outside = Some((crossing, end));
    }
    Leg {
        end,
        distance_m: b.distance_m,
        path: b.path,
        outside,
    }
}

/// A leg wholly beyond the map's edge, from `from` to `to` through the same
/// gate: the straight line with a detour, at the outside speed of the mode.
pub(crate) fn travel_outside(
    p: &MobilityParams,
    mode: TripMode,
    from: Coord,
    to: Coord,
    depart: f64,
) -> Leg {
    let part = outside_part(p, mode, from, to);
    let mut b = PathBuilder::new(depart, from);
    b.go_measured(to, part.seconds, part.metres);
    let end = b.t.ceil();
    if end > b.t {
        b.hold(end - b.t);
    }
    Leg {
        end,
        distance_m: b.distance_m,
        path: b.path,
        outside: Some((depart, end)),
    }
}
