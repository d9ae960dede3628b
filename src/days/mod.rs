//! Subscribers' days: activity plans, place choice, modes and routed
//! trajectories. The output of this stage is the ground truth of where every
//! subscriber really was.

use geo::Coord;
use serde::{Deserialize, Serialize};

use crate::map::PlaceId;
use crate::population::SubscriberId;

/// Parameters of the mobility model, from the scenario's `[mobility]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MobilityParams {}

impl MobilityParams {
    /// Checks values; the error is (key, what was expected).
    pub fn validate(&self) -> Result<(), (String, String)> {
        Ok(())
    }
}

/// What a subscriber does during a stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Activity {
    Home,
    Work,
    Education,
    Shopping,
    Leisure,
    Other,
    /// Outside the map: the device is on another network meanwhile.
    OutOfArea,
}

/// How a trip is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TripMode {
    Walk,
    Bike,
    CarDriver,
    CarPassenger,
    /// Approximated as a slower car on the road graph.
    PublicTransport,
}

/// A stay at one place. Times are UTC Unix seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Stay {
    pub start: i64,
    pub end: i64,
    pub activity: Activity,
    /// `None` for out-of-area stays.
    pub place: Option<PlaceId>,
    /// Where the subscriber is, projected metres (for out-of-area stays, the
    /// border point where they left the map).
    pub pos: Coord,
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
