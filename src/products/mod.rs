//! Zone products: the aggregates an operator sells or feeds to planners
//! (presence, footfall by age and sex, origin–destination, commuting,
//! home and work zones, dwell times), computed from the ground truth of a
//! dataset on any [`Zoning`]. They are the right answer a pipeline that
//! reads only the events is scored against (`score`), and `baseline`
//! computes the same tables from the events.
//!
//! Every product is defined in `docs/PRODUCTS.md` precisely enough that a
//! SQL query over `truth/stays`, `truth/trips` and `subscribers`
//! reproduces it. Stays and trips are read a date partition at a time:
//! memory holds one partition and the aggregates, whose size depends on
//! the zones and hours, not on the people.

pub mod clock;
pub mod tables;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use clock::{HOUR_MS, LocalHour};

use crate::calendar::Calendar;

use crate::reader::{
    DatasetError, DatasetReader, column_bool, column_f64, column_i64, column_ms, column_opt_f64,
    column_opt_i64, column_str, err,
};
use crate::sink::tables::{stays_schema, subscribers_schema, trips_schema};
use crate::zones::{ZoneId, Zoning};

/// Shortest stay that counts as a visit in `footfall` and `dwell`, minutes,
/// unless `--min-dwell` says otherwise.
pub const DEFAULT_MIN_DWELL_MIN: u32 = 15;

/// Age bands of `footfall`: `[from, to]` inclusive, the last open.
pub const AGE_BANDS: [(u8, u8, &str); 7] = [
    (0, 17, "0-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, u8::MAX, "65+"),
];

/// The band index of an age.
pub fn age_band(age: i64) -> u8 {
    AGE_BANDS
        .iter()
        .position(|&(from, to, _)| age >= i64::from(from) && age <= i64::from(to))
        .unwrap_or(AGE_BANDS.len() - 1) as u8
}

/// Sexes as `subscribers` writes them; index 2 stands for anything else.
pub const SEXES: [&str; 3] = ["F", "M", "unknown"];

/// Choices that shape the products.
#[derive(Clone, Debug)]
pub struct ProductOptions {
    /// Shortest stay that counts as a visit, minutes.
    pub min_dwell_min: u32,
    /// Counts are multiplied by this (subscribers to population); 1 keeps
    /// them integer.
    pub scale: f64,
}

impl Default for ProductOptions {
    fn default() -> Self {
        ProductOptions {
            min_dwell_min: DEFAULT_MIN_DWELL_MIN,
            scale: 1.0,
        }
    }
}

/// What `products` knows of a subscriber.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub band: u8,
    pub sex: u8,
    /// IoT/M2M devices are left out of every product: they are not people.
    pub machine: bool,
}

/// A stay in a zone, from the truth or detected from events.
#[derive(Clone, Copy, Debug)]
pub struct ZoneStay {
    pub subscriber: i64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub zone: ZoneId,
    /// The share of the stay in this zone, in units of
    /// [`Products::weight_unit`]: the unit itself for a stay wholly in the
    /// zone; a pipeline that splits a site over zones gives a stay one
    /// `ZoneStay` per zone with the zone's share.
    pub weight: i64,
}

/// A trip between zones.
#[derive(Clone, Debug)]
pub struct ZoneTrip {
    pub subscriber: i64,
    pub start_ms: i64,
    pub origin: ZoneId,
    pub destination: ZoneId,
    /// `None` for pipelines that cannot tell the mode.
    pub mode: Option<String>,
    /// The share of the trip between these zones, in units of
    /// [`Products::weight_unit`].
    pub weight: i64,
}

/// Counts in every cell below are in units of [`Products::weight_unit`]:
/// whole subscribers when it is 1.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PresenceCell {
    /// Present at the half hour.
    pub people: i64,
    pub person_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FootfallKey {
    pub when: LocalHour,
    pub zone: ZoneId,
    pub band: u8,
    pub sex: u8,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FootfallCell {
    pub visitors: i64,
    pub visits: i64,
    pub dwell_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OdKey {
    pub origin: ZoneId,
    pub destination: ZoneId,
    pub when: LocalHour,
    pub mode: Option<String>,
}

/// Stay-duration quantiles of one zone and local date, minutes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DwellRow {
    pub stays: i64,
    pub quantiles: [f64; 5],
}

/// The quantiles of `dwell`.
pub const DWELL_QUANTILES: [f64; 5] = [0.10, 0.25, 0.50, 0.75, 0.90];

/// Home and work (or school) zone of a subscriber.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HomeWork {
    pub home: Option<ZoneId>,
    pub work: Option<ZoneId>,
}

/// Every product, in memory: aggregates over zones and hours, and a row per
/// subscriber for `home_work`.
#[derive(Debug)]
pub struct Products {
    pub presence: BTreeMap<(i64, ZoneId), PresenceCell>,
    pub footfall: BTreeMap<FootfallKey, FootfallCell>,
    pub od: BTreeMap<OdKey, i64>,
    pub home_work: BTreeMap<i64, HomeWork>,
    pub dwell: BTreeMap<(ZoneId, i32), DwellRow>,
    /// Whether `od` knows trip modes.
    pub od_has_mode: bool,
    /// What one subscriber counts in the aggregates: 1 when every stay and
    /// trip is wholly in its zones (the truth); more when a pipeline splits
    /// them over zones by shares, and the products are then written as
    /// fractional counts (count / unit).
    pub weight_unit: i64,
}

impl Default for Products {
    fn default() -> Self {
        Products {
            presence: BTreeMap::new(),
            footfall: BTreeMap::new(),
            od: BTreeMap::new(),
            home_work: BTreeMap::new(),
            dwell: BTreeMap::new(),
            od_has_mode: false,
            weight_unit: 1,
        }
    }
}

impl Products {
    /// Home zone → work zone, people with both.
    pub fn commute(&self) -> BTreeMap<(ZoneId, ZoneId), i64> {
        let mut out = BTreeMap::new();
        for hw in self.home_work.values() {
            if let (Some(h), Some(w)) = (hw.home, hw.work) {
                *out.entry((h, w)).or_insert(0) += 1;
            }
        }
        out
    }

    /// Every zone any product names, in order.
    pub fn zones(&self) -> Vec<ZoneId> {
        let mut z: Vec<ZoneId> = self.presence.keys().map(|k| k.1).collect();
        z.extend(self.footfall.keys().map(|k| k.zone));
        z.extend(self.od.keys().flat_map(|k| [k.origin, k.destination]));
        z.extend(
            self.home_work
                .values()
                .flat_map(|h| [h.home, h.work])
                .flatten(),
        );
        z.extend(self.dwell.keys().map(|k| k.0));
        z.sort_unstable();
        z.dedup();
        z
    }
}

/// A subscriber counted as a visitor of a zone in a local hour, with the
/// largest share of a visit of theirs there so far.
type Counted = (LocalHour, ZoneId, i64);

/// Adds stays to `presence`, `footfall` and `dwell`, a partition at a time.
///
/// A stay is counted in every hour it overlaps, so a stay that began on an
/// earlier day adds to the hours of later ones. A visitor is counted once
/// per zone and local hour even when two of their stays there fall in
/// different partitions: the zone-hours a subscriber's stays reach past the
/// partition's end are carried to the next one.
pub struct StayAggregator<'a> {
    calendar: &'a Calendar,
    min_dwell_ms: i64,
    /// (local hour, zone) a subscriber was counted in, at or after the end
    /// of the last partition.
    carried: HashMap<i64, Vec<Counted>>,
    /// Sums by key while stays come in: hashing is several times faster
    /// than a search tree here; [`StayAggregator::finish`] sorts them.
    presence: HashMap<(i64, ZoneId), PresenceCell>,
    footfall: HashMap<FootfallKey, FootfallCell>,
}

impl<'a> StayAggregator<'a> {
    pub fn new(calendar: &'a Calendar, options: &ProductOptions) -> Self {
        StayAggregator {
            calendar,
            min_dwell_ms: i64::from(options.min_dwell_min) * 60_000,
            carried: HashMap::new(),
            presence: HashMap::new(),
            footfall: HashMap::new(),
        }
    }

    /// Moves the sums into `out`, in key order.
    pub fn finish(self, out: &mut Products) {
        out.presence.extend(self.presence);
        out.footfall.extend(self.footfall);
    }

    /// Adds the stays of one partition (any order). `ends_ms` is the UTC
    /// instant the partition's local day ends: later partitions hold only
    /// stays that begin after it.
    pub fn add(
        &mut self,
        stays: &mut [ZoneStay],
        ends_ms: i64,
        people: &BTreeMap<i64, Person>,
        out: &mut Products,
    ) {
        stays.sort_by_key(|s| (s.subscriber, s.start_ms, s.end_ms, s.zone));
        let mut carried = HashMap::new();
        let mut durations: BTreeMap<(ZoneId, i32), (i64, Vec<f64>)> = BTreeMap::new();
        let mut counted: Vec<Counted> = Vec::new();
        let mut i = 0;
        while i < stays.len() {
            let sub = stays[i].subscriber;
            let mut j = i;
            while j < stays.len() && stays[j].subscriber == sub {
                j += 1;
            }
            let Some(person) = people.get(&sub).filter(|p| !p.machine) else {
                i = j;
                continue;
            };
            counted.clear();
            if let Some(before) = self.carried.remove(&sub) {
                counted.extend(before);
            }
            for s in &stays[i..j] {
                self.add_stay(s, person, &mut counted);
                if s.end_ms - s.start_ms >= self.min_dwell_ms {
                    let day = clock::local_hour(self.calendar, s.start_ms).day;
                    let d = durations.entry((s.zone, day)).or_default();
                    d.0 += s.weight;
                    d.1.push((s.end_ms - s.start_ms) as f64 / 60_000.0);
                }
            }
            if ends_ms < i64::MAX {
                // The local hour the partition's day ends in is the first
                // one the next partition's stays can reach.
                let ends = clock::local_hour(self.calendar, ends_ms);
                let mut reaching: Vec<Counted> = counted
                    .iter()
                    .copied()
                    .filter(|(h, _, _)| *h >= ends)
                    .collect();
                reaching.sort_unstable();
                reaching.dedup();
                if !reaching.is_empty() {
                    carried.insert(sub, reaching);
                }
            }
            i = j;
        }
        self.carried = carried;
        for (key, (weight, mut d)) in durations {
            d.sort_by(f64::total_cmp);
            let row = DwellRow {
                stays: weight,
                quantiles: DWELL_QUANTILES.map(|q| quantile_sorted(&d, q)),
            };
            out.dwell.insert(key, row);
        }
    }

    fn add_stay(&mut self, s: &ZoneStay, person: &Person, counted: &mut Vec<Counted>) {
        if s.end_ms <= s.start_ms {
            return;
        }
        let visit = s.end_ms - s.start_ms >= self.min_dwell_ms;
        let mut last_label: Option<LocalHour> = None;
        let mut hour = s.start_ms.div_euclid(HOUR_MS) * HOUR_MS;
        while hour < s.end_ms {
            let overlap = s.end_ms.min(hour + HOUR_MS) - s.start_ms.max(hour);
            let half = hour + HOUR_MS / 2;
            let cell = self.presence.entry((hour, s.zone)).or_default();
            cell.person_ms += overlap * s.weight;
            if s.start_ms <= half && half < s.end_ms {
                cell.people += s.weight;
            }
            if visit {
                let label = clock::local_hour(self.calendar, hour);
                let key = FootfallKey {
                    when: label,
                    zone: s.zone,
                    band: person.band,
                    sex: person.sex,
                };
                let f = self.footfall.entry(key).or_default();
                f.dwell_ms += overlap * s.weight;
                // The hour the clocks go back is one local hour made of two
                // UTC hours: a visit through both is one visit.
                if last_label != Some(label) {
                    f.visits += s.weight;
                }
                // A visitor counts once per zone and hour, with the largest
                // share any of their visits there has (the whole unit when
                // stays are not split).
                match counted
                    .iter_mut()
                    .find(|(h, z, _)| *h == label && *z == s.zone)
                {
                    Some(c) if c.2 < s.weight => {
                        f.visitors += s.weight - c.2;
                        c.2 = s.weight;
                    }
                    Some(_) => {}
                    None => {
                        counted.push((label, s.zone, s.weight));
                        f.visitors += s.weight;
                    }
                }
                last_label = Some(label);
            }
            hour += HOUR_MS;
        }
    }
}

/// Linear interpolation between closest ranks (Hyndman and Fan type 7, as
/// DuckDB's `quantile_cont`) of sorted values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Adds trips to `od`.
pub fn add_trips(
    trips: &[ZoneTrip],
    calendar: &Calendar,
    people: &BTreeMap<i64, Person>,
    out: &mut Products,
) {
    for t in trips {
        if people.get(&t.subscriber).is_none_or(|p| p.machine) {
            continue;
        }
        let key = OdKey {
            origin: t.origin,
            destination: t.destination,
            when: clock::local_hour(calendar, t.start_ms),
            mode: t.mode.clone(),
        };
        *out.od.entry(key).or_insert(0) += t.weight;
    }
}

/// The subscribers of a dataset: age band, sex, and whether a machine.
pub fn read_people(reader: &DatasetReader) -> Result<BTreeMap<i64, Person>, DatasetError> {
    let path = reader.dir().join("subscribers");
    let mut out = BTreeMap::new();
    for b in reader.read("subscribers", subscribers_schema())? {
        let id = column_i64(&b, "subscriber_id", &path)?;
        let age = column_i64(&b, "age", &path)?;
        let sex = column_str(&b, "sex", &path)?;
        let device = column_str(&b, "device", &path)?;
        for i in 0..b.num_rows() {
            out.insert(
                id[i],
                Person {
                    band: age_band(age[i]),
                    sex: SEXES.iter().position(|s| *s == sex[i]).unwrap_or(2) as u8,
                    machine: device[i] == "iot",
                },
            );
        }
    }
    Ok(out)
}

/// A dataset opened for products: the reader, and the run's calendar for
/// local days and hours.
pub struct Source {
    pub reader: DatasetReader,
    pub calendar: Calendar,
}

impl Source {
    pub fn open(dir: &Path) -> Result<Source, DatasetError> {
        let reader = DatasetReader::open(dir)?;
        let calendar = reader.calendar()?;
        Ok(Source { reader, calendar })
    }

    /// The partitions of `table` with the UTC instant each local day ends.
    pub fn days(&self, table: &str) -> Result<Vec<(String, i64)>, DatasetError> {
        let mut out = Vec::new();
        for date in self.reader.dates(table) {
            let day = clock::day_of(&date).ok_or_else(|| {
                err(
                    &self.reader.dir().join(table),
                    format!("partition date={date} is not a date"),
                )
            })?;
            out.push((date, clock::midnight_utc_ms(&self.calendar, day + 1)));
        }
        Ok(out)
    }
}

/// The zone of a point of the truth: `outside` when it lies beyond the
/// map's edge, whatever the zoning, since the products describe the region
/// the operator's network covers.
pub fn zone_within(zoning: &Zoning, beyond_the_map: bool, lon: f64, lat: f64) -> ZoneId {
    if beyond_the_map {
        ZoneId::OUTSIDE
    } else {
        zoning.zone_of(lon, lat)
    }
}

/// The zone of a subscriber's work or school anchor, from `subscribers`'
/// `anchor_place_id`, `anchor_lon`, `anchor_lat`: none without an anchor,
/// `outside` for an anchor beyond the map's edge (a position without a
/// place id).
pub fn anchor_zone(
    zoning: &Zoning,
    place: Option<i64>,
    lon: Option<f64>,
    lat: Option<f64>,
) -> Option<ZoneId> {
    lon.zip(lat)
        .map(|(lon, lat)| zone_within(zoning, place.is_none(), lon, lat))
}

/// The truth's stays of one date partition, zoned: a stay beyond the map's
/// edge is in `outside` (see [`zone_within`]).
pub fn truth_zone_stays(
    reader: &DatasetReader,
    date: &str,
    zoning: &Zoning,
) -> Result<Vec<ZoneStay>, DatasetError> {
    let path = reader.dir().join("truth/stays");
    let mut stays = Vec::new();
    for b in reader.read_date("truth/stays", date, stays_schema())? {
        let sub = column_i64(&b, "subscriber_id", &path)?;
        let start = column_ms(&b, "start", &path)?;
        let end = column_ms(&b, "end", &path)?;
        let lon = column_f64(&b, "lon", &path)?;
        let lat = column_f64(&b, "lat", &path)?;
        let beyond = column_bool(&b, "out_of_area", &path)?;
        for i in 0..b.num_rows() {
            stays.push(ZoneStay {
                subscriber: sub[i],
                start_ms: start[i],
                end_ms: end[i],
                zone: zone_within(zoning, beyond[i], lon[i], lat[i]),
                weight: 1,
            });
        }
    }
    Ok(stays)
}

/// The truth's trips of one date partition, zoned at both ends, with
/// their mode: an end beyond the map's edge is in `outside`.
pub fn truth_zone_trips(
    reader: &DatasetReader,
    date: &str,
    zoning: &Zoning,
) -> Result<Vec<ZoneTrip>, DatasetError> {
    let path = reader.dir().join("truth/trips");
    let mut trips = Vec::new();
    for b in reader.read_date("truth/trips", date, trips_schema())? {
        let sub = column_i64(&b, "subscriber_id", &path)?;
        let start = column_ms(&b, "start", &path)?;
        let mode = column_str(&b, "mode", &path)?;
        let (olon, olat) = (
            column_f64(&b, "origin_lon", &path)?,
            column_f64(&b, "origin_lat", &path)?,
        );
        let (dlon, dlat) = (
            column_f64(&b, "destination_lon", &path)?,
            column_f64(&b, "destination_lat", &path)?,
        );
        let (obeyond, dbeyond) = (
            column_bool(&b, "origin_out_of_area", &path)?,
            column_bool(&b, "destination_out_of_area", &path)?,
        );
        for (i, mode) in mode.into_iter().enumerate() {
            trips.push(ZoneTrip {
                subscriber: sub[i],
                start_ms: start[i],
                origin: zone_within(zoning, obeyond[i], olon[i], olat[i]),
                destination: zone_within(zoning, dbeyond[i], dlon[i], dlat[i]),
                mode: Some(mode),
                weight: 1,
            });
        }
    }
    Ok(trips)
}

/// Every subscriber's home and work zones, from `subscribers`: the places
/// the population was drawn with (see [`anchor_zone`] for a work place
/// beyond the map's edge).
pub fn truth_home_work(
    reader: &DatasetReader,
    zoning: &Zoning,
) -> Result<BTreeMap<i64, HomeWork>, DatasetError> {
    let path = reader.dir().join("subscribers");
    let mut out = BTreeMap::new();
    for b in reader.read("subscribers", subscribers_schema())? {
        let id = column_i64(&b, "subscriber_id", &path)?;
        let (hlon, hlat) = (
            column_f64(&b, "home_lon", &path)?,
            column_f64(&b, "home_lat", &path)?,
        );
        let anchor = column_opt_i64(&b, "anchor_place_id", &path)?;
        let (alon, alat) = (
            column_opt_f64(&b, "anchor_lon", &path)?,
            column_opt_f64(&b, "anchor_lat", &path)?,
        );
        for i in 0..b.num_rows() {
            out.insert(
                id[i],
                HomeWork {
                    home: Some(zoning.zone_of(hlon[i], hlat[i])),
                    work: anchor_zone(zoning, anchor[i], alon[i], alat[i]),
                },
            );
        }
    }
    Ok(out)
}

/// The truth products of a dataset on `zoning`.
pub fn truth(
    source: &Source,
    zoning: &Zoning,
    options: &ProductOptions,
) -> Result<Products, DatasetError> {
    let reader = &source.reader;
    require_truth(reader)?;
    let people = read_people(reader)?;
    let mut out = Products {
        od_has_mode: true,
        ..Products::default()
    };
    let mut stays_agg = StayAggregator::new(&source.calendar, options);
    let days = source.days("truth/stays")?;
    let n = days.len();
    for (k, (date, ends_ms)) in days.into_iter().enumerate() {
        let mut stays = truth_zone_stays(reader, &date, zoning)?;
        let ends = if k + 1 == n { i64::MAX } else { ends_ms };
        stays_agg.add(&mut stays, ends, &people, &mut out);
    }
    stays_agg.finish(&mut out);
    for (date, _) in source.days("truth/trips")? {
        let trips = truth_zone_trips(reader, &date, zoning)?;
        add_trips(&trips, &source.calendar, &people, &mut out);
    }
    // Home and work: the places the population was drawn with.
    for (id, home_work) in truth_home_work(reader, zoning)? {
        if people.get(&id).is_some_and(|p| !p.machine) {
            out.home_work.insert(id, home_work);
        }
    }
    Ok(out)
}

/// Why products could not be made: bad input (the dataset, the zoning) or
/// a failure to write.
#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Zones(#[from] crate::zones::ZoneError),
    #[error(transparent)]
    Write(#[from] tables::WriteError),
}

/// Where products come from and go.
pub struct Request<'a> {
    pub dataset: &'a Path,
    pub zones: &'a str,
    pub zone_id: Option<&'a str>,
    pub options: ProductOptions,
    pub format: tables::ProductFormat,
    pub output: &'a Path,
    pub overwrite: bool,
}

/// Opens the dataset and the zoning of a request.
pub fn open(request: &Request) -> Result<(Source, Zoning), ProductsError> {
    let source = Source::open(request.dataset)?;
    let zoning = crate::zones::for_dataset(request.zones, request.zone_id, &source.reader)?;
    Ok((source, zoning))
}

/// `mobsynth products`: the truth products of a dataset, written to a
/// directory. Returns each product's rows.
pub fn write_truth(request: &Request) -> Result<Vec<(String, usize)>, ProductsError> {
    let (source, zoning) = open(request)?;
    require_truth(&source.reader)?;
    tables::prepare_dir(request.output, request.overwrite)?;
    let products = truth(&source, &zoning, &request.options)?;
    Ok(tables::write_all(
        request.output,
        &products,
        &zoning,
        &request.options,
        request.format,
        "truth",
        source.reader.manifest(),
    )?)
}

/// Refuses a dataset written without its truth.
fn require_truth(reader: &DatasetReader) -> Result<(), DatasetError> {
    for table in ["truth/stays", "truth/trips"] {
        if !reader.has_table(table) {
            return Err(err(
                &reader.dir().join(table),
                "missing: the truth products need a dataset written with its truth (without --no-truth)",
            ));
        }
    }
    Ok(())
}
