//! The region's local time for zone products: local dates and hours of UTC
//! instants, and the UTC instant of a local midnight. Kept to this one
//! small type so that a calendar shared by the whole crate can replace it.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// Local time in one time zone, with the UTC offset of each UTC hour
/// remembered (offsets change only at hour boundaries in every zone the
/// tz database knows today).
pub struct LocalTime {
    tz: TimeZone,
    /// UTC offsets (ms) of consecutive UTC hours from the first one asked
    /// for: (that hour, offsets).
    offsets: std::cell::RefCell<(i64, Vec<i64>)>,
}

/// Hours of offsets kept: more than a year.
const CACHED_HOURS: i64 = 24 * 400;

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

impl LocalTime {
    /// For an IANA time zone name, e.g. `Europe/Vaduz`.
    pub fn new(name: &str) -> Result<LocalTime, String> {
        let tz = TimeZone::get(name).map_err(|e| format!("unknown time zone {name:?}: {e}"))?;
        Ok(LocalTime {
            tz,
            offsets: Default::default(),
        })
    }

    /// Local milliseconds since the local epoch of the instant `utc_ms`.
    pub fn local_ms(&self, utc_ms: i64) -> i64 {
        let hour = utc_ms.div_euclid(HOUR_MS);
        let mut cache = self.offsets.borrow_mut();
        if cache.1.is_empty() {
            // From two days before the first instant asked for.
            cache.0 = hour - 48;
        }
        let at = hour - cache.0;
        if !(0..CACHED_HOURS).contains(&at) {
            return utc_ms + self.offset_ms(hour);
        }
        while cache.1.len() as i64 <= at {
            let h = cache.0 + cache.1.len() as i64;
            let o = self.offset_ms(h);
            cache.1.push(o);
        }
        utc_ms + cache.1[at as usize]
    }

    fn offset_ms(&self, hour: i64) -> i64 {
        Timestamp::from_millisecond(hour * HOUR_MS)
            .map(|t| i64::from(self.tz.to_offset(t).seconds()) * 1000)
            .unwrap_or(0)
    }

    /// The local date and hour of `utc_ms`.
    pub fn local_hour(&self, utc_ms: i64) -> LocalHour {
        let l = self.local_ms(utc_ms);
        LocalHour {
            day: l.div_euclid(DAY_MS) as i32,
            hour: (l.rem_euclid(DAY_MS) / HOUR_MS) as u8,
        }
    }

    /// The UTC instant (ms) at which local day `day` (days since
    /// 1970-01-01) begins.
    pub fn midnight_utc_ms(&self, day: i32) -> i64 {
        let date = Date::constant(1970, 1, 1)
            .checked_add(jiff::Span::new().days(i64::from(day)))
            .ok();
        date.and_then(|d| d.to_zoned_datetime(self.tz.clone()).ok())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(i64::from(day) * DAY_MS)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn day_of(date: &str) -> Option<i32> {
    let d: Date = date.parse().ok()?;
    let days = d
        .since((jiff::Unit::Day, Date::constant(1970, 1, 1)))
        .ok()?
        .get_days();
    Some(days)
}

/// Day of the week of a local day: 0 Monday … 6 Sunday.
pub fn weekday(day: i32) -> u8 {
    // 1970-01-01 was a Thursday.
    ((day + 3).rem_euclid(7)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hours_follow_the_clock_change() {
        let t = LocalTime::new("Europe/Vaduz").unwrap();
        let day = day_of("2026-03-29").unwrap();
        // Clocks go forward at 01:00 UTC: 00:30 UTC is 01:30 CET, 01:30
        // UTC is 03:30 CEST.
        let midnight = t.midnight_utc_ms(day);
        assert_eq!(
            midnight,
            day_of("2026-03-28").unwrap() as i64 * DAY_MS + 23 * HOUR_MS
        );
        let h = t.local_hour(midnight + 90 * 60_000);
        assert_eq!((h.day, h.hour), (day, 1));
        let h = t.local_hour(midnight + 150 * 60_000);
        assert_eq!((h.day, h.hour), (day, 3));
        // The day is 23 hours long.
        assert_eq!(t.midnight_utc_ms(day + 1) - midnight, 23 * HOUR_MS);
        assert_eq!(weekday(day), 6);
        assert_eq!(LocalHour::from_index(h.index()), h);
    }
}
