//! Zonings: the areas that zone products count people in, and the one rule
//! that puts a point in a zone, shared by `products`, `baseline` and
//! `score`.
//!
//! Three kinds, named the way `--zones` takes them:
//!
//! - `h3:RES`: the H3 cells of resolution `RES` (0–15). A zone's key is the
//!   cell's index in lower-case hexadecimal (`881f8d4b29fffff`).
//! - `grid:METRES`: squares of `METRES` metres in an equirectangular
//!   projection centred on the dataset (the centre of the bounding box of
//!   its cells, as [`crate::map::Projection`]): `x = (lon − lon0) ·
//!   cos(lat0) · R · π/180`, `y = (lat − lat0) · R · π/180` with `R =
//!   6,371,008.8 m`. Square `(i, j)` holds `i·METRES ≤ x < (i+1)·METRES`
//!   and `j·METRES ≤ y < (j+1)·METRES`; its key is `"{i}_{j}"` (`-3_12`).
//! - a GeoJSON file: a FeatureCollection of Polygon or MultiPolygon
//!   features, each with an id (the property named by `--zone-id`, or the
//!   feature's own `id` when no property is named). A point on a shared
//!   edge, or in overlapping polygons, belongs to the first feature in file
//!   order. A point in no polygon belongs to [`OUTSIDE`].
//!
//! H3 and grid zonings cover the whole Earth, so no point of the map is
//! outside them; but the products put what the truth places beyond the
//! map's edge in [`OUTSIDE`] on every zoning, so every zoning knows its key.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use geo::{
    Area, BoundingRect, Centroid, Coord, Intersects, LineString, MultiPolygon, Point, Polygon,
};
use h3o::{CellIndex, LatLng, Resolution};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::map::Projection;

/// The key of the zone that holds every point in no polygon of a GeoJSON
/// zoning.
pub const OUTSIDE: &str = "outside";

/// A zoning that cannot be built; the message names the file and feature.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ZoneError(pub String);

/// A zone, by a number that is cheap to compare and to hash: an H3 cell's
/// index, a grid square's packed column and row, or a polygon's position in
/// its file. [`Zoning::key`] gives its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ZoneId(pub u64);

impl ZoneId {
    /// The zone of points in no polygon.
    pub const OUTSIDE: ZoneId = ZoneId(u64::MAX);
}

/// Grid columns and rows are packed as offset unsigned halves of a `u64`.
const GRID_OFFSET: i64 = 1 << 31;

/// One way of cutting the map into zones.
pub struct Zoning {
    spec: String,
    kind: Kind,
}

enum Kind {
    H3(Resolution),
    Grid { size_m: f64, projection: Projection },
    Polygons(Polygons),
}

struct Polygons {
    ids: Vec<String>,
    shapes: Vec<MultiPolygon<f64>>,
    by_id: BTreeMap<String, usize>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl Zoning {
    /// Parses `--zones`: `h3:RES`, `grid:METRES` or the path of a GeoJSON
    /// file. `id_property` names the GeoJSON property holding each zone's
    /// id; `centre` (lon, lat) centres a grid.
    pub fn parse(
        spec: &str,
        id_property: Option<&str>,
        centre: (f64, f64),
    ) -> Result<Zoning, ZoneError> {
        let kind = if let Some(res) = spec.strip_prefix("h3:") {
            let r: u8 = res.parse().map_err(|_| {
                ZoneError(format!(
                    "--zones {spec}: expected an H3 resolution from 0 to 15 after `h3:`"
                ))
            })?;
            let r = Resolution::try_from(r).map_err(|_| {
                ZoneError(format!("--zones {spec}: H3 resolutions run from 0 to 15"))
            })?;
            Kind::H3(r)
        } else if let Some(size) = spec.strip_prefix("grid:") {
            let size_m: f64 = size.parse().map_err(|_| {
                ZoneError(format!(
                    "--zones {spec}: expected a square's side in metres after `grid:`"
                ))
            })?;
            if !(size_m.is_finite() && size_m >= 1.0) {
                return Err(ZoneError(format!(
                    "--zones {spec}: a grid square's side must be at least 1 metre"
                )));
            }
            Kind::Grid {
                size_m,
                projection: Projection::new(centre.0, centre.1),
            }
        } else {
            let path = Path::new(spec);
            let text = std::fs::read_to_string(path).map_err(|e| {
                ZoneError(format!(
                    "{}: cannot read the zoning (expected h3:RES, grid:METRES or a GeoJSON file): {e}",
                    path.display()
                ))
            })?;
            Kind::Polygons(Polygons::parse(path, &text, id_property)?)
        };
        Ok(Zoning {
            spec: spec.to_string(),
            kind,
        })
    }

    /// The zoning as it was given.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The grid's projection centre (lon, lat), for a grid zoning.
    pub fn grid_centre(&self) -> Option<(f64, f64)> {
        match &self.kind {
            Kind::Grid { projection, .. } => Some((projection.lon0, projection.lat0)),
            _ => None,
        }
    }

    /// The zone holding (lon, lat), in degrees.
    pub fn zone_of(&self, lon: f64, lat: f64) -> ZoneId {
        match &self.kind {
            Kind::H3(r) => match LatLng::new(lat, lon) {
                Ok(ll) => ZoneId(u64::from(ll.to_cell(*r))),
                Err(_) => ZoneId::OUTSIDE,
            },
            Kind::Grid { size_m, projection } => {
                let p = projection.to_xy(lon, lat);
                let i = (p.x / size_m).floor() as i64;
                let j = (p.y / size_m).floor() as i64;
                pack(i, j)
            }
            Kind::Polygons(polys) => polys.zone_of(lon, lat),
        }
    }

    /// The zone's key, as products write it.
    pub fn key(&self, zone: ZoneId) -> String {
        if zone == ZoneId::OUTSIDE {
            return OUTSIDE.to_string();
        }
        match &self.kind {
            Kind::H3(_) => match CellIndex::try_from(zone.0) {
                Ok(c) => c.to_string(),
                Err(_) => OUTSIDE.to_string(),
            },
            Kind::Grid { .. } => {
                let (i, j) = unpack(zone);
                format!("{i}_{j}")
            }
            Kind::Polygons(p) => p
                .ids
                .get(zone.0 as usize)
                .cloned()
                .unwrap_or_else(|| OUTSIDE.to_string()),
        }
    }

    /// The zone a key names, or `None` when the key is not a zone of this
    /// zoning (a cell of another resolution, a misspelt id).
    pub fn parse_key(&self, key: &str) -> Option<ZoneId> {
        // Every zoning has `outside`: points in no polygon, and whatever
        // the truth places beyond the map's edge.
        if key == OUTSIDE {
            return Some(ZoneId::OUTSIDE);
        }
        match &self.kind {
            Kind::H3(r) => {
                let c = CellIndex::from_str(key).ok()?;
                (c.resolution() == *r).then(|| ZoneId(u64::from(c)))
            }
            Kind::Grid { .. } => {
                let (i, j) = key.split_once('_')?;
                let (i, j): (i64, i64) = (i.parse().ok()?, j.parse().ok()?);
                let limit = GRID_OFFSET - 1;
                (i.abs() < limit && j.abs() < limit).then(|| pack(i, j))
            }
            Kind::Polygons(p) => p.by_id.get(key).map(|&i| ZoneId(i as u64)),
        }
    }

    /// The zone's outline: rings of (lon, lat); empty for [`OUTSIDE`].
    pub fn outline(&self, zone: ZoneId) -> Vec<Vec<(f64, f64)>> {
        if zone == ZoneId::OUTSIDE {
            return Vec::new();
        }
        match &self.kind {
            Kind::H3(_) => match CellIndex::try_from(zone.0) {
                Ok(c) => vec![c.boundary().iter().map(|ll| (ll.lng(), ll.lat())).collect()],
                Err(_) => Vec::new(),
            },
            Kind::Grid { size_m, projection } => {
                let (i, j) = unpack(zone);
                let (x0, y0) = (i as f64 * size_m, j as f64 * size_m);
                let corners = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
                vec![
                    corners
                        .iter()
                        .map(|(dx, dy)| {
                            projection.to_lon_lat(Coord {
                                x: x0 + dx * size_m,
                                y: y0 + dy * size_m,
                            })
                        })
                        .collect(),
                ]
            }
            Kind::Polygons(p) => match p.shapes.get(zone.0 as usize) {
                Some(shape) => shape
                    .iter()
                    .map(|poly| {
                        poly.exterior()
                            .points()
                            .map(|pt| (pt.x(), pt.y()))
                            .collect()
                    })
                    .collect(),
                None => Vec::new(),
            },
        }
    }

    /// The zone's centroid (lon, lat); `None` for [`OUTSIDE`].
    pub fn centroid(&self, zone: ZoneId) -> Option<(f64, f64)> {
        if zone == ZoneId::OUTSIDE {
            return None;
        }
        match &self.kind {
            Kind::H3(_) => {
                let c = CellIndex::try_from(zone.0).ok()?;
                let ll = LatLng::from(c);
                Some((ll.lng(), ll.lat()))
            }
            Kind::Grid { size_m, projection } => {
                let (i, j) = unpack(zone);
                Some(projection.to_lon_lat(Coord {
                    x: (i as f64 + 0.5) * size_m,
                    y: (j as f64 + 0.5) * size_m,
                }))
            }
            Kind::Polygons(p) => {
                let c = p.shapes.get(zone.0 as usize)?.centroid()?;
                Some((c.x(), c.y()))
            }
        }
    }

    /// The zone's area in square kilometres; `None` for [`OUTSIDE`].
    pub fn area_km2(&self, zone: ZoneId) -> Option<f64> {
        if zone == ZoneId::OUTSIDE {
            return None;
        }
        match &self.kind {
            Kind::H3(_) => CellIndex::try_from(zone.0).ok().map(|c| c.area_km2()),
            Kind::Grid { size_m, .. } => Some(size_m * size_m / 1e6),
            Kind::Polygons(p) => {
                let shape = p.shapes.get(zone.0 as usize)?;
                let c = shape.centroid()?;
                // Planar area in a projection centred on the zone: exact
                // enough for zones of a city or a country.
                let proj = Projection::new(c.x(), c.y());
                let metres: MultiPolygon<f64> =
                    shape.map_coords_xy(|lon, lat| proj.to_xy(lon, lat));
                Some(metres.unsigned_area() / 1e6)
            }
        }
    }
}

fn pack(i: i64, j: i64) -> ZoneId {
    let i = (i + GRID_OFFSET).clamp(0, u32::MAX as i64 - 1) as u64;
    let j = (j + GRID_OFFSET).clamp(0, u32::MAX as i64 - 1) as u64;
    ZoneId((i << 32) | j)
}

fn unpack(zone: ZoneId) -> (i64, i64) {
    (
        (zone.0 >> 32) as i64 - GRID_OFFSET,
        (zone.0 & 0xFFFF_FFFF) as i64 - GRID_OFFSET,
    )
}

/// Maps every coordinate of a shape, without `geo`'s trait machinery for
/// the one conversion needed here.
trait MapCoordsXy {
    fn map_coords_xy(&self, f: impl Fn(f64, f64) -> Coord) -> Self;
}

impl MapCoordsXy for MultiPolygon<f64> {
    fn map_coords_xy(&self, f: impl Fn(f64, f64) -> Coord) -> Self {
        let ring = |l: &LineString<f64>| -> LineString<f64> {
            l.coords()
                .map(|c| f(c.x, c.y))
                .collect::<Vec<Coord>>()
                .into()
        };
        MultiPolygon(
            self.iter()
                .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
                .collect(),
        )
    }
}

impl Polygons {
    fn parse(path: &Path, text: &str, id_property: Option<&str>) -> Result<Polygons, ZoneError> {
        let fail = |m: String| ZoneError(format!("{}: {m}", path.display()));
        let json =
            geojson::GeoJson::from_str(text).map_err(|e| fail(format!("not GeoJSON: {e}")))?;
        let geojson::GeoJson::FeatureCollection(fc) = json else {
            return Err(fail("expected a GeoJSON FeatureCollection".into()));
        };
        if fc.features.is_empty() {
            return Err(fail("the FeatureCollection has no features".into()));
        }
        let mut ids = Vec::with_capacity(fc.features.len());
        let mut shapes = Vec::with_capacity(fc.features.len());
        let mut by_id = BTreeMap::new();
        let mut boxes = Vec::with_capacity(fc.features.len());
        for (index, f) in fc.features.iter().enumerate() {
            let at = |m: &str| fail(format!("feature {index}: {m}"));
            let id = match id_property {
                Some(name) => match f.property(name) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Number(n)) => n.to_string(),
                    Some(_) => {
                        return Err(at(&format!(
                            "property `{name}` must be a string or a number"
                        )));
                    }
                    None => return Err(at(&format!("no property `{name}` (the zone id)"))),
                },
                None => match &f.id {
                    Some(geojson::feature::Id::String(s)) => s.clone(),
                    Some(geojson::feature::Id::Number(n)) => n.to_string(),
                    None => {
                        return Err(at(
                            "no `id` (give the property that holds zone ids with --zone-id)",
                        ));
                    }
                },
            };
            if id.is_empty() || id == OUTSIDE {
                return Err(at(&format!(
                    "zone id {id:?} is reserved or empty (`{OUTSIDE}` holds points in no zone)"
                )));
            }
            if let Some(first) = by_id.insert(id.clone(), index) {
                return Err(at(&format!(
                    "duplicate zone id {id:?} (also feature {first})"
                )));
            }
            let polygons: Vec<&geojson::PolygonType> = match f.geometry.as_ref().map(|g| &g.value) {
                Some(geojson::GeometryValue::Polygon { coordinates }) => vec![coordinates],
                Some(geojson::GeometryValue::MultiPolygon { coordinates }) => {
                    coordinates.iter().collect()
                }
                Some(other) => {
                    return Err(at(&format!(
                        "a {} geometry; zones must be Polygon or MultiPolygon",
                        other.type_name()
                    )));
                }
                None => return Err(at("no geometry; zones must be Polygon or MultiPolygon")),
            };
            let mut parts = Vec::with_capacity(polygons.len());
            for rings in polygons {
                let mut converted = Vec::with_capacity(rings.len());
                for (r, ring) in rings.iter().enumerate() {
                    converted.push(ring_of(ring).map_err(|m| at(&format!("ring {r}: {m}")))?);
                }
                if converted.is_empty() {
                    return Err(at("a polygon without rings"));
                }
                let exterior = converted.remove(0);
                parts.push(Polygon::new(exterior, converted));
            }
            let shape = MultiPolygon(parts);
            let rect = shape
                .bounding_rect()
                .ok_or_else(|| at("an empty geometry"))?;
            boxes.push(GeomWithData::new(
                Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
                index,
            ));
            ids.push(id);
            shapes.push(shape);
        }
        Ok(Polygons {
            ids,
            shapes,
            by_id,
            tree: RTree::bulk_load(boxes),
        })
    }

    fn zone_of(&self, lon: f64, lat: f64) -> ZoneId {
        let point = Point::new(lon, lat);
        // Candidates by bounding box; the first in file order that holds
        // the point wins.
        let mut first: Option<usize> = None;
        for c in self
            .tree
            .locate_in_envelope_intersecting(AABB::from_point([lon, lat]))
        {
            if first.is_some_and(|f| f < c.data) {
                continue;
            }
            if self.shapes[c.data].intersects(&point) {
                first = Some(c.data);
            }
        }
        first.map_or(ZoneId::OUTSIDE, |i| ZoneId(i as u64))
    }
}

/// A linear ring of GeoJSON positions: at least four, finite, closed.
fn ring_of(ring: &[geojson::Position]) -> Result<LineString<f64>, String> {
    if ring.len() < 4 {
        return Err(format!(
            "an invalid ring of {} positions (a closed ring needs at least 4)",
            ring.len()
        ));
    }
    let mut coords = Vec::with_capacity(ring.len());
    for p in ring {
        let s = p.as_slice();
        if s.len() < 2 || !s[0].is_finite() || !s[1].is_finite() {
            return Err(
                "an invalid ring: a position without a finite longitude and latitude".into(),
            );
        }
        if !(-180.0..=180.0).contains(&s[0]) || !(-90.0..=90.0).contains(&s[1]) {
            return Err(format!(
                "an invalid ring: position ({}, {}) is not a longitude and latitude in degrees",
                s[0], s[1]
            ));
        }
        coords.push(Coord { x: s[0], y: s[1] });
    }
    if coords.first() != coords.last() {
        return Err("an invalid ring: its first and last positions differ (not closed)".into());
    }
    Ok(LineString::from(coords))
}

/// The centre (lon, lat) of the bounding box of a dataset's cells, which
/// cover its map: the origin of grid zonings, as of `validate`'s
/// projection.
pub fn dataset_centre(
    reader: &crate::reader::DatasetReader,
) -> Result<(f64, f64), crate::reader::DatasetError> {
    use crate::reader::column_f64;
    let path = reader.dir().join("cells");
    let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) =
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for b in reader.read("cells", crate::sink::network_tables::cells_schema())? {
        for (lon, lat) in column_f64(&b, "lon", &path)?
            .into_iter()
            .zip(column_f64(&b, "lat", &path)?)
        {
            min_lon = min_lon.min(lon);
            max_lon = max_lon.max(lon);
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
        }
    }
    if min_lon > max_lon {
        return Err(crate::reader::err(&path, "the dataset has no cells"));
    }
    Ok(((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0))
}

/// Opens `spec` for the dataset read by `reader`.
pub fn for_dataset(
    spec: &str,
    id_property: Option<&str>,
    reader: &crate::reader::DatasetReader,
) -> Result<Zoning, ZoneError> {
    let centre = if spec.starts_with("grid:") {
        dataset_centre(reader).map_err(|e| ZoneError(e.to_string()))?
    } else {
        (0.0, 0.0)
    };
    Zoning::parse(spec, id_property, centre)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mobsynth-zones-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn square(id: &str, x0: f64, y0: f64, side: f64) -> String {
        let (x1, y1) = (x0 + side, y0 + side);
        format!(
            r#"{{"type":"Feature","properties":{{"name":"{id}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}"#
        )
    }

    #[test]
    fn h3_keys_are_cells_of_the_resolution() {
        let z = Zoning::parse("h3:8", None, (0.0, 0.0)).unwrap();
        let zone = z.zone_of(9.52, 47.14);
        let key = z.key(zone);
        assert_eq!(key.len(), 15);
        assert_eq!(z.parse_key(&key), Some(zone));
        // A cell of another resolution is not a zone of this zoning.
        let z9 = Zoning::parse("h3:9", None, (0.0, 0.0)).unwrap();
        assert_eq!(z.parse_key(&z9.key(z9.zone_of(9.52, 47.14))), None);
        assert_eq!(z.parse_key(OUTSIDE), Some(ZoneId::OUTSIDE));
        let area = z.area_km2(zone).unwrap();
        assert!((0.6..0.9).contains(&area), "{area}");
        let (lon, lat) = z.centroid(zone).unwrap();
        assert_eq!(z.zone_of(lon, lat), zone);
    }

    #[test]
    fn grid_squares_count_from_the_centre() {
        let z = Zoning::parse("grid:1000", None, (9.5, 47.0)).unwrap();
        assert_eq!(z.key(z.zone_of(9.5001, 47.0001)), "0_0");
        assert_eq!(z.key(z.zone_of(9.4999, 46.9999)), "-1_-1");
        // 1 km east is about 0.01317° of longitude at 47° N.
        assert_eq!(z.key(z.zone_of(9.5 + 0.0135, 47.0 + 0.0091)), "1_1");
        assert_eq!(z.parse_key("-1_-1"), Some(z.zone_of(9.4999, 46.9999)));
        assert_eq!(z.parse_key("a_b"), None);
        let (lon, lat) = z.centroid(z.parse_key("3_-2").unwrap()).unwrap();
        assert_eq!(z.key(z.zone_of(lon, lat)), "3_-2");
        assert_eq!(z.area_km2(z.parse_key("0_0").unwrap()), Some(1.0));
    }

    #[test]
    fn geojson_first_polygon_in_file_order_wins_and_the_rest_is_outside() {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
            square("b", 0.0, 0.0, 2.0),
            square("a", 1.0, 1.0, 2.0)
        );
        let path = write("overlap.geojson", &text);
        let z = Zoning::parse(path.to_str().unwrap(), Some("name"), (0.0, 0.0)).unwrap();
        assert_eq!(z.key(z.zone_of(0.5, 0.5)), "b");
        // In both: the first feature wins.
        assert_eq!(z.key(z.zone_of(1.5, 1.5)), "b");
        assert_eq!(z.key(z.zone_of(2.5, 2.5)), "a");
        assert_eq!(z.key(z.zone_of(5.0, 5.0)), OUTSIDE);
        assert_eq!(z.parse_key(OUTSIDE), Some(ZoneId::OUTSIDE));
        assert_eq!(z.parse_key("c"), None);
        let area = z.area_km2(z.parse_key("b").unwrap()).unwrap();
        // 2° × 2° at the equator: about 222.4² km².
        assert!((area / (222.39 * 222.39) - 1.0).abs() < 0.01, "{area}");
    }

    #[test]
    fn bad_geojson_gets_one_line_with_the_feature() {
        let cases = [
            (r#"{"type":"Feature","properties":{},"geometry":null}"#.to_string(), "expected a GeoJSON FeatureCollection"),
            (
                format!(r#"{{"type":"FeatureCollection","features":[{},{}]}}"#, square("a", 0.0, 0.0, 1.0), square("a", 2.0, 0.0, 1.0)),
                "feature 1: duplicate zone id \"a\" (also feature 0)",
            ),
            (
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"p"},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#.to_string(),
                "feature 0: a Point geometry",
            ),
            (
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#.to_string(),
                "feature 0: no property `name`",
            ),
            (
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}"#.to_string(),
                "feature 0: ring 0: an invalid ring: its first and last positions differ",
            ),
            (
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}}]}"#.to_string(),
                "feature 0: ring 0: an invalid ring of 3 positions",
            ),
        ];
        for (i, (text, expected)) in cases.iter().enumerate() {
            let path = write(&format!("bad{i}.geojson"), text);
            let e = Zoning::parse(path.to_str().unwrap(), Some("name"), (0.0, 0.0))
                .err()
                .expect("an error")
                .to_string();
            assert!(e.contains(expected), "{e}");
            assert!(e.starts_with(path.to_str().unwrap()), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        for spec in ["h3:16", "h3:x", "grid:0", "grid:abc"] {
            assert!(Zoning::parse(spec, None, (0.0, 0.0)).is_err(), "{spec}");
        }
    }
}
