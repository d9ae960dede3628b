//! The map: an OpenStreetMap extract turned into a routable road graph and a
//! set of classified places.
//!
//! The import runs in stages, each producing plain data: [`osm`] reads the PBF
//! into raw nodes, ways and points of interest; [`graph`] turns the highways
//! into a directed road graph with per-mode access, keeping for each mode its
//! largest strongly connected component; [`places`] classifies buildings, POIs
//! and land-use areas and snaps them to the graph. Coordinates are kept in a
//! local planar projection in metres ([`Projection`]), which is accurate to a
//! fraction of a percent over a region the size of a country like
//! Liechtenstein or Andorra.

pub mod graph;
pub mod osm;
pub mod places;
pub mod zone;

use std::path::{Path, PathBuf};
use std::time::Instant;

use geo::Coord;

pub use graph::{AccessMask, Edge, EdgeId, NodeId, RoadClass, RoadGraph, TravelMode};
pub use places::{Place, PlaceClass, PlaceId, PlaceSource};

/// Errors while loading a map. Each names the file and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The file could not be opened or read; check the path and permissions.
    #[error("{path}: cannot read map file: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file is not a valid OSM PBF (for example an XML `.osm` file, or a
    /// truncated download); convert or download it again.
    #[error("{path}: not a valid OpenStreetMap PBF file ({detail})")]
    NotPbf { path: PathBuf, detail: String },
    /// The extract holds no road that any mode can use.
    #[error("{path}: the map has no usable roads ({detail})")]
    NoRoads { path: PathBuf, detail: String },
    /// The extract holds no place where people could live.
    #[error(
        "{path}: the map has no places where people could live (no residential buildings, land use or roads)"
    )]
    NoHomes { path: PathBuf },
    /// The scenario names the bundled map, but this build was made without
    /// it (the `bundled-map` feature); give a map file.
    #[error("this build carries no bundled map; give a map file (`map` or --map)")]
    NotBundled,
}

/// An equirectangular projection centred on the map: x to the east and y to
/// the north, in metres. Distortion grows with the distance from the centre
/// latitude and stays below 0.1% within ±25 km of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    pub lon0: f64,
    pub lat0: f64,
    metres_per_deg_lon: f64,
    metres_per_deg_lat: f64,
}

/// Mean Earth radius in metres (IUGG).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Projection {
    /// A projection centred on (lon0, lat0), in degrees.
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let metres_per_deg_lat = EARTH_RADIUS_M.to_radians();
        Projection {
            lon0,
            lat0,
            metres_per_deg_lon: metres_per_deg_lat * lat0.to_radians().cos(),
            metres_per_deg_lat,
        }
    }

    /// Projects (lon, lat) in degrees to planar metres.
    pub fn to_xy(&self, lon: f64, lat: f64) -> Coord {
        Coord {
            x: (lon - self.lon0) * self.metres_per_deg_lon,
            y: (lat - self.lat0) * self.metres_per_deg_lat,
        }
    }

    /// Back from planar metres to (lon, lat) in degrees.
    pub fn to_lon_lat(&self, p: Coord) -> (f64, f64) {
        (
            self.lon0 + p.x / self.metres_per_deg_lon,
            self.lat0 + p.y / self.metres_per_deg_lat,
        )
    }
}

/// Straight-line distance between two projected points, in metres.
pub fn distance(a: Coord, b: Coord) -> f64 {
    // Plain sqrt: map coordinates are far from overflow, and hypot's care
    // for it shows in profiles of the hot loops.
    let (dx, dy) = (a.x - b.x, a.y - b.y);
    (dx * dx + dy * dy).sqrt()
}

/// A bounding box in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundingBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BoundingBox {
    /// Whether (lon, lat) lies inside the box, edges included.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        (self.min_lon..=self.max_lon).contains(&lon) && (self.min_lat..=self.max_lat).contains(&lat)
    }
}

/// How long each stage of the import took, in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadTimings {
    pub read_s: f64,
    pub graph_s: f64,
    pub places_s: f64,
}

/// A loaded map: road graph, places and the projection that relates them to
/// longitude and latitude.
#[derive(Debug)]
pub struct Map {
    /// The file the map was read from.
    pub path: PathBuf,
    pub projection: Projection,
    /// The extent of the routable roads.
    pub bbox: BoundingBox,
    pub graph: RoadGraph,
    /// Places ordered by id; `places[i].id == PlaceId(i)`.
    pub places: Vec<Place>,
    /// True when buildings were too few and homes came from residential land
    /// use and residential roads instead.
    pub used_sparse_fallback: bool,
    pub timings: LoadTimings,
    /// Raw element counts from the file.
    pub osm_nodes: usize,
    pub osm_ways: usize,
}

impl Map {
    /// Reads an `.osm.pbf` file and builds the road graph and places.
    pub fn load(path: &Path) -> Result<Map, MapError> {
        let t0 = Instant::now();
        let raw = osm::read_pbf(path)?;
        Map::build(path, raw, t0)
    }

    /// Builds a map from PBF data in memory; `name` stands for the file.
    pub fn load_bytes(name: &Path, data: &[u8]) -> Result<Map, MapError> {
        let t0 = Instant::now();
        let raw = osm::read_pbf_bytes(name, data)?;
        Map::build(name, raw, t0)
    }

    fn build(path: &Path, raw: osm::RawOsm, t0: Instant) -> Result<Map, MapError> {
        let t1 = Instant::now();
        let (graph, projection, bbox) = graph::build(&raw).map_err(|detail| MapError::NoRoads {
            path: path.to_path_buf(),
            detail,
        })?;
        let t2 = Instant::now();
        let built = places::extract(&raw, &graph, &projection);
        let t3 = Instant::now();
        if !built.places.iter().any(|p| p.class == PlaceClass::Home) {
            return Err(MapError::NoHomes {
                path: path.to_path_buf(),
            });
        }
        Ok(Map {
            path: path.to_path_buf(),
            projection,
            bbox,
            graph,
            places: built.places,
            used_sparse_fallback: built.used_sparse_fallback,
            timings: LoadTimings {
                read_s: (t1 - t0).as_secs_f64(),
                graph_s: (t2 - t1).as_secs_f64(),
                places_s: (t3 - t2).as_secs_f64(),
            },
            osm_nodes: raw.nodes.len(),
            osm_ways: raw.ways.len(),
        })
    }

    /// The place with this id.
    pub fn place(&self, id: PlaceId) -> &Place {
        &self.places[id.index()]
    }

    /// Longitude and latitude of a projected point.
    pub fn lon_lat(&self, p: Coord) -> (f64, f64) {
        self.projection.to_lon_lat(p)
    }

    /// Places of each class: (class, count, total capacity), in class order.
    pub fn places_by_class(&self) -> Vec<(PlaceClass, usize, f64)> {
        PlaceClass::ALL
            .iter()
            .map(|&class| {
                let of_class = self.places.iter().filter(|p| p.class == class);
                let (n, cap) = of_class.fold((0, 0.0), |(n, c), p| (n + 1, c + p.capacity as f64));
                (class, n, cap)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_round_trips_and_measures_a_degree_of_latitude() {
        let p = Projection::new(9.5, 47.1);
        let xy = p.to_xy(9.6, 47.2);
        let (lon, lat) = p.to_lon_lat(xy);
        assert!((lon - 9.6).abs() < 1e-9 && (lat - 47.2).abs() < 1e-9);
        let one_deg = p.to_xy(9.5, 48.1).y;
        assert!((one_deg - 111_195.0).abs() < 10.0, "{one_deg}");
    }
}
