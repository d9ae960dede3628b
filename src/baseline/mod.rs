//! A reference pipeline: the zone products computed from the observable
//! log alone (`events`, `cells`, `subscribers`), the way the practice of
//! call-detail-record analysis does. It shows what a pipeline looks like,
//! and it is a floor every real pipeline should beat.
//!
//! Methods, each as its literature describes it:
//!
//! - **Where an event happened**: at the site of its serving cell. A site
//!   counts in the zone that holds its position (Isaacman et al. 2011,
//!   "Identifying important places in people's lives from cellular network
//!   data"), or, in the second variant ([`SiteZones::Coverage`]), it is
//!   split over the zones its predicted coverage area overlaps, each
//!   zone's count getting the share of the footprint it holds
//!   ([`footprint`]); counts are then fractional.
//! - **Stays**: `validate`'s detection from events
//!   ([`crate::validate::event_log::stays_from_events`]): runs of events at
//!   one site observed for at least 10 minutes, ping-pong detours under an
//!   hour dropped, a stay lasting until the next one begins (after Jiang et
//!   al. 2013 and Chen et al. 2019).
//! - **Trips** (`od`): from each detected stay to the next, leaving when the
//!   first ends; modes are unknown, so `od` has no `mode` column.
//! - **Home**: the site with most events between 19:00 and 07:00 local time
//!   (Vanhoof et al. 2018, "Assessing the quality of home detection from
//!   mobile phone data for official statistics"; Ahas et al. 2010).
//! - **Work or school**: the site other than home with most events on
//!   working days (weekdays that are not the scenario's holidays) between
//!   09:00 and 17:00 local time, among the sites seen then
//!   on at least `work_min_days` distinct days (Ahas et al. 2010, "Using
//!   mobile positioning data to model locations meaningful to users of
//!   mobile phones"); none when no site qualifies.
//!
//! IoT/M2M devices are left out, as the operator knows them by their
//! device type. Events are read a date partition at a time; stays of a day
//! are detected with the events of the day before and after in view, so
//! memory holds three partitions' (subscriber, time, site) triples.

pub mod footprint;

use std::collections::{BTreeMap, HashMap, VecDeque};

use arrow::record_batch::RecordBatch;

use crate::calendar::Calendar;
use crate::map::Projection;
use crate::products::clock;
use crate::products::{
    Person, ProductOptions, Products, Source, StayAggregator, ZoneStay, ZoneTrip, add_trips,
    read_people,
};
use crate::reader::{DatasetError, column_f64, column_i64, column_ms, err};
use crate::sink::network_tables::{cells_schema, events_schema};
use crate::validate::event_log::stays_from_events;
use crate::validate::{EventRecord, EventType};
use crate::zones::{ZoneId, Zoning};

/// Settings of the reference pipeline.
#[derive(Clone, Debug)]
pub struct BaselineOptions {
    pub products: ProductOptions,
    /// Distinct weekdays a site must be seen in working hours to be a work
    /// place.
    pub work_min_days: u32,
    /// How a site's events are given to zones.
    pub site_zones: SiteZones,
}

impl Default for BaselineOptions {
    fn default() -> Self {
        BaselineOptions {
            products: ProductOptions::default(),
            work_min_days: 2,
            site_zones: SiteZones::Position,
        }
    }
}

/// How the reference pipeline gives a cell site's events to zones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SiteZones {
    /// Wholly to the zone holding the site's position.
    #[default]
    Position,
    /// Split over the zones of the site's predicted coverage area, by the
    /// share of it each holds.
    Coverage,
}

/// The unit of a share of a site in [`SiteZones::Coverage`]: millionths.
const COVERAGE_UNIT: i64 = 1_000_000;

/// Local hours of the night, for home: from 19:00 to 07:00.
fn is_night(hour: u8) -> bool {
    !(7..19).contains(&hour)
}

/// Local working hours, for work: 09:00 to 17:00 (on working days).
fn is_work_time(hour: u8) -> bool {
    (9..17).contains(&hour)
}

/// One event, as the pipeline keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    /// Subscriber ids fit 32 bits; three days of events at 100,000
    /// subscribers are held, so a row is kept to 16 bytes.
    subscriber: u32,
    time_ms: i64,
    site: u32,
}

/// A site: its position projected, and its zones with their shares (one
/// zone with the whole unit when sites are not split).
struct Site {
    x: f64,
    y: f64,
    zones: Vec<(ZoneId, i64)>,
}

#[derive(Default)]
struct SiteCount {
    night: u32,
    work: u32,
    work_days: u32,
    last_work_day: i32,
}

/// The products from the events of a dataset, on `zoning`.
pub fn baseline(
    source: &Source,
    zoning: &Zoning,
    options: &BaselineOptions,
) -> Result<Products, DatasetError> {
    let reader = &source.reader;
    let dir = reader.dir();
    let people = read_people(reader)?;

    // Sites, densely numbered by site id; the cells point at them.
    let path = dir.join("cells");
    let cells = reader.read("cells", cells_schema())?;
    let centre = crate::zones::dataset_centre(reader)?;
    let projection = Projection::new(centre.0, centre.1);
    let mut site_index: BTreeMap<i64, u32> = BTreeMap::new();
    let mut sites: Vec<Site> = Vec::new();
    let mut cell_site: HashMap<i64, u32> = HashMap::new();
    for b in &cells {
        let (id, site) = (
            column_i64(b, "cell_id", &path)?,
            column_i64(b, "site_id", &path)?,
        );
        let (lon, lat) = (column_f64(b, "lon", &path)?, column_f64(b, "lat", &path)?);
        for i in 0..b.num_rows() {
            let next = sites.len() as u32;
            let s = *site_index.entry(site[i]).or_insert_with(|| {
                let p = projection.to_xy(lon[i], lat[i]);
                sites.push(Site {
                    x: p.x,
                    y: p.y,
                    zones: vec![(zoning.zone_of(lon[i], lat[i]), 1)],
                });
                next
            });
            cell_site.insert(id[i], s);
        }
    }
    let unit = match options.site_zones {
        SiteZones::Position => 1,
        SiteZones::Coverage => {
            let scenario = reader.scenario()?;
            let mut model = scenario.radio.antenna_model(scenario.seed);
            // A prediction knows the mean level, not the shadowing at a spot.
            model.shadowing_sigma_db = 0.0;
            let shares =
                footprint::site_zone_shares(reader, &projection, zoning, &model, COVERAGE_UNIT)?;
            for (id, &i) in &site_index {
                if let Some(z) = shares.get(id) {
                    sites[i as usize].zones = z.clone();
                }
            }
            COVERAGE_UNIT
        }
    };
    // Detected stays carry a site's position; this finds the site again.
    let site_at: HashMap<(u64, u64), u32> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.x.to_bits(), s.y.to_bits()), i as u32))
        .collect();

    let mut out = Products {
        weight_unit: unit,
        ..Products::default()
    };
    let mut aggregator = StayAggregator::new(&source.calendar, &options.products);
    let mut counts: HashMap<(i64, u32), SiteCount> = HashMap::new();
    let days = source.days("events")?;
    let mut window: VecDeque<(i32, i64, Vec<Seen>)> = VecDeque::new();
    let path = dir.join("events");
    let mut next = 0;
    // Day `k` is worked on once day `k + 1` is read (or there is none).
    for k in 0..days.len() {
        while next < days.len() && next <= k + 1 {
            let (date, ends_ms) = &days[next];
            let day = clock::day_of(date).unwrap_or_default();
            let mut seen = Vec::new();
            reader.for_each_batch_of_date(
                "events",
                date,
                events_schema(),
                &["subscriber_id", "timestamp", "cell_id"],
                &mut |b: RecordBatch| {
                    let sub = column_i64(&b, "subscriber_id", &path)?;
                    let t = column_ms(&b, "timestamp", &path)?;
                    let cell = column_i64(&b, "cell_id", &path)?;
                    for i in 0..b.num_rows() {
                        if people.get(&sub[i]).is_none_or(|p| p.machine) {
                            continue;
                        }
                        let site = *cell_site.get(&cell[i]).ok_or_else(|| {
                            err(&path, format!("cell {} is not in `cells`", cell[i]))
                        })?;
                        let subscriber = u32::try_from(sub[i]).map_err(|_| {
                            err(
                                &path,
                                format!("subscriber_id {} is not a 32-bit id", sub[i]),
                            )
                        })?;
                        seen.push(Seen {
                            subscriber,
                            time_ms: t[i],
                            site,
                        });
                    }
                    Ok(())
                },
            )?;
            seen.sort_unstable();
            // Room left by the growth of the vector would stay for three days.
            seen.shrink_to_fit();
            count_sites(&seen, &source.calendar, &mut counts);
            window.push_back((day, *ends_ms, seen));
            next += 1;
        }
        // The window holds days k-1 (if any), k and k+1 (if any).
        let centre_at = window.len() - if next > k + 1 { 2 } else { 1 };
        let (day, ends_ms) = (window[centre_at].0, window[centre_at].1);
        let begins_ms = clock::midnight_utc_ms(&source.calendar, day);
        let (mut stays, trips) =
            detect_day(&window, begins_ms, ends_ms, &sites, &site_at, &people, unit);
        let last = k + 1 == days.len();
        aggregator.add(
            &mut stays,
            if last { i64::MAX } else { ends_ms },
            &people,
            &mut out,
        );
        add_trips(&trips, &source.calendar, &people, &mut out);
        if centre_at == 1 {
            window.pop_front();
        }
    }
    aggregator.finish(&mut out);
    out.home_work = if unit == 1 {
        home_and_work(&counts, &sites, &people, options.work_min_days)
    } else {
        home_and_work_by_zone(&counts, &sites, &people, options.work_min_days)
    };
    Ok(out)
}

/// Counts each subscriber's events per site at night and in working hours.
fn count_sites(seen: &[Seen], calendar: &Calendar, counts: &mut HashMap<(i64, u32), SiteCount>) {
    for e in seen {
        let h = clock::local_hour(calendar, e.time_ms);
        let night = is_night(h.hour);
        let work = clock::is_working_day(calendar, h.day) && is_work_time(h.hour);
        if !night && !work {
            continue;
        }
        let c = counts.entry((i64::from(e.subscriber), e.site)).or_default();
        if night {
            c.night += 1;
        }
        if work {
            c.work += 1;
            if c.work_days == 0 || c.last_work_day != h.day {
                c.work_days += 1;
                c.last_work_day = h.day;
            }
        }
    }
}

/// The stays that begin in `[begins_ms, ends_ms)` and the trips into them,
/// detected from every subscriber's events in the window. A stay at a site
/// split over zones becomes one `ZoneStay` per zone with its share; a trip,
/// one `ZoneTrip` per pair of zones with the product of their shares.
#[allow(clippy::too_many_arguments)]
fn detect_day(
    window: &VecDeque<(i32, i64, Vec<Seen>)>,
    begins_ms: i64,
    ends_ms: i64,
    sites: &[Site],
    site_at: &HashMap<(u64, u64), u32>,
    people: &BTreeMap<i64, Person>,
    unit: i64,
) -> (Vec<ZoneStay>, Vec<ZoneTrip>) {
    let nowhere = [(ZoneId::OUTSIDE, unit)];
    let mut stays = Vec::new();
    let mut trips = Vec::new();
    let mut cursors = vec![0usize; window.len()];
    let mut events: Vec<EventRecord> = Vec::new();
    loop {
        // The next subscriber in id order across the window's days.
        let sub = window
            .iter()
            .zip(&cursors)
            .filter_map(|((_, _, seen), &c)| seen.get(c).map(|e| e.subscriber))
            .min();
        let Some(sub) = sub else { break };
        let id = i64::from(sub);
        events.clear();
        for ((_, _, seen), c) in window.iter().zip(cursors.iter_mut()) {
            while let Some(e) = seen.get(*c).filter(|e| e.subscriber == sub) {
                let s = &sites[e.site as usize];
                events.push(EventRecord {
                    subscriber: u64::from(sub),
                    time_s: e.time_ms.div_euclid(1000),
                    kind: EventType::TauPeriodic,
                    cell: u64::from(e.site),
                    cell_x_m: s.x,
                    cell_y_m: s.y,
                });
                *c += 1;
            }
        }
        if people.get(&id).is_none_or(|p| p.machine) {
            continue;
        }
        let detected = stays_from_events(&[(u64::from(sub), std::mem::take(&mut events))]);
        let visits = detected
            .people
            .into_iter()
            .next()
            .map(|p| p.1)
            .unwrap_or_default();
        let zones = |x: f64, y: f64| {
            site_at
                .get(&(x.to_bits(), y.to_bits()))
                .map_or(&nowhere[..], |&s| &sites[s as usize].zones[..])
        };
        for (i, v) in visits.iter().enumerate() {
            let start_ms = v.start_s * 1000;
            if start_ms < begins_ms || start_ms >= ends_ms {
                continue;
            }
            let here = zones(v.x_m, v.y_m);
            for &(zone, weight) in here {
                stays.push(ZoneStay {
                    subscriber: id,
                    start_ms,
                    end_ms: v.end_s * 1000,
                    zone,
                    weight,
                });
            }
            if let Some(prev) = i.checked_sub(1).map(|j| &visits[j]) {
                for &(origin, from) in zones(prev.x_m, prev.y_m) {
                    for &(destination, to) in here {
                        trips.push(ZoneTrip {
                            subscriber: id,
                            start_ms: prev.end_s * 1000,
                            origin,
                            destination,
                            mode: None,
                            weight: from * to / unit,
                        });
                    }
                }
            }
        }
    }
    (stays, trips)
}

/// Home: the site with most night events; work: the other site with most
/// working-hour events seen on enough days.
fn home_and_work(
    counts: &HashMap<(i64, u32), SiteCount>,
    sites: &[Site],
    people: &BTreeMap<i64, Person>,
    work_min_days: u32,
) -> BTreeMap<i64, crate::products::HomeWork> {
    let mut by_sub: BTreeMap<i64, Vec<(u32, &SiteCount)>> = BTreeMap::new();
    for (&(sub, site), c) in counts {
        by_sub.entry(sub).or_default().push((site, c));
    }
    let mut out = BTreeMap::new();
    for (&sub, p) in people {
        if p.machine {
            continue;
        }
        let list = by_sub.get_mut(&sub);
        let (home, work) = match list {
            None => (None, None),
            Some(list) => {
                // Site order first, so that ties go to the lowest site.
                list.sort_unstable_by_key(|(s, _)| *s);
                let home = list
                    .iter()
                    .filter(|(_, c)| c.night > 0)
                    .max_by(|a, b| a.1.night.cmp(&b.1.night).then(b.0.cmp(&a.0)))
                    .map(|(s, _)| *s);
                let work = list
                    .iter()
                    .filter(|(s, c)| Some(*s) != home && c.work > 0 && c.work_days >= work_min_days)
                    .max_by(|a, b| a.1.work.cmp(&b.1.work).then(b.0.cmp(&a.0)))
                    .map(|(s, _)| *s);
                (home, work)
            }
        };
        out.insert(
            sub,
            crate::products::HomeWork {
                home: home.map(|s| sites[s as usize].zones[0].0),
                work: work.map(|s| sites[s as usize].zones[0].0),
            },
        );
    }
    out
}

/// Home and work with sites split over zones: home is the zone with most
/// night events, each site's events spread over its zones by share; work
/// the other zone with most working-hour events, over the sites seen on
/// enough days. A person is then still in one zone, the likeliest.
fn home_and_work_by_zone(
    counts: &HashMap<(i64, u32), SiteCount>,
    sites: &[Site],
    people: &BTreeMap<i64, Person>,
    work_min_days: u32,
) -> BTreeMap<i64, crate::products::HomeWork> {
    // (night, work) events by subscriber and zone, in shares.
    let mut by_sub: BTreeMap<i64, BTreeMap<ZoneId, (i64, i64)>> = BTreeMap::new();
    for (&(sub, site), c) in counts {
        let zones = by_sub.entry(sub).or_default();
        for &(zone, share) in &sites[site as usize].zones {
            let z = zones.entry(zone).or_default();
            z.0 += i64::from(c.night) * share;
            if c.work_days >= work_min_days {
                z.1 += i64::from(c.work) * share;
            }
        }
    }
    let mut out = BTreeMap::new();
    for (&sub, p) in people {
        if p.machine {
            continue;
        }
        let zones = by_sub.get(&sub);
        // Ties go to the lowest zone: scan in zone order, keep strictly more.
        let best = |pick: &dyn Fn(&(i64, i64)) -> i64, except: Option<ZoneId>| {
            let mut best: Option<(ZoneId, i64)> = None;
            for (&z, c) in zones.into_iter().flatten() {
                let n = pick(c);
                if n > 0 && Some(z) != except && best.is_none_or(|b| n > b.1) {
                    best = Some((z, n));
                }
            }
            best.map(|b| b.0)
        };
        let home = best(&|c| c.0, None);
        let work = best(&|c| c.1, home);
        out.insert(sub, crate::products::HomeWork { home, work });
    }
    out
}

/// `mobsynth baseline`: the reference pipeline's products, written to a
/// directory in the same schemas as the truth's. Returns each product's
/// rows.
pub fn write_baseline(
    request: &crate::products::Request,
    work_min_days: u32,
    site_zones: SiteZones,
) -> Result<Vec<(String, usize)>, crate::products::ProductsError> {
    let (source, zoning) = crate::products::open(request)?;
    crate::products::tables::prepare_dir(request.output, request.overwrite)?;
    let options = BaselineOptions {
        products: request.options.clone(),
        work_min_days,
        site_zones,
    };
    let products = baseline(&source, &zoning, &options)?;
    Ok(crate::products::tables::write_all(
        request.output,
        &products,
        &zoning,
        &request.options,
        request.format,
        "baseline",
        source.reader.manifest(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn night_and_working_hours() {
        assert!(is_night(19) && is_night(23) && is_night(0) && is_night(6));
        assert!(!is_night(7) && !is_night(18));
        assert!(is_work_time(9) && is_work_time(16));
        assert!(!is_work_time(17) && !is_work_time(8));
    }

    #[test]
    fn home_is_the_most_frequent_night_site_and_work_needs_enough_days() {
        let sites: Vec<Site> = (0..3)
            .map(|i| Site {
                x: i as f64,
                y: 0.0,
                zones: vec![(ZoneId(10 + i), 1)],
            })
            .collect();
        let mut counts = HashMap::new();
        let c = |night, work, work_days| SiteCount {
            night,
            work,
            work_days,
            last_work_day: 0,
        };
        counts.insert((1, 0), c(5, 0, 0));
        counts.insert((1, 1), c(2, 9, 1));
        counts.insert((1, 2), c(0, 4, 3));
        let person = Person {
            band: 0,
            sex: 0,
            machine: false,
        };
        let people = BTreeMap::from([(1, person), (2, person)]);
        let hw = home_and_work(&counts, &sites, &people, 2);
        // Site 1 has more working-hour events but on one day only.
        assert_eq!(hw[&1].home, Some(ZoneId(10)));
        assert_eq!(hw[&1].work, Some(ZoneId(12)));
        assert_eq!(hw[&2].home, None);
        let hw = home_and_work(&counts, &sites, &people, 1);
        assert_eq!(hw[&1].work, Some(ZoneId(11)));
    }
}
