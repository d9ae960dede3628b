//! One subscriber's whole run: day plans, place choice, modes, trips.

use geo::Coord;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::travel::{End, LegSpec, outside_part, travel, travel_outside};
use super::{Activity, PersonDays, Stay, Trip, TripMode, World};
use crate::calendar::{Day, DayKind};
use crate::map::{PlaceClass, PlaceId};
use crate::population::beyond::{
    JumpLaw, bearing, direction, jump_beyond, personal_law, place_beyond,
};
use crate::population::draw::{chance, log_normal, normal, pick, unit};
use crate::population::{DeviceType, Occupation, Subscriber};
use crate::rng::{Purpose, stream};
use crate::routing::RouteQuery;

/// Where the subscriber is; beyond the map's edge, `pos` is the real
/// position and `node` the gate.
type Loc = super::LocInfo;

/// How fast walking loses utility with the distance of a tour, per km.
const WALK_PER_KM: f64 = 0.9;
/// Past visits of the favourite among the places known before the run.
const KNOWN_TOP_VISITS: f64 = 16.0;
/// How past visits of known places fall with their rank.
const KNOWN_RANK_EXPONENT: f64 = 1.6;
/// Excursions go at least this far from home, metres.
const EXCURSION_MIN_M: f64 = 10_000.0;
/// Roamers' homes lie at least this far beyond the gate, metres.
const ROAMER_HOME_MIN_M: f64 = 20_000.0;

/// What a stop of a tour is.
#[derive(Clone, Copy, Debug)]
enum StopKind {
    /// Work or school at the anchor, with its duration in seconds.
    Mandatory(f64),
    /// A discretionary stop chosen by exploration and preferential return.
    Discretionary,
    /// A day trip far from home (leisure), for this many seconds.
    Excursion(f64),
}

/// A stop with its place chosen.
#[derive(Clone, Copy, Debug)]
struct Stop {
    loc: Loc,
    activity: Activity,
    /// Planned duration, seconds.
    duration: f64,
}

/// A discretionary place a person knows, inside the map or beyond its edge.
#[derive(Clone, Copy, Debug)]
struct Known {
    loc: Loc,
    activity: Activity,
    visits: u32,
}

/// The places a person knows, for exploration and preferential return.
#[derive(Clone, Debug, Default)]
struct Memory {
    /// Discretionary places and how often they were visited.
    places: Vec<Known>,
    /// Home and anchor count as known places too.
    fixed: usize,
}

/// Whether two locations are the same place (outside: the same position).
fn same_place(a: &Loc, b: &Loc) -> bool {
    a.place == b.place && (a.place.is_some() || a.pos == b.pos)
}

impl Memory {
    fn distinct(&self) -> usize {
        self.places.len() + self.fixed
    }

    fn visit(&mut self, loc: Loc, activity: Activity) {
        match self.places.iter_mut().find(|k| same_place(&k.loc, &loc)) {
            Some(k) => k.visits += 1,
            None => self.places.push(Known {
                loc,
                activity,
                visits: 1,
            }),
        }
    }

    fn knows(&self, place: PlaceId) -> bool {
        self.places.iter().any(|k| k.loc.place == Some(place))
    }

    /// A known place ∝ its visits.
    fn recall<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<Known> {
        let weights: Vec<f64> = self.places.iter().map(|k| k.visits as f64).collect();
        if weights.is_empty() {
            return None;
        }
        Some(self.places[pick(rng, &weights)])
    }
}

/// The activity of an exploration purpose (index into
/// `EXPLORE_PURPOSE_SHARES`) at a place beyond the map's edge.
fn purpose_activity(purpose: usize) -> Activity {
    match purpose {
        0 => Activity::Shopping,
        1 => Activity::Leisure,
        _ => Activity::Other,
    }
}

/// How active a person of this age is, relative to a working-age adult: it
/// scales the chance of extra tours and stops.
fn activity_level(age: u8) -> f64 {
    match age {
        0..=17 => 0.9,
        18..=29 => 1.0,
        // Parents of school children make the most escort and errand trips.
        30..=49 => 1.45,
        50..=64 => 1.1,
        65..=74 => 1.0,
        75..=79 => 0.85,
        _ => 0.7,
    }
}

/// How likely a person of this age is to leave home on a free day, relative
/// to a working-age adult.
fn outing_factor(age: u8) -> f64 {
    match age {
        0..=74 => 1.0,
        75..=79 => 0.9,
        80..=84 => 0.78,
        _ => 0.68,
    }
}

fn activity_of(class: PlaceClass) -> Activity {
    match class {
        // Visiting friends or family.
        PlaceClass::Home => Activity::Leisure,
        PlaceClass::Shopping => Activity::Shopping,
        PlaceClass::Leisure => Activity::Leisure,
        PlaceClass::Work | PlaceClass::Education | PlaceClass::Other => Activity::Other,
    }
}

/// Stay duration of a discretionary activity, seconds: log-normal, with
/// medians from time-use surveys (a short shop, a longer outing or visit).
fn discretionary_duration<R: Rng + ?Sized>(
    rng: &mut R,
    activity: Activity,
    at_home_place: bool,
) -> f64 {
    let (median, sigma) = match activity {
        Activity::Shopping => (18.0 * 60.0, 0.9),
        Activity::Leisure if at_home_place => (100.0 * 60.0, 0.9),
        Activity::Leisure => (60.0 * 60.0, 1.0),
        _ => (25.0 * 60.0, 1.1),
    };
    log_normal(rng, median, sigma).clamp(5.0 * 60.0, 8.0 * 3600.0)
}

/// A person's simulation state.
pub(super) struct Sim<'w, 'a, 'q, 'r, 'g> {
    world: &'w World<'a>,
    query: &'q mut RouteQuery<'r, 'g>,
    sub: &'w Subscriber,
    key: u64,
    stays: Vec<Stay>,
    trips: Vec<Trip>,
    /// The stay in progress: where, since when, doing what.
    here: Loc,
    since: i64,
    doing: Activity,
    memory: Memory,
    /// Personal mode preferences, fixed for the run.
    tastes: [f64; 5],
    home: Loc,
    anchor: Option<Loc>,
    scratch: Vec<f64>,
    /// Exploration weights around home, by purpose (empty until needed):
    /// most tours start there, and weighing visits every grid cell.
    home_weights: HomeWeights,
    /// The jump law of this person's discretionary places: the published
    /// law with the person's own range as its cutoff.
    jumps: JumpLaw,
}

type HomeWeights = [Vec<f64>; super::EXPLORE_PURPOSE_SHARES.len()];

/// The places for `purpose` and their cumulative weights around `origin`
/// by the person's jump law `law`, from `home_weights` when the origin is
/// home.
fn exploration_weights<'w, 's>(
    world: &'w World,
    purpose: usize,
    origin: Coord,
    home: Coord,
    law: &JumpLaw,
    home_weights: &'s mut HomeWeights,
    scratch: &'s mut Vec<f64>,
) -> Option<(&'w crate::population::spatial::GravityPlaces, &'s [f64])> {
    if origin == home
        && let Some(cached) = home_weights.get_mut(purpose)
    {
        if cached.is_empty() {
            world.weigh_exploration(purpose, origin, law, cached)?;
        }
        let places = world.explore.get(purpose)?;
        return Some((places, cached));
    }
    let places = world.weigh_exploration(purpose, origin, law, scratch)?;
    Some((places, scratch))
}

impl<'w, 'a, 'q, 'r, 'g> Sim<'w, 'a, 'q, 'r, 'g> {
    pub(super) fn new(
        world: &'w World<'a>,
        query: &'q mut RouteQuery<'r, 'g>,
        sub: &'w Subscriber,
        key: u64,
    ) -> Self {
        let home = world.place_loc(sub.home);
        let anchor = match (sub.anchor, sub.anchor_outside) {
            (Some(p), _) => Some(world.place_loc(p)),
            (None, Some(o)) => Some(world.outside_loc(o)),
            _ => None,
        };
        let mut hrng = stream(world.spec.seed, Purpose::Habits, key, 0);
        // The person's own jump law, from a stream of its own.
        let jumps = personal_law(
            &mut stream(world.spec.seed, Purpose::Habits, key, 2),
            world.jumps.cutoff_m,
            world.params.range_scale,
        );
        let tastes = [(); 5].map(|_| 0.9 * normal(&mut hrng));
        let mut memory = Memory {
            places: Vec::new(),
            fixed: 1 + usize::from(sub.anchor.is_some()),
        };
        // People know some places before the run starts: a few favourites,
        // drawn like explorations around home, with Zipf-like habits.
        let known = world.params.known_places;
        let origin = home.pos;
        let mut scratch = Vec::new();
        let mut home_weights = HomeWeights::default();
        for rank in 0..known {
            let purpose = pick(&mut hrng, &super::EXPLORE_PURPOSE_SHARES);
            let visits =
                (KNOWN_TOP_VISITS / (rank as f64 + 1.0).powf(KNOWN_RANK_EXPONENT)).ceil() as u32;
            // Known places obey the jump-length law too: some lie beyond
            // the map's edge.
            let length = jumps.draw(&mut hrng);
            let dir = direction(bearing(&mut hrng));
            if let Some(o) = jump_beyond(&world.extent, &world.gates, origin, dir, length) {
                memory.places.push(Known {
                    loc: world.outside_loc(o),
                    activity: purpose_activity(purpose),
                    visits: visits.max(1),
                });
                continue;
            }
            let place = exploration_weights(
                world,
                purpose,
                origin,
                origin,
                &jumps,
                &mut home_weights,
                &mut scratch,
            )
            .and_then(|(places, weights)| places.draw(weights, &mut hrng));
            if let Some(place) = place
                && !memory.knows(place)
                && place != sub.home
            {
                memory.places.push(Known {
                    loc: world.place_loc(place),
                    activity: activity_of(world.map.place(place).class),
                    visits: visits.max(1),
                });
            }
        }
        Sim {
            world,
            query,
            sub,
            key,
            stays: Vec::new(),
            trips: Vec::new(),
            here: home,
            since: 0,
            doing: Activity::Home,
            memory,
            tastes,
            home,
            anchor,
            scratch,
            home_weights,
            jumps,
        }
    }

    pub(super) fn run(mut self) -> PersonDays {
        let world = self.world;
        let days = &world.days;
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return self.finish();
        };
        let (run_start, run_end) = (first.start_utc, last.end_utc);
        match self.sub.roaming {
            None => {
                self.since = run_start;
                if self.sub.device != DeviceType::Iot {
                    for (d, day) in days.iter().enumerate() {
                        self.resident_day(d as u64, day);
                    }
                }
                self.end_at(run_end);
            }
            Some(r) => {
                let (f, l) = (r.first_day as usize, r.last_day as usize);
                let (Some(fd), Some(ld)) = (days.get(f), days.get(l)) else {
                    return self.finish();
                };
                let arrives = f > 0;
                let leaves = l + 1 < days.len();
                // Where the roamer lives abroad, beyond a gate.
                let mut grng = stream(world.spec.seed, Purpose::Habits, self.key, 1);
                let dir = direction(bearing(&mut grng));
                let length = world.jumps.draw_beyond(&mut grng, ROAMER_HOME_MIN_M);
                let abroad = place_beyond(&world.extent, &world.gates, self.home.pos, dir, length)
                    .map(|o| world.outside_loc(o));
                if arrives && let Some(abroad) = abroad {
                    self.here = abroad;
                    self.doing = Activity::Home;
                }
                self.since = fd.start_utc;
                for (d, day) in days.iter().enumerate().take(l + 1).skip(f) {
                    self.roamer_day(d as u64, day, arrives && d == f, leaves && d == l, abroad);
                }
                self.end_at(ld.end_utc.min(run_end));
            }
        }
        self.finish()
    }

    /// Ends the record at `end`: trips that would start later are undone,
    /// and the last stay runs to `end` (or to the arrival of a trip still
    /// under way then).
    fn end_at(&mut self, end: i64) {
        while self.trips.last().is_some_and(|t| t.start >= end) {
            self.trips.pop();
            if let Some(stay) = self.stays.pop() {
                self.since = stay.start;
                self.doing = stay.activity;
                self.here = Loc {
                    place: stay.place,
                    pos: stay.pos,
                    node: self.home.node,
                    outside: stay.out_of_area(),
                };
            }
        }
        self.close_stay(end);
    }

    fn finish(self) -> PersonDays {
        PersonDays {
            subscriber: self.sub.id,
            stays: self.stays,
            trips: self.trips,
        }
    }

    fn day_rng(&self, purpose: Purpose, day: u64) -> Pcg64Mcg {
        stream(self.world.spec.seed, purpose, self.key, day)
    }

    fn close_stay(&mut self, end: i64) {
        let end = end.max(self.since);
        self.stays.push(Stay {
            start: self.since,
            end,
            activity: self.doing,
            place: if self.here.outside {
                None
            } else {
                self.here.place
            },
            pos: self.here.pos,
        });
    }

    /// Travels from here to `stop` leaving at `depart` (UTC seconds); the
    /// stay there begins on arrival. Returns the arrival time.
    fn go(
        &mut self,
        depart: i64,
        mode: TripMode,
        stop: &Stop,
        day: &Day,
        rng: &mut Pcg64Mcg,
    ) -> i64 {
        // A stay lasts at least a minute, and a trip never starts before it.
        let depart = depart.max(self.since + 60);
        let p = &self.world.params;
        let graph = &self.world.map.graph;
        // Beyond the edge, a trip runs on the straight line between the
        // place outside and its gate; between two places outside, on the
        // straight line between them.
        let leg = if self.here.outside && stop.loc.outside {
            travel_outside(p, mode, self.here.pos, stop.loc.pos, depart as f64)
        } else {
            let gate_or = |loc: &Loc| End {
                pos: if loc.outside {
                    graph.node_pos(loc.node)
                } else {
                    loc.pos
                },
                node: loc.node,
            };
            let (from, to) = (gate_or(&self.here), gate_or(&stop.loc));
            let before = self
                .here
                .outside
                .then(|| outside_part(p, mode, from.pos, self.here.pos))
                .map(|part| super::travel::OutsidePart {
                    pos: self.here.pos,
                    ..part
                });
            let after = stop
                .loc
                .outside
                .then(|| outside_part(p, mode, to.pos, stop.loc.pos));
            travel(
                graph,
                self.query,
                p,
                &LegSpec {
                    mode,
                    from,
                    to,
                    depart: depart as f64,
                    before,
                    after,
                    day,
                },
                rng,
            )
        };
        self.close_stay(depart);
        let end = (leg.end as i64).max(depart + 1);
        let from_stay = self.stays.len() - 1;
        self.trips.push(Trip {
            start: depart,
            end,
            mode,
            distance_m: leg.distance_m,
            from_stay,
            to_stay: from_stay + 1,
            path: leg.path,
            outside: leg.outside,
        });
        self.here = stop.loc;
        self.since = end;
        self.doing = stop.activity;
        let discretionary = matches!(
            stop.activity,
            Activity::Shopping | Activity::Leisure | Activity::Other
        );
        if discretionary {
            self.memory.visit(stop.loc, stop.activity);
        }
        end
    }

    /// A discretionary destination from `here`, by exploration and
    /// preferential return. A new place is a jump from the jump-length law
    /// first: beyond the map's edge it is a place outside; inside, a place
    /// of the map drawn by the gravity kernel.
    fn choose_place(&mut self, here: Loc, rng: &mut Pcg64Mcg) -> Option<Stop> {
        let world = self.world;
        let p = &world.params;
        let from = here.pos;
        let s = self.memory.distinct().max(1) as f64;
        let explore =
            self.memory.places.is_empty() || chance(rng, p.epr_rho * s.powf(-p.epr_gamma));
        let mut place = None;
        let mut outside = None;
        if explore {
            let purpose = pick(rng, &super::EXPLORE_PURPOSE_SHARES);
            let length = self.jumps.draw(rng);
            let dir = direction(bearing(rng));
            if let Some(o) = jump_beyond(&world.extent, &world.gates, from, dir, length) {
                outside = Some((world.outside_loc(o), purpose_activity(purpose)));
            } else {
                let weighed = exploration_weights(
                    world,
                    purpose,
                    from,
                    self.home.pos,
                    &self.jumps,
                    &mut self.home_weights,
                    &mut self.scratch,
                );
                for _ in 0..12 {
                    let Some((places, weights)) = weighed else {
                        break;
                    };
                    match places.draw(weights, rng) {
                        Some(c)
                            if !self.memory.knows(c)
                                && c != self.sub.home
                                && Some(c) != self.sub.anchor =>
                        {
                            place = Some(c);
                            break;
                        }
                        // A known place will do when nothing new turns up.
                        Some(c) if c != self.sub.home && Some(c) != self.sub.anchor => {
                            place = Some(c)
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some((loc, activity)) = outside.filter(|(loc, _)| !same_place(loc, &here)) {
            return Some(Stop {
                loc,
                activity,
                duration: discretionary_duration(rng, activity, false),
            });
        }
        let mut chosen = place
            .filter(|&c| Some(c) != here.place)
            .map(|c| (world.place_loc(c), activity_of(world.map.place(c).class)));
        if chosen.is_none() || (!explore && !self.memory.places.is_empty()) {
            // Returning to where one already is would be no trip at all.
            for _ in 0..4 {
                match self.memory.recall(rng) {
                    Some(k) if !same_place(&k.loc, &here) => {
                        chosen = Some((k.loc, k.activity));
                        break;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }
        let (loc, activity) = chosen.filter(|(loc, _)| !same_place(loc, &here))?;
        let at_home_place = loc
            .place
            .is_some_and(|c| world.map.place(c).class == PlaceClass::Home);
        Some(Stop {
            loc,
            activity,
            duration: discretionary_duration(rng, activity, at_home_place),
        })
    }

    /// A day trip far from home: a jump by the person's own law of at
    /// least [`EXCURSION_MIN_M`], or of their range when that is shorter
    /// (far is relative: someone whose life lies within a few km does not
    /// drive 10 km for a day out), to a place outside when it ends beyond
    /// the edge and otherwise to a leisure place of the map.
    fn excursion(&mut self, duration: f64, rng: &mut Pcg64Mcg) -> Option<Stop> {
        let world = self.world;
        let min = EXCURSION_MIN_M.min(self.jumps.cutoff_m);
        let length = self.jumps.draw_beyond(rng, min);
        let dir = direction(bearing(rng));
        match jump_beyond(&world.extent, &world.gates, self.home.pos, dir, length) {
            Some(o) => Some(Stop {
                loc: world.outside_loc(o),
                activity: Activity::Leisure,
                duration,
            }),
            None => {
                let here = self.here;
                self.choose_place(here, rng)
                    .map(|stop| Stop { duration, ..stop })
            }
        }
    }

    /// Mode of a tour whose farthest stop is `dist_m` away in a straight
    /// line, inside the map or beyond its edge alike.
    fn choose_mode(&self, dist_m: f64, rng: &mut Pcg64Mcg) -> TripMode {
        let c = &self.world.params.mode_constants;
        let sub = self.sub;
        let km = dist_m / 1000.0;
        let age = sub.age;
        let can_drive = sub.has_car && age >= 18;
        let young_old_bike = if !(10..75).contains(&age) {
            -1.5
        } else if age >= 65 {
            -0.5
        } else {
            0.0
        };
        let in_education = matches!(sub.occupation, Occupation::Pupil | Occupation::Student);
        let no_car = !sub.has_car;
        let neg = f64::NEG_INFINITY;
        let u = [
            c.walk - WALK_PER_KM * km,
            c.bike - 0.45 * km + young_old_bike,
            if can_drive {
                c.car_driver + 0.05 * km
            } else {
                neg
            },
            c.car_passenger
                + 0.05 * km
                + if age < 18 { 1.2 } else { 0.0 }
                + if no_car { 0.4 } else { 0.0 },
            c.public_transport
                + 0.06 * km
                + if no_car { 0.9 } else { 0.0 }
                + if in_education { 0.9 } else { 0.0 },
        ];
        let mut best = 3;
        let mut best_u = neg;
        for (i, ui) in u.iter().enumerate() {
            if ui.is_finite() {
                // Gumbel noise makes the draw a multinomial logit.
                let g = -(-(1.0 - unit(rng)).ln()).ln();
                let v = ui + self.tastes[i] + g;
                if v > best_u {
                    best_u = v;
                    best = i;
                }
            }
        }
        [
            TripMode::Walk,
            TripMode::Bike,
            TripMode::CarDriver,
            TripMode::CarPassenger,
            TripMode::PublicTransport,
        ][best]
    }

    /// Runs a home-based tour: leave home at local time `depart_s`, visit
    /// the stops, come back home. Returns the local time of return.
    fn tour(&mut self, day: &Day, depart_s: f64, kinds: &[StopKind], rngs: &mut DayRngs) -> f64 {
        // Choose the places first, so that the mode fits the farthest one.
        let mut stops = Vec::with_capacity(kinds.len() + 1);
        let mut from = self.here;
        let mut farthest: f64 = 0.0;
        for kind in kinds {
            let stop = match *kind {
                StopKind::Mandatory(duration) => self.anchor.map(|loc| Stop {
                    loc,
                    activity: match self.sub.occupation {
                        Occupation::Pupil | Occupation::Student => Activity::Education,
                        _ => Activity::Work,
                    },
                    duration,
                }),
                StopKind::Discretionary => self.choose_place(from, &mut rngs.place),
                StopKind::Excursion(duration) => self.excursion(duration, &mut rngs.place),
            };
            if let Some(stop) = stop {
                farthest = farthest.max(crate::map::distance(self.home.pos, stop.loc.pos));
                from = stop.loc;
                stops.push(stop);
            }
        }
        if stops.is_empty() {
            return depart_s;
        }
        let mode = self.choose_mode(farthest, &mut rngs.mode);
        let home_stop = Stop {
            loc: self.home,
            activity: Activity::Home,
            duration: 0.0,
        };
        let mut t = day.utc(depart_s);
        for (i, stop) in stops.iter().enumerate() {
            let arrive = self.go(t, mode, stop, day, &mut rngs.travel);
            // Evening outings end by about half past midnight.
            let latest = 24.5 * 3600.0 - day.local_seconds(arrive as f64);
            let duration = match stop.activity {
                Activity::Shopping | Activity::Leisure | Activity::Other => {
                    stop.duration.min(latest.max(600.0))
                }
                _ => stop.duration,
            };
            t = arrive + duration.round() as i64;
            // Late in the evening the remaining stops are dropped.
            if day.local_seconds(t as f64) > 23.0 * 3600.0 && i + 1 < stops.len() {
                break;
            }
        }
        let back = self.go(t, mode, &home_stop, day, &mut rngs.travel);
        day.local_seconds(back as f64)
    }

    fn resident_day(&mut self, d: u64, day: &Day) {
        let mut rngs = DayRngs::new(self, d);
        let p = &self.world.params;
        let sub = self.sub;
        let level = activity_level(sub.age);
        let kind_p = |x: &super::params::PerDayType| match day.kind {
            DayKind::Weekday => x.weekday,
            DayKind::Saturday => x.saturday,
            DayKind::Sunday => x.sunday,
        };
        let r = &mut rngs.plan;
        let mandatory = match sub.occupation {
            Occupation::Employed => self.anchor.is_some() && chance(r, kind_p(&p.work_day)),
            Occupation::Pupil | Occupation::Student => {
                self.anchor.is_some() && chance(r, kind_p(&p.school_day))
            }
            _ => false,
        };
        let excursion_p = kind_p(&p.excursion) * if sub.age >= 75 { 0.5 } else { 1.0 };
        if mandatory {
            let (start, duration) = self.mandatory_times(r);
            let works_outside = self.anchor.is_some_and(|a| a.outside);
            let mut kinds = Vec::new();
            if !works_outside && chance(r, 0.07 * level) {
                kinds.push(StopKind::Discretionary);
            }
            kinds.push(StopKind::Mandatory(duration));
            if !works_outside {
                let after = pick(r, &[1.0 - 0.3 * level, 0.22 * level, 0.08 * level]);
                kinds.extend(std::iter::repeat_n(StopKind::Discretionary, after));
            }
            // Leave so as to arrive about on time.
            let dist = self
                .anchor
                .map_or(0.0, |a| crate::map::distance(self.home.pos, a.pos));
            let lead = 600.0 + dist / 7.0;
            let back = self.tour(day, start - lead, &kinds, &mut rngs);
            self.evening_tours(day, back, 0.5 * level, &mut rngs);
        } else if !self.world.gates.is_empty() && sub.has_car && chance(r, excursion_p) {
            let depart = 8.5 * 3600.0 + 1.5 * 3600.0 * normal(r).clamp(-2.0, 2.0);
            let stay = log_normal(r, 5.0 * 3600.0, 0.4).min(12.0 * 3600.0);
            let back = self.tour(day, depart, &[StopKind::Excursion(stay)], &mut rngs);
            self.evening_tours(day, back, 0.2 * level, &mut rngs);
        } else if chance(r, kind_p(&p.leave_home) * outing_factor(sub.age)) {
            let tours = 1 + pick(r, &[1.0 - 0.6 * level, 0.42 * level, 0.18 * level]);
            let mut t = 9.5 * 3600.0 + 1.8 * 3600.0 * normal(r).clamp(-1.8, 2.5);
            for _ in 0..tours {
                if t > 21.5 * 3600.0 {
                    break;
                }
                let r = &mut rngs.plan;
                let stops = 1 + pick(r, &[0.78, 0.17 * level, 0.05 * level]);
                let kinds = vec![StopKind::Discretionary; stops];
                let back = self.tour(day, t, &kinds, &mut rngs);
                t = back + log_normal(&mut rngs.plan, 2.0 * 3600.0, 0.7).max(1200.0);
            }
        }
    }

    /// Start (local seconds) and duration of work or school.
    fn mandatory_times(&self, r: &mut Pcg64Mcg) -> (f64, f64) {
        let h = 3600.0;
        match self.sub.occupation {
            Occupation::Pupil => {
                let start = 7.75 * h + 0.3 * h * normal(r).clamp(-2.0, 3.0);
                let base = if self.sub.age < 12 { 5.0 } else { 6.5 };
                (
                    start,
                    (base * h + 1.2 * h * normal(r)).clamp(3.0 * h, 9.0 * h),
                )
            }
            Occupation::Student => {
                let start = 9.5 * h + 1.5 * h * normal(r).clamp(-1.5, 3.0);
                (
                    start,
                    (5.0 * h + 2.0 * h * normal(r)).clamp(1.5 * h, 10.0 * h),
                )
            }
            // A night shift (canaries): from about 22:00 for eight hours.
            _ if self.world.night_shift.contains(&self.sub.id.0) => (
                22.0 * h + 0.25 * h * normal(r).clamp(-2.0, 2.0),
                8.0 * h + 0.25 * h * normal(r).clamp(-2.0, 2.0),
            ),
            _ => {
                let start = 7.75 * h + 1.2 * h * normal(r).clamp(-2.0, 4.0);
                // About one in four works part time.
                let base = if chance(r, 0.27) { 4.5 } else { 8.75 };
                (
                    start,
                    (base * h + 1.0 * h * normal(r)).clamp(2.0 * h, 12.0 * h),
                )
            }
        }
    }

    /// Evening tours after the return home at local time `back`.
    fn evening_tours(&mut self, day: &Day, back: f64, p: f64, rngs: &mut DayRngs) {
        let r = &mut rngs.plan;
        if back < 20.5 * 3600.0 && chance(r, p) {
            let t = back + log_normal(r, 1.5 * 3600.0, 0.6).max(900.0);
            if t < 21.5 * 3600.0 {
                let stops = 1 + pick(r, &[0.8, 0.2]);
                let kinds = vec![StopKind::Discretionary; stops];
                self.tour(day, t, &kinds, rngs);
            }
        }
    }

    fn roamer_day(&mut self, d: u64, day: &Day, arrives: bool, leaves: bool, abroad: Option<Loc>) {
        let mut rngs = DayRngs::new(self, d);
        let h = 3600.0;
        let mut t = 9.5 * h + 1.2 * h * normal(&mut rngs.plan).clamp(-2.0, 2.0);
        if arrives {
            let arrival = 12.0 * h + 2.5 * h * normal(&mut rngs.plan).clamp(-2.0, 2.5);
            let dist = abroad.map_or(0.0, |a| crate::map::distance(a.pos, self.home.pos));
            let mode = self.choose_mode(dist, &mut rngs.mode);
            let hotel = Stop {
                loc: self.home,
                activity: Activity::Home,
                duration: 0.0,
            };
            let end = self.go(day.utc(arrival), mode, &hotel, day, &mut rngs.travel);
            t = day.local_seconds(end as f64) + log_normal(&mut rngs.plan, 3600.0, 0.5);
        }
        let leave_at = 15.0 * h + 2.0 * h * normal(&mut rngs.plan).clamp(-2.0, 2.5);
        let tours = if leaves { 1 } else { 2 };
        for _ in 0..tours {
            if t > 21.0 * h || (leaves && t > leave_at - 2.0 * h) {
                break;
            }
            let r = &mut rngs.plan;
            let kinds = if !self.world.gates.is_empty() && chance(r, 0.12) {
                vec![StopKind::Excursion(log_normal(r, 5.0 * h, 0.4))]
            } else {
                vec![StopKind::Discretionary; 1 + pick(r, &[0.45, 0.35, 0.2])]
            };
            let back = self.tour(day, t, &kinds, &mut rngs);
            t = back + log_normal(&mut rngs.plan, 1.5 * h, 0.6).max(1200.0);
        }
        if leaves && let Some(abroad) = abroad {
            let dist = crate::map::distance(abroad.pos, self.home.pos);
            let mode = self.choose_mode(dist, &mut rngs.mode);
            let out = Stop {
                loc: abroad,
                activity: Activity::Home,
                duration: 0.0,
            };
            self.go(day.utc(leave_at.max(t)), mode, &out, day, &mut rngs.travel);
        }
    }
}

/// The random streams of one subscriber-day, one per stage.
struct DayRngs {
    plan: Pcg64Mcg,
    place: Pcg64Mcg,
    mode: Pcg64Mcg,
    travel: Pcg64Mcg,
}

impl DayRngs {
    fn new(sim: &Sim, d: u64) -> Self {
        DayRngs {
            plan: sim.day_rng(Purpose::DayPlan, d),
            place: sim.day_rng(Purpose::PlaceChoice, d),
            mode: sim.day_rng(Purpose::ModeChoice, d),
            travel: sim.day_rng(Purpose::Travel, d),
        }
    }
}
