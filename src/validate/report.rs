//! Reports of measured metrics: a self-contained HTML page with one inline
//! SVG chart per metric, and a plain-text table for the terminal.
//!
//! The SVG is written by hand: the page needs no script, no stylesheet
//! from elsewhere and no network.

use super::dataset::{Evaluation, HappeningDays};
use super::{Metric, Plot, Series};
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 70.0;

/// Colours for successive series: measured first, then laws.
const COLOURS: [&str; 5] = ["#1f5fa8", "#d1495b", "#2e8b57", "#8a5a00", "#6a3d9a"];

/// Formats a measured value compactly for tables.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn format_band(m: &Metric) -> String {
    match m.band {
        Some((lo, hi)) if hi.is_infinite() => format!(">= {}", format_value(lo)),
        Some((lo, hi)) => format!("{} - {}", format_value(lo), format_value(hi)),
        // Shape-judged metrics carry a verdict without a band.
        None if m.passed.is_some() => "shape".into(),
        None => "info".into(),
    }
}

fn verdict(passed: Option<bool>) -> &'static str {
    match passed {
        Some(true) => "pass",
        Some(false) => "FAIL",
        None => "-",
    }
}

/// A fixed-width table: metric, measured, band, pass/fail, source.
pub fn terminal_table(metrics: &[Metric]) -> String {
    let mut out = table_rows(metrics);
    let judged = metrics.iter().filter(|m| m.passed.is_some()).count();
    let passed = metrics.iter().filter(|m| m.passed == Some(true)).count();
    let _ = writeln!(
        out,
        "{passed} of {judged} judged metrics pass; {} not judged",
        metrics.len() - judged
    );
    out
}

/// The line printed above the judged table when happenings are set apart.
pub fn ordinary_days_line(h: &HappeningDays) -> String {
    format!(
        "judged on the {} day(s) without happenings: {}\n",
        h.ordinary_days.len(),
        list_or_none(&h.ordinary_days)
    )
}

/// The happening days' section for the terminal: the days, the happenings,
/// and the metrics measured on those days alone, without a verdict.
pub fn happening_days_table(h: &HappeningDays) -> String {
    let mut out = format!(
        "\nhappening days, measured apart and not judged: {}\n",
        list_or_none(&h.happening_days)
    );
    for x in &h.happenings {
        let _ = writeln!(
            out,
            "  happening {} ({}, {}): {}",
            x.happening_id,
            x.kind,
            x.name,
            list_or_none(&x.dates)
        );
    }
    out.push_str(&table_rows(&h.metrics));
    out
}

fn list_or_none(dates: &[String]) -> String {
    if dates.is_empty() {
        "none".into()
    } else {
        dates.join(", ")
    }
}

fn table_rows(metrics: &[Metric]) -> String {
    let rows: Vec<[String; 5]> = metrics
        .iter()
        .map(|m| {
            [
                m.id.to_string(),
                format_value(m.value),
                format_band(m),
                verdict(m.passed).to_string(),
                m.source.to_string(),
            ]
        })
        .collect();
    let header = ["metric", "measured", "band", "result", "source"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String; 5]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - c.chars().count();
            if i == 1 {
                // Numbers align right.
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < cells.len() {
                s.push_str("  ");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    let rule = widths.map(|w| "-".repeat(w));
    line(&mut out, &rule);
    for r in &rows {
        line(&mut out, r);
    }
    out
}

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A complete HTML page: a summary table, then each metric with its chart.
pub fn html_report(title: &str, metrics: &[Metric]) -> String {
    html_report_with_map(title, metrics, "")
}

/// [`html_report`] with a map (an inline SVG) after the summary table.
pub fn html_report_with_map(title: &str, metrics: &[Metric], map_svg: &str) -> String {
    html_page(title, metrics, map_svg, None)
}

/// The report of an [`Evaluation`]: with happenings, the judged metrics
/// are those of the ordinary days, and a last section gives the happening
/// days' metrics, unjudged.
pub fn html_report_apart(title: &str, eval: &Evaluation, map_svg: &str) -> String {
    html_page(title, &eval.metrics, map_svg, eval.happening_days.as_ref())
}

fn metric_rows(h: &mut String, metrics: &[Metric], anchor: &str) {
    h.push_str("<table>\n<tr><th>metric</th><th>measured</th><th>band</th><th>result</th><th>source</th></tr>\n");
    for (i, m) in metrics.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#{anchor}{i}\">{}</a></td><td class=\"num\">{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(m.name),
            format_value(m.value),
            escape(&format_band(m)),
            verdict_class(m.passed),
            verdict(m.passed),
            escape(m.source)
        );
    }
    h.push_str("</table>\n");
}

fn metric_sections(h: &mut String, metrics: &[Metric], anchor: &str) {
    for (i, m) in metrics.iter().enumerate() {
        let _ = writeln!(
            h,
            "<section id=\"{anchor}{i}\">\n<h2>{}</h2>\n<p><code>{}</code>: measured <b>{}</b>, band {}, <span class=\"{}\">{}</span>.</p>\n<p>Published: {} ({})</p>\n<p class=\"detail\">{}</p>",
            escape(m.name),
            escape(m.id),
            format_value(m.value),
            escape(&format_band(m)),
            verdict_class(m.passed),
            verdict(m.passed),
            escape(m.published),
            escape(m.source),
            escape(&m.detail)
        );
        if let Some(plot) = &m.plot {
            h.push_str(&svg_chart(plot));
            h.push('\n');
        }
        h.push_str("</section>\n");
    }
}

fn html_page(
    title: &str,
    metrics: &[Metric],
    map_svg: &str,
    happening: Option<&HappeningDays>,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}}\n\
         table{{border-collapse:collapse;font-size:90%}}td,th{{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}}\n\
         td.num{{text-align:right;font-variant-numeric:tabular-nums}}\n\
         .pass{{color:#1b7a3a;font-weight:bold}}.fail{{color:#b3261e;font-weight:bold}}\n\
         section{{margin:2.5em 0;border-top:1px solid #ccc}}svg{{max-width:100%;height:auto}}\n\
         .detail{{color:#555;font-size:90%}}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let judged = metrics.iter().filter(|m| m.passed.is_some()).count();
    let passed = metrics.iter().filter(|m| m.passed == Some(true)).count();
    let _ = writeln!(h, "<p>{passed} of {judged} judged metrics pass.</p>");
    if let Some(x) = happening {
        let _ = writeln!(
            h,
            "<p>Judged on the {} day(s) without happenings: {}. The happening days ({}) are <a href=\"#happening-days\">measured apart</a>, not judged.</p>",
            x.ordinary_days.len(),
            escape(&list_or_none(&x.ordinary_days)),
            escape(&list_or_none(&x.happening_days))
        );
    }
    metric_rows(&mut h, metrics, "m");
    if !map_svg.is_empty() {
        h.push_str(
            "<section id=\"map\">\n<h2>Map</h2>\n<p>Shaded squares: where subscribers live (darker is denser); \
             dots: cells; lines: the stays of five subscribers over three days, in time order.</p>\n",
        );
        h.push_str(map_svg);
        h.push_str("\n</section>\n");
    }
    metric_sections(&mut h, metrics, "m");
    if let Some(x) = happening {
        let _ = writeln!(
            h,
            "<section id=\"happening-days\">\n<h2>Happening days, measured apart</h2>\n<p>The same metrics on the rows of the days a happening touches ({}) alone. They are not judged: on these days the population does not behave as the published laws describe.</p>\n<ul>",
            escape(&list_or_none(&x.happening_days))
        );
        for w in &x.happenings {
            let _ = writeln!(
                h,
                "<li>{} {}: {} ({})</li>",
                escape(&w.kind),
                w.happening_id,
                escape(&w.name),
                escape(&list_or_none(&w.dates))
            );
        }
        h.push_str("</ul>\n");
        metric_rows(&mut h, &x.metrics, "h");
        h.push_str("</section>\n");
        metric_sections(&mut h, &x.metrics, "h");
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn verdict_class(passed: Option<bool>) -> &'static str {
    match passed {
        Some(true) => "pass",
        Some(false) => "fail",
        None => "",
    }
}

/// One chart as an inline `<svg>` element.
pub fn svg_chart(plot: &Plot) -> String {
    match plot {
        Plot::LogLog {
            x_label,
            y_label,
            series,
        } => loglog_svg(x_label, y_label, series),
        Plot::Bars {
            y_label,
            labels,
            measured,
            reference,
        } => bars_svg(y_label, labels, measured, reference.as_deref()),
    }
}

fn svg_open(s: &mut String) {
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" font-size=\"11\" font-family=\"sans-serif\">"
    );
    let _ = write!(
        s,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>",
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM
    );
}

fn axis_labels(s: &mut String, x_label: &str, y_label: &str) {
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 8.0,
        escape(x_label)
    );
    let cy = TOP + (HEIGHT - TOP - BOTTOM) / 2.0;
    let _ = write!(
        s,
        "<text x=\"14\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {cy})\">{}</text>",
        escape(y_label)
    );
}

fn loglog_svg(x_label: &str, y_label: &str, series: &[Series]) -> String {
    let positive = |p: &&(f64, f64)| p.0 > 0.0 && p.1 > 0.0 && p.0.is_finite() && p.1.is_finite();
    let pts = || series.iter().flat_map(|s| s.points.iter()).filter(positive);
    let mut s = String::new();
    svg_open(&mut s);
    axis_labels(&mut s, x_label, y_label);
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in pts() {
        x0 = x0.min(p.0.log10());
        x1 = x1.max(p.0.log10());
        y0 = y0.min(p.1.log10());
        y1 = y1.max(p.1.log10());
    }
    if !x0.is_finite() {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\">no data</text></svg>",
            LEFT + 10.0,
            TOP + 20.0
        );
        return s;
    }
    // Whole decades on both axes keep the ticks readable.
    let (x0, x1) = (x0.floor(), x1.ceil().max(x0.floor() + 1.0));
    let (y0, y1) = (y0.floor(), y1.ceil().max(y0.floor() + 1.0));
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x.log10() - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + (y1 - y.log10()) / (y1 - y0) * ph;
    let decade_step = |span: f64| ((span / 8.0).ceil() as i64).max(1);
    let mut d = x0 as i64;
    while d <= x1 as i64 {
        let x = sx(10f64.powi(d as i32));
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">1e{d}</text>",
            TOP + ph,
            TOP + ph + 14.0
        );
        d += decade_step(x1 - x0);
    }
    let mut d = y0 as i64;
    while d <= y1 as i64 {
        let y = sy(10f64.powi(d as i32));
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">1e{d}</text>",
            LEFT + pw,
            LEFT - 4.0,
            y + 4.0
        );
        d += decade_step(y1 - y0);
    }
    for (i, ser) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let p: Vec<(f64, f64)> = ser
            .points
            .iter()
            .filter(positive)
            .map(|p| (sx(p.0), sy(p.1)))
            .collect();
        if ser.line {
            let path: Vec<String> = p.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let dash = if i >= 2 {
                " stroke-dasharray=\"5 3\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\"{dash} points=\"{}\"/>",
                path.join(" ")
            );
        } else {
            for (x, y) in &p {
                let _ = write!(
                    s,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2\" fill=\"{colour}\"/>"
                );
            }
        }
        let ly = TOP + 14.0 + 14.0 * i as f64;
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"3\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{ly:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw - 12.0,
            ly - 4.0,
            LEFT + pw - 16.0,
            escape(&ser.label)
        );
    }
    s.push_str("</svg>");
    s
}

fn bars_svg(
    y_label: &str,
    labels: &[String],
    measured: &[f64],
    reference: Option<&[f64]>,
) -> String {
    let mut s = String::new();
    svg_open(&mut s);
    axis_labels(&mut s, "", y_label);
    let n = measured.len().max(1);
    let top = measured
        .iter()
        .chain(reference.unwrap_or(&[]))
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let slot = pw / n as f64;
    let sy = |v: f64| TOP + ph - (v / top).clamp(0.0, 1.0) * ph;
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw,
            LEFT - 4.0,
            sy(v) + 4.0,
            format_value(v),
            y = sy(v)
        );
    }
    // Label every bar when they fit, otherwise every k-th.
    let every = if n <= 24 { 1 } else { n.div_ceil(14) };
    for (i, v) in measured.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let v = if v.is_finite() { *v } else { 0.0 };
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {}</title></rect>",
            x + slot * 0.1,
            sy(v),
            slot * 0.8,
            TOP + ph - sy(v),
            COLOURS[0],
            escape(labels.get(i).map(String::as_str).unwrap_or("")),
            format_value(v)
        );
        if let Some(r) = reference.and_then(|r| r.get(i)).filter(|r| r.is_finite()) {
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{}\" stroke-width=\"3\"/>",
                x + slot * 0.05,
                x + slot * 0.95,
                COLOURS[1],
                y = sy(*r)
            );
        }
        if i % every == 0 {
            let cx = x + slot / 2.0;
            let ly = TOP + ph + 10.0;
            let _ = write!(
                s,
                "<text x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" transform=\"rotate(-35 {cx:.1} {ly:.1})\">{}</text>",
                escape(&truncate(
                    labels.get(i).map(String::as_str).unwrap_or(""),
                    28
                ))
            );
        }
    }
    if reference.is_some() {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"3\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">published</text>",
            LEFT + pw - 12.0,
            TOP + 10.0,
            COLOURS[1],
            LEFT + pw - 16.0,
            TOP + 14.0
        );
    }
    s.push_str("</svg>");
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Words of `text` that read like a Rust name leaking out of the code (a
/// type or variant in CamelCase such as `TripMode` or `CarDriver`, an
/// `Option` printed with `{:?}`, or an enum variant serialised as a JSON key
/// such as `{"Bars": …}`), for the tests of every label a user reads.
#[cfg(test)]
pub(crate) fn leaked_rust_names(text: &str) -> Vec<&str> {
    let keys = text.match_indices("\":").filter_map(|(end, _)| {
        let start = text[..end].rfind('"')? + 1;
        let key = &text[start..end];
        key.starts_with(|c: char| c.is_ascii_uppercase())
            .then_some(key)
    });
    let camel = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && w.contains(|c: char| c.is_ascii_lowercase())
            && w.char_indices().skip(1).any(|(i, c)| {
                c.is_ascii_uppercase() && w[..i].ends_with(|p: char| p.is_ascii_lowercase())
            })
    };
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| camel(w) || *w == "Some" || *w == "None")
        .chain(keys)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Spec;

    const SPEC: Spec = Spec {
        id: "test.metric",
        name: "A <test> metric",
        band: Some((1.0, 2.0)),
        published: "1.5",
        source: "Nobody (2024)",
    };

    #[test]
    fn leaked_rust_names_are_found_and_plain_words_pass() {
        assert_eq!(
            leaked_rust_names("TripMode share: walk; mode CarDriver, place Some(3)"),
            ["TripMode", "CarDriver", "Some"]
        );
        assert_eq!(
            leaked_rust_names(r#"{"plot":{"Bars":{"y_label":"share"}}}"#),
            ["Bars"]
        );
        assert!(leaked_rust_names("Mode share: car as driver, CCDF, TAU_PERIODIC").is_empty());
    }

    #[test]
    fn table_lists_every_metric_with_its_verdict() {
        let metrics = vec![
            Metric::judged(&SPEC, 1.5, String::new()),
            Metric::judged(&SPEC, 3.0, String::new()),
            Metric::missing(&SPEC, "no data"),
        ];
        let t = terminal_table(&metrics);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 6);
        assert!(lines[2].contains("1.500") && lines[2].contains("pass"));
        assert!(lines[3].contains("FAIL"));
        assert!(lines[4].contains("n/a"));
        assert!(lines[5].starts_with("1 of 2 judged"));
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let plot = Plot::LogLog {
            x_label: "x".into(),
            y_label: "P(X >= x)".into(),
            series: vec![
                Series {
                    label: "measured".into(),
                    points: vec![(1.0, 1.0), (10.0, 0.1), (100.0, 0.01)],
                    line: false,
                },
                Series {
                    label: "fit".into(),
                    points: vec![(1.0, 1.0), (100.0, 0.01)],
                    line: true,
                },
            ],
        };
        let bars = Plot::Bars {
            y_label: "share".into(),
            labels: vec!["a".into(), "b".into()],
            measured: vec![0.3, 0.7],
            reference: Some(vec![0.5, 0.5]),
        };
        let metrics = vec![
            Metric::judged(&SPEC, 1.5, "x < y".into()).with_plot(plot),
            Metric::judged(&SPEC, 1.2, String::new()).with_plot(bars),
        ];
        let h = html_report("Report & more", &metrics);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("Report &amp; more"));
        assert!(h.contains("A &lt;test&gt; metric"));
        assert!(!h.contains("<script"));
        // The only address is the SVG namespace, which is never fetched.
        assert_eq!(
            h.matches("http").count(),
            h.matches("http://www.w3.org/2000/svg").count()
        );
        assert!(!h.contains("https://"));
        assert_eq!(h.matches("<svg").count(), 2);
        assert_eq!(h.matches("<circle").count(), 3);
        assert!(h.contains("<polyline"));
        assert!(h.contains("published"));
    }
}
