//! Social-network metrics: who calls whom, from the events (the analyst's
//! view) and from `truth/contacts`.
//!
//! Records are loaded through [`DatasetReader`] by [`load`]; the metric
//! functions do no I/O. Sources and bands are in `docs/MODEL.md`, section
//! "Social network".

use std::collections::HashMap;

use arrow::array::{Array, AsArray};
use std::path::Path;

use super::{Metric, Plot, Spec};
use crate::map::Projection;
use crate::reader::{
    DatasetError, DatasetReader, column_bool, column_f64, column_i64, column_ms, column_opt_i64,
    column_str,
};
use crate::rng::{Purpose, stream};
use crate::sink::network_tables::events_schema;
use crate::sink::social_tables::contacts_schema;
use crate::sink::tables::{stays_schema, subscribers_schema, trips_schema};

/// A resident person of the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Member {
    pub id: u64,
    pub age: u8,
    pub x_m: f64,
    pub y_m: f64,
}

/// A call or text, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRecord {
    pub subscriber: u64,
    /// 0 call, 1 text.
    pub text: bool,
    pub mo: bool,
    pub time_ms: i64,
    pub duration_ms: Option<i64>,
    /// The other party's subscriber id, when it is a subscriber.
    pub other: Option<u64>,
}

/// What the network metrics need of a dataset.
#[derive(Debug, Default)]
pub struct NetworkData {
    pub members: Vec<Member>,
    /// (a, b, kind, weight), a < b.
    pub contacts: Vec<(u64, u64, String, f64)>,
    pub calls: Vec<CallRecord>,
    /// Calls and texts in the log, on-net or not.
    pub all_calls: usize,
    /// When each subscriber was away from the region (UTC ms intervals,
    /// sorted, disjoint): by the truth, stays beyond the map's edge and trips
    /// with an end there, whole; for inbound roamers, before the first and
    /// after the last day of the visit.
    pub away: HashMap<u64, Vec<(i64, i64)>>,
    /// Inbound roamers (not IoT), by id.
    pub roamers: Vec<u64>,
}

impl NetworkData {
    /// Whether the truth has `subscriber` beyond the map's edge at `t_ms`.
    pub fn is_away(&self, subscriber: u64, t_ms: i64) -> bool {
        self.away.get(&subscriber).is_some_and(|spans| {
            let i = spans.partition_point(|s| s.0 <= t_ms);
            i > 0 && spans[i - 1].1 > t_ms
        })
    }
}

/// Reads the subscribers, `truth/contacts` (when written) and the calls
/// and texts of `events`.
pub fn load(dir: &Path) -> Result<NetworkData, DatasetError> {
    let reader = DatasetReader::open(dir)?;
    let mut d = NetworkData::default();
    let mut by_msisdn: HashMap<String, u64> = HashMap::new();
    let mut homes = Vec::new();
    // Inbound roamers: (id, first day, last day) of their visit.
    let mut visits = Vec::new();
    for b in reader.read("subscribers", subscribers_schema())? {
        let p = dir.join("subscribers");
        let id = column_i64(&b, "subscriber_id", &p)?;
        let msisdn = column_str(&b, "msisdn", &p)?;
        let age = column_i64(&b, "age", &p).or_else(|_| {
            column_opt_i64(&b, "age", &p).map(|v| v.into_iter().map(|a| a.unwrap_or(0)).collect())
        })?;
        let device = column_str(&b, "device", &p)?;
        let (lon, lat) = (
            column_f64(&b, "home_lon", &p)?,
            column_f64(&b, "home_lat", &p)?,
        );
        let roamer = b
            .column_by_name("roamer")
            .and_then(|c| c.as_boolean_opt().cloned());
        let (first, last) = (
            column_opt_i64(&b, "first_day", &p)?,
            column_opt_i64(&b, "last_day", &p)?,
        );
        for i in 0..b.num_rows() {
            by_msisdn.insert(msisdn[i].clone(), id[i] as u64);
            let is_roamer = roamer.as_ref().is_some_and(|r| r.value(i));
            if is_roamer && let (Some(f), Some(l)) = (first[i], last[i]) {
                visits.push((id[i] as u64, f, l));
            }
            if is_roamer && device[i] != "iot" {
                d.roamers.push(id[i] as u64);
            }
            if device[i] != "iot" && !is_roamer {
                homes.push((id[i] as u64, age[i].clamp(0, 255) as u8, lon[i], lat[i]));
            }
        }
    }
    if !homes.is_empty() {
        let n = homes.len() as f64;
        let lon0 = homes.iter().map(|h| h.2).sum::<f64>() / n;
        let lat0 = homes.iter().map(|h| h.3).sum::<f64>() / n;
        let proj = Projection::new(lon0, lat0);
        d.members = homes
            .iter()
            .map(|&(id, age, lon, lat)| {
                let c = proj.to_xy(lon, lat);
                Member {
                    id,
                    age,
                    x_m: c.x,
                    y_m: c.y,
                }
            })
            .collect();
    }
    if reader.has_table("truth/contacts") {
        for b in reader.read("truth/contacts", contacts_schema())? {
            let p = dir.join("truth/contacts");
            let a = column_i64(&b, "subscriber_a", &p)?;
            let bb = column_i64(&b, "subscriber_b", &p)?;
            let kind = column_str(&b, "kind", &p)?;
            let w = column_f64(&b, "weight", &p)?;
            for i in 0..b.num_rows() {
                d.contacts
                    .push((a[i] as u64, bb[i] as u64, kind[i].clone(), w[i]));
            }
        }
    }
    if reader.has_table("truth/stays") {
        let p = dir.join("truth/stays");
        for b in reader.read("truth/stays", stays_schema())? {
            let sub = column_i64(&b, "subscriber_id", &p)?;
            let (start, end) = (column_ms(&b, "start", &p)?, column_ms(&b, "end", &p)?);
            let beyond = column_bool(&b, "out_of_area", &p)?;
            for i in (0..b.num_rows()).filter(|&i| beyond[i]) {
                d.away
                    .entry(sub[i] as u64)
                    .or_default()
                    .push((start[i], end[i]));
            }
        }
        let p = dir.join("truth/trips");
        for b in reader.read("truth/trips", trips_schema())? {
            let sub = column_i64(&b, "subscriber_id", &p)?;
            let (start, end) = (column_ms(&b, "start", &p)?, column_ms(&b, "end", &p)?);
            let o = column_bool(&b, "origin_out_of_area", &p)?;
            let dd = column_bool(&b, "destination_out_of_area", &p)?;
            for i in (0..b.num_rows()).filter(|&i| o[i] || dd[i]) {
                d.away
                    .entry(sub[i] as u64)
                    .or_default()
                    .push((start[i], end[i]));
            }
        }
    }
    // A roamer is away (at home, abroad) before the first and after the
    // last day of its visit.
    if !visits.is_empty() {
        let calendar = reader.calendar()?;
        let days = calendar.days();
        for (id, f, l) in visits {
            let day = |k: i64| days.get(usize::try_from(k).ok()?);
            if let (Some(fd), Some(ld)) = (day(f), day(l)) {
                let spans = d.away.entry(id).or_default();
                spans.push((i64::MIN, fd.start_utc * 1000));
                spans.push((ld.end_utc * 1000, i64::MAX));
            }
        }
    }
    // Sorted and merged, so that the span before an instant is the only
    // one that can hold it (a roamer's visit ends at a day's end, while its
    // journey home may run past it).
    for spans in d.away.values_mut() {
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for &(a, b) in spans.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *spans = merged;
    }
    for b in reader.read("events", events_schema())? {
        let p = dir.join("events");
        let kind = column_str(&b, "event_type", &p)?;
        let sub = column_i64(&b, "subscriber_id", &p)?;
        let time = column_ms(&b, "timestamp", &p)?;
        let dur = column_opt_i64(&b, "duration_ms", &p)?;
        let cp = b.column_by_name("counterpart").map(|c| {
            let s = c.as_string::<i32>();
            (0..s.len())
                .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
                .collect::<Vec<_>>()
        });
        for i in 0..b.num_rows() {
            let (text, mo) = match kind[i].as_str() {
                "VOICE_MO" => (false, true),
                "VOICE_MT" => (false, false),
                "SMS_MO" => (true, true),
                "SMS_MT" => (true, false),
                _ => continue,
            };
            d.all_calls += 1;
            let other = cp
                .as_ref()
                .and_then(|c| c[i].as_ref())
                .and_then(|m| by_msisdn.get(m).copied());
            if other.is_some() {
                d.calls.push(CallRecord {
                    subscriber: sub[i] as u64,
                    text,
                    mo,
                    time_ms: time[i],
                    duration_ms: dur[i],
                    other,
                });
            }
        }
    }
    Ok(d)
}

pub const MIRROR_SHARE: Spec = Spec {
    id: "network.mirror_share",
    name: "On-net calls whose mirror record exists",
    band: Some((0.9, 1.0)),
    published: "1.0 within the region, less calls to phones off or away",
    source: "3GPP TS 32.250 (a call between two subscribers of one network is charged at both ends)",
};
pub const ON_NET_SHARE: Spec = Spec {
    id: "network.on_net_share",
    name: "Share of calls and texts with another subscriber",
    band: Some((0.15, 0.5)),
    published: "about the operator's market share, 0.25-0.45",
    source: "Lambiotte et al. 2008, Physica A 387:5317 (operator of about a quarter of Belgium)",
};
pub const DEGREE_TAIL: Spec = Spec {
    id: "truth.contacts.degree_p99_over_median",
    name: "On-net degree, 99th percentile over median",
    band: Some((2.0, 8.0)),
    published: "skewed degree, P(k) ∝ (k + 11)^-8.4",
    source: "Onnela et al. 2007, PNAS 104:7332",
};
pub const DISTANCE_DECAY: Spec = Spec {
    id: "truth.contacts.distance_decay_alpha",
    name: "Social tie probability between homes, P(d) ∝ d^-α: α",
    band: Some((1.5, 2.5)),
    published: "α ≈ 2",
    source: "Lambiotte et al. 2008, Physica A 387:5317",
};
pub const OVERLAP_WEIGHT: Spec = Spec {
    id: "network.overlap_weight_spearman",
    name: "Rank correlation of tie overlap and interactions in the log",
    band: Some((0.02, 1.0)),
    published: "overlap grows with tie strength (positive)",
    source: "Onnela et al. 2007, PNAS 104:7332",
};
pub const ROAMER_TIES: Spec = Spec {
    id: "truth.contacts.roamer_ties_mean",
    name: "On-net ties per inbound roamer: travel companions and residents (reported)",
    band: None,
    published: "sparse: a visitor's calls go mostly home",
    source: "model assumption (docs/MODEL.md, Social network, Inbound roamers)",
};
pub const AGE_GAP: Spec = Spec {
    id: "truth.contacts.age_gap_generation_mode",
    name: "Top contacts 20-35 years apart over 10-20 years apart (per 5-year bin)",
    band: Some((1.1, 10.0)),
    published: "two modes: same age and about 25 years apart",
    source: "Palchykov et al. 2012, Sci. Rep. 2:370",
};

/// Every network metric the data supports.
pub fn network_metrics(d: &NetworkData, seed: u64) -> Vec<Metric> {
    let mut out = Vec::new();
    if d.all_calls > 0 {
        out.push(on_net_share(d));
        out.push(mirror_share(&d.calls, &|sub, t| d.is_away(sub, t)));
    }
    if !d.contacts.is_empty() {
        out.push(degree_tail(d));
        out.push(distance_decay(d, seed));
        out.push(age_gap(d));
        if !d.roamers.is_empty() {
            out.push(roamer_ties(d));
        }
        if !d.calls.is_empty() {
            out.push(overlap_weight(d));
        }
    }
    out
}

/// Calls and texts with another subscriber, of all calls and texts.
pub fn on_net_share(d: &NetworkData) -> Metric {
    let v = d.calls.len() as f64 / d.all_calls.max(1) as f64;
    Metric::judged(
        &ON_NET_SHARE,
        v,
        format!("{} of {} calls and texts", d.calls.len(), d.all_calls),
    )
}

/// On-net VOICE_MO records with a VOICE_MT at the callee, same start and
/// duration, over the on-net VOICE_MO whose callee the truth has within
/// the region (`away(callee, t)` false): a callee beyond the map's edge,
/// or a roamer before or after its visit, is on another network, which
/// records the other side.
pub fn mirror_share(calls: &[CallRecord], away: &dyn Fn(u64, i64) -> bool) -> Metric {
    let mut mt: HashMap<(u64, u64, i64, Option<i64>), usize> = HashMap::new();
    for c in calls.iter().filter(|c| !c.text && !c.mo) {
        if let Some(o) = c.other {
            *mt.entry((o, c.subscriber, c.time_ms, c.duration_ms))
                .or_default() += 1;
        }
    }
    let (mut n, mut found, mut unanswered, mut away_calls) = (0usize, 0usize, 0usize, 0usize);
    for c in calls.iter().filter(|c| !c.text && c.mo) {
        let Some(o) = c.other else { continue };
        if away(o, c.time_ms) {
            away_calls += 1;
            continue;
        }
        n += 1;
        if mt
            .get(&(c.subscriber, o, c.time_ms, c.duration_ms))
            .is_some_and(|&k| k > 0)
        {
            found += 1;
        } else if c.duration_ms == Some(0) {
            unanswered += 1;
        }
    }
    let v = if n > 0 {
        found as f64 / n as f64
    } else {
        f64::NAN
    };
    Metric::judged(
        &MIRROR_SHARE,
        v,
        format!(
            "{found} of {n} on-net VOICE_MO to callees in the region mirrored; {unanswered} unanswered (callee's phone off); {away_calls} more to callees away (beyond the map's edge, or roamers outside their visit), not counted"
        ),
    )
}

/// Whether a tie of `kind` is between two residents: inbound roamers'
/// ties (`companion`, `host`) are left out of the residents' degree and
/// age metrics, which describe a national network.
fn between_residents(kind: &str) -> bool {
    matches!(kind, "household" | "work" | "social")
}

fn degrees(d: &NetworkData) -> HashMap<u64, usize> {
    let mut deg: HashMap<u64, usize> = d.members.iter().map(|m| (m.id, 0)).collect();
    for (a, b, _, _) in d.contacts.iter().filter(|c| between_residents(&c.2)) {
        *deg.entry(*a).or_default() += 1;
        *deg.entry(*b).or_default() += 1;
    }
    deg
}

/// The 99th percentile of the on-net degree over its median.
pub fn degree_tail(d: &NetworkData) -> Metric {
    let mut ks: Vec<usize> = degrees(d).into_values().collect();
    ks.sort_unstable();
    let q = |p: f64| ks[((ks.len() - 1) as f64 * p).round() as usize] as f64;
    let (median, p99) = (q(0.5), q(0.99));
    let v = if median > 0.0 { p99 / median } else { f64::NAN };
    let mean = ks.iter().sum::<usize>() as f64 / ks.len() as f64;
    Metric::judged(
        &DEGREE_TAIL,
        v,
        format!(
            "median {median}, mean {mean:.1}, 99th percentile {p99}, max {}",
            ks.last().copied().unwrap_or(0)
        ),
    )
}

/// Distance bins, metres: half-octaves from 250 m.
fn distance_bin(d: f64) -> Option<usize> {
    if d < 250.0 {
        return None;
    }
    let k = (2.0 * (d / 250.0).log2()).floor() as usize;
    (k < 24).then_some(k)
}

fn bin_mid(k: usize) -> f64 {
    250.0 * 2f64.powf((k as f64 + 0.5) / 2.0)
}

/// α of P(tie | d) ∝ d^−α for social ties: ties per distance bin over pairs per bin (pairs
/// from 400,000 random pairs of members), fitted by least squares in
/// log-log from 1 km on, over bins with at least 10 ties.
pub fn distance_decay(d: &NetworkData, seed: u64) -> Metric {
    let pos: HashMap<u64, (f64, f64)> = d.members.iter().map(|m| (m.id, (m.x_m, m.y_m))).collect();
    let dist = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let mut ties = [0f64; 24];
    // Social ties only: colleagues live where the commuting model puts
    // them, and households share a home.
    for (a, b, _, _) in d.contacts.iter().filter(|c| c.2 == "social") {
        if let (Some(&pa), Some(&pb)) = (pos.get(a), pos.get(b))
            && let Some(k) = distance_bin(dist(pa, pb))
        {
            ties[k] += 1.0;
        }
    }
    let mut pairs = [0f64; 24];
    let n = d.members.len();
    if n >= 2 {
        let mut rng = stream(seed, Purpose::Validate, 20, 0);
        for _ in 0..400_000 {
            let i = rand::RngExt::random_range(&mut rng, 0..n);
            let j = rand::RngExt::random_range(&mut rng, 0..n);
            if i == j {
                continue;
            }
            let (a, b) = (&d.members[i], &d.members[j]);
            if let Some(k) = distance_bin(dist((a.x_m, a.y_m), (b.x_m, b.y_m))) {
                pairs[k] += 1.0;
            }
        }
    }
    let points: Vec<(f64, f64)> = (0..24)
        .filter(|&k| ties[k] >= 10.0 && pairs[k] >= 50.0)
        .map(|k| (bin_mid(k), ties[k] / pairs[k]))
        .collect();
    let fit: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.0 >= 1000.0)
        .map(|&(x, y)| (x.ln(), y.ln()))
        .collect();
    let alpha = if fit.len() >= 3 {
        let m = fit.len() as f64;
        let mx = fit.iter().map(|p| p.0).sum::<f64>() / m;
        let my = fit.iter().map(|p| p.1).sum::<f64>() / m;
        let sxy: f64 = fit.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = fit.iter().map(|p| (p.0 - mx).powi(2)).sum();
        -sxy / sxx
    } else {
        f64::NAN
    };
    Metric::judged(
        &DISTANCE_DECAY,
        alpha,
        format!("{} distance bins from 1 km fitted", fit.len()),
    )
    .with_plot(Plot::LogLog {
        x_label: "distance between homes (m)".into(),
        y_label: "ties per pair (relative)".into(),
        series: vec![super::Series {
            label: "measured".into(),
            points,
            line: false,
        }],
    })
}

/// Mean ties per inbound roamer, with the share of roamers that have one
/// and the ties by kind.
pub fn roamer_ties(d: &NetworkData) -> Metric {
    let roamers: std::collections::HashSet<u64> = d.roamers.iter().copied().collect();
    let mut deg: HashMap<u64, usize> = HashMap::new();
    let (mut companions, mut hosts) = (0usize, 0usize);
    for (a, b, kind, _) in &d.contacts {
        let (ra, rb) = (roamers.contains(a), roamers.contains(b));
        if !(ra || rb) {
            continue;
        }
        match kind.as_str() {
            "companion" => companions += 1,
            "host" => hosts += 1,
            _ => {}
        }
        for (x, r) in [(a, ra), (b, rb)] {
            if r {
                *deg.entry(*x).or_default() += 1;
            }
        }
    }
    let n = roamers.len().max(1) as f64;
    let v = deg.values().sum::<usize>() as f64 / n;
    Metric::judged(
        &ROAMER_TIES,
        v,
        format!(
            "{} roamers, {:.2} with a tie; {companions} companion and {hosts} host ties",
            roamers.len(),
            deg.len() as f64 / n
        ),
    )
}

/// Counts of the age gap to each member's strongest tie, 5-year bins.
pub fn top_contact_age_gaps(d: &NetworkData) -> Vec<f64> {
    let age: HashMap<u64, u8> = d.members.iter().map(|m| (m.id, m.age)).collect();
    let mut top: HashMap<u64, (f64, u64)> = HashMap::new();
    for (a, b, _, w) in d.contacts.iter().filter(|c| between_residents(&c.2)) {
        for (x, y) in [(*a, *b), (*b, *a)] {
            let e = top.entry(x).or_insert((f64::MIN, y));
            if *w > e.0 || (*w == e.0 && y < e.1) {
                *e = (*w, y);
            }
        }
    }
    let mut bins = vec![0f64; 16];
    for (x, (_, y)) in top {
        if let (Some(&ax), Some(&ay)) = (age.get(&x), age.get(&y)) {
            let gap = (ax as i64 - ay as i64).unsigned_abs() as usize / 5;
            bins[gap.min(15)] += 1.0;
        }
    }
    bins
}

/// Mean count per bin of gaps 20-35 years over that of 10-20 years: above
/// 1 when a generation mode rises after the peer mode falls.
pub fn age_gap(d: &NetworkData) -> Metric {
    let bins = top_contact_age_gaps(d);
    let generation = (bins[4] + bins[5] + bins[6]) / 3.0;
    let trough = (bins[2] + bins[3]) / 2.0;
    let v = if trough > 0.0 {
        generation / trough
    } else {
        f64::NAN
    };
    Metric::judged(&AGE_GAP, v, format!("top contacts by 5-year gap: {bins:?}")).with_plot(
        Plot::Bars {
            y_label: "members".into(),
            labels: (0..16).map(|k| format!("{}", k * 5)).collect(),
            measured: bins,
            reference: None,
        },
    )
}

/// Spearman correlation between the overlap of a tie's ends in
/// `truth/contacts` and the interactions the log holds for the pair (MO
/// records at either end, each interaction once), over ties with at least
/// one interaction.
pub fn overlap_weight(d: &NetworkData) -> Metric {
    let mut nb: HashMap<u64, Vec<u64>> = HashMap::new();
    for (a, b, _, _) in &d.contacts {
        nb.entry(*a).or_default().push(*b);
        nb.entry(*b).or_default().push(*a);
    }
    for v in nb.values_mut() {
        v.sort_unstable();
    }
    let mut count: HashMap<(u64, u64), f64> = HashMap::new();
    for c in d.calls.iter().filter(|c| c.mo) {
        if let Some(o) = c.other {
            *count
                .entry((c.subscriber.min(o), c.subscriber.max(o)))
                .or_default() += 1.0;
        }
    }
    let empty = Vec::new();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (a, b, _, _) in &d.contacts {
        let Some(&w) = count.get(&(*a, *b)) else {
            continue;
        };
        let (na, nbb) = (nb.get(a).unwrap_or(&empty), nb.get(b).unwrap_or(&empty));
        let common = na.iter().filter(|x| nbb.binary_search(x).is_ok()).count() as f64;
        let union = (na.len() + nbb.len()) as f64 - 2.0 - common;
        xs.push(if union > 0.0 { common / union } else { 0.0 });
        ys.push(w);
    }
    let v = spearman(&xs, &ys);
    Metric::judged(
        &OVERLAP_WEIGHT,
        v,
        format!("{} ties with interactions in the log", xs.len()),
    )
}

/// Ranks with ties averaged.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation; NaN for fewer than 3 points or no spread.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.len() < 3 {
        return f64::NAN;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let sxy: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_knows_perfect_and_reversed_orders() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_call_with_its_twin_is_mirrored_and_one_without_is_not() {
        let call = |sub, mo, other, t, dur| CallRecord {
            subscriber: sub,
            text: false,
            mo,
            time_ms: t,
            duration_ms: Some(dur),
            other: Some(other),
        };
        let calls = [
            call(1, true, 2, 1000, 5000),
            call(2, false, 1, 1000, 5000),
            call(1, true, 3, 9000, 0),
            call(3, false, 1, 9000, 4000),
        ];
        let m = mirror_share(&calls, &|_, _| false);
        assert_eq!(m.value, 0.5);
        // A callee beyond the map's edge does not count.
        let m = mirror_share(&calls, &|sub, _| sub == 3);
        assert_eq!(m.value, 1.0);
    }
}
