//! Synthetic subscribers: demographics, identifiers, home and work anchors.

use serde::{Deserialize, Serialize};

use crate::map::PlaceId;

/// Parameters of population synthesis, from the scenario's `[population]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationParams {}

impl PopulationParams {
    /// Checks values; the error is (key, what was expected).
    pub fn validate(&self) -> Result<(), (String, String)> {
        Ok(())
    }
}

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
    /// Work or school place, for those who have one.
    pub anchor: Option<PlaceId>,
}
