//! Phone usage: when a subscriber calls, texts and uses data.
//!
//! Each subscriber has lasting habits, drawn once: a rate of calls, texts and
//! data sessions (log-normal across subscribers, so a few are very active),
//! a contact list, and whether the phone is switched off at night. Each day
//! then draws its activities in bursts: burst starts follow the circadian
//! and weekly profile, and the events of one burst follow each other after
//! short log-normal gaps. Bursts within days and heterogeneity between
//! people give the heavy-tailed inter-event times seen in call records.

use rand::RngExt;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rand_pcg::Pcg64Mcg;

use crate::population::{DeviceType, Subscriber, SubscriberId};
use crate::rng::{Purpose, key_hash, stream};

use super::PhoneParams;

/// What a subscriber does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActKind {
    Voice,
    Sms,
    Data,
}

/// One planned activity, before the network sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Act {
    /// UTC Unix seconds.
    pub t: f64,
    pub kind: ActKind,
    /// Mobile-originated (the subscriber starts it).
    pub mo: bool,
    pub duration_s: f64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// The other party's number, for calls and texts.
    pub counterpart: u64,
    /// Shared with another subscriber, who records the other side: happens
    /// exactly at `t` and keeps its duration (see `DeviceRun::run`).
    pub pinned: bool,
}

/// A subscriber's lasting habits.
#[derive(Clone, Copy, Debug)]
pub struct Habits {
    /// Mean calls, texts and data sessions per weekday.
    pub voice_per_day: f64,
    pub sms_per_day: f64,
    pub data_per_day: f64,
    /// Factor on data volumes.
    pub bytes_factor: f64,
    pub contacts: u32,
    /// Switches the phone off at night.
    pub night_off: bool,
    /// Personal bed and wake times, local hours (bed may exceed 24).
    pub bed_h: f64,
    pub wake_h: f64,
    /// Phase of the periodic update timer at the start of the run, 0..1.
    pub t3412_phase: f64,
    /// Phase of an IoT device's reporting cycle, 0..1.
    pub report_phase: f64,
}

pub(crate) fn normal(rng: &mut Pcg64Mcg) -> f64 {
    StandardNormal.sample(rng)
}

/// `median · e^(σ·z)`: a log-normal draw by its median.
pub(crate) fn log_normal(rng: &mut Pcg64Mcg, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

impl Habits {
    /// Draws the habits of a subscriber; the same subscriber and seed always
    /// get the same habits.
    pub fn draw(p: &PhoneParams, seed: u64, sub: &Subscriber) -> Habits {
        Habits::draw_for(p, seed, sub.id, sub.device)
    }

    /// The habits of the subscriber `id` with a `device`: all that
    /// [`Habits::draw`] needs of a subscriber, so the other party of a call
    /// can be known without drawing them whole.
    pub fn draw_for(p: &PhoneParams, seed: u64, id: SubscriberId, device: DeviceType) -> Habits {
        let mut rng = stream(seed, Purpose::PhoneHabits, id.0 as u64, 0);
        let voice = log_normal(&mut rng, p.voice_per_day_median, p.voice_per_day_sigma);
        let sms = log_normal(&mut rng, p.sms_per_day_median, p.sms_per_day_sigma);
        let data = log_normal(&mut rng, p.data_per_day_median, p.data_per_day_sigma);
        let contacts = log_normal(&mut rng, p.contacts_median, p.contacts_sigma)
            .round()
            .clamp(1.0, 5000.0) as u32;
        let night_off = rng.random_bool(p.night_off_share.clamp(0.0, 1.0));
        let bed_h = p.bedtime_h + p.bedtime_sd_h * normal(&mut rng).clamp(-2.0, 2.0);
        let wake_h = p.wake_h + p.wake_sd_h * normal(&mut rng).clamp(-2.0, 2.0);
        let t3412_phase = rng.random::<f64>();
        let report_phase = rng.random::<f64>();
        let (voice, sms, data, bytes_factor, night_off) = match device {
            DeviceType::Smartphone => (voice, sms, data, 1.0, night_off),
            DeviceType::FeaturePhone => (
                voice,
                sms * 1.5,
                data * p.feature_phone_data_factor,
                p.feature_phone_data_factor,
                night_off,
            ),
            DeviceType::Iot => (0.0, 0.0, 0.0, 1.0, false),
        };
        Habits {
            voice_per_day: voice,
            sms_per_day: sms,
            data_per_day: data,
            bytes_factor,
            contacts,
            night_off,
            bed_h,
            wake_h,
            t3412_phase,
            report_phase,
        }
    }
}

/// Draws the activities of one subscriber-day into `out` (not sorted; a
/// burst may run past midnight). `day_start` is local midnight as UTC
/// seconds; `weekend` selects the weekend profile.
#[allow(clippy::too_many_arguments)]
pub fn draw_day(
    p: &PhoneParams,
    cum_weekday: &[f64; 24],
    cum_weekend: &[f64; 24],
    seed: u64,
    sub: &Subscriber,
    habits: &Habits,
    day: u32,
    day_start: f64,
    weekend: bool,
    out: &mut Vec<Act>,
) {
    let mut rng = stream(seed, Purpose::Activity, sub.id.0 as u64, day as u64);
    if sub.device == DeviceType::Iot {
        let interval = p.iot_report_interval_min * 60.0;
        let mut t = day_start + habits.report_phase * interval;
        while t < day_start + 86_400.0 {
            let jitter: f64 = rng.random_range(-0.05..0.05);
            out.push(Act {
                t: t + jitter * interval,
                kind: ActKind::Data,
                mo: true,
                duration_s: p.iot_session_s,
                bytes_up: log_normal(&mut rng, p.iot_bytes_up, 0.3).round() as u64,
                bytes_down: log_normal(&mut rng, p.iot_bytes_down, 0.3).round() as u64,
                counterpart: 0,
                pinned: false,
            });
            t += interval;
        }
        return;
    }
    let f = if weekend { p.weekend_factor } else { 1.0 };
    let rates = [
        habits.voice_per_day * f,
        habits.sms_per_day * f,
        habits.data_per_day * f,
    ];
    let total: f64 = rates.iter().sum();
    if total <= 0.0 {
        return;
    }
    let size_mean = p.burst_size_mean.max(1.0);
    let bursts = match Poisson::new(total / size_mean) {
        Ok(d) => d.sample(&mut rng) as u64,
        Err(_) => 0,
    };
    let cum = if weekend { cum_weekend } else { cum_weekday };
    // Extra events per burst are geometric with mean size_mean − 1.
    let continue_p = 1.0 - 1.0 / size_mean;
    for _ in 0..bursts {
        let u: f64 = rng.random();
        let hour = cum.iter().position(|&c| u < c).unwrap_or(23);
        let within: f64 = rng.random();
        let mut t = day_start + (hour as f64 + within) * 3600.0;
        let mut kind = pick_kind(&mut rng, &rates, total);
        let mut mo = rng.random_bool(p.mo_share.clamp(0.0, 1.0));
        let mut counterpart = draw_counterpart(p, seed, sub, habits, &mut rng);
        loop {
            out.push(draw_act(p, habits, &mut rng, t, kind, mo, counterpart));
            if !rng.random_bool(continue_p) {
                break;
            }
            t += log_normal(&mut rng, p.burst_gap_median_s, p.burst_gap_sigma);
            // Half the follow-ups continue the same exchange (a reply, a
            // call back); the others are new.
            if rng.random_bool(0.5) {
                mo = !mo;
            } else {
                kind = pick_kind(&mut rng, &rates, total);
                mo = rng.random_bool(p.mo_share.clamp(0.0, 1.0));
                counterpart = draw_counterpart(p, seed, sub, habits, &mut rng);
            }
        }
    }
}

fn pick_kind(rng: &mut Pcg64Mcg, rates: &[f64; 3], total: f64) -> ActKind {
    let u = rng.random::<f64>() * total;
    if u < rates[0] {
        ActKind::Voice
    } else if u < rates[0] + rates[1] {
        ActKind::Sms
    } else {
        ActKind::Data
    }
}

fn draw_act(
    p: &PhoneParams,
    habits: &Habits,
    rng: &mut Pcg64Mcg,
    t: f64,
    kind: ActKind,
    mo: bool,
    counterpart: u64,
) -> Act {
    match kind {
        ActKind::Voice => Act {
            t,
            kind,
            mo,
            duration_s: log_normal(rng, p.call_duration_median_s, p.call_duration_sigma)
                .clamp(1.0, p.call_duration_max_s),
            bytes_up: 0,
            bytes_down: 0,
            counterpart,
            pinned: false,
        },
        ActKind::Sms => Act {
            t,
            kind,
            mo,
            duration_s: 0.0,
            bytes_up: 0,
            bytes_down: 0,
            counterpart,
            pinned: false,
        },
        ActKind::Data => {
            let down =
                log_normal(rng, p.data_down_median_bytes, p.data_down_sigma) * habits.bytes_factor;
            let down = down.clamp(200.0, 4.0e9);
            let up = (down * p.data_up_ratio * (0.5 * normal(rng)).exp()).max(100.0);
            Act {
                t,
                kind,
                mo: true,
                duration_s: log_normal(rng, p.data_duration_median_s, p.data_duration_sigma)
                    .clamp(1.0, p.data_duration_max_s),
                bytes_up: up.round() as u64,
                bytes_down: down.round() as u64,
                counterpart: 0,
                pinned: false,
            }
        }
    }
}

/// A counterpart: with `unknown_counterpart_share` a number seen once,
/// otherwise the contact of rank k, with P(k) ∝ k^−s (a continuous
/// approximation of Zipf's law over the contact list).
fn draw_counterpart(
    p: &PhoneParams,
    seed: u64,
    sub: &Subscriber,
    habits: &Habits,
    rng: &mut Pcg64Mcg,
) -> u64 {
    let base = p.counterpart_prefix * 1_000_000_000;
    if rng.random_bool(p.unknown_counterpart_share.clamp(0.0, 1.0)) {
        return base + rng.random_range(0..1_000_000_000u64);
    }
    let s = p.contact_zipf_exponent;
    let k = habits.contacts as f64;
    let u: f64 = rng.random();
    let x = if (s - 1.0).abs() < 1e-9 {
        (k + 1.0).powf(u)
    } else {
        let a = 1.0 - s;
        (1.0 + u * ((k + 1.0).powf(a) - 1.0)).powf(1.0 / a)
    };
    let rank = (x.floor() as u64).clamp(1, habits.contacts as u64);
    // A contact's number depends only on who and which rank, so the list
    // needs no storage.
    let h = key_hash(
        seed,
        Purpose::PhoneHabits,
        sub.id.0 as u64,
        1_000_000 + rank,
    );
    base + h % 1_000_000_000
}
