//! The `[population]` section of a scenario: every marginal of the synthetic
//! population, with defaults for a plausible European country. The sources of
//! the defaults are listed in `docs/MODEL.md`.

use crate::check::{Check, positive, share};
use serde::{Deserialize, Serialize};

/// Shares that should sum to one may be off by this much, so that shares
/// written with three or four decimals are accepted.
pub const SHARE_TOLERANCE: f64 = 1e-3;

/// An age band of the subscriber age pyramid, ages inclusive.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgeGroup {
    /// Youngest age in the band, years.
    pub from: i64,
    /// Oldest age in the band, years.
    pub to: i64,
    /// Share of subscribers in the band.
    pub share: f64,
}

/// Shares of device types among subscribers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceShares {
    pub smartphone: f64,
    pub feature_phone: f64,
    /// IoT / M2M modules; they stay at their installation place.
    pub iot: f64,
}

impl Default for DeviceShares {
    fn default() -> Self {
        DeviceShares {
            smartphone: 0.88,
            feature_phone: 0.07,
            iot: 0.05,
        }
    }
}

/// A home network of inbound roamers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoamerNetwork {
    pub mcc: u16,
    pub mnc: u16,
    /// Share of roamers from this network.
    pub share: f64,
}

/// Parameters of population synthesis, from the scenario's `[population]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PopulationParams {
    /// Age pyramid of resident subscribers; shares sum to 1. Default: the
    /// EU-27 population on 1 January 2023 (Eurostat), aged 10 and over,
    /// renormalised, because younger children rarely hold a subscription.
    pub age_groups: Vec<AgeGroup>,
    /// Share of women. Default 0.511 (EU-27, 2023, Eurostat).
    pub female_share: f64,
    /// Share of 20–64-year-olds in employment. Default 0.753 (EU-27, 2023,
    /// Eurostat employment rate).
    pub employment_rate: f64,
    /// Share of 19–24-year-olds in tertiary education. Default 0.40.
    pub tertiary_share: f64,
    /// Age at which most people retire. Default 65.
    pub retirement_age: i64,
    /// Share of adults (18+) with a car at their disposal. Default 0.78.
    pub car_availability: f64,
    /// Device types. Default smartphone 0.88, feature phone 0.07, IoT 0.05.
    pub devices: DeviceShares,
    /// Share of prepaid contracts among phones. Default 0.30.
    pub prepaid_share: f64,
    /// Inbound roamers present on an average day, as a share of residents.
    /// Default 0.02.
    pub roamer_share: f64,
    /// Mean length of a roamer's visit in days. Default 3.
    pub roamer_mean_stay_days: f64,
    /// Home networks of roamers. Default: four fictional networks under MCC
    /// 999, which ITU-T E.212 keeps for internal use and never assigns to a
    /// country, so these IMSIs can never belong to a real subscriber.
    pub roamer_networks: Vec<RoamerNetwork>,
    /// Cutoff κ of the jump-length law (km) of work places: a commute is a
    /// jump from home of a length drawn from P(Δr) ∝ (Δr + 1.5 km)^−1.75
    /// e^(−Δr/κ) in a uniform direction; it lies outside when it ends beyond
    /// the edge, and inside, workplaces are weighted by the law's density
    /// per unit area at their distance (see `docs/MODEL.md`). Default 100 km.
    pub anchor_cutoff_km: f64,
    /// Cutoff κ of the same law for schools, metres (four times this for
    /// universities). Default 3000.
    pub school_scale_m: f64,
}

impl Default for PopulationParams {
    fn default() -> Self {
        let groups = [
            (10, 14, 0.0592),
            (15, 19, 0.058),
            (20, 24, 0.058),
            (25, 29, 0.0603),
            (30, 34, 0.067),
            (35, 39, 0.0714),
            (40, 44, 0.0759),
            (45, 49, 0.077),
            (50, 54, 0.0804),
            (55, 59, 0.0815),
            (60, 64, 0.0748),
            (65, 69, 0.0647),
            (70, 74, 0.0558),
            (75, 79, 0.048),
            (80, 84, 0.0335),
            (85, 95, 0.0345),
        ];
        PopulationParams {
            age_groups: groups
                .iter()
                .map(|&(from, to, share)| AgeGroup { from, to, share })
                .collect(),
            female_share: 0.511,
            employment_rate: 0.753,
            tertiary_share: 0.40,
            retirement_age: 65,
            car_availability: 0.78,
            devices: DeviceShares::default(),
            prepaid_share: 0.30,
            roamer_share: 0.02,
            roamer_mean_stay_days: 3.0,
            roamer_networks: [(1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1)]
                .iter()
                .map(|&(mnc, share)| RoamerNetwork {
                    mcc: 999,
                    mnc,
                    share,
                })
                .collect(),
            anchor_cutoff_km: 100.0,
            school_scale_m: 3000.0,
        }
    }
}

/// Checks that `shares` are each in [0, 1] and sum to 1.
pub(crate) fn sums_to_one(key: &str, shares: &[f64]) -> Check {
    for (i, &s) in shares.iter().enumerate() {
        share(&format!("{key}[{i}].share"), s)?;
    }
    let sum: f64 = shares.iter().sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        return Err((
            key.into(),
            format!("shares must sum to 1, they sum to {sum}"),
        ));
    }
    Ok(())
}

impl PopulationParams {
    /// Checks values; the error is (key, what was expected).
    pub fn check(&self) -> Result<(), (String, String)> {
        if self.age_groups.is_empty() {
            return Err(("age_groups".into(), "needs at least one age band".into()));
        }
        for (i, g) in self.age_groups.iter().enumerate() {
            for (name, age) in [("from", g.from), ("to", g.to)] {
                if !(0..=120).contains(&age) {
                    return Err((
                        format!("age_groups[{i}].{name}"),
                        format!("ages must be between 0 and 120 years, got {age}"),
                    ));
                }
            }
            if g.to < g.from {
                return Err((
                    format!("age_groups[{i}].to"),
                    format!("must not be below `from` ({}), got {}", g.from, g.to),
                ));
            }
        }
        let shares: Vec<f64> = self.age_groups.iter().map(|g| g.share).collect();
        sums_to_one("age_groups", &shares)?;
        share("female_share", self.female_share)?;
        share("employment_rate", self.employment_rate)?;
        share("tertiary_share", self.tertiary_share)?;
        if !(30..=100).contains(&self.retirement_age) {
            return Err((
                "retirement_age".into(),
                format!("must be between 30 and 100, got {}", self.retirement_age),
            ));
        }
        share("car_availability", self.car_availability)?;
        let d = &self.devices;
        for (k, v) in [
            ("devices.smartphone", d.smartphone),
            ("devices.feature_phone", d.feature_phone),
            ("devices.iot", d.iot),
        ] {
            share(k, v)?;
        }
        let sum = d.smartphone + d.feature_phone + d.iot;
        if (sum - 1.0).abs() > SHARE_TOLERANCE {
            return Err((
                "devices".into(),
                format!("shares must sum to 1, they sum to {sum}"),
            ));
        }
        share("prepaid_share", self.prepaid_share)?;
        if !(self.roamer_share.is_finite() && (0.0..=10.0).contains(&self.roamer_share)) {
            return Err((
                "roamer_share".into(),
                format!(
                    "must be between 0 and 10 roamers per resident, got {}",
                    self.roamer_share
                ),
            ));
        }
        positive("roamer_mean_stay_days", self.roamer_mean_stay_days)?;
        if self.roamer_share > 0.0 && self.roamer_networks.is_empty() {
            return Err((
                "roamer_networks".into(),
                "needs at least one network when roamer_share is above 0".into(),
            ));
        }
        for (i, n) in self.roamer_networks.iter().enumerate() {
            if !(1..=999).contains(&n.mcc) {
                return Err((
                    format!("roamer_networks[{i}].mcc"),
                    format!("must be a 3-digit mobile country code, got {}", n.mcc),
                ));
            }
            if n.mcc == 1 {
                return Err((
                    format!("roamer_networks[{i}].mcc"),
                    "001 is the residents' own test network; roamers need another code".into(),
                ));
            }
            if n.mnc > 99 {
                return Err((
                    format!("roamer_networks[{i}].mnc"),
                    format!("must be a 2-digit mobile network code, got {}", n.mnc),
                ));
            }
        }
        if !self.roamer_networks.is_empty() {
            let shares: Vec<f64> = self.roamer_networks.iter().map(|n| n.share).collect();
            sums_to_one("roamer_networks", &shares)?;
        }
        positive("anchor_cutoff_km", self.anchor_cutoff_km)?;
        positive("school_scale_m", self.school_scale_m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        PopulationParams::default().check().unwrap();
    }

    #[test]
    fn impossible_values_name_their_key() {
        let mut p = PopulationParams::default();
        p.age_groups[0].share = 0.5;
        assert_eq!(p.check().unwrap_err().0, "age_groups");
        let mut p = PopulationParams::default();
        p.age_groups[3].from = -4;
        assert_eq!(p.check().unwrap_err().0, "age_groups[3].from");
        let mut p = PopulationParams::default();
        p.devices.iot = 0.2;
        assert_eq!(p.check().unwrap_err().0, "devices");
        let p = PopulationParams {
            female_share: f64::NAN,
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().0, "female_share");
        let mut p = PopulationParams::default();
        p.roamer_networks[1].mnc = 123;
        assert_eq!(p.check().unwrap_err().0, "roamer_networks[1].mnc");
    }
}
