//! Records straight from an in-memory simulation, so that the realism
//! metrics can judge a run without writing and reading it back (the tests
//! and benchmarks do this). They are the records the truth tables hold.

use crate::days::PersonDays;
use crate::population::Subscriber;

use super::mobility::outside_place_key;
use super::{Activity, PersonRecord, StayRecord, TripRecord};

/// The truth records of simulated people, in the validator's types.
#[derive(Debug, Default, Clone)]
pub struct TruthRecords {
    pub persons: Vec<PersonRecord>,
    pub stays: Vec<StayRecord>,
    pub trips: Vec<TripRecord>,
}

fn stay_activity(pd: &PersonDays, stay: usize) -> Activity {
    pd.stays.get(stay).map_or(Activity::Other, |s| s.activity)
}

/// Converts simulated people. A place beyond the map's edge is keyed by its
/// position, as in the dataset reader; positions stay in the map's projected metres.
pub fn truth_records<'a>(
    people: impl IntoIterator<Item = (&'a Subscriber, &'a PersonDays)>,
) -> TruthRecords {
    let mut out = TruthRecords::default();
    for (sub, pd) in people {
        let subscriber = u64::from(sub.id.0);
        out.persons.push(PersonRecord {
            subscriber,
            age: sub.age,
            resident: !sub.is_roamer(),
        });
        out.stays.extend(pd.stays.iter().map(|s| {
            StayRecord {
                subscriber,
                start_s: s.start,
                end_s: s.end,
                place: s
                    .place
                    .map_or_else(|| outside_place_key(s.pos.x, s.pos.y), |p| u64::from(p.0)),
                x_m: s.pos.x,
                y_m: s.pos.y,
                activity: s.activity,
            }
        }));
        out.trips.extend(pd.trips.iter().map(|t| TripRecord {
            subscriber,
            start_s: t.start,
            end_s: t.end,
            mode: t.mode,
            distance_m: t.distance_m,
            from_activity: stay_activity(pd, t.from_stay),
            to_activity: stay_activity(pd, t.to_stay),
        }));
    }
    out
}
