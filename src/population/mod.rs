//! Synthetic subscribers: demographics, identifiers, home and work anchors.
//!
//! [`synthesize`] makes the whole population of a scenario: residents first,
//! `0..subscribers`, then inbound roamers. Every subscriber is drawn from its
//! own random streams (keyed by the resident index, or by the roamer index for
//! roamers), so subscriber k is the same whatever the population size, the
//! thread count or the part of a split run; [`Synthesizer::subscriber`] makes
//! one subscriber alone. The model and the sources of its defaults are in
//! `docs/MODEL.md`.

pub mod beyond;
pub mod canary;
pub(crate) mod draw;
pub mod ids;
mod params;
pub mod spatial;
mod synth;

pub use params::{AgeGroup, DeviceShares, PopulationParams, RoamerNetwork};
pub(crate) use synth::person_key;
pub use synth::{PopulationError, Synthesizer, synthesize};

use crate::map::PlaceId;
pub use beyond::OutsidePlace;

/// Dense subscriber index, stable for a given scenario and seed: residents
/// come first, `0..subscribers`, then inbound roamers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Occupation {
    Employed,
    Student,
    Pupil,
    Retired,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceType {
    Smartphone,
    FeaturePhone,
    /// IoT / M2M modules (meters, trackers, cars).
    Iot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Contract {
    Prepaid,
    Postpaid,
}

/// An inbound roamer's stay in the region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roaming {
    /// Mobile country and network code of the home network.
    pub mcc: u16,
    pub mnc: u16,
    /// First and last simulated day (0-based, inclusive) in the region.
    pub first_day: u32,
    pub last_day: u32,
}

/// One subscriber.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscriber {
    pub id: SubscriberId,
    /// 15-digit IMSI; MCC 001 / MNC 01 (ITU test network) for residents.
    pub imsi: u64,
    /// E.164 number without '+', from a range reserved for fiction.
    pub msisdn: u64,
    /// 15-digit IMEI whose TAC matches the device type.
    pub imei: u64,
    pub age: u8,
    pub sex: Sex,
    pub occupation: Occupation,
    pub has_car: bool,
    pub device: DeviceType,
    pub contract: Contract,
    pub roaming: Option<Roaming>,
    /// Where the subscriber sleeps (for a roamer: the hotel).
    pub home: PlaceId,
    /// Work or school place, for those who have one inside the map.
    pub anchor: Option<PlaceId>,
    /// For those whose work or school lies outside the map (cross-border
    /// commuters): its real position and the border gate the commute passes;
    /// `anchor` is then `None`.
    pub anchor_outside: Option<OutsidePlace>,
}

impl Subscriber {
    /// Whether the subscriber is an inbound roamer.
    pub fn is_roamer(&self) -> bool {
        self.roaming.is_some()
    }

    /// Whether the subscriber is a person who moves about (not an IoT module).
    pub fn is_person(&self) -> bool {
        self.device != DeviceType::Iot
    }

    /// Whether the subscriber has a workplace or school, inside or outside
    /// the map.
    pub fn has_anchor(&self) -> bool {
        self.anchor.is_some() || self.anchor_outside.is_some()
    }

    /// IMSI as the usual 15-digit string (the test network's MCC 001 starts
    /// with zeros that the number drops).
    pub fn imsi_string(&self) -> String {
        format!("{:015}", self.imsi)
    }

    /// IMEI as the usual 15-digit string.
    pub fn imei_string(&self) -> String {
        format!("{:015}", self.imei)
    }
}
