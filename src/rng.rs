//! Random streams keyed by (seed, purpose, entity).
//!
//! Every draw in mobsynth comes from a stream made here, so a subscriber's
//! results depend only on the seed and on who they are: not on the thread that
//! simulates them, nor on which other subscribers are in the same run or part.
//! The generator is PCG-64 (MCG variant) from `rand_pcg`, whose output is fixed
//! by its specification, so a seed gives the same data on every platform and
//! every version of mobsynth that keeps the same model.

use rand_pcg::Pcg64Mcg;

/// The stage a stream serves. Each stage has its own streams, so adding a draw
/// to one stage never shifts the numbers another stage sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Demographics and identifiers of one subscriber.
    Person = 1,
    /// Home, work and school anchors of one subscriber.
    Anchors = 2,
    /// The plan of one subscriber-day.
    DayPlan = 3,
    /// Place choice (exploration and return) of one subscriber-day.
    PlaceChoice = 4,
    /// Mode choice of one subscriber-day.
    ModeChoice = 5,
    /// Phone activity of one subscriber-day.
    Activity = 6,
    /// Device power state of one subscriber-day.
    Power = 7,
    /// Radio network layout.
    Network = 8,
    /// Shadowing field of the radio model.
    Shadowing = 9,
    /// Per-subscriber habits that last the whole run.
    Habits = 10,
    /// Sampling done by the validator.
    Validate = 11,
    /// Travel details of one subscriber-day: waits, parking, access walks.
    Travel = 12,
    /// Phone habits of one subscriber that last the whole run (activity
    /// levels, contact list, night switch-off).
    PhoneHabits = 13,
    /// Faults of the dirty log (`[log_quality]`): per event, and a
    /// subscriber's clock offset. Numbered apart so that other new purposes
    /// do not collide.
    LogFaults = 21,
    /// Scenario happenings: who attends, complies or moves.
    Happenings = 22,
    /// The social network: households, colleagues, friends and tie weights.
    Social = 14,
    /// The calls and texts of one pair of subscribers on one day.
    PairActivity = 15,
}

/// SplitMix64 finaliser: a bijective mix with full avalanche, used to turn
/// structured keys into independent-looking seeds.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of the key (seed, purpose, a, b).
pub fn key_hash(seed: u64, purpose: Purpose, a: u64, b: u64) -> u64 {
    let mut h = mix64(seed ^ 0x6D6F_6273_796E_7468);
    h = mix64(h ^ purpose as u64);
    h = mix64(h ^ a);
    mix64(h ^ b.rotate_left(17))
}

/// The random stream for (seed, purpose, a, b); `a` is usually a subscriber
/// id and `b` a day index.
pub fn stream(seed: u64, purpose: Purpose, a: u64, b: u64) -> Pcg64Mcg {
    let lo = key_hash(seed, purpose, a, b);
    let hi = mix64(lo ^ 0xA5A5_A5A5_5A5A_5A5A);
    // The MCG state must be odd; the constructor forces that.
    Pcg64Mcg::new(((hi as u128) << 64) | lo as u128)
}

/// A uniform number in [0, 1) that depends only on its key: for values that
/// must be the same wherever they are asked for, like a shadowing field.
pub fn unit_hash(seed: u64, purpose: Purpose, a: u64, b: u64) -> f64 {
    (key_hash(seed, purpose, a, b) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_every_key_part_and_repeat_for_the_same_key() {
        let draw = |s, p, a, b| stream(s, p, a, b).next_u64();
        let base = draw(1, Purpose::Person, 2, 3);
        assert_eq!(base, draw(1, Purpose::Person, 2, 3));
        assert_ne!(base, draw(2, Purpose::Person, 2, 3));
        assert_ne!(base, draw(1, Purpose::DayPlan, 2, 3));
        assert_ne!(base, draw(1, Purpose::Person, 3, 3));
        assert_ne!(base, draw(1, Purpose::Person, 2, 4));
        assert_ne!(
            draw(1, Purpose::Person, 2, 3),
            draw(1, Purpose::Person, 3, 2)
        );
    }

    #[test]
    fn unit_hash_is_in_the_unit_interval_and_roughly_uniform() {
        let n = 10_000;
        let mean: f64 = (0..n)
            .map(|i| unit_hash(7, Purpose::Shadowing, i, 0))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
