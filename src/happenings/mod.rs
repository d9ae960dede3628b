//! Happenings: days that are not ordinary. A scenario's `[[happenings]]`
//! list holds gatherings (attendees travel to a venue and back, their phones
//! busier there), outages (sites carry no traffic in a window), closures
//! (activities in an area or at kinds of places are cancelled by those who
//! comply) and relocations (a share of an area's residents leave the map
//! from a date, for good or for a period). Holidays stay where they were,
//! in `[mobility] holidays`.
//!
//! The days model and the event model know nothing of this module: a
//! subscriber's simulated days and events are edited afterwards
//! ([`Happenings::edit_days`], [`Happenings::edit_events`]), so that an
//! ordinary run takes no other path. Who attends or moves is drawn once
//! per run from the whole population, from streams keyed by the happening
//! and the subscriber, so parts and threads agree; whether someone
//! complies with a closure is keyed by the happening, the subscriber and
//! the tour.

use std::collections::{HashMap, HashSet};

use geo::Coord;
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::days::{Activity, PersonDays, Stay, Trip, TripMode, Waypoint};
use crate::events::Event;
use crate::map::{Map, PlaceClass, PlaceId};
use crate::population::{DeviceType, Subscriber};
use crate::radio::{CellId, CellIdx, Network};
use crate::rng::{self, Purpose};
use crate::zones::{ZoneId, Zoning};

/// What kind of happening.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Gathering,
    Outage,
    Closure,
    Relocation,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gathering => "gathering",
            Kind::Outage => "outage",
            Kind::Closure => "closure",
            Kind::Relocation => "relocation",
        }
    }
}

/// One `[[happenings]]` entry. Which keys apply depends on `kind`; see
/// `docs/MODEL.md`, "Happenings".
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HappeningSpec {
    /// A short name, written to `truth/happenings`.
    pub name: String,
    pub kind: Kind,
    /// Local start and end, `YYYY-MM-DDTHH:MM` in the scenario's time zone.
    /// A relocation without `end` lasts to the end of the run.
    pub start: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Where: a point and a radius (venue, closed or relocated area, or the
    /// sites of an outage). The point may instead be a place of the map
    /// (`place_id`, as in `truth/stays`), and the area instead zones of a
    /// GeoJSON file (`zone_file`, `zone_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
    /// The point is this place of the map (a gathering's venue is then
    /// the place itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_id: Option<i64>,
    /// The area is the union of the zones `zone_ids` of this GeoJSON file
    /// (a path relative to the scenario's file), ids from the features'
    /// `id` or from the property `zone_id_property`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_file: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zone_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id_property: Option<String>,
    /// Outage: the sites (`site_id` of `cells`) that go dark.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<i64>,
    /// Closure: the kinds of places closed (`work`, `education`,
    /// `shopping`, `leisure`, `other`), in the area or, without one,
    /// everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub place_kinds: Vec<String>,
    /// Gathering: how many attend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendees: Option<u32>,
    /// Gathering: attendance falls as exp(−distance / this), km (10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_scale_km: Option<f64>,
    /// Gathering: ages that attend (15 to 70 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u8>,
    /// Gathering: calls, texts and data sessions at the venue relative to
    /// the attendee's usual rate (3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_factor: Option<f64>,
    /// Closure: share of tours cancelled that would have reached a closed
    /// place (0.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<f64>,
    /// Relocation: share of the area's residents who leave (0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Relocation: where the movers go, an area of the map (a point and a
    /// radius); each mover gets a home among the homes there. Without it
    /// they leave the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_radius_m: Option<f64>,
    /// Relocation: or zones of a GeoJSON file as the destination (read as
    /// `zone_file`, with `zone_id_property`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_zone_file: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to_zone_ids: Vec<String>,
}

const DEFAULT_DISTANCE_SCALE_KM: f64 = 10.0;
const DEFAULT_MIN_AGE: u8 = 15;
const DEFAULT_MAX_AGE: u8 = 70;
const DEFAULT_ACTIVITY_FACTOR: f64 = 3.0;
const DEFAULT_COMPLIANCE: f64 = 0.9;
const DEFAULT_SHARE: f64 = 0.3;
/// Straight-line travel to and from a venue or the map's edge: speed (m/s),
/// a fixed extra time (s) and the detour of roads over the straight line.
const TRAVEL_SPEED_MS: f64 = 10.0;
const TRAVEL_EXTRA_S: f64 = 300.0;
const DETOUR: f64 = 1.3;

impl HappeningSpec {
    /// Checks what does not need the map or the network; the error is
    /// (key, what was expected).
    pub fn check(&self) -> crate::check::Check {
        let e = |k: &str, m: String| Err((k.to_string(), m));
        if self.name.trim().is_empty() {
            return e("name", "must not be empty".into());
        }
        if self.lon.is_some() != self.lat.is_some() {
            return e("lat", "a point needs lon and lat together".into());
        }
        if self.place_id.is_some() && self.lon.is_some() {
            return e(
                "place_id",
                "give the point as lon and lat or as place_id, not both".into(),
            );
        }
        let point = self.place_id.is_some() || self.lon.is_some();
        let circle = self.lon.is_some() || self.radius_m.is_some();
        if circle && (!point || self.radius_m.is_none()) {
            return e(
                "radius_m",
                "an area needs lon, lat (or place_id) and radius_m together".into(),
            );
        }
        if self.zone_file.is_some() == self.zone_ids.is_empty() {
            return e(
                "zone_ids",
                "zones need zone_file and zone_ids (a list of zone ids) together".into(),
            );
        }
        let zones = self.zone_file.is_some();
        if zones && point {
            return e(
                "zone_file",
                "an area is either a point and radius_m or zones, not both".into(),
            );
        }
        let area = (point && self.radius_m.is_some()) || zones;
        if let Some(r) = self.radius_m {
            crate::check::in_range("radius_m", r, 1.0, 1e6, "metres between 1 and 1000000")?;
        }
        let to = self.to_lon.is_some() || self.to_lat.is_some() || self.to_radius_m.is_some();
        if to && (self.to_lon.is_none() || self.to_lat.is_none() || self.to_radius_m.is_none()) {
            return e(
                "to_radius_m",
                "a destination needs to_lon, to_lat and to_radius_m together".into(),
            );
        }
        if self.to_zone_file.is_some() == self.to_zone_ids.is_empty() {
            return e(
                "to_zone_ids",
                "destination zones need to_zone_file and to_zone_ids together".into(),
            );
        }
        if to && self.to_zone_file.is_some() {
            return e(
                "to_zone_file",
                "a destination is either to_lon, to_lat, to_radius_m or zones, not both".into(),
            );
        }
        let to = to || self.to_zone_file.is_some();
        if let Some(r) = self.to_radius_m {
            crate::check::in_range("to_radius_m", r, 1.0, 1e6, "metres between 1 and 1000000")?;
        }
        for (k, v) in [("compliance", self.compliance), ("share", self.share)] {
            if let Some(v) = v {
                crate::check::share(k, v)?;
            }
        }
        if let Some(f) = self.activity_factor {
            crate::check::in_range(
                "activity_factor",
                f,
                0.0,
                100.0,
                "a factor between 0 and 100",
            )?;
        }
        if let Some(s) = self.distance_scale_km {
            crate::check::in_range(
                "distance_scale_km",
                s,
                0.01,
                1e4,
                "kilometres between 0.01 and 10000",
            )?;
        }
        for k in &self.place_kinds {
            if parse_place_kind(k).is_none() {
                return e(
                    "place_kinds",
                    format!(
                        "unknown place kind {k:?}; expected work, education, shopping, leisure or other"
                    ),
                );
            }
        }
        // A key of another kind is a mistake, not something to ignore.
        let others: [(&str, bool, Kind); 10] = [
            ("sites", !self.sites.is_empty(), Kind::Outage),
            ("to_lon", to, Kind::Relocation),
            ("place_kinds", !self.place_kinds.is_empty(), Kind::Closure),
            ("compliance", self.compliance.is_some(), Kind::Closure),
            ("share", self.share.is_some(), Kind::Relocation),
            ("attendees", self.attendees.is_some(), Kind::Gathering),
            (
                "distance_scale_km",
                self.distance_scale_km.is_some(),
                Kind::Gathering,
            ),
            ("min_age", self.min_age.is_some(), Kind::Gathering),
            ("max_age", self.max_age.is_some(), Kind::Gathering),
            (
                "activity_factor",
                self.activity_factor.is_some(),
                Kind::Gathering,
            ),
        ];
        for (k, set, kind) in others {
            if set && kind != self.kind {
                return e(
                    k,
                    format!(
                        "applies to a {} only, not to a {}",
                        kind.name(),
                        self.kind.name()
                    ),
                );
            }
        }
        match self.kind {
            Kind::Gathering => {
                if !area && self.place_id.is_none() {
                    return e(
                        "lon",
                        "a gathering needs a venue: place_id, or lon, lat and radius_m".into(),
                    );
                }
                if zones {
                    return e(
                        "zone_file",
                        "a gathering's venue is a point (place_id, or lon, lat and radius_m)"
                            .into(),
                    );
                }
                if self.attendees.is_none_or(|n| n == 0) {
                    return e("attendees", "a gathering needs at least 1 attendee".into());
                }
                if self.min_age.unwrap_or(DEFAULT_MIN_AGE) > self.max_age.unwrap_or(DEFAULT_MAX_AGE)
                {
                    return e("max_age", "must not be below min_age".into());
                }
            }
            Kind::Outage if self.sites.is_empty() && !area => {
                return e(
                    "sites",
                    "an outage needs sites, or an area (lon, lat, radius_m, or zones)".into(),
                );
            }
            Kind::Closure if self.place_kinds.is_empty() && !area => {
                return e(
                    "place_kinds",
                    "a closure needs place kinds, or an area (lon, lat, radius_m, or zones)".into(),
                );
            }
            Kind::Relocation if !area => {
                return e(
                    "lon",
                    "a relocation needs an area: lon, lat and radius_m, or zones".into(),
                );
            }
            _ => {}
        }
        if self.end.is_none() && self.kind != Kind::Relocation {
            return e("end", format!("a {} needs an end", self.kind.name()));
        }
        Ok(())
    }
}

fn parse_place_kind(s: &str) -> Option<PlaceClass> {
    PlaceClass::ALL
        .into_iter()
        .filter(|c| *c != PlaceClass::Home)
        .find(|c| c.name() == s)
}

/// A local `YYYY-MM-DDTHH:MM` in the calendar's zone, as UTC seconds.
fn local_time(calendar: &Calendar, text: &str) -> Result<i64, String> {
    let dt: jiff::civil::DateTime = text
        .parse()
        .map_err(|_| format!("expected a local time as YYYY-MM-DDTHH:MM, got {text:?}"))?;
    calendar
        .time_zone()
        .to_ambiguous_timestamp(dt)
        .compatible()
        .map(|t| t.as_second())
        .map_err(|e| format!("{text:?}: {e}"))
}

/// A happening resolved against the run: times, area, sites, and who takes
/// part.
#[derive(Clone, Debug)]
pub struct Happening {
    /// 0-based position in the scenario's list: the `happening_id`.
    pub id: u32,
    pub spec: HappeningSpec,
    pub start: i64,
    /// Exclusive; the run's end for an open relocation.
    pub end: i64,
    pub center: Option<Coord>,
    pub radius_m: f64,
    /// An area made of zones of a GeoJSON file, instead of the circle.
    pub zones: Option<AreaZones>,
    /// Outage: the dark sites (dense site index, as `cells.site_id`).
    pub sites: HashSet<u32>,
    pub closed: Vec<PlaceClass>,
    /// Gathering: the place the venue is (nearest to the point).
    pub venue: Option<PlaceId>,
    /// Gathering attendees or relocated residents, by subscriber id, in
    /// increasing order.
    pub participants: Vec<u32>,
    /// Relocation into an area of the map: the area (centre, radius).
    pub destination: Option<(Coord, f64)>,
    /// Relocation into zones of a GeoJSON file.
    pub destination_zones: Option<AreaZones>,
    /// Relocation into an area of the map: each mover's new home, in the
    /// order of `participants`.
    pub new_homes: Vec<PlaceId>,
}

impl Happening {
    fn in_area(&self, map: &Map, p: Coord) -> bool {
        match &self.zones {
            Some(z) => z.contains(map.lon_lat(p)),
            None => self
                .center
                .is_some_and(|c| crate::map::distance(c, p) <= self.radius_m),
        }
    }
}

/// An area given as zones of a GeoJSON file.
#[derive(Clone)]
pub struct AreaZones {
    zoning: std::sync::Arc<Zoning>,
    ids: Vec<ZoneId>,
    /// The ids as given, for the truth.
    pub keys: Vec<String>,
}

impl AreaZones {
    fn contains(&self, (lon, lat): (f64, f64)) -> bool {
        self.ids.contains(&self.zoning.zone_of(lon, lat))
    }
}

impl std::fmt::Debug for AreaZones {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AreaZones({}: {:?})", self.zoning.spec(), self.keys)
    }
}

/// Reads the zones `keys` of `file` (an area, or a relocation's
/// destination, named by `key`): the error is (key, what was expected).
fn area_zones(
    file: Option<&String>,
    keys: &[String],
    key: &str,
    id_property: Option<&str>,
    map: &Map,
) -> Result<Option<AreaZones>, (String, String)> {
    let Some(file) = file else {
        return Ok(None);
    };
    let ids_key = format!("{}_ids", key.trim_end_matches("_file"));
    let b = map.bbox;
    let centre = ((b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0);
    let zoning = Zoning::parse(file, id_property, centre).map_err(|e| (key.to_string(), e.0))?;
    let mut ids = Vec::new();
    for k in keys {
        match zoning.parse_key(k) {
            Some(id) if id != ZoneId::OUTSIDE => ids.push(id),
            _ => return Err((ids_key, format!("no zone {k:?} in {file}"))),
        }
    }
    Ok(Some(AreaZones {
        zoning: std::sync::Arc::new(zoning),
        ids,
        keys: keys.to_vec(),
    }))
}

/// Every happening of a run.
#[derive(Clone, Debug, Default)]
pub struct Happenings {
    pub items: Vec<Happening>,
    seed: u64,
    /// Subscriber id → (happening, role) for gatherings and relocations.
    roles: HashMap<u32, Vec<usize>>,
    /// Outages: cell id → cell index, to re-serve events.
    cell_index: HashMap<CellId, CellIdx>,
}

/// Why a happening cannot be used: its index, key and what was expected.
pub type HappeningError = (usize, String, String);

impl Happenings {
    /// Resolves the scenario's happenings against the calendar, the map,
    /// the network and the population.
    pub fn build(
        specs: &[HappeningSpec],
        seed: u64,
        calendar: &Calendar,
        map: &Map,
        network: &Network,
        population: &[Subscriber],
    ) -> Result<Happenings, HappeningError> {
        let (run_start, run_end) = calendar.span();
        let mut items = Vec::new();
        let n_sites = network
            .cells()
            .iter()
            .map(|c| c.site + 1)
            .max()
            .unwrap_or(0);
        for (i, spec) in specs.iter().enumerate() {
            let fail = |k: &str, m: String| (i, k.to_string(), m);
            spec.check().map_err(|(k, m)| (i, k, m))?;
            let start = local_time(calendar, &spec.start).map_err(|m| fail("start", m))?;
            let end = match &spec.end {
                Some(t) => local_time(calendar, t).map_err(|m| fail("end", m))?,
                None => run_end,
            };
            if end <= start {
                return Err(fail("end", format!("must be after start ({})", spec.start)));
            }
            if end <= run_start || start >= run_end {
                return Err(fail(
                    "start",
                    "the window lies outside the run's days".into(),
                ));
            }
            let property = spec.zone_id_property.as_deref();
            let zones = area_zones(
                spec.zone_file.as_ref(),
                &spec.zone_ids,
                "zone_file",
                property,
                map,
            )
            .map_err(|(k, m)| fail(&k, m))?;
            let destination_zones = area_zones(
                spec.to_zone_file.as_ref(),
                &spec.to_zone_ids,
                "to_zone_file",
                property,
                map,
            )
            .map_err(|(k, m)| fail(&k, m))?;
            let place = match spec.place_id {
                Some(id) if id >= 0 && (id as usize) < map.places.len() => Some(PlaceId(id as u32)),
                Some(id) => {
                    return Err(fail(
                        "place_id",
                        format!(
                            "no place {id} in the map (place ids 0 to {})",
                            map.places.len().saturating_sub(1)
                        ),
                    ));
                }
                None => None,
            };
            let zone_centre = zones.as_ref().and_then(|z| {
                z.ids
                    .first()
                    .and_then(|&id| z.zoning.centroid(id))
                    .map(|(lon, lat)| map.projection.to_xy(lon, lat))
            });
            let center = match (spec.lon, spec.lat) {
                _ if place.is_some() => place.map(|p| map.place(p).pos),
                _ if zone_centre.is_some() => zone_centre,
                (Some(lon), Some(lat)) => {
                    if !map.bbox.contains(lon, lat) {
                        return Err(fail(
                            "lon",
                            format!("({lon}, {lat}) is outside the map's extent"),
                        ));
                    }
                    Some(map.projection.to_xy(lon, lat))
                }
                _ => None,
            };
            let radius_m = spec.radius_m.unwrap_or(0.0);
            let destination = match (spec.to_lon, spec.to_lat, spec.to_radius_m) {
                (Some(lon), Some(lat), Some(r)) => {
                    if !map.bbox.contains(lon, lat) {
                        return Err(fail(
                            "to_lon",
                            format!("({lon}, {lat}) is outside the map's extent"),
                        ));
                    }
                    Some((map.projection.to_xy(lon, lat), r))
                }
                _ => None,
            };
            let mut sites = HashSet::new();
            for &s in &spec.sites {
                if s < 0 || s >= i64::from(n_sites) {
                    return Err(fail(
                        "sites",
                        format!(
                            "site {s} is not in the cell plan (site ids 0 to {})",
                            n_sites.saturating_sub(1)
                        ),
                    ));
                }
                sites.insert(s as u32);
            }
            let venue = (spec.kind == Kind::Gathering)
                .then(|| place.or_else(|| center.and_then(|c| nearest_place(map, c))))
                .flatten();
            let mut h = Happening {
                id: i as u32,
                spec: spec.clone(),
                start,
                end,
                center,
                radius_m,
                zones,
                sites,
                closed: spec
                    .place_kinds
                    .iter()
                    .filter_map(|k| parse_place_kind(k))
                    .collect(),
                venue,
                participants: Vec::new(),
                destination,
                destination_zones,
                new_homes: Vec::new(),
            };
            if spec.kind == Kind::Outage && (spec.radius_m.is_some() || h.zones.is_some()) {
                let dark: Vec<u32> = network
                    .cells()
                    .iter()
                    .filter(|cell| h.in_area(map, cell.pos))
                    .map(|cell| cell.site)
                    .collect();
                h.sites.extend(dark);
            }
            h.participants = match spec.kind {
                Kind::Gathering => attendees(&h, seed, map, population),
                Kind::Relocation => movers(&h, seed, map, population),
                _ => Vec::new(),
            };
            if let Some((c, r)) = h.destination {
                let within = |p: Coord| crate::map::distance(p, c) <= r;
                h.new_homes = new_homes(&h, seed, map, population, &within).map_err(|m| {
                    fail(
                        "to_radius_m",
                        format!("{m} within {r} m of (to_lon, to_lat)"),
                    )
                })?;
            }
            if let Some(z) = &h.destination_zones {
                let within = |p: Coord| z.contains(map.lon_lat(p));
                h.new_homes = new_homes(&h, seed, map, population, &within)
                    .map_err(|m| fail("to_zone_ids", format!("{m} in these zones")))?;
            }
            items.push(h);
        }
        let mut roles: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, h) in items.iter().enumerate() {
            for &s in &h.participants {
                roles.entry(s).or_default().push(i);
            }
        }
        let cell_index = if items.iter().any(|h| h.spec.kind == Kind::Outage) {
            network.cells().iter().map(|c| (c.id, c.idx)).collect()
        } else {
            HashMap::new()
        };
        Ok(Happenings {
            items,
            seed,
            roles,
            cell_index,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A mover into an area of the map: the relocation (index) and the new
    /// home. Their days are simulated a second time from that home and
    /// spliced in by [`Happenings::move_home`].
    pub fn new_home(&self, sub: &Subscriber) -> Option<(usize, PlaceId)> {
        let mine = self.roles.get(&sub.id.0)?;
        mine.iter().find_map(|&k| {
            let h = &self.items[k];
            if h.destination.is_none() && h.destination_zones.is_none() {
                return None;
            }
            let i = h.participants.binary_search(&sub.id.0).ok()?;
            h.new_homes.get(i).map(|&home| (k, home))
        })
    }

    /// Splices the days `there` (simulated from the new home) into `days`
    /// from the relocation's start, and back to `days` at its end when it
    /// has one. The move happens at the first moment at or after the start
    /// (end) when the subscriber is at home in both versions long enough
    /// for a straight-line trip between the homes; without such a moment the
    /// subscriber does not move.
    pub fn move_home(&self, k: usize, sub: &Subscriber, days: &mut PersonDays, there: PersonDays) {
        let h = &self.items[k];
        let record_end = days.stays.last().map_or(h.end, |s| s.end);
        let here = days.clone();
        if !splice_at_home(days, &there, h.start, sub) {
            return;
        }
        if h.end < record_end {
            splice_at_home(days, &here, h.end, sub);
        }
    }

    /// Edits one subscriber's simulated days: relocations, then closures,
    /// then gatherings.
    pub fn edit_days(&self, sub: &Subscriber, map: &Map, days: &mut PersonDays) {
        if sub.roaming.is_some() || sub.device == DeviceType::Iot || days.stays.is_empty() {
            return;
        }
        let mine = self.roles.get(&sub.id.0);
        let home = map.place(sub.home).pos;
        for h in &self.items {
            let takes_part = mine.is_some_and(|m| m.contains(&(h.id as usize)));
            match h.spec.kind {
                Kind::Relocation
                    if takes_part && h.destination.is_none() && h.destination_zones.is_none() =>
                {
                    let away = relocation_point(map, home);
                    let tour = [(Activity::Home, None, away, true)];
                    replace_window(days, h.start, h.end, &tour, sub, true);
                }
                Kind::Closure => self.close(h, sub, map, days),
                Kind::Gathering if takes_part => {
                    let pos = h
                        .venue
                        .map_or(h.center.unwrap_or(home), |p| map.place(p).pos);
                    let tour = [(Activity::Leisure, h.venue, pos, false)];
                    replace_window(days, h.start, h.end, &tour, sub, false);
                }
                _ => {}
            }
        }
    }

    /// Each tour of `days` that reaches a closed place during the closure
    /// complies with probability `compliance`: its closed stops are skipped
    /// (see [`skip_stops`]), or, when every stop is closed or one lies beyond
    /// the map's edge, the whole tour is cancelled.
    fn close(&self, h: &Happening, sub: &Subscriber, map: &Map, days: &mut PersonDays) {
        let compliance = h.spec.compliance.unwrap_or(DEFAULT_COMPLIANCE);
        let closed = |s: &Stay| {
            s.activity != Activity::Home
                && s.start < h.end
                && s.end > h.start
                && s.place.is_some_and(|p| {
                    let place = map.place(p);
                    let kind_ok = h.closed.is_empty() || h.closed.contains(&place.class);
                    let area_ok =
                        (h.center.is_none() && h.zones.is_none()) || h.in_area(map, place.pos);
                    kind_ok && area_ok && place.class != PlaceClass::Home
                })
        };
        let mode = if sub.has_car {
            TripMode::CarDriver
        } else {
            TripMode::PublicTransport
        };
        // Later tours first, so that editing one leaves the indices of the
        // earlier ones valid.
        for (a, b) in tours(days).into_iter().rev() {
            let shut: Vec<usize> = (a + 1..b).filter(|&i| closed(&days.stays[i])).collect();
            if shut.is_empty() {
                continue;
            }
            let u = rng::unit_hash(
                self.seed,
                Purpose::Happenings,
                (u64::from(h.id) << 32) | u64::from(sub.id.0),
                days.stays[a].end as u64,
            );
            if u >= compliance {
                continue;
            }
            let beyond_edge = days.stays[a + 1..b].iter().any(|s| s.place.is_none());
            if shut.len() == b - a - 1 || beyond_edge {
                cancel_tours(days, &[(a, b)]);
            } else {
                skip_stops(days, &shut, mode);
            }
        }
    }

    /// Edits one subscriber's events: outages re-serve or drop what dark
    /// sites carried; gatherings add activity at the venue.
    pub fn edit_events(
        &self,
        sub: &Subscriber,
        days: &PersonDays,
        network: &Network,
        events: &mut Vec<Event>,
    ) {
        let mut changed = false;
        for h in &self.items {
            match h.spec.kind {
                Kind::Outage => changed |= self.outage(h, network, events),
                Kind::Gathering
                    if self
                        .roles
                        .get(&sub.id.0)
                        .is_some_and(|m| m.contains(&(h.id as usize))) =>
                {
                    changed |= self.busier(h, sub, days, events);
                }
                _ => {}
            }
        }
        if changed {
            events.sort_by_key(|e| (e.time_ms, e.id));
        }
    }

    fn outage(&self, h: &Happening, network: &Network, events: &mut Vec<Event>) -> bool {
        let dark = |c: CellId| {
            self.cell_index
                .get(&c)
                .is_some_and(|i| h.sites.contains(&network.cell(*i).site))
        };
        let (from, to) = (h.start * 1000, h.end * 1000);
        let before = events.len();
        let mut changed = false;
        events.retain_mut(|e| {
            if e.time_ms < from || e.time_ms >= to || !dark(e.cell) {
                return true;
            }
            changed = true;
            let Some(layer) = network.layer_of(e.technology) else {
                return false;
            };
            let servers = network.servers(layer, e.true_pos);
            let Some(s) = servers
                .iter()
                .find(|s| !h.sites.contains(&network.cell(s.cell).site))
            else {
                // No other site within reach: no service, no record.
                return false;
            };
            let cell = network.cell(s.cell);
            e.cell = cell.id;
            e.tac = cell.tac;
            e.rsrp_dbm = Some(s.dbm);
            if e.end_cell.is_some_and(dark) {
                e.end_cell = Some(cell.id);
            }
            if e.source_cell.is_some_and(dark) {
                e.source_cell = None;
            }
            true
        });
        changed || events.len() != before
    }

    fn busier(
        &self,
        h: &Happening,
        sub: &Subscriber,
        days: &PersonDays,
        events: &mut Vec<Event>,
    ) -> bool {
        let factor = h.spec.activity_factor.unwrap_or(DEFAULT_ACTIVITY_FACTOR);
        let Some(stay) = days.stays.iter().find(|s| {
            s.activity == Activity::Leisure
                && s.place == h.venue
                && s.start < h.end
                && s.end > h.start
        }) else {
            return false;
        };
        let (from, to) = (stay.start * 1000, stay.end * 1000);
        let extra = factor - 1.0;
        if extra <= 0.0 || to <= from {
            return false;
        }
        let mut added = Vec::new();
        let mut seq: u64 = 0;
        for e in events
            .iter()
            .filter(|e| e.kind.is_activity() && e.time_ms >= from && e.time_ms < to)
        {
            let mut r = rng::stream(self.seed, Purpose::Happenings, e.id, u64::from(h.id) + 1);
            use rand::RngExt;
            let n = extra.floor() as u32 + u32::from(r.random::<f64>() < extra.fract());
            for _ in 0..n {
                let mut copy = *e;
                copy.time_ms = from + (r.random::<f64>() * (to - from) as f64) as i64;
                // Sequence numbers of added events start at 2^31, above any
                // the event model gives, so ids stay unique.
                copy.id = (u64::from(sub.id.0) << 32) | (1 << 31) | (u64::from(h.id) << 24) | seq;
                seq += 1;
                added.push(copy);
            }
        }
        let any = !added.is_empty();
        events.extend(added);
        any
    }
}

/// The place nearest to a point.
fn nearest_place(map: &Map, p: Coord) -> Option<PlaceId> {
    map.places
        .iter()
        .filter(|pl| pl.class != PlaceClass::Home)
        .min_by(|a, b| crate::map::distance(a.pos, p).total_cmp(&crate::map::distance(b.pos, p)))
        .map(|pl| pl.id)
}

/// The point of the map's extent nearest to `p`: where someone leaving the
/// map is last seen.
/// How far beyond the map's edge relocated residents settle, metres.
const RELOCATION_BEYOND_M: f64 = 25_000.0;

/// Where a resident of `p` relocates to: [`RELOCATION_BEYOND_M`] past the
/// point of the map's bounding box nearest `p`, straight on from `p` (from
/// the map's centre when `p` is on the edge itself). Their new home is a
/// real position beyond the map, where the device is on another network.
fn relocation_point(map: &Map, p: Coord) -> Coord {
    let edge = edge_point(map, p);
    let from = if crate::map::distance(edge, p) > 1.0 {
        p
    } else {
        let b = map.bbox;
        map.projection
            .to_xy((b.min_lon + b.max_lon) / 2.0, (b.min_lat + b.max_lat) / 2.0)
    };
    let len = crate::map::distance(edge, from).max(1.0);
    Coord {
        x: edge.x + (edge.x - from.x) / len * RELOCATION_BEYOND_M,
        y: edge.y + (edge.y - from.y) / len * RELOCATION_BEYOND_M,
    }
}

fn edge_point(map: &Map, p: Coord) -> Coord {
    let b = map.bbox;
    let (lon, lat) = map.lon_lat(p);
    let candidates = [
        (b.min_lon, lat),
        (b.max_lon, lat),
        (lon, b.min_lat),
        (lon, b.max_lat),
    ];
    candidates
        .into_iter()
        .map(|(x, y)| map.projection.to_xy(x, y))
        .min_by(|a, b| crate::map::distance(*a, p).total_cmp(&crate::map::distance(*b, p)))
        .unwrap_or(p)
}

fn eligible(s: &Subscriber) -> bool {
    s.roaming.is_none() && s.device != DeviceType::Iot
}

/// Gathering attendees: weighted sampling without replacement (Efraimidis
/// and Spirakis keys u^(1/w)) with w = exp(−d / scale) for residents of
/// the allowed ages, d the distance from home to the venue.
fn attendees(h: &Happening, seed: u64, map: &Map, population: &[Subscriber]) -> Vec<u32> {
    let (Some(center), Some(n)) = (h.center, h.spec.attendees) else {
        return Vec::new();
    };
    let scale = h
        .spec
        .distance_scale_km
        .unwrap_or(DEFAULT_DISTANCE_SCALE_KM)
        * 1000.0;
    let (lo, hi) = (
        h.spec.min_age.unwrap_or(DEFAULT_MIN_AGE),
        h.spec.max_age.unwrap_or(DEFAULT_MAX_AGE),
    );
    let mut keyed: Vec<(f64, u32)> = population
        .iter()
        .filter(|s| eligible(s) && (lo..=hi).contains(&s.age))
        .map(|s| {
            let d = crate::map::distance(map.place(s.home).pos, center);
            let w = (-d / scale).exp().max(1e-300);
            let u = rng::unit_hash(
                seed,
                Purpose::Happenings,
                u64::from(h.id),
                u64::from(s.id.0),
            )
            .max(f64::MIN_POSITIVE);
            // log(u)/w orders as u^(1/w) and does not underflow.
            (u.ln() / w, s.id.0)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut ids: Vec<u32> = keyed
        .into_iter()
        .take(n as usize)
        .map(|(_, id)| id)
        .collect();
    ids.sort_unstable();
    ids
}

/// Relocated residents: each resident whose home is in the area leaves
/// with probability `share`.
fn movers(h: &Happening, seed: u64, map: &Map, population: &[Subscriber]) -> Vec<u32> {
    let share = h.spec.share.unwrap_or(DEFAULT_SHARE);
    population
        .iter()
        .filter(|s| eligible(s) && h.in_area(map, map.place(s.home).pos))
        .filter(|s| {
            rng::unit_hash(
                seed,
                Purpose::Happenings,
                u64::from(h.id),
                u64::from(s.id.0),
            ) < share
        })
        .map(|s| s.id.0)
        .collect()
}

/// New homes of the movers into the area (where `within` holds): one of the
/// area's homes each, uniformly, from a stream keyed by the happening and
/// the subscriber. An area without homes is an error naming it.
fn new_homes(
    h: &Happening,
    seed: u64,
    map: &Map,
    population: &[Subscriber],
    within: &dyn Fn(Coord) -> bool,
) -> Result<Vec<PlaceId>, String> {
    let homes: Vec<PlaceId> = map
        .places
        .iter()
        .filter(|p| p.class == PlaceClass::Home && within(p.pos))
        .map(|p| p.id)
        .collect();
    if homes.is_empty() {
        return Err("no homes of the map lie".into());
    }
    Ok(h.participants
        .iter()
        .map(|&id| {
            let old = population.get(id as usize).map(|s| s.home);
            // A second draw of the same stream family, told apart from the
            // mover draw by the high bit of the happening key.
            let u = rng::unit_hash(
                seed,
                Purpose::Happenings,
                (1 << 32) | u64::from(h.id),
                u64::from(id),
            );
            let i = ((u * homes.len() as f64) as usize).min(homes.len() - 1);
            // Moving into the same home is no move: take the next one.
            if Some(homes[i]) == old && homes.len() > 1 {
                homes[(i + 1) % homes.len()]
            } else {
                homes[i]
            }
        })
        .collect())
}

/// Replaces `days` from about `at` by `other`: at the first moment at or
/// after `at` when the subscriber is at home in both, with time for a
/// straight-line trip from one home to the other and ten minutes at the new
/// one, `days` leaves its home stay and `other`'s days follow. Returns
/// whether it found such a moment.
fn splice_at_home(days: &mut PersonDays, other: &PersonDays, at: i64, sub: &Subscriber) -> bool {
    let homes = |d: &PersonDays| -> Vec<usize> {
        (0..d.stays.len())
            .filter(|&i| d.stays[i].activity == Activity::Home && d.stays[i].end > at)
            .collect()
    };
    let (mine, theirs) = (homes(days), homes(other));
    let mut found = None;
    'search: for &i in &mine {
        for &j in &theirs {
            let (a, b) = (&days.stays[i], &other.stays[j]);
            let d = crate::map::distance(a.pos, b.pos);
            let travel = (d / TRAVEL_SPEED_MS + TRAVEL_EXTRA_S).round() as i64;
            let t0 = a.start.max(b.start).max(at);
            if t0 + travel + 600 <= a.end.min(b.end) {
                found = Some((i, j, t0, travel, d));
                break 'search;
            }
        }
    }
    let Some((i, j, t0, travel, d)) = found else {
        return false;
    };
    let mode = if sub.has_car {
        TripMode::CarDriver
    } else {
        TripMode::PublicTransport
    };
    let (from, to) = (days.stays[i].pos, other.stays[j].pos);
    days.stays.truncate(i + 1);
    days.stays[i].end = t0;
    days.trips.retain(|t| t.to_stay <= i);
    days.trips.push(Trip {
        start: t0,
        end: t0 + travel,
        mode,
        distance_m: d * DETOUR,
        from_stay: i,
        to_stay: i + 1,
        path: vec![
            Waypoint {
                t: t0 as f64,
                pos: from,
            },
            Waypoint {
                t: (t0 + travel) as f64,
                pos: to,
            },
        ],
        outside: None,
    });
    let mut first = other.stays[j].clone();
    first.start = t0 + travel;
    days.stays.push(first);
    days.stays.extend(other.stays[j + 1..].iter().cloned());
    let shift = (i + 1) as isize - j as isize;
    days.trips.extend(
        other
            .trips
            .iter()
            .filter(|t| t.from_stay >= j)
            .cloned()
            .map(|mut t| {
                t.from_stay = (t.from_stay as isize + shift) as usize;
                t.to_stay = (t.to_stay as isize + shift) as usize;
                t
            }),
    );
    true
}

/// Tours: (index of the home stay left, index of the home stay reached),
/// with at least one stay between.
fn tours(days: &PersonDays) -> Vec<(usize, usize)> {
    let homes: Vec<usize> = (0..days.stays.len())
        .filter(|&i| days.stays[i].activity == Activity::Home)
        .collect();
    homes
        .windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .map(|w| (w[0], w[1]))
        .collect()
}

/// Removes the given tours (disjoint, in order): the home stay before each
/// runs on to the end of the home stay after it.
fn cancel_tours(days: &mut PersonDays, cancel: &[(usize, usize)]) {
    if cancel.is_empty() {
        return;
    }
    let old_stays = std::mem::take(&mut days.stays);
    let old_trips = std::mem::take(&mut days.trips);
    let mut drop = vec![false; old_stays.len()];
    let mut merge_into: HashMap<usize, usize> = HashMap::new();
    for &(a, b) in cancel {
        for d in drop.iter_mut().take(b + 1).skip(a + 1) {
            *d = true;
        }
        merge_into.insert(b, a);
    }
    let mut new_index = vec![usize::MAX; old_stays.len()];
    for (i, s) in old_stays.into_iter().enumerate() {
        if drop[i] {
            if merge_into.contains_key(&i) {
                // The home stay after a cancelled tour extends the one before.
                let target = new_index[merge_into[&i]];
                if let Some(t) = days.stays.get_mut(target) {
                    t.end = s.end;
                }
                new_index[i] = target;
            }
            continue;
        }
        new_index[i] = days.stays.len();
        days.stays.push(s);
    }
    for t in old_trips {
        // The trip that leaves the home stay reached by a cancelled tour
        // now leaves the home stay that absorbed it.
        let leaves_merged = merge_into.contains_key(&t.from_stay);
        if drop[t.to_stay] || (drop[t.from_stay] && !leaves_merged) {
            continue;
        }
        let mut t = t;
        t.from_stay = new_index[t.from_stay];
        t.to_stay = new_index[t.to_stay];
        days.trips.push(t);
    }
}

/// Removes the stays `shut` (stops inside one tour, never its home stays at
/// either end, in order). The person stays on at the stop before a removed
/// run and goes from there straight to the stop after it (a straight-line
/// trip at [`TRAVEL_SPEED_MS`] plus [`TRAVEL_EXTRA_S`]), arriving when they
/// would have, or, when the straight trip is longer than the time between
/// the two stops, leaving when they would have. Two stops at the same place
/// either side of a removed run become one stay.
fn skip_stops(days: &mut PersonDays, shut: &[usize], mode: TripMode) {
    let old_stays = std::mem::take(&mut days.stays);
    let old_trips = std::mem::take(&mut days.trips);
    let removed: HashSet<usize> = shut.iter().copied().collect();
    let mut new_index = vec![usize::MAX; old_stays.len()];
    let mut added = Vec::new();
    let mut prev: Option<usize> = None;
    for (i, s) in old_stays.into_iter().enumerate() {
        if removed.contains(&i) {
            continue;
        }
        if let Some(p) = prev.filter(|&p| i > p + 1) {
            let from = new_index[p];
            let before = &mut days.stays[from];
            if before.place.is_some() && before.place == s.place {
                before.end = s.end;
                new_index[i] = from;
                prev = Some(i);
                continue;
            }
            let d = crate::map::distance(before.pos, s.pos);
            let travel = (d / TRAVEL_SPEED_MS + TRAVEL_EXTRA_S).round() as i64;
            let leave = (s.start - travel).max(before.end);
            before.end = leave;
            added.push(Trip {
                start: leave,
                end: s.start,
                mode,
                distance_m: d * DETOUR,
                from_stay: from,
                to_stay: from + 1,
                path: vec![
                    Waypoint {
                        t: leave as f64,
                        pos: before.pos,
                    },
                    Waypoint {
                        t: s.start as f64,
                        pos: s.pos,
                    },
                ],
                outside: None,
            });
        }
        new_index[i] = days.stays.len();
        days.stays.push(s);
        prev = Some(i);
    }
    for mut t in old_trips {
        if removed.contains(&t.from_stay) || removed.contains(&t.to_stay) {
            continue;
        }
        t.from_stay = new_index[t.from_stay];
        t.to_stay = new_index[t.to_stay];
        days.trips.push(t);
    }
    days.trips.extend(added);
    days.trips.sort_by_key(|t| (t.start, t.from_stay));
}

/// Puts the subscriber at `tour`'s stops for `[start, end)`: tours that
/// overlap the window, with travel, are cancelled, and a straight-line trip
/// leads from home to the stop and, unless the window runs to the end of
/// the record, back. `outside` stops are beyond the map (another network).
fn replace_window(
    days: &mut PersonDays,
    start: i64,
    end: i64,
    tour: &[(Activity, Option<PlaceId>, Coord, bool)],
    sub: &Subscriber,
    outside: bool,
) {
    let Some(&(activity, place, pos, stop_outside)) = tour.first() else {
        return;
    };
    let record_end = days.stays.last().map_or(end, |s| s.end);
    let Some(home_pos) = days
        .stays
        .iter()
        .find(|s| s.activity == Activity::Home)
        .map(|s| s.pos)
    else {
        return;
    };
    let d = crate::map::distance(home_pos, pos);
    let travel = (d / TRAVEL_SPEED_MS + TRAVEL_EXTRA_S).round() as i64;
    let (leave, back) = (start - travel, end + travel);
    let overlapping: Vec<(usize, usize)> = tours(days)
        .into_iter()
        .filter(|&(a, b)| days.stays[a].end < back && days.stays[b].start > leave)
        .collect();
    cancel_tours(days, &overlapping);
    // The home stay that now covers the departure.
    let Some(i) = days
        .stays
        .iter()
        .position(|s| s.activity == Activity::Home && s.start <= leave - 60 && s.end > leave)
    else {
        return;
    };
    let returns = back < record_end;
    if returns && days.stays[i].end < back + 60 {
        return;
    }
    let home = days.stays[i].clone();
    let mode = if sub.has_car {
        TripMode::CarDriver
    } else {
        TripMode::PublicTransport
    };
    let trip =
        |from_stay: usize, t0: i64, t1: i64, a: Coord, b: Coord, out: Option<(f64, f64)>| Trip {
            start: t0,
            end: t1,
            mode,
            distance_m: d * DETOUR,
            from_stay,
            to_stay: from_stay + 1,
            path: vec![
                Waypoint {
                    t: t0 as f64,
                    pos: a,
                },
                Waypoint {
                    t: t1 as f64,
                    pos: b,
                },
            ],
            outside: out,
        };
    // Stays after i move up by 2 (or 1 without a return), trips after the
    // one leaving i likewise.
    let shift = if returns { 2 } else { 1 };
    let mut after_stays: Vec<Stay> = days.stays.split_off(i + 1);
    let mut after_trips: Vec<Trip> = days
        .trips
        .iter()
        .position(|t| t.from_stay >= i)
        .map(|k| days.trips.split_off(k))
        .unwrap_or_default();
    if !returns {
        after_stays.clear();
        after_trips.clear();
    }
    days.stays[i].end = leave;
    let arrive = start;
    // The part of a trip beyond the edge: for a relocation, its last
    // RELOCATION_BEYOND_M of straight line.
    let beyond_s = ((RELOCATION_BEYOND_M / d.max(1.0)).min(1.0) * travel as f64).max(1.0);
    let out_span = (outside || stop_outside).then_some((start as f64 - beyond_s, start as f64));
    days.trips
        .push(trip(i, leave, arrive, home.pos, pos, out_span));
    days.stays.push(Stay {
        start: arrive,
        end: if returns { end } else { record_end.max(arrive) },
        activity,
        place,
        pos,
    });
    if returns {
        let back_span = (outside || stop_outside).then_some((end as f64, end as f64 + beyond_s));
        days.trips
            .push(trip(i + 1, end, back, pos, home.pos, back_span));
        days.stays.push(Stay {
            start: back,
            end: home.end,
            ..home
        });
        for t in &mut after_trips {
            t.from_stay += shift;
            t.to_stay += shift;
        }
        days.stays.extend(after_stays);
        days.trips.extend(after_trips);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::SubscriberId;

    fn spec(kind: &str, rest: &str) -> HappeningSpec {
        let text = format!(
            "name = \"x\"\nkind = \"{kind}\"\nstart = \"2026-03-03T08:00\"\nend = \"2026-03-03T10:00\"\n{rest}"
        );
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn areas_are_a_circle_or_zones_and_a_venue_may_be_a_place() {
        let key = |kind: &str, rest: &str| spec(kind, rest).check().err().map(|e| e.0);
        assert_eq!(
            key("closure", "zone_file = \"z.geojson\"\nzone_ids = [\"a\"]"),
            None
        );
        assert_eq!(key("gathering", "place_id = 3\nattendees = 10"), None);
        assert_eq!(key("outage", "place_id = 3\nradius_m = 500"), None);
        assert_eq!(
            key("closure", "zone_file = \"z.geojson\""),
            Some("zone_ids".into())
        );
        assert_eq!(
            key(
                "closure",
                "place_id = 3\nlon = 9.5\nlat = 47.1\nradius_m = 5"
            ),
            Some("place_id".into())
        );
        assert_eq!(
            key(
                "relocation",
                "lon = 9.5\nlat = 47.1\nradius_m = 5\nzone_file = \"z\"\nzone_ids = [\"a\"]"
            ),
            Some("zone_file".into())
        );
        assert_eq!(
            key(
                "gathering",
                "zone_file = \"z\"\nzone_ids = [\"a\"]\nattendees = 5"
            ),
            Some("zone_file".into())
        );
        assert_eq!(
            key("closure", "radius_m = 5\nplace_kinds = [\"work\"]"),
            Some("radius_m".into())
        );
        assert_eq!(
            key("closure", "lon = 9.5\nplace_kinds = [\"work\"]"),
            Some("lat".into())
        );
        let reloc = "lon = 9.5\nlat = 47.1\nradius_m = 5\n";
        assert_eq!(
            key("relocation", &format!("{reloc}to_zone_file = \"z\"")),
            Some("to_zone_ids".into())
        );
        assert_eq!(
            key(
                "relocation",
                &format!(
                    "{reloc}to_lon = 9.5\nto_lat = 47.1\nto_radius_m = 9\nto_zone_file = \"z\"\nto_zone_ids = [\"a\"]"
                )
            ),
            Some("to_zone_file".into())
        );
        assert_eq!(
            key(
                "closure",
                "place_kinds = [\"work\"]\nto_zone_file = \"z\"\nto_zone_ids = [\"a\"]"
            ),
            Some("to_lon".into())
        );
    }

    fn day(places: &[(Activity, u32)]) -> PersonDays {
        let stays: Vec<Stay> = places
            .iter()
            .enumerate()
            .map(|(i, &(activity, p))| Stay {
                start: i as i64 * 1000,
                end: i as i64 * 1000 + 900,
                activity,
                place: Some(PlaceId(p)),
                pos: Coord {
                    x: f64::from(p),
                    y: 0.0,
                },
            })
            .collect();
        let trips = (0..stays.len() - 1)
            .map(|i| Trip {
                start: stays[i].end,
                end: stays[i + 1].start,
                mode: TripMode::Walk,
                distance_m: 1.0,
                from_stay: i,
                to_stay: i + 1,
                path: Vec::new(),
                outside: None,
            })
            .collect();
        PersonDays {
            subscriber: SubscriberId(1),
            stays,
            trips,
        }
    }

    #[test]
    fn skipped_stops_leave_the_open_ones_reached_on_time() {
        use Activity::{Home, Leisure, Shopping, Work};
        // home, work (closed), shop, leisure (closed), shop again, home.
        let mut d = day(&[
            (Home, 1),
            (Work, 2),
            (Shopping, 3),
            (Leisure, 4),
            (Shopping, 3),
            (Home, 1),
        ]);
        let shop_start = d.stays[2].start;
        skip_stops(&mut d, &[1, 3], TripMode::Walk);
        let places: Vec<u32> = d.stays.iter().map(|s| s.place.unwrap().0).collect();
        assert_eq!(places, [1, 3, 1]);
        // The shop is reached when it was, and the two visits either side
        // of the closed leisure stop are one stay.
        assert_eq!(d.stays[1].start, shop_start);
        assert_eq!(d.stays[1].end, 4900);
        assert_eq!(d.trips.len(), 2);
        for (i, t) in d.trips.iter().enumerate() {
            assert_eq!((t.from_stay, t.to_stay), (i, i + 1));
            assert_eq!((t.start, t.end), (d.stays[i].end, d.stays[i + 1].start));
        }
    }

    #[test]
    fn a_cancelled_tour_keeps_the_trip_that_leaves_home_afterwards() {
        use Activity::{Home, Shopping, Work};
        // home, shop, home, work, home: cancel the shopping tour.
        let mut d = day(&[(Home, 1), (Shopping, 2), (Home, 1), (Work, 3), (Home, 1)]);
        cancel_tours(&mut d, &[(0, 2)]);
        assert_eq!(d.stays.len(), 3);
        assert_eq!((d.stays[0].start, d.stays[0].end), (0, 2900));
        // Stays and trips still alternate: the trip to work leaves the
        // merged home stay when it ends.
        assert_eq!(d.trips.len(), 2);
        for (i, t) in d.trips.iter().enumerate() {
            assert_eq!((t.from_stay, t.to_stay), (i, i + 1));
            assert_eq!((t.start, t.end), (d.stays[i].end, d.stays[i + 1].start));
        }
    }
}
