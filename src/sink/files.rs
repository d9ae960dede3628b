//! One output file: encoded as Parquet, CSV or NDJSON under a temporary
//! name, then renamed to its final name once complete, so a reader never
//! sees half a file where a whole one is expected.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use super::{Provenance, SinkError};

/// Output encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
    Ndjson,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }
    pub fn name(self) -> &'static str {
        self.extension()
    }
}

/// Parquet compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Snappy,
    None,
}

impl Compression {
    /// The name written into the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Snappy => "snappy",
            Compression::None => "none",
        }
    }
}

/// A row group is closed once its encoded data reach this size: large enough
/// for efficient scans, small enough to bound the writer's memory.
const ROW_GROUP_BYTES: usize = 64 << 20;

enum Encoder {
    Parquet(ArrowWriter<BufWriter<Hashed>>),
    Csv(arrow::csv::Writer<BufWriter<Hashed>>),
    Ndjson(arrow::json::LineDelimitedWriter<BufWriter<Hashed>>),
}

/// A file that hashes what is written to it on the way, so that the
/// checksum of a completed file needs no second read.
struct Hashed {
    file: File,
    hasher: Sha256,
    bytes: u64,
}

impl Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A SHA-256 digest in lower-case hex.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file being written.
pub struct OpenFile {
    table: String,
    path: PathBuf,
    tmp: PathBuf,
    encoder: Encoder,
    /// CSV and NDJSON write dictionary columns as plain strings.
    text_schema: Option<SchemaRef>,
    rows: u64,
}

/// A completed file.
#[derive(Clone, Debug)]
pub struct FileSummary {
    pub table: String,
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

pub(super) fn io_err<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> SinkError + 'a {
    move |error| SinkError::Io {
        path: path.to_path_buf(),
        what,
        error,
    }
}

fn encode_err(path: &Path, format: Format, detail: impl std::fmt::Display) -> SinkError {
    SinkError::Encode {
        path: path.to_path_buf(),
        format: format.name(),
        detail: detail.to_string(),
    }
}

/// The schema text formats use: dictionary columns as plain strings and
/// UTC written as an offset.
pub fn plain_text_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, value) => {
                Field::new(f.name(), value.as_ref().clone(), f.is_nullable())
            }
            // The text encoders only know zones written as offsets; the instant is the same.
            DataType::Timestamp(unit, Some(_)) => Field::new(
                f.name(),
                DataType::Timestamp(*unit, Some("+00:00".into())),
                f.is_nullable(),
            ),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Whether a column's values rise along a subscriber's rows: times, and
/// event ids (subscriber and sequence number). Written as differences
/// (`DELTA_BINARY_PACKED`) they take a few bits a row; a dictionary would
/// fill up and fall back to eight bytes a value, all for the compressor to
/// work through.
fn rising_within_subscriber(field: &Field) -> bool {
    matches!(field.data_type(), DataType::Timestamp(..))
        || (field.name() == "event_id" && field.data_type() == &DataType::Int64)
}

impl OpenFile {
    /// Creates `path` (under a temporary name) with its parent directories,
    /// for rows of `table`.
    pub fn create(
        table: &str,
        path: &Path,
        format: Format,
        compression: Compression,
        schema: SchemaRef,
        provenance: &Provenance,
    ) -> Result<OpenFile, SinkError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent, "cannot create directory"))?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(io_err(&tmp, "cannot create file"))?;
        let file = Hashed {
            file,
            hasher: Sha256::new(),
            bytes: 0,
        };
        let out = BufWriter::with_capacity(64 << 10, file);
        let (encoder, text_schema) = match format {
            Format::Parquet => {
                let codec = match compression {
                    Compression::Zstd => {
                        ParquetCompression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default())
                    }
                    Compression::Snappy => ParquetCompression::SNAPPY,
                    Compression::None => ParquetCompression::UNCOMPRESSED,
                };
                let kv = provenance
                    .key_values()
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect();
                let mut props = WriterProperties::builder();
                for f in schema
                    .fields()
                    .iter()
                    .filter(|f| rising_within_subscriber(f))
                {
                    let column = ColumnPath::from(f.name().as_str());
                    props = props
                        .set_column_dictionary_enabled(column.clone(), false)
                        .set_column_encoding(column, Encoding::DELTA_BINARY_PACKED);
                }
                let props = props
                    .set_compression(codec)
                    .set_max_row_group_row_count(Some(16 << 20))
                    // Every open file keeps a dictionary per column; a small cap
                    // sends high-cardinality columns (ids, times, coordinates) to
                    // plain encoding early instead of holding a megabyte each.
                    .set_dictionary_page_size_limit(64 << 10)
                    .set_key_value_metadata(Some(kv))
                    .set_created_by(format!("mobsynth {}", provenance.version))
                    .build();
                let w = ArrowWriter::try_new(out, schema, Some(props))
                    .map_err(|e| encode_err(path, format, e))?;
                (Encoder::Parquet(w), None)
            }
            Format::Csv => (
                Encoder::Csv(
                    arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.3fZ".into())
                        .build(out),
                ),
                Some(plain_text_schema(&schema)),
            ),
            Format::Ndjson => (
                Encoder::Ndjson(arrow::json::LineDelimitedWriter::new(out)),
                Some(plain_text_schema(&schema)),
            ),
        };
        Ok(OpenFile {
            table: table.to_string(),
            path: path.to_path_buf(),
            tmp,
            encoder,
            text_schema,
            rows: 0,
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), SinkError> {
        let path = &self.path;
        match &mut self.encoder {
            Encoder::Parquet(w) => {
                w.write(batch)
                    .map_err(|e| encode_err(path, Format::Parquet, e))?;
                if w.in_progress_size() >= ROW_GROUP_BYTES {
                    w.flush()
                        .map_err(|e| encode_err(path, Format::Parquet, e))?;
                }
            }
            Encoder::Csv(w) => {
                let plain = to_plain(batch, self.text_schema.as_ref())
                    .map_err(|e| encode_err(path, Format::Csv, e))?;
                w.write(&plain)
                    .map_err(|e| encode_err(path, Format::Csv, e))?;
            }
            Encoder::Ndjson(w) => {
                let plain = to_plain(batch, self.text_schema.as_ref())
                    .map_err(|e| encode_err(path, Format::Ndjson, e))?;
                w.write(&plain)
                    .map_err(|e| encode_err(path, Format::Ndjson, e))?;
            }
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Bytes held in memory for the row group being built (Parquet only).
    pub fn buffered_bytes(&self) -> usize {
        match &self.encoder {
            Encoder::Parquet(w) => w.in_progress_size(),
            _ => 0,
        }
    }

    /// Closes the row group being built, freeing its memory.
    pub fn flush(&mut self) -> Result<(), SinkError> {
        if let Encoder::Parquet(w) = &mut self.encoder {
            w.flush()
                .map_err(|e| encode_err(&self.path, Format::Parquet, e))?;
        }
        Ok(())
    }

    /// Closes the file, renames it to its final name and returns its summary.
    pub fn finish(self) -> Result<FileSummary, SinkError> {
        self.write_out()?.commit()
    }

    /// Closes the file under its temporary name: everything is written and
    /// hashed, but not yet known to be on disk nor under its final name
    /// (see [`WrittenFile::commit`]).
    pub fn write_out(self) -> Result<WrittenFile, SinkError> {
        let tmp = self.tmp.clone();
        let result = self.close();
        if result.is_err() {
            // A file that could not be completed must not stay behind, even
            // under its temporary name: on a full disk that space is needed.
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn close(self) -> Result<WrittenFile, SinkError> {
        let path = &self.path;
        let buffered = match self.encoder {
            Encoder::Parquet(w) => w
                .into_inner()
                .map_err(|e| encode_err(path, Format::Parquet, e))?,
            Encoder::Csv(w) => w.into_inner(),
            Encoder::Ndjson(mut w) => {
                w.finish()
                    .map_err(|e| encode_err(path, Format::Ndjson, e))?;
                w.into_inner()
            }
        };
        let hashed = buffered.into_inner().map_err(|e| SinkError::Io {
            path: self.tmp.clone(),
            what: "cannot write file",
            error: e.into_error(),
        })?;
        drop(hashed.file);
        Ok(WrittenFile {
            tmp: self.tmp,
            summary: FileSummary {
                table: self.table,
                path: self.path,
                rows: self.rows,
                bytes: hashed.bytes,
                sha256: hex(&hashed.hasher.finalize()),
            },
        })
    }

    /// Removes the temporary file of an interrupted write.
    pub fn discard(self) {
        drop(self.encoder);
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// A file written under its temporary name, waiting to be made durable
/// and renamed. Waiting on the disk is kept apart from encoding so that it
/// can happen off the threads that compute; the file is closed meanwhile,
/// since a unit of a long run writes more files than a process may hold
/// open.
pub struct WrittenFile {
    tmp: PathBuf,
    summary: FileSummary,
}

impl WrittenFile {
    /// Waits until the file is on disk, gives it its final name and
    /// returns its summary; on failure nothing of it stays.
    pub fn commit(self) -> Result<FileSummary, SinkError> {
        // The data written through any descriptor of the file is flushed.
        let committed = File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(io_err(&self.tmp, "cannot write file"))
            .and_then(|_| {
                std::fs::rename(&self.tmp, &self.summary.path)
                    .map_err(io_err(&self.summary.path, "cannot rename completed file"))
            });
        match committed {
            Ok(()) => Ok(self.summary),
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                Err(e)
            }
        }
    }

    /// Removes the file.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

fn to_plain(
    batch: &RecordBatch,
    schema: Option<&SchemaRef>,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let Some(schema) = schema else {
        return Ok(batch.clone());
    };
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                cast(c, f.data_type())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

/// Size and SHA-256 (hex) of everything `reader` yields.
pub fn checksum_of(mut file: impl Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(&hasher.finalize())))
}

/// Writes a small file under a temporary name and renames it into place.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<(), SinkError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp).map_err(io_err(&tmp, "cannot create file"))?;
    f.write_all(data)
        .map_err(io_err(&tmp, "cannot write file"))?;
    f.sync_all().map_err(io_err(&tmp, "cannot write file"))?;
    std::fs::rename(&tmp, path).map_err(io_err(path, "cannot rename completed file"))
}
