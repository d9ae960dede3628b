//! Daily mobility motifs (Schneider et al. 2013).
//!
//! A local day is cut into 48 half-hour slots. Each slot gets one location:
//! from ground truth, the place where the person spent most of the slot;
//! from events, the cell seen most often in the slot. Slots with no
//! location (travelling all slot long, or no event) are skipped. The
//! remaining sequence, with repeats collapsed, becomes a directed graph:
//! one node per distinct location and one edge per distinct move. Days are
//! grouped by graph isomorphism, found by brute force over node
//! permutations for graphs of up to [`MAX_CANONICAL_NODES`] nodes; larger
//! graphs are counted but never among the common motifs.

use super::{DAY_S, EventRecord, Metric, Plot, Spec, Trajectories, Visit};
use crate::calendar::Calendar;
use std::collections::{BTreeMap, HashMap};

/// Half-hour slots per day.
pub const SLOTS: usize = 48;

const SLOT_S: i64 = DAY_S / SLOTS as i64;

/// Larger graphs are not canonicalised: 8! permutations is the limit worth
/// paying, and such days are far outside the common motifs anyway.
pub const MAX_CANONICAL_NODES: usize = 8;

/// How many of the most common motifs the published coverage refers to.
pub const TOP_MOTIFS: usize = 17;

/// An event-based day needs this many observed slots to have a shape at all.
pub const MIN_EVENT_SLOTS: usize = 8;

const SCHNEIDER: &str = "Schneider et al. (2013), J. R. Soc. Interface 10";

pub const MOTIFS_TRUTH: Spec = Spec {
    id: "truth.motifs_top17",
    name: "Daily motifs: share of person-days in the 17 most common",
    band: Some((0.85, 1.0)),
    published: "17 motifs cover about 90% of person-days; the most common have 1-3 locations",
    source: SCHNEIDER,
};

pub const MOTIFS_EVENTS: Spec = Spec {
    id: "events.motifs_top17",
    name: "Daily motifs from events: share of person-days in the 17 most common",
    band: Some((0.85, 1.0)),
    published: "17 motifs cover about 90% of person-days; the most common have 1-3 locations",
    source: SCHNEIDER,
};

/// An isomorphism class of daily mobility graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Motif {
    /// Distinct locations.
    pub nodes: u8,
    /// Distinct directed moves.
    pub edges: u8,
    /// Canonical adjacency bitmask (bit `i·n + j` for edge i→j), the smallest
    /// over all node orders; `u64::MAX` for graphs too large to canonicalise.
    pub code: u64,
}

impl Motif {
    /// Whether the motif was classified up to isomorphism.
    pub fn is_canonical(&self) -> bool {
        self.code != u64::MAX
    }

    /// Short description, e.g. `3 places, 3 moves: 0>1 1>2 2>0`.
    pub fn label(&self) -> String {
        let n = self.nodes as usize;
        let mut s = format!(
            "{} place{}, {} move{}",
            n,
            if n == 1 { "" } else { "s" },
            self.edges,
            if self.edges == 1 { "" } else { "s" }
        );
        if self.is_canonical() && self.edges > 0 {
            let edges: Vec<String> = (0..n * n)
                .filter(|b| self.code >> b & 1 == 1)
                .map(|b| format!("{}>{}", b / n, b % n))
                .collect();
            s.push_str(": ");
            s.push_str(&edges.join(" "));
        }
        s
    }
}

/// Classifies one day given its slot locations; `None` when no slot has a
/// location.
pub fn classify_slots(slots: &[Option<u64>]) -> Option<Motif> {
    let mut order: Vec<u64> = Vec::new();
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut prev: Option<usize> = None;
    for loc in slots.iter().flatten() {
        let idx = match order.iter().position(|p| p == loc) {
            Some(i) => i,
            None => {
                order.push(*loc);
                order.len() - 1
            }
        };
        if let Some(p) = prev.filter(|p| *p != idx)
            && !edges.contains(&(p, idx))
        {
            edges.push((p, idx));
        }
        prev = Some(idx);
    }
    if order.is_empty() {
        return None;
    }
    Some(canonical(order.len(), &edges))
}

/// Canonical form of a directed graph on nodes `0..n`.
pub fn canonical(n: usize, edges: &[(usize, usize)]) -> Motif {
    let nodes = n.min(u8::MAX as usize) as u8;
    let edge_count = edges.len().min(u8::MAX as usize) as u8;
    if n > MAX_CANONICAL_NODES {
        return Motif {
            nodes,
            edges: edge_count,
            code: u64::MAX,
        };
    }
    let mut perm: Vec<usize> = (0..n).collect();
    let code_of = |perm: &[usize]| {
        edges
            .iter()
            .fold(0u64, |acc, &(a, b)| acc | 1u64 << (perm[a] * n + perm[b]))
    };
    let mut best = code_of(&perm);
    // Heap's algorithm visits every permutation once.
    let mut c = vec![0usize; n];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                perm.swap(0, i);
            } else {
                perm.swap(c[i], i);
            }
            best = best.min(code_of(&perm));
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    Motif {
        nodes,
        edges: edge_count,
        code: best,
    }
}

/// Slot locations of one person for every local day they have a visit on,
/// in day order, from ground-truth visits: the place with the longest
/// presence in the slot, ties to the lower place id.
pub fn slots_from_visits(
    visits: &[Visit],
    calendar: &Calendar,
) -> Vec<(i64, [Option<u64>; SLOTS])> {
    // (global slot, place, seconds present)
    let mut presence: Vec<(i64, u64, i64)> = Vec::new();
    for v in visits {
        let (start, end) = (
            calendar.local_seconds(v.start_s),
            calendar.local_seconds(v.end_s),
        );
        let mut slot = start.div_euclid(SLOT_S);
        while slot * SLOT_S < end {
            let overlap = end.min((slot + 1) * SLOT_S) - start.max(slot * SLOT_S);
            presence.push((slot, v.place, overlap));
            slot += 1;
        }
    }
    pick_slots(presence)
}

/// Slot locations of one person's events, in day order: the most frequent
/// cell site in each slot, ties to the site the person was seen at first.
pub fn slots_from_events(
    events: &[EventRecord],
    calendar: &Calendar,
) -> Vec<(i64, [Option<u64>; SLOTS])> {
    // Co-sited sectors share a position and count as one location, as in
    // the stays detected from events: a phone that does not move is often
    // served by two sectors of its site.
    let mut sites: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let presence = events
        .iter()
        .map(|e| {
            let next = sites.len() as u64;
            let site = *sites
                .entry((e.cell_x_m.to_bits(), e.cell_y_m.to_bits()))
                .or_insert(next);
            (calendar.local_seconds(e.time_s).div_euclid(SLOT_S), site, 1)
        })
        .collect();
    pick_slots(presence)
}

fn pick_slots(mut presence: Vec<(i64, u64, i64)>) -> Vec<(i64, [Option<u64>; SLOTS])> {
    presence.sort_unstable_by_key(|p| (p.0, p.1));
    let mut days: Vec<(i64, [Option<u64>; SLOTS])> = Vec::new();
    let mut i = 0;
    while i < presence.len() {
        let slot = presence[i].0;
        let mut best: Option<(u64, i64)> = None;
        while i < presence.len() && presence[i].0 == slot {
            let place = presence[i].1;
            let mut total = 0;
            while i < presence.len() && presence[i].0 == slot && presence[i].1 == place {
                total += presence[i].2;
                i += 1;
            }
            // Places arrive in id order, so a tie keeps the lower id.
            if best.is_none_or(|b| total > b.1) {
                best = Some((place, total));
            }
        }
        let Some((place, secs)) = best else { continue };
        if secs <= 0 {
            continue;
        }
        let day = slot.div_euclid(SLOTS as i64);
        if days.last().is_none_or(|d| d.0 != day) {
            days.push((day, [None; SLOTS]));
        }
        if let Some(d) = days.last_mut() {
            d.1[slot.rem_euclid(SLOTS as i64) as usize] = Some(place);
        }
    }
    days
}

/// Motif counts, most common first; ties in count are ordered by motif.
pub fn motif_frequencies<I: IntoIterator<Item = Motif>>(motifs: I) -> Vec<(Motif, usize)> {
    let mut counts: BTreeMap<Motif, usize> = BTreeMap::new();
    for m in motifs {
        *counts.entry(m).or_insert(0) += 1;
    }
    let mut v: Vec<(Motif, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Classifies days, caching canonical forms of repeated raw graphs.
struct Classifier {
    cache: HashMap<Vec<u64>, Option<Motif>>,
}

impl Classifier {
    fn new() -> Self {
        Classifier {
            cache: HashMap::new(),
        }
    }

    fn classify(&mut self, slots: &[Option<u64>]) -> Option<Motif> {
        // Relabel locations by first appearance so equal shapes share a key.
        let mut order: Vec<u64> = Vec::new();
        let mut key: Vec<u64> = Vec::new();
        for loc in slots.iter().flatten() {
            let idx = match order.iter().position(|p| p == loc) {
                Some(i) => i,
                None => {
                    order.push(*loc);
                    order.len() - 1
                }
            } as u64;
            if key.last() != Some(&idx) {
                key.push(idx);
            }
        }
        let relabelled: Vec<Option<u64>> = key.iter().map(|k| Some(*k)).collect();
        *self
            .cache
            .entry(key)
            .or_insert_with(|| classify_slots(&relabelled))
    }
}

/// Motif coverage from ground-truth visits.
pub fn daily_motifs(traj: &Trajectories, calendar: &Calendar) -> Metric {
    let mut classifier = Classifier::new();
    let mut motifs = Vec::new();
    for (_, visits) in &traj.people {
        for (_, slots) in slots_from_visits(visits, calendar) {
            if let Some(m) = classifier.classify(&slots) {
                motifs.push(m);
            }
        }
    }
    coverage_metric(&MOTIFS_TRUTH, motifs, "")
}

/// Motif coverage from events alone, given each subscriber's events. Days
/// with fewer than [`MIN_EVENT_SLOTS`] observed slots are left out.
pub fn daily_motifs_from_events(by_sub: &[(u64, Vec<EventRecord>)], calendar: &Calendar) -> Metric {
    let mut classifier = Classifier::new();
    let mut motifs = Vec::new();
    let mut skipped = 0usize;
    for (_, list) in by_sub {
        for (_, slots) in slots_from_events(list, calendar) {
            if slots.iter().flatten().count() < MIN_EVENT_SLOTS {
                skipped += 1;
                continue;
            }
            if let Some(m) = classifier.classify(&slots) {
                motifs.push(m);
            }
        }
    }
    let note = format!(
        "; {skipped} person-days with fewer than {MIN_EVENT_SLOTS} observed slots left out; locations are cell sites"
    );
    coverage_metric(&MOTIFS_EVENTS, motifs, &note)
}

fn coverage_metric(spec: &Spec, motifs: Vec<Motif>, note: &str) -> Metric {
    let total = motifs.len();
    if total == 0 {
        return Metric::missing(spec, "no person-days");
    }
    let freq = motif_frequencies(motifs);
    let top: Vec<&(Motif, usize)> = freq
        .iter()
        .filter(|(m, _)| m.is_canonical())
        .take(TOP_MOTIFS)
        .collect();
    let covered: usize = top.iter().map(|(_, c)| c).sum();
    let share = covered as f64 / total as f64;
    let mut labels: Vec<String> = top
        .iter()
        .enumerate()
        .map(|(i, (m, _))| format!("#{} {}p {}m", i + 1, m.nodes, m.edges))
        .collect();
    let mut measured: Vec<f64> = top.iter().map(|(_, c)| *c as f64 / total as f64).collect();
    labels.push("other".into());
    measured.push(1.0 - share);
    let leaders: Vec<String> = top
        .iter()
        .take(3)
        .map(|(m, c)| format!("{} ({:.0}%)", m.label(), 100.0 * *c as f64 / total as f64))
        .collect();
    Metric::judged(
        spec,
        share,
        format!(
            "{total} person-days, {} distinct motifs (chart: #rank, places p, moves m); most common: {}{note}",
            freq.len(),
            leaders.join("; ")
        ),
    )
    .with_plot(Plot::Bars {
        y_label: "share of person-days".into(),
        labels,
        measured,
        reference: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Activity, StayRecord};

    fn day(pattern: &[(u64, usize)]) -> Vec<Option<u64>> {
        // (place, number of slots) runs filling the day.
        let mut slots = Vec::new();
        for &(p, n) in pattern {
            slots.extend(std::iter::repeat_n(Some(p), n));
        }
        slots
    }

    #[test]
    fn home_work_home_is_a_two_cycle() {
        let m = classify_slots(&day(&[(1, 16), (2, 18), (1, 14)])).expect("motif");
        assert_eq!((m.nodes, m.edges), (2, 2));
        // Edges 0→1 and 1→0 on two nodes: bits 1 and 2.
        assert_eq!(m.code, 0b0110);
    }

    #[test]
    fn home_work_shop_home_is_a_three_cycle() {
        let m = classify_slots(&day(&[(1, 16), (2, 18), (3, 2), (1, 12)])).expect("motif");
        assert_eq!((m.nodes, m.edges), (3, 3));
        let other_cycle =
            classify_slots(&day(&[(7, 10), (5, 10), (9, 10), (7, 18)])).expect("motif");
        assert_eq!(m, other_cycle);
        // A chain home→work→shop without returning is a different motif.
        let chain = classify_slots(&day(&[(1, 16), (2, 18), (3, 14)])).expect("motif");
        assert_ne!(m, chain);
    }

    #[test]
    fn isomorphic_days_share_a_class() {
        // Home–work–home–leisure–home versus home–gym–home–work–home: both a
        // star of two return trips from the first location.
        let a = classify_slots(&day(&[(1, 14), (2, 18), (1, 4), (3, 6), (1, 6)])).expect("motif");
        let b = classify_slots(&day(&[(4, 14), (8, 4), (4, 4), (6, 20), (4, 6)])).expect("motif");
        assert_eq!(a, b);
        assert_eq!((a.nodes, a.edges), (3, 4));
        // Leaving from work instead of home gives a cycle through home, not a star.
        let c = classify_slots(&day(&[(2, 14), (1, 4), (3, 6), (1, 24)])).expect("motif");
        assert_ne!(a, c);
        let d = canonical(3, &[(1, 0), (0, 1), (2, 0), (0, 2)]);
        assert_eq!(a, d);
    }

    #[test]
    fn empty_and_single_location_days() {
        assert_eq!(classify_slots(&[None; SLOTS]), None);
        let home = classify_slots(&day(&[(1, 48)])).expect("motif");
        assert_eq!((home.nodes, home.edges, home.code), (1, 0, 0));
    }

    #[test]
    fn truth_slots_take_the_longest_presence() {
        let v = |place, start, end| Visit {
            place,
            start_s: start,
            end_s: end,
            x_m: 0.0,
            y_m: 0.0,
            activity: Activity::Other,
        };
        // Slot 0 of day 0: place 1 for 20 min, place 2 for 10 min.
        let days = slots_from_visits(
            &[v(1, 0, 1200), v(2, 1200, 1800), v(3, 1800, 3600)],
            &Calendar::fixed_offset(0),
        );
        assert_eq!(days.len(), 1);
        let d0 = &days[0].1;
        assert_eq!(d0[0], Some(1));
        assert_eq!(d0[1], Some(3));
        assert_eq!(d0[2], None);
    }

    #[test]
    fn coverage_counts_person_days() {
        let s = |sub, start: i64, end: i64, place| StayRecord {
            subscriber: sub,
            start_s: start,
            end_s: end,
            place,
            x_m: 0.0,
            y_m: 0.0,
            activity: Activity::Home,
        };
        let h = 3600;
        let stays = vec![
            s(1, 0, 8 * h, 10),
            s(1, 8 * h, 17 * h, 11),
            s(1, 17 * h, 24 * h, 10),
            s(2, 0, 24 * h, 20),
        ];
        let m = daily_motifs(
            &crate::validate::Trajectories::from_stays(&stays),
            &Calendar::fixed_offset(0),
        );
        assert_eq!(m.value, 1.0);
        assert!(
            m.detail.starts_with("2 person-days, 2 distinct motifs"),
            "{}",
            m.detail
        );
    }
}
