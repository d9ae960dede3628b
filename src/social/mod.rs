//! Who calls whom: the social network among the run's subscribers.
//!
//! Built once per run from the seed and the whole population, so it does not
//! depend on threads or parts. Resident persons are its nodes, and
//! sparsely inbound roamers (IoT modules never); residents' ties come in
//! three kinds:
//!
//! - **household**: residents of one home place, grouped into households
//!   whose members are chosen by age preference (partners near the same age,
//!   parents and children a generation apart);
//! - **work**: colleagues and classmates drawn within a shared work or
//!   school anchor;
//! - **social**: friends and family, partly closed through a household
//!   member or colleague (a friend of a friend), otherwise drawn over a grid
//!   of home cells with pair probability ∝ d^−α (Lambiotte et al. 2008) and
//!   age homophily with a second mode a generation apart (Palchykov et al.
//!   2012).
//!
//! An inbound roamer has a few ties: its travel companions (**companion**:
//! roamers of its home network arriving the same day, in parties of 1–4)
//! and, rarely, a resident it knows (**host**: family, friends, business).
//!
//! Each tie has a weight, the expected calls and texts per week between the
//! two, which grows with the overlap of their neighbourhoods (Onnela et al.
//! 2007) and is scaled so that a person's on-net interactions are
//! `on_net_share` of their calls and texts. No step looks at all pairs: the
//! grid keeps the geographic draw to a binary search per tie. The model and
//! its sources are in `docs/MODEL.md`, section "Social network".

use rand::RngExt;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::events::PhoneParams;
use crate::events::usage::Habits;
use crate::map::Map;
use crate::population::{DeviceType, Subscriber, SubscriberId};
use crate::rng::{Purpose, stream};

/// What ties two subscribers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TieKind {
    Household = 0,
    Work = 1,
    Social = 2,
    /// Two inbound roamers travelling together.
    Companion = 3,
    /// An inbound roamer and a resident: family, a friend or a business
    /// contact in the region.
    Host = 4,
}

impl TieKind {
    pub const ALL: [TieKind; 5] = [
        TieKind::Household,
        TieKind::Work,
        TieKind::Social,
        TieKind::Companion,
        TieKind::Host,
    ];

    /// The name written in `truth/contacts`.
    pub fn name(self) -> &'static str {
        match self {
            TieKind::Household => "household",
            TieKind::Work => "work",
            TieKind::Social => "social",
            TieKind::Companion => "companion",
            TieKind::Host => "host",
        }
    }
}

/// One side of a tie: the other subscriber, the kind and the weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tie {
    pub other: u32,
    pub kind: TieKind,
    /// Expected calls and texts per week (5 weekdays and a weekend), both
    /// directions together.
    pub weight: f32,
}

/// Parameters of the social network, from the scenario's `[social]`
/// section. Sources of the defaults are in `docs/MODEL.md`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SocialParams {
    /// Share of a person's contacts, and of their calls and texts, that are
    /// with subscribers of this operator (0.3); 0 turns the network off.
    pub on_net_share: f64,
    /// Exponent α of the tie probability P(d) ∝ d^−α between homes (2.0).
    pub distance_decay_alpha: f64,
    /// Below this distance between homes, metres, the decay is flat (300).
    pub distance_floor_m: f64,
    /// Mean number of colleagues or classmates drawn per person (3.0).
    pub colleagues_mean: f64,
    /// Share of social ties closed through a household member or colleague
    /// (0.25).
    pub closure_share: f64,
    /// Standard deviation of the age gap between peers, years (5.0).
    pub peer_age_sd_years: f64,
    /// Age gap of the second mode, parents and children, years (26.0), its
    /// standard deviation (4.0) and its share of social and household
    /// choices (0.25).
    pub generation_gap_years: f64,
    pub generation_sd_years: f64,
    pub generation_share: f64,
    /// Relative weight of a household, work and social tie before overlap
    /// and scaling (4, 1, 1.5).
    pub household_weight: f64,
    pub work_weight: f64,
    pub social_weight: f64,
    /// Gain of the weight with neighbourhood overlap O: weight ∝ 1 + gain·O
    /// (4.0), and the log-normal σ of the tie-to-tie spread (0.8).
    pub overlap_gain: f64,
    pub weight_sigma: f64,
    /// People in the region an inbound roamer is in touch with (family,
    /// friends, business), Poisson mean (0.5); `on_net_share` of them are
    /// subscribers and get a tie.
    pub roamer_local_contacts: f64,
}

impl Default for SocialParams {
    fn default() -> Self {
        SocialParams {
            on_net_share: 0.3,
            distance_decay_alpha: 2.0,
            distance_floor_m: 300.0,
            colleagues_mean: 3.0,
            closure_share: 0.25,
            peer_age_sd_years: 5.0,
            generation_gap_years: 26.0,
            generation_sd_years: 4.0,
            generation_share: 0.25,
            household_weight: 4.0,
            work_weight: 1.0,
            social_weight: 1.5,
            overlap_gain: 4.0,
            weight_sigma: 0.8,
            roamer_local_contacts: 0.5,
        }
    }
}

impl SocialParams {
    /// Checks values; the error is (key, what was expected).
    pub fn check(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        for (k, v) in [
            ("on_net_share", self.on_net_share),
            ("closure_share", self.closure_share),
            ("generation_share", self.generation_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return err(k, format!("must be a share between 0 and 1, got {v}"));
            }
        }
        if !(self.distance_decay_alpha.is_finite()
            && (0.0..=6.0).contains(&self.distance_decay_alpha))
        {
            return err(
                "distance_decay_alpha",
                format!(
                    "must be an exponent between 0 and 6, got {}",
                    self.distance_decay_alpha
                ),
            );
        }
        for (k, v) in [
            ("distance_floor_m", self.distance_floor_m),
            ("peer_age_sd_years", self.peer_age_sd_years),
            ("generation_sd_years", self.generation_sd_years),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return err(k, format!("must be a positive number, got {v}"));
            }
        }
        for (k, v) in [
            ("colleagues_mean", self.colleagues_mean),
            ("generation_gap_years", self.generation_gap_years),
            ("household_weight", self.household_weight),
            ("work_weight", self.work_weight),
            ("social_weight", self.social_weight),
            ("overlap_gain", self.overlap_gain),
            ("weight_sigma", self.weight_sigma),
            ("roamer_local_contacts", self.roamer_local_contacts),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return err(k, format!("must be zero or more, got {v}"));
            }
        }
        if self.colleagues_mean > 100.0 {
            return err("colleagues_mean", "must be at most 100".into());
        }
        if self.roamer_local_contacts > 100.0 {
            return err("roamer_local_contacts", "must be at most 100".into());
        }
        Ok(())
    }

    /// Preference for a partner `gap` years older or younger: a peer mode
    /// at 0 and a generation mode at ±`generation_gap_years`.
    fn age_preference(&self, gap: f64) -> f64 {
        let g = gap.abs();
        let peer = (-0.5 * (g / self.peer_age_sd_years).powi(2)).exp();
        let z = (g - self.generation_gap_years) / self.generation_sd_years;
        let generation = (-0.5 * z * z).exp();
        (1.0 - self.generation_share) * peer / self.peer_age_sd_years
            + self.generation_share * generation / self.generation_sd_years
    }
}

/// [`SocialParams::age_preference`] at every half year of gap up to 255
/// years, where every gap the builder asks for lies (ages are whole years,
/// band middles half years): the same values without two exponentials per
/// look-up.
struct AgePreference {
    half_years: Vec<f64>,
    params: SocialParams,
}

impl AgePreference {
    fn new(params: &SocialParams) -> AgePreference {
        AgePreference {
            half_years: (0..512)
                .map(|h| params.age_preference(h as f64 / 2.0))
                .collect(),
            params: params.clone(),
        }
    }

    fn get(&self, gap: f64) -> f64 {
        let g = gap.abs();
        let h = (g * 2.0).round();
        match self.half_years.get(h as usize) {
            Some(&v) if h / 2.0 == g => v,
            _ => self.params.age_preference(g),
        }
    }
}

/// The network: every subscriber's ties, in compressed rows by subscriber
/// index (IoT modules have none).
#[derive(Debug, Default)]
pub struct SocialNetwork {
    offsets: Vec<u32>,
    ties: Vec<Tie>,
    msisdn: Vec<u64>,
    device: Vec<DeviceType>,
    /// Sum of a subscriber's tie weights, per week.
    strength: Vec<f32>,
}

/// Sub-keys of the `Social` purpose's streams, so that each step has its own.
const KEY_HOUSEHOLD: u64 = 1;
const KEY_WORK: u64 = 2;
const KEY_SOCIAL: u64 = 3;
const KEY_WEIGHT: u64 = 4;
const KEY_GEOGRAPHIC: u64 = 5;
const KEY_CLOSURE: u64 = 6;
const KEY_PARTY: u64 = 7;
const KEY_HOST: u64 = 8;
/// Travel-party sizes 1..=4 as shares (assumption: most visitors travel
/// with a partner or family, a quarter alone; mean 2.1).
const TRAVEL_PARTY_SIZES: [f64; 4] = [0.3, 0.45, 0.1, 0.15];
/// Most non-empty grid cells of the geographic draw: the cell size grows
/// until the homes fit, so the cell-to-cell table stays small.
const MAX_CELLS: usize = 2048;
/// Household sizes 1..=5 as shares (EU-27 households, Eurostat 2023: mean 2.3).
const HOUSEHOLD_SIZES: [f64; 5] = [0.36, 0.32, 0.15, 0.12, 0.05];
/// Candidates looked at when filling a household in a large building.
const HOUSEHOLD_CANDIDATES: usize = 48;
/// Ages are put in bands of this many years for the geographic draw.
const AGE_BAND_YEARS: usize = 5;
const AGE_BANDS: usize = 24;

/// A pair key: the unordered pair, smaller index high.
pub fn pair_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    ((lo as u64) << 32) | hi as u64
}

fn normal(rng: &mut Pcg64Mcg) -> f64 {
    StandardNormal.sample(rng)
}

fn pick(rng: &mut Pcg64Mcg, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let mut u = rng.random::<f64>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if u < w {
            return Some(i);
        }
        u -= w;
    }
    Some(weights.len() - 1)
}

impl SocialNetwork {
    /// A network without ties.
    pub fn empty() -> SocialNetwork {
        SocialNetwork::default()
    }

    /// Builds the network of a run's subscribers.
    pub fn build(
        params: &SocialParams,
        phone: &PhoneParams,
        seed: u64,
        subscribers: &[Subscriber],
        map: &Map,
    ) -> SocialNetwork {
        let n = subscribers.len();
        let msisdn: Vec<u64> = subscribers.iter().map(|s| s.msisdn).collect();
        let device: Vec<DeviceType> = subscribers.iter().map(|s| s.device).collect();
        let members: Vec<u32> = subscribers
            .iter()
            .filter(|s| s.is_person() && !s.is_roamer())
            .map(|s| s.id.0)
            .collect();
        if params.on_net_share <= 0.0 || members.is_empty() {
            return SocialNetwork {
                offsets: vec![0; n + 1],
                ties: Vec::new(),
                msisdn,
                device,
                strength: vec![0.0; n],
            };
        }
        let sub = |i: u32| &subscribers[i as usize];
        let habits: Vec<Habits> = members
            .par_iter()
            .map(|&i| Habits::draw(phone, seed, sub(i)))
            .collect();
        let age = |i: u32| sub(i).age as f64;

        let prefs = AgePreference::new(params);
        // Households: residents of a home place, grouped by age preference.
        // Each home place has its own stream, so the places are grouped in
        // parallel and their ties concatenated in the order of the places:
        // the same edge list whatever the threads.
        let mut by_home: Vec<(u32, u32)> = members.iter().map(|&i| (sub(i).home.0, i)).collect();
        by_home.par_sort_unstable();
        let homes: Vec<&[(u32, u32)]> = by_home.chunk_by(|a, b| a.0 == b.0).collect();
        let households: Vec<Vec<(u32, u32, TieKind)>> = homes
            .par_iter()
            .map(|group| {
                let mut out = Vec::new();
                let mut rng = stream(seed, Purpose::Social, group[0].0 as u64, KEY_HOUSEHOLD);
                let mut left: Vec<u32> = group.iter().map(|&(_, i)| i).collect();
                let mut weights = Vec::new();
                while !left.is_empty() {
                    let head = left.remove(0);
                    let size = pick(&mut rng, &HOUSEHOLD_SIZES).unwrap_or(0) + 1;
                    let mut household = vec![head];
                    for _ in 1..size {
                        let window = left.len().min(HOUSEHOLD_CANDIDATES);
                        weights.clear();
                        weights.extend(
                            left[..window]
                                .iter()
                                .map(|&j| prefs.get(age(j) - age(head))),
                        );
                        let Some(k) = pick(&mut rng, &weights) else {
                            break;
                        };
                        household.push(left.remove(k));
                    }
                    for (x, &a) in household.iter().enumerate() {
                        for &b in &household[x + 1..] {
                            out.push((a.min(b), a.max(b), TieKind::Household));
                        }
                    }
                }
                out
            })
            .collect();
        drop(homes);
        let mut edges: Vec<(u32, u32, TieKind)> = households.into_iter().flatten().collect();
        // Colleagues and classmates within a shared anchor; each person has
        // a stream, so anchors are worked in parallel and joined in order.
        let mut by_anchor: Vec<(u32, u32)> = members
            .iter()
            .filter_map(|&i| sub(i).anchor.map(|a| (a.0, i)))
            .collect();
        by_anchor.par_sort_unstable();
        let anchors: Vec<&[(u32, u32)]> = by_anchor
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() >= 2)
            .collect();
        let colleagues: Vec<Vec<(u32, u32, TieKind)>> = anchors
            .par_iter()
            .map(|group| {
                let mut out = Vec::new();
                for &(_, i) in group.iter() {
                    let mut rng = stream(seed, Purpose::Social, i as u64, KEY_WORK);
                    let c = Poisson::new(params.colleagues_mean)
                        .map(|d| d.sample(&mut rng) as usize)
                        .unwrap_or(0)
                        .min(group.len() - 1);
                    for _ in 0..c {
                        let j = group[rng.random_range(0..group.len())].1;
                        if j != i {
                            out.push((i.min(j), i.max(j), TieKind::Work));
                        }
                    }
                }
                out
            })
            .collect();
        drop(anchors);
        edges.extend(colleagues.into_iter().flatten());
        // Household and work neighbours, for closing triangles.
        let have = Adjacency::new(n, &edges);
        let grid = HomeGrid::new(params, &members, subscribers, map);
        let typical_rate = (phone.voice_per_day_median + phone.sms_per_day_median).max(1e-9);
        // Social ties an end draws: each tie has two ends and each end
        // draws, so half of what the contact list lacks. More active callers
        // keep more contacts: the list grows with the square root of the
        // activity.
        let wants: Vec<(usize, usize)> = members
            .par_iter()
            .zip(habits.par_iter())
            .map(|(&i, h)| {
                let mut rng = stream(seed, Purpose::Social, i as u64, KEY_SOCIAL);
                let activity = (h.voice_per_day + h.sms_per_day) / typical_rate;
                let target = h.contacts as f64 * params.on_net_share * activity.sqrt();
                let lack = (target - have.degree(i) as f64).max(0.0) / 2.0;
                let want = (lack + rng.random::<f64>()).floor() as usize;
                let closed = (want as f64 * params.closure_share + rng.random::<f64>()).floor();
                let closed = (closed as usize).min(want);
                (want - closed, closed)
            })
            .collect();
        // First the geographic draws.
        let geographic: Vec<Vec<(u32, u32, TieKind)>> = members
            .par_iter()
            .zip(wants.par_iter())
            .map(|(&i, &(want, _))| {
                let mut rng = stream(seed, Purpose::Social, i as u64, KEY_GEOGRAPHIC);
                let mut out = Vec::with_capacity(want);
                let mut tries = 0;
                while out.len() < want && tries < 4 * want {
                    tries += 1;
                    if let Some(j) = grid.draw(&prefs, sub(i), &mut rng)
                        && j != i
                    {
                        out.push((i.min(j), i.max(j), TieKind::Social));
                    }
                }
                out
            })
            .collect();
        let geographic: Vec<(u32, u32, TieKind)> = geographic.into_iter().flatten().collect();
        // Then triangles closed through a friend or a household member,
        // who live near: a friend of a friend is near too, so closing
        // keeps the distance decay (colleagues, who may live anywhere, are
        // not used).
        let near_edges: Vec<(u32, u32, TieKind)> = edges
            .iter()
            .filter(|e| e.2 == TieKind::Household)
            .chain(&geographic)
            .copied()
            .collect();
        let near = Adjacency::new(n, &near_edges);
        drop(near_edges);
        let closed: Vec<Vec<(u32, u32, TieKind)>> = members
            .par_iter()
            .zip(wants.par_iter())
            .map(|(&i, &(_, want))| {
                let mut rng = stream(seed, Purpose::Social, i as u64, KEY_CLOSURE);
                let mut out = Vec::with_capacity(want);
                if near.degree(i) == 0 {
                    return out;
                }
                for _ in 0..want * 2 {
                    if out.len() >= want {
                        break;
                    }
                    let via = near.random(i, &mut rng);
                    if near.degree(via) == 0 {
                        continue;
                    }
                    let j = near.random(via, &mut rng);
                    if j != i {
                        out.push((i.min(j), i.max(j), TieKind::Social));
                    }
                }
                out
            })
            .collect();
        edges.extend(geographic);
        edges.extend(closed.into_iter().flatten());
        // Inbound roamers: their travel companions and a few people here.
        let roamers: Vec<u32> = subscribers
            .iter()
            .filter(|s| s.is_person() && s.is_roamer())
            .map(|s| s.id.0)
            .collect();
        edges.extend(roamer_edges(params, seed, subscribers, &roamers, &members));
        // One tie per pair, of its closest kind.
        edges.par_sort_unstable();
        edges.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);

        // Rows, both directions, sorted by the other end.
        let mut offsets = vec![0u32; n + 1];
        for &(a, b, _) in &edges {
            offsets[a as usize + 1] += 1;
            offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut ties = vec![
            Tie {
                other: 0,
                kind: TieKind::Social,
                weight: 0.0
            };
            edges.len() * 2
        ];
        for &(a, b, kind) in &edges {
            for (x, y) in [(a, b), (b, a)] {
                ties[fill[x as usize] as usize] = Tie {
                    other: y,
                    kind,
                    weight: 0.0,
                };
                fill[x as usize] += 1;
            }
        }
        // `edges` is sorted by (a, b), so every row is sorted by `other`.
        let row = |i: u32| &ties[offsets[i as usize] as usize..offsets[i as usize + 1] as usize];
        // Raw weights: kind × (1 + gain · overlap) × spread.
        let raw: Vec<f64> = edges
            .par_iter()
            .map(|&(a, b, kind)| {
                let (ra, rb) = (row(a), row(b));
                let common = common_count(ra, rb) as f64;
                let union = (ra.len() - 1 + rb.len() - 1) as f64 - common;
                let overlap = if union > 0.0 { common / union } else { 0.0 };
                let base = match kind {
                    TieKind::Household | TieKind::Companion => params.household_weight,
                    TieKind::Work => params.work_weight,
                    TieKind::Social | TieKind::Host => params.social_weight,
                };
                let mut rng = stream(seed, Purpose::Social, pair_key(a, b), KEY_WEIGHT);
                base * (1.0 + params.overlap_gain * overlap)
                    * (params.weight_sigma * normal(&mut rng)).exp()
            })
            .collect();
        // Scale: a person's raw total against their on-net target volume.
        let week = 5.0 + 2.0 * phone.weekend_factor;
        let mut raw_sum = vec![0.0f64; n];
        for (&(a, b, _), &r) in edges.iter().zip(&raw) {
            raw_sum[a as usize] += r;
            raw_sum[b as usize] += r;
        }
        let mut scale = vec![0.0f64; n];
        for (&i, h) in members.iter().zip(&habits) {
            let target = params.on_net_share * (h.voice_per_day + h.sms_per_day) * week;
            if raw_sum[i as usize] > 0.0 {
                scale[i as usize] = target / raw_sum[i as usize];
            }
        }
        // A roamer's few ties each carry an average contact's share of
        // their calls (rate / contacts), together at most `on_net_share`:
        // most of a visitor's calls go home, off this network.
        for &i in &roamers {
            let h = Habits::draw(phone, seed, sub(i));
            let k = (offsets[i as usize + 1] - offsets[i as usize]) as f64;
            let share = (k / h.contacts.max(1) as f64).min(params.on_net_share);
            let target = share * (h.voice_per_day + h.sms_per_day) * week;
            if raw_sum[i as usize] > 0.0 {
                scale[i as usize] = target / raw_sum[i as usize];
            }
        }
        let mut strength = vec![0.0f32; n];
        let mut fill = offsets.clone();
        for (&(a, b, _), &r) in edges.iter().zip(&raw) {
            let w = (r * (scale[a as usize] * scale[b as usize]).sqrt()) as f32;
            strength[a as usize] += w;
            strength[b as usize] += w;
            for x in [a, b] {
                ties[fill[x as usize] as usize].weight = w;
                fill[x as usize] += 1;
            }
        }
        SocialNetwork {
            offsets,
            ties,
            msisdn,
            device,
            strength,
        }
    }

    /// The ties of subscriber `id`, sorted by the other end.
    pub fn ties(&self, id: SubscriberId) -> &[Tie] {
        let i = id.0 as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.ties[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Every tie once, as (a, b, tie) with a < b, in order of a then b.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, &Tie)> {
        (0..self.offsets.len().saturating_sub(1)).flat_map(move |a| {
            self.ties(SubscriberId(a as u32))
                .iter()
                .filter(move |t| t.other > a as u32)
                .map(move |t| (a as u32, t))
        })
    }

    /// Number of ties (each pair once).
    pub fn len(&self) -> usize {
        self.ties.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.ties.is_empty()
    }

    /// A subscriber's MSISDN, by index.
    pub fn msisdn(&self, id: u32) -> u64 {
        self.msisdn.get(id as usize).copied().unwrap_or(0)
    }

    /// A subscriber's device, by index.
    pub fn device(&self, id: u32) -> DeviceType {
        self.device
            .get(id as usize)
            .copied()
            .unwrap_or(DeviceType::Smartphone)
    }

    /// Sum of a subscriber's tie weights, interactions per week.
    pub fn strength(&self, id: SubscriberId) -> f64 {
        self.strength.get(id.0 as usize).copied().unwrap_or(0.0) as f64
    }

    /// Bytes held, for the record of memory use.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.len() * 4
            + self.ties.len() * size_of::<Tie>()
            + self.msisdn.len() * 8
            + self.device.len()
            + self.strength.len() * 4
    }
}

/// The ties of inbound roamers, (a, b, kind) with a < b, in a fixed order.
///
/// - Companions: the roamers of one home network arriving on one day are
///   split, in id order, into travel parties of 1–4 (`TRAVEL_PARTY_SIZES`);
///   each party is a clique.
/// - Hosts: each roamer knows Poisson(`roamer_local_contacts`) people in
///   the region, each a subscriber with probability `on_net_share`, drawn
///   uniformly among resident persons (family, friends and business
///   contacts live anywhere in the region).
fn roamer_edges(
    params: &SocialParams,
    seed: u64,
    subscribers: &[Subscriber],
    roamers: &[u32],
    residents: &[u32],
) -> Vec<(u32, u32, TieKind)> {
    let mut out = Vec::new();
    let mut by_trip: Vec<((u16, u16, u32), u32)> = roamers
        .iter()
        .filter_map(|&i| {
            subscribers[i as usize]
                .roaming
                .map(|r| ((r.mcc, r.mnc, r.first_day), i))
        })
        .collect();
    by_trip.sort_unstable();
    for group in by_trip.chunk_by(|a, b| a.0 == b.0) {
        let mut rng = stream(seed, Purpose::Social, group[0].1 as u64, KEY_PARTY);
        let mut k = 0;
        while k < group.len() {
            let size = (pick(&mut rng, &TRAVEL_PARTY_SIZES).unwrap_or(0) + 1).min(group.len() - k);
            let party = &group[k..k + size];
            for (x, &(_, a)) in party.iter().enumerate() {
                for &(_, b) in &party[x + 1..] {
                    out.push((a.min(b), a.max(b), TieKind::Companion));
                }
            }
            k += size;
        }
    }
    let mean = params.roamer_local_contacts * params.on_net_share;
    if mean > 0.0 && !residents.is_empty() {
        for &i in roamers {
            let mut rng = stream(seed, Purpose::Social, i as u64, KEY_HOST);
            let c = Poisson::new(mean)
                .map(|d| d.sample(&mut rng) as usize)
                .unwrap_or(0);
            for _ in 0..c {
                let j = residents[rng.random_range(0..residents.len())];
                out.push((j.min(i), j.max(i), TieKind::Host));
            }
        }
    }
    out
}

/// Number of common `other`s of two rows sorted by `other`.
fn common_count(a: &[Tie], b: &[Tie]) -> usize {
    let (mut i, mut j, mut c) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].other.cmp(&b[j].other) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                c += 1;
                i += 1;
                j += 1;
            }
        }
    }
    c
}

/// Undirected neighbour lists of an edge list (duplicates kept: they only
/// make a neighbour likelier to be drawn).
struct Adjacency {
    offsets: Vec<u32>,
    others: Vec<u32>,
}

impl Adjacency {
    fn new(n: usize, edges: &[(u32, u32, TieKind)]) -> Adjacency {
        let mut offsets = vec![0u32; n + 1];
        for &(a, b, _) in edges {
            offsets[a as usize + 1] += 1;
            offsets[b as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut others = vec![0u32; edges.len() * 2];
        for &(a, b, _) in edges {
            others[fill[a as usize] as usize] = b;
            fill[a as usize] += 1;
            others[fill[b as usize] as usize] = a;
            fill[b as usize] += 1;
        }
        Adjacency { offsets, others }
    }

    fn degree(&self, i: u32) -> usize {
        (self.offsets[i as usize + 1] - self.offsets[i as usize]) as usize
    }

    /// A uniform neighbour of `i`, which must have one.
    fn random(&self, i: u32, rng: &mut Pcg64Mcg) -> u32 {
        let (a, b) = (self.offsets[i as usize], self.offsets[i as usize + 1]);
        self.others[rng.random_range(a..b) as usize]
    }
}

/// Homes on a square grid: for each non-empty cell, its members by age
/// band, and the cumulative weights over cells seen from it,
/// ∝ members · max(d, floor)^−α.
struct HomeGrid {
    /// Per subscriber index: the dense index of its home cell, or
    /// `u32::MAX` for those outside the network.
    cell: Vec<u32>,
    /// Per cell and age band: members.
    bands: Vec<[Vec<u32>; AGE_BANDS]>,
    /// Row `c`: cumulative weight of choosing each cell from cell `c`.
    cumulative: Vec<f32>,
    cells: usize,
}

impl HomeGrid {
    fn new(
        params: &SocialParams,
        members: &[u32],
        subscribers: &[Subscriber],
        map: &Map,
    ) -> HomeGrid {
        let pos = |i: u32| map.place(subscribers[i as usize].home).pos;
        let (mut x0, mut y0) = (f64::INFINITY, f64::INFINITY);
        for &i in members {
            let p = pos(i);
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
        }
        let mut size_m = (params.distance_floor_m).max(100.0);
        let cell_of = |i: u32, size: f64| {
            let p = pos(i);
            (
                ((p.x - x0) / size).floor() as i32,
                ((p.y - y0) / size).floor() as i32,
            )
        };
        let mut keys: Vec<(i32, i32)>;
        loop {
            keys = members.iter().map(|&i| cell_of(i, size_m)).collect();
            let mut distinct = keys.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() <= MAX_CELLS {
                break;
            }
            size_m *= 1.5;
        }
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let index: std::collections::HashMap<(i32, i32), u32> = distinct
            .iter()
            .enumerate()
            .map(|(k, &c)| (c, k as u32))
            .collect();
        let cells = distinct.len();
        let mut bands: Vec<[Vec<u32>; AGE_BANDS]> = (0..cells)
            .map(|_| std::array::from_fn(|_| Vec::new()))
            .collect();
        for (&i, key) in members.iter().zip(&keys) {
            let band = (subscribers[i as usize].age as usize / AGE_BAND_YEARS).min(AGE_BANDS - 1);
            bands[index[key] as usize][band].push(i);
        }
        let counts: Vec<f64> = bands
            .iter()
            .map(|b| b.iter().map(Vec::len).sum::<usize>() as f64)
            .collect();
        // Within a cell the mean distance between two points is about half
        // its side.
        let floor = params.distance_floor_m.max(size_m * 0.5);
        let alpha = params.distance_decay_alpha;
        let mut cumulative = vec![0f32; cells * cells];
        cumulative
            .par_chunks_mut(cells.max(1))
            .enumerate()
            .for_each(|(a, row)| {
                let (ax, ay) = distinct[a];
                let mut acc = 0.0f64;
                for (b, slot) in row.iter_mut().enumerate() {
                    let (bx, by) = distinct[b];
                    let d =
                        (((ax - bx) as f64).powi(2) + ((ay - by) as f64).powi(2)).sqrt() * size_m;
                    acc += counts[b] * d.max(floor).powf(-alpha);
                    *slot = acc as f32;
                }
            });
        let mut cell = vec![u32::MAX; subscribers.len()];
        for (&i, key) in members.iter().zip(&keys) {
            cell[i as usize] = index[key];
        }
        HomeGrid {
            cell,
            bands,
            cumulative,
            cells,
        }
    }

    /// A partner for `s`: a cell by distance, an age band by preference,
    /// then a member of both, uniformly.
    fn draw(&self, prefs: &AgePreference, s: &Subscriber, rng: &mut Pcg64Mcg) -> Option<u32> {
        let c = *self.cell.get(s.id.0 as usize)?;
        if c == u32::MAX {
            return None;
        }
        let c = c as usize;
        let row = &self.cumulative[c * self.cells..(c + 1) * self.cells];
        let total = *row.last()?;
        let u = rng.random::<f32>() * total;
        let b = row.partition_point(|&x| x <= u).min(self.cells - 1);
        // Accepting with min(1, Z_a / Z_b) makes the chance of a pair
        // f(d) / max(Z_a, Z_b), the same whichever end draws it, so people
        // in sparse places do not gather the long ties of the map.
        let other_total = self.cumulative[(b + 1) * self.cells - 1];
        if other_total > total && rng.random::<f32>() * other_total > total {
            return None;
        }
        let weights: [f64; AGE_BANDS] = std::array::from_fn(|k| {
            let mid = (k * AGE_BAND_YEARS) as f64 + AGE_BAND_YEARS as f64 / 2.0;
            self.bands[b][k].len() as f64 * prefs.get(mid - s.age as f64)
        });
        let k = pick(rng, &weights)?;
        let list = &self.bands[b][k];
        Some(list[rng.random_range(0..list.len())])
    }
}
