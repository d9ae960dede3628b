//! What several integration tests need: the binary, a scratch directory of
//! their own, and column readers for Arrow batches. Each test crate uses
//! its part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::AsArray;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;

/// Runs the `mobsynth` binary with `args`.
pub fn mobsynth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap()
}

/// A path in the system's temporary directory, unique to this test binary
/// and process, emptied of what an earlier run left.
pub fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mobsynth-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A column as text, nulls as "".
pub fn strings(b: &RecordBatch, name: &str) -> Vec<String> {
    let c = cast(b.column_by_name(name).unwrap(), &DataType::Utf8).unwrap();
    c.as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect()
}

/// An integer (or timestamp) column, nulls as 0.
pub fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = cast(b.column_by_name(name).unwrap(), &DataType::Int64).unwrap();
    c.as_primitive::<Int64Type>().values().to_vec()
}

/// An integer column, `None` where null.
pub fn i64s(b: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let c = cast(b.column_by_name(name).unwrap(), &DataType::Int64).unwrap();
    c.as_primitive::<Int64Type>().iter().collect()
}

/// A numeric column as floats.
pub fn floats(b: &RecordBatch, name: &str) -> Vec<f64> {
    let c = cast(b.column_by_name(name).unwrap(), &DataType::Float64).unwrap();
    c.as_primitive::<Float64Type>().values().to_vec()
}

/// A millisecond timestamp column.
pub fn ms(b: &RecordBatch, name: &str) -> Vec<i64> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<TimestampMillisecondType>()
        .values()
        .to_vec()
}
