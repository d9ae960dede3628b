//! The privacy audit (`mobsynth privacy`): attacks on an aggregate product
//! before it is released, with the dataset's truth as the oracle.
//!
//! This module owns the attacks and their numbers; `docs/PRIVACY.md`
//! defines each precisely enough to recompute it with SQL.
//!
//! 1. **Threshold violations**: released cells whose true number of distinct
//!    subscribers behind them is below k (FlowKit's redaction rule, k = 15).
//! 2. **Differencing**: cells a reader recovers by subtracting released
//!    breakdowns from a released total of the same product: age × sex
//!    cells from zone totals, an hour of `od` from its day (an `od`
//!    without `departure_hour`), a zone from the same product at a coarser
//!    zoning it nests in ([`nesting`], `NAME@ZONING=PATH`). Only counts
//!    that add up over what is subtracted are differenced.
//! 3. **Uniqueness** of (home zone, work zone) and (home, work, age band,
//!    sex) in the truth ([`uniqueness`]).
//! 4. **Unicity** of the raw log at p = 2..5 points, with the validator's
//!    measure ([`crate::validate::event_log::unicity_share_of_points`]).
//! 5. **Trajectory recovery** from hourly presence counts ([`trajectory`]).
//!
//! Released files are read with `score`'s reader and key parser, so a file
//! `score` accepts is a file the audit accepts, and the truth of each
//! released key comes from the same truth products `score` uses.

pub mod nesting;
pub mod report;
pub mod trajectory;
pub mod uniqueness;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use serde::Serialize;

use crate::products::{OdKey, Products, ProductsError, Source, tables};
use crate::reader::{DatasetError, column_i64, column_ms, column_str};
use crate::score::{KeyKind, SPECS, ScoreError, key_rows, read_table, serr};
use crate::sink::network_tables::events_schema;
use crate::zones::Zoning;

/// FlowKit's redaction threshold: its spatial aggregates drop counts of 15
/// or fewer (FlowKit documentation, "Privacy and redaction").
pub const DEFAULT_K: i64 = 15;

/// Subscribers sampled for the unicity curve and recovered trajectories
/// scored, unless told otherwise.
pub const DEFAULT_SAMPLE: usize = 2_000;

/// Products the audit takes.
pub const AUDITED: [&str; 4] = ["footfall", "presence", "od", "commute"];

/// Choices of an audit.
#[derive(Clone, Debug)]
pub struct PrivacyOptions {
    /// Cells with fewer true contributors than this are violations.
    pub k: i64,
    /// Drop every released row whose first value column is below k before
    /// auditing: the naive suppression an operator would apply.
    pub suppress: bool,
    /// Release, beside each `footfall` file with age band and sex, its zone
    /// totals (the sum over age band and sex, before suppression).
    pub add_totals: bool,
    /// Release, beside each hourly `od` file, its daily totals (the sum
    /// over departure hours, before suppression).
    pub add_daily: bool,
    /// Subscribers sampled for unicity, recovered trajectories scored.
    pub sample: usize,
    /// Whether to run the unicity curve (reads the whole event log).
    pub unicity: bool,
    /// Whether to run trajectory recovery from presence.
    pub trajectory: bool,
}

impl Default for PrivacyOptions {
    fn default() -> Self {
        PrivacyOptions {
            k: DEFAULT_K,
            suppress: false,
            add_totals: false,
            add_daily: false,
            sample: DEFAULT_SAMPLE,
            unicity: true,
            trajectory: true,
        }
    }
}

/// A released cell shown as an example: its key and counts.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CellExample {
    pub key: Vec<(String, String)>,
    pub released: f64,
    pub true_contributors: i64,
}

/// Threshold check of one released file.
#[derive(Clone, Debug, Serialize)]
pub struct ThresholdAudit {
    pub product: String,
    /// The file, or `PATH (zone totals)` for derived totals.
    pub source: String,
    pub value: String,
    pub rows: usize,
    /// Rows dropped by `--suppress` (released value below k).
    pub suppressed: usize,
    /// Released rows whose true contributors are at least 1 and below k.
    pub below_k: usize,
    /// Released rows with no true contributor (nobody to expose).
    pub no_true_contributor: usize,
    /// Released rows whose released value is below k (what a suppression
    /// rule on the released value would catch).
    pub released_below_k: usize,
    pub examples: Vec<CellExample>,
}

/// A cell recovered by subtraction.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Recovered {
    pub key: Vec<(String, String)>,
    /// Released total minus the released breakdowns.
    pub recovered: f64,
    /// Distinct subscribers truly behind the cell.
    pub true_contributors: i64,
    /// The cell's true value of the released column (the value the
    /// breakdown would have released unsuppressed).
    pub true_value: f64,
    pub below_k: bool,
}

/// Differencing of one pair of releases of a product: a total and its
/// breakdown.
#[derive(Clone, Debug, Serialize)]
pub struct DifferencingAudit {
    pub product: String,
    pub total: String,
    pub breakdown: String,
    /// The breakdown columns the total sums over; for two zonings, the
    /// zone columns and how the zonings nest (`zone: grid:500 in
    /// grid:1000`).
    pub over: Vec<String>,
    /// Released totals examined.
    pub totals: usize,
    /// Totals whose breakdown misses exactly one cell with a positive
    /// remainder: the cell is recovered.
    pub recovered: usize,
    /// Recovered cells whose true contributors are below k.
    pub recovered_below_k: usize,
    /// Recovered values equal to the cell's true value.
    pub recovered_exactly: usize,
    /// Totals whose remainder is positive and below k over several missing
    /// cells: a small group is disclosed, not a cell.
    pub small_remainders: usize,
    pub cells: Vec<Recovered>,
}

/// The unicity of the raw log at p points.
#[derive(Clone, Debug, Serialize)]
pub struct UnicityPoint {
    pub points: usize,
    pub share_unique: f64,
    pub sampled: usize,
}

/// Everything the audit found.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    pub dataset: String,
    pub zones: String,
    pub k: i64,
    pub suppressed: bool,
    pub threshold: Vec<ThresholdAudit>,
    pub differencing: Vec<DifferencingAudit>,
    pub uniqueness: Vec<uniqueness::Uniqueness>,
    pub unicity: Vec<UnicityPoint>,
    pub trajectory: Option<trajectory::RecoveryScore>,
    /// Canaries planted in the dataset's scenario, and what exposes them.
    pub canaries: Option<CanaryAudit>,
}

/// Whether released cells expose the scenario's canaries.
#[derive(Clone, Debug, Serialize)]
pub struct CanaryAudit {
    /// Canaries planted (`[canaries] count`), subscriber ids 0..count.
    pub planted: u32,
    /// Released cells (over every release) with a canary among their true
    /// contributors.
    pub cells_with_a_canary: usize,
    /// Of those, cells with fewer than k true contributors: the canary is
    /// exposed.
    pub exposing_cells: usize,
    /// Canaries exposed by at least one released cell.
    pub canaries_exposed: Vec<i64>,
    pub examples: Vec<CellExample>,
}

/// Why an audit could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(transparent)]
    Products(#[from] ProductsError),
    #[error(transparent)]
    Input(#[from] ScoreError),
    #[error("{0}")]
    Options(String),
    #[error("{0}")]
    Write(String),
}

impl From<DatasetError> for PrivacyError {
    fn from(e: DatasetError) -> Self {
        PrivacyError::Products(ProductsError::Dataset(e))
    }
}

/// A released table in memory: its key columns and, by key (as text), the
/// value of its first value column.
#[derive(Clone, Debug)]
pub struct Release {
    pub product: String,
    pub source: String,
    /// The zoning of its zone keys (`--zones`, or `NAME@ZONING=PATH`).
    pub zones: String,
    pub(crate) keys: Vec<(&'static str, KeyKind)>,
    pub value: &'static str,
    pub rows: HashMap<Vec<String>, f64>,
}

/// Reads a released file and checks it against its schema and the zoning:
/// every key column (breakdowns may be left out), a value column, no
/// duplicate key, every zone a zone of the zoning.
pub fn read_release(product: &str, path: &Path, zoning: &Zoning) -> Result<Release, ScoreError> {
    let batches = read_table(path)?;
    release_of_batches(product, &path.display().to_string(), &batches, zoning, path)
}

fn release_of_batches(
    product: &str,
    source: &str,
    batches: &[RecordBatch],
    zoning: &Zoning,
    path: &Path,
) -> Result<Release, ScoreError> {
    let Some(spec) = SPECS.iter().find(|s| s.name == product) else {
        return Err(serr(
            path,
            format!(
                "no product {product:?} to audit (expected one of {})",
                AUDITED.join(", ")
            ),
        ));
    };
    let columns: BTreeSet<String> = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let optional = |k: &str| spec.optional.contains(&k) || DAILY.contains(&(product, k));
    let keys: Vec<(&'static str, KeyKind)> = spec
        .keys
        .iter()
        .filter(|(k, _)| !optional(k) || columns.contains(*k) || batches.is_empty())
        .copied()
        .collect();
    let value = spec.values[0];
    if !batches.is_empty() && !columns.contains(value) {
        return Err(serr(
            path,
            format!("column `{value}` missing (the {product} schema's count column)"),
        ));
    }
    if product == "footfall" && !batches.is_empty() && !columns.contains("hour") {
        return Err(serr(
            path,
            "footfall without `hour`: visitors are distinct people per hour and do not add up \
             over a day, so a daily footfall is not audited (daily trips are: `od` without \
             `departure_hour`)",
        ));
    }
    let keyed = key_rows(batches, &keys, &[value], zoning, path, false)?;
    if keyed.duplicates > 0 {
        return Err(serr(
            path,
            format!(
                "{} duplicate keys (first: {}); each key must appear once",
                keyed.duplicates,
                keyed.first_duplicate.unwrap_or_default().join(", ")
            ),
        ));
    }
    if keyed.not_in_zoning > 0 {
        return Err(serr(
            path,
            format!(
                "{} rows name zones that are not zones of {} (e.g. {}): the product was made on another zoning",
                keyed.not_in_zoning,
                zoning.spec(),
                keyed.examples.into_iter().next().unwrap_or_default()
            ),
        ));
    }
    Ok(Release {
        product: product.to_string(),
        source: source.to_string(),
        zones: zoning.spec().to_string(),
        keys,
        value,
        rows: keyed.rows.into_iter().map(|(k, v)| (k, v[0])).collect(),
    })
}

/// Key columns a release may leave out beyond those `score` allows: an
/// `od` without `departure_hour` is a daily release (trips add up over
/// hours, so a day is the sum of its hours).
pub const DAILY: [(&str, &str); 1] = [("od", "departure_hour")];

impl Release {
    /// The zone totals of a breakdown: the sum over age band and sex.
    pub fn totals_over_breakdown(&self) -> Option<Release> {
        self.sum_over(&["age_band", "sex"], "zone totals")
    }

    /// The daily totals of an hourly `od`: the sum over departure hours.
    pub fn daily_totals(&self) -> Option<Release> {
        self.sum_over(&["departure_hour"], "daily totals")
    }

    /// The release summed over `columns` (those it has), or `None` when it
    /// has none of them.
    fn sum_over(&self, columns: &[&str], what: &str) -> Option<Release> {
        let drop: Vec<usize> = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| columns.contains(k))
            .map(|(i, _)| i)
            .collect();
        if drop.is_empty() {
            return None;
        }
        let mut rows: HashMap<Vec<String>, f64> = HashMap::new();
        for (k, v) in &self.rows {
            let key: Vec<String> = k
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, s)| s.clone())
                .collect();
            *rows.entry(key).or_insert(0.0) += v;
        }
        Some(Release {
            product: self.product.clone(),
            source: format!("{} ({what})", self.source),
            zones: self.zones.clone(),
            keys: self
                .keys
                .iter()
                .enumerate()
                .filter(|(i, _)| !drop.contains(i))
                .map(|(_, k)| *k)
                .collect(),
            value: self.value,
            rows,
        })
    }

    /// Drops rows whose value is below k; returns how many.
    pub fn suppress(&mut self, k: i64) -> usize {
        let before = self.rows.len();
        self.rows.retain(|_, v| *v >= k as f64);
        before - self.rows.len()
    }

    fn key_names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.0).collect()
    }

    fn named(&self, key: &[String]) -> Vec<(String, String)> {
        self.keys
            .iter()
            .zip(key)
            .map(|((n, _), v)| (n.to_string(), v.clone()))
            .collect()
    }
}

/// The truth behind released keys: the distinct subscribers of each cell,
/// and the cell's true value of the released column, for a key set.
pub struct TruthTables {
    /// `footfall` visitors, `presence` people, `commute` people: distinct
    /// subscribers already. `od` trips are not: `od_travellers` holds the
    /// distinct subscribers of each `od` cell in the `trips` column.
    products: Products,
    od_travellers: Products,
    /// The same for a daily `od` (every key at hour 0): the distinct
    /// subscribers of the day's cell, not the sum of its hours'.
    od_daily_travellers: Products,
}

impl TruthTables {
    /// Computes the truth products and the distinct travellers of `od`.
    pub fn compute(
        source: &Source,
        zoning: &Zoning,
        options: &crate::products::ProductOptions,
        with_od: bool,
    ) -> Result<TruthTables, DatasetError> {
        let products = crate::products::truth(source, zoning, options)?;
        // A second pass over the trips, only when an `od` is released.
        let (od_travellers, od_daily_travellers) = if with_od {
            od_travellers(source, zoning)?
        } else {
            (Products::default(), Products::default())
        };
        Ok(TruthTables {
            products,
            od_travellers,
            od_daily_travellers,
        })
    }

    /// By key (as text, in `keys`), (distinct contributors, true value).
    fn by_key(
        &self,
        product: &str,
        keys: &[(&'static str, KeyKind)],
        value: &str,
        zoning: &Zoning,
    ) -> Result<HashMap<Vec<String>, (i64, f64)>, ScoreError> {
        let path = Path::new("truth");
        let batch = |p: &Products, name: &str| -> Vec<RecordBatch> {
            tables::batch(name, p, zoning, 1.0).into_iter().collect()
        };
        let values = key_rows(
            &batch(&self.products, product),
            keys,
            &[value],
            zoning,
            path,
            true,
        )?;
        let people = if product == "od" {
            let daily = !keys.iter().any(|k| k.0 == "departure_hour");
            let travellers = if daily {
                &self.od_daily_travellers
            } else {
                &self.od_travellers
            };
            key_rows(
                &batch(travellers, "od"),
                keys,
                &["trips"],
                zoning,
                path,
                true,
            )?
            .rows
        } else {
            let people_column = match product {
                "footfall" => "visitors",
                _ => "people",
            };
            key_rows(
                &batch(&self.products, product),
                keys,
                &[people_column],
                zoning,
                path,
                true,
            )?
            .rows
        };
        Ok(values
            .rows
            .into_iter()
            .map(|(k, v)| {
                let n = people.get(&k).map_or(0.0, |p| p[0]);
                (k, (n.round() as i64, v[0]))
            })
            .collect())
    }
}

/// `od` with each cell's distinct travellers instead of its trips. Summed
/// over a breakdown (mode) it is an upper bound of the travellers of the
/// coarser cell (one person may use two modes in an hour): a below-k
/// verdict on it is then certain, a pass is not. Returns the hourly cells
/// and the daily ones (keyed at hour 0).
fn od_travellers(source: &Source, zoning: &Zoning) -> Result<(Products, Products), DatasetError> {
    let reader = &source.reader;
    let people = crate::products::read_people(reader)?;
    let mut seen: HashSet<(OdKey, i64)> = HashSet::new();
    let mut seen_daily: HashSet<(OdKey, i64)> = HashSet::new();
    let mut out = Products {
        od_has_mode: true,
        ..Products::default()
    };
    let mut daily = Products {
        od_has_mode: true,
        ..Products::default()
    };
    for (date, _) in source.days("truth/trips")? {
        // Trips of a partition start on its local day: when every one
        // does, no later partition can repeat one of its keys, and the
        // pairs seen can be forgotten (memory holds a day, not the run).
        let partition_day = crate::products::clock::day_of(&date);
        let mut within_day = true;
        // Zones as the truth's `od` places them: beyond the map's edge is
        // `outside`.
        for trip in crate::products::truth_zone_trips(reader, &date, zoning)? {
            if people.get(&trip.subscriber).is_none_or(|p| p.machine) {
                continue;
            }
            let key = OdKey {
                origin: trip.origin,
                destination: trip.destination,
                when: crate::products::clock::local_hour(&source.calendar, trip.start_ms),
                mode: trip.mode,
            };
            within_day &= partition_day == Some(key.when.day);
            let mut day_key = key.clone();
            day_key.when.hour = 0;
            if seen_daily.insert((day_key.clone(), trip.subscriber)) {
                *daily.od.entry(day_key).or_insert(0) += 1;
            }
            if seen.insert((key.clone(), trip.subscriber)) {
                *out.od.entry(key).or_insert(0) += 1;
            }
        }
        if within_day {
            seen.clear();
            seen_daily.clear();
        }
    }
    Ok((out, daily))
}

const MAX_EXAMPLES: usize = 50;

/// Each canary's own products (its stays and trips alone, and its home
/// and work), by subscriber id.
fn canary_cells(
    source: &Source,
    zoning: &Zoning,
    options: &crate::products::ProductOptions,
    planted: u32,
) -> Result<Vec<(i64, Products)>, DatasetError> {
    use crate::products::{StayAggregator, ZoneStay};
    let reader = &source.reader;
    let people = crate::products::read_people(reader)?;
    let ids: Vec<i64> = (0..i64::from(planted)).collect();
    let mut out: Vec<(i64, Products)> = ids
        .iter()
        .map(|&i| {
            let p = Products {
                od_has_mode: true,
                ..Products::default()
            };
            (i, p)
        })
        .collect();
    let mut aggregators: Vec<StayAggregator> = ids
        .iter()
        .map(|_| StayAggregator::new(&source.calendar, options))
        .collect();
    let days = source.days("truth/stays")?;
    let n = days.len();
    for (d, (date, ends_ms)) in days.into_iter().enumerate() {
        let mut stays: Vec<Vec<ZoneStay>> = vec![Vec::new(); ids.len()];
        for stay in crate::products::truth_zone_stays(reader, &date, zoning)? {
            if stay.subscriber >= 0 && stay.subscriber < i64::from(planted) {
                stays[stay.subscriber as usize].push(stay);
            }
        }
        let ends = if d + 1 == n { i64::MAX } else { ends_ms };
        for ((agg, list), (_, products)) in aggregators.iter_mut().zip(&mut stays).zip(&mut out) {
            agg.add(list, ends, &people, products);
        }
    }
    for (agg, (_, products)) in aggregators.into_iter().zip(&mut out) {
        agg.finish(products);
    }
    // Their trips, for `od`, zoned as the truth's `od` zones them.
    for (date, _) in source.days("truth/trips")? {
        for trip in crate::products::truth_zone_trips(reader, &date, zoning)? {
            if trip.subscriber < 0 || trip.subscriber >= i64::from(planted) {
                continue;
            }
            let products = &mut out[trip.subscriber as usize].1;
            crate::products::add_trips(&[trip], &source.calendar, &people, products);
        }
    }
    // Home and work, for `commute`.
    for (id, home_work) in crate::products::truth_home_work(reader, zoning)? {
        if let Some((_, products)) = out.iter_mut().find(|(c, _)| *c == id) {
            products.home_work.insert(id, home_work);
        }
    }
    Ok(out)
}

/// The keys (as text, in `keys`) of the cells a canary's products touch.
fn canary_keys(
    products: &Products,
    product: &str,
    keys: &[(&'static str, KeyKind)],
    zoning: &Zoning,
) -> Result<Vec<Vec<String>>, ScoreError> {
    let batches: Vec<RecordBatch> = tables::batch(product, products, zoning, 1.0)
        .into_iter()
        .collect();
    let value = SPECS
        .iter()
        .find(|s| s.name == product)
        .map_or("people", |s| s.values[0]);
    let rows = key_rows(&batches, keys, &[value], zoning, Path::new("truth"), true)?;
    Ok(rows
        .rows
        .into_iter()
        .filter(|(_, v)| v[0] > 0.0)
        .map(|(k, _)| k)
        .collect())
}

/// Attack 1: released cells whose true contributors are below k.
pub fn threshold(
    release: &Release,
    truth: &HashMap<Vec<String>, (i64, f64)>,
    k: i64,
    suppressed: usize,
) -> ThresholdAudit {
    let mut keys: Vec<&Vec<String>> = release.rows.keys().collect();
    keys.sort_unstable();
    let mut out = ThresholdAudit {
        product: release.product.clone(),
        source: release.source.clone(),
        value: release.value.to_string(),
        rows: keys.len(),
        suppressed,
        below_k: 0,
        no_true_contributor: 0,
        released_below_k: 0,
        examples: Vec::new(),
    };
    for key in keys {
        let released = release.rows[key];
        let n = truth.get(key).map_or(0, |t| t.0);
        if released < k as f64 {
            out.released_below_k += 1;
        }
        if n == 0 {
            out.no_true_contributor += 1;
        } else if n < k {
            out.below_k += 1;
            if out.examples.len() < MAX_EXAMPLES {
                out.examples.push(CellExample {
                    key: release.named(key),
                    released,
                    true_contributors: n,
                });
            }
        }
    }
    out
}

/// The values a breakdown column can take, as a reader knows them: age
/// bands and the two sexes of `footfall` always, plus any value the
/// breakdown shows.
fn domain(column: &str, breakdown: &Release, at: usize) -> BTreeSet<String> {
    let mut d: BTreeSet<String> = match column {
        "age_band" => crate::products::AGE_BANDS
            .iter()
            .map(|b| b.2.to_string())
            .collect(),
        "sex" => ["F", "M"].iter().map(|s| s.to_string()).collect(),
        // Local hours of a day (a reader of a daily release knows them).
        "departure_hour" => (0..24).map(|h: i32| h.to_string()).collect(),
        _ => BTreeSet::new(),
    };
    d.extend(breakdown.rows.keys().map(|k| k[at].clone()));
    d
}

/// Attack 2: a released total minus its released breakdowns. `total`'s key
/// columns must be a subset of `breakdown`'s; `truth` is keyed as the
/// breakdown.
pub fn differencing(
    total: &Release,
    breakdown: &Release,
    truth: &HashMap<Vec<String>, (i64, f64)>,
    k: i64,
) -> Option<DifferencingAudit> {
    let fine = breakdown.key_names();
    let coarse = total.key_names();
    if coarse.len() >= fine.len() || !coarse.iter().all(|c| fine.contains(c)) {
        return None;
    }
    // Where each of the total's columns sits in the breakdown's key.
    let kept: Vec<usize> = coarse
        .iter()
        .filter_map(|c| fine.iter().position(|f| f == c))
        .collect();
    let over: Vec<usize> = (0..fine.len()).filter(|i| !kept.contains(i)).collect();
    // Every combination of the summed-over columns a reader must consider.
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for &i in &over {
        let d = domain(fine[i], breakdown, i);
        combos = combos
            .into_iter()
            .flat_map(|c| {
                d.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    // The breakdown's released cells under each total, by their combination.
    let mut under: HashMap<Vec<String>, Vec<(Vec<String>, f64)>> = HashMap::new();
    for (key, v) in &breakdown.rows {
        let c: Vec<String> = kept.iter().map(|&i| key[i].clone()).collect();
        let combo: Vec<String> = over.iter().map(|&i| key[i].clone()).collect();
        under.entry(c).or_default().push((combo, *v));
    }
    let mut out = DifferencingAudit {
        product: total.product.clone(),
        total: total.source.clone(),
        breakdown: breakdown.source.clone(),
        over: over.iter().map(|&i| fine[i].to_string()).collect(),
        totals: total.rows.len(),
        recovered: 0,
        recovered_below_k: 0,
        recovered_exactly: 0,
        small_remainders: 0,
        cells: Vec::new(),
    };
    let mut totals: Vec<&Vec<String>> = total.rows.keys().collect();
    totals.sort_unstable();
    for tkey in totals {
        let released = under.get(tkey).map(Vec::as_slice).unwrap_or(&[]);
        let sum: f64 = released.iter().map(|r| r.1).sum();
        let remainder = total.rows[tkey] - sum;
        // Rounding of a scaled product: a remainder under half a unit is 0.
        if remainder < 0.5 {
            continue;
        }
        let shown: HashSet<&Vec<String>> = released.iter().map(|r| &r.0).collect();
        let missing: Vec<&Vec<String>> = combos.iter().filter(|c| !shown.contains(c)).collect();
        match missing.as_slice() {
            [one] => {
                // The recovered cell's key in the breakdown's column order.
                let mut key = vec![String::new(); fine.len()];
                for (j, &i) in kept.iter().enumerate() {
                    key[i] = tkey[j].clone();
                }
                for (j, &i) in over.iter().enumerate() {
                    key[i] = one[j].clone();
                }
                out.record(breakdown, &key, remainder, truth, k);
            }
            [] => {}
            _ => {
                if remainder < k as f64 {
                    out.small_remainders += 1;
                }
            }
        }
    }
    out.cells.truncate(MAX_EXAMPLES * 4);
    Some(out)
}

impl DifferencingAudit {
    /// Counts a cell recovered with value `remainder` (its key in the
    /// breakdown's columns) against the truth, and keeps it as an example
    /// (every one below k, and the first others).
    fn record(
        &mut self,
        breakdown: &Release,
        key: &[String],
        remainder: f64,
        truth: &HashMap<Vec<String>, (i64, f64)>,
        k: i64,
    ) {
        let (n, v) = truth.get(key).copied().unwrap_or((0, 0.0));
        self.recovered += 1;
        if n > 0 && n < k {
            self.recovered_below_k += 1;
        }
        if (remainder - v).abs() < 1e-6 {
            self.recovered_exactly += 1;
        }
        if self.cells.len() < MAX_EXAMPLES || (n > 0 && n < k) {
            self.cells.push(Recovered {
                key: breakdown.named(key),
                recovered: remainder,
                true_contributors: n,
                true_value: v,
                below_k: n > 0 && n < k,
            });
        }
    }
}

/// Products whose count adds up over zones: each person is in one place at
/// the half hour (`presence`), each trip has one origin and one destination
/// (`od`), each person one home and one work zone (`commute`). `footfall`
/// visitors do not: one person may visit two zones in an hour.
pub const ADDITIVE_OVER_ZONES: [&str; 3] = ["presence", "od", "commute"];

/// Every combination of one value from each domain, in order.
fn combinations(domains: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for d in domains {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                d.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    combos
}

/// Attack 2 across zonings: a release at a coarse zoning minus the
/// released cells of the same product at a fine zoning nested in it
/// ([`nesting`]), key by key with every zone column mapped to its parent.
/// A reader considers every child of each zone column; with exactly one
/// child combination not released and a remainder of at least 0.5, the
/// remainder is that cell's value (exactly for grids; give or take the
/// slivers for H3). Both releases must have the same key columns and an
/// additive count ([`ADDITIVE_OVER_ZONES`]); `truth` is keyed as `fine`.
pub fn differencing_zonings(
    coarse: &Release,
    fine: &Release,
    nest: &nesting::Nesting,
    truth: &HashMap<Vec<String>, (i64, f64)>,
    k: i64,
) -> Option<DifferencingAudit> {
    if coarse.product != fine.product
        || coarse.key_names() != fine.key_names()
        || !ADDITIVE_OVER_ZONES.contains(&coarse.product.as_str())
    {
        return None;
    }
    let zone_cols: Vec<usize> = fine
        .keys
        .iter()
        .enumerate()
        .filter(|(_, (_, kind))| *kind == KeyKind::Zone)
        .map(|(i, _)| i)
        .collect();
    // The fine cells under each coarse key, by their zones.
    let mut under: HashMap<Vec<String>, Vec<(Vec<String>, f64)>> = HashMap::new();
    'rows: for (key, v) in &fine.rows {
        let mut c = key.clone();
        for &i in &zone_cols {
            let Some(p) = nest.parent(&key[i]) else {
                continue 'rows;
            };
            c[i] = p;
        }
        let zones = zone_cols.iter().map(|&i| key[i].clone()).collect();
        under.entry(c).or_default().push((zones, *v));
    }
    let mut over: Vec<String> = zone_cols
        .iter()
        .map(|&i| fine.keys[i].0.to_string())
        .collect();
    over.push(format!("{} in {}", fine.zones, coarse.zones));
    let mut out = DifferencingAudit {
        product: coarse.product.clone(),
        total: coarse.source.clone(),
        breakdown: fine.source.clone(),
        over,
        totals: coarse.rows.len(),
        recovered: 0,
        recovered_below_k: 0,
        recovered_exactly: 0,
        small_remainders: 0,
        cells: Vec::new(),
    };
    let mut totals: Vec<&Vec<String>> = coarse.rows.keys().collect();
    totals.sort_unstable();
    for ckey in totals {
        let released = under.get(ckey).map(Vec::as_slice).unwrap_or(&[]);
        let sum: f64 = released.iter().map(|r| r.1).sum();
        let remainder = coarse.rows[ckey] - sum;
        if remainder < 0.5 {
            continue;
        }
        let children: Vec<Vec<String>> =
            zone_cols.iter().map(|&i| nest.children(&ckey[i])).collect();
        let combos: usize = children.iter().map(Vec::len).product();
        let shown: HashSet<&Vec<String>> = released.iter().map(|r| &r.0).collect();
        match combos.saturating_sub(shown.len()) {
            0 => {}
            1 => {
                let Some(one) = combinations(&children)
                    .into_iter()
                    .find(|c| !shown.contains(c))
                else {
                    continue;
                };
                let mut key = ckey.clone();
                for (j, &i) in zone_cols.iter().enumerate() {
                    key[i] = one[j].clone();
                }
                out.record(fine, &key, remainder, truth, k);
            }
            _ => {
                if remainder < k as f64 {
                    out.small_remainders += 1;
                }
            }
        }
    }
    out.cells.truncate(MAX_EXAMPLES * 4);
    Some(out)
}

/// Attack 4: unicity of the raw log's calls and texts at p = 2..5 points,
/// the validator's measure with its sampling seed.
pub fn unicity_curve(source: &Source, sample: usize) -> Result<Vec<UnicityPoint>, PrivacyError> {
    use crate::validate::{EventRecord, event_log::unicity_share_of_points};
    let reader = &source.reader;
    let calendar = reader.calendar()?;
    let machines: HashSet<i64> = crate::products::read_people(reader)?
        .into_iter()
        .filter(|(_, p)| p.machine)
        .map(|(id, _)| id)
        .collect();
    let path = reader.dir().join("events");
    let mut events: Vec<EventRecord> = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    // A batch at a time: the log is the largest table by far.
    reader.for_each_batch("events", events_schema(), &mut |b| {
        let sub = column_i64(&b, "subscriber_id", &path)?;
        let time = column_ms(&b, "timestamp", &path)?;
        let cell = column_i64(&b, "cell_id", &path)?;
        let kind = column_str(&b, "event_type", &path)?;
        for i in 0..b.num_rows() {
            let Some(kind) = crate::validate::dataset::parse_kind(&kind[i]) else {
                return Err(crate::reader::err(
                    &path,
                    format!("unknown event type {:?}", kind[i]),
                ));
            };
            // Only calls and texts are points (as the validator counts);
            // machines are no people. A subscriber with other events only
            // keeps one, so that the sample is drawn from the same list of
            // subscribers as the validator's.
            if machines.contains(&sub[i]) || !(kind.is_call_or_text() || seen.insert(sub[i])) {
                continue;
            }
            seen.insert(sub[i]);
            events.push(EventRecord {
                subscriber: sub[i] as u64,
                time_s: time[i].div_euclid(1000),
                kind,
                cell: cell[i] as u64,
                cell_x_m: 0.0,
                cell_y_m: 0.0,
            });
        }
        Ok(())
    })?;
    events.sort_by_key(|e| (e.subscriber, e.time_s));
    let by_sub = crate::validate::event_log::group_sorted(&events);
    drop(events);
    // The validator samples with the dataset's seed: at p = 4 the value is
    // the validator's.
    let seed = reader.manifest().seed;
    Ok((2..=5)
        .filter_map(|p| {
            unicity_share_of_points(&by_sub, &calendar, sample, seed, p).map(|(share, n)| {
                UnicityPoint {
                    points: p,
                    share_unique: share,
                    sampled: n,
                }
            })
        })
        .collect())
}

/// What to audit.
pub struct Request<'a> {
    pub products: crate::products::Request<'a>,
    /// Released files: (product name, path).
    pub files: &'a [(String, PathBuf)],
    pub options: PrivacyOptions,
    pub json: Option<&'a Path>,
    pub html: Option<&'a Path>,
}

/// `mobsynth privacy`: every attack on the released files of `request`,
/// against the truth of its dataset; writes the JSON and HTML reports when
/// asked.
pub fn run(request: &Request) -> Result<Audit, PrivacyError> {
    let options = &request.options;
    if options.k < 1 {
        return Err(PrivacyError::Options(format!(
            "--k {}: expected a whole number of at least 1",
            options.k
        )));
    }
    let (source, zoning) = crate::products::open(&request.products)?;
    // The zonings releases are keyed on: `--zones` first, then each other
    // one a `NAME@ZONING=PATH` names.
    let mut zonings: Vec<Zoning> = vec![zoning];
    // Read and check every file before the costly truth.
    let mut releases: Vec<(Release, usize)> = Vec::new();
    for (named, path) in request.files {
        let (name, spec) = match named.split_once('@') {
            Some((n, z)) => (n, Some(z)),
            None => (named.as_str(), None),
        };
        if !AUDITED.contains(&name) {
            return Err(serr(
                path,
                format!(
                    "no product {name:?} to audit (expected one of {})",
                    AUDITED.join(", ")
                ),
            )
            .into());
        }
        let at = match spec {
            None => 0,
            Some(spec) => match zonings.iter().position(|z| z.spec() == spec) {
                Some(i) => i,
                None => {
                    // The zoning's own message names `--zones`: say which
                    // release it belongs to.
                    let named_path = format!("--product {named}={}", path.display());
                    if spec.is_empty() {
                        return Err(PrivacyError::Options(format!(
                            "{named_path}: expected a zoning after `@` (h3:RES, grid:METRES or a GeoJSON file)"
                        )));
                    }
                    let z =
                        crate::zones::for_dataset(spec, request.products.zone_id, &source.reader)
                            .map_err(|e| PrivacyError::Options(format!("{named_path}: {e}")))?;
                    zonings.push(z);
                    zonings.len() - 1
                }
            },
        };
        let mut release = read_release(name, path, &zonings[at])?;
        if at != 0 {
            release.source = format!("{} (at {})", release.source, zonings[at].spec());
        }
        let totals = if options.add_totals && name == "footfall" {
            release.totals_over_breakdown()
        } else {
            None
        };
        let daily = if options.add_daily && name == "od" {
            release.daily_totals()
        } else {
            None
        };
        releases.push((release, 0));
        releases.extend(totals.map(|t| (t, 0)));
        releases.extend(daily.map(|t| (t, 0)));
    }
    let zoning = &zonings[0];
    let zoning_of = |r: &Release| {
        zonings
            .iter()
            .position(|z| z.spec() == r.zones)
            .unwrap_or(0)
    };
    if options.suppress {
        for (r, dropped) in &mut releases {
            *dropped = r.suppress(options.k);
        }
    }
    let mut audit = Audit {
        dataset: request.products.dataset.display().to_string(),
        zones: zoning.spec().to_string(),
        k: options.k,
        suppressed: options.suppress,
        threshold: Vec::new(),
        differencing: Vec::new(),
        uniqueness: Vec::new(),
        unicity: Vec::new(),
        trajectory: None,
        canaries: None,
    };
    // The truth on each zoning a release (or trajectory recovery) needs.
    let mut truths: Vec<Option<TruthTables>> = Vec::new();
    for (i, z) in zonings.iter().enumerate() {
        let used: Vec<&Release> = releases
            .iter()
            .map(|(r, _)| r)
            .filter(|r| zoning_of(r) == i)
            .collect();
        let needed = !used.is_empty() || (i == 0 && options.trajectory);
        truths.push(if needed {
            Some(TruthTables::compute(
                &source,
                z,
                &request.products.options,
                used.iter().any(|r| r.product == "od"),
            )?)
        } else {
            None
        });
    }
    let mut audit_truth: Vec<HashMap<Vec<String>, (i64, f64)>> = Vec::new();
    for (r, dropped) in &releases {
        let z = zoning_of(r);
        let t = match &truths[z] {
            Some(truth) => truth.by_key(&r.product, &r.keys, r.value, &zonings[z])?,
            None => HashMap::new(),
        };
        audit.threshold.push(threshold(r, &t, options.k, *dropped));
        audit_truth.push(t);
    }
    for (i, (total, _)) in releases.iter().enumerate() {
        for (j, (breakdown, _)) in releases.iter().enumerate() {
            if i == j || total.product != breakdown.product {
                continue;
            }
            let found = if total.zones == breakdown.zones {
                differencing(total, breakdown, &audit_truth[j], options.k)
            } else {
                nesting::Nesting::of(&total.zones, &breakdown.zones).and_then(|nest| {
                    differencing_zonings(total, breakdown, &nest, &audit_truth[j], options.k)
                })
            };
            audit.differencing.extend(found);
        }
    }
    let planted = source
        .reader
        .scenario()
        .map(|s| s.canaries.count)
        .unwrap_or(0);
    if planted > 0 && !releases.is_empty() {
        let mut out = CanaryAudit {
            planted,
            cells_with_a_canary: 0,
            exposing_cells: 0,
            canaries_exposed: Vec::new(),
            examples: Vec::new(),
        };
        let mut exposed = BTreeSet::new();
        for (zi, z) in zonings.iter().enumerate() {
            if !releases.iter().any(|(r, _)| zoning_of(r) == zi) {
                continue;
            }
            let cells = canary_cells(&source, z, &request.products.options, planted)?;
            for (ri, (r, _)) in releases.iter().enumerate() {
                if zoning_of(r) != zi {
                    continue;
                }
                let contributors = &audit_truth[ri];
                for (id, products) in &cells {
                    let keys = canary_keys(products, &r.product, &r.keys, z)?;
                    let mut hits: Vec<&Vec<String>> =
                        keys.iter().filter(|k| r.rows.contains_key(*k)).collect();
                    hits.sort_unstable();
                    for key in hits {
                        out.cells_with_a_canary += 1;
                        let n = contributors.get(key).map_or(0, |t| t.0);
                        if n < options.k {
                            out.exposing_cells += 1;
                            exposed.insert(*id);
                            if out.examples.len() < MAX_EXAMPLES {
                                out.examples.push(CellExample {
                                    key: r.named(key),
                                    released: r.rows[key],
                                    true_contributors: n,
                                });
                            }
                        }
                    }
                }
            }
        }
        out.canaries_exposed = exposed.into_iter().collect();
        audit.canaries = Some(out);
    }
    audit.uniqueness = uniqueness::of_dataset(&source.reader, zoning, options.k)?;
    if options.unicity {
        audit.unicity = unicity_curve(&source, options.sample)?;
    }
    if let (true, Some(truth)) = (options.trajectory, &truths[0]) {
        // The released presence on `--zones` when there is one, else the
        // truth's (the attacker's best case, as in Xu et al.).
        let given = request
            .files
            .iter()
            .find(|(n, _)| n == "presence")
            .map(|(_, p)| p.as_path());
        audit.trajectory = Some(trajectory::audit(
            &source,
            zoning,
            &truth.products,
            given,
            options.sample,
        )?);
    }
    let write = |path: &Path, text: String| -> Result<(), PrivacyError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| PrivacyError::Write(format!("{}: cannot write: {e}", path.display())))
    };
    if let Some(path) = request.json {
        let text = serde_json::to_string_pretty(&audit)
            .map_err(|e| PrivacyError::Write(format!("{}: {e}", path.display())))?;
        write(path, text + "\n")?;
    }
    if let Some(path) = request.html {
        write(path, report::html_report(&audit))?;
    }
    Ok(audit)
}
