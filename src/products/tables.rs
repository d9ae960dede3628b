//! The products as Arrow tables, their schemas, and writing them to a
//! directory (Parquet or CSV, each file under a temporary name until
//! complete).
//!
//! Integer columns are signed (`Int64` counts and ids, `Int16` hours,
//! `Date32` local dates); with a `--scale` other than 1 the counts become
//! `Float64`. Zones are their keys as [`Zoning::key`] writes them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Float64Builder, Int16Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{AGE_BANDS, DWELL_QUANTILES, Products, SEXES};
use crate::zones::Zoning;

/// The products, by the name their file takes.
pub const PRODUCT_NAMES: [&str; 7] = [
    "presence",
    "footfall",
    "od",
    "commute",
    "home_work",
    "dwell",
    "zones",
];

/// Output format of product files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductFormat {
    Parquet,
    Csv,
}

impl ProductFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ProductFormat::Parquet => "parquet",
            ProductFormat::Csv => "csv",
        }
    }
}

fn count_type(scaled: bool) -> DataType {
    if scaled {
        DataType::Float64
    } else {
        DataType::Int64
    }
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The schema of product `name`; `scaled` when counts are multiplied by a
/// `--scale` other than 1. `od_has_mode` says whether `od` has a `mode`
/// column (the truth does; a pipeline that cannot tell modes leaves it
/// out).
pub fn schema(name: &str, scaled: bool, od_has_mode: bool) -> Option<SchemaRef> {
    let c = count_type(scaled);
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    let fields = match name {
        "presence" => vec![
            f("zone", DataType::Utf8, false),
            f("hour", ts_type(), false),
            f("people", c, false),
            f("person_minutes", DataType::Float64, false),
        ],
        "footfall" => vec![
            f("zone", DataType::Utf8, false),
            f("date", DataType::Date32, false),
            f("hour", DataType::Int16, false),
            f("age_band", DataType::Utf8, false),
            f("sex", DataType::Utf8, false),
            f("visitors", c.clone(), false),
            f("visits", c, false),
            f("dwell_minutes", DataType::Float64, false),
        ],
        "od" => {
            let mut v = vec![
                f("origin_zone", DataType::Utf8, false),
                f("destination_zone", DataType::Utf8, false),
                f("date", DataType::Date32, false),
                f("departure_hour", DataType::Int16, false),
            ];
            if od_has_mode {
                v.push(f("mode", DataType::Utf8, false));
            }
            v.push(f("trips", c, false));
            v
        }
        "commute" => vec![
            f("home_zone", DataType::Utf8, false),
            f("work_zone", DataType::Utf8, false),
            f("people", c, false),
        ],
        "home_work" => vec![
            f("subscriber_id", DataType::Int64, false),
            f("home_zone", DataType::Utf8, true),
            f("work_zone", DataType::Utf8, true),
        ],
        "dwell" => {
            let mut v = vec![
                f("zone", DataType::Utf8, false),
                f("date", DataType::Date32, false),
                f("stays", c, false),
            ];
            for q in DWELL_QUANTILES {
                v.push(f(&quantile_column(q), DataType::Float64, false));
            }
            v
        }
        "zones" => vec![
            f("zone", DataType::Utf8, false),
            f("lon", DataType::Float64, true),
            f("lat", DataType::Float64, true),
            f("area_km2", DataType::Float64, true),
        ],
        _ => return None,
    };
    Some(Arc::new(Schema::new(fields)))
}

/// `p50_minutes` for 0.5.
pub fn quantile_column(q: f64) -> String {
    format!("p{:02}_minutes", (q * 100.0).round() as u32)
}

/// A count column: integers, or floats when scaled or fractional.
struct Counts {
    scale: f64,
    /// [`Products::weight_unit`]: counts are divided by it.
    unit: i64,
    int: Int64Builder,
    float: Float64Builder,
}

impl Counts {
    fn new(scale: f64, unit: i64) -> Self {
        Counts {
            scale,
            unit,
            int: Int64Builder::new(),
            float: Float64Builder::new(),
        }
    }
    fn integer(&self) -> bool {
        self.scale == 1.0 && self.unit == 1
    }
    fn push(&mut self, v: i64) {
        if self.integer() {
            self.int.append_value(v);
        } else {
            self.float
                .append_value(v as f64 / self.unit as f64 * self.scale);
        }
    }
    fn finish(mut self) -> ArrayRef {
        if self.integer() {
            Arc::new(self.int.finish())
        } else {
            Arc::new(self.float.finish())
        }
    }
}

fn minutes(ms: i64, scale: f64) -> f64 {
    ms as f64 / 60_000.0 * scale
}

/// Product `name` as one record batch.
pub fn batch(name: &str, p: &Products, zoning: &Zoning, scale: f64) -> Option<RecordBatch> {
    let unit = p.weight_unit.max(1);
    let schema = schema(name, scale != 1.0 || unit != 1, p.od_has_mode)?;
    let scale_unit = scale / unit as f64;
    let key = |z| zoning.key(z);
    let columns: Vec<ArrayRef> = match name {
        "presence" => {
            let mut zone = StringBuilder::new();
            let mut hour = TimestampMillisecondBuilder::new().with_timezone("UTC");
            let mut people = Counts::new(scale, unit);
            let mut pm = Float64Builder::new();
            for (&(h, z), c) in &p.presence {
                zone.append_value(key(z));
                hour.append_value(h);
                people.push(c.people);
                pm.append_value(minutes(c.person_ms, scale_unit));
            }
            vec![
                Arc::new(zone.finish()),
                Arc::new(hour.finish()),
                people.finish(),
                Arc::new(pm.finish()),
            ]
        }
        "footfall" => {
            let mut zone = StringBuilder::new();
            let mut date = Date32Builder::new();
            let mut hour = Int16Builder::new();
            let mut band = StringBuilder::new();
            let mut sex = StringBuilder::new();
            let mut visitors = Counts::new(scale, unit);
            let mut visits = Counts::new(scale, unit);
            let mut dwell = Float64Builder::new();
            for (k, c) in &p.footfall {
                zone.append_value(key(k.zone));
                date.append_value(k.when.day);
                hour.append_value(i16::from(k.when.hour));
                band.append_value(AGE_BANDS[k.band as usize].2);
                sex.append_value(SEXES[k.sex as usize]);
                visitors.push(c.visitors);
                visits.push(c.visits);
                dwell.append_value(minutes(c.dwell_ms, scale_unit));
            }
            vec![
                Arc::new(zone.finish()),
                Arc::new(date.finish()),
                Arc::new(hour.finish()),
                Arc::new(band.finish()),
                Arc::new(sex.finish()),
                visitors.finish(),
                visits.finish(),
                Arc::new(dwell.finish()),
            ]
        }
        "od" => {
            let mut o = StringBuilder::new();
            let mut d = StringBuilder::new();
            let mut date = Date32Builder::new();
            let mut hour = Int16Builder::new();
            let mut mode = StringBuilder::new();
            let mut trips = Counts::new(scale, unit);
            for (k, &n) in &p.od {
                o.append_value(key(k.origin));
                d.append_value(key(k.destination));
                date.append_value(k.when.day);
                hour.append_value(i16::from(k.when.hour));
                mode.append_value(k.mode.as_deref().unwrap_or(""));
                trips.push(n);
            }
            let mut v: Vec<ArrayRef> = vec![
                Arc::new(o.finish()),
                Arc::new(d.finish()),
                Arc::new(date.finish()),
                Arc::new(hour.finish()),
            ];
            if p.od_has_mode {
                v.push(Arc::new(mode.finish()));
            }
            v.push(trips.finish());
            v
        }
        "commute" => {
            let mut h = StringBuilder::new();
            let mut w = StringBuilder::new();
            let mut people = Counts::new(scale, unit);
            for (&(hz, wz), &n) in &p.commute() {
                h.append_value(key(hz));
                w.append_value(key(wz));
                // Whole people, in the unit of the other counts.
                people.push(n * unit);
            }
            vec![Arc::new(h.finish()), Arc::new(w.finish()), people.finish()]
        }
        "home_work" => {
            let mut id = Int64Builder::new();
            let mut h = StringBuilder::new();
            let mut w = StringBuilder::new();
            for (&sub, hw) in &p.home_work {
                id.append_value(sub);
                h.append_option(hw.home.map(key));
                w.append_option(hw.work.map(key));
            }
            vec![
                Arc::new(id.finish()),
                Arc::new(h.finish()),
                Arc::new(w.finish()),
            ]
        }
        "dwell" => {
            let mut zone = StringBuilder::new();
            let mut date = Date32Builder::new();
            let mut stays = Counts::new(scale, unit);
            let mut qs: Vec<Float64Builder> = DWELL_QUANTILES
                .iter()
                .map(|_| Float64Builder::new())
                .collect();
            for (&(z, day), row) in &p.dwell {
                zone.append_value(key(z));
                date.append_value(day);
                stays.push(row.stays);
                for (b, v) in qs.iter_mut().zip(row.quantiles) {
                    b.append_value(v);
                }
            }
            let mut v: Vec<ArrayRef> = vec![
                Arc::new(zone.finish()),
                Arc::new(date.finish()),
                stays.finish(),
            ];
            v.extend(qs.into_iter().map(|mut b| Arc::new(b.finish()) as ArrayRef));
            v
        }
        "zones" => {
            let mut zone = StringBuilder::new();
            let mut lon = Float64Builder::new();
            let mut lat = Float64Builder::new();
            let mut area = Float64Builder::new();
            for z in p.zones() {
                zone.append_value(key(z));
                let c = zoning.centroid(z);
                lon.append_option(c.map(|c| c.0));
                lat.append_option(c.map(|c| c.1));
                area.append_option(zoning.area_km2(z));
            }
            vec![
                Arc::new(zone.finish()),
                Arc::new(lon.finish()),
                Arc::new(lat.finish()),
                Arc::new(area.finish()),
            ]
        }
        _ => return None,
    };
    // Every arm fills exactly the columns its schema declares.
    Some(RecordBatch::try_new(schema, columns).expect("product columns match their schema"))
}

/// A product directory that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
    /// The output directory was refused (not empty, or a dataset's): the
    /// request is at fault, not the machine.
    pub refused: bool,
}

fn werr(path: &Path, m: impl std::fmt::Display) -> WriteError {
    WriteError {
        path: path.to_path_buf(),
        message: m.to_string(),
        refused: false,
    }
}

fn refused(path: &Path, m: &str) -> WriteError {
    WriteError {
        refused: true,
        ..werr(path, m)
    }
}

/// Makes `dir` ready for products: created if missing; a non-empty
/// directory is refused unless `overwrite`, when its product files go.
pub fn prepare_dir(dir: &Path, overwrite: bool) -> Result<(), WriteError> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| werr(dir, format!("cannot read: {e}")))?;
        if entries.next().is_some() {
            if !overwrite {
                return Err(refused(
                    dir,
                    "not empty; pass --overwrite to replace its contents",
                ));
            }
            if dir.join("manifest.json").exists() {
                return Err(refused(
                    dir,
                    "holds a dataset; products go to a directory of their own",
                ));
            }
            std::fs::remove_dir_all(dir).map_err(|e| werr(dir, format!("cannot empty: {e}")))?;
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| werr(dir, format!("cannot create: {e}")))
}

/// Writes `batch` to `dir/name.ext`, under a temporary name until complete.
pub fn write_batch(
    dir: &Path,
    name: &str,
    batch: &RecordBatch,
    format: ProductFormat,
) -> Result<PathBuf, WriteError> {
    let path = dir.join(format!("{name}.{}", format.extension()));
    let tmp = dir.join(format!("{name}.{}.tmp", format.extension()));
    let file =
        std::fs::File::create(&tmp).map_err(|e| werr(&tmp, format!("cannot create: {e}")))?;
    let out = std::io::BufWriter::new(file);
    match format {
        ProductFormat::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
                .set_created_by(format!("mobsynth {}", env!("CARGO_PKG_VERSION")))
                .build();
            let mut w = ArrowWriter::try_new(out, batch.schema(), Some(props))
                .map_err(|e| werr(&tmp, e))?;
            w.write(batch).map_err(|e| werr(&tmp, e))?;
            w.close().map_err(|e| werr(&tmp, e))?;
        }
        ProductFormat::Csv => {
            // The text encoder knows time zones written as offsets only.
            let text = crate::sink::files::plain_text_schema(&batch.schema());
            let columns = batch
                .columns()
                .iter()
                .zip(text.fields())
                .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| werr(&tmp, e))?;
            let batch = &RecordBatch::try_new(text, columns).map_err(|e| werr(&tmp, e))?;
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%SZ".into())
                .build(out);
            w.write(batch).map_err(|e| werr(&tmp, e))?;
            let mut out = w.into_inner();
            std::io::Write::flush(&mut out).map_err(|e| werr(&tmp, e))?;
        }
    }
    std::fs::rename(&tmp, &path).map_err(|e| werr(&path, format!("cannot rename: {e}")))?;
    Ok(path)
}

/// Writes every product, then `products.json` describing how they were
/// made.
pub fn write_all(
    dir: &Path,
    products: &Products,
    zoning: &Zoning,
    options: &super::ProductOptions,
    format: ProductFormat,
    made_by: &str,
    dataset: &crate::sink::Manifest,
) -> Result<Vec<(String, usize)>, WriteError> {
    let mut written = Vec::new();
    for name in PRODUCT_NAMES {
        // Every name in the list has a batch.
        let Some(b) = batch(name, products, zoning, options.scale) else {
            continue;
        };
        write_batch(dir, name, &b, format)?;
        written.push((name.to_string(), b.num_rows()));
    }
    let mut rows = serde_json::Map::new();
    for (n, r) in &written {
        rows.insert(n.clone(), serde_json::json!(r));
    }
    let about = serde_json::json!({
        "generator": "mobsynth",
        "version": env!("CARGO_PKG_VERSION"),
        "made_by": made_by,
        "dataset": dataset_identity(dataset),
        "zones": zoning.spec(),
        "grid_centre_lon_lat": zoning.grid_centre().map(|c| vec![c.0, c.1]),
        "min_dwell_minutes": options.min_dwell_min,
        "scale": options.scale,
        "format": format.extension(),
        "rows": rows,
    });
    let path = dir.join("products.json");
    let tmp = dir.join("products.json.tmp");
    let text = serde_json::to_string_pretty(&about).map_err(|e| werr(&path, e))? + "\n";
    std::fs::write(&tmp, text).map_err(|e| werr(&tmp, format!("cannot write: {e}")))?;
    std::fs::rename(&tmp, &path).map_err(|e| werr(&path, format!("cannot rename: {e}")))?;
    Ok(written)
}

/// What ties products to the dataset they were made from.
pub fn dataset_identity(m: &crate::sink::Manifest) -> serde_json::Value {
    serde_json::json!({
        "scenario_name": m.scenario_name,
        "seed": m.seed,
        "part": m.part,
        "parts": m.parts,
        "period_start": m.period_start,
        "period_end": m.period_end,
        "rows": m.tables,
    })
}
