//! Subscribers' days: activity plans, place choice, modes and routed
//! trajectories. The output of this stage is the ground truth of where every
//! subscriber really was.
//!
//! Build a [`World`] once per scenario and map, then call [`simulate`] for
//! each subscriber with the calling thread's own [`RouteQuery`]. A person's
//! whole run is simulated at once (their visit memory carries over from day
//! to day), from random streams keyed by that person alone, so the result
//! does not depend on other subscribers, threads or parts. The model is
//! described in `docs/MODEL.md`.

mod params;
mod sim;
mod travel;

use geo::Coord;

pub use crate::calendar::{Day, DayKind};
pub use params::{MobilityParams, ModeConstants, PerDayType};

use crate::map::{Map, NodeId, PlaceClass, PlaceId};
use crate::population::beyond::{Extent, JumpLaw};
use crate::population::spatial::{Gate, GravityPlaces, find_gates};
use crate::population::{OutsidePlace, Subscriber, SubscriberId, person_key};
use crate::routing::RouteQuery;
use crate::spec::RunSpec;

/// What a subscriber does during a stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Activity {
    Home,
    Work,
    Education,
    Shopping,
    Leisure,
    Other,
}

impl Activity {
    pub const ALL: [Activity; 6] = [
        Activity::Home,
        Activity::Work,
        Activity::Education,
        Activity::Shopping,
        Activity::Leisure,
        Activity::Other,
    ];

    /// Lower-case name, as written in the truth tables.
    pub fn name(self) -> &'static str {
        match self {
            Activity::Home => "home",
            Activity::Work => "work",
            Activity::Education => "education",
            Activity::Shopping => "shopping",
            Activity::Leisure => "leisure",
            Activity::Other => "other",
        }
    }
}

/// How a trip is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum TripMode {
    Walk,
    Bike,
    CarDriver,
    CarPassenger,
    /// Approximated as a slower car on the road graph.
    PublicTransport,
}

impl TripMode {
    /// All modes, in reporting order.
    pub const ALL: [TripMode; 5] = [
        TripMode::Walk,
        TripMode::Bike,
        TripMode::CarDriver,
        TripMode::CarPassenger,
        TripMode::PublicTransport,
    ];

    /// Lower-case name, as written in the truth tables.
    pub fn name(self) -> &'static str {
        match self {
            TripMode::Walk => "walk",
            TripMode::Bike => "bike",
            TripMode::CarDriver => "car_driver",
            TripMode::CarPassenger => "car_passenger",
            TripMode::PublicTransport => "public_transport",
        }
    }
}

/// A stay at one place. Times are UTC Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Stay {
    pub start: i64,
    pub end: i64,
    /// What the subscriber does there, inside the map or beyond its edge.
    pub activity: Activity,
    /// The map's place; `None` exactly for stays beyond the map's edge.
    pub place: Option<PlaceId>,
    /// Where the subscriber is, projected metres (beyond the edge too: the
    /// real position of the place outside).
    pub pos: Coord,
}

impl Stay {
    /// Whether the stay lies beyond the map's edge, where the device is on
    /// another network.
    pub fn out_of_area(&self) -> bool {
        self.place.is_none()
    }
}

/// A point of a trajectory: where the subscriber is at time `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waypoint {
    /// UTC Unix seconds, fractional.
    pub t: f64,
    pub pos: Coord,
}

/// A trip between two stays.
#[derive(Clone, Debug, PartialEq)]
pub struct Trip {
    pub start: i64,
    pub end: i64,
    pub mode: TripMode,
    pub distance_m: f64,
    /// The stays this trip leaves and reaches, as indices into
    /// [`PersonDays::stays`].
    pub from_stay: usize,
    pub to_stay: usize,
    /// The route as timed points, from the origin at `start` to the
    /// destination at `end`; the position between two points is linear.
    pub path: Vec<Waypoint>,
    /// For trips that leave or enter the map: the time span (UTC seconds)
    /// of the trip spent outside it, during which the path follows the
    /// straight line between the border gate and the place outside, and the
    /// device is on another network.
    pub outside: Option<(f64, f64)>,
}

impl Trip {
    /// Where the traveller is at UTC time `t` (clamped to the trip).
    pub fn position_at(&self, t: f64) -> Coord {
        let path = &self.path;
        let i = path.partition_point(|w| w.t <= t);
        match (i.checked_sub(1).and_then(|j| path.get(j)), path.get(i)) {
            (Some(a), Some(b)) if b.t > a.t => {
                let f = (t - a.t) / (b.t - a.t);
                Coord {
                    x: a.pos.x + (b.pos.x - a.pos.x) * f,
                    y: a.pos.y + (b.pos.y - a.pos.y) * f,
                }
            }
            (Some(a), _) => a.pos,
            (None, Some(b)) => b.pos,
            (None, None) => Coord::default(),
        }
    }

    /// Travel time in seconds.
    pub fn duration_s(&self) -> i64 {
        self.end - self.start
    }
}

/// Everything one subscriber did over the whole run, in time order. Stays and
/// trips alternate: stay 0, trip 0, stay 1, … A stay that spans midnight is
/// one stay.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonDays {
    pub subscriber: SubscriberId,
    pub stays: Vec<Stay>,
    pub trips: Vec<Trip>,
}

/// Where a subscriber truly is at one instant, for the sampled positions
/// table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionSample {
    /// UTC Unix seconds.
    pub t: i64,
    /// Projected metres.
    pub pos: Coord,
    /// The stay's activity, or `None` while travelling.
    pub activity: Option<Activity>,
    /// The trip's mode while travelling.
    pub mode: Option<TripMode>,
    /// Beyond the map's edge (a stay outside, or the outside part of a
    /// trip, along the straight line from the gate).
    pub out_of_area: bool,
}

impl PersonDays {
    /// True positions every `step_s` seconds, at multiples of `step_s` since
    /// the Unix epoch within `[from, to)`. Time beyond the map's edge has
    /// positions too (the place outside, or the straight line between the
    /// gate and it), flagged `out_of_area`; time before the first stay or
    /// after the last is skipped.
    pub fn sample_positions(&self, from: i64, to: i64, step_s: i64) -> Vec<PositionSample> {
        let mut out = Vec::new();
        if step_s <= 0 {
            return out;
        }
        let (mut stay, mut trip) = (0, 0);
        let mut t = from.div_euclid(step_s) * step_s;
        if t < from {
            t += step_s;
        }
        while t < to {
            while self.stays.get(stay).is_some_and(|s| s.end <= t) {
                stay += 1;
            }
            while self.trips.get(trip).is_some_and(|tr| tr.end <= t) {
                trip += 1;
            }
            let at_stay = self.stays.get(stay).filter(|s| s.start <= t && t < s.end);
            let on_trip = self
                .trips
                .get(trip)
                .filter(|tr| tr.start <= t && t < tr.end);
            let sample = match (at_stay, on_trip) {
                (Some(s), _) => Some(PositionSample {
                    t,
                    pos: s.pos,
                    activity: Some(s.activity),
                    mode: None,
                    out_of_area: s.out_of_area(),
                }),
                (None, Some(tr)) => Some(PositionSample {
                    t,
                    pos: tr.position_at(t as f64),
                    activity: None,
                    mode: Some(tr.mode),
                    out_of_area: tr
                        .outside
                        .is_some_and(|(a, b)| (a..b).contains(&(t as f64))),
                }),
                _ => None,
            };
            out.extend(sample);
            t += step_s;
        }
        out
    }
}

/// Why the days of a scenario cannot be simulated; names the scenario key.
#[derive(Debug, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct DaysError {
    pub key: String,
    pub message: String,
}

/// Shares of shopping, leisure and other errands among explorations
/// (MiD 2017 trip purposes, leaving out work, education and escort).
pub(crate) const EXPLORE_PURPOSE_SHARES: [f64; 3] = [0.40, 0.38, 0.22];

/// Attractiveness of a place for exploration is its capacity up to this
/// many m², so that parks and big halls do not take every visit.
const ATTRACTIVENESS_CAP_M2: f64 = 5_000.0;
/// Grid cell of the exploration samplers, metres.
const EXPLORE_CELL_M: f64 = 500.0;

/// What is shared by every subscriber's simulation: the days of the run,
/// place samplers and border gates. Built once per scenario and map.
pub struct World<'a> {
    pub spec: RunSpec<'a>,
    pub map: &'a Map,
    pub params: MobilityParams,
    /// The simulated days, in order.
    pub days: &'a [Day],
    /// Where roads leave the map.
    pub gates: Vec<Gate>,
    /// The map's outline: beyond it lies the world outside.
    pub extent: Extent,
    /// Jump lengths of new discretionary places, which decide whether they
    /// lie beyond the edge.
    pub jumps: JumpLaw,
    /// New places by purpose: shopping, leisure, other errands.
    explore: [GravityPlaces; 3],
    /// Subscribers (by id) who work night shifts: empty unless a scenario
    /// plants night-shift canaries (`population::canary`).
    pub night_shift: std::collections::BTreeSet<u32>,
}

/// Where a subscriber can be: a place of the map, or a place beyond its
/// edge (then `node` is the border gate trips there pass through).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LocInfo {
    pub place: Option<PlaceId>,
    pub pos: Coord,
    pub node: NodeId,
    pub outside: bool,
}

impl<'a> World<'a> {
    /// Prepares the days and samplers of a scenario on a map.
    pub fn new(
        spec: RunSpec<'a>,
        params: &MobilityParams,
        map: &'a Map,
    ) -> Result<World<'a>, DaysError> {
        params.check().map_err(|(key, message)| DaysError {
            key: format!("mobility.{key}"),
            message,
        })?;
        let params = params.clone();
        let jumps = JumpLaw::published(params.jump_cutoff_km);
        let days = spec.calendar.days();
        let weight = |capacity: f32| (capacity as f64).min(ATTRACTIVENESS_CAP_M2);
        let sampler = |purpose: usize| {
            let factor = |class: PlaceClass| match (purpose, class) {
                (0, PlaceClass::Shopping) => 1.0,
                (1, PlaceClass::Leisure) => 1.0,
                (1, PlaceClass::Home) => 0.1,
                (2, PlaceClass::Other) => 1.0,
                (2, PlaceClass::Work | PlaceClass::Education) => 0.3,
                (2, PlaceClass::Home) => 0.03,
                _ => 0.0,
            };
            let mut s = GravityPlaces::new(
                map,
                map.places
                    .iter()
                    .map(|p| (p.id, weight(p.capacity) * factor(p.class))),
                EXPLORE_CELL_M,
            );
            if s.is_empty() {
                // A map without such places: any non-home place will do,
                // and failing that any place.
                s = GravityPlaces::new(
                    map,
                    map.places.iter().map(|p| {
                        let f = if p.class == PlaceClass::Home {
                            0.01
                        } else {
                            1.0
                        };
                        (p.id, weight(p.capacity) * f)
                    }),
                    EXPLORE_CELL_M,
                );
            }
            s
        };
        Ok(World {
            spec,
            map,
            params,
            days,
            gates: find_gates(&map.graph),
            extent: Extent::of(&map.graph),
            jumps,
            explore: [sampler(0), sampler(1), sampler(2)],
            night_shift: std::collections::BTreeSet::new(),
        })
    }

    /// The run as the stages see it.
    pub fn spec(&self) -> RunSpec<'a> {
        self.spec
    }

    /// The key of a subscriber's random streams.
    pub fn person_key(&self, id: SubscriberId) -> u64 {
        person_key(self.spec.subscribers, id)
    }

    pub(crate) fn place_loc(&self, id: PlaceId) -> LocInfo {
        let p = self.map.place(id);
        LocInfo {
            place: Some(id),
            pos: p.pos,
            node: p.node,
            outside: false,
        }
    }

    /// A place beyond the map's edge.
    pub(crate) fn outside_loc(&self, o: OutsidePlace) -> LocInfo {
        LocInfo {
            place: None,
            pos: o.pos,
            node: o.gate,
            outside: true,
        }
    }

    /// Weighs the places for `purpose` (index into
    /// [`EXPLORE_PURPOSE_SHARES`]) around `origin` into `weights`, each by
    /// its attractiveness × the density per unit area of the jump law `law`
    /// at its distance, so that the distances of the places chosen inside
    /// the map follow the same law as the jumps beyond its edge. Returns
    /// the places, for as many draws as a choice needs.
    pub(crate) fn weigh_exploration(
        &self,
        purpose: usize,
        origin: Coord,
        law: &JumpLaw,
        weights: &mut Vec<f64>,
    ) -> Option<&GravityPlaces> {
        let places = self.explore.get(purpose)?;
        let near = EXPLORE_CELL_M / 2.0;
        places.weigh(origin, |d| law.density_per_area(d, near), weights);
        Some(places)
    }
}

/// Simulates one subscriber's whole run. `query` is the calling thread's
/// routing state. Roamers appear only on their days in the region; IoT
/// modules stay where they are installed.
pub fn simulate(world: &World, query: &mut RouteQuery, subscriber: &Subscriber) -> PersonDays {
    let key = world.person_key(subscriber.id);
    sim::Sim::new(world, query, subscriber, key).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(start: i64, end: i64, x: f64, place: Option<PlaceId>) -> Stay {
        Stay {
            start,
            end,
            activity: Activity::Home,
            place,
            pos: Coord { x, y: 0.0 },
        }
    }

    #[test]
    fn positions_follow_stays_and_trips_and_flag_time_abroad() {
        let walk = |start: i64, end: i64, from: f64, to: f64, from_stay| Trip {
            start,
            end,
            mode: TripMode::Walk,
            distance_m: (to - from).abs(),
            from_stay,
            to_stay: from_stay + 1,
            path: vec![
                Waypoint {
                    t: start as f64,
                    pos: Coord { x: from, y: 0.0 },
                },
                Waypoint {
                    t: end as f64,
                    pos: Coord { x: to, y: 0.0 },
                },
            ],
            outside: None,
        };
        let days = PersonDays {
            subscriber: SubscriberId(1),
            stays: vec![
                stay(0, 100, 0.0, Some(PlaceId(0))),
                stay(200, 300, 1000.0, None),
            ],
            trips: vec![walk(100, 200, 0.0, 1000.0, 0)],
        };
        let got: Vec<(i64, f64, bool)> = days
            .sample_positions(-30, 400, 50)
            .iter()
            .map(|p| (p.t, p.pos.x, p.out_of_area))
            .collect();
        // Samples at multiples of 50 s; half way through the walk at 150 s;
        // at the place abroad from 200 s, flagged; nothing after the last stay.
        assert_eq!(
            got,
            vec![
                (0, 0.0, false),
                (50, 0.0, false),
                (100, 0.0, false),
                (150, 500.0, false),
                (200, 1000.0, true),
                (250, 1000.0, true),
            ]
        );
        assert!(days.sample_positions(0, 400, 0).is_empty());
    }
}
