//! Reports of a privacy audit: a table for the terminal and a
//! self-contained HTML page in the style of `validate` and `score`.

use std::fmt::Write;

use super::Audit;
use crate::validate::report::escape;

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1}%", v * 100.0)
    } else {
        "n/a".into()
    }
}

/// Every section as (title, header, rows).
#[allow(clippy::type_complexity)]
fn sections(a: &Audit) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut out = Vec::new();
    if !a.threshold.is_empty() {
        let rows = a
            .threshold
            .iter()
            .map(|t| {
                vec![
                    format!("{}.{}", t.product, t.value),
                    t.source.clone(),
                    t.rows.to_string(),
                    t.suppressed.to_string(),
                    t.released_below_k.to_string(),
                    t.below_k.to_string(),
                    t.no_true_contributor.to_string(),
                ]
            })
            .collect();
        out.push((
            format!("1. Threshold violations (k = {})", a.k),
            s(&[
                "product",
                "release",
                "rows released",
                "rows suppressed",
                "released < k",
                "true 1..k-1",
                "true 0",
            ]),
            rows,
        ));
    }
    if !a.differencing.is_empty() {
        let rows = a
            .differencing
            .iter()
            .map(|d| {
                vec![
                    d.product.clone(),
                    d.over.join(" × "),
                    d.totals.to_string(),
                    d.recovered.to_string(),
                    d.recovered_exactly.to_string(),
                    d.recovered_below_k.to_string(),
                    d.small_remainders.to_string(),
                ]
            })
            .collect();
        out.push((
            "2. Differencing (total − released breakdown)".into(),
            s(&[
                "product",
                "over",
                "totals",
                "cells recovered",
                "recovered exactly",
                "recovered, true < k",
                "remainders < k",
            ]),
            rows,
        ));
    }
    if !a.uniqueness.is_empty() {
        let rows = a
            .uniqueness
            .iter()
            .map(|u| {
                let mut r = vec![
                    u.key.clone(),
                    u.zones.clone(),
                    u.people.to_string(),
                    u.sets.to_string(),
                    pct(u.share_unique),
                    pct(u.share_below_k),
                    u.median_set_size.to_string(),
                ];
                r.push(
                    u.people_by_set_size
                        .iter()
                        .map(|(k, v)| {
                            format!("{}:{v}", k.split_once(':').map_or(k.as_str(), |x| x.1))
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                r
            })
            .collect();
        out.push((
            "3. Uniqueness in the truth (people with a work or school place)".into(),
            s(&[
                "key",
                "zones",
                "people",
                "sets",
                "unique",
                "set < k",
                "median set",
                "people by set size",
            ]),
            rows,
        ));
    }
    if !a.unicity.is_empty() {
        let rows = a
            .unicity
            .iter()
            .map(|u| {
                vec![
                    u.points.to_string(),
                    pct(u.share_unique),
                    u.sampled.to_string(),
                ]
            })
            .collect();
        out.push((
            "4. Unicity of the raw log (calls and texts, random (hour, cell) points)".into(),
            s(&["p", "unique", "sampled"]),
            rows,
        ));
    }
    if let Some(t) = &a.trajectory {
        out.push((
            "5. Trajectory recovery from hourly presence".into(),
            s(&[
                "counts from",
                "hours",
                "people",
                "trajectories",
                "mean hours",
                "scored",
                "accuracy",
                "exact",
                "singling out",
                "people singled out",
                "published",
            ]),
            vec![vec![
                t.counts_from.clone(),
                t.hours.to_string(),
                t.people.to_string(),
                t.trajectories.to_string(),
                format!("{:.1}", t.mean_hours),
                t.scored.to_string(),
                pct(t.accuracy),
                pct(t.share_exact),
                pct(t.share_singling_out),
                t.people_singled_out.to_string(),
                t.published.to_string(),
            ]],
        ));
    }
    if let Some(c) = &a.canaries {
        out.push((
            "6. Canaries".into(),
            s(&[
                "planted",
                "released cells with a canary",
                "cells exposing one (true < k)",
                "canaries exposed",
            ]),
            vec![vec![
                c.planted.to_string(),
                c.cells_with_a_canary.to_string(),
                c.exposing_cells.to_string(),
                format!(
                    "{} ({})",
                    c.canaries_exposed.len(),
                    c.canaries_exposed
                        .iter()
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ]],
        ));
    }
    out
}

/// The audit as aligned text tables.
pub fn terminal_table(a: &Audit) -> String {
    let mut out = format!(
        "privacy audit of {} on {} (k = {}{})\n",
        a.dataset,
        a.zones,
        a.k,
        if a.suppressed {
            ", releases suppressed below k"
        } else {
            ""
        }
    );
    for (title, header, rows) in sections(a) {
        let _ = writeln!(out, "\n{title}");
        let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |r: &[String]| -> String {
            r.iter()
                .zip(&width)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let _ = writeln!(out, "{}", line(&header));
        for r in &rows {
            let _ = writeln!(out, "{}", line(r));
        }
    }
    for d in &a.differencing {
        for c in d.cells.iter().filter(|c| c.below_k).take(5) {
            let _ = writeln!(
                out,
                "  recovered {}: {} (true {}, {} people)",
                c.key
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                c.recovered,
                c.true_value,
                c.true_contributors
            );
        }
    }
    out
}

/// A self-contained HTML page: every table, and the examples of cells
/// below k and recovered cells.
pub fn html_report(a: &Audit) -> String {
    let title = format!("mobsynth privacy: {}", a.dataset);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}}\n\
         table{{border-collapse:collapse;font-size:90%}}td,th{{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}}\n\
         section{{margin:2.5em 0;border-top:1px solid #ccc}}\n\
         .detail{{color:#555;font-size:90%}}.leak{{color:#a00}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        h,
        "<p class=\"detail\">Zones <code>{}</code>, k = {}{}. Definitions in <code>docs/PRIVACY.md</code>.</p>",
        escape(&a.zones),
        a.k,
        if a.suppressed {
            ", every release suppressed below k before the audit"
        } else {
            ""
        }
    );
    let table = |h: &mut String, header: &[String], rows: &[Vec<String>]| {
        h.push_str("<table>\n<tr>");
        for c in header {
            let _ = write!(h, "<th>{}</th>", escape(c));
        }
        h.push_str("</tr>\n");
        for r in rows {
            h.push_str("<tr>");
            for c in r {
                let _ = write!(h, "<td>{}</td>", escape(c));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    };
    for (title, header, rows) in sections(a) {
        let _ = writeln!(h, "<section>\n<h2>{}</h2>", escape(&title));
        table(&mut h, &header, &rows);
        h.push_str("</section>\n");
    }
    let key = |k: &[(String, String)]| {
        k.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for t in a.threshold.iter().filter(|t| !t.examples.is_empty()) {
        let _ = writeln!(
            h,
            "<section>\n<h2 class=\"leak\">Cells below k: {}</h2>",
            escape(&t.source)
        );
        let rows: Vec<Vec<String>> = t
            .examples
            .iter()
            .map(|e| {
                vec![
                    key(&e.key),
                    e.released.to_string(),
                    e.true_contributors.to_string(),
                ]
            })
            .collect();
        table(
            &mut h,
            &["cell".into(), "released".into(), "true contributors".into()],
            &rows,
        );
        h.push_str("</section>\n");
    }
    for d in a.differencing.iter().filter(|d| !d.cells.is_empty()) {
        let _ = writeln!(
            h,
            "<section>\n<h2 class=\"leak\">Recovered by subtraction: {} over {}</h2>",
            escape(&d.product),
            escape(&d.over.join(" × "))
        );
        let rows: Vec<Vec<String>> = d
            .cells
            .iter()
            .map(|c| {
                vec![
                    key(&c.key),
                    c.recovered.to_string(),
                    c.true_value.to_string(),
                    c.true_contributors.to_string(),
                    if c.below_k { "yes" } else { "no" }.to_string(),
                ]
            })
            .collect();
        table(
            &mut h,
            &[
                "cell".into(),
                "recovered".into(),
                "true value".into(),
                "true contributors".into(),
                "below k".into(),
            ],
            &rows,
        );
        h.push_str("</section>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}
