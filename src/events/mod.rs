//! Tower-level events: what the network records of each device.
//!
//! A subscriber's phone activity ([`activity`]) and trajectory (from
//! [`crate::days`]) drive a device state machine ([`device`]) over the radio
//! network: idle devices are seen only through tracking-area updates,
//! connected ones cell by cell with their handovers, and switching off or
//! leaving the region hides a device until it attaches again. Each
//! subscriber is simulated alone from its own random streams, so the events
//! do not depend on threads or parts.

pub mod device;
pub mod pairs;
pub mod usage;

use crate::days::DayKind;
use geo::Coord;
use serde::{Deserialize, Serialize};

use crate::days::PersonDays;
use crate::population::{Subscriber, SubscriberId};
use crate::radio::{CellId, Network, Technology};
use crate::social::SocialNetwork;
use crate::spec::RunSpec;

/// The longest call, data session or IoT report, seconds: a day.
pub const MAX_SESSION_S: f64 = 86_400.0;

/// Parameters of phone activity and device behaviour, from the scenario's
/// `[phone]` section. Sources of the defaults are in `docs/MODEL.md`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhoneParams {
    /// Median over subscribers of calls (MO + MT) per weekday (2.5).
    pub voice_per_day_median: f64,
    /// Log-normal σ of the call rate across subscribers (0.9).
    pub voice_per_day_sigma: f64,
    /// Median of SMS per weekday (1.5), and its σ (1.1).
    pub sms_per_day_median: f64,
    pub sms_per_day_sigma: f64,
    /// Median of smartphone data sessions per weekday (20), and its σ (0.7).
    pub data_per_day_median: f64,
    pub data_per_day_sigma: f64,
    /// Feature phones' data sessions and volumes relative to smartphones (0.05).
    pub feature_phone_data_factor: f64,
    /// Activity on Saturdays and Sundays relative to weekdays (0.85).
    pub weekend_factor: f64,
    /// Mean number of events in a burst (2.0).
    pub burst_size_mean: f64,
    /// Median gap between events of a burst, seconds (90), and its σ (1.3).
    pub burst_gap_median_s: f64,
    pub burst_gap_sigma: f64,
    /// Share of calls and texts the subscriber starts (0.5).
    pub mo_share: f64,
    /// Median call duration, seconds (60), its σ (1.0) and cap (7200; at
    /// most a day, as for the data-session cap and `iot_session_s`).
    pub call_duration_median_s: f64,
    pub call_duration_sigma: f64,
    pub call_duration_max_s: f64,
    /// Median data-session duration, seconds (30), its σ (1.2) and cap (3600).
    pub data_duration_median_s: f64,
    pub data_duration_sigma: f64,
    pub data_duration_max_s: f64,
    /// Median bytes down per data session (500 kB), its σ (2.0), and the
    /// uplink share of the downlink (0.15).
    pub data_down_median_bytes: f64,
    pub data_down_sigma: f64,
    pub data_up_ratio: f64,
    /// IoT devices: one report every this many minutes (60), lasting
    /// `iot_session_s` (5), with median bytes up (2000) and down (500).
    pub iot_report_interval_min: f64,
    pub iot_session_s: f64,
    pub iot_bytes_up: f64,
    pub iot_bytes_down: f64,
    /// Median size of a contact list (25) and its σ (0.6).
    pub contacts_median: f64,
    pub contacts_sigma: f64,
    /// Exponent s of P(rank k) ∝ k^−s over contacts (1.2).
    pub contact_zipf_exponent: f64,
    /// Share of calls and texts with numbers outside the contact list (0.1).
    pub unknown_counterpart_share: f64,
    /// Counterparts are `prefix · 10⁹ + n`: 999 is an E.164 country code
    /// that ITU keeps unassigned, so no real number can appear.
    pub counterpart_prefix: u64,
    /// Share of phones switched off every night (0.1), their mean bedtime
    /// (23.0 h local; above 24 means after midnight), wake time (7.0 h) and
    /// the spread of both between people and days (1.0 h, 0.75 h).
    pub night_off_share: f64,
    pub bedtime_h: f64,
    pub bedtime_sd_h: f64,
    pub wake_h: f64,
    pub wake_sd_h: f64,
    /// Relative activity of each local hour on weekdays and on weekends
    /// (24 values each).
    pub hourly_weekday: Vec<f64>,
    pub hourly_weekend: Vec<f64>,
}

impl Default for PhoneParams {
    fn default() -> Self {
        PhoneParams {
            voice_per_day_median: 2.5,
            voice_per_day_sigma: 0.9,
            sms_per_day_median: 1.5,
            sms_per_day_sigma: 1.1,
            data_per_day_median: 20.0,
            data_per_day_sigma: 0.7,
            feature_phone_data_factor: 0.05,
            weekend_factor: 0.85,
            burst_size_mean: 2.0,
            burst_gap_median_s: 90.0,
            burst_gap_sigma: 1.3,
            mo_share: 0.5,
            call_duration_median_s: 60.0,
            call_duration_sigma: 1.0,
            call_duration_max_s: 7200.0,
            data_duration_median_s: 30.0,
            data_duration_sigma: 1.2,
            data_duration_max_s: 3600.0,
            data_down_median_bytes: 500_000.0,
            data_down_sigma: 2.0,
            data_up_ratio: 0.15,
            iot_report_interval_min: 60.0,
            iot_session_s: 5.0,
            iot_bytes_up: 2000.0,
            iot_bytes_down: 500.0,
            contacts_median: 25.0,
            contacts_sigma: 0.6,
            contact_zipf_exponent: 1.2,
            unknown_counterpart_share: 0.1,
            counterpart_prefix: 999,
            night_off_share: 0.1,
            bedtime_h: 23.0,
            bedtime_sd_h: 1.0,
            wake_h: 7.0,
            wake_sd_h: 0.75,
            hourly_weekday: vec![
                1.0, 0.5, 0.3, 0.25, 0.3, 0.7, 1.8, 3.4, 4.8, 5.3, 5.6, 5.8, 6.0, 5.7, 5.6, 5.8,
                6.2, 6.6, 6.8, 6.6, 6.0, 5.0, 3.6, 2.1,
            ],
            hourly_weekend: vec![
                1.6, 0.9, 0.5, 0.35, 0.3, 0.4, 0.8, 1.6, 2.9, 4.3, 5.2, 5.7, 6.0, 5.9, 5.7, 5.7,
                5.9, 6.2, 6.4, 6.3, 5.9, 5.1, 4.0, 2.6,
            ],
        }
    }
}

impl PhoneParams {
    /// Checks values; the error is (key, what was expected).
    pub fn check(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        let non_negative: [(&str, f64); 20] = [
            ("voice_per_day_median", self.voice_per_day_median),
            ("voice_per_day_sigma", self.voice_per_day_sigma),
            ("sms_per_day_median", self.sms_per_day_median),
            ("sms_per_day_sigma", self.sms_per_day_sigma),
            ("data_per_day_median", self.data_per_day_median),
            ("data_per_day_sigma", self.data_per_day_sigma),
            ("feature_phone_data_factor", self.feature_phone_data_factor),
            ("weekend_factor", self.weekend_factor),
            ("burst_gap_sigma", self.burst_gap_sigma),
            ("call_duration_sigma", self.call_duration_sigma),
            ("data_duration_sigma", self.data_duration_sigma),
            ("data_down_sigma", self.data_down_sigma),
            ("data_up_ratio", self.data_up_ratio),
            ("iot_session_s", self.iot_session_s),
            ("iot_bytes_up", self.iot_bytes_up),
            ("iot_bytes_down", self.iot_bytes_down),
            ("contacts_sigma", self.contacts_sigma),
            ("contact_zipf_exponent", self.contact_zipf_exponent),
            ("bedtime_sd_h", self.bedtime_sd_h),
            ("wake_sd_h", self.wake_sd_h),
        ];
        for (k, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return err(k, format!("must be zero or more, got {v}"));
            }
        }
        let positive: [(&str, f64); 8] = [
            ("burst_gap_median_s", self.burst_gap_median_s),
            ("call_duration_median_s", self.call_duration_median_s),
            ("call_duration_max_s", self.call_duration_max_s),
            ("data_duration_median_s", self.data_duration_median_s),
            ("data_duration_max_s", self.data_duration_max_s),
            ("data_down_median_bytes", self.data_down_median_bytes),
            ("iot_report_interval_min", self.iot_report_interval_min),
            ("contacts_median", self.contacts_median),
        ];
        for (k, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return err(k, format!("must be a positive number, got {v}"));
            }
        }
        // `duration_ms` is a signed 32-bit column: up to 24 days fit, and a
        // day is more than any call or session lasts.
        for (k, v) in [
            ("call_duration_max_s", self.call_duration_max_s),
            ("data_duration_max_s", self.data_duration_max_s),
            ("iot_session_s", self.iot_session_s),
        ] {
            if v > MAX_SESSION_S {
                return err(
                    k,
                    format!("must be at most {MAX_SESSION_S} seconds (a day), got {v}"),
                );
            }
        }
        if self.iot_report_interval_min < 1.0 {
            return err(
                "iot_report_interval_min",
                "must be at least 1 minute".into(),
            );
        }
        if !(1.0..=1000.0).contains(&self.burst_size_mean) {
            return err(
                "burst_size_mean",
                format!("must be between 1 and 1000, got {}", self.burst_size_mean),
            );
        }
        for (k, v) in [
            ("mo_share", self.mo_share),
            ("unknown_counterpart_share", self.unknown_counterpart_share),
            ("night_off_share", self.night_off_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return err(k, format!("must be a share between 0 and 1, got {v}"));
            }
        }
        if !(0.0..=30.0).contains(&self.bedtime_h) {
            return err("bedtime_h", "must be an hour between 0 and 30".into());
        }
        if !(0.0..=24.0).contains(&self.wake_h) {
            return err("wake_h", "must be an hour between 0 and 24".into());
        }
        if self.counterpart_prefix == 0 || self.counterpart_prefix > 9_999_999 {
            return err(
                "counterpart_prefix",
                "must be 1 to 7 digits, not starting with 0".into(),
            );
        }
        for (k, v) in [
            ("hourly_weekday", &self.hourly_weekday),
            ("hourly_weekend", &self.hourly_weekend),
        ] {
            if v.len() != 24 {
                return err(k, format!("must have 24 values, got {}", v.len()));
            }
            if v.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || v.iter().sum::<f64>() <= 0.0 {
                return err(k, "must be numbers ≥ 0 with a positive sum".into());
            }
        }
        Ok(())
    }

    /// Cumulative shares of a 24-hour profile.
    fn cumulative(profile: &[f64]) -> [f64; 24] {
        let total: f64 = profile.iter().take(24).sum();
        let mut cum = [1.0; 24];
        let mut acc = 0.0;
        for (c, v) in cum.iter_mut().zip(profile) {
            acc += v / total;
            *c = acc;
        }
        cum[23] = 1.0;
        cum
    }
}

/// What the network records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum EventType {
    /// The device registers: power on, or back from another network.
    Attach,
    /// The device deregisters at power off.
    Detach,
    /// Periodic tracking-area update, every T3412 in idle mode.
    TauPeriodic,
    /// Tracking-area update on entering a tracking area not registered.
    TauAreaChange,
    /// Connected-mode handover; `cell` is the target, `source_cell` the source.
    Handover,
    VoiceMo,
    VoiceMt,
    SmsMo,
    SmsMt,
    DataSession,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::Attach,
        EventType::Detach,
        EventType::TauPeriodic,
        EventType::TauAreaChange,
        EventType::Handover,
        EventType::VoiceMo,
        EventType::VoiceMt,
        EventType::SmsMo,
        EventType::SmsMt,
        EventType::DataSession,
    ];

    /// The name written in files, e.g. `TAU_PERIODIC`.
    pub fn name(self) -> &'static str {
        match self {
            EventType::Attach => "ATTACH",
            EventType::Detach => "DETACH",
            EventType::TauPeriodic => "TAU_PERIODIC",
            EventType::TauAreaChange => "TAU_AREA_CHANGE",
            EventType::Handover => "HANDOVER",
            EventType::VoiceMo => "VOICE_MO",
            EventType::VoiceMt => "VOICE_MT",
            EventType::SmsMo => "SMS_MO",
            EventType::SmsMt => "SMS_MT",
            EventType::DataSession => "DATA_SESSION",
        }
    }

    /// Calls, texts and data sessions: what the subscriber does, as opposed
    /// to what the device does on its own.
    pub fn is_activity(self) -> bool {
        self >= EventType::VoiceMo
    }

    /// Whether the event is a voice call.
    pub fn is_voice(self) -> bool {
        matches!(self, EventType::VoiceMo | EventType::VoiceMt)
    }

    /// Calls and texts, made or received: what a call-detail record holds.
    pub fn is_call_or_text(self) -> bool {
        self.is_activity() && self != EventType::DataSession
    }
}

/// One event. Plain data: millions are made per second.
///
/// `true_pos` is ground truth: sinks must route it to the truth tables and
/// never into the observable log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// Unique and deterministic: subscriber id << 32 | sequence number.
    pub id: u64,
    /// UTC, milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub subscriber: SubscriberId,
    pub imsi: u64,
    pub kind: EventType,
    /// The cell that served the event (the target, for a handover).
    pub cell: CellId,
    pub tac: u32,
    pub technology: Technology,
    /// Calls and data sessions: how long they lasted.
    pub duration_ms: Option<u32>,
    /// Calls and data sessions: the cell serving at the end.
    pub end_cell: Option<CellId>,
    /// Handovers: the cell handed over from.
    pub source_cell: Option<CellId>,
    /// Data sessions: volumes.
    pub bytes_up: Option<u64>,
    pub bytes_down: Option<u64>,
    /// Calls and texts: the other party's number (pseudonymous).
    pub counterpart: Option<u64>,
    /// Timing advance, in the technology's steps (none for UMTS).
    pub timing_advance: Option<u16>,
    /// Received level from `cell` at the event, dBm.
    pub rsrp_dbm: Option<f32>,
    /// Ground truth: where the subscriber really was, projected metres.
    pub true_pos: Coord,
}

/// Turns subscribers' days into events over one network. Holds the run's
/// calendar and reusable buffers: keep one per thread.
pub struct Simulator<'n> {
    network: &'n Network,
    phone: PhoneParams,
    seed: u64,
    /// Local midnights of days 0..=days, as UTC seconds.
    day_starts: Vec<f64>,
    weekend: Vec<bool>,
    cum_weekday: [f64; 24],
    cum_weekend: [f64; 24],
    acts: Vec<usage::Act>,
    /// On-net calls and texts shared with another subscriber.
    pinned: Vec<usage::Act>,
    absences: Vec<device::Absence>,
    social: Option<&'n SocialNetwork>,
}

impl<'n> Simulator<'n> {
    pub fn new(spec: RunSpec, phone: &PhoneParams, network: &'n Network) -> Simulator<'n> {
        let days = spec.calendar.days();
        // Days 0..=days: the last entry closes the run.
        let mut day_starts: Vec<f64> = days.iter().map(|d| d.start_utc as f64).collect();
        day_starts.extend(days.last().map(|d| d.end_utc as f64));
        // Holidays keep the weekend's phone habits, as they keep Sunday's plans.
        let weekend: Vec<bool> = days.iter().map(|d| d.kind != DayKind::Weekday).collect();
        Simulator {
            network,
            cum_weekday: PhoneParams::cumulative(&phone.hourly_weekday),
            cum_weekend: PhoneParams::cumulative(&phone.hourly_weekend),
            phone: phone.clone(),
            seed: spec.seed,
            day_starts,
            weekend,
            acts: Vec::new(),
            pinned: Vec::new(),
            absences: Vec::new(),
            social: None,
        }
    }

    /// Gives subscribers their on-net calls and texts with the others of
    /// `network`; without it every counterpart is an outside number.
    pub fn with_social(mut self, network: &'n SocialNetwork) -> Simulator<'n> {
        self.social = Some(network);
        self
    }

    /// Appends the events of one subscriber to `out`, in time order.
    pub fn simulate(&mut self, subscriber: &Subscriber, days: &PersonDays, out: &mut Vec<Event>) {
        let habits = usage::Habits::draw(&self.phone, self.seed, subscriber);
        self.acts.clear();
        self.pinned.clear();
        let n_days = self.day_starts.len() - 1;
        // On-net interactions replace part of the outside ones: the own
        // rates of calls and texts shrink by the on-net volume expected.
        let mut own = habits;
        if let Some(net) = self.social {
            let rate = habits.voice_per_day + habits.sms_per_day;
            let strength = net.strength(subscriber.id);
            if rate > 0.0 && strength > 0.0 {
                let g = (1.0 - strength / (pairs::week_days(&self.phone) * rate)).clamp(0.0, 1.0);
                own.voice_per_day *= g;
                own.sms_per_day *= g;
            }
            pairs::draw_pinned(
                &self.phone,
                &self.cum_weekday,
                &self.cum_weekend,
                self.seed,
                subscriber,
                &habits,
                net,
                &self.day_starts,
                &self.weekend,
                &mut self.pinned,
            );
            self.pinned.sort_by(|a, b| {
                a.t.total_cmp(&b.t)
                    .then(a.counterpart.cmp(&b.counterpart))
                    .then(a.mo.cmp(&b.mo))
            });
        }
        for d in 0..n_days {
            usage::draw_day(
                &self.phone,
                &self.cum_weekday,
                &self.cum_weekend,
                self.seed,
                subscriber,
                &own,
                d as u32,
                self.day_starts[d],
                self.weekend[d],
                &mut self.acts,
            );
        }
        self.acts.sort_by(|a, b| a.t.total_cmp(&b.t));
        device::absences(
            &self.phone,
            self.seed,
            subscriber,
            &habits,
            days,
            &self.day_starts,
            &mut self.absences,
        );
        let mut run = device::DeviceRun::new(
            self.network,
            subscriber,
            days,
            &habits,
            self.day_starts[0],
            self.day_starts[n_days],
            out,
        );
        run.run(&self.acts, &self.pinned, &self.absences);
    }
}

/// Appends one subscriber's events to `out`, in time order. For many
/// subscribers, keep a [`Simulator`] per thread instead.
pub fn simulate(
    spec: RunSpec,
    phone: &PhoneParams,
    network: &Network,
    subscriber: &Subscriber,
    days: &PersonDays,
    out: &mut Vec<Event>,
) {
    Simulator::new(spec, phone, network).simulate(subscriber, days, out);
}
