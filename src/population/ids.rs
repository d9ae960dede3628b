//! Identifiers that look real to software but can never be real.
//!
//! - IMSI: MCC 001 / MNC 01, the ITU-T E.212 test network, for residents;
//!   roamers use their home network's MCC/MNC from the scenario (by default
//!   MCC 999, which E.212 keeps for internal use). MSIN: 10 digits.
//! - MSISDN: under E.164 country code 999, which the ITU has not assigned to
//!   any country, network or service, so no such number reaches a real
//!   subscriber: `999 70 NNNNNNNNNN` for residents and `999 71 NNNNNNNNNN`
//!   for roamers, 15 digits, the E.164 maximum.
//! - IMEI: TAC with reporting-body identifier 00 (test IMEIs), then a digit
//!   for the device type, a 6-digit serial and a Luhn check digit.
//!
//! The subscriber-specific digits are an affine permutation of the index
//! salted by the seed: unique within a run, and not the index itself.

use crate::population::DeviceType;
use crate::rng::{Purpose, key_hash};

const TEN_DIGITS: u64 = 10_000_000_000;
const SIX_DIGITS: u64 = 1_000_000;

/// A bijection of `0..modulus` (a power of ten): multiplying by a number
/// prime to 10 permutes the residues, the salt shifts them.
fn permute(x: u64, modulus: u64, salt: u64) -> u64 {
    const FACTOR: u128 = 7_380_219_461;
    ((FACTOR * (x % modulus) as u128 + (salt % modulus) as u128) % modulus as u128) as u64
}

fn salt(seed: u64, which: u64) -> u64 {
    key_hash(seed, Purpose::Person, u64::MAX, which)
}

/// IMSI of a subscriber with key `k` on network (mcc, mnc); 2-digit MNC.
pub fn imsi(seed: u64, mcc: u16, mnc: u16, k: u64) -> u64 {
    let msin = permute(k, TEN_DIGITS, salt(seed, 1));
    (mcc as u64 * 100 + mnc as u64) * TEN_DIGITS + msin
}

/// MSISDN (E.164 without '+') of a resident or roamer with key `k`.
pub fn msisdn(seed: u64, roamer: bool, k: u64) -> u64 {
    let prefix: u64 = if roamer { 99_971 } else { 99_970 };
    prefix * TEN_DIGITS + permute(k, TEN_DIGITS, salt(seed, 2))
}

/// The Luhn check digit of a digit string given as a number.
pub fn luhn_digit(payload: u64) -> u64 {
    let mut sum = 0;
    let mut rest = payload;
    let mut double = true;
    while rest > 0 {
        let mut d = rest % 10;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        rest /= 10;
    }
    (10 - sum % 10) % 10
}

/// IMEI for key `k` with device model `model` (0..100).
pub fn imei(seed: u64, device: DeviceType, model: u64, k: u64) -> u64 {
    let kind = match device {
        DeviceType::Smartphone => 1,
        DeviceType::FeaturePhone => 2,
        DeviceType::Iot => 3,
    };
    // The million-block of the key goes into the TAC so that serials stay
    // unique for up to a thousand million keys.
    let block = (k / SIX_DIGITS) % 1000;
    let tac = kind * 100_000 + block * 100 + model % 100;
    let serial = permute(k, SIX_DIGITS, salt(seed, 3));
    let payload = tac * SIX_DIGITS + serial;
    payload * 10 + luhn_digit(payload)
}

/// Whether a 15-digit IMEI's check digit is right.
pub fn imei_is_valid(imei: u64) -> bool {
    luhn_digit(imei / 10) == imei % 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn luhn_matches_a_published_example() {
        // The IMEI commonly used to illustrate the check digit.
        assert_eq!(luhn_digit(49_015_420_323_751), 8);
        assert!(imei_is_valid(490_154_203_237_518));
        assert!(!imei_is_valid(490_154_203_237_517));
    }

    #[test]
    fn identifiers_are_unique_and_well_formed() {
        let mut imsis = HashSet::new();
        let mut numbers = HashSet::new();
        let mut imeis = HashSet::new();
        for k in 0..20_000 {
            let i = imsi(5, 1, 1, k);
            assert_eq!(i / TEN_DIGITS, 101);
            assert!(imsis.insert(i));
            let m = msisdn(5, false, k);
            assert_eq!(m.to_string().len(), 15);
            assert!(m.to_string().starts_with("99970"));
            assert!(numbers.insert(m));
            let e = imei(5, DeviceType::Smartphone, k % 7, k);
            assert!(imei_is_valid(e));
            // "00" then the device-type digit: 13 significant digits.
            assert_eq!(e / 1_000_000_000_000, 1, "{e}");
            assert!(imeis.insert(e));
        }
    }
}
