//! A time-ordered, paced event stream on standard output.
//!
//! Subscribers are simulated one after another, each over the whole run, so
//! events do not arrive in time order. They are put in order by an external
//! merge: each simulated window of subscribers leaves one sorted run per day
//! in a spill file, and the days are then streamed one after another, merging
//! that day's runs. Memory stays bounded by a window and a read buffer per
//! run, however many days are streamed; the spill files live in a private
//! temporary directory removed at the end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::SinkError;
use super::files::io_err as io;

/// How fast to emit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As fast as the reader takes them.
    Unpaced,
    /// This many events per wall-clock second.
    Rate(f64),
    /// This many simulated seconds per wall-clock second.
    Speed(f64),
}

/// One encoded event line with its sort key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamRecord {
    pub time_ms: i64,
    pub id: u64,
    /// The encoded line, newline included.
    pub line: Vec<u8>,
}

/// How a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every event was written.
    Complete,
    /// The reader closed the pipe; not an error for a stream.
    Closed,
    /// Stopped by the interrupt flag.
    Interrupted,
}

/// Sorted runs per day, spilled to disk.
pub struct Spill {
    dir: PathBuf,
    days: Vec<DaySpill>,
}

struct DaySpill {
    file: BufWriter<File>,
    path: PathBuf,
    /// (offset, records) of each sorted run.
    runs: Vec<(u64, u64)>,
    written: u64,
}

impl Spill {
    /// A spill for `days` days in a new directory under the system's
    /// temporary directory.
    pub fn new(days: usize) -> Result<Spill, SinkError> {
        static SPILLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SPILLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mobsynth-stream-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(io(&dir, "cannot create spill directory"))?;
        let mut out = Vec::with_capacity(days);
        for d in 0..days {
            let path = dir.join(format!("day-{d:05}.bin"));
            let file = File::create(&path).map_err(io(&path, "cannot create spill file"))?;
            out.push(DaySpill {
                file: BufWriter::with_capacity(64 << 10, file),
                path,
                runs: Vec::new(),
                written: 0,
            });
        }
        Ok(Spill { dir, days: out })
    }

    /// Adds one sorted run of day `day`; `records` is sorted here.
    pub fn add_run(&mut self, day: usize, records: &mut [StreamRecord]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        records.sort_unstable();
        let spill = &mut self.days[day];
        let start = spill.written;
        for r in records.iter() {
            let mut head = [0u8; 20];
            head[..8].copy_from_slice(&r.time_ms.to_le_bytes());
            head[8..16].copy_from_slice(&r.id.to_le_bytes());
            head[16..].copy_from_slice(&(r.line.len() as u32).to_le_bytes());
            spill
                .file
                .write_all(&head)
                .map_err(io(&spill.path, "cannot write spill file"))?;
            spill
                .file
                .write_all(&r.line)
                .map_err(io(&spill.path, "cannot write spill file"))?;
            spill.written += 20 + r.line.len() as u64;
        }
        spill.runs.push((start, records.len() as u64));
        Ok(())
    }

    /// Streams every day in order to `out`, merging its runs, at `pace`.
    /// `stop` is polled between events.
    pub fn drain(
        mut self,
        out: &mut impl Write,
        header: Option<&[u8]>,
        pace: Pace,
        stop: &dyn Fn() -> bool,
    ) -> Result<(u64, StreamEnd), SinkError> {
        let mut pacer = Pacer::new(pace);
        let mut emitted = 0u64;
        let stdout_err = |error: std::io::Error| SinkError::Io {
            path: PathBuf::from("<stdout>"),
            what: "cannot write",
            error,
        };
        if let Some(h) = header {
            match out.write_all(h) {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok((0, StreamEnd::Closed)),
                r => r.map_err(stdout_err)?,
            }
        }
        for day in std::mem::take(&mut self.days) {
            let DaySpill {
                file, path, runs, ..
            } = day;
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .map_err(io(&path, "cannot write spill file"))?;
            let mut readers = Vec::with_capacity(runs.len());
            for &(offset, count) in &runs {
                let mut f = File::open(&path).map_err(io(&path, "cannot read spill file"))?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(io(&path, "cannot read spill file"))?;
                readers.push((BufReader::with_capacity(64 << 10, f), count));
            }
            let mut heap = BinaryHeap::new();
            for (i, (reader, left)) in readers.iter_mut().enumerate() {
                if let Some(r) =
                    next_record(reader, left).map_err(io(&path, "cannot read spill file"))?
                {
                    heap.push(Reverse((r, i)));
                }
            }
            while let Some(Reverse((record, i))) = heap.pop() {
                if stop() {
                    return Ok((emitted, StreamEnd::Interrupted));
                }
                pacer.wait(record.time_ms, emitted);
                match out.write_all(&record.line) {
                    Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                        return Ok((emitted, StreamEnd::Closed));
                    }
                    r => r.map_err(stdout_err)?,
                }
                emitted += 1;
                let (reader, left) = &mut readers[i];
                if let Some(r) =
                    next_record(reader, left).map_err(io(&path, "cannot read spill file"))?
                {
                    heap.push(Reverse((r, i)));
                }
            }
            let _ = std::fs::remove_file(&path);
        }
        match out.flush() {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok((emitted, StreamEnd::Closed)),
            r => r
                .map(|_| (emitted, StreamEnd::Complete))
                .map_err(stdout_err),
        }
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn next_record(reader: &mut impl Read, left: &mut u64) -> std::io::Result<Option<StreamRecord>> {
    if *left == 0 {
        return Ok(None);
    }
    *left -= 1;
    let mut head = [0u8; 20];
    reader.read_exact(&mut head)?;
    let time_ms = i64::from_le_bytes(head[..8].try_into().unwrap_or_default());
    let id = u64::from_le_bytes(head[8..16].try_into().unwrap_or_default());
    let len = u32::from_le_bytes(head[16..].try_into().unwrap_or_default()) as usize;
    let mut line = vec![0u8; len];
    reader.read_exact(&mut line)?;
    Ok(Some(StreamRecord { time_ms, id, line }))
}

/// Sleeps so that events leave at the requested pace.
struct Pacer {
    pace: Pace,
    started: Instant,
    first_time_ms: Option<i64>,
}

impl Pacer {
    fn new(pace: Pace) -> Pacer {
        Pacer {
            pace,
            started: Instant::now(),
            first_time_ms: None,
        }
    }

    /// The wall-clock offset at which event number `index`, stamped
    /// `time_ms`, is due.
    fn due(&mut self, time_ms: i64, index: u64) -> Option<Duration> {
        match self.pace {
            Pace::Unpaced => None,
            Pace::Rate(r) => Some(Duration::from_secs_f64(index as f64 / r)),
            Pace::Speed(x) => {
                let first = *self.first_time_ms.get_or_insert(time_ms);
                Some(Duration::from_secs_f64(
                    (time_ms - first).max(0) as f64 / 1000.0 / x,
                ))
            }
        }
    }

    fn wait(&mut self, time_ms: i64, index: u64) {
        if let Some(due) = self.due(time_ms, index) {
            let elapsed = self.started.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: i64, id: u64) -> StreamRecord {
        StreamRecord {
            time_ms: t,
            id,
            line: format!("{t}:{id}\n").into_bytes(),
        }
    }

    #[test]
    fn runs_merge_into_time_order_day_by_day() {
        let mut spill = Spill::new(2).unwrap();
        spill.add_run(1, &mut [rec(500, 1), rec(100, 2)]).unwrap();
        spill
            .add_run(0, &mut [rec(30, 3), rec(10, 4), rec(20, 5)])
            .unwrap();
        spill.add_run(0, &mut [rec(15, 6), rec(30, 1)]).unwrap();
        spill.add_run(1, &mut [rec(300, 7)]).unwrap();
        let mut out = Vec::new();
        let (n, end) = spill
            .drain(&mut out, Some(b"h\n"), Pace::Unpaced, &|| false)
            .unwrap();
        assert_eq!((n, end), (8, StreamEnd::Complete));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "h\n10:4\n15:6\n20:5\n30:1\n30:3\n100:2\n300:7\n500:1\n"
        );
    }

    #[test]
    fn pacing_by_rate_and_by_speed_schedules_events() {
        let mut p = Pacer::new(Pace::Rate(1000.0));
        assert_eq!(p.due(0, 500), Some(Duration::from_millis(500)));
        let mut p = Pacer::new(Pace::Speed(60.0));
        assert_eq!(p.due(1_000_000, 0), Some(Duration::ZERO));
        assert_eq!(p.due(1_060_000, 1), Some(Duration::from_secs(1)));
    }

    struct ClosedPipe;
    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_stream_quietly() {
        let mut spill = Spill::new(1).unwrap();
        spill.add_run(0, &mut [rec(1, 1)]).unwrap();
        let (_, end) = spill
            .drain(&mut ClosedPipe, None, Pace::Unpaced, &|| false)
            .unwrap();
        assert_eq!(end, StreamEnd::Closed);
    }
}
