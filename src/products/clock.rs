//! Local dates and hours of the products' keys, read through the run's
//! [`Calendar`] (rebuilt from the dataset's manifest), so that products,
//! the reference pipeline and the generator agree on every local day,
//! clock change and holiday.

use crate::calendar::{Calendar, DayKind};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// A local date and hour: days since 1970-01-01 and the hour 0–23.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalHour {
    pub day: i32,
    pub hour: u8,
}

impl LocalHour {
    /// Local hours in order: days × 24 + hour.
    pub fn index(self) -> i32 {
        self.day * 24 + i32::from(self.hour)
    }

    pub fn from_index(i: i32) -> LocalHour {
        LocalHour {
            day: i.div_euclid(24),
            hour: i.rem_euclid(24) as u8,
        }
    }
}

/// The local date and hour of the UTC instant `utc_ms`.
pub fn local_hour(calendar: &Calendar, utc_ms: i64) -> LocalHour {
    let local_s = calendar.local_seconds(utc_ms.div_euclid(1000));
    LocalHour {
        day: local_s.div_euclid(86_400) as i32,
        hour: (local_s.rem_euclid(86_400) / 3600) as u8,
    }
}

/// The UTC instant (ms) at which local day `day` (days since 1970-01-01)
/// begins.
pub fn midnight_utc_ms(calendar: &Calendar, day: i32) -> i64 {
    calendar.utc_of_local_midnight(i64::from(day)) * 1000
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn day_of(date: &str) -> Option<i32> {
    let d: jiff::civil::Date = date.parse().ok()?;
    let days = d
        .since((jiff::Unit::Day, jiff::civil::Date::constant(1970, 1, 1)))
        .ok()?
        .get_days();
    Some(days)
}

/// Day of the week of a local day: 0 Monday … 6 Sunday.
pub fn weekday(day: i32) -> u8 {
    // 1970-01-01 was a Thursday.
    ((day + 3).rem_euclid(7)) as u8
}

/// Whether a local day is a working day: a weekday of the run that is not
/// one of the scenario's holidays; outside the run, Monday to Friday.
pub fn is_working_day(calendar: &Calendar, day: i32) -> bool {
    let first = calendar.days()[0].epoch_day();
    match usize::try_from(i64::from(day) - first) {
        Ok(i) if i < calendar.len() => calendar.days()[i].kind == DayKind::Weekday,
        _ => weekday(day) < 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hours_follow_the_clock_change() {
        let holiday = "2026-03-30".parse().unwrap();
        let c = Calendar::new("2026-03-28", 4, "Europe/Vaduz", &[holiday]).unwrap();
        let day = day_of("2026-03-29").unwrap();
        // Clocks go forward at 01:00 UTC: 00:30 UTC is 01:30 CET, 01:30
        // UTC is 03:30 CEST.
        let midnight = midnight_utc_ms(&c, day);
        assert_eq!(
            midnight,
            day_of("2026-03-28").unwrap() as i64 * DAY_MS + 23 * HOUR_MS
        );
        let h = local_hour(&c, midnight + 90 * 60_000);
        assert_eq!((h.day, h.hour), (day, 1));
        let h = local_hour(&c, midnight + 150 * 60_000);
        assert_eq!((h.day, h.hour), (day, 3));
        // The day is 23 hours long.
        assert_eq!(midnight_utc_ms(&c, day + 1) - midnight, 23 * HOUR_MS);
        assert_eq!(weekday(day), 6);
        assert_eq!(LocalHour::from_index(h.index()), h);
        // Monday the 30th is a holiday of the scenario, Tuesday is not, and
        // a Wednesday after the run is a working day by its weekday.
        assert!(!is_working_day(&c, day + 1));
        assert!(is_working_day(&c, day + 2));
        assert!(is_working_day(&c, day + 3));
        assert!(!is_working_day(&c, day));
    }
}
