//! Reports of a scoring: a table for the terminal, and a self-contained
//! HTML page in the style of `validate`'s report with a map of the error
//! per zone as inline SVG (no script, no network).

use std::fmt::Write;

use super::Scores;
use crate::validate::report::{escape, format_value};
use crate::zones::Zoning;

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", v * 100.0)
    } else {
        "n/a".into()
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| {
        if v.is_finite() {
            format!("{v:.3}")
        } else {
            "n/a".into()
        }
    })
}

const HEADER: [&str; 9] = [
    "product.column",
    "keys",
    "WAPE",
    "MdAPE",
    "Spearman",
    "bias",
    "WAPE s/m/l",
    "CPC",
    "NRMSE",
];

fn rows(s: &Scores) -> Vec<[String; 9]> {
    s.columns
        .iter()
        .map(|c| {
            let classes: Vec<String> = c.wape_by_zone_size.values().map(|v| pct(*v)).collect();
            [
                format!("{}.{}", c.product, c.column),
                c.keys.to_string(),
                pct(c.wape),
                pct(c.mdape),
                num(Some(c.spearman)),
                pct(c.bias),
                classes.join(" / "),
                num(c.cpc),
                num(c.nrmse),
            ]
        })
        .collect()
}

fn notes(s: &Scores) -> Vec<String> {
    let mut out = Vec::new();
    for f in &s.files {
        if !f.summed_over.is_empty() {
            out.push(format!(
                "{}: no {} column; the truth is summed over it",
                f.product,
                f.summed_over.join(", ")
            ));
        }
        if f.keys_not_in_zoning > 0 {
            out.push(format!(
                "{}: {} rows name zones not in {} (e.g. {}); scored against a truth of 0",
                f.path,
                f.keys_not_in_zoning,
                s.zones,
                f.examples_not_in_zoning.join(", ")
            ));
        }
    }
    out
}

/// A fixed-width table of every scored column, then home and work.
pub fn terminal_table(s: &Scores) -> String {
    let rows = rows(s);
    let mut width = HEADER.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i == 0 {
                let _ = write!(l, "{c:<w$}");
            } else {
                let _ = write!(l, "  {c:>w$}");
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(&HEADER.map(String::from));
    for r in &rows {
        out += &line(r);
    }
    if let Some(hw) = &s.home_work {
        let _ = writeln!(
            out,
            "home_work: home in the right zone {} of {} (median error {} m); work {} of {} (median error {} m)",
            pct(hw.home_right_share),
            hw.subscribers,
            format_value(hw.home_median_error_m),
            pct(hw.work_right_share),
            hw.with_work,
            format_value(hw.work_median_error_m)
        );
    }
    for n in notes(s) {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// A colour from light (no error) to dark red (WAPE of 100% or more).
fn error_colour(wape: f64) -> String {
    let t = if wape.is_finite() {
        wape.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let (r, g, b) = (
        255.0 - t * (255.0 - 165.0),
        245.0 - t * 245.0,
        235.0 - t * 220.0,
    );
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

/// An SVG map of `zone_errors`: each zone shaded by its WAPE.
pub fn zone_map_svg(s: &Scores, zoning: &Zoning) -> String {
    // (key, WAPE, rings of (lon, lat)) of each zone.
    type Shape = (String, f64, Vec<Vec<(f64, f64)>>);
    let mut shapes: Vec<Shape> = Vec::new();
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (key, &(truth, err)) in &s.zone_errors {
        let Some(zone) = zoning.parse_key(key) else {
            continue;
        };
        let rings = zoning.outline(zone);
        for r in &rings {
            for &(lon, lat) in r {
                min_x = min_x.min(lon);
                max_x = max_x.max(lon);
                min_y = min_y.min(lat);
                max_y = max_y.max(lat);
            }
        }
        let wape = if truth > 0.0 {
            err / truth
        } else {
            f64::INFINITY
        };
        shapes.push((key.clone(), wape, rings));
    }
    if shapes.is_empty() || min_x >= max_x || min_y >= max_y {
        return String::new();
    }
    // Equirectangular at the map's mean latitude, fitted to the width.
    let k = ((min_y + max_y) / 2.0).to_radians().cos();
    let (w, pad) = (640.0, 10.0);
    // Fitted to the width, or to a height of 560 for maps taller than wide.
    let scale = ((w - 2.0 * pad) / ((max_x - min_x) * k)).min(560.0 / (max_y - min_y));
    let h = (max_y - min_y) * scale + 2.0 * pad;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w:.0} {:.0}\" width=\"{w:.0}\" height=\"{:.0}\" role=\"img\" aria-label=\"error per zone\">",
        h + 30.0,
        h + 30.0
    );
    for (key, wape, rings) in &shapes {
        let mut d = String::new();
        for r in rings {
            for (i, &(lon, lat)) in r.iter().enumerate() {
                let x = pad + (lon - min_x) * k * scale;
                let y = pad + (max_y - lat) * scale;
                let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
            }
            d.push('Z');
        }
        let _ = writeln!(
            svg,
            "<path d=\"{d}\" fill=\"{}\" stroke=\"#888\" stroke-width=\"0.5\"><title>{}: WAPE {}</title></path>",
            error_colour(*wape),
            escape(key),
            pct(*wape)
        );
    }
    // Legend: 0% to 100%.
    for i in 0..=10 {
        let t = i as f64 / 10.0;
        let _ = writeln!(
            svg,
            "<rect x=\"{:.0}\" y=\"{:.0}\" width=\"30\" height=\"10\" fill=\"{}\"/>",
            pad + i as f64 * 30.0,
            h + 8.0,
            error_colour(t)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\">WAPE 0% … ≥100% (zones with no truth count as 100%)</text>",
        pad + 340.0,
        h + 17.0
    );
    svg.push_str("</svg>");
    svg
}

/// A complete HTML page: the metrics, notes, home and work, and the map.
pub fn html_report(title: &str, s: &Scores, zoning: &Zoning) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}}\n\
         table{{border-collapse:collapse;font-size:90%}}td,th{{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}}\n\
         td.num{{text-align:right;font-variant-numeric:tabular-nums}}\n\
         section{{margin:2.5em 0;border-top:1px solid #ccc}}svg{{max-width:100%;height:auto}}\n\
         .detail{{color:#555;font-size:90%}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let _ = writeln!(
        h,
        "<p class=\"detail\">Dataset <code>{}</code>, zones <code>{}</code>. MdAPE over keys whose truth is at least {}. \
         Zone size classes: zones in thirds by their truth total.</p>",
        escape(&s.dataset),
        escape(&s.zones),
        format_value(s.mape_floor)
    );
    h.push_str("<table>\n<tr>");
    for c in HEADER {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    for r in rows(s) {
        h.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"num\"" };
            let _ = write!(h, "<td{class}>{}</td>", escape(c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if let Some(hw) = &s.home_work {
        let _ = writeln!(
            h,
            "<section id=\"home_work\">\n<h2>Home and work</h2>\n<table>\n\
             <tr><th></th><th>subscribers</th><th>in the right zone</th><th>median error</th></tr>\n\
             <tr><td>home</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} m</td></tr>\n\
             <tr><td>work or school</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} m</td></tr>\n</table>\n</section>",
            hw.subscribers,
            pct(hw.home_right_share),
            format_value(hw.home_median_error_m),
            hw.with_work,
            pct(hw.work_right_share),
            format_value(hw.work_median_error_m)
        );
    }
    let notes = notes(s);
    if !notes.is_empty() {
        h.push_str("<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        for n in notes {
            let _ = writeln!(h, "<li>{}</li>", escape(&n));
        }
        h.push_str("</ul>\n</section>\n");
    }
    let map = zone_map_svg(s, zoning);
    if !map.is_empty() {
        let _ = writeln!(
            h,
            "<section id=\"map\">\n<h2>Error per zone</h2>\n<p>Each zone shaded by the WAPE of <code>{}</code> over its rows \
             (Σ|p−t| / Σt); hover a zone for its key and value.</p>",
            escape(&s.zone_errors_of)
        );
        h.push_str(&map);
        h.push_str("\n</section>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}
