//! Rows waiting for their Parquet file: what a group of subscribers writes
//! to one (table, day) file, held until the group is complete, then encoded
//! as one Parquet file.
//!
//! A Parquet encoder holds, per column, a compressor and the page being
//! filled; a group writes every table for every day at once, so encoders
//! for a week cost several times the memory of one day. Rows are therefore
//! kept as the Arrow batches they arrive in, and the Parquet files are
//! encoded one after another (one per thread) when the group is complete, so
//! memory does not grow with the number of days. The batches stay in memory
//! while the dataset's budget allows (a group of 16,384 subscriber-days
//! holds about 130 MB with every table); beyond it they go to a temporary
//! Arrow IPC file beside the partition (`*.spill.tmp`), which costs no
//! memory and no open file between writes (a long run has four such files
//! per day of the run at once, more than the usual limit of 1,024 open
//! files). Held batches always come before spilled ones, so the Parquet
//! rows are in the order written either way, and the bytes the same.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;

use super::files::{Compression, Format, OpenFile, WrittenFile, io_err};
use super::{Provenance, SinkError};

/// Held batches of fewer rows are joined with their neighbours...
const SMALL_ROWS: usize = 8_192;
/// ...into batches of about this many rows.
const JOINED_ROWS: usize = 16_384;

/// The rows of one future Parquet file.
pub struct SpillFile {
    table: String,
    /// Where the Parquet file goes.
    path: PathBuf,
    schema: SchemaRef,
    /// The first rows, in memory.
    held: Vec<RecordBatch>,
    /// `held[small_from..]` are small batches not yet joined into one.
    small_from: usize,
    /// The rest, on disk, once the memory budget ran out.
    disk: Option<DiskSpill>,
}

/// The part of a spill written to a temporary file.
struct DiskSpill {
    path: PathBuf,
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

impl DiskSpill {
    /// Creates the temporary file for rows meant for `path`.
    fn create(path: &Path, schema: &SchemaRef) -> Result<DiskSpill, SinkError> {
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
        match writer {
            Ok(writer) => Ok(DiskSpill {
                path: spill,
                writer,
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&spill);
                Err(e)
            }
        }
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), SinkError> {
        self.writer
            .write(batch)
            .and_then(|_| self.writer.flush())
            .map_err(|e| spill_err(&self.path, e))
    }
}

impl SpillFile {
    /// Starts collecting rows of `table` meant for `path`.
    pub fn new(table: &str, path: &Path, schema: &SchemaRef) -> SpillFile {
        SpillFile {
            table: table.to_string(),
            path: path.to_path_buf(),
            schema: schema.clone(),
            held: Vec::new(),
            small_from: 0,
            disk: None,
        }
    }

    /// Adds a batch: kept in memory if it fits in `room` bytes (which it
    /// then uses up), otherwise, and for every later batch, spilled to disk.
    pub fn write(&mut self, batch: &RecordBatch, room: &mut usize) -> Result<(), SinkError> {
        if self.disk.is_none() {
            let size = batch.get_array_memory_size();
            if size <= *room {
                *room -= size;
                self.held.push(batch.clone());
                self.join_small(room);
                return Ok(());
            }
            self.disk = Some(DiskSpill::create(&self.path, &self.schema)?);
        }
        match &mut self.disk {
            Some(disk) => disk.write(batch),
            None => Ok(()),
        }
    }

    /// Joins the small batches held last into one once they add up to
    /// [`JOINED_ROWS`]: a chunk of a many-day run brings a few thousand rows
    /// per day, and many small arrays take more memory than their rows
    /// (1.9k-row batches of 100k x 7 days). A large batch is left alone and
    /// closes the run of small ones before it.
    fn join_small(&mut self, room: &mut usize) {
        let Some(last) = self.held.last() else { return };
        let large = last.num_rows() >= SMALL_ROWS;
        let end = self.held.len() - usize::from(large);
        let small = &self.held[self.small_from..end];
        if !large && small.iter().map(RecordBatch::num_rows).sum::<usize>() < JOINED_ROWS {
            return;
        }
        if small.len() > 1
            && let Ok(joined) = arrow::compute::concat_batches(&self.schema, small)
        {
            let bytes: usize = small.iter().map(RecordBatch::get_array_memory_size).sum();
            *room = room
                .saturating_add(bytes)
                .saturating_sub(joined.get_array_memory_size());
            self.held.splice(self.small_from..end, [joined]);
        }
        self.small_from = self.held.len();
    }

    /// Encodes the rows as the Parquet file, in the order they were
    /// written, and removes the spill. Nothing but the written file (still
    /// to be committed) is left behind, whatever fails.
    pub fn encode(
        self,
        compression: Compression,
        provenance: &Provenance,
    ) -> Result<WrittenFile, SinkError> {
        let spill = self.disk.as_ref().map(|d| d.path.clone());
        let result = self.encode_inner(compression, provenance);
        if let Some(spill) = spill {
            let _ = std::fs::remove_file(&spill);
        }
        result
    }

    fn encode_inner(
        self,
        compression: Compression,
        provenance: &Provenance,
    ) -> Result<WrittenFile, SinkError> {
        let reader = match self.disk {
            Some(mut disk) => {
                let spill = &disk.path;
                disk.writer.finish().map_err(|e| spill_err(spill, e))?;
                let file = File::open(spill).map_err(io_err(spill, "cannot read spill file"))?;
                let reader = StreamReader::try_new(BufReader::with_capacity(1 << 20, file), None)
                    .map_err(|e| spill_err(spill, e))?;
                Some((disk.path, reader))
            }
            None => None,
        };
        let mut parquet = OpenFile::create(
            &self.table,
            &self.path,
            Format::Parquet,
            compression,
            self.schema.clone(),
            provenance,
        )?;
        let held = self.held.into_iter().map(Ok);
        let spilled = reader
            .into_iter()
            .flat_map(|(spill, reader)| reader.map(move |b| b.map_err(|e| spill_err(&spill, e))));
        for batch in held.chain(spilled) {
            if let Err(e) = batch.and_then(|b| parquet.write(&b)) {
                parquet.discard();
                return Err(e);
            }
        }
        parquet.write_out()
    }

    /// Drops the rows of an interrupted group and removes its spill.
    pub fn discard(self) {
        if let Some(disk) = self.disk {
            let path = disk.path;
            drop(disk.writer);
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn ids(from: i64, n: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from_iter_values(from..from + n))],
        )
        .unwrap()
    }

    #[test]
    fn small_batches_are_joined_in_order_and_large_ones_kept() {
        let first = ids(0, 1);
        let mut file = SpillFile::new("t", Path::new("t.parquet"), &first.schema());
        let mut room = usize::MAX / 2;
        let mut next = 0;
        // Twenty small batches, a large one, then three small ones.
        for n in [2_000; 20].into_iter().chain([10_000, 500, 500, 500]) {
            file.write(&ids(next, n), &mut room).unwrap();
            next += n;
        }
        let sizes: Vec<usize> = file.held.iter().map(|b| b.num_rows()).collect();
        // 9 x 2,000 reach 16,384 twice; two are left when the large one
        // comes, which closes their run; the last three wait.
        assert_eq!(sizes, [18_000, 18_000, 4_000, 10_000, 500, 500, 500]);
        let all: Vec<i64> = file
            .held
            .iter()
            .flat_map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                a.values().to_vec()
            })
            .collect();
        assert_eq!(all, (0..next).collect::<Vec<_>>());
    }
}
