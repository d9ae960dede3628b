//! Column types as a data lake sees them: every integer column is signed,
//! since Spark, Java, PostgreSQL and most warehouses have no unsigned
//! integers. The Parquet files carry no unsigned annotation and read back
//! with exactly the documented Arrow schemas; CSV, NDJSON and the event
//! stream hold the same values and read with those schemas too.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{ConvertedType, IntType, LogicalType, Type as PhysicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};

use mobsynth::Table;
use mobsynth::reader::{DatasetReader, column_opt_i64};
use mobsynth::sink::files::plain_text_schema;
use mobsynth::sink::network_tables::events_schema;

/// Every table a run with truth and sampled positions writes, with the
/// schema that documents it: the generator's own [`Table`] list.
fn documented() -> BTreeMap<&'static str, SchemaRef> {
    Table::ALL.iter().map(|t| (t.name(), t.schema())).collect()
}

const RUN: [&str; 7] = [
    "--subscribers",
    "300",
    "--days",
    "2",
    "--positions-every",
    "3600",
    "--quiet",
];

fn mobsynth(args: &[&str]) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The same small run in `format`, made once per test binary; the formats
/// are made side by side by the tests that first ask for them.
fn dataset(format: &'static str) -> &'static Path {
    static RUNS: [(&str, OnceLock<PathBuf>); 3] = [
        ("parquet", OnceLock::new()),
        ("csv", OnceLock::new()),
        ("ndjson", OnceLock::new()),
    ];
    let (_, run) = RUNS.iter().find(|(f, _)| *f == format).unwrap();
    run.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "mobsynth-column-types-{}-{format}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut args = vec!["run", "--format", format, "-o", dir.to_str().unwrap()];
        args.extend_from_slice(&RUN);
        mobsynth(&args);
        dir
    })
}

fn is_unsigned(t: &DataType) -> bool {
    matches!(
        t,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64
    )
}

fn is_integer(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    ) || is_unsigned(t)
}

#[test]
fn documented_integer_columns_are_signed_and_ids_are_64_bits() {
    for (table, schema) in documented() {
        for f in schema.fields() {
            let t = f.data_type();
            assert!(!is_unsigned(t), "{table}.{}: {t}", f.name());
            if let DataType::Dictionary(key, _) = t {
                assert!(!is_unsigned(key), "{table}.{}: {t}", f.name());
            }
            if f.name().ends_with("_id") {
                assert_eq!(t, &DataType::Int64, "{table}.{}", f.name());
            }
        }
    }
    // Byte counts can pass 2³¹ in a long session.
    let events = events_schema();
    for name in ["bytes_up", "bytes_down"] {
        assert_eq!(
            events.field_with_name(name).unwrap().data_type(),
            &DataType::Int64
        );
    }
}

/// What is unsigned about a Parquet leaf column, if anything.
fn unsigned_annotation(column: &parquet::schema::types::ColumnDescriptor) -> Option<String> {
    if let Some(LogicalType::Integer(IntType {
        is_signed: false,
        bit_width,
    })) = column.logical_type_ref()
    {
        return Some(format!("INTEGER({bit_width}, false)"));
    }
    let converted = column.converted_type();
    matches!(
        converted,
        ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64
    )
    .then(|| format!("{converted}"))
}

#[test]
fn parquet_files_carry_no_unsigned_type_and_read_back_as_documented() {
    let dir = dataset("parquet");
    let reader = DatasetReader::open(dir).unwrap();
    let documented = documented();
    let written: std::collections::BTreeSet<&str> = reader
        .manifest()
        .files
        .iter()
        .map(|f| f.table.as_str())
        .collect();
    // Dirty logs and happenings have tables of their own only when the
    // scenario asks for them (tests/log_quality.rs, tests/happenings.rs).
    assert_eq!(
        written,
        Table::ALL
            .iter()
            .filter(|t| t.section().is_none())
            .map(|t| t.name())
            .collect(),
        "every table written has a documented schema"
    );
    let mut unsigned = Vec::new();
    let mut ids = 0;
    for f in &reader.manifest().files {
        let path = dir.join(&f.path);
        let file = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let descr = file.metadata().file_metadata().schema_descr();
        for column in descr.columns() {
            let name = column.name();
            if let Some(what) = unsigned_annotation(column) {
                unsigned.push(format!("{}: {name} is {what}", f.path));
            }
            // Ids join across tables and systems: plain signed 64-bit.
            if name.ends_with("_id") {
                ids += 1;
                assert_eq!(
                    column.physical_type(),
                    PhysicalType::INT64,
                    "{}: {name}",
                    f.path
                );
                assert!(
                    matches!(
                        column.logical_type_ref(),
                        None | Some(LogicalType::Integer(IntType {
                            bit_width: 64,
                            is_signed: true
                        }))
                    ),
                    "{}: {name} is {:?}",
                    f.path,
                    column.logical_type_ref()
                );
            }
        }
        // Dictionary columns are plain strings to Parquet: their int8 keys
        // live only in the dictionary pages' encoding and in the embedded
        // Arrow schema, no integer column of their own.
        for f in documented[f.table.as_str()].fields() {
            if let DataType::Dictionary(..) = f.data_type() {
                let column = descr
                    .columns()
                    .iter()
                    .find(|c| c.name() == f.name())
                    .unwrap();
                assert_eq!(column.physical_type(), PhysicalType::BYTE_ARRAY);
                assert_eq!(column.logical_type_ref(), Some(&LogicalType::String));
            }
        }
        let arrow = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
        assert_eq!(
            arrow.schema().fields(),
            documented[f.table.as_str()].fields(),
            "{}",
            f.path
        );
    }
    assert!(
        unsigned.is_empty(),
        "unsigned columns:\n{}",
        unsigned.join("\n")
    );
    // event_id and cell_id at least, in every events file.
    assert!(ids > 2 * reader.files("events").count(), "{ids} id columns");
}

/// Every integer column of `table`, by name: the values of all its files in
/// the order written, nulls as `None`.
fn integers(dir: &Path, table: &str) -> BTreeMap<String, Vec<Option<i64>>> {
    let reader = DatasetReader::open(dir).unwrap();
    let schema = documented()[table].clone();
    let text = reader.manifest().format != "parquet";
    let mut out: BTreeMap<String, Vec<Option<i64>>> = BTreeMap::new();
    for b in reader.read(table, schema.clone()).unwrap() {
        // The text readers build from the schema: what they give back is it.
        if text {
            assert_eq!(b.schema().fields(), plain_text_schema(&schema).fields());
        }
        add_integers(&b, &schema, &dir.join(table), &mut out);
    }
    out
}

fn add_integers(
    b: &RecordBatch,
    schema: &SchemaRef,
    path: &Path,
    out: &mut BTreeMap<String, Vec<Option<i64>>>,
) {
    for f in schema.fields().iter().filter(|f| is_integer(f.data_type())) {
        let values = column_opt_i64(b, f.name(), path).unwrap();
        out.entry(f.name().clone()).or_default().extend(values);
    }
}

#[test]
fn csv_and_ndjson_read_with_the_signed_schemas_and_hold_the_parquet_values() {
    for table in documented().keys() {
        let expected = integers(dataset("parquet"), table);
        assert!(expected.values().all(|v| !v.is_empty()), "{table} has rows");
        for format in ["csv", "ndjson"] {
            let got = integers(dataset(format), table);
            assert!(got == expected, "{table} in {format} differs from Parquet");
        }
    }
    // The largest ids survive the trip through text: ECGI-style cell ids
    // use bits above 32.
    let cells = integers(dataset("csv"), "cells");
    assert!(
        cells["cell_id"].iter().flatten().all(|&c| c > 1 << 32),
        "cell ids above 2³²"
    );
}

#[test]
fn validate_reads_all_three_formats_alike() {
    use mobsynth::validate::dataset::load;
    let counts = |format| {
        let d = load(dataset(format), None).unwrap();
        let cells: std::collections::BTreeSet<u64> = d.events.iter().map(|e| e.cell).collect();
        (
            d.persons.len(),
            d.stays.len(),
            d.trips.len(),
            d.events.len(),
            cells,
        )
    };
    let parquet = counts("parquet");
    assert!(parquet.0 > 0 && parquet.1 > 0 && parquet.2 > 0 && parquet.3 > 0);
    assert_eq!(counts("csv"), parquet);
    assert_eq!(counts("ndjson"), parquet);
}

/// The stream prints each event as the events table holds it: parsed with
/// the events schema, its lines are the table's rows.
#[test]
fn the_stream_holds_the_values_of_the_events_table() {
    let mut args = vec!["run", "--stdout"];
    args.extend_from_slice(&RUN);
    let o = mobsynth(&args);
    let schema = events_schema();
    let lines = arrow::json::ReaderBuilder::new(plain_text_schema(&schema))
        .build(std::io::Cursor::new(o.stdout))
        .unwrap();
    let mut streamed: BTreeMap<String, Vec<Option<i64>>> = BTreeMap::new();
    for b in lines {
        add_integers(&b.unwrap(), &schema, Path::new("stdout"), &mut streamed);
    }
    // The stream is in time order, the table by subscriber: sort both by id.
    let by_id = |columns: &BTreeMap<String, Vec<Option<i64>>>| {
        let ids = &columns["event_id"];
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i]);
        columns
            .iter()
            .map(|(name, v)| (name.clone(), order.iter().map(|&i| v[i]).collect()))
            .collect::<BTreeMap<String, Vec<Option<i64>>>>()
    };
    let table = by_id(&integers(dataset("ndjson"), "events"));
    assert!(!table["event_id"].is_empty());
    assert!(
        by_id(&streamed) == table,
        "the stream differs from the events table"
    );
}
