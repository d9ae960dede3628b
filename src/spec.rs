//! What every stage needs to know of the run besides its own parameters:
//! the seed, the number of resident subscribers and the calendar.

use crate::calendar::Calendar;

/// The run as the stages see it. Each stage takes this and its own section
/// of parameters, never the whole scenario.
#[derive(Clone, Copy, Debug)]
pub struct RunSpec<'c> {
    /// The seed all random streams derive from.
    pub seed: u64,
    /// Resident subscribers (inbound roamers come on top).
    pub subscribers: u32,
    /// The run's local days.
    pub calendar: &'c Calendar,
}

impl RunSpec<'_> {
    /// Number of simulated days.
    pub fn days(&self) -> u32 {
        self.calendar.len() as u32
    }
}
