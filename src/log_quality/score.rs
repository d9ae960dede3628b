//! Scoring a cleaning step: the event ids a pipeline flagged as faulty,
//! against `truth/log_faults`.
//!
//! A flagged id counts as a true positive when the truth lists at least one
//! fault of that event (a duplicate's copies share the id, so flagging the
//! id of a duplicated event is a hit). Precision is over the distinct ids
//! flagged, recall over the distinct ids with a fault, and recall is also
//! given per fault (the share of ids with that fault that were flagged).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type};

use super::Fault;
use crate::reader::{DatasetError, DatasetReader, err};
use crate::sink::faults::log_faults_schema;

/// How a cleaning step did.
#[derive(Clone, Debug, PartialEq)]
pub struct CleaningScore {
    /// Distinct ids flagged.
    pub flagged: u64,
    /// Distinct ids with at least one fault in the truth.
    pub faulty: u64,
    /// Flagged ids that have a fault.
    pub true_positives: u64,
    /// Per fault: (ids with the fault, of them flagged).
    pub by_fault: BTreeMap<Fault, (u64, u64)>,
}

impl CleaningScore {
    /// Share of flagged ids that have a fault (1 when nothing is flagged).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.flagged)
    }

    /// Share of faulty ids flagged (1 when nothing is faulty).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.faulty)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Reads the flagged ids: one integer per line; blank lines, lines starting
/// with `#` and a first line that is not a number (a header) are skipped.
pub fn read_flagged(path: &Path) -> Result<HashSet<i64>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let mut ids = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim().split(',').next().unwrap_or("").trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match t.parse::<i64>() {
            Ok(id) => {
                ids.insert(id);
            }
            Err(_) if i == 0 => {}
            Err(_) => {
                return Err(err(
                    path,
                    format!(
                        "line {}: expected an event id (an integer), got {t:?}",
                        i + 1
                    ),
                ));
            }
        }
    }
    Ok(ids)
}

/// Scores `flagged` against the dataset's `truth/log_faults`.
pub fn score(
    dataset: &DatasetReader,
    flagged: &HashSet<i64>,
) -> Result<CleaningScore, DatasetError> {
    let table = "truth/log_faults";
    if !dataset.has_table(table) {
        return Err(err(
            &dataset.dir().join(table),
            "the dataset has no truth/log_faults: run a scenario with a [log_quality] section and the truth on",
        ));
    }
    let mut faults: HashMap<i64, Vec<Fault>> = HashMap::new();
    dataset.for_each_batch(table, log_faults_schema(), &mut |b| {
        let path = dataset.dir().join(table);
        let (Some(ids), Some(names)) = (b.column_by_name("event_id"), b.column_by_name("fault"))
        else {
            return Err(err(&path, "missing column event_id or fault"));
        };
        let ids = cast(ids, &DataType::Int64).map_err(|e| err(&path, e))?;
        let names = cast(names, &DataType::Utf8).map_err(|e| err(&path, e))?;
        let ids = ids.as_primitive::<Int64Type>();
        let names = names.as_string::<i32>();
        for i in 0..b.num_rows() {
            let name = names.value(i);
            let fault = Fault::from_name(name)
                .ok_or_else(|| err(&path, format!("unknown fault {name:?}")))?;
            if ids.is_valid(i) {
                faults.entry(ids.value(i)).or_default().push(fault);
            }
        }
        Ok(())
    })?;
    let mut by_fault: BTreeMap<Fault, (u64, u64)> = BTreeMap::new();
    for (id, fs) in &faults {
        let hit = flagged.contains(id);
        let mut seen = HashSet::new();
        for f in fs.iter().filter(|f| seen.insert(**f)) {
            let e = by_fault.entry(*f).or_default();
            e.0 += 1;
            e.1 += u64::from(hit);
        }
    }
    Ok(CleaningScore {
        flagged: flagged.len() as u64,
        faulty: faults.len() as u64,
        true_positives: flagged.iter().filter(|id| faults.contains_key(id)).count() as u64,
        by_fault,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_and_recall_follow_their_definitions() {
        let s = CleaningScore {
            flagged: 4,
            faulty: 6,
            true_positives: 3,
            by_fault: BTreeMap::new(),
        };
        assert_eq!(s.precision(), 0.75);
        assert_eq!(s.recall(), 0.5);
    }
}
