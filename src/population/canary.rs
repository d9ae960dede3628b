//! Canary subscribers: a few residents given a rare, documented pattern,
//! so that a privacy audit can tell whether a released aggregate exposes
//! them (`mobsynth privacy` reports any released cell whose true
//! contributors, a canary among them, are fewer than k).
//!
//! With `[canaries] count = N` (0, the default, plants none and changes no
//! byte of the output), residents `0..N` (subscriber ids 0..N) become
//! night-shift workers commuting between two rarely visited places:
//! canary i lives in the i-th most isolated home of the map and works at
//! the i-th most isolated work place, "isolated" meaning the fewest places
//! of any class in the same 500 m square (ties by place id). They are
//! employed adults with a smartphone; everything else about them
//! (identifiers, age band when adult, sex, usage) is drawn as for anyone.
//! Their days follow from these anchors by the ordinary mobility model,
//! but for the hours of work: with `night_shift` (the default) the days
//! model starts their work at about 22:00 for eight hours
//! ([`night_shift_workers`] gives it their ids), so they are in a rare
//! zone at an hour when almost nobody else is.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{DeviceType, Occupation, Subscriber};
use crate::map::{Map, PlaceClass, PlaceId};

/// Side of the squares places are counted in, metres.
pub const ISOLATION_SQUARE_M: f64 = 500.0;
/// Age given to a canary drawn as a minor.
pub const CANARY_ADULT_AGE: u8 = 35;

/// The `[canaries]` section of a scenario.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CanaryParams {
    /// Canary subscribers to plant (residents 0..count). Default 0.
    pub count: u32,
    /// Whether canaries work night shifts (from about 22:00 for eight
    /// hours) rather than the ordinary day hours. Default true.
    pub night_shift: bool,
}

impl Default for CanaryParams {
    fn default() -> Self {
        CanaryParams {
            count: 0,
            night_shift: true,
        }
    }
}

impl CanaryParams {
    /// Whether no canary is planted (the section is then not written to
    /// the manifest, so a run without canaries keeps its bytes).
    pub fn is_off(&self) -> bool {
        self.count == 0
    }
}

/// Places of `class`, most isolated first.
fn isolated(map: &Map, class: PlaceClass) -> Vec<PlaceId> {
    let square = |p: &crate::map::Place| {
        (
            (p.pos.x / ISOLATION_SQUARE_M).floor() as i64,
            (p.pos.y / ISOLATION_SQUARE_M).floor() as i64,
        )
    };
    let mut density: HashMap<(i64, i64), u32> = HashMap::new();
    for p in &map.places {
        *density.entry(square(p)).or_insert(0) += 1;
    }
    let mut list: Vec<(u32, PlaceId)> = map
        .places
        .iter()
        .filter(|p| p.class == class)
        .map(|p| (density[&square(p)], p.id))
        .collect();
    list.sort_unstable_by_key(|&(d, id)| (d, id.0));
    list.into_iter().map(|(_, id)| id).collect()
}

/// How many canaries a map can hold: one isolated home and one isolated
/// work place each.
fn plantable(params: &CanaryParams, homes: usize, works: usize) -> usize {
    (params.count as usize).min(homes).min(works)
}

/// The ids of the canaries that work night shifts (none unless
/// `night_shift`): the residents [`plant`] turned into canaries.
pub fn night_shift_workers(
    subscribers: &[Subscriber],
    params: &CanaryParams,
    map: &Map,
) -> std::collections::BTreeSet<u32> {
    if params.is_off() || !params.night_shift {
        return Default::default();
    }
    let n = plantable(
        params,
        isolated(map, PlaceClass::Home).len(),
        isolated(map, PlaceClass::Work).len(),
    );
    subscribers
        .iter()
        .filter(|s| !s.is_roamer())
        .take(n)
        .map(|s| s.id.0)
        .collect()
}

/// Turns residents `0..count` into canaries (see the module doc). Roamers
/// are never canaries; a map without home or work places plants none.
pub fn plant(subscribers: &mut [Subscriber], params: &CanaryParams, map: &Map) {
    if params.is_off() {
        return;
    }
    let homes = isolated(map, PlaceClass::Home);
    let works = isolated(map, PlaceClass::Work);
    let n = plantable(params, homes.len(), works.len());
    for (i, s) in subscribers
        .iter_mut()
        .filter(|s| !s.is_roamer())
        .take(n)
        .enumerate()
    {
        let (home, work) = (homes[i], works[i]);
        s.home = home;
        s.anchor = Some(work);
        s.anchor_outside = None;
        s.occupation = Occupation::Employed;
        if s.device == DeviceType::Iot {
            s.device = DeviceType::Smartphone;
        }
        s.age = s.age.max(if s.age < 18 { CANARY_ADULT_AGE } else { 18 });
    }
}
