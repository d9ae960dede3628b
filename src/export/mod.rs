//! Exports: a dataset rewritten in the layout another tool reads, so that a
//! pipeline built on that tool can be tested without a converter.
//!
//! One module per target, each citing where the target's layout is defined:
//! [`flowkit`] (FlowDB's event and infrastructure tables), [`geoparquet`]
//! (GeoParquet 1.1 layers of the tables with positions), [`essnet`] (the
//! ESSnet mobile-network simulator's output files), [`trajectories`]
//! (scikit-mobility's TrajDataFrame and trackintel's positionfixes and
//! staypoints), [`bandicoot`] (bandicoot's per-user records and antennas).
//!
//! Every export reads the dataset through [`crate::reader`], a date
//! partition at a time, so memory is bounded by a partition (plus the
//! whole-run `subscribers` and `cells`). Files are written under a temporary
//! name and renamed once complete; a non-empty output directory is refused
//! unless the caller asks for it to be replaced; the same dataset gives the
//! same bytes.

pub mod bandicoot;
pub mod essnet;
pub mod flowkit;
pub mod geoparquet;
pub mod trajectories;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::reader::{DatasetError, DatasetReader};

/// The tools a dataset can be exported for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// FlowKit / FlowDB: daily `events.calls`, `events.sms`, `events.mds`
    /// CSV files, the cells and sites tables, and psql scripts to load them.
    Flowkit,
    /// GeoParquet 1.1 layers: cells, homes, stays, positions.
    Geoparquet,
    /// The ESSnet mobile-network simulator's output files.
    Essnet,
    /// scikit-mobility TrajDataFrame CSVs (truth and events).
    Skmob,
    /// trackintel positionfixes and staypoints CSVs.
    Trackintel,
    /// bandicoot: one CSV of calls and texts per user, and the antennas.
    Bandicoot,
}

impl ExportKind {
    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            ExportKind::Flowkit => "flowkit",
            ExportKind::Geoparquet => "geoparquet",
            ExportKind::Essnet => "essnet",
            ExportKind::Skmob => "skmob",
            ExportKind::Trackintel => "trackintel",
            ExportKind::Bandicoot => "bandicoot",
        }
    }
}

/// What an export is asked to do.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    pub kind: ExportKind,
    /// A directory written by `mobsynth run`.
    pub dataset: PathBuf,
    pub output: PathBuf,
    /// Replace the contents of a non-empty output directory.
    pub overwrite: bool,
    /// ESSnet: length of one time tick, seconds.
    pub tick_s: u32,
}

/// Errors of an export; each names the file, directory or table.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The dataset cannot be read: not a mobsynth dataset, or a damaged file.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The dataset lacks a table this export needs (for instance a run with
    /// `--no-truth` has no `truth/` tables): make it again with that table.
    #[error(
        "{dir}: the {kind} export needs the `{table}` table, which this dataset does not hold{hint}"
    )]
    Missing {
        dir: PathBuf,
        kind: &'static str,
        table: &'static str,
        hint: &'static str,
    },
    /// The dataset's run was interrupted: finish it with `run --resume`.
    #[error(
        "{0}: the run that wrote this dataset was interrupted (its manifest says incomplete); finish it with `mobsynth run --resume` first"
    )]
    Incomplete(PathBuf),
    /// The output directory holds files already.
    #[error("{0}: output directory is not empty (use --overwrite to replace its contents)")]
    NotEmpty(PathBuf),
    /// A value the export options cannot take.
    #[error("{0}")]
    Option(String),
    /// A file could not be written: check permissions and free space.
    #[error("{path}: {what}: {error}")]
    Io {
        path: PathBuf,
        what: &'static str,
        error: std::io::Error,
    },
    /// The Parquet encoder failed.
    #[error("{path}: cannot encode Parquet: {detail}")]
    Encode { path: PathBuf, detail: String },
}

impl ExportError {
    /// Whether the error is the user's input (exit code 2) rather than a
    /// failure while writing.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ExportError::Io { .. } | ExportError::Encode { .. })
    }
}

/// One file an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedFile {
    /// Relative to the output directory, `/`-separated.
    pub path: String,
    /// Data rows, headers not counted.
    pub rows: u64,
}

/// What an export wrote, and what it left out.
#[derive(Clone, Debug, Default)]
pub struct ExportReport {
    pub files: Vec<ExportedFile>,
    /// Things a user should know about the result (rows the target has no
    /// table for, approximations).
    pub notes: Vec<String>,
}

/// Exports the dataset as `options` say.
pub fn export(options: &ExportOptions) -> Result<ExportReport, ExportError> {
    let data = DatasetReader::open(&options.dataset)?;
    if !data.manifest().completed {
        return Err(ExportError::Incomplete(options.dataset.clone()));
    }
    if options.tick_s == 0 {
        return Err(ExportError::Option(
            "--tick must be at least 1 second".into(),
        ));
    }
    // Check the tables before touching the output directory, so that a
    // refused export leaves nothing behind.
    let needs: &[&'static str] = match options.kind {
        ExportKind::Flowkit => flowkit::TABLES,
        ExportKind::Geoparquet => geoparquet::TABLES,
        ExportKind::Essnet => essnet::TABLES,
        ExportKind::Skmob => trajectories::SKMOB_TABLES,
        ExportKind::Trackintel => trajectories::TRACKINTEL_TABLES,
        ExportKind::Bandicoot => bandicoot::TABLES,
    };
    for table in needs {
        require(&data, options.kind, table)?;
    }
    let mut out = Output::create(&options.output, options.overwrite)?;
    let mut notes = Vec::new();
    match options.kind {
        ExportKind::Flowkit => flowkit::export(&data, &mut out, &mut notes)?,
        ExportKind::Geoparquet => geoparquet::export(&data, &mut out, &mut notes)?,
        ExportKind::Essnet => essnet::export(&data, &mut out, options.tick_s, &mut notes)?,
        ExportKind::Skmob => trajectories::export_skmob(&data, &mut out, &mut notes)?,
        ExportKind::Trackintel => trajectories::export_trackintel(&data, &mut out, &mut notes)?,
        ExportKind::Bandicoot => bandicoot::export(&data, &mut out, &mut notes)?,
    }
    Ok(ExportReport {
        files: out.written,
        notes,
    })
}

/// Fails with [`ExportError::Missing`] unless `data` holds `table`.
fn require(data: &DatasetReader, kind: ExportKind, table: &'static str) -> Result<(), ExportError> {
    if data.has_table(table) || data.manifest().tables.contains_key(table) {
        return Ok(());
    }
    let hint = if table == "truth/positions" {
        " (run with --positions-every SECONDS)"
    } else if table.starts_with("truth/") {
        " (it was made with --no-truth; run it again without)"
    } else {
        ""
    };
    Err(ExportError::Missing {
        dir: data.dir().to_path_buf(),
        kind: kind.name(),
        table,
        hint,
    })
}

/// The output directory of an export.
pub struct Output {
    dir: PathBuf,
    written: Vec<ExportedFile>,
}

impl Output {
    /// Creates `dir`, or checks it is empty, or clears it when `overwrite`
    /// is set.
    pub fn create(dir: &Path, overwrite: bool) -> Result<Output, ExportError> {
        let io = |what, error| ExportError::Io {
            path: dir.to_path_buf(),
            what,
            error,
        };
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(io("cannot read output directory", e)),
        };
        if !empty {
            if !overwrite {
                return Err(ExportError::NotEmpty(dir.to_path_buf()));
            }
            std::fs::remove_dir_all(dir).map_err(|e| io("cannot clear output directory", e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create output directory", e))?;
        Ok(Output {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Opens `rel` (a `/`-separated path under the directory) for writing
    /// under a temporary name.
    pub fn file(&self, rel: &str) -> Result<OutFile, ExportError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ExportError::Io {
                path: parent.to_path_buf(),
                what: "cannot create directory",
                error: e,
            })?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(|e| ExportError::Io {
            path: tmp.clone(),
            what: "cannot create file",
            error: e,
        })?;
        Ok(OutFile {
            rel: rel.to_string(),
            path,
            tmp,
            writer: BufWriter::with_capacity(1 << 16, file),
            rows: 0,
        })
    }

    /// Writes a small file whole.
    pub fn write_whole(&mut self, rel: &str, text: &str, rows: u64) -> Result<(), ExportError> {
        let mut f = self.file(rel)?;
        f.write_all(text.as_bytes())?;
        f.rows = rows;
        self.commit(f)
    }

    /// Completes `file`: flushes it and renames it to its final name.
    pub fn commit(&mut self, file: OutFile) -> Result<(), ExportError> {
        let OutFile {
            rel,
            path,
            tmp,
            writer,
            rows,
        } = file;
        let io = |what, error| ExportError::Io {
            path: tmp.clone(),
            what,
            error,
        };
        let file = writer
            .into_inner()
            .map_err(|e| io("cannot write file", e.into_error()))?;
        file.sync_all().map_err(|e| io("cannot write file", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io("cannot rename completed file", e))?;
        self.written.push(ExportedFile { path: rel, rows });
        Ok(())
    }

    /// Records a file written by other means (the Parquet writer) under its
    /// final name.
    pub fn record(&mut self, rel: &str, rows: u64) {
        self.written.push(ExportedFile {
            path: rel.to_string(),
            rows,
        });
    }
}

/// A file being written under a temporary name.
pub struct OutFile {
    rel: String,
    path: PathBuf,
    tmp: PathBuf,
    writer: BufWriter<File>,
    /// Data rows written so far; the caller counts them.
    pub rows: u64,
}

impl OutFile {
    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.writer.write_all(bytes).map_err(|e| ExportError::Io {
            path: self.tmp.clone(),
            what: "cannot write file",
            error: e,
        })
    }

    /// Appends one line (a newline is added) and counts it as a row.
    pub fn row(&mut self, line: &str) -> Result<(), ExportError> {
        self.write_all(line.as_bytes())?;
        self.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// The temporary path being written.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }
}

/// A text field quoted for CSV when it needs to be.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The dataset's time zone, from its manifest.
pub fn time_zone(data: &DatasetReader) -> Result<jiff::tz::TimeZone, ExportError> {
    let name = &data.manifest().timezone;
    jiff::tz::TimeZone::get(name).map_err(|e| {
        ExportError::Dataset(crate::reader::err(
            &data.dir().join("manifest.json"),
            format!("unknown time zone {name:?}: {e}"),
        ))
    })
}

/// `ms` since the epoch as local time with its UTC offset,
/// `YYYY-MM-DD HH:MM:SS.mmm+HH:MM`.
pub fn local_time(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or_default();
    ts.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S%.3f%:z")
        .to_string()
}

/// `ms` since the epoch in UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn utc_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or_default()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_with_their_offset() {
        let tz = jiff::tz::TimeZone::get("Europe/Vaduz").unwrap();
        // 2026-03-02 07:15:03.250 UTC is 08:15 in winter time.
        let ms = 1_772_435_703_250;
        assert_eq!(utc_time(ms), "2026-03-02T07:15:03.250Z");
        assert_eq!(local_time(ms, &tz), "2026-03-02 08:15:03.250+01:00");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("abc"), "abc");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
