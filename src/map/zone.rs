//! The time zone of a map's location: the centre of the extract looked up in
//! the time-zone boundaries that `tzf-rs` embeds in the binary (from
//! timezone-boundary-builder, simplified), offline. The centre comes from
//! the PBF header's bounding box, or, without one, from the first node of
//! the file, so that the lookup reads a few kilobytes, not the map. The
//! boundaries are queried in place (`EmbeddedFinder`), not expanded, since
//! a run asks for one point.

use std::io::{Cursor, Read};
use std::path::Path;

use jiff::Timestamp;
use osmpbf::{BlobDecode, BlobReader};

use super::MapError;

/// Longitude and latitude of the centre of an extract on disk.
pub fn centre_of_file(path: &Path) -> Result<Option<(f64, f64)>, MapError> {
    let reader = BlobReader::from_path(path).map_err(|e| MapError::Io {
        path: path.to_path_buf(),
        error: std::io::Error::other(e.to_string()),
    })?;
    Ok(centre_of(reader))
}

/// Longitude and latitude of the centre of an extract in memory.
pub fn centre_of_bytes(data: &[u8]) -> Option<(f64, f64)> {
    centre_of(BlobReader::new(Cursor::new(data)))
}

fn centre_of<R: Read + Send>(reader: BlobReader<R>) -> Option<(f64, f64)> {
    for blob in reader {
        match blob.ok()?.decode().ok()? {
            BlobDecode::OsmHeader(h) => {
                if let Some(b) = h.bbox() {
                    return Some(((b.left + b.right) / 2.0, (b.top + b.bottom) / 2.0));
                }
            }
            BlobDecode::OsmData(block) => {
                let mut first = None;
                for group in block.groups() {
                    if let Some(n) = group.dense_nodes().next() {
                        first = Some((n.lon(), n.lat()));
                    } else if let Some(n) = group.nodes().next() {
                        first = Some((n.lon(), n.lat()));
                    }
                    if first.is_some() {
                        break;
                    }
                }
                return first;
            }
            BlobDecode::Unknown(_) => {}
        }
    }
    None
}

/// The IANA time zone at a longitude and latitude, when the embedded
/// boundaries know one.
pub fn zone_at(lon: f64, lat: f64) -> Option<String> {
    if !(lon.is_finite() && lat.is_finite()) {
        return None;
    }
    // One lookup per run: the finder that queries the embedded boundaries
    // in place answers it as the default finder does (same data, same
    // answers) without first expanding every polygon of the world, which
    // cost about 0.2 s of CPU at each run's start.
    let finder = tzf_rs::EmbeddedFinder::new();
    let name = finder.get_tz_name(lon, lat);
    (!name.is_empty()).then(|| name.to_string())
}

/// How far apart two zones' UTC offsets are at `when`, hours; `None` when
/// either is unknown to the time-zone database.
pub fn offset_gap_hours(a: &str, b: &str, when: Timestamp) -> Option<f64> {
    let offset = |name: &str| {
        jiff::tz::TimeZone::get(name)
            .ok()
            .map(|tz| tz.to_offset(when).seconds() as f64 / 3600.0)
    };
    Some((offset(a)? - offset(b)?).abs())
}

/// Zones whose offsets differ by more than this many hours disagree: the
/// scenario's zone is not the map's.
pub const DISAGREEMENT_HOURS: f64 = 2.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_gaps() {
        assert_eq!(zone_at(-74.0, 40.71).as_deref(), Some("America/New_York"));
        assert_eq!(zone_at(9.52, 47.14).as_deref(), Some("Europe/Vaduz"));
        let t: Timestamp = "2026-03-02T12:00:00Z".parse().unwrap();
        assert_eq!(
            offset_gap_hours("Europe/Vaduz", "America/New_York", t),
            Some(6.0)
        );
        assert_eq!(
            offset_gap_hours("Europe/Vaduz", "Nowhere/Atlantis", t),
            None
        );
    }
}
