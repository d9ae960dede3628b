//! Spilled partitions: the rows a group of subscribers writes to one
//! (table, day) file, kept as Arrow IPC under a temporary name until the
//! group is complete, then encoded as one Parquet file.
//!
//! A Parquet encoder holds, per column, a compressor and the page being
//! filled; a group writes every table for every day at once, so encoders
//! for a week cost several times the memory of one day. Spilled rows cost
//! neither memory nor an open file between writes (a long run has four
//! spills per day of the run at once, more than the usual limit of 1,024
//! open files), and the Parquet files are encoded one after another (one per
//! thread), so memory does not grow with the number of days. The spill goes
//! through the page cache and is removed seconds later; it is about six
//! times the size of the Parquet it becomes (some 130 MB for a group of
//! 16,384 subscriber-days).

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;

use super::files::{Compression, FileSummary, Format, OpenFile, io_err};
use super::{Provenance, SinkError};

/// The rows of one future Parquet file, spilled.
pub struct SpillFile {
    table: String,
    /// Where the Parquet file goes.
    path: PathBuf,
    /// The spill itself.
    spill: PathBuf,
    writer: StreamWriter<Appender>,
}

/// Collects what is written and appends it to a file on `flush`, opening
/// the file only for that, and keeping no memory between flushes.
struct Appender {
    path: PathBuf,
    pending: Vec<u8>,
}

impl Write for Appender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut file = OpenOptions::new().append(true).open(&self.path)?;
        file.write_all(&self.pending)?;
        self.pending = Vec::new();
        Ok(())
    }
}

fn spill_err(path: &Path, detail: impl std::fmt::Display) -> SinkError {
    SinkError::Encode {
        path: path.to_path_buf(),
        format: "spill",
        detail: detail.to_string(),
    }
}

impl SpillFile {
    /// Starts spilling rows of `table` meant for `path`.
    pub fn create(table: &str, path: &Path, schema: &SchemaRef) -> Result<SpillFile, SinkError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent, "cannot create directory"))?;
        }
        let mut spill = path.as_os_str().to_owned();
        spill.push(".spill.tmp");
        let spill = PathBuf::from(spill);
        File::create(&spill).map_err(io_err(&spill, "cannot create spill file"))?;
        let appender = Appender {
            path: spill.clone(),
            pending: Vec::new(),
        };
        let writer = StreamWriter::try_new(appender, schema)
            .and_then(|mut w| w.flush().map(|_| w))
            .map_err(|e| spill_err(&spill, e));
        let writer = match writer {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&spill);
                return Err(e);
            }
        };
        Ok(SpillFile {
            table: table.to_string(),
            path: path.to_path_buf(),
            spill,
            writer,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), SinkError> {
        self.writer
            .write(batch)
            .and_then(|_| self.writer.flush())
            .map_err(|e| spill_err(&self.spill, e))
    }

    /// Encodes the spilled rows as the Parquet file, in the order they were
    /// spilled, and removes the spill. Nothing but the complete file is left
    /// behind, whatever fails.
    pub fn encode(
        self,
        compression: Compression,
        provenance: &Provenance,
    ) -> Result<FileSummary, SinkError> {
        let spill = self.spill.clone();
        let result = self.encode_inner(compression, provenance);
        let _ = std::fs::remove_file(&spill);
        result
    }

    fn encode_inner(
        mut self,
        compression: Compression,
        provenance: &Provenance,
    ) -> Result<FileSummary, SinkError> {
        let spill = &self.spill;
        self.writer.finish().map_err(|e| spill_err(spill, e))?;
        let file = File::open(spill).map_err(io_err(spill, "cannot read spill file"))?;
        let reader = StreamReader::try_new(BufReader::with_capacity(1 << 20, file), None)
            .map_err(|e| spill_err(spill, e))?;
        let mut parquet = OpenFile::create(
            &self.table,
            &self.path,
            Format::Parquet,
            compression,
            reader.schema(),
            provenance,
        )?;
        for batch in reader {
            let written = batch
                .map_err(|e| spill_err(spill, e))
                .and_then(|b| parquet.write(&b));
            if let Err(e) = written {
                parquet.discard();
                return Err(e);
            }
        }
        parquet.finish()
    }

    /// Removes the spill of an interrupted group.
    pub fn discard(self) {
        let spill = self.spill;
        drop(self.writer);
        let _ = std::fs::remove_file(spill);
    }
}
