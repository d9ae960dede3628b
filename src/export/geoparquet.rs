//! GeoParquet export: the tables with positions as GeoParquet 1.1 files that
//! GeoPandas, DuckDB spatial, GDAL and QGIS open as point layers.
//!
//! The layout is the GeoParquet 1.1.0 specification
//! (github.com/opengeospatial/geoparquet, `format-specs/geoparquet.md` and
//! its JSON schema `format-specs/schema.json`): a `geometry` column of WKB
//! points (ISO WKB, little-endian, 21 bytes: byte order 1, type 1, x =
//! longitude, y = latitude) and a `geo` key in the file's key-value metadata:
//!
//! ```json
//! {"version":"1.1.0","primary_column":"geometry","columns":{"geometry":
//!   {"encoding":"WKB","geometry_types":["Point"],"bbox":[xmin,ymin,xmax,ymax]}}}
//! ```
//!
//! `crs` is omitted, which the specification defines as OGC:CRS84 (WGS84
//! longitude, latitude), the dataset's own coordinates.
//!
//! Files: `cells.parquet` (at the cell's mast), `homes.parquet` (the
//! `subscribers` table at the home), and, when the dataset has them,
//! `stays.parquet`, `positions.parquet` and `event_positions.parquet` from
//! `truth/`. Every column of the source table is kept, with unsigned
//! integers widened to signed ones (GeoPandas and QGIS read signed types
//! best); the lon/lat columns stay beside the geometry. A table is written
//! as it is read, batch by batch, so memory stays bounded by a batch; the
//! bounding box is known only at the end and goes into the footer.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{ExportError, Output};
use crate::reader::{DatasetReader, err};
use crate::sink::network_tables::{cells_schema, event_positions_schema};
use crate::sink::tables::{positions_schema, stays_schema, subscribers_schema};

/// Tables the export needs; the truth tables are written when present.
pub const TABLES: &[&str] = &["subscribers", "cells"];

/// The GeoParquet version written.
pub const VERSION: &str = "1.1.0";

/// (file, source table, its schema, longitude column, latitude column).
type Layer = (
    &'static str,
    &'static str,
    SchemaRef,
    &'static str,
    &'static str,
);

fn layers() -> Vec<Layer> {
    vec![
        ("cells.parquet", "cells", cells_schema(), "lon", "lat"),
        (
            "homes.parquet",
            "subscribers",
            subscribers_schema(),
            "home_lon",
            "home_lat",
        ),
        ("stays.parquet", "truth/stays", stays_schema(), "lon", "lat"),
        (
            "positions.parquet",
            "truth/positions",
            positions_schema(),
            "lon",
            "lat",
        ),
        (
            "event_positions.parquet",
            "truth/event_positions",
            event_positions_schema(),
            "lon",
            "lat",
        ),
    ]
}

pub fn export(
    data: &DatasetReader,
    out: &mut Output,
    notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    let mut skipped = Vec::new();
    for (file, table, schema, lon, lat) in layers() {
        if !data.has_table(table) {
            skipped.push(table);
            continue;
        }
        let rows = write_layer(data, out, file, table, schema, lon, lat)?;
        out.record(file, rows);
    }
    if !skipped.is_empty() {
        notes.push(format!(
            "the dataset has no {}, so no layer was written for them",
            skipped.join(", ")
        ));
    }
    Ok(())
}

/// The output type of a source column: unsigned integers become the signed
/// type that holds them.
fn signed(t: &DataType) -> DataType {
    match t {
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        other => other.clone(),
    }
}

/// The schema of a layer: the source columns, then `geometry`.
fn layer_schema(source: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = source
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), signed(f.data_type()), f.is_nullable()))
        .collect();
    fields.push(Field::new("geometry", DataType::Binary, false));
    Arc::new(Schema::new(fields))
}

/// A point as ISO WKB, little-endian.
pub fn wkb_point(x: f64, y: f64) -> [u8; 21] {
    let mut b = [0u8; 21];
    b[0] = 1;
    b[1..5].copy_from_slice(&1u32.to_le_bytes());
    b[5..13].copy_from_slice(&x.to_le_bytes());
    b[13..21].copy_from_slice(&y.to_le_bytes());
    b
}

/// Bounding box of the points seen so far.
struct Bbox([f64; 4]);

impl Bbox {
    fn new() -> Bbox {
        Bbox([
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ])
    }

    fn add(&mut self, x: f64, y: f64) {
        let b = &mut self.0;
        b[0] = b[0].min(x);
        b[1] = b[1].min(y);
        b[2] = b[2].max(x);
        b[3] = b[3].max(y);
    }
}

/// The `geo` metadata of a layer of points.
fn geo_metadata(bbox: &Bbox) -> String {
    let mut column = serde_json::json!({
        "encoding": "WKB",
        "geometry_types": ["Point"],
    });
    if bbox.0[0].is_finite() {
        column["bbox"] = serde_json::json!(bbox.0);
    }
    serde_json::json!({
        "version": VERSION,
        "primary_column": "geometry",
        "columns": { "geometry": column },
    })
    .to_string()
}

fn write_layer(
    data: &DatasetReader,
    out: &Output,
    file: &str,
    table: &str,
    source: SchemaRef,
    lon_col: &str,
    lat_col: &str,
) -> Result<u64, ExportError> {
    let schema = layer_schema(&source);
    let path = out.dir().join(file);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let io = |what, error| ExportError::Io {
        path: tmp.clone(),
        what,
        error,
    };
    let encode = |e: parquet::errors::ParquetError| ExportError::Encode {
        path: tmp.clone(),
        detail: e.to_string(),
    };
    let f = std::fs::File::create(&tmp).map_err(|e| io("cannot create file", e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(f, schema.clone(), Some(props)).map_err(encode)?;
    let mut bbox = Bbox::new();
    let mut rows = 0u64;
    let table_path = data.dir().join(table);
    // The writer's own failure, kept apart from the reading errors the
    // callback returns, so it is reported as a failure to write.
    let mut write_failure = None;
    let read = data.for_each_batch(table, source, &mut |b: RecordBatch| {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for f in schema.fields().iter().take(schema.fields().len() - 1) {
            let c = b
                .column_by_name(f.name())
                .ok_or_else(|| err(&table_path, format!("column `{}` missing", f.name())))?;
            let c = if c.data_type() == f.data_type() {
                c.clone()
            } else {
                cast(c, f.data_type())
                    .map_err(|e| err(&table_path, format!("column `{}`: {e}", f.name())))?
            };
            columns.push(c);
        }
        let lon = cast(
            b.column_by_name(lon_col)
                .ok_or_else(|| err(&table_path, format!("column `{lon_col}` missing")))?,
            &DataType::Float64,
        )
        .map_err(|e| err(&table_path, e))?;
        let lat = cast(
            b.column_by_name(lat_col)
                .ok_or_else(|| err(&table_path, format!("column `{lat_col}` missing")))?,
            &DataType::Float64,
        )
        .map_err(|e| err(&table_path, e))?;
        let (lon, lat) = (
            lon.as_primitive::<Float64Type>(),
            lat.as_primitive::<Float64Type>(),
        );
        let mut geometry = BinaryBuilder::with_capacity(b.num_rows(), 21 * b.num_rows());
        for i in 0..b.num_rows() {
            if lon.is_null(i) || lat.is_null(i) {
                return Err(err(
                    &table_path,
                    format!("row {i}: `{lon_col}`/`{lat_col}` is null"),
                ));
            }
            let (x, y) = (lon.value(i), lat.value(i));
            bbox.add(x, y);
            geometry.append_value(wkb_point(x, y));
        }
        columns.push(Arc::new(geometry.finish()));
        let batch =
            RecordBatch::try_new(schema.clone(), columns).map_err(|e| err(&table_path, e))?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(|e| {
            let message = e.to_string();
            write_failure = Some(e);
            err(&tmp, message)
        })
    });
    if let Some(e) = write_failure {
        return Err(encode(e));
    }
    read?;
    writer.append_key_value_metadata(KeyValue::new("geo".to_string(), geo_metadata(&bbox)));
    let f = writer.into_inner().map_err(encode)?;
    f.sync_all().map_err(|e| io("cannot write file", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io("cannot rename completed file", e))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wkb_point_is_21_little_endian_bytes() {
        let b = wkb_point(9.5, 47.25);
        assert_eq!(b[0], 1);
        assert_eq!(u32::from_le_bytes(b[1..5].try_into().unwrap()), 1);
        assert_eq!(f64::from_le_bytes(b[5..13].try_into().unwrap()), 9.5);
        assert_eq!(f64::from_le_bytes(b[13..21].try_into().unwrap()), 47.25);
    }

    #[test]
    fn unsigned_columns_become_signed() {
        let s = layer_schema(&stays_schema());
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
        assert_eq!(s.field(s.fields().len() - 1).name(), "geometry");
    }

    #[test]
    fn an_empty_layer_has_no_bbox() {
        let v: serde_json::Value = serde_json::from_str(&geo_metadata(&Bbox::new())).unwrap();
        assert!(v["columns"]["geometry"].get("bbox").is_none());
        assert_eq!(v["version"], "1.1.0");
    }
}
