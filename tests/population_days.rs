//! Population synthesis and the days model on the bundled Liechtenstein map:
//! determinism, independence between subscribers, schedule invariants and
//! refusal of impossible input.

use std::sync::OnceLock;

use mobsynth::days::{self, PersonDays, World};
use mobsynth::map::{Map, PlaceClass, PlaceId};
use mobsynth::population::ids::imei_is_valid;
use mobsynth::population::{self, DeviceType, Occupation, Subscriber, Synthesizer};
use mobsynth::routing::Router;
use mobsynth::scenario::{BUNDLED_MAP, BUNDLED_MAP_NAME, Scenario};
use rayon::prelude::*;

fn map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(|| Map::load_bytes(BUNDLED_MAP_NAME.as_ref(), BUNDLED_MAP).unwrap())
}

fn scenario(subscribers: u32, days: u32, extra: &str) -> Scenario {
    let text = format!(
        "name = \"t\"\nmap = \"{BUNDLED_MAP_NAME}\"\nseed = 11\nsubscribers = {subscribers}\n\
         days = {days}\nstart = \"2026-03-27\"\ntimezone = \"Europe/Vaduz\"\n{extra}"
    );
    Scenario::parse(&text, "test.toml", None).unwrap()
}

/// Everyone's days, simulated on a pool of `threads` threads.
fn run(s: &Scenario, threads: usize) -> (Vec<Subscriber>, Vec<PersonDays>) {
    let map = map();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let subs =
            population::synthesize(&s.spec(&s.calendar().unwrap()), &s.population, map).unwrap();
        let router = Router::new(&map.graph);
        let calendar = s.calendar().unwrap();
        let world = World::new(s.spec(&calendar), &s.mobility, map).unwrap();
        let days = subs
            .par_iter()
            .map_init(|| router.query(), |q, sub| days::simulate(&world, q, sub))
            .collect();
        (subs, days)
    })
}

#[test]
fn same_seed_gives_the_same_output_on_one_and_two_threads() {
    let s = scenario(120, 3, "");
    let one = run(&s, 1);
    let two = run(&s, 2);
    assert_eq!(one.0, two.0);
    assert_eq!(one.1, two.1);
}

#[test]
fn a_subscriber_does_not_change_when_the_population_does() {
    let small = scenario(40, 3, "");
    let large = scenario(90, 3, "");
    let (subs_s, days_s) = run(&small, 2);
    let (subs_l, days_l) = run(&large, 2);
    for k in 0..40 {
        assert_eq!(subs_s[k], subs_l[k], "subscriber {k}");
        assert_eq!(days_s[k], days_l[k], "days of subscriber {k}");
    }
    // Roamers are keyed by their own index and keep their draws too.
    let first_roamer = |subs: &[Subscriber]| subs.iter().position(|s| s.is_roamer()).unwrap();
    let (rs, rl) = (first_roamer(&subs_s), first_roamer(&subs_l));
    assert_eq!((rs, rl), (40, 90));
    assert_eq!(subs_s[rs].imsi, subs_l[rl].imsi);
    assert_eq!(days_s[rs].stays, days_l[rl].stays);
}

#[test]
fn one_subscriber_alone_equals_the_same_in_a_range() {
    let s = scenario(50, 1, "");
    let calendar = s.calendar().unwrap();
    let synth = Synthesizer::new(s.spec(&calendar), &s.population, map()).unwrap();
    let all = synth.range(0..synth.total());
    assert_eq!(synth.subscriber(17), all[17]);
    assert_eq!(synth.range(10..20), all[10..20].to_vec());
}

#[test]
fn population_is_well_formed() {
    let s = scenario(1500, 7, "");
    let map = map();
    let subs = population::synthesize(&s.spec(&s.calendar().unwrap()), &s.population, map).unwrap();
    let residents = &subs[..1500];
    assert!(residents.iter().all(|r| !r.is_roamer()));
    assert!(subs[1500..].iter().all(Subscriber::is_roamer));
    assert!(subs.len() > 1500, "expected some roamers");
    for (i, sub) in subs.iter().enumerate() {
        assert_eq!(sub.id.0 as usize, i);
        assert!(imei_is_valid(sub.imei), "{}", sub.imei_string());
        assert_eq!(sub.imsi_string().len(), 15);
        assert!(sub.msisdn.to_string().starts_with("9997"));
    }
    for r in residents {
        assert_eq!(map.place(r.home).class, PlaceClass::Home, "{:?}", r.id);
        assert!(r.imsi_string().starts_with("00101"));
        if r.occupation == Occupation::Employed {
            assert!(r.has_anchor(), "employed {:?} has no workplace", r.id);
        }
        if r.age < 18 {
            assert!(!r.has_car);
        }
    }
    let employed = residents
        .iter()
        .filter(|r| r.occupation == Occupation::Employed)
        .count() as f64;
    // Beyond the edge by the jump-length law: on the default map (a small
    // country) a minority, but not none.
    let outside = residents
        .iter()
        .filter(|r| r.occupation == Occupation::Employed && r.anchor_outside.is_some())
        .count() as f64;
    assert!(
        (0.05..0.5).contains(&(outside / employed)),
        "{outside} of {employed} work outside"
    );
    let iot = residents
        .iter()
        .filter(|r| r.device == DeviceType::Iot)
        .count();
    assert!((30..120).contains(&iot), "{iot} IoT modules");
    for roamer in &subs[1500..] {
        let r = roamer.roaming.unwrap();
        assert!(r.first_day <= r.last_day && r.last_day < 7);
        assert_eq!(r.mcc, 999);
        assert!(roamer.imsi_string().starts_with("999"));
    }
}

#[test]
fn schedules_are_consistent() {
    let s = scenario(150, 4, "");
    let (subs, all) = run(&s, 2);
    let calendar = s.calendar().unwrap();
    let world = World::new(s.spec(&calendar), &s.mobility, map()).unwrap();
    let run_start = world.days[0].start_utc;
    let run_end = world.days[3].end_utc;
    for (sub, pd) in subs.iter().zip(&all) {
        assert_eq!(pd.subscriber, sub.id);
        assert!(!pd.stays.is_empty());
        assert_eq!(pd.stays.len(), pd.trips.len() + 1, "{:?}", sub.id);
        for (i, t) in pd.trips.iter().enumerate() {
            let (before, after) = (&pd.stays[i], &pd.stays[i + 1]);
            assert_eq!((t.from_stay, t.to_stay), (i, i + 1));
            assert!(t.start >= before.end, "trip starts before its stay ends");
            assert_eq!(t.start, before.end);
            assert_eq!(t.end, after.start);
            assert!(t.end > t.start);
            let first = t.path.first().unwrap();
            let last = t.path.last().unwrap();
            assert_eq!(first.t, t.start as f64);
            assert_eq!(last.t, t.end as f64);
            assert!(t.path.windows(2).all(|w| w[1].t >= w[0].t));
            assert!((first.pos.x - before.pos.x).abs() < 1e-6);
            assert!((last.pos.x - after.pos.x).abs() < 1e-6);
            assert!(t.distance_m >= 0.0 && t.distance_m.is_finite());
        }
        for w in pd.stays.windows(2) {
            assert!(w[0].start <= w[0].end && w[0].end <= w[1].start);
            // Consecutive stays are in different places.
            // (Places beyond the map's edge have no id: their position tells.)
            assert!(
                w[0].place != w[1].place || w[0].activity != w[1].activity || w[0].pos != w[1].pos
            );
        }
        for st in &pd.stays {
            assert_eq!(st.place.is_none(), st.out_of_area());
        }
        match sub.roaming {
            None => {
                assert_eq!(pd.stays[0].start, run_start);
                // A trip under way at the end of the run still arrives.
                assert!(pd.stays.last().unwrap().end >= run_end);
                assert!(pd.trips.last().is_none_or(|t| t.start < run_end));
                assert_eq!(pd.stays[0].place, Some(sub.home));
            }
            Some(r) => {
                let first = &world.days[r.first_day as usize];
                let last = &world.days[r.last_day as usize];
                assert!(pd.stays[0].start >= first.start_utc);
                assert!(pd.trips.last().is_none_or(|t| t.start < last.end_utc));
            }
        }
        if sub.device == DeviceType::Iot {
            assert_eq!(pd.stays.len(), 1);
        }
    }
    // Some residents leave the map and come back.
    assert!(
        all.iter()
            .any(|pd| pd.stays.iter().any(|s| s.out_of_area()))
    );
}

#[test]
fn a_stay_over_midnight_is_one_stay() {
    let s = scenario(60, 3, "");
    let (_, all) = run(&s, 2);
    let calendar = s.calendar().unwrap();
    let world = World::new(s.spec(&calendar), &s.mobility, map()).unwrap();
    let midnight = world.days[1].start_utc;
    for pd in all.iter().filter(|pd| pd.subscriber.0 < 60) {
        let covering = pd
            .stays
            .iter()
            .filter(|st| st.start <= midnight && st.end > midnight)
            .count();
        let travelling = pd
            .trips
            .iter()
            .any(|t| t.start <= midnight && t.end > midnight);
        assert_eq!(covering + usize::from(travelling), 1);
    }
}

#[test]
fn impossible_input_is_refused_with_the_key() {
    let cases = [
        (
            "[population]\nage_groups = [{ from = 10, to = 50, share = 0.5 }]\n",
            "population.age_groups",
        ),
        (
            "[population]\nage_groups = [{ from = -3, to = 50, share = 1.0 }]\n",
            "population.age_groups[0].from",
        ),
        (
            "[population.devices]\nsmartphone = 0.9\nfeature_phone = 0.2\niot = 0.0\n",
            "population.devices",
        ),
        ("[mobility]\nepr_rho = 2.0\n", "mobility.epr_rho"),
    ];
    for (extra, key) in cases {
        let text = format!(
            "name = \"t\"\nmap = \"m.osm.pbf\"\nseed = 1\nsubscribers = 10\ndays = 1\n\
             start = \"2026-03-02\"\ntimezone = \"Europe/Vaduz\"\n{extra}"
        );
        let e = Scenario::parse(&text, "s.toml", None).unwrap_err();
        assert!(e.message.contains(&format!("`{key}`")), "{e}");
    }
    let zero = "name = \"t\"\nmap = \"m.osm.pbf\"\nseed = 1\nsubscribers = 0\ndays = 1\n\
                start = \"2026-03-02\"\ntimezone = \"Europe/Vaduz\"\n";
    assert!(
        Scenario::parse(zero, "s.toml", None)
            .unwrap_err()
            .message
            .contains("subscribers")
    );
}

#[test]
fn a_map_without_homes_is_refused_naming_the_map() {
    let mut homeless = Map::load_bytes(BUNDLED_MAP_NAME.as_ref(), BUNDLED_MAP).unwrap();
    homeless.places.retain(|p| p.class != PlaceClass::Home);
    for (i, p) in homeless.places.iter_mut().enumerate() {
        p.id = PlaceId(i as u32);
    }
    let s = scenario(10, 1, "");
    let e = population::synthesize(&s.spec(&s.calendar().unwrap()), &s.population, &homeless)
        .unwrap_err();
    assert!(e.to_string().starts_with("`map`"), "{e}");
}
