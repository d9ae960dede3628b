//! Daily partitions: which local date a UTC instant belongs to.
//!
//! Partitions follow the region's calendar (a day is local midnight to local
//! midnight, 23 or 25 hours long on daylight-saving changes), since that is
//! how an analyst of the region counts days.

use crate::days::Day;

/// The local days of a run and their UTC boundaries.
#[derive(Clone, Debug)]
pub struct DayPartitions {
    /// UTC Unix seconds of each local midnight, `days + 1` of them.
    midnights: Vec<i64>,
    dates: Vec<String>,
}

impl DayPartitions {
    /// One partition per day of the run's calendar.
    pub fn new(days: &[Day]) -> DayPartitions {
        let mut midnights: Vec<i64> = days.iter().map(|d| d.start_utc).collect();
        midnights.extend(days.last().map(|d| d.end_utc));
        let dates = days.iter().map(|d| d.date.to_string()).collect();
        DayPartitions { midnights, dates }
    }

    /// Number of days.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// The day index of a UTC instant, clamped to the run.
    pub fn day_of(&self, t: i64) -> usize {
        self.midnights
            .partition_point(|&m| m <= t)
            .saturating_sub(1)
            .min(self.dates.len() - 1)
    }

    /// `YYYY-MM-DD` of day `i`.
    pub fn date(&self, i: usize) -> &str {
        &self.dates[i]
    }

    /// UTC Unix seconds of the start of day `i` (`i == len()` gives the end
    /// of the run).
    pub fn midnight(&self, i: usize) -> i64 {
        self.midnights[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_local_midnight_across_a_clock_change() {
        let tz = jiff::tz::TimeZone::get("Europe/Vaduz").unwrap();
        // Summer time starts on Sunday 2026-03-29.
        let p = DayPartitions::new(&Day::run(jiff::civil::date(2026, 3, 28), 3, &tz, &[]));
        assert_eq!(p.midnight(1) - p.midnight(0), 86_400);
        assert_eq!(p.midnight(2) - p.midnight(1), 23 * 3600);
        assert_eq!(p.date(1), "2026-03-29");
        // Half an hour before local midnight is still the 28th.
        let t = p.midnight(0) + 86_400 - 1800;
        assert_eq!(p.day_of(t), 0);
        assert_eq!(p.day_of(p.midnight(1)), 1);
        assert_eq!(p.day_of(p.midnight(0) - 10), 0);
        assert_eq!(p.day_of(p.midnight(3) + 10), 2);
    }
}
