//! The report's map: population density (homes), the cells, and the stays
//! of a few sample subscribers joined in time order, as one inline SVG.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::dataset::LoadedDataset;
use super::{Activity, EventRecord};

const W: f64 = 640.0;
const GRID: usize = 48;
const SAMPLES: usize = 5;
const COLOURS: [&str; SAMPLES] = ["#d1495b", "#00798c", "#edae49", "#30638e", "#6a4c93"];

/// The map as an `<svg>` element, or an empty string when the dataset holds
/// no positions.
pub fn map_svg(d: &LoadedDataset) -> String {
    let cells: BTreeMap<u64, (f64, f64)> = d
        .events
        .iter()
        .map(|e: &EventRecord| (e.cell, (e.cell_x_m, e.cell_y_m)))
        .collect();
    let points = d
        .stays
        .iter()
        .map(|s| (s.x_m, s.y_m))
        .chain(cells.values().copied());
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in points {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if x0 >= x1 || y0 >= y1 {
        return String::new();
    }
    let scale = W / (x1 - x0).max(y1 - y0);
    let (w, h) = ((x1 - x0) * scale, (y1 - y0) * scale);
    let px = |x: f64, y: f64| ((x - x0) * scale, h - (y - y0) * scale);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"-10 -10 {:.0} {:.0}\" width=\"{:.0}\" role=\"img\" \
         aria-label=\"map of homes, cells and sample subscribers\"><rect x=\"-10\" y=\"-10\" width=\"100%\" height=\"100%\" fill=\"#fafafa\"/>",
        w + 20.0,
        h + 20.0,
        w + 20.0
    );

    // Homes: each subscriber's first home stay, counted on a grid.
    let mut homes: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for st in d.stays.iter().filter(|s| s.activity == Activity::Home) {
        homes.entry(st.subscriber).or_insert((st.x_m, st.y_m));
    }
    let cell_m = (x1 - x0).max(y1 - y0) / GRID as f64;
    let mut grid: BTreeMap<(i64, i64), u32> = BTreeMap::new();
    for &(x, y) in homes.values() {
        *grid
            .entry((((x - x0) / cell_m) as i64, ((y - y0) / cell_m) as i64))
            .or_default() += 1;
    }
    let peak = grid.values().copied().max().unwrap_or(1) as f64;
    let side = cell_m * scale;
    for (&(gx, gy), &n) in &grid {
        let (sx, sy) = px(x0 + gx as f64 * cell_m, y0 + (gy + 1) as f64 * cell_m);
        let _ = writeln!(
            s,
            "<rect x=\"{sx:.1}\" y=\"{sy:.1}\" width=\"{side:.1}\" height=\"{side:.1}\" fill=\"#2a9d8f\" fill-opacity=\"{:.2}\"/>",
            0.1 + 0.8 * (n as f64 / peak).sqrt()
        );
    }
    for &(x, y) in cells.values() {
        let (sx, sy) = px(x, y);
        let _ = writeln!(
            s,
            "<circle cx=\"{sx:.1}\" cy=\"{sy:.1}\" r=\"1.6\" fill=\"#333\"/>"
        );
    }

    // Sample subscribers: the first few ids with stays, for their first three days.
    let mut by_sub: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    let first_start = d.stays.iter().map(|s| s.start_s).min().unwrap_or(0);
    for st in d.stays.iter().filter(|s| {
        !super::mobility::is_outside_place(s.place) && s.start_s < first_start + 3 * 86_400
    }) {
        by_sub
            .entry(st.subscriber)
            .or_default()
            .push((st.x_m, st.y_m));
    }
    let samples = by_sub
        .into_iter()
        .filter(|(_, v)| v.len() >= 3)
        .step_by(7)
        .take(SAMPLES);
    for ((_, path), colour) in samples.zip(COLOURS) {
        let pts: Vec<String> = path
            .iter()
            .map(|&(x, y)| {
                let (sx, sy) = px(x, y);
                format!("{sx:.1},{sy:.1}")
            })
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-opacity=\"0.85\"/>",
            pts.join(" ")
        );
    }
    s.push_str("</svg>");
    s
}
