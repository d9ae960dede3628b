//! Drawing subscribers: demographics, identifiers, home and anchors.

use std::ops::Range;

use rayon::prelude::*;

use super::beyond::{Extent, JumpLaw, OutsidePlace, bearing, direction, jump_beyond};
use super::draw::{chance, int_in, pick};
use super::ids;
use super::spatial::{Gate, GravityPlaces, WeightedPlaces, find_gates};
use super::{Contract, DeviceType, Occupation, Roaming, Sex, Subscriber, SubscriberId};
use crate::map::{Map, PlaceClass, PlaceSource};
use crate::population::PopulationParams;
use crate::rng::{Purpose, stream};
use crate::spec::RunSpec;

/// Why a population cannot be made. Each names the scenario key to fix.
#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    /// A scenario value is impossible; change the named key.
    #[error("`{key}`: {message}")]
    Invalid { key: String, message: String },
    /// The map has no home places; choose a map with residential buildings,
    /// land use or roads.
    #[error("`map`: {path}: the map has no home places to put residents in")]
    NoHomes { path: String },
}

/// Roamers draw from streams keyed above every resident index, by their own
/// roamer index, so a roamer does not change when the resident count does.
const ROAMER_KEY_BASE: u64 = 1 << 40;
/// The key of a subscriber's random streams: the resident index, or for a
/// roamer a key derived from the roamer index alone.
pub(crate) fn person_key(residents: u32, id: SubscriberId) -> u64 {
    if id.0 < residents {
        id.0 as u64
    } else {
        ROAMER_KEY_BASE + (id.0 - residents) as u64
    }
}

/// Most subscribers, residents and roamers together: an event id is the
/// subscriber id × 2³² + a sequence number, and must fit a signed 64-bit
/// column without turning negative.
const MAX_SUBSCRIBERS: u32 = i32::MAX as u32;
/// IMEI keys of roamers start here, above any plausible resident count.
const ROAMER_IMEI_BASE: u64 = 500_000_000;
/// Grid cell of the gravity samplers, metres.
const GRAVITY_CELL_M: f64 = 500.0;
/// Share of working capacity by class of place: offices and shops employ
/// most per square metre, sports grounds and parks few.
fn job_density(class: PlaceClass) -> f64 {
    match class {
        PlaceClass::Work | PlaceClass::Shopping => 1.0,
        PlaceClass::Other => 0.8,
        PlaceClass::Education => 0.6,
        PlaceClass::Leisure => 0.3,
        PlaceClass::Home => 0.0,
    }
}
/// Fewer schools than this on a map, and offices and other public buildings
/// stand in for the unmapped ones.
const MIN_SCHOOLS: usize = 5;
/// The longest roamer visit drawn, days.
const MAX_ROAMER_STAY_DAYS: i64 = 21;

/// Everything needed to draw any subscriber of a scenario, built once.
pub struct Synthesizer<'a> {
    spec: RunSpec<'a>,
    params: &'a PopulationParams,
    map: &'a Map,
    homes: WeightedPlaces,
    hotels: WeightedPlaces,
    workplaces: GravityPlaces,
    schools: GravityPlaces,
    gates: Vec<Gate>,
    /// The map's outline, to tell anchors beyond its edge.
    extent: Extent,
    roamers: u32,
}

impl<'a> Synthesizer<'a> {
    /// Indexes the map's places for the scenario.
    pub fn new(
        spec: RunSpec<'a>,
        params: &'a PopulationParams,
        map: &'a Map,
    ) -> Result<Self, PopulationError> {
        if let Err((key, message)) = params.check() {
            return Err(PopulationError::Invalid {
                key: format!("population.{key}"),
                message,
            });
        }
        if spec.subscribers == 0 {
            return Err(PopulationError::Invalid {
                key: "subscribers".into(),
                message: "must be at least 1".into(),
            });
        }
        if spec.subscribers > MAX_SUBSCRIBERS {
            return Err(PopulationError::Invalid {
                key: "subscribers".into(),
                message: format!(
                    "must be at most {MAX_SUBSCRIBERS} (event ids, subscriber id × 2³² + sequence number, are signed 64-bit integers), got {}",
                    spec.subscribers
                ),
            });
        }
        let places = &map.places;
        let homes = WeightedPlaces::new(
            places
                .iter()
                .filter(|p| p.class == PlaceClass::Home)
                .map(|p| (p.id, p.capacity as f64)),
        );
        if homes.is_empty() {
            return Err(PopulationError::NoHomes {
                path: map.path.display().to_string(),
            });
        }
        let hotels = WeightedPlaces::new(
            places
                .iter()
                .filter(|p| {
                    p.class == PlaceClass::Leisure
                        && matches!(p.source, PlaceSource::Building | PlaceSource::Poi)
                })
                // A few large halls should not take every tourist.
                .map(|p| (p.id, (p.capacity as f64).min(5_000.0))),
        );
        let mut workplaces = GravityPlaces::new(
            map,
            places
                .iter()
                .map(|p| (p.id, p.capacity as f64 * job_density(p.class))),
            GRAVITY_CELL_M,
        );
        if workplaces.is_empty() {
            // A map of houses only: people work from houses nearby.
            workplaces = GravityPlaces::new(
                map,
                places.iter().map(|p| (p.id, p.capacity as f64)),
                GRAVITY_CELL_M,
            );
        }
        let education: Vec<_> = places
            .iter()
            .filter(|p| p.class == PlaceClass::Education)
            .map(|p| (p.id, p.capacity as f64))
            .collect();
        let schools = if education.len() >= MIN_SCHOOLS {
            GravityPlaces::new(map, education, GRAVITY_CELL_M)
        } else {
            let stand_ins = places
                .iter()
                .filter(|p| matches!(p.class, PlaceClass::Work | PlaceClass::Other))
                .map(|p| (p.id, p.capacity as f64 * 0.1));
            GravityPlaces::new(
                map,
                education.iter().copied().chain(stand_ins),
                GRAVITY_CELL_M,
            )
        };
        let p = params;
        let days = spec.days() as f64;
        let stay = p.roamer_mean_stay_days;
        // A visit of mean length m, placed uniformly so that it overlaps the
        // run, is present on about m / (days + m - 1) of the run's days.
        let roamers =
            (p.roamer_share * spec.subscribers as f64 * (days + stay - 1.0) / stay).round();
        Ok(Synthesizer {
            spec,
            params,
            map,
            homes,
            hotels,
            workplaces,
            schools,
            gates: find_gates(&map.graph),
            extent: Extent::of(&map.graph),
            roamers: roamers.min((MAX_SUBSCRIBERS - spec.subscribers) as f64) as u32,
        })
    }

    /// Number of residents.
    pub fn residents(&self) -> u32 {
        self.spec.subscribers
    }

    /// Number of inbound roamers over the whole run.
    pub fn roamers(&self) -> u32 {
        self.roamers
    }

    /// Residents and roamers.
    pub fn total(&self) -> u32 {
        self.residents() + self.roamers
    }

    /// The border gates of the map.
    pub fn gates(&self) -> &[Gate] {
        &self.gates
    }

    /// Subscribers with ids in `range` (clipped to the population), made in
    /// parallel, in id order.
    pub fn range(&self, range: Range<u32>) -> Vec<Subscriber> {
        let end = range.end.min(self.total());
        (range.start.min(end)..end)
            .into_par_iter()
            .map(|i| self.subscriber(i))
            .collect()
    }

    /// Subscriber number `index` (`0..total()`).
    pub fn subscriber(&self, index: u32) -> Subscriber {
        let residents = self.residents();
        let roamer = index >= residents;
        let key = person_key(residents, SubscriberId(index));
        let seed = self.spec.seed;
        let p = self.params;
        let mut rng = stream(seed, Purpose::Person, key, 0);

        let device = match pick(
            &mut rng,
            &[p.devices.smartphone, p.devices.feature_phone, p.devices.iot],
        ) {
            0 => DeviceType::Smartphone,
            1 => DeviceType::FeaturePhone,
            _ => DeviceType::Iot,
        };
        let device = if roamer {
            DeviceType::Smartphone
        } else {
            device
        };
        let mut age = self.draw_age(&mut rng);
        if roamer || device == DeviceType::Iot {
            // Tourists and the holders of IoT contracts are adults.
            for _ in 0..20 {
                if age >= 18 {
                    break;
                }
                age = self.draw_age(&mut rng);
            }
            age = age.max(18);
        }
        let sex = if chance(&mut rng, p.female_share) {
            Sex::Female
        } else {
            Sex::Male
        };
        let occupation = if device == DeviceType::Iot {
            Occupation::Other
        } else {
            self.draw_occupation(&mut rng, age)
        };
        let car_p = if age < 18 {
            0.0
        } else if age >= 80 {
            p.car_availability * 0.6
        } else {
            p.car_availability
        };
        let has_car = device != DeviceType::Iot && chance(&mut rng, car_p);
        let contract = if device != DeviceType::Iot && chance(&mut rng, p.prepaid_share) {
            Contract::Prepaid
        } else {
            Contract::Postpaid
        };
        let model = int_in(&mut rng, 0, 99) as u64;
        let roaming = roamer.then(|| self.draw_visit(&mut rng));
        let (mcc, mnc) = roaming.map_or((1, 1), |r| (r.mcc, r.mnc));
        let imei_key = if roamer {
            ROAMER_IMEI_BASE + (index - residents) as u64
        } else {
            key
        };

        let mut arng = stream(seed, Purpose::Anchors, key, 0);
        let home = if roamer && !self.hotels.is_empty() {
            self.hotels.sample(&mut arng)
        } else {
            self.homes.sample(&mut arng)
        };
        // Synthesizer::new refused maps without homes.
        let home = home.unwrap_or(crate::map::PlaceId(0));
        let (anchor, anchor_outside) = if roamer || device == DeviceType::Iot {
            (None, None)
        } else {
            self.draw_anchor(&mut arng, occupation, home, key)
        };

        Subscriber {
            id: SubscriberId(index),
            imsi: ids::imsi(seed, mcc, mnc, key),
            msisdn: ids::msisdn(seed, roamer, key),
            imei: ids::imei(seed, device, model, imei_key),
            age,
            sex,
            occupation,
            has_car,
            device,
            contract,
            roaming,
            home,
            anchor,
            anchor_outside,
        }
    }

    fn draw_age(&self, rng: &mut impl rand::Rng) -> u8 {
        let groups = &self.params.age_groups;
        let weights: Vec<f64> = groups.iter().map(|g| g.share).collect();
        let g = &groups[pick(rng, &weights)];
        int_in(rng, g.from, g.to).clamp(0, 120) as u8
    }

    fn draw_occupation(&self, rng: &mut impl rand::Rng, age: u8) -> Occupation {
        let p = self.params;
        let age = age as i64;
        let employed = |rng: &mut _, rate: f64| {
            if chance(rng, rate) {
                Occupation::Employed
            } else {
                Occupation::Other
            }
        };
        if age < 15 {
            Occupation::Pupil
        } else if age <= 18 {
            // Upper secondary school or an apprenticeship.
            match pick(rng, &[0.80, 0.15, 0.05]) {
                0 => Occupation::Pupil,
                1 => Occupation::Employed,
                _ => Occupation::Other,
            }
        } else if age >= p.retirement_age {
            if chance(rng, 0.06) {
                Occupation::Employed
            } else {
                Occupation::Retired
            }
        } else if age <= 24 {
            if chance(rng, p.tertiary_share) {
                Occupation::Student
            } else {
                employed(rng, p.employment_rate)
            }
        } else if age <= 29 && chance(rng, p.tertiary_share * 0.2) {
            Occupation::Student
        } else if age >= p.retirement_age - 4 && chance(rng, 0.3) {
            // Early retirement in the last working years.
            Occupation::Retired
        } else {
            // The rate is over all 20–64-year-olds; those in their prime
            // working years are a little more often employed.
            employed(rng, (p.employment_rate * 1.05).min(1.0))
        }
    }

    fn draw_visit(&self, rng: &mut impl rand::Rng) -> Roaming {
        let p = self.params;
        let weights: Vec<f64> = p.roamer_networks.iter().map(|n| n.share).collect();
        let (mcc, mnc) = p
            .roamer_networks
            .get(pick(rng, &weights))
            .map_or((999, 1), |n| (n.mcc, n.mnc));
        // Geometric length with the configured mean, at least one day.
        let q = 1.0 / p.roamer_mean_stay_days.max(1.0);
        let mut len = 1;
        while len < MAX_ROAMER_STAY_DAYS && !chance(rng, q) {
            len += 1;
        }
        let days = self.spec.days() as i64;
        let first = int_in(rng, 1 - len, days - 1);
        let last = first + len - 1;
        Roaming {
            mcc,
            mnc,
            first_day: first.max(0) as u32,
            last_day: last.min(days - 1).max(0) as u32,
        }
    }

    fn draw_anchor(
        &self,
        rng: &mut impl rand::Rng,
        occupation: Occupation,
        home: crate::map::PlaceId,
        key: u64,
    ) -> (Option<crate::map::PlaceId>, Option<OutsidePlace>) {
        let p = self.params;
        let origin = self.map.place(home).pos;
        if matches!(occupation, Occupation::Retired | Occupation::Other) {
            return (None, None);
        }
        // Work and school are a jump from home by the jump-length law (with
        // a shorter cutoff for schools), in a uniform direction, from a
        // stream of its own: beyond the map's edge when the jump ends
        // there; inside, a place weighted by the law's density per unit
        // area at its distance, so that commutes inside follow the law too.
        let cutoff_m = match occupation {
            Occupation::Employed => p.anchor_cutoff_km * 1000.0,
            // Universities draw from further away than schools.
            Occupation::Student => p.school_scale_m * 4.0,
            _ => p.school_scale_m,
        };
        let law = JumpLaw::published(p.anchor_cutoff_km).with_cutoff(cutoff_m);
        let mut jrng = stream(self.spec.seed, Purpose::Anchors, key, 2);
        let length = law.draw(&mut jrng);
        let dir = direction(bearing(&mut jrng));
        if let Some(outside) = jump_beyond(&self.extent, &self.gates, origin, dir, length) {
            return (None, Some(outside));
        }
        let mut scratch = Vec::new();
        let near = GRAVITY_CELL_M / 2.0;
        let kernel = |d: f64| law.density_per_area(d, near);
        let place = match occupation {
            Occupation::Employed => self.workplaces.sample(origin, kernel, rng, &mut scratch),
            _ => self
                .schools
                .sample(origin, kernel, rng, &mut scratch)
                .or_else(|| self.workplaces.sample(origin, kernel, rng, &mut scratch)),
        };
        (place, None)
    }
}

/// The whole population of a scenario: residents, then inbound roamers.
pub fn synthesize(
    spec: &RunSpec,
    params: &PopulationParams,
    map: &Map,
) -> Result<Vec<Subscriber>, PopulationError> {
    let s = Synthesizer::new(*spec, params, map)?;
    Ok(s.range(0..s.total()))
}
