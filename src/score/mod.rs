//! Scoring a pipeline's zone products against the truth: reads its files in
//! the schemas of `docs/PRODUCTS.md` (Parquet or CSV), aligns their keys
//! with the truth products of the same dataset and zoning, and measures
//! the error.
//!
//! Alignment: a key in one table and not in the other counts as 0 in the
//! one that lacks it. Zone keys that are not zones of the zoning are
//! counted and reported (and still scored, against a truth of 0).
//! Duplicate keys in a pipeline's file are an error. Breakdown columns a
//! pipeline does not produce (`age_band` and `sex` of `footfall`, `mode` of
//! `od`) are summed over in the truth.
//!
//! Metrics, over the union of keys, with `t` the truth and `p` the
//! pipeline's value of a key (definitions in `docs/PRODUCTS.md`): WAPE
//! `Σ|p−t| / Σt`; MdAPE, the median of `|p−t|/t` over keys with `t` at or
//! above the floor; Spearman's rank correlation (average ranks for ties);
//! signed bias `(Σp − Σt) / Σt`; WAPE by zone size class (zones in thirds
//! by their truth total); for `od` and `commute` also the common part of
//! commuters `CPC = 2 Σ min(p,t) / (Σp + Σt)` and `NRMSE = √(mean (p−t)²) /
//! mean t`; for `home_work` the share of subscribers placed in the right
//! zone and the median distance between the centroids of the found and
//! the true zone.

pub mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use serde::Serialize;

use crate::products::{Products, tables};
use crate::zones::Zoning;

/// How a key column is compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum KeyKind {
    Zone,
    Timestamp,
    Date,
    Int,
    Text,
}

/// What `score` knows of a product: its keys, which of them a pipeline may
/// leave out, its values and the one gated by `--max-wape`.
pub(crate) struct ProductSpec {
    pub(crate) name: &'static str,
    pub(crate) keys: &'static [(&'static str, KeyKind)],
    pub(crate) optional: &'static [&'static str],
    pub(crate) values: &'static [&'static str],
    /// The key column that places a row in a zone, for the size classes.
    zone: &'static str,
    od_metrics: bool,
}

pub(crate) const SPECS: [ProductSpec; 5] = [
    ProductSpec {
        name: "presence",
        keys: &[("zone", KeyKind::Zone), ("hour", KeyKind::Timestamp)],
        optional: &[],
        values: &["people", "person_minutes"],
        zone: "zone",
        od_metrics: false,
    },
    ProductSpec {
        name: "footfall",
        keys: &[
            ("zone", KeyKind::Zone),
            ("date", KeyKind::Date),
            ("hour", KeyKind::Int),
            ("age_band", KeyKind::Text),
            ("sex", KeyKind::Text),
        ],
        optional: &["age_band", "sex"],
        values: &["visitors", "visits", "dwell_minutes"],
        zone: "zone",
        od_metrics: false,
    },
    ProductSpec {
        name: "od",
        keys: &[
            ("origin_zone", KeyKind::Zone),
            ("destination_zone", KeyKind::Zone),
            ("date", KeyKind::Date),
            ("departure_hour", KeyKind::Int),
            ("mode", KeyKind::Text),
        ],
        optional: &["mode"],
        values: &["trips"],
        zone: "origin_zone",
        od_metrics: true,
    },
    ProductSpec {
        name: "commute",
        keys: &[("home_zone", KeyKind::Zone), ("work_zone", KeyKind::Zone)],
        optional: &[],
        values: &["people"],
        zone: "home_zone",
        od_metrics: true,
    },
    ProductSpec {
        name: "dwell",
        keys: &[("zone", KeyKind::Zone), ("date", KeyKind::Date)],
        optional: &[],
        values: &["p50_minutes", "stays"],
        zone: "zone",
        od_metrics: false,
    },
];

/// Products `score` takes, by name.
pub const SCORED: [&str; 6] = [
    "presence",
    "footfall",
    "od",
    "commute",
    "home_work",
    "dwell",
];

/// A pipeline's file that cannot be scored; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ScoreError {
    pub path: PathBuf,
    pub message: String,
}

pub(crate) fn serr(path: &Path, m: impl std::fmt::Display) -> ScoreError {
    ScoreError {
        path: path.to_path_buf(),
        message: m.to_string(),
    }
}

/// Settings of the comparison.
#[derive(Clone, Debug)]
pub struct ScoreOptions {
    /// Keys whose truth is below this are left out of MdAPE.
    pub mape_floor: f64,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions { mape_floor: 10.0 }
    }
}

/// The error of one value column of one product.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ColumnScore {
    pub product: String,
    pub column: String,
    /// Keys in the truth, in the pipeline's output, and in either.
    pub truth_keys: usize,
    pub pipeline_keys: usize,
    pub keys: usize,
    pub truth_total: f64,
    pub pipeline_total: f64,
    pub wape: f64,
    pub mdape: f64,
    /// Keys whose truth is at least the floor (the keys of MdAPE).
    pub mdape_keys: usize,
    pub spearman: f64,
    pub bias: f64,
    /// WAPE of the zones in each third by truth total: small, medium,
    /// large.
    pub wape_by_zone_size: BTreeMap<String, f64>,
    pub cpc: Option<f64>,
    pub nrmse: Option<f64>,
}

/// How well `home_work` places subscribers.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HomeWorkScore {
    pub subscribers: usize,
    pub home_right_share: f64,
    pub home_median_error_m: f64,
    pub with_work: usize,
    pub work_right_share: f64,
    pub work_median_error_m: f64,
}

/// What was found about one pipeline file besides its error.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FileNotes {
    pub product: String,
    pub path: String,
    pub rows: usize,
    /// Breakdown columns the file lacks, summed over in the truth.
    pub summed_over: Vec<String>,
    /// Zone keys that are not zones of the zoning: how many rows, and a few.
    pub keys_not_in_zoning: usize,
    pub examples_not_in_zoning: Vec<String>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Scores {
    pub dataset: String,
    pub zones: String,
    pub mape_floor: f64,
    pub files: Vec<FileNotes>,
    pub columns: Vec<ColumnScore>,
    pub home_work: Option<HomeWorkScore>,
    /// Per zone of the first zone product scored: truth total and absolute
    /// error, for the map.
    #[serde(skip)]
    pub zone_errors: BTreeMap<String, (f64, f64)>,
    #[serde(skip)]
    pub zone_errors_of: String,
}

impl Scores {
    /// The gated value of each product: WAPE of its first value column.
    pub fn main_wapes(&self) -> Vec<(&str, f64)> {
        let mut seen = BTreeSet::new();
        self.columns
            .iter()
            .filter(|c| seen.insert(c.product.clone()))
            .map(|c| (c.product.as_str(), c.wape))
            .collect()
    }
}

/// Reads a pipeline's table: Parquet when the name ends in `.parquet`,
/// CSV (with a header) when in `.csv`.
pub fn read_table(path: &Path) -> Result<Vec<RecordBatch>, ScoreError> {
    let name = path.to_string_lossy();
    let file = std::fs::File::open(path).map_err(|e| serr(path, format!("cannot open: {e}")))?;
    if name.ends_with(".parquet") {
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| serr(path, format!("not a Parquet file: {e}")))?;
        reader.map(|b| b.map_err(|e| serr(path, e))).collect()
    } else if name.ends_with(".csv") {
        use std::io::BufRead;
        let mut header = String::new();
        std::io::BufReader::new(&file)
            .read_line(&mut header)
            .map_err(|e| serr(path, format!("cannot read: {e}")))?;
        // Every column is read as text and converted as the product needs.
        let fields: Vec<Field> = header
            .trim_end_matches(['\n', '\r'])
            .split(',')
            .map(|h| Field::new(h.trim().trim_matches('"'), DataType::Utf8, true))
            .collect();
        let file =
            std::fs::File::open(path).map_err(|e| serr(path, format!("cannot open: {e}")))?;
        let reader = arrow::csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
            .with_header(true)
            .build(std::io::BufReader::new(file))
            .map_err(|e| serr(path, e))?;
        reader
            .map(|b| b.map_err(|e| serr(path, format!("not CSV in the expected shape: {e}"))))
            .collect()
    } else {
        Err(serr(path, "expected a .parquet or .csv file"))
    }
}

/// Rows of a product keyed by their key columns (as text), with their
/// values.
pub(crate) struct Keyed {
    pub(crate) rows: HashMap<Vec<String>, Vec<f64>>,
    pub(crate) duplicates: usize,
    pub(crate) first_duplicate: Option<Vec<String>>,
    pub(crate) not_in_zoning: usize,
    pub(crate) examples: BTreeSet<String>,
}

pub(crate) fn column_text(
    batch: &RecordBatch,
    name: &str,
    kind: KeyKind,
    path: &Path,
) -> Result<Vec<Option<String>>, ScoreError> {
    let c = batch
        .column_by_name(name)
        .ok_or_else(|| serr(path, format!("column `{name}` missing")))?;
    let bad = |e: arrow::error::ArrowError| serr(path, format!("column `{name}`: {e}"));
    Ok(match kind {
        KeyKind::Timestamp => {
            let ms: ArrayRef = match c.data_type() {
                DataType::Timestamp(..) | DataType::Utf8 | DataType::LargeUtf8 => {
                    let t =
                        cast(c, &DataType::Timestamp(TimeUnit::Millisecond, None)).map_err(bad)?;
                    cast(&t, &DataType::Int64).map_err(bad)?
                }
                _ => cast(c, &DataType::Int64).map_err(bad)?,
            };
            ms.as_primitive::<Int64Type>()
                .iter()
                .map(|v| {
                    v.map(|ms| {
                        jiff::Timestamp::from_millisecond(ms)
                            .map(|t| t.to_string())
                            .unwrap_or_else(|_| ms.to_string())
                    })
                })
                .collect()
        }
        KeyKind::Int => {
            let v = cast(c, &DataType::Int64).map_err(bad)?;
            v.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect()
        }
        KeyKind::Date | KeyKind::Zone | KeyKind::Text => {
            let v = cast(c, &DataType::Utf8).map_err(bad)?;
            v.as_string::<i32>()
                .iter()
                .map(|v| v.map(|s| s.trim().to_string()))
                .collect()
        }
    })
}

fn column_values(batch: &RecordBatch, name: &str, path: &Path) -> Result<Vec<f64>, ScoreError> {
    let c = batch
        .column_by_name(name)
        .ok_or_else(|| serr(path, format!("column `{name}` missing")))?;
    let v = cast(c, &DataType::Float64).map_err(|e| serr(path, format!("column `{name}`: {e}")))?;
    let v = v.as_primitive::<Float64Type>();
    Ok((0..v.len())
        .map(|i| if v.is_null(i) { 0.0 } else { v.value(i) })
        .collect())
}

/// Keys the table by `keys` and sums nothing: duplicates are counted.
pub(crate) fn key_rows(
    batches: &[RecordBatch],
    keys: &[(&str, KeyKind)],
    values: &[&str],
    zoning: &Zoning,
    path: &Path,
    sum_duplicates: bool,
) -> Result<Keyed, ScoreError> {
    let mut out = Keyed {
        rows: HashMap::new(),
        duplicates: 0,
        first_duplicate: None,
        not_in_zoning: 0,
        examples: BTreeSet::new(),
    };
    for b in batches {
        let key_cols: Vec<Vec<Option<String>>> = keys
            .iter()
            .map(|(k, kind)| column_text(b, k, *kind, path))
            .collect::<Result<_, _>>()?;
        let value_cols: Vec<Vec<f64>> = values
            .iter()
            .map(|v| column_values(b, v, path))
            .collect::<Result<_, _>>()?;
        for i in 0..b.num_rows() {
            let mut key = Vec::with_capacity(keys.len());
            let mut outside = false;
            for (c, (name, kind)) in key_cols.iter().zip(keys) {
                let Some(v) = &c[i] else {
                    return Err(serr(path, format!("row {}: `{name}` is empty", i + 1)));
                };
                if *kind == KeyKind::Zone && zoning.parse_key(v).is_none() {
                    outside = true;
                    if out.examples.len() < 5 {
                        out.examples.insert(v.clone());
                    }
                }
                key.push(v.clone());
            }
            if outside {
                out.not_in_zoning += 1;
            }
            let vals: Vec<f64> = value_cols.iter().map(|c| c[i]).collect();
            match out.rows.entry(key) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(vals);
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if sum_duplicates {
                        for (a, v) in e.get_mut().iter_mut().zip(vals) {
                            *a += v;
                        }
                    } else {
                        out.duplicates += 1;
                        if out.first_duplicate.is_none() {
                            out.first_duplicate = Some(e.key().clone());
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Average ranks (1-based) of `v`, ties sharing the mean of their ranks.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation: Pearson's correlation of average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        cov += (x - ma) * (y - mb);
        va += (x - ma) * (x - ma);
        vb += (y - mb) * (y - mb);
    }
    if va == 0.0 || vb == 0.0 {
        return f64::NAN;
    }
    cov / (va * vb).sqrt()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    crate::products::quantile_sorted(&v, 0.5)
}

/// The metrics of one column over aligned (truth, pipeline) values, with
/// the zone of each key.
pub fn column_score(
    product: &str,
    column: &str,
    pairs: &[(&str, f64, f64)],
    floor: f64,
    od_metrics: bool,
    truth_keys: usize,
    pipeline_keys: usize,
) -> ColumnScore {
    let t: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let p: Vec<f64> = pairs.iter().map(|p| p.2).collect();
    let st: f64 = t.iter().sum();
    let sp: f64 = p.iter().sum();
    let abs: f64 = t.iter().zip(&p).map(|(t, p)| (p - t).abs()).sum();
    let ape: Vec<f64> = t
        .iter()
        .zip(&p)
        .filter(|(t, _)| **t >= floor && **t > 0.0)
        .map(|(t, p)| (p - t).abs() / t)
        .collect();
    // Zones in thirds by their truth total, smallest first.
    let mut zone_total: BTreeMap<&str, f64> = BTreeMap::new();
    for (z, t, _) in pairs {
        *zone_total.entry(z).or_insert(0.0) += t;
    }
    let mut order: Vec<(&str, f64)> = zone_total.into_iter().collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    let n = order.len().max(1);
    let class_of: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (z, _))| (*z, 3 * i / n))
        .collect();
    let mut class_err = [0.0f64; 3];
    let mut class_truth = [0.0f64; 3];
    for (z, t, p) in pairs {
        let c = class_of[z];
        class_err[c] += (p - t).abs();
        class_truth[c] += t;
    }
    let names = ["1_small", "2_medium", "3_large"];
    let wape_by_zone_size = (0..3)
        .filter(|&c| class_of.values().any(|&v| v == c))
        .map(|c| (names[c].to_string(), class_err[c] / class_truth[c]))
        .collect();
    let (cpc, nrmse) = if od_metrics {
        let common: f64 = t.iter().zip(&p).map(|(t, p)| t.min(*p)).sum();
        let nk = t.len().max(1) as f64;
        let mse: f64 = t
            .iter()
            .zip(&p)
            .map(|(t, p)| (p - t) * (p - t))
            .sum::<f64>()
            / nk;
        (Some(2.0 * common / (st + sp)), Some(mse.sqrt() / (st / nk)))
    } else {
        (None, None)
    };
    ColumnScore {
        product: product.to_string(),
        column: column.to_string(),
        truth_keys,
        pipeline_keys,
        keys: pairs.len(),
        truth_total: st,
        pipeline_total: sp,
        wape: abs / st,
        mdape: median(ape.clone()),
        mdape_keys: ape.len(),
        spearman: spearman(&t, &p),
        bias: (sp - st) / st,
        wape_by_zone_size,
        cpc,
        nrmse,
    }
}

/// Scores the pipeline files `files` (product name → path) against the
/// `truth` of the dataset on `zoning`.
pub fn score(
    truth: &Truth,
    zoning: &Zoning,
    files: &[(String, PathBuf)],
    options: &ScoreOptions,
    dataset: &str,
) -> Result<Scores, ScoreError> {
    let mut scores = Scores {
        dataset: dataset.to_string(),
        zones: zoning.spec().to_string(),
        mape_floor: options.mape_floor,
        files: Vec::new(),
        columns: Vec::new(),
        home_work: None,
        zone_errors: BTreeMap::new(),
        zone_errors_of: String::new(),
    };
    for (product, path) in files {
        let batches = read_table(path)?;
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
        if product == "home_work" {
            let (s, notes) =
                score_home_work(&truth.batches("home_work", zoning)?, zoning, &batches, path)?;
            scores.home_work = Some(s);
            scores.files.push(notes);
            continue;
        }
        let Some(spec) = SPECS.iter().find(|s| s.name == product) else {
            return Err(serr(
                path,
                format!(
                    "no product {product:?} to score (expected one of {})",
                    SCORED.join(", ")
                ),
            ));
        };
        // A file with no rows has no columns to read: all its values are 0.
        let keys: Vec<(&str, KeyKind)> = spec
            .keys
            .iter()
            .filter(|(k, _)| !spec.optional.contains(k) || columns.contains(*k))
            .copied()
            .collect();
        let summed_over: Vec<String> = spec
            .keys
            .iter()
            .map(|k| k.0)
            .filter(|k| !keys.iter().any(|(n, _)| n == k))
            .map(str::to_string)
            .collect();
        let values: Vec<&str> = spec
            .values
            .iter()
            .copied()
            .filter(|v| columns.contains(*v) || batches.is_empty())
            .collect();
        if values.is_empty() {
            return Err(serr(
                path,
                format!(
                    "no value column of {product} (expected {})",
                    spec.values.join(", ")
                ),
            ));
        }
        let pipeline = key_rows(&batches, &keys, &values, zoning, path, false)?;
        if pipeline.duplicates > 0 {
            return Err(serr(
                path,
                format!(
                    "{} duplicate keys (first: {}); each key ({}) must appear once",
                    pipeline.duplicates,
                    pipeline.first_duplicate.unwrap_or_default().join(", "),
                    keys.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let truth_batches = truth.batches(product, zoning)?;
        let truth_path = Path::new("truth");
        let truth_rows = key_rows(&truth_batches, &keys, &values, zoning, truth_path, true)?;
        let zone_at = keys.iter().position(|k| k.0 == spec.zone).unwrap_or(0);
        // In key order, so that sums are added in the same order every time.
        let mut union: Vec<&Vec<String>> = truth_rows.rows.keys().collect();
        union.extend(
            pipeline
                .rows
                .keys()
                .filter(|k| !truth_rows.rows.contains_key(*k)),
        );
        union.sort_unstable();
        for (vi, v) in values.iter().enumerate() {
            let pairs: Vec<(&str, f64, f64)> = union
                .iter()
                .map(|k| {
                    (
                        k[zone_at].as_str(),
                        truth_rows.rows.get(*k).map_or(0.0, |r| r[vi]),
                        pipeline.rows.get(*k).map_or(0.0, |r| r[vi]),
                    )
                })
                .collect();
            if vi == 0 && scores.zone_errors_of.is_empty() {
                for (z, t, p) in &pairs {
                    let e = scores
                        .zone_errors
                        .entry(z.to_string())
                        .or_insert((0.0, 0.0));
                    e.0 += t;
                    e.1 += (p - t).abs();
                }
                scores.zone_errors_of = format!("{product}.{v}");
            }
            scores.columns.push(column_score(
                product,
                v,
                &pairs,
                options.mape_floor,
                spec.od_metrics,
                truth_rows.rows.len(),
                pipeline.rows.len(),
            ));
        }
        scores.files.push(FileNotes {
            product: product.clone(),
            path: path.display().to_string(),
            rows: pipeline.rows.len(),
            summed_over,
            keys_not_in_zoning: pipeline.not_in_zoning,
            examples_not_in_zoning: pipeline.examples.into_iter().collect(),
        });
    }
    Ok(scores)
}

/// Each subscriber's home and work zone keys in a `home_work` table, with
/// the rows naming zones outside the zoning.
struct HomeWorkRows {
    zones: BTreeMap<i64, (Option<String>, Option<String>)>,
    not_in_zoning: usize,
    examples: BTreeSet<String>,
}

fn read_home_work(
    batches: &[RecordBatch],
    zoning: &Zoning,
    path: &Path,
) -> Result<HomeWorkRows, ScoreError> {
    let mut out = HomeWorkRows {
        zones: BTreeMap::new(),
        not_in_zoning: 0,
        examples: BTreeSet::new(),
    };
    let mut duplicates = 0;
    for b in batches {
        let id = column_text(b, "subscriber_id", KeyKind::Int, path)?;
        let home = column_text(b, "home_zone", KeyKind::Zone, path)?;
        let work = column_text(b, "work_zone", KeyKind::Zone, path)?;
        for i in 0..b.num_rows() {
            let Some(id) = id[i].as_ref().and_then(|s| s.parse::<i64>().ok()) else {
                return Err(serr(
                    path,
                    format!("row {}: `subscriber_id` is empty", i + 1),
                ));
            };
            for z in [&home[i], &work[i]].into_iter().flatten() {
                if !z.is_empty() && zoning.parse_key(z).is_none() {
                    out.not_in_zoning += 1;
                    if out.examples.len() < 5 {
                        out.examples.insert(z.clone());
                    }
                }
            }
            let clean = |z: &Option<String>| z.clone().filter(|s| !s.is_empty());
            if out
                .zones
                .insert(id, (clean(&home[i]), clean(&work[i])))
                .is_some()
            {
                duplicates += 1;
            }
        }
    }
    if duplicates > 0 {
        return Err(serr(
            path,
            format!("{duplicates} duplicate keys; each subscriber_id must appear once"),
        ));
    }
    Ok(out)
}

fn score_home_work(
    truth: &[RecordBatch],
    zoning: &Zoning,
    batches: &[RecordBatch],
    path: &Path,
) -> Result<(HomeWorkScore, FileNotes), ScoreError> {
    let truth = read_home_work(truth, zoning, Path::new("truth home_work"))?;
    let found = read_home_work(batches, zoning, path)?;
    let distance = |a: &str, b: &str| -> Option<f64> {
        let (alon, alat) = zoning.centroid(zoning.parse_key(a)?)?;
        let (blon, blat) = zoning.centroid(zoning.parse_key(b)?)?;
        Some(haversine_m(alon, alat, blon, blat))
    };
    let (mut n, mut home_right, mut with_work, mut work_right) = (0usize, 0usize, 0usize, 0usize);
    let (mut home_d, mut work_d) = (Vec::new(), Vec::new());
    for (id, (th, tw)) in &truth.zones {
        let (h, w) = found.zones.get(id).cloned().unwrap_or((None, None));
        if let Some(th) = th {
            n += 1;
            if h.as_ref() == Some(th) {
                home_right += 1;
            }
            if let Some(d) = h.as_deref().and_then(|h| distance(h, th)) {
                home_d.push(d);
            }
        }
        if let Some(tw) = tw {
            with_work += 1;
            if w.as_ref() == Some(tw) {
                work_right += 1;
            }
            if let Some(d) = w.as_deref().and_then(|w| distance(w, tw)) {
                work_d.push(d);
            }
        }
    }
    Ok((
        HomeWorkScore {
            subscribers: n,
            home_right_share: home_right as f64 / n.max(1) as f64,
            home_median_error_m: median(home_d),
            with_work,
            work_right_share: work_right as f64 / with_work.max(1) as f64,
            work_median_error_m: median(work_d),
        },
        FileNotes {
            product: "home_work".into(),
            path: path.display().to_string(),
            rows: found.zones.len(),
            summed_over: Vec::new(),
            keys_not_in_zoning: found.not_in_zoning,
            examples_not_in_zoning: found.examples.into_iter().collect(),
        },
    ))
}

/// Where the truth comes from: computed now, or the files `mobsynth
/// products` wrote for the same dataset, zoning and `--min-dwell`.
pub enum Truth<'a> {
    Computed(&'a Products),
    Files(PathBuf),
}

impl Truth<'_> {
    fn batches(&self, product: &str, zoning: &Zoning) -> Result<Vec<RecordBatch>, ScoreError> {
        match self {
            Truth::Computed(p) => Ok(tables::batch(product, p, zoning, 1.0).into_iter().collect()),
            Truth::Files(dir) => {
                let parquet = dir.join(format!("{product}.parquet"));
                let path = if parquet.exists() {
                    parquet
                } else {
                    dir.join(format!("{product}.csv"))
                };
                read_table(&path)
            }
        }
    }
}

/// Checks that `dir` holds truth products made on `zones` with
/// `min_dwell_min`, unscaled.
pub fn check_truth_dir(
    dir: &Path,
    zones: &str,
    min_dwell_min: u32,
    dataset: &crate::sink::Manifest,
) -> Result<(), ScoreError> {
    let path = dir.join("products.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        serr(
            &path,
            format!("cannot read (expected the output of `mobsynth products`): {e}"),
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| serr(&path, format!("not JSON: {e}")))?;
    let expect = |key: &str, want: serde_json::Value| -> Result<(), ScoreError> {
        if v[key] != want {
            return Err(serr(
                &path,
                format!("`{key}` is {}, expected {want}", v[key]),
            ));
        }
        Ok(())
    };
    expect("made_by", "truth".into())?;
    if v["dataset"] != tables::dataset_identity(dataset) {
        return Err(serr(
            &path,
            "made from another dataset (`dataset` differs from its manifest)",
        ));
    }
    expect("zones", zones.into())?;
    expect("min_dwell_minutes", min_dwell_min.into())?;
    expect("scale", 1.0.into())
}

/// Why a scoring could not be done: bad input (dataset, zoning, a
/// pipeline's file) or a failure to write a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Products(#[from] crate::products::ProductsError),
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error("{0}")]
    Write(String),
}

/// `mobsynth score`: the truth of `request`'s dataset and zoning (computed,
/// or read from `truth_dir`) against the pipeline's `files`; writes `json`
/// and `html` when given.
pub fn run(
    request: &crate::products::Request,
    files: &[(String, PathBuf)],
    options: &ScoreOptions,
    truth_dir: Option<&Path>,
    json: Option<&Path>,
    html: Option<&Path>,
) -> Result<Scores, RunError> {
    let (source, zoning) = crate::products::open(request)?;
    let computed;
    let truth = match truth_dir {
        Some(dir) => {
            check_truth_dir(
                dir,
                request.zones,
                request.options.min_dwell_min,
                source.reader.manifest(),
            )?;
            Truth::Files(dir.to_path_buf())
        }
        None => {
            computed = crate::products::truth(&source, &zoning, &request.options)
                .map_err(crate::products::ProductsError::from)?;
            Truth::Computed(&computed)
        }
    };
    let scores = score(
        &truth,
        &zoning,
        files,
        options,
        &request.dataset.display().to_string(),
    )?;
    let write = |path: &Path, text: String| -> Result<(), RunError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| RunError::Write(format!("{}: cannot write: {e}", path.display())))
    };
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&scores)
            .map_err(|e| RunError::Write(format!("{}: {e}", path.display())))?;
        write(path, text + "\n")?;
    }
    if let Some(path) = html {
        let title = format!("mobsynth score: {}", request.dataset.display());
        write(path, report::html_report(&title, &scores, &zoning))?;
    }
    Ok(scores)
}

/// Great-circle distance in metres.
pub fn haversine_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * crate::map::EARTH_RADIUS_M * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_hand_made_perturbation_scores_as_computed_by_hand() {
        // Zones a, b, c with truth 10, 20, 30 and a pipeline saying 12, 20,
        // 24, plus a key the truth lacks (d: 0 vs 4).
        let pairs = [
            ("a", 10.0, 12.0),
            ("b", 20.0, 20.0),
            ("c", 30.0, 24.0),
            ("d", 0.0, 4.0),
        ];
        let s = column_score("od", "trips", &pairs, 15.0, true, 3, 4);
        // |2| + 0 + |6| + |4| = 12 over 60.
        assert!((s.wape - 0.2).abs() < 1e-12, "{}", s.wape);
        // Keys with truth ≥ 15: b (0) and c (0.2): median 0.1.
        assert!((s.mdape - 0.1).abs() < 1e-12, "{}", s.mdape);
        assert_eq!(s.mdape_keys, 2);
        // (60 − 60) / 60.
        assert_eq!(s.bias, 0.0);
        // Both rank the keys d, a, b, c.
        assert!((s.spearman - 1.0).abs() < 1e-12);
        // min sums: 10 + 20 + 24 + 0 = 54; CPC = 108 / 120.
        assert!((s.cpc.unwrap() - 0.9).abs() < 1e-12);
        // MSE = (4 + 0 + 36 + 16) / 4 = 14; mean truth 15.
        assert!((s.nrmse.unwrap() - 14f64.sqrt() / 15.0).abs() < 1e-12);
        // Thirds of 4 zones by truth: d (0), a (10) small; b medium; c large.
        assert_eq!(s.wape_by_zone_size["1_small"], 6.0 / 10.0);
        assert_eq!(s.wape_by_zone_size["2_medium"], 0.0);
        assert_eq!(s.wape_by_zone_size["3_large"], 0.2);
    }
}
