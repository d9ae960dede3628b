//! Canary subscribers: a few residents given a rare, documented pattern,
//! so that a privacy audit can tell whether a released aggregate exposes
//! them (`mobsynth privacy` reports any released cell whose true
//! contributors, a canary among them, are fewer than k).
//!
//! With `[canaries] count = N` (0, the default, plants none and changes no
//! byte of the output), residents `0..N` (subscriber ids 0..N) become
//! commuters between two rarely visited places: canary i lives in the
//! i-th most isolated home of the map and works at the i-th most isolated
//! work place, "isolated" meaning the fewest places of any class in the
//! same 500 m square (ties by place id). They are employed adults with a
//! smartphone; everything else about them (identifiers, age band when
//! adult, sex, usage) is drawn as for anyone. Their days follow from these
//! anchors by the ordinary mobility model.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{DeviceType, Occupation, Subscriber};
use crate::map::{Map, PlaceClass, PlaceId};

/// Side of the squares places are counted in, metres.
pub const ISOLATION_SQUARE_M: f64 = 500.0;
/// Age given to a canary drawn as a minor.
pub const CANARY_ADULT_AGE: u8 = 35;

/// The `[canaries]` section of a scenario.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CanaryParams {
    /// Canary subscribers to plant (residents 0..count). Default 0.
    pub count: u32,
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

/// Turns residents `0..count` into canaries (see the module doc). Roamers
/// are never canaries; a map without home or work places plants none.
pub fn plant(subscribers: &mut [Subscriber], params: &CanaryParams, map: &Map) {
    if params.is_off() {
        return;
    }
    let homes = isolated(map, PlaceClass::Home);
    let works = isolated(map, PlaceClass::Work);
    for (i, s) in subscribers
        .iter_mut()
        .filter(|s| !s.is_roamer())
        .take(params.count as usize)
        .enumerate()
    {
        let (Some(&home), Some(&work)) = (homes.get(i), works.get(i)) else {
            break;
        };
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
