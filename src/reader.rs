//! Reading a dataset back: its manifest, and each table's batches in the
//! order they were written, a date partition at a time, in any of the three
//! formats.
//!
//! Every consumer of a dataset (`validate`, and the tools that compare or
//! convert datasets) reads through this one module, with the schemas the
//! writer uses, so that no consumer re-declares a table. Reading a day at a
//! time keeps memory bounded by a partition, not by the dataset.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::calendar::Calendar;
use crate::scenario::Scenario;
use crate::sink::files::plain_text_schema;
use crate::sink::{Manifest, ManifestFile};

/// A dataset that cannot be read; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DatasetError {
    pub path: PathBuf,
    pub message: String,
}

/// An error about `path`.
pub fn err(path: &Path, message: impl std::fmt::Display) -> DatasetError {
    DatasetError {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// A dataset directory written by `mobsynth run`, opened for reading.
pub struct DatasetReader {
    dir: PathBuf,
    manifest: Manifest,
}

impl DatasetReader {
    /// Opens `dir` by its `manifest.json`.
    pub fn open(dir: &Path) -> Result<DatasetReader, DatasetError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| err(&path, format!("cannot read the dataset's manifest: {e}")))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| err(&path, format!("not a mobsynth manifest: {e}")))?;
        Ok(DatasetReader {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The scenario the dataset was made from, with every value resolved.
    pub fn scenario(&self) -> Result<Scenario, DatasetError> {
        let path = self.dir.join("manifest.json");
        Scenario::parse(&self.manifest.scenario, "the manifest's scenario", None)
            .map_err(|e| err(&path, e))
    }

    /// The run's calendar, rebuilt from the manifest's scenario exactly as
    /// the generator built it (time zone, daylight-saving changes,
    /// holidays), and checked against the manifest's period.
    pub fn calendar(&self) -> Result<Calendar, DatasetError> {
        let path = self.dir.join("manifest.json");
        let calendar = self
            .scenario()?
            .calendar()
            .map_err(|e| err(&path, format!("the manifest's scenario: {e}")))?;
        let (start, end) = calendar.span();
        let instant = |key: &str, text: &str| {
            text.parse::<jiff::Timestamp>()
                .map(|t| t.as_second())
                .map_err(|e| err(&path, format!("{key} {text:?}: {e}")))
        };
        let m = &self.manifest;
        if (start, end)
            != (
                instant("period_start", &m.period_start)?,
                instant("period_end", &m.period_end)?,
            )
        {
            return Err(err(
                &path,
                "the period does not match the days of the manifest's scenario",
            ));
        }
        Ok(calendar)
    }

    /// Whether the dataset holds files of `table` (e.g. `truth/stays`).
    pub fn has_table(&self, table: &str) -> bool {
        self.files(table).next().is_some()
    }

    /// The files of `table`, in the order they were written.
    pub fn files<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a ManifestFile> + 'a {
        self.manifest.files.iter().filter(move |f| f.table == table)
    }

    /// The date partitions (`YYYY-MM-DD`) of `table`, in order; empty for a
    /// table that is not split by date.
    pub fn dates(&self, table: &str) -> Vec<String> {
        let mut dates: Vec<String> = self
            .files(table)
            .filter_map(|f| partition_date(&f.path).map(str::to_string))
            .collect();
        dates.dedup();
        dates
    }

    /// Every batch of `table`, in the order written.
    pub fn read(&self, table: &str, schema: SchemaRef) -> Result<Vec<RecordBatch>, DatasetError> {
        let mut out = Vec::new();
        for f in self.files(table) {
            self.read_file(f, &schema, &mut |b| {
                out.push(b);
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// The batches of `table` in the partition of `date`, in the order
    /// written.
    pub fn read_date(
        &self,
        table: &str,
        date: &str,
        schema: SchemaRef,
    ) -> Result<Vec<RecordBatch>, DatasetError> {
        let mut out = Vec::new();
        for f in self
            .files(table)
            .filter(|f| partition_date(&f.path) == Some(date))
        {
            self.read_file(f, &schema, &mut |b| {
                out.push(b);
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// Hands the batches of `table` in the partition of `date` to `each`,
    /// with only the columns named in `columns`: Parquet files decode no
    /// other column, which makes a scan of a few columns of `events` several
    /// times faster.
    pub fn for_each_batch_of_date(
        &self,
        table: &str,
        date: &str,
        schema: SchemaRef,
        columns: &[&str],
        each: &mut dyn FnMut(RecordBatch) -> Result<(), DatasetError>,
    ) -> Result<(), DatasetError> {
        for f in self
            .files(table)
            .filter(|f| partition_date(&f.path) == Some(date))
        {
            let path = self.dir.join(&f.path);
            if self.manifest.format == "parquet" {
                let file =
                    File::open(&path).map_err(|e| err(&path, format!("cannot open: {e}")))?;
                let builder =
                    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(&path, e))?;
                let mask =
                    ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
                let batches = builder
                    .with_projection(mask)
                    .with_batch_size(64 * 1024)
                    .build()
                    .map_err(|e| err(&path, e))?;
                for b in batches {
                    each(b.map_err(|e| err(&path, e))?)?;
                }
            } else {
                self.read_file(f, &schema, &mut |b| {
                    let indices: Vec<usize> = columns
                        .iter()
                        .filter_map(|c| b.schema().index_of(c).ok())
                        .collect();
                    each(b.project(&indices).map_err(|e| err(&path, e))?)
                })?;
            }
        }
        Ok(())
    }

    /// Hands every batch of `table` to `each`, file by file, without holding
    /// more than one batch.
    pub fn for_each_batch(
        &self,
        table: &str,
        schema: SchemaRef,
        each: &mut dyn FnMut(RecordBatch) -> Result<(), DatasetError>,
    ) -> Result<(), DatasetError> {
        for f in self.files(table) {
            self.read_file(f, &schema, each)?;
        }
        Ok(())
    }

    fn read_file(
        &self,
        f: &ManifestFile,
        schema: &SchemaRef,
        each: &mut dyn FnMut(RecordBatch) -> Result<(), DatasetError>,
    ) -> Result<(), DatasetError> {
        let path = self.dir.join(&f.path);
        let file = File::open(&path).map_err(|e| err(&path, format!("cannot open: {e}")))?;
        // A dirty log's events have a column more, and cells may be missing.
        let dirty_events;
        let schema = if f.table == "events" && self.manifest.scenario.contains("[log_quality]") {
            dirty_events = crate::sink::network_tables::events_schema_with_faults();
            &dirty_events
        } else {
            schema
        };
        let batches: Box<dyn Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>>> =
            match self.manifest.format.as_str() {
                "parquet" => Box::new(
                    ParquetRecordBatchReaderBuilder::try_new(file)
                        .and_then(|b| b.build())
                        .map_err(|e| err(&path, e))?,
                ),
                "csv" => Box::new(
                    arrow::csv::ReaderBuilder::new(plain_text_schema(schema))
                        .with_header(true)
                        .build(BufReader::new(file))
                        .map_err(|e| err(&path, e))?,
                ),
                "ndjson" => Box::new(
                    arrow::json::ReaderBuilder::new(plain_text_schema(schema))
                        .build(BufReader::new(file))
                        .map_err(|e| err(&path, e))?,
                ),
                other => {
                    return Err(err(
                        &path,
                        format!("unknown format {other:?} in the manifest"),
                    ));
                }
            };
        for b in batches {
            each(b.map_err(|e| err(&path, e))?)?;
        }
        Ok(())
    }
}

/// The `YYYY-MM-DD` of a `table/date=YYYY-MM-DD/part-….ext` path.
fn partition_date(path: &str) -> Option<&str> {
    path.split('/').find_map(|c| c.strip_prefix("date="))
}

/// Column `name` of `b`, cast to `to`; `path` names the table in errors.
pub fn column(
    b: &RecordBatch,
    name: &str,
    to: &DataType,
    path: &Path,
) -> Result<ArrayRef, DatasetError> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| err(path, format!("column `{name}` missing")))?;
    cast(c, to).map_err(|e| err(path, format!("column `{name}`: {e}")))
}

/// An integer column's values as `i64` (nulls read as 0).
pub fn column_i64(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<i64>, DatasetError> {
    let c = column(b, name, &DataType::Int64, path)?;
    Ok(c.as_primitive::<Int64Type>().values().to_vec())
}

/// An integer column's values as `Option<i64>`, `None` where null.
pub fn column_opt_i64(
    b: &RecordBatch,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<i64>>, DatasetError> {
    let c = column(b, name, &DataType::Int64, path)?;
    Ok(c.as_primitive::<Int64Type>().iter().collect())
}

/// A numeric column's values as `f64` (nulls read as 0).
pub fn column_f64(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<f64>, DatasetError> {
    let c = column(b, name, &DataType::Float64, path)?;
    Ok(c.as_primitive::<Float64Type>().values().to_vec())
}

/// A timestamp column as milliseconds since the epoch.
pub fn column_ms(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<i64>, DatasetError> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| err(path, format!("column `{name}` missing")))?;
    let c = match c.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => cast(c, &DataType::Int64),
        DataType::Timestamp(..) => cast(c, &DataType::Timestamp(TimeUnit::Millisecond, None))
            .and_then(|c| cast(&c, &DataType::Int64)),
        _ => cast(c, &DataType::Int64),
    }
    .map_err(|e| err(path, format!("column `{name}`: {e}")))?;
    Ok(c.as_primitive::<Int64Type>().values().to_vec())
}

/// A boolean column's values (nulls read as false).
pub fn column_bool(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<bool>, DatasetError> {
    let c = column(b, name, &DataType::Boolean, path)?;
    let v = c.as_boolean();
    Ok((0..v.len()).map(|i| v.is_valid(i) && v.value(i)).collect())
}

/// A text (or dictionary of text) column's values.
pub fn column_str(b: &RecordBatch, name: &str, path: &Path) -> Result<Vec<String>, DatasetError> {
    let c = column(b, name, &DataType::Utf8, path)?;
    let s = c.as_string::<i32>();
    Ok((0..s.len()).map(|i| s.value(i).to_string()).collect())
}

/// A text (or dictionary of text) column's values, `None` where null.
pub fn column_opt_str(
    b: &RecordBatch,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<String>>, DatasetError> {
    let c = column(b, name, &DataType::Utf8, path)?;
    let s = c.as_string::<i32>();
    Ok(s.iter().map(|v| v.map(str::to_string)).collect())
}

/// A numeric column's values as `Option<f64>`, `None` where null.
pub fn column_opt_f64(
    b: &RecordBatch,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<f64>>, DatasetError> {
    let c = column(b, name, &DataType::Float64, path)?;
    Ok(c.as_primitive::<Float64Type>().iter().collect())
}

#[cfg(test)]
mod tests {
    use super::partition_date;

    #[test]
    fn partition_dates_are_read_from_hive_paths() {
        assert_eq!(
            partition_date("events/date=2026-03-02/part-00000.parquet"),
            Some("2026-03-02")
        );
        assert_eq!(
            partition_date("truth/stays/date=2026-03-03/part-00001.csv"),
            Some("2026-03-03")
        );
        assert_eq!(partition_date("subscribers/part-00000.parquet"), None);
    }
}
