//! On-net calls and texts: the interactions of two subscribers, drawn so that
//! each side can make its own records alone.
//!
//! The interactions of a tie on a day come from a stream keyed by the
//! unordered pair and the day: their number (Poisson with the tie's weight,
//! per day of the week kind), times (the circadian profile), kinds, who calls
//! and how long. Both parties draw the same stream, so the caller writes the
//! MO record and the callee the MT record of the same interaction, at the
//! same time and with the same duration, each from its own cell, whichever
//! thread or part simulates them.
//!
//! What one side cannot see is the other's trajectory, so the rule uses only
//! what both can compute from the seed:
//! - a caller whose phone is switched off for the night does not call;
//! - a callee whose phone is switched off for the night does not answer: the
//!   caller records an unanswered call (duration 0) or a text that is not
//!   delivered within the run, and the callee records nothing;
//! - a call that would run into either party's night switch-off ends then;
//! - a party away from the region (abroad, beyond the map, or a roamer not
//!   yet arrived) records nothing, while the other records the interaction
//!   whole: the call is carried by another network or another region, as a
//!   real one is.

use rand::RngExt;
use rand_distr::{Distribution, Poisson};

use crate::population::{Subscriber, SubscriberId};
use crate::rng::{Purpose, stream};
use crate::social::{SocialNetwork, pair_key};

use super::PhoneParams;
use super::device::night_off;
use super::usage::{Act, ActKind, Habits, log_normal};

/// The nights (start, end) a subscriber's phone is off, nights 0..=days.
fn nights(
    p: &PhoneParams,
    seed: u64,
    id: u32,
    habits: &Habits,
    day_starts: &[f64],
) -> Vec<(f64, f64)> {
    day_starts
        .iter()
        .enumerate()
        .filter_map(|(n, &m)| night_off(p, seed, id, habits, n, m))
        .collect()
}

/// Whether `t` falls in one of the nights.
fn off_at(nights: &[(f64, f64)], t: f64) -> bool {
    nights.iter().any(|&(a, b)| a <= t && t < b)
}

/// The first switch-off after `t`, or infinity.
fn next_off(nights: &[(f64, f64)], t: f64) -> f64 {
    nights
        .iter()
        .map(|&(a, _)| a)
        .filter(|&a| a > t)
        .fold(f64::INFINITY, f64::min)
}

/// The share of on-net interactions that are calls rather than texts: that
/// of the median rates.
pub fn voice_share(p: &PhoneParams) -> f64 {
    let total = p.voice_per_day_median + p.sms_per_day_median;
    if total > 0.0 {
        p.voice_per_day_median / total
    } else {
        0.5
    }
}

/// A regular week in weekday equivalents: 5 weekdays and 2 weekend days.
pub fn week_days(p: &PhoneParams) -> f64 {
    5.0 + 2.0 * p.weekend_factor
}

/// Appends `me`'s side of every on-net interaction of the run to `out` (not
/// sorted). `day_starts` are the local midnights of days 0..=days.
#[allow(clippy::too_many_arguments)]
pub fn draw_pinned(
    p: &PhoneParams,
    cum_weekday: &[f64; 24],
    cum_weekend: &[f64; 24],
    seed: u64,
    me: &Subscriber,
    my_habits: &Habits,
    network: &SocialNetwork,
    day_starts: &[f64],
    weekend: &[bool],
    out: &mut Vec<Act>,
) {
    let ties = network.ties(me.id);
    if ties.is_empty() {
        return;
    }
    let my_nights = nights(p, seed, me.id.0, my_habits, day_starts);
    let week = week_days(p);
    let voice = voice_share(p).clamp(0.0, 1.0);
    let days = day_starts.len().saturating_sub(1);
    for tie in ties {
        let other = tie.other;
        let other_habits = Habits::draw_for(p, seed, SubscriberId(other), network.device(other));
        let other_nights = nights(p, seed, other, &other_habits, day_starts);
        let (lo, _) = if me.id.0 < other {
            (me.id.0, other)
        } else {
            (other, me.id.0)
        };
        let counterpart = network.msisdn(other);
        for d in 0..days {
            let f = if weekend[d] { p.weekend_factor } else { 1.0 };
            let lambda = tie.weight as f64 * f / week;
            if lambda <= 0.0 {
                continue;
            }
            let mut rng = stream(
                seed,
                Purpose::PairActivity,
                pair_key(me.id.0, other),
                d as u64,
            );
            let count = match Poisson::new(lambda) {
                Ok(dist) => dist.sample(&mut rng) as u64,
                Err(_) => 0,
            };
            let cum = if weekend[d] { cum_weekend } else { cum_weekday };
            for _ in 0..count {
                // Every draw is made whatever the outcome, so both sides
                // stay in step.
                let u: f64 = rng.random();
                let hour = cum.iter().position(|&c| u < c).unwrap_or(23);
                let within: f64 = rng.random();
                let t = day_starts[d] + (hour as f64 + within) * 3600.0;
                let is_voice = rng.random_bool(voice);
                let lo_calls = rng.random_bool(0.5);
                let duration =
                    log_normal(&mut rng, p.call_duration_median_s, p.call_duration_sigma)
                        .clamp(1.0, p.call_duration_max_s);
                let i_call = lo_calls == (me.id.0 == lo);
                let (caller_nights, callee_nights) = if i_call {
                    (&my_nights, &other_nights)
                } else {
                    (&other_nights, &my_nights)
                };
                if off_at(caller_nights, t) {
                    continue;
                }
                let answered = !off_at(callee_nights, t);
                if !i_call && !answered {
                    continue;
                }
                let duration_s = match (is_voice, answered) {
                    (false, _) => 0.0,
                    (true, false) => 0.0,
                    (true, true) => duration
                        .min(next_off(&my_nights, t) - t)
                        .min(next_off(&other_nights, t) - t),
                };
                out.push(Act {
                    t,
                    kind: if is_voice {
                        ActKind::Voice
                    } else {
                        ActKind::Sms
                    },
                    mo: i_call,
                    duration_s,
                    bytes_up: 0,
                    bytes_down: 0,
                    counterpart,
                    pinned: true,
                });
            }
        }
    }
}
