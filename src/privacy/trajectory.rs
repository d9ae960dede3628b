//! Attack 5: recovering individual trajectories from hourly presence counts
//! alone (zone × hour, no identifiers), after Xu et al. (WWW 2017,
//! *Trajectory recovery from ash: user privacy is not preserved in
//! aggregated mobility data*), and scoring them against the truth.
//!
//! The method is a documented simplification of the paper's: Xu et al.
//! solve a minimum-cost assignment (Hungarian algorithm) between the
//! people counted at consecutive time slots, with the distance as cost at
//! night and the estimated velocity by day, then join days by the
//! similarity of their trajectories. Here, hour by hour:
//!
//! 1. a zone keeps as many of the trajectories that ended in it the hour
//!    before as it still counts people (people tend to stay);
//! 2. the trajectories left over, and those that broke off earlier (their
//!    people were on a trip at a half hour, in no zone), fill the zones
//!    that count more people than they kept, nearest first: the
//!    transportation between zones is solved greedily by ascending distance
//!    between zone centroids, which is the minimum-cost assignment when
//!    moves are few and short (the common case hour to hour);
//! 3. among the trajectories that could go to a zone, those that visited it
//!    most often before go first (habit, the paper's day-to-day stage in
//!    one rule);
//! 4. counts no trajectory could fill start new trajectories.
//!
//! The score, as the paper's *recovery accuracy*: each recovered trajectory
//! is matched to the true person agreeing with it at the most hours; the
//! accuracy is the share of its hours at which they agree, pooled over a
//! sample of trajectories. A trajectory of at least a day of hours *singles
//! out* a person when that person, and no other, agrees with it at 80% of
//! its hours or more.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use super::PrivacyError;
use crate::products::{Products, Source};
use crate::reader::{column_f64, column_i64, column_ms};
use crate::sink::tables::stays_schema;
use crate::zones::{ZoneId, Zoning};

const HOUR_MS: i64 = 3_600_000;
/// Share of its hours a trajectory must get right to single out a person.
pub const SINGLE_OUT_ACCURACY: f64 = 0.8;
/// Hours a trajectory must span to single out a person.
pub const SINGLE_OUT_HOURS: usize = 24;

/// How well trajectories were recovered.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RecoveryScore {
    /// `truth` or the released presence file the counts came from.
    pub counts_from: String,
    pub hours: usize,
    /// Distinct people present at some half hour in the truth.
    pub people: usize,
    pub trajectories: usize,
    pub mean_hours: f64,
    /// Recovered trajectories scored (a deterministic stride sample).
    pub scored: usize,
    /// Pooled share of scored hours at which the best-matching true person
    /// is where the trajectory says.
    pub accuracy: f64,
    /// Share of scored trajectories right at every hour.
    pub share_exact: f64,
    /// Share of scored trajectories that single out a person.
    pub share_singling_out: f64,
    /// Distinct people singled out by the scored trajectories.
    pub people_singled_out: usize,
    /// The paper's figures, for comparison.
    pub published: &'static str,
}

/// One recovered trajectory: (hour index, zone index) in time order.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    pub points: Vec<(u32, u32)>,
    habit: HashMap<u32, u32>,
}

impl Chain {
    fn push(&mut self, hour: u32, zone: u32) {
        self.points.push((hour, zone));
        *self.habit.entry(zone).or_insert(0) += 1;
    }
    fn habit(&self, zone: u32) -> u32 {
        self.habit.get(&zone).copied().unwrap_or(0)
    }
}

/// Links counts (`counts[h]`: people by zone index at hour index `h`) into
/// trajectories; `xy` are the zones' positions in metres.
pub fn recover(counts: &[Vec<(u32, i64)>], xy: &[(f64, f64)]) -> Vec<Chain> {
    let mut chains: Vec<Chain> = Vec::new();
    // Chains whose last point is the hour before, by zone.
    let mut active: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    // Chains that broke off earlier, by their last zone.
    let mut dormant: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (h, here) in counts.iter().enumerate() {
        let h = h as u32;
        let mut next: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        let mut deficit: BTreeMap<u32, i64> = BTreeMap::new();
        let mut surplus: BTreeMap<(bool, u32), Vec<usize>> = BTreeMap::new();
        let counted: HashSet<u32> = here.iter().map(|c| c.0).collect();
        for &(z, n) in here {
            let mut stay = active.remove(&z).unwrap_or_default();
            let n = n.max(0) as usize;
            if stay.len() > n {
                // Those most at home here stay; the rest may move.
                stay.sort_by_key(|&c| (std::cmp::Reverse(chains[c].habit(z)), c));
                let rest = stay.split_off(n);
                surplus.insert((false, z), rest);
            } else if stay.len() < n {
                deficit.insert(z, (n - stay.len()) as i64);
            }
            for &c in &stay {
                chains[c].push(h, z);
            }
            if !stay.is_empty() {
                next.insert(z, stay);
            }
        }
        // Zones no longer counted: all their chains may move.
        for (z, list) in std::mem::take(&mut active) {
            debug_assert!(!counted.contains(&z));
            surplus.insert((false, z), list);
        }
        for (z, list) in std::mem::take(&mut dormant) {
            surplus.insert((true, z), list);
        }
        if !deficit.is_empty() && !surplus.is_empty() {
            let mut pairs: Vec<(f64, bool, u32, u32)> = Vec::new();
            for &(is_dormant, from) in surplus.keys() {
                for &to in deficit.keys() {
                    let (a, b) = (xy[from as usize], xy[to as usize]);
                    let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                    pairs.push((d, is_dormant, from, to));
                }
            }
            pairs.sort_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then(a.1.cmp(&b.1))
                    .then(a.2.cmp(&b.2))
                    .then(a.3.cmp(&b.3))
            });
            for (_, is_dormant, from, to) in pairs {
                let need = deficit.get(&to).copied().unwrap_or(0);
                if need == 0 {
                    continue;
                }
                let Some(group) = surplus.get_mut(&(is_dormant, from)) else {
                    continue;
                };
                if group.is_empty() {
                    continue;
                }
                let m = (need as usize).min(group.len());
                group.sort_by_key(|&c| (std::cmp::Reverse(chains[c].habit(to)), c));
                let moved: Vec<usize> = group.drain(..m).collect();
                for &c in &moved {
                    chains[c].push(h, to);
                }
                next.entry(to).or_default().extend(moved);
                deficit.insert(to, need - m as i64);
            }
        }
        for (z, need) in deficit {
            for _ in 0..need {
                let mut c = Chain::default();
                c.push(h, z);
                chains.push(c);
                next.entry(z).or_default().push(chains.len() - 1);
            }
        }
        for ((_, z), list) in surplus {
            if !list.is_empty() {
                dormant.entry(z).or_default().extend(list);
            }
        }
        active = next;
    }
    chains
}

/// Each person's zone index at each hour index's half hour (`u32::MAX` on a
/// trip or out of the period).
pub struct TruePositions {
    pub zone_at: Vec<Vec<u32>>,
}

/// Scores chains against the truth on a stride sample of `sample` chains.
pub fn score(
    chains: &[Chain],
    truth: &TruePositions,
    sample: usize,
) -> (usize, f64, f64, f64, usize) {
    if chains.is_empty() || sample == 0 {
        return (0, f64::NAN, f64::NAN, f64::NAN, 0);
    }
    let stride = chains.len().div_ceil(sample).max(1);
    let picked: Vec<&Chain> = chains.iter().step_by(stride).collect();
    // Candidates: the people at a chain's first, middle and last point.
    let mut wanted: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
    for c in &picked {
        for &i in &[0, c.points.len() / 2, c.points.len() - 1] {
            wanted.entry(c.points[i]).or_default();
        }
    }
    for (p, zones) in truth.zone_at.iter().enumerate() {
        for (h, &z) in zones.iter().enumerate() {
            if z != u32::MAX
                && let Some(list) = wanted.get_mut(&(h as u32, z))
            {
                list.push(p as u32);
            }
        }
    }
    let (mut agree, mut total, mut exact, mut single) = (0usize, 0usize, 0usize, 0usize);
    let mut singled: HashSet<u32> = HashSet::new();
    for c in &picked {
        let mut candidates: Vec<u32> = [0, c.points.len() / 2, c.points.len() - 1]
            .iter()
            .flat_map(|&i| wanted[&c.points[i]].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let (mut best, mut second, mut who) = (0usize, 0usize, u32::MAX);
        for &p in &candidates {
            let zones = &truth.zone_at[p as usize];
            let n = c
                .points
                .iter()
                .filter(|&&(h, z)| zones.get(h as usize) == Some(&z))
                .count();
            if n > best {
                second = best;
                best = n;
                who = p;
            } else if n > second {
                second = n;
            }
        }
        let len = c.points.len();
        agree += best;
        total += len;
        if best == len {
            exact += 1;
        }
        // Exactly one true person fits the trajectory: a stay-at-home
        // trajectory that fits every stay-at-home person of its zone
        // singles out no one.
        let fits = |n: usize| n as f64 >= SINGLE_OUT_ACCURACY * len as f64;
        if len >= SINGLE_OUT_HOURS && fits(best) && !fits(second) {
            single += 1;
            singled.insert(who);
        }
    }
    let n = picked.len() as f64;
    (
        picked.len(),
        agree as f64 / total as f64,
        exact as f64 / n,
        single as f64 / n,
        singled.len(),
    )
}

/// Runs the attack on the dataset: counts from `given` (a released
/// `presence` file) or the truth's `presence`, positions from
/// `truth/stays`.
pub fn audit(
    source: &Source,
    zoning: &Zoning,
    products: &Products,
    given: Option<&Path>,
    sample: usize,
) -> Result<RecoveryScore, PrivacyError> {
    let reader = &source.reader;
    let (first_s, last_s) = reader.calendar()?.span();
    let (first_ms, last_ms) = (first_s * 1000, last_s * 1000);
    let hours = ((last_ms - first_ms) / HOUR_MS).max(0) as usize;
    let mut zone_index: HashMap<ZoneId, u32> = HashMap::new();
    let mut zones: Vec<ZoneId> = Vec::new();
    let mut index_of = |z: ZoneId, zones: &mut Vec<ZoneId>| -> u32 {
        *zone_index.entry(z).or_insert_with(|| {
            zones.push(z);
            (zones.len() - 1) as u32
        })
    };
    // The counts.
    let mut counts: Vec<Vec<(u32, i64)>> = vec![Vec::new(); hours];
    let put = |hour_ms: i64, z: u32, n: i64, counts: &mut Vec<Vec<(u32, i64)>>| {
        let h = (hour_ms - first_ms).div_euclid(HOUR_MS);
        if n > 0 && h >= 0 && (h as usize) < hours {
            counts[h as usize].push((z, n));
        }
    };
    let counts_from = match given {
        Some(path) => {
            let release = super::read_release("presence", path, zoning)?;
            let mut rows: Vec<(&Vec<String>, &f64)> = release.rows.iter().collect();
            rows.sort_by(|a, b| a.0.cmp(b.0));
            for (key, n) in rows {
                let (Some(z), Ok(t)) =
                    (zoning.parse_key(&key[0]), key[1].parse::<jiff::Timestamp>())
                else {
                    return Err(crate::score::serr(
                        path,
                        format!("row ({}, {}): not a zone and a UTC hour", key[0], key[1]),
                    )
                    .into());
                };
                let zi = index_of(z, &mut zones);
                put(t.as_millisecond(), zi, n.round() as i64, &mut counts);
            }
            path.display().to_string()
        }
        None => {
            for (&(hour, z), cell) in &products.presence {
                let zi = index_of(z, &mut zones);
                put(hour, zi, cell.people, &mut counts);
            }
            "truth".to_string()
        }
    };
    for c in &mut counts {
        c.sort_unstable();
    }
    // Where everyone truly was at each half hour.
    let people = crate::products::read_people(reader)?;
    let mut person_index: HashMap<i64, usize> = HashMap::new();
    let mut zone_at: Vec<Vec<u32>> = Vec::new();
    let path = reader.dir().join("truth/stays");
    for (date, _) in source.days("truth/stays")? {
        for b in reader.read_date("truth/stays", &date, stays_schema())? {
            let sub = column_i64(&b, "subscriber_id", &path)?;
            let start = column_ms(&b, "start", &path)?;
            let end = column_ms(&b, "end", &path)?;
            let lon = column_f64(&b, "lon", &path)?;
            let lat = column_f64(&b, "lat", &path)?;
            for i in 0..b.num_rows() {
                if people.get(&sub[i]).is_none_or(|p| p.machine) {
                    continue;
                }
                let zi = index_of(zoning.zone_of(lon[i], lat[i]), &mut zones);
                let p = *person_index.entry(sub[i]).or_insert_with(|| {
                    zone_at.push(vec![u32::MAX; hours]);
                    zone_at.len() - 1
                });
                // Hours whose half hour the stay holds: start ≤ h + 30 min < end.
                let ceil_hours = |ms: i64| -(-(ms - HOUR_MS / 2 - first_ms)).div_euclid(HOUR_MS);
                let (from, to) = (ceil_hours(start[i]), ceil_hours(end[i]) - 1);
                for h in from.max(0)..=to.min(hours as i64 - 1) {
                    zone_at[p][h as usize] = zi;
                }
            }
        }
    }
    // Zone positions in metres, equirectangular around their mean.
    let centres: Vec<(f64, f64)> = zones
        .iter()
        .map(|&z| zoning.centroid(z).unwrap_or((f64::NAN, f64::NAN)))
        .collect();
    let known: Vec<&(f64, f64)> = centres.iter().filter(|c| c.1.is_finite()).collect();
    let lat0 = known.iter().map(|c| c.1).sum::<f64>() / known.len().max(1) as f64;
    let m = 6_371_008.8 * std::f64::consts::PI / 180.0;
    let xy: Vec<(f64, f64)> = centres
        .iter()
        .map(|&(lon, lat)| {
            if lat.is_finite() {
                (lon * lat0.to_radians().cos() * m, lat * m)
            } else {
                // `outside`: far from everything.
                (1e9, 1e9)
            }
        })
        .collect();
    let chains = recover(&counts, &xy);
    let truth = TruePositions { zone_at };
    let (scored, accuracy, exact, single, singled) = score(&chains, &truth, sample);
    let points: usize = chains.iter().map(|c| c.points.len()).sum();
    Ok(RecoveryScore {
        counts_from,
        hours,
        people: truth.zone_at.len(),
        trajectories: chains.len(),
        mean_hours: points as f64 / chains.len().max(1) as f64,
        scored,
        accuracy,
        share_exact: exact,
        share_singling_out: single,
        people_singled_out: singled,
        published: "Xu et al. 2017: 73-91% recovery accuracy on real app and operator data",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_people_crossing_far_apart_are_linked_by_distance() {
        // Zones 0 and 1 are near each other, 2 far. Person A: 0 → 1; person
        // B: 2 → 2. Counts alone must link them right.
        let xy = [(0.0, 0.0), (100.0, 0.0), (10_000.0, 0.0)];
        let counts = vec![vec![(0, 1), (2, 1)], vec![(1, 1), (2, 1)]];
        let chains = recover(&counts, &xy);
        assert_eq!(chains.len(), 2);
        let mut paths: Vec<Vec<(u32, u32)>> = chains.iter().map(|c| c.points.clone()).collect();
        paths.sort();
        assert_eq!(paths, vec![vec![(0, 0), (1, 1)], vec![(0, 2), (1, 2)]]);
        let truth = TruePositions {
            zone_at: vec![vec![0, 1], vec![2, 2]],
        };
        let (n, acc, exact, _, _) = score(&chains, &truth, 10);
        assert_eq!(n, 2);
        assert_eq!(acc, 1.0);
        assert_eq!(exact, 1.0);
    }
}
