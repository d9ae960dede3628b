//! The `inspect-map` report: what a map file holds once imported.

use std::fmt::Write;

use crate::map::{Map, TravelMode};

/// A human-readable summary of a loaded map.
pub fn map_summary(map: &Map) -> String {
    let mut s = String::new();
    let g = &map.graph;
    let b = &map.bbox;
    let t = &map.timings;
    let _ = writeln!(s, "map            {}", map.path.display());
    let _ = writeln!(
        s,
        "osm            {} nodes, {} tagged ways kept",
        map.osm_nodes, map.osm_ways
    );
    let _ = writeln!(
        s,
        "bbox           lon {:.5} .. {:.5}, lat {:.5} .. {:.5}",
        b.min_lon, b.max_lon, b.min_lat, b.max_lat
    );
    let km_e = map.projection.to_xy(b.max_lon, map.projection.lat0).x
        - map.projection.to_xy(b.min_lon, map.projection.lat0).x;
    let km_n = map.projection.to_xy(map.projection.lon0, b.max_lat).y
        - map.projection.to_xy(map.projection.lon0, b.min_lat).y;
    let _ = writeln!(
        s,
        "extent         {:.1} km x {:.1} km",
        km_e / 1000.0,
        km_n / 1000.0
    );
    let _ = writeln!(
        s,
        "graph          {} nodes, {} directed edges, {} shape points",
        g.node_count(),
        g.edges.len(),
        g.shape.len()
    );
    let sizes = g.component_sizes();
    for (mode, size) in TravelMode::ALL.iter().zip(sizes) {
        let edges = g.edges.iter().filter(|e| e.access.allows(*mode)).count();
        let km: f64 = g
            .edges
            .iter()
            .filter(|e| e.access.allows(*mode))
            .map(|e| e.length_m)
            .sum::<f64>()
            / 1000.0;
        let _ = writeln!(
            s,
            "  {:<12} main component: {} nodes, {} edges, {:.0} km of directed road",
            mode.name(),
            size,
            edges,
            km
        );
    }
    let _ = writeln!(
        s,
        "places         {}{}",
        map.places.len(),
        if map.used_sparse_fallback {
            " (few buildings: homes also from residential land use and roads)"
        } else {
            ""
        }
    );
    for (class, n, cap) in map.places_by_class() {
        let _ = writeln!(
            s,
            "  {:<12} {:>7} places, capacity {:>10.0} m²",
            class.name(),
            n,
            cap
        );
    }
    // How far people walk between a place and the road node it is reached
    // from: long walks mean roads missing from the extract.
    let mut snaps: Vec<f64> = map
        .places
        .iter()
        .map(|p| crate::map::places::snap_distance(g, p))
        .collect();
    snaps.sort_by(f64::total_cmp);
    if !snaps.is_empty() {
        let q = |p: f64| snaps[((snaps.len() - 1) as f64 * p).round() as usize];
        let _ = writeln!(
            s,
            "  to the road  median {:.0} m, p90 {:.0} m, p99 {:.0} m, max {:.0} m",
            q(0.5),
            q(0.9),
            q(0.99),
            q(1.0)
        );
    }
    let _ = writeln!(
        s,
        "load time      {:.3} s (read {:.3} s, graph {:.3} s, places {:.3} s)",
        t.read_s + t.graph_s + t.places_s,
        t.read_s,
        t.graph_s,
        t.places_s
    );
    s
}
