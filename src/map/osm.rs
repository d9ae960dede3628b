//! Reading an `.osm.pbf` file into raw nodes, ways and points of interest.
//!
//! Blobs are decoded in parallel by `osmpbf`; the partial results arrive in
//! no particular order, so everything is sorted by OSM id afterwards to keep
//! the import deterministic. Only the tags later stages look at are kept.

use std::path::Path;

use osmpbf::{Element, ElementReader};

use super::MapError;

/// Tag keys that matter to the road graph or to place extraction.
const KEPT_KEYS: &[&str] = &[
    "highway",
    "oneway",
    "oneway:bicycle",
    "junction",
    "maxspeed",
    "access",
    "motor_vehicle",
    "motorcar",
    "vehicle",
    "bicycle",
    "foot",
    "area",
    "building",
    "building:levels",
    "landuse",
    "amenity",
    "shop",
    "leisure",
    "tourism",
    "office",
    "craft",
    "cycleway",
];

/// Tags as (key, value) pairs, restricted to [`KEPT_KEYS`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tags(pub Vec<(String, String)>);

impl Tags {
    fn from_iter<'a>(iter: impl Iterator<Item = (&'a str, &'a str)>) -> Tags {
        Tags(
            iter.filter(|(k, _)| KEPT_KEYS.contains(k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key` is present with any value.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// True for "no" (and the forms that mean it) on any of `keys`.
    pub fn denies(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| {
            matches!(
                self.get(k),
                Some("no" | "private" | "agricultural" | "forestry" | "delivery")
            )
        })
    }

    fn is_interesting(&self) -> bool {
        [
            "highway", "building", "landuse", "amenity", "shop", "leisure", "tourism", "office",
            "craft",
        ]
        .iter()
        .any(|k| self.has(k))
    }
}

/// A node's position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RawNode {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
}

/// A way with the tags that matter.
#[derive(Clone, Debug, PartialEq)]
pub struct RawWay {
    pub id: i64,
    pub refs: Vec<i64>,
    pub tags: Tags,
}

/// A tagged node that may be a point of interest.
#[derive(Clone, Debug, PartialEq)]
pub struct RawPoi {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
    pub tags: Tags,
}

/// Everything read from the file, sorted by id.
#[derive(Debug, Default)]
pub struct RawOsm {
    pub nodes: Vec<RawNode>,
    pub ways: Vec<RawWay>,
    pub pois: Vec<RawPoi>,
}

impl RawOsm {
    /// The position of node `id`, if the file holds it.
    pub fn node(&self, id: i64) -> Option<RawNode> {
        self.nodes
            .binary_search_by_key(&id, |n| n.id)
            .ok()
            .map(|i| self.nodes[i])
    }

    fn merge(mut self, mut other: RawOsm) -> RawOsm {
        if self.nodes.len() < other.nodes.len() {
            std::mem::swap(&mut self, &mut other);
        }
        self.nodes.append(&mut other.nodes);
        self.ways.append(&mut other.ways);
        self.pois.append(&mut other.pois);
        self
    }

    fn add_node(&mut self, id: i64, lon: f64, lat: f64, tags: Tags) {
        self.nodes.push(RawNode { id, lon, lat });
        if tags.is_interesting() {
            self.pois.push(RawPoi { id, lon, lat, tags });
        }
    }
}

/// Reads a whole file, decoding blobs in parallel.
pub fn read_pbf(path: &Path) -> Result<RawOsm, MapError> {
    let data = std::fs::read(path).map_err(|error| MapError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    read_pbf_bytes(path, &data)
}

/// Reads PBF data held in memory; `name` stands for the file in errors.
pub fn read_pbf_bytes(name: &Path, data: &[u8]) -> Result<RawOsm, MapError> {
    let head = String::from_utf8_lossy(&data[..data.len().min(256)]);
    if head.trim_start().starts_with("<?xml") || head.trim_start().starts_with("<osm") {
        return Err(MapError::NotPbf {
            path: name.to_path_buf(),
            detail: "it is an XML .osm file; convert it to .osm.pbf first, e.g. with `osmium cat`"
                .into(),
        });
    }
    read_elements(name, ElementReader::new(data))
}

fn read_elements<R: std::io::Read + Send>(
    path: &Path,
    reader: ElementReader<R>,
) -> Result<RawOsm, MapError> {
    let raw = reader
        .par_map_reduce(
            |element| {
                let mut part = RawOsm::default();
                match element {
                    Element::Node(n) => {
                        part.add_node(n.id(), n.lon(), n.lat(), Tags::from_iter(n.tags()))
                    }
                    Element::DenseNode(n) => {
                        part.add_node(n.id(), n.lon(), n.lat(), Tags::from_iter(n.tags()))
                    }
                    Element::Way(w) => {
                        let tags = Tags::from_iter(w.tags());
                        if tags.is_interesting() {
                            part.ways.push(RawWay {
                                id: w.id(),
                                refs: w.refs().collect(),
                                tags,
                            });
                        }
                    }
                    Element::Relation(_) => {}
                }
                part
            },
            RawOsm::default,
            RawOsm::merge,
        )
        .map_err(|e| {
            let detail = e.to_string();
            let detail = if detail.contains("end of file") {
                format!("the file ends in the middle of a block, it may be truncated: {detail}")
            } else {
                detail
            };
            MapError::NotPbf {
                path: path.to_path_buf(),
                detail,
            }
        })?;
    let mut raw = raw;
    raw.nodes.sort_unstable_by_key(|n| n.id);
    raw.nodes.dedup_by_key(|n| n.id);
    raw.ways.sort_unstable_by_key(|w| w.id);
    raw.ways.dedup_by_key(|w| w.id);
    raw.pois.sort_unstable_by_key(|p| p.id);
    raw.pois.dedup_by_key(|p| p.id);
    if raw.nodes.is_empty() && raw.ways.is_empty() {
        return Err(MapError::NotPbf {
            path: path.to_path_buf(),
            detail: "it holds no OSM nodes or ways".into(),
        });
    }
    Ok(raw)
}
