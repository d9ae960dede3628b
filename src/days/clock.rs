//! Simulated days in local time and their conversion to UTC.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The kind of day, which sets the activity pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayKind {
    Weekday,
    Saturday,
    /// Sundays and holidays.
    Sunday,
}

/// One simulated day.
#[derive(Clone, Debug)]
pub struct Day {
    pub date: Date,
    pub kind: DayKind,
    /// UTC Unix seconds of local midnight at the start of the day.
    pub start_utc: i64,
    /// UTC Unix seconds of local midnight at its end.
    pub end_utc: i64,
    /// UTC offset at local noon, seconds; used to read the local hour of a
    /// time, which is then off by an hour only in the night of a clock
    /// change, when traffic is free-flowing anyway.
    pub noon_offset_s: i64,
    /// Civil midnight of the date read as if it were UTC.
    local_epoch: i64,
}

fn utc_of(tz: &TimeZone, dt: DateTime) -> i64 {
    // Local times that a clock change skips map forward, repeated ones to
    // the earlier instant (the "compatible" rule).
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .map(|t| t.as_second())
        // Only dates beyond jiff's range (years past 9999) fail; scenario
        // validation keeps those out.
        .unwrap_or(0)
}

impl Day {
    /// The days of a run: `count` days from `start`.
    pub fn run(start: Date, count: u32, tz: &TimeZone, holidays: &[Date]) -> Vec<Day> {
        (0..count as i64)
            .map(|i| {
                let date = start
                    .checked_add(SignedDuration::from_hours(24 * i))
                    .unwrap_or(start);
                let next = date.tomorrow().unwrap_or(date);
                let kind = if holidays.contains(&date) {
                    DayKind::Sunday
                } else {
                    match date.weekday() {
                        Weekday::Saturday => DayKind::Saturday,
                        Weekday::Sunday => DayKind::Sunday,
                        _ => DayKind::Weekday,
                    }
                };
                let start_utc = utc_of(tz, date.to_datetime(jiff::civil::Time::midnight()));
                let end_utc = utc_of(tz, next.to_datetime(jiff::civil::Time::midnight()));
                let noon = date.at(12, 0, 0, 0);
                let noon_offset_s = Timestamp::from_second(utc_of(tz, noon))
                    .map(|t| tz.to_offset(t).seconds() as i64)
                    .unwrap_or(0);
                let local_epoch = utc_of(
                    &TimeZone::UTC,
                    date.to_datetime(jiff::civil::Time::midnight()),
                );
                Day {
                    date,
                    kind,
                    start_utc,
                    end_utc,
                    noon_offset_s,
                    local_epoch,
                }
            })
            .collect()
    }

    /// UTC Unix seconds of a local clock time, in seconds after local
    /// midnight (values past 24 h run into the next day).
    pub fn utc(&self, local_s: f64) -> i64 {
        let s = local_s.round() as i64;
        if s >= 4 * 3600 {
            // Clocks change at night; from then on the noon offset holds.
            self.local_epoch + s - self.noon_offset_s
        } else {
            self.start_utc + s
        }
    }

    /// Seconds after local midnight of a UTC time (may be negative or past
    /// a day for times outside it).
    pub fn local_seconds(&self, utc: f64) -> f64 {
        utc + self.noon_offset_s as f64 - self.local_epoch as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_follow_daylight_saving() {
        let tz = TimeZone::get("Europe/Vaduz").unwrap();
        let start: Date = "2026-03-28".parse().unwrap();
        let days = Day::run(start, 3, &tz, &[]);
        assert_eq!(days[0].kind, DayKind::Saturday);
        assert_eq!(days[1].kind, DayKind::Sunday);
        // 2026-03-29 has 23 hours in central Europe.
        assert_eq!(days[1].end_utc - days[1].start_utc, 23 * 3600);
        // 08:00 CET on the 28th is 07:00 UTC; 08:00 CEST on the 30th 06:00.
        let t28 = Timestamp::from_second(days[0].utc(8.0 * 3600.0)).unwrap();
        assert_eq!(t28.to_string(), "2026-03-28T07:00:00Z");
        let t30 = Timestamp::from_second(days[2].utc(8.0 * 3600.0)).unwrap();
        assert_eq!(t30.to_string(), "2026-03-30T06:00:00Z");
        assert!((days[2].local_seconds(t30.as_second() as f64) - 8.0 * 3600.0).abs() < 1e-9);
    }
}
