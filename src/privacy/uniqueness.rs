//! Attack 3: how unique people are in the truth by the quasi-identifiers
//! an aggregate of home/work flows carries: (home zone, work zone), and
//! (home zone, work zone, age band, sex).
//!
//! Golle & Partridge (2009, *On the anonymity of home/work location
//! pairs*) measured the share of the US working population unique by its
//! (home, work) census units; Zang & Bolot (2011, *Anonymization of
//! location data does not work*) the same for the top-N cells of call
//! records. Here the anonymity set of a person is everyone sharing the key;
//! only people with a work or school place take part (as in `commute`).

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use serde::Serialize;

use crate::products::{AGE_BANDS, SEXES};
use crate::reader::{DatasetError, DatasetReader};
use crate::zones::{ZoneId, Zoning};

/// Anonymity-set sizes, bucketed: `[from, to]` inclusive, the last open.
pub const SET_SIZES: [(usize, usize); 6] =
    [(1, 1), (2, 2), (3, 5), (6, 10), (11, 14), (15, usize::MAX)];

/// Uniqueness by one key.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Uniqueness {
    /// `home,work` or `home,work,age_band,sex`.
    pub key: String,
    pub zones: String,
    /// People with a key (with a work or school place).
    pub people: usize,
    /// Distinct keys.
    pub sets: usize,
    /// People alone in their set.
    pub unique: usize,
    pub share_unique: f64,
    /// People in a set smaller than k.
    pub below_k: usize,
    pub share_below_k: f64,
    /// People by the size of their set, in [`SET_SIZES`] buckets, labelled.
    pub people_by_set_size: BTreeMap<String, usize>,
    pub median_set_size: usize,
}

fn label(b: (usize, usize)) -> String {
    if b.1 == usize::MAX {
        format!("{}+", b.0)
    } else if b.0 == b.1 {
        b.0.to_string()
    } else {
        format!("{}-{}", b.0, b.1)
    }
}

/// The anonymity sets of `keys` (one per person).
pub fn anonymity_sets<K: Hash + Eq>(key: &str, zones: &str, keys: &[K], k: i64) -> Uniqueness {
    let mut size: HashMap<&K, usize> = HashMap::new();
    for key in keys {
        *size.entry(key).or_insert(0) += 1;
    }
    let mut per_person: Vec<usize> = keys.iter().map(|key| size[key]).collect();
    per_person.sort_unstable();
    let mut by_bucket: BTreeMap<String, usize> = BTreeMap::new();
    // Buckets in order of size: keys sort as text, so number them.
    for (i, b) in SET_SIZES.iter().enumerate() {
        let n = per_person.iter().filter(|&&s| s >= b.0 && s <= b.1).count();
        by_bucket.insert(format!("{}:{}", i, label(*b)), n);
    }
    let people = keys.len();
    let unique = per_person.iter().filter(|&&s| s == 1).count();
    let below_k = per_person.iter().filter(|&&s| (s as i64) < k).count();
    let share = |n: usize| {
        if people == 0 {
            f64::NAN
        } else {
            n as f64 / people as f64
        }
    };
    Uniqueness {
        key: key.to_string(),
        zones: zones.to_string(),
        people,
        sets: size.len(),
        unique,
        share_unique: share(unique),
        below_k,
        share_below_k: share(below_k),
        people_by_set_size: by_bucket,
        median_set_size: per_person.get(people / 2).copied().unwrap_or(0),
    }
}

/// A person as the uniqueness attack sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HomeWorkPerson {
    pub home: ZoneId,
    pub work: ZoneId,
    pub band: u8,
    pub sex: u8,
}

/// Both measures over people with a work or school place.
pub fn of_people(people: &[HomeWorkPerson], zones: &str, k: i64) -> Vec<Uniqueness> {
    let pairs: Vec<(ZoneId, ZoneId)> = people.iter().map(|p| (p.home, p.work)).collect();
    vec![
        anonymity_sets("home,work", zones, &pairs, k),
        anonymity_sets("home,work,age_band,sex", zones, people, k),
    ]
}

/// Reads `subscribers` (no machines) and measures both keys on `zoning`.
pub fn of_dataset(
    reader: &DatasetReader,
    zoning: &Zoning,
    k: i64,
) -> Result<Vec<Uniqueness>, DatasetError> {
    let people = crate::products::read_people(reader)?;
    let mut out = Vec::new();
    for (id, hw) in crate::products::truth_home_work(reader, zoning)? {
        let Some(p) = people.get(&id).filter(|p| !p.machine) else {
            continue;
        };
        let (Some(home), Some(work)) = (hw.home, hw.work) else {
            continue;
        };
        out.push(HomeWorkPerson {
            home,
            work,
            band: p.band,
            sex: p.sex,
        });
    }
    debug_assert!(AGE_BANDS.len() < 256 && SEXES.len() < 256);
    Ok(of_people(&out, zoning.spec(), k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_counted_sets() {
        let z = |i| ZoneId(i);
        let p = |h, w, band, sex| HomeWorkPerson {
            home: z(h),
            work: z(w),
            band,
            sex,
        };
        // (1,2) ×3 of which two alike by age and sex; (1,3) ×1; (4,2) ×2 alike.
        let people = [
            p(1, 2, 1, 0),
            p(1, 2, 1, 0),
            p(1, 2, 3, 1),
            p(1, 3, 2, 0),
            p(4, 2, 5, 1),
            p(4, 2, 5, 1),
        ];
        let u = of_people(&people, "test", 3);
        assert_eq!(u[0].unique, 1);
        assert_eq!(u[0].sets, 3);
        assert_eq!(u[0].below_k, 3);
        assert_eq!(u[1].unique, 2);
        assert_eq!(u[1].sets, 4);
        assert_eq!(u[1].below_k, 6);
        assert_eq!(u[1].people_by_set_size["0:1"], 2);
        assert_eq!(u[1].people_by_set_size["1:2"], 4);
    }
}
