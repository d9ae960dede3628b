//! The run's calendar: its local days, their UTC bounds and kinds.
//!
//! One [`Calendar`] is built per run and shared by reference: the days
//! model plans each day in it, the events follow its weekly rhythm, the
//! output's date partitions are its days, and a reader of a dataset
//! (validate, products) rebuilds the same calendar from the manifest's
//! scenario. A day is local midnight to local midnight, 23 or 25 hours long
//! on a daylight-saving change, since that is how an analyst of the region
//! counts days.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Seconds in a civil day.
const DAY_S: i64 = 86_400;

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

    /// Days since 1970-01-01 of this day's date.
    pub fn epoch_day(&self) -> i64 {
        self.local_epoch.div_euclid(DAY_S)
    }
}

/// A calendar that cannot be built: the scenario key and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct CalendarError {
    pub key: &'static str,
    pub message: String,
}

/// The local days of a run in a time zone, with holidays.
#[derive(Clone, Debug)]
pub struct Calendar {
    zone_name: String,
    zone: TimeZone,
    days: Vec<Day>,
    /// UTC Unix seconds of each local midnight, `days + 1` of them.
    midnights: Vec<i64>,
    dates: Vec<String>,
    holidays: Vec<Date>,
    /// The zone's UTC offsets around the run: (UTC second from which it
    /// holds, offset in seconds), in order, from two days before the first
    /// midnight to two days after the last. Reading a local time is then a
    /// search in a few entries instead of evaluating the zone's rules,
    /// which dominates when a reader converts millions of instants.
    offsets: Vec<(i64, i64)>,
}

/// Margin around the run within which offsets are tabulated, seconds.
const OFFSET_MARGIN_S: i64 = 2 * DAY_S;

/// The offsets of `tz` in force from `from` to `to` (UTC seconds): the one
/// at `from`, then each transition up to `to`.
fn offsets_between(tz: &TimeZone, from: i64, to: i64) -> Vec<(i64, i64)> {
    let offset_at = |t: i64| {
        Timestamp::from_second(t)
            .map(|ts| tz.to_offset(ts).seconds() as i64)
            .unwrap_or(0)
    };
    let mut out = vec![(from, offset_at(from))];
    if let Ok(start) = Timestamp::from_second(from) {
        for transition in tz.following(start) {
            let at = transition.timestamp().as_second();
            if at > to {
                break;
            }
            out.push((at, transition.offset().seconds() as i64));
        }
    }
    out
}

impl Calendar {
    /// `count` days from `start` (`YYYY-MM-DD`) in the IANA time zone
    /// `zone`; holidays count as Sundays.
    pub fn new(
        start: &str,
        count: u32,
        zone: &str,
        holidays: &[Date],
    ) -> Result<Calendar, CalendarError> {
        let start = parse_date(start).map_err(|message| CalendarError {
            key: "start",
            message,
        })?;
        let tz = time_zone(zone).map_err(|message| CalendarError {
            key: "timezone",
            message,
        })?;
        if count == 0 {
            return Err(CalendarError {
                key: "days",
                message: "must be at least 1".into(),
            });
        }
        Ok(Calendar::of_days(start, count, zone, tz, holidays))
    }

    fn of_days(start: Date, count: u32, name: &str, tz: TimeZone, holidays: &[Date]) -> Calendar {
        let days: Vec<Day> = (0..count as i64)
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
                let start_utc = utc_of(&tz, date.to_datetime(jiff::civil::Time::midnight()));
                let end_utc = utc_of(&tz, next.to_datetime(jiff::civil::Time::midnight()));
                let noon = date.at(12, 0, 0, 0);
                let noon_offset_s = Timestamp::from_second(utc_of(&tz, noon))
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
            .collect();
        let mut midnights: Vec<i64> = days.iter().map(|d| d.start_utc).collect();
        midnights.extend(days.last().map(|d| d.end_utc));
        let dates = days.iter().map(|d| d.date.to_string()).collect();
        let offsets = offsets_between(
            &tz,
            midnights[0] - OFFSET_MARGIN_S,
            midnights[days.len()] + OFFSET_MARGIN_S,
        );
        Calendar {
            offsets,
            zone_name: name.to_string(),
            zone: tz,
            days,
            midnights,
            dates,
            holidays: holidays.to_vec(),
        }
    }

    /// A calendar of one day, 1970-01-01, in a zone at a fixed offset
    /// (seconds east of UTC): every instant outside that day is read by
    /// the offset alone. For records whose zone rules do not matter.
    pub fn fixed_offset(offset_s: i64) -> Calendar {
        let offset =
            jiff::tz::Offset::from_seconds(offset_s as i32).unwrap_or(jiff::tz::Offset::UTC);
        let name = offset.to_string();
        Calendar::of_days(
            Date::constant(1970, 1, 1),
            1,
            &name,
            TimeZone::fixed(offset),
            &[],
        )
    }

    /// The days, in order.
    pub fn days(&self) -> &[Day] {
        &self.days
    }

    /// Number of days.
    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// Never true: a calendar has at least one day.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The IANA name of the time zone.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The dates that count as Sundays besides Sundays.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// The run's first and last instant (local midnights), UTC seconds.
    pub fn span(&self) -> (i64, i64) {
        (self.midnights[0], self.midnights[self.days.len()])
    }

    /// UTC Unix seconds of the start of day `i` (`i == len()` gives the end
    /// of the run).
    pub fn midnight(&self, i: usize) -> i64 {
        self.midnights[i]
    }

    /// `YYYY-MM-DD` of day `i`.
    pub fn date(&self, i: usize) -> &str {
        &self.dates[i]
    }

    /// The index of the day a UTC instant falls in, clamped to the run:
    /// an instant before the first day counts in it, one after the last in
    /// the last.
    pub fn day_of(&self, t: i64) -> usize {
        self.midnights
            .partition_point(|&m| m <= t)
            .saturating_sub(1)
            .min(self.days.len() - 1)
    }

    /// The local date of any UTC instant, as days since 1970-01-01. Within
    /// the run it follows the calendar's midnights exactly; outside, the
    /// time zone's rules.
    pub fn local_day(&self, t: i64) -> i64 {
        let (first, last) = self.span();
        if t >= first && t < last {
            self.days[self.day_of(t)].epoch_day()
        } else {
            self.local_seconds(t).div_euclid(DAY_S)
        }
    }

    /// The local wall-clock time of a UTC instant, in seconds after 00:00
    /// (on the day clocks go forward, 02:00–03:00 never shows).
    pub fn local_second_of_day(&self, t: i64) -> i64 {
        self.local_seconds(t).rem_euclid(DAY_S)
    }

    /// The local hour of a UTC instant, 0–23, as a wall clock shows it.
    pub fn local_hour(&self, t: i64) -> i64 {
        self.local_second_of_day(t) / 3600
    }

    /// The local wall-clock time of a UTC instant, as seconds since
    /// 1970-01-01 00:00 local: whole local days and half hours are whole
    /// multiples of it.
    pub fn local_seconds(&self, t: i64) -> i64 {
        t + self.offset_at(t)
    }

    /// The UTC instant of local midnight at the start of a local date
    /// (days since 1970-01-01): the calendar's own midnight within the run,
    /// the zone's rules outside it.
    pub fn utc_of_local_midnight(&self, epoch_day: i64) -> i64 {
        let first = self.days[0].epoch_day();
        match usize::try_from(epoch_day - first) {
            Ok(i) if i <= self.days.len() => self.midnights[i],
            _ => {
                let date = jiff::civil::Date::constant(1970, 1, 1)
                    .checked_add(SignedDuration::from_hours(24 * epoch_day))
                    .unwrap_or_default();
                utc_of(&self.zone, date.to_datetime(jiff::civil::Time::midnight()))
            }
        }
    }

    /// The zone's UTC offset at an instant, seconds east of UTC.
    pub fn offset_at(&self, t: i64) -> i64 {
        let (first, last) = self.span();
        if t >= first - OFFSET_MARGIN_S && t <= last + OFFSET_MARGIN_S {
            let i = self.offsets.partition_point(|&(from, _)| from <= t);
            return self.offsets[i.saturating_sub(1)].1;
        }
        Timestamp::from_second(t)
            .map(|ts| self.zone.to_offset(ts).seconds() as i64)
            .unwrap_or(0)
    }
}

/// A date as `YYYY-MM-DD` that exists.
pub fn parse_date(text: &str) -> Result<Date, String> {
    text.parse::<Date>()
        .map_err(|_| format!("expected a date as YYYY-MM-DD that exists, got {text:?}"))
}

/// An IANA time zone by name.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .map_err(|_| format!("unknown time zone {name:?}; expected an IANA name like Europe/Vaduz"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabulated_offsets_are_the_zone_s_rules() {
        // Lord Howe shifts by half an hour at 02:00 local, which is not a
        // whole UTC hour: the table must hold transitions, not hours.
        for zone in ["Europe/Vaduz", "Australia/Lord_Howe", "America/St_Johns"] {
            let c = Calendar::new("2026-01-01", 365, zone, &[]).unwrap();
            let tz = time_zone(zone).unwrap();
            let (first, last) = c.span();
            let mut t = first - 3 * DAY_S;
            while t < last + 3 * DAY_S {
                let rules = tz.to_offset(Timestamp::from_second(t).unwrap()).seconds() as i64;
                assert_eq!(c.offset_at(t), rules, "{zone} at {t}");
                t += 15 * 60 - 1;
            }
        }
    }

    #[test]
    fn local_times_follow_daylight_saving() {
        let c = Calendar::new("2026-03-28", 3, "Europe/Vaduz", &[]).unwrap();
        let days = c.days();
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

    #[test]
    fn days_follow_local_midnight_across_a_clock_change() {
        // Summer time starts on Sunday 2026-03-29.
        let c = Calendar::new("2026-03-28", 3, "Europe/Vaduz", &[]).unwrap();
        assert_eq!(c.midnight(1) - c.midnight(0), 86_400);
        assert_eq!(c.midnight(2) - c.midnight(1), 23 * 3600);
        assert_eq!(c.date(1), "2026-03-29");
        // Half an hour before local midnight is still the 28th.
        let t = c.midnight(0) + 86_400 - 1800;
        assert_eq!(c.day_of(t), 0);
        assert_eq!(c.day_of(c.midnight(1)), 1);
        assert_eq!(c.day_of(c.midnight(0) - 10), 0);
        assert_eq!(c.day_of(c.midnight(3) + 10), 2);
    }

    #[test]
    fn local_days_agree_with_the_partitions_inside_and_the_zone_outside() {
        let c = Calendar::new("2026-03-28", 3, "Europe/Vaduz", &[]).unwrap();
        let epoch = |d: &str| {
            parse_date(d)
                .unwrap()
                .to_zoned_datetime(TimeZone::UTC)
                .unwrap()
        };
        let day = |d: &str| epoch(d).timestamp().as_second().div_euclid(DAY_S);
        // 23:30 local on the 30th (CEST, UTC+2) is 21:30 UTC: still the 30th.
        let late = c.midnight(3) - 1800;
        assert_eq!(c.local_day(late), day("2026-03-30"));
        // 21:30 after midnight on the 28th (CET) is 21:30 local.
        assert_eq!(c.local_hour(c.midnight(0) + 21 * 3600 + 1800), 21);
        // Outside the run, the zone's rules: an hour after its end is the 31st.
        assert_eq!(c.local_day(c.midnight(3) + 3600), day("2026-03-31"));
        assert_eq!(c.local_second_of_day(c.midnight(3) + 3600), 3600);
        assert_eq!(c.local_day(c.midnight(0) - 1), day("2026-03-27"));
        // Local midnights, inside the run and beyond it.
        assert_eq!(c.utc_of_local_midnight(day("2026-03-29")), c.midnight(1));
        assert_eq!(c.utc_of_local_midnight(day("2026-03-31")), c.midnight(3));
        assert_eq!(
            c.utc_of_local_midnight(day("2026-04-01")),
            c.midnight(3) + 86_400
        );
        assert_eq!(
            c.utc_of_local_midnight(day("2026-03-27")),
            c.midnight(0) - 86_400
        );
        // The 29th has 23 hours; its clocks still read 23:59:59 at the end.
        assert_eq!(c.local_second_of_day(c.midnight(2) - 1), DAY_S - 1);
        assert_eq!(c.local_hour(c.midnight(1) + 3 * 3600), 4);
    }

    #[test]
    fn bad_values_name_their_key() {
        assert_eq!(
            Calendar::new("2026-02-30", 1, "UTC", &[]).unwrap_err().key,
            "start"
        );
        assert_eq!(
            Calendar::new("2026-03-01", 1, "Mars/Olympus", &[])
                .unwrap_err()
                .key,
            "timezone"
        );
        assert_eq!(
            Calendar::new("2026-03-01", 0, "UTC", &[]).unwrap_err().key,
            "days"
        );
    }
}
