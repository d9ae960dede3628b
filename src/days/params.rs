//! The `[mobility]` section of a scenario: the parameters of activity plans,
//! place choice, mode choice and travel, with documented defaults (sources in
//! `docs/MODEL.md`).

use serde::{Deserialize, Serialize};

use crate::check::{Check, in_range, probability};
use jiff::civil::Date;

/// A probability per day type.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PerDayType {
    pub weekday: f64,
    pub saturday: f64,
    /// Sundays and the scenario's holidays.
    pub sunday: f64,
}

/// Alternative-specific constants of the mode-choice logit, in utility
/// units. They set the overall mode shares; distance, age and car
/// availability move each trip away from them.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModeConstants {
    pub walk: f64,
    pub bike: f64,
    pub car_driver: f64,
    pub car_passenger: f64,
    pub public_transport: f64,
}

/// Parameters of the mobility model, from the scenario's `[mobility]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MobilityParams {
    /// Probability that a person without work or school that day leaves
    /// home at all. Default weekday 0.80, Saturday 0.80, Sunday 0.72.
    pub leave_home: PerDayType,
    /// Probability that an employed person works that day. Default weekday
    /// 0.86 (leave, sickness and part-time days off), Saturday 0.15,
    /// Sunday 0.05.
    pub work_day: PerDayType,
    /// Probability that a pupil or student attends that day. Default
    /// weekday 0.90, Saturday 0.02, Sunday 0.
    pub school_day: PerDayType,
    /// Exploration and preferential return: probability ρ·S^−γ of visiting
    /// a new place, S being the number of distinct places seen so far.
    /// Default ρ = 0.6 (Song et al. 2010).
    pub epr_rho: f64,
    /// Default γ = 0.08. Song et al. (2010) measured γ ≈ 0.21 over all
    /// moves; here only discretionary stops explore, and the places known
    /// before the run look new when first seen, both of which steepen the
    /// measured decay. With 0.08 the γ measured on the output lands at
    /// about 0.26–0.28 on the bundled maps.
    pub epr_gamma: f64,
    /// Places each person already knows when the run starts, besides home
    /// and work. Default 6.
    pub known_places: usize,
    /// Each person's range (the cutoff of the jump law of their
    /// discretionary places) is drawn from the published distribution of
    /// radii of gyration (González et al. 2008) times this factor.
    /// Default 2, calibrated so that the population's jumps follow the
    /// published law (β about 1.75) and its radii of gyration have a tail.
    pub range_scale: f64,
    /// Mode-choice constants; the defaults are calibrated so that the
    /// default map reproduces the MiD 2017 mode shares.
    pub mode_constants: ModeConstants,
    /// Car speed as a share of free flow in the worst weekday peak hour.
    /// Default 0.6.
    pub peak_speed_factor: f64,
    /// Car speed as a share of free flow in daytime off-peak. Default 0.85.
    pub day_speed_factor: f64,
    /// Public transport in-vehicle speed as a share of car speed, stops
    /// included. Default 0.65.
    pub transit_speed_factor: f64,
    /// Interval between public transport departures, seconds; the wait is
    /// uniform up to it. Default 900.
    pub transit_headway_s: f64,
    /// Median search time for a parking space, seconds. Default 180.
    pub parking_search_s: f64,
    /// Probability of a day trip out of the map on a weekend day. Default
    /// Saturday 0.12, Sunday 0.14; weekday 0.03 (shopping or errands
    /// abroad).
    pub excursion: PerDayType,
    /// Cutoff κ of the jump-length law P(Δr) ∝ (Δr + 1.5 km)^−1.75
    /// e^(−Δr/κ), km, which decides whether a new discretionary place lies
    /// beyond the map's edge and how far (González et al. 2008 fitted κ of
    /// 80 and 400 km on two national datasets). Default 100 km.
    pub jump_cutoff_km: f64,
    /// Dates (YYYY-MM-DD) treated as Sundays. Default none.
    pub holidays: Vec<String>,
}

impl Default for MobilityParams {
    fn default() -> Self {
        MobilityParams {
            leave_home: PerDayType {
                weekday: 0.80,
                saturday: 0.80,
                sunday: 0.72,
            },
            work_day: PerDayType {
                weekday: 0.86,
                saturday: 0.15,
                sunday: 0.05,
            },
            school_day: PerDayType {
                weekday: 0.90,
                saturday: 0.02,
                sunday: 0.0,
            },
            epr_rho: 0.6,
            epr_gamma: 0.08,
            known_places: 8,
            range_scale: 2.0,
            mode_constants: ModeConstants {
                walk: 1.2,
                bike: 0.15,
                car_driver: 0.8,
                car_passenger: -2.0,
                public_transport: -2.6,
            },
            peak_speed_factor: 0.6,
            day_speed_factor: 0.85,
            transit_speed_factor: 0.65,
            transit_headway_s: 900.0,
            parking_search_s: 180.0,
            excursion: PerDayType {
                weekday: 0.03,
                saturday: 0.12,
                sunday: 0.14,
            },
            jump_cutoff_km: 100.0,
            holidays: Vec::new(),
        }
    }
}

impl PerDayType {
    fn check(&self, key: &str) -> Check {
        probability(&format!("{key}.weekday"), self.weekday)?;
        probability(&format!("{key}.saturday"), self.saturday)?;
        probability(&format!("{key}.sunday"), self.sunday)
    }
}

impl MobilityParams {
    /// Checks values; the error is (key, what was expected).
    pub fn check(&self) -> Result<(), (String, String)> {
        self.leave_home.check("leave_home")?;
        self.work_day.check("work_day")?;
        self.school_day.check("school_day")?;
        self.excursion.check("excursion")?;
        in_range("epr_rho", self.epr_rho, 0.0, 1.0, "between 0 and 1")?;
        in_range("epr_gamma", self.epr_gamma, 0.0, 5.0, "between 0 and 5")?;
        if self.known_places > 1000 {
            return Err((
                "known_places".into(),
                format!("must be at most 1000, got {}", self.known_places),
            ));
        }
        in_range(
            "range_scale",
            self.range_scale,
            0.01,
            100.0,
            "a factor between 0.01 and 100",
        )?;
        let c = &self.mode_constants;
        for (k, v) in [
            ("mode_constants.walk", c.walk),
            ("mode_constants.bike", c.bike),
            ("mode_constants.car_driver", c.car_driver),
            ("mode_constants.car_passenger", c.car_passenger),
            ("mode_constants.public_transport", c.public_transport),
        ] {
            in_range(k, v, -50.0, 50.0, "a utility between -50 and 50")?;
        }
        for (k, v) in [
            ("peak_speed_factor", self.peak_speed_factor),
            ("day_speed_factor", self.day_speed_factor),
            ("transit_speed_factor", self.transit_speed_factor),
        ] {
            in_range(k, v, 0.05, 1.0, "a share of free-flow speed in 0.05..=1")?;
        }
        for (k, v) in [
            ("transit_headway_s", self.transit_headway_s),
            ("parking_search_s", self.parking_search_s),
        ] {
            in_range(k, v, 0.0, 86_400.0, "a duration between 0 and 86400 s")?;
        }
        in_range(
            "jump_cutoff_km",
            self.jump_cutoff_km,
            1.0,
            20_000.0,
            "a distance between 1 and 20000 km",
        )?;
        for (i, h) in self.holidays.iter().enumerate() {
            if h.parse::<Date>().is_err() {
                return Err((
                    format!("holidays[{i}]"),
                    format!("expected a date as YYYY-MM-DD that exists, got {h:?}"),
                ));
            }
        }
        Ok(())
    }

    /// The holidays as dates; invalid entries (refused by `validate`) are
    /// skipped.
    pub fn holiday_dates(&self) -> Vec<Date> {
        self.holidays
            .iter()
            .filter_map(|h| h.parse::<Date>().ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_key() {
        MobilityParams::default().check().unwrap();
        let mut p = MobilityParams::default();
        p.leave_home.sunday = 1.5;
        assert_eq!(p.check().unwrap_err().0, "leave_home.sunday");
        let p = MobilityParams {
            holidays: vec!["2026-02-30".into()],
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().0, "holidays[0]");
        let p = MobilityParams {
            peak_speed_factor: 0.0,
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().0, "peak_speed_factor");
    }
}
