//! Places where people spend time: classified buildings, points of interest
//! and land-use areas, each with a capacity weight and snapped to a road
//! node, one that every travel mode can reach unless that means a long walk.
//!
//! The capacity of a building is its floor area: footprint × `building:levels`
//! (one level when untagged, two for apartment blocks). POIs count as a small
//! fixed floor area, land-use areas as a thin density over their surface.
//! Extracts with few mapped buildings (the Andorra file has a few hundred)
//! would place every resident in them, so when homes are scarce they come
//! from residential land use and residential road length as well.

use geo::{Area, Centroid, Coord, LineString, Polygon};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::graph::{NodeId, RoadClass, RoadGraph, TravelMode};
use super::osm::{RawOsm, RawWay, Tags};
use super::{Projection, distance};

/// Dense index of a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlaceId(pub u32);

impl PlaceId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What people do at a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceClass {
    Home,
    Work,
    Education,
    Shopping,
    Leisure,
    Other,
}

impl PlaceClass {
    pub const ALL: [PlaceClass; 6] = [
        PlaceClass::Home,
        PlaceClass::Work,
        PlaceClass::Education,
        PlaceClass::Shopping,
        PlaceClass::Leisure,
        PlaceClass::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PlaceClass::Home => "home",
            PlaceClass::Work => "work",
            PlaceClass::Education => "education",
            PlaceClass::Shopping => "shopping",
            PlaceClass::Leisure => "leisure",
            PlaceClass::Other => "other",
        }
    }
}

/// Where a place came from in the OSM data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceSource {
    Building,
    Poi,
    Landuse,
    /// A stretch of residential road standing in for unmapped houses.
    Road,
}

impl PlaceSource {
    pub fn name(self) -> &'static str {
        match self {
            PlaceSource::Building => "building",
            PlaceSource::Poi => "poi",
            PlaceSource::Landuse => "landuse",
            PlaceSource::Road => "road",
        }
    }
}

/// A classified place.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub id: PlaceId,
    pub class: PlaceClass,
    /// Centroid, projected, in metres.
    pub pos: Coord,
    /// Floor-area-like weight, in square metres.
    pub capacity: f32,
    /// The road node the place is reached from: the nearest one served by
    /// every travel mode, or, when that is more than [`SNAP_DETOUR_M`]
    /// farther, the nearest node of any mode.
    pub node: NodeId,
    pub source: PlaceSource,
    /// The OSM element (way or node) it came from; for road places, the way.
    pub osm_id: i64,
}

/// The result of place extraction.
pub struct ExtractedPlaces {
    pub places: Vec<Place>,
    pub used_sparse_fallback: bool,
}

/// Fewer homes than this from buildings switches on the sparse-data fallback.
const MIN_HOME_BUILDINGS: usize = 1_500;
/// Floor area a POI stands for, in m².
const POI_CAPACITY_M2: f32 = 150.0;
/// Floor area per m² of non-residential land use without buildings.
const LANDUSE_DENSITY: f64 = 0.05;
/// Floor area per m² of residential land use in the sparse fallback: a low
/// floor-area ratio typical of villages.
const RESIDENTIAL_LANDUSE_DENSITY: f64 = 0.25;
/// Floor area per metre of residential road in the sparse fallback: houses on
/// both sides, one every 20 m, of 120 m² each.
const RESIDENTIAL_ROAD_M2_PER_M: f64 = 12.0;
/// Road places are cut every this many metres.
const ROAD_PLACE_SPACING_M: f64 = 150.0;
/// How much farther than the nearest road node a place may snap, to reach a
/// node that every mode can route from.
pub const SNAP_DETOUR_M: f64 = 500.0;

fn classify_tags(tags: &Tags) -> Option<PlaceClass> {
    if let Some(a) = tags.get("amenity") {
        return Some(match a {
            "school" | "kindergarten" | "university" | "college" | "childcare" | "music_school"
            | "language_school" => PlaceClass::Education,
            "restaurant" | "cafe" | "bar" | "pub" | "fast_food" | "biergarten" | "cinema"
            | "theatre" | "nightclub" | "ice_cream" | "arts_centre" | "community_centre" => {
                PlaceClass::Leisure
            }
            "marketplace" | "pharmacy" | "fuel" | "bank" | "post_office" => PlaceClass::Shopping,
            "parking" | "parking_space" | "bench" | "waste_basket" | "recycling" | "toilets"
            | "drinking_water" | "bicycle_parking" | "vending_machine" | "telephone"
            | "post_box" | "hunting_stand" | "shelter" | "fountain" | "parking_entrance"
            | "motorcycle_parking" | "grit_bin" | "waste_disposal" | "clock" | "atm"
            | "charging_station" | "car_wash" | "bbq" | "watering_place" => return None,
            _ => PlaceClass::Other,
        });
    }
    if tags.has("shop") {
        return Some(PlaceClass::Shopping);
    }
    if tags.has("office") || tags.has("craft") {
        return Some(PlaceClass::Work);
    }
    if let Some(l) = tags.get("leisure") {
        return match l {
            "picnic_table" | "firepit" | "slipway" | "bleachers" | "outdoor_seating" => None,
            _ => Some(PlaceClass::Leisure),
        };
    }
    if let Some(t) = tags.get("tourism") {
        return match t {
            "information" | "viewpoint" | "picnic_site" => None,
            _ => Some(PlaceClass::Leisure),
        };
    }
    None
}

/// Class of a building; `None` for structures nobody spends the day in.
fn classify_building(tags: &Tags, footprint_m2: f64) -> Option<PlaceClass> {
    if let Some(c) = classify_tags(tags) {
        return Some(c);
    }
    let b = tags.get("building")?;
    Some(match b {
        "house" | "residential" | "apartments" | "detached" | "terrace" | "semidetached_house"
        | "bungalow" | "dormitory" | "farm" | "cabin" | "static_caravan" | "houseboat" => {
            PlaceClass::Home
        }
        "commercial" | "office" | "industrial" | "warehouse" | "manufacture" | "hospital"
        | "government" | "public" | "civic" | "fire_station" | "transportation"
        | "train_station" | "farm_auxiliary" => PlaceClass::Work,
        "retail" | "supermarket" | "kiosk" | "shop" => PlaceClass::Shopping,
        "school" | "university" | "kindergarten" | "college" => PlaceClass::Education,
        "hotel" | "sports_hall" | "stadium" | "sports_centre" => PlaceClass::Leisure,
        "church" | "chapel" | "cathedral" | "mosque" | "synagogue" | "temple" | "religious" => {
            PlaceClass::Other
        }
        "garage" | "garages" | "shed" | "hut" | "roof" | "carport" | "barn" | "greenhouse"
        | "stable" | "cowshed" | "ruins" | "construction" | "service" | "bunker" | "container"
        | "silo" | "storage_tank" | "transformer_tower" | "water_tower" | "toilets" | "bridge"
        | "no" => return None,
        // Untagged buildings are mostly houses, but the small ones are sheds and garages.
        _ if footprint_m2 < 40.0 => return None,
        _ => PlaceClass::Home,
    })
}

fn classify_landuse(value: &str) -> Option<PlaceClass> {
    Some(match value {
        "residential" => PlaceClass::Home,
        "commercial" | "industrial" | "railway" | "military" | "quarry" => PlaceClass::Work,
        "retail" => PlaceClass::Shopping,
        "recreation_ground" | "village_green" | "winter_sports" => PlaceClass::Leisure,
        "education" => PlaceClass::Education,
        _ => return None,
    })
}

fn polygon(raw: &RawOsm, way: &RawWay, projection: &Projection) -> Option<Polygon<f64>> {
    if way.refs.len() < 4 || way.refs.first() != way.refs.last() {
        return None;
    }
    let ring: Vec<Coord> = way
        .refs
        .iter()
        .map(|&id| raw.node(id).map(|n| projection.to_xy(n.lon, n.lat)))
        .collect::<Option<_>>()?;
    Some(Polygon::new(LineString::new(ring), vec![]))
}

struct Candidate {
    class: PlaceClass,
    pos: Coord,
    capacity: f64,
    source: PlaceSource,
    osm_id: i64,
}

/// Classifies and snaps all places.
pub fn extract(raw: &RawOsm, graph: &RoadGraph, projection: &Projection) -> ExtractedPlaces {
    let mut candidates = Vec::new();
    let mut residential_landuse = Vec::new();
    for way in &raw.ways {
        let is_building = way.tags.get("building").is_some_and(|b| b != "no");
        let landuse = way.tags.get("landuse").and_then(classify_landuse);
        let poi_area = classify_tags(&way.tags);
        if !is_building && landuse.is_none() && poi_area.is_none() {
            continue;
        }
        let Some(poly) = polygon(raw, way, projection) else {
            continue;
        };
        let area = poly.unsigned_area();
        let Some(centroid) = poly.centroid() else {
            continue;
        };
        let pos = centroid.0;
        if is_building {
            let Some(class) = classify_building(&way.tags, area) else {
                continue;
            };
            let default_levels = if way.tags.get("building") == Some("apartments") {
                3.0
            } else {
                1.0
            };
            let levels = way
                .tags
                .get("building:levels")
                .and_then(|l| l.trim().parse::<f64>().ok())
                .filter(|l| (1.0..=60.0).contains(l))
                .unwrap_or(default_levels);
            candidates.push(Candidate {
                class,
                pos,
                capacity: area * levels,
                source: PlaceSource::Building,
                osm_id: way.id,
            });
        } else if let Some(class) = poi_area {
            candidates.push(Candidate {
                class,
                pos,
                capacity: (area * LANDUSE_DENSITY).max(POI_CAPACITY_M2 as f64),
                source: PlaceSource::Poi,
                osm_id: way.id,
            });
        } else if let Some(class) = landuse {
            if class == PlaceClass::Home {
                residential_landuse.push((pos, area, way.id));
            } else {
                candidates.push(Candidate {
                    class,
                    pos,
                    capacity: area * LANDUSE_DENSITY,
                    source: PlaceSource::Landuse,
                    osm_id: way.id,
                });
            }
        }
    }
    for poi in &raw.pois {
        // A tagged building node is handled like a POI of its class.
        if let Some(class) = classify_tags(&poi.tags) {
            candidates.push(Candidate {
                class,
                pos: projection.to_xy(poi.lon, poi.lat),
                capacity: POI_CAPACITY_M2 as f64,
                source: PlaceSource::Poi,
                osm_id: poi.id,
            });
        }
    }

    let home_buildings = candidates
        .iter()
        .filter(|c| c.class == PlaceClass::Home && c.source == PlaceSource::Building)
        .count();
    let used_sparse_fallback = home_buildings < MIN_HOME_BUILDINGS;
    if used_sparse_fallback {
        for (pos, area, osm_id) in residential_landuse {
            candidates.push(Candidate {
                class: PlaceClass::Home,
                pos,
                capacity: area * RESIDENTIAL_LANDUSE_DENSITY,
                source: PlaceSource::Landuse,
                osm_id,
            });
        }
        add_road_homes(graph, &mut candidates);
    }

    let index = |keep: &dyn Fn(NodeId) -> bool| {
        let points: Vec<GeomWithData<[f64; 2], u32>> = (0..graph.node_count() as u32)
            .filter(|&n| keep(NodeId(n)))
            .map(|n| {
                let p = graph.node_pos(NodeId(n));
                GeomWithData::new([p.x, p.y], n)
            })
            .collect();
        RTree::bulk_load(points)
    };
    let every_mode = index(&|n| TravelMode::ALL.iter().all(|&m| graph.serves(n, m)));
    let any_mode = index(&|n| TravelMode::ALL.iter().any(|&m| graph.serves(n, m)));
    let mut places: Vec<Place> = candidates
        .into_iter()
        .filter(|c| c.capacity > 0.0)
        .filter_map(|c| {
            let here = [c.pos.x, c.pos.y];
            let nearest = |tree: &RTree<GeomWithData<[f64; 2], u32>>| {
                tree.nearest_neighbor(here).map(|n| {
                    let d = distance(c.pos, graph.node_pos(NodeId(n.data)));
                    (n.data, d)
                })
            };
            // A node every mode reaches, unless that is a long walk away: a
            // town whose only road out is closed to cars in the extract
            // keeps its own streets, and a car leaves it in a straight line
            // (see the days' travel).
            let node = match (nearest(&every_mode), nearest(&any_mode)) {
                (Some((all, d_all)), Some((any, d_any))) => {
                    if d_all <= d_any + SNAP_DETOUR_M {
                        all
                    } else {
                        any
                    }
                }
                (Some((all, _)), None) => all,
                (None, Some((any, _))) => any,
                (None, None) => return None,
            };
            Some(Place {
                id: PlaceId(0),
                class: c.class,
                pos: c.pos,
                capacity: c.capacity as f32,
                node: NodeId(node),
                source: c.source,
                osm_id: c.osm_id,
            })
        })
        .collect();
    places.sort_by_key(|p| (p.source, p.osm_id, p.class));
    for (i, p) in places.iter_mut().enumerate() {
        p.id = PlaceId(i as u32);
    }
    ExtractedPlaces {
        places,
        used_sparse_fallback,
    }
}

/// Cuts residential roads into stretches that stand in for unmapped houses.
fn add_road_homes(graph: &RoadGraph, candidates: &mut Vec<Candidate>) {
    for (i, e) in graph.edges.iter().enumerate() {
        let residential = matches!(e.class, RoadClass::Residential | RoadClass::LivingStreet);
        // Both directions share a road; count it once, from its lower node.
        let once = e.from < e.to
            || !graph
                .out_edges(e.to)
                .iter()
                .any(|&b| graph.edge(b).to == e.from);
        if !residential || !once {
            continue;
        }
        let pieces = (e.length_m / ROAD_PLACE_SPACING_M).ceil().max(1.0) as usize;
        let piece_len = e.length_m / pieces as f64;
        for k in 0..pieces {
            candidates.push(Candidate {
                class: PlaceClass::Home,
                pos: graph.point_along(super::EdgeId(i as u32), piece_len * (k as f64 + 0.5)),
                capacity: piece_len * RESIDENTIAL_ROAD_M2_PER_M,
                source: PlaceSource::Road,
                osm_id: e.way_id,
            });
        }
    }
}

/// The distance from a place to the node it is snapped to, in metres.
pub fn snap_distance(graph: &RoadGraph, place: &Place) -> f64 {
    distance(place.pos, graph.node_pos(place.node))
}
