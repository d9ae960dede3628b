//! The device state machine: what the network sees of one device.
//!
//! - **Idle:** the device camps on the best cell, reselecting when another
//!   beats it by the idle hysteresis for Treselection. The network hears of
//!   it only when it enters a tracking area it is not registered in
//!   (TAU_AREA_CHANGE) and every T3412 without contact (TAU_PERIODIC).
//! - **Connected:** during a call or data session the device is followed cell
//!   by cell: a neighbour better than the serving cell by the A3 offset for
//!   the time-to-trigger takes over (HANDOVER), and a handover into a new
//!   tracking area is followed by a TAU_AREA_CHANGE, as after a real one.
//!   The end of any contact restarts T3412.
//! - **Absent:** a phone switched off for the night sends DETACH, and ATTACH
//!   when switched on. A device that leaves the region (an out-of-area stay)
//!   registers with a network abroad; ours records nothing at that moment
//!   (the core network drops the context later, without a radio event) and an
//!   ATTACH when the device comes back.
//!
//! Positions come from the subscriber's stays and trips; along trips the
//! device is sampled every 25 m when connected and once per coverage pixel
//! when idle, and coverage is looked up, never computed.

use geo::Coord;

use crate::days::PersonDays;
use crate::map::distance;
use crate::population::{DeviceType, Subscriber};
use crate::radio::{CellIdx, LayerIdx, Network, Servers, Technology};
use crate::rng::{Purpose, stream};

use super::usage::{Act, ActKind, Habits};
use super::{Event, EventType, PhoneParams};

/// Distance between position samples along a trip while connected, metres:
/// half a coverage pixel, so no pixel is skipped.
const STEP_M: f64 = 25.0;

/// A time when the device is not on our network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Absence {
    pub start: f64,
    pub end: f64,
    /// Whether it starts with a DETACH (switched off) or silently (abroad).
    pub detach: bool,
}

/// The absences of a subscriber over the run, sorted and merged, into `out`.
pub fn absences(
    p: &PhoneParams,
    seed: u64,
    sub: &Subscriber,
    habits: &Habits,
    days: &PersonDays,
    day_starts: &[f64],
    out: &mut Vec<Absence>,
) {
    out.clear();
    // Before the first stay and after the last one the person is not in the
    // region at all: an inbound roamer before arriving and after leaving,
    // on its home network all that time.
    if let (Some(&run_start), Some(&run_end)) = (day_starts.first(), day_starts.last()) {
        let (first, last) = match (days.stays.first(), days.stays.last()) {
            (Some(first), Some(last)) => (first.start as f64, last.end as f64),
            _ => (run_end, run_end),
        };
        for (start, end) in [(run_start, first), (last, run_end)] {
            out.push(Absence {
                start,
                end,
                detach: false,
            });
        }
    }
    for s in days.stays.iter().filter(|s| s.out_of_area()) {
        out.push(Absence {
            start: s.start as f64,
            end: s.end as f64,
            detach: false,
        });
    }
    // The part of a cross-border trip driven abroad is spent on another network too.
    for (start, end) in days.trips.iter().filter_map(|t| t.outside) {
        out.push(Absence {
            start,
            end,
            detach: false,
        });
    }
    if sub.device != DeviceType::Iot {
        for (n, &midnight) in day_starts.iter().enumerate() {
            if let Some((start, end)) = night_off(p, seed, sub.id.0, habits, n, midnight) {
                out.push(Absence {
                    start,
                    end,
                    detach: true,
                });
            }
        }
    }
    out.retain(|a| a.end > a.start);
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut merged = 0;
    for i in 0..out.len() {
        if merged > 0 && out[i].start <= out[merged - 1].end {
            out[merged - 1].end = out[merged - 1].end.max(out[i].end);
        } else {
            out[merged] = out[i];
            merged += 1;
        }
    }
    out.truncate(merged);
}

/// Night `n` of subscriber `id` with the phone switched off, as UTC
/// seconds (start, end), if the subscriber switches off at night. Night n
/// runs from the evening before day n (local midnight `midnight`) to its
/// morning. The other party of a call asks this too, so it depends on
/// nothing but the subscriber, its habits and the night.
pub fn night_off(
    p: &PhoneParams,
    seed: u64,
    id: u32,
    habits: &Habits,
    n: usize,
    midnight: f64,
) -> Option<(f64, f64)> {
    if !habits.night_off {
        return None;
    }
    let mut rng = stream(seed, Purpose::Power, id as u64, n as u64);
    let z1: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
    let z2: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
    let bed = habits.bed_h + 0.5 * p.bedtime_sd_h * z1.clamp(-2.0, 2.0);
    let wake = habits.wake_h + 0.5 * p.wake_sd_h * z2.clamp(-2.0, 2.0);
    let start = midnight + (bed - 24.0) * 3600.0;
    let end = midnight + wake * 3600.0;
    (end > start).then_some((start, end))
}

/// Where a subscriber is over time; queries must come in time order.
pub struct Track<'d> {
    days: &'d PersonDays,
    /// Current segment: 2i is stay i, 2i + 1 is trip i.
    seg: usize,
    /// Current waypoint pair within a trip.
    wp: usize,
    /// Where the last step along a trip ended, for the sample that comes
    /// next at that time.
    ahead: Option<Ahead>,
}

/// A point reached by stepping along a trip: its time, position, and
/// distance from the waypoint `wp` it follows. Stepping on from it needs
/// only additions, where seeking the time again would chain a division and
/// a square root onto every sample of a moving device.
#[derive(Clone, Copy, Debug)]
struct Ahead {
    t: f64,
    pos: Coord,
    seg: usize,
    wp: usize,
    along_m: f64,
    /// Length of the pair `wp`, `wp + 1`.
    pair_m: f64,
}

impl<'d> Track<'d> {
    pub fn new(days: &'d PersonDays) -> Track<'d> {
        Track {
            days,
            seg: 0,
            wp: 0,
            ahead: None,
        }
    }

    /// Stays and trips alternate from a stay, so only as many trips as
    /// there are stays after the first can be followed; anything else in a
    /// malformed input is ignored rather than trusted.
    fn segments(&self) -> usize {
        let stays = self.days.stays.len();
        if stays == 0 {
            return 0;
        }
        2 * stays - 1 - (stays - 1).saturating_sub(self.days.trips.len()) * 2
    }

    fn span(&self, seg: usize) -> (f64, f64) {
        if seg.is_multiple_of(2) {
            let s = &self.days.stays[seg / 2];
            (s.start as f64, s.end as f64)
        } else {
            let t = &self.days.trips[seg / 2];
            (t.start as f64, t.end as f64)
        }
    }

    fn seek(&mut self, t: f64) {
        while self.seg + 1 < self.segments() && t >= self.span(self.seg).1 {
            self.seg += 1;
            self.wp = 0;
        }
        if self.seg % 2 == 1 {
            let path = &self.days.trips[self.seg / 2].path;
            while self.wp + 2 < path.len() && path[self.wp + 1].t <= t {
                self.wp += 1;
            }
        }
    }

    /// The position at `t` (no earlier than the last query).
    pub fn pos_at(&mut self, t: f64) -> Coord {
        self.sample(t, None).0
    }

    /// The position at `t` (no earlier than the last query) and, given a
    /// step, the next time worth sampling after it: the end of a stay, or
    /// the time the trip has moved on `step_m` metres, always later than
    /// `t` (infinite without a step). One seek and one interpolation for
    /// both.
    pub fn sample(&mut self, t: f64, step_m: Option<f64>) -> (Coord, f64) {
        if self.segments() == 0 {
            return (Coord { x: 0.0, y: 0.0 }, f64::INFINITY);
        }
        if let Some(step_m) = step_m
            && let Some(ahead) = self.ahead.take()
            && ahead.t == t
        {
            self.seg = ahead.seg;
            self.wp = ahead.wp;
            return (ahead.pos, self.step(ahead, step_m));
        }
        self.seek(t);
        let end = self.span(self.seg).1;
        if self.seg.is_multiple_of(2) {
            let pos = self.days.stays[self.seg / 2].pos;
            let next = if self.seg + 1 < self.segments() {
                end
            } else {
                f64::INFINITY
            };
            return (pos, step_m.map_or(f64::INFINITY, |_| later(t, next)));
        }
        let trip = &self.days.trips[self.seg / 2];
        if trip.path.len() < 2 {
            let last = self.days.stays.len() - 1;
            let from = self.days.stays[trip.from_stay.min(last)].pos;
            let to = self.days.stays[trip.to_stay.min(last)].pos;
            let pos = lerp(from, to, fraction(t, trip.start as f64, trip.end as f64));
            let next = step_m.map_or(f64::INFINITY, |step_m| {
                let dist = ((to.x - from.x).powi(2) + (to.y - from.y).powi(2)).sqrt();
                let duration = (trip.end - trip.start) as f64;
                let step_t = if dist > 0.0 {
                    duration * step_m / dist
                } else {
                    duration
                };
                later(t, (t + step_t).min(end))
            });
            return (pos, next);
        }
        let (a, b) = (trip.path[self.wp], trip.path[self.wp + 1]);
        let f = fraction(t, a.t, b.t);
        let pos = lerp(a.pos, b.pos, f);
        let Some(step_m) = step_m else {
            return (pos, f64::INFINITY);
        };
        let pair_m = distance(a.pos, b.pos);
        let here = Ahead {
            t,
            pos,
            seg: self.seg,
            wp: self.wp,
            along_m: pair_m * f,
            pair_m,
        };
        (pos, self.step(here, step_m))
    }

    /// The time at which a traveller at `from` on a trip has covered
    /// `step_m` metres more, crossing as many waypoints as needed (road
    /// shapes have points every few metres), or the trip's end if that is
    /// nearer; remembers the point reached. Always later than `from.t`.
    fn step(&mut self, from: Ahead, step_m: f64) -> f64 {
        let path = &self.days.trips[from.seg / 2].path;
        let end = self.span(from.seg).1;
        let mut to = from;
        let mut now = from.t.max(path[to.wp].t);
        let mut left = step_m;
        let reached = loop {
            let (a, b) = (path[to.wp], path[to.wp + 1]);
            let rest = to.pair_m - to.along_m;
            if rest >= left && b.t > now {
                to.along_m += left;
                let f = to.along_m / to.pair_m;
                to.t = a.t + (b.t - a.t) * f;
                to.pos = lerp(a.pos, b.pos, f);
                break Some(to);
            }
            left -= rest;
            now = now.max(b.t);
            if to.wp + 2 >= path.len() {
                // Past the last waypoint the trip waits for its end.
                break None;
            }
            to.wp += 1;
            to.along_m = 0.0;
            to.pair_m = distance(b.pos, path[to.wp + 1].pos);
        };
        let n = reached.map_or(now, |to| to.t);
        let next = later(from.t, if n > from.t { n.min(end) } else { end });
        if let Some(to) = reached
            && to.t == next
            && to.t < end
        {
            self.ahead = Some(to);
        }
        next
    }
}

/// `next` if it is later than `t`, else a millisecond after `t`: a sampling
/// loop must always move on.
fn later(t: f64, next: f64) -> f64 {
    if next > t { next } else { t + 1e-3 }
}

/// How far `t` is from `ta` to `tb`, in [0, 1]; 1 when they coincide.
fn fraction(t: f64, ta: f64, tb: f64) -> f64 {
    if tb > ta {
        ((t - ta) / (tb - ta)).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

fn lerp(a: Coord, b: Coord, f: f64) -> Coord {
    Coord {
        x: a.x + (b.x - a.x) * f,
        y: a.y + (b.y - a.y) * f,
    }
}

/// Preferred layers by device: smartphones and IoT modules camp on LTE,
/// feature phones on GSM, each falling back to what the network has.
fn preferred_layer(network: &Network, device: DeviceType) -> Option<LayerIdx> {
    use Technology::*;
    let order: [Technology; 4] = match device {
        DeviceType::Smartphone => [Lte, Nr, Umts, Gsm],
        DeviceType::FeaturePhone => [Gsm, Umts, Lte, Nr],
        DeviceType::Iot => [Lte, Gsm, Nr, Umts],
    };
    order.iter().find_map(|&t| network.layer_of(t))
}

/// One subscriber's pass through the state machine.
pub struct DeviceRun<'a> {
    network: &'a Network,
    sub: &'a Subscriber,
    habits: &'a Habits,
    track: Track<'a>,
    out: &'a mut Vec<Event>,
    run_start: f64,
    run_end: f64,
    layer: Option<LayerIdx>,
    camped: CellIdx,
    /// The tracking-area list of the last registration: the area entered
    /// and the one before, as MMEs commonly assign, so that a device
    /// wavering on a border does not update at every step.
    registered: [u32; 2],
    last_contact: f64,
    /// A better cell seen since a time: reselection or A3 in progress.
    pending: Option<(CellIdx, f64)>,
    seq: u32,
    /// The last level computed: a device at rest reports the same cell from
    /// the same point many times.
    last_level: (CellIdx, Coord, f32),
    t3412_s: f64,
    /// Idle devices are sampled once per coverage pixel: only tracking-area
    /// changes show, and they need no finer timing.
    idle_step_m: f64,
    idle_hyst: f32,
    resel_s: f64,
    a3: f32,
    ttt_s: f64,
    /// Records of the current connection still open: (index in `out`, end).
    open: Vec<(usize, f64)>,
}

impl<'a> DeviceRun<'a> {
    pub fn new(
        network: &'a Network,
        sub: &'a Subscriber,
        days: &'a PersonDays,
        habits: &'a Habits,
        run_start: f64,
        run_end: f64,
        out: &'a mut Vec<Event>,
    ) -> DeviceRun<'a> {
        let p = network.params();
        DeviceRun {
            network,
            sub,
            habits,
            track: Track::new(days),
            out,
            run_start,
            run_end,
            layer: preferred_layer(network, sub.device),
            camped: CellIdx(0),
            registered: [0, 0],
            last_contact: run_start,
            pending: None,
            seq: 0,
            last_level: (CellIdx(u32::MAX), Coord { x: 0.0, y: 0.0 }, 0.0),
            t3412_s: p.t3412_min * 60.0,
            idle_step_m: p.coverage_resolution_m.max(STEP_M),
            idle_hyst: p.idle_hysteresis_db as f32,
            resel_s: p.reselection_time_s,
            a3: p.a3_offset_db as f32,
            ttt_s: p.time_to_trigger_ms / 1000.0,
            open: Vec::new(),
        }
    }

    fn servers(&self, pos: Coord) -> Option<Servers> {
        self.layer.map(|l| self.network.servers(l, pos))
    }

    /// Runs the whole state machine over the present intervals.
    /// `acts` are the subscriber's own activities, which wait while the
    /// device is busy; `pinned` are the on-net calls and texts shared with
    /// another subscriber, which happen exactly at their time and last their
    /// whole duration, so that both sides record the same.
    pub fn run(&mut self, acts: &[Act], pinned: &[Act], absences: &[Absence]) {
        if self.layer.is_none() {
            return;
        }
        let mut ai = 0;
        let mut pi = 0;
        let mut cur = self.run_start;
        let mut first = true;
        let (run_start, run_end) = (self.run_start, self.run_end);
        let bounds = absences
            .iter()
            .filter(|a| a.end > run_start && a.start < run_end)
            .map(|a| (a.start, a.end, a.detach))
            .chain(std::iter::once((run_end, run_end, false)));
        for (abs_start, abs_end, detach) in bounds {
            let present_end = abs_start.min(self.run_end);
            if present_end > cur {
                let attach = !first || cur > self.run_start;
                (ai, pi) = self.present(cur, present_end, attach, acts, ai, pinned, pi);
                if detach && present_end < self.run_end {
                    let pos = self.track.pos_at(present_end);
                    self.emit(EventType::Detach, present_end, self.camped, pos);
                }
            }
            first = false;
            cur = cur.max(present_end).max(abs_end);
            if cur >= self.run_end {
                break;
            }
        }
    }

    /// One interval on the network, from `t0` (with an ATTACH, or already
    /// registered at the start of the run) to `t1`. Returns the indices of
    /// the first own and pinned activities not handled.
    #[allow(clippy::too_many_arguments)]
    fn present(
        &mut self,
        t0: f64,
        t1: f64,
        attach: bool,
        acts: &[Act],
        mut ai: usize,
        pinned: &[Act],
        mut pi: usize,
    ) -> (usize, usize) {
        let pos = self.track.pos_at(t0);
        let Some(best) = self.servers(pos).and_then(|s| s.best()) else {
            return (ai, pi);
        };
        self.camped = best.cell;
        let tac = self.network.cell(best.cell).tac;
        self.registered = [tac, tac];
        self.pending = None;
        if attach {
            self.emit(EventType::Attach, t0, best.cell, pos);
            self.last_contact = t0;
        } else {
            self.last_contact = t0 - self.habits.t3412_phase * self.t3412_s;
        }
        let mut t = t0;
        while ai < acts.len() && acts[ai].t < t0 {
            ai += 1;
        }
        while pi < pinned.len() && pinned[pi].t < t0 {
            pi += 1;
        }
        loop {
            // One thing at a time for the subscriber's own activities: one
            // due during another waits. A pinned one never waits: it comes
            // first when due, and one due during a connection joins it.
            let own = acts.get(ai).map(|a| a.t.max(t));
            let pin = pinned.get(pi).map(|a| a.t);
            let (start, act) = match (own, pin) {
                (_, Some(p)) if own.is_none_or(|o| p <= o) => {
                    pi += 1;
                    (p, pinned[pi - 1])
                }
                (Some(o), _) => {
                    ai += 1;
                    (o, acts[ai - 1])
                }
                _ => break,
            };
            if start >= t1 {
                if act.pinned {
                    pi -= 1;
                } else {
                    ai -= 1;
                }
                break;
            }
            self.idle(t, start);
            t = self.connected(start, t1, &act, pinned, &mut pi);
        }
        // Own activities due before the end that never found a free moment.
        while ai < acts.len() && acts[ai].t < t1 {
            ai += 1;
        }
        self.idle(t, t1);
        (ai, pi)
    }

    /// Idle from `t0` to just before `t1`.
    fn idle(&mut self, t0: f64, t1: f64) {
        let mut t = t0;
        loop {
            let (pos, next) = self.track.sample(t, Some(self.idle_step_m));
            if let Some(sv) = self.servers(pos) {
                self.reselect(t, pos, &sv);
            }
            let mut next = next.min(t1);
            if let Some((_, since)) = self.pending
                && since + self.resel_s > t
            {
                next = next.min(since + self.resel_s);
            }
            loop {
                let due = self.last_contact + self.t3412_s;
                if due > next || due >= t1 {
                    break;
                }
                let p = self.track.pos_at(due.max(t));
                self.emit(EventType::TauPeriodic, due, self.camped, p);
                self.last_contact = due;
            }
            if next >= t1 {
                break;
            }
            t = next;
        }
    }

    /// Idle-mode cell reselection at one sample.
    fn reselect(&mut self, t: f64, pos: Coord, sv: &Servers) {
        let Some(best) = sv.best() else { return };
        if best.cell == self.camped {
            self.pending = None;
            return;
        }
        let current = sv.level_of(self.camped).unwrap_or(sv.floor_dbm());
        if best.dbm <= current + self.idle_hyst {
            self.pending = None;
            return;
        }
        match self.pending {
            Some((c, since)) if c == best.cell => {
                if t - since >= self.resel_s {
                    self.pending = None;
                    self.camped = best.cell;
                    if self.enters_new_area(best.cell) {
                        self.emit(EventType::TauAreaChange, t, best.cell, pos);
                        self.last_contact = t;
                    }
                }
            }
            _ => self.pending = Some((best.cell, t)),
        }
    }

    /// A call, text or data session from `t0`, and the pinned calls and
    /// texts that start while it lasts (one radio connection carries them
    /// all). Own activities are cut short at `limit`; pinned ones keep their
    /// duration in the record (the call goes on abroad or beyond the map)
    /// while the device is followed only up to `limit`. Returns when the
    /// device is idle again.
    fn connected(&mut self, t0: f64, limit: f64, act: &Act, pinned: &[Act], pi: &mut usize) -> f64 {
        let (pos, mut step_end) = self.track.sample(t0, Some(STEP_M));
        let serving = self.camped;
        self.open.clear();
        let mut conn_end = self.record(act, t0, limit, serving, pos);
        let mut serving = serving;
        let mut t = t0;
        if act.kind != ActKind::Sms {
            self.pending = None;
            loop {
                let mut next = step_end;
                if let Some((_, since)) = self.pending
                    && since + self.ttt_s > t
                {
                    next = next.min(since + self.ttt_s);
                }
                if let Some(p) = pinned.get(*pi)
                    && p.t <= next.min(conn_end)
                    && p.t < limit
                {
                    *pi += 1;
                    let at = p.t.max(t);
                    let (pos, after) = self.track.sample(at, Some(STEP_M));
                    step_end = after;
                    t = at;
                    conn_end = conn_end.max(self.record(p, at, limit, serving, pos));
                    continue;
                }
                if next > conn_end {
                    break;
                }
                t = next;
                self.close_calls(t, serving);
                let (p, after) = self.track.sample(t, Some(STEP_M));
                step_end = after;
                let Some(sv) = self.servers(p) else { break };
                serving = self.handover(t, p, &sv, serving);
            }
            self.pending = None;
        }
        self.close_calls(f64::INFINITY, serving);
        self.camped = serving;
        self.last_contact = conn_end;
        conn_end
    }

    /// Emits the record of `act` starting at `t` on `cell`; returns until
    /// when it keeps the device connected. Calls and data sessions stay
    /// open for their end cell.
    fn record(&mut self, act: &Act, t: f64, limit: f64, cell: CellIdx, pos: Coord) -> f64 {
        let kind = match (act.kind, act.mo) {
            (ActKind::Voice, true) => EventType::VoiceMo,
            (ActKind::Voice, false) => EventType::VoiceMt,
            (ActKind::Sms, true) => EventType::SmsMo,
            (ActKind::Sms, false) => EventType::SmsMt,
            (ActKind::Data, _) => EventType::DataSession,
        };
        let at = self.out.len();
        self.emit(kind, t, cell, pos);
        let end = t + act.duration_s;
        let followed = end.min(limit);
        let recorded = if act.pinned { end } else { followed };
        let e = &mut self.out[at];
        match act.kind {
            ActKind::Sms => {
                e.counterpart = Some(act.counterpart);
                return t;
            }
            ActKind::Data => {
                e.bytes_up = Some(act.bytes_up);
                e.bytes_down = Some(act.bytes_down);
            }
            ActKind::Voice => e.counterpart = Some(act.counterpart),
        }
        e.duration_ms = Some(((recorded - t) * 1000.0).round() as u32);
        self.open.push((at, followed));
        followed
    }

    /// Gives the calls and sessions that ended by `t` their end cell.
    fn close_calls(&mut self, t: f64, serving: CellIdx) {
        let id = self.network.cell(serving).id;
        let out = &mut *self.out;
        self.open.retain(|&(at, end)| {
            if end < t {
                out[at].end_cell = Some(id);
                false
            } else {
                true
            }
        });
    }

    /// A3 evaluation at one sample; returns the serving cell afterwards.
    fn handover(&mut self, t: f64, pos: Coord, sv: &Servers, serving: CellIdx) -> CellIdx {
        let Some(cand) = sv.best_other(serving) else {
            return serving;
        };
        let current = sv.level_of(serving).unwrap_or(sv.floor_dbm());
        if cand.dbm <= current + self.a3 {
            self.pending = None;
            return serving;
        }
        match self.pending {
            Some((c, since)) if c == cand.cell && t - since >= self.ttt_s => {
                self.pending = None;
                let at = self.out.len();
                self.emit(EventType::Handover, t, cand.cell, pos);
                self.out[at].source_cell = Some(self.network.cell(serving).id);
                if self.enters_new_area(cand.cell) {
                    self.emit(EventType::TauAreaChange, t, cand.cell, pos);
                }
                cand.cell
            }
            Some((c, _)) if c == cand.cell => serving,
            _ => {
                self.pending = Some((cand.cell, t));
                serving
            }
        }
    }

    /// Whether camping on `cell` needs a TAU; if so, registers its area.
    fn enters_new_area(&mut self, cell: CellIdx) -> bool {
        let tac = self.network.cell(cell).tac;
        if self.registered.contains(&tac) {
            return false;
        }
        self.registered = [tac, self.registered[0]];
        true
    }

    fn emit(&mut self, kind: EventType, t: f64, cell: CellIdx, pos: Coord) {
        let c = self.network.cell(cell);
        let d = ((pos.x - c.pos.x).powi(2) + (pos.y - c.pos.y).powi(2)).sqrt();
        let timing_advance = c.technology.timing_advance_step_m().map(|step| {
            let max = if c.technology == Technology::Gsm {
                63.0
            } else {
                1282.0
            };
            (d / step).round().min(max) as u16
        });
        let level = if self.last_level.0 == cell && self.last_level.1 == pos {
            self.last_level.2
        } else {
            let l = self.network.received_dbm(cell, pos) as f32;
            self.last_level = (cell, pos, l);
            l
        };
        self.out.push(Event {
            id: ((self.sub.id.0 as u64) << 32) | self.seq as u64,
            time_ms: (t * 1000.0).round() as i64,
            subscriber: self.sub.id,
            imsi: self.sub.imsi,
            kind,
            cell: c.id,
            tac: c.tac,
            technology: c.technology,
            duration_ms: None,
            end_cell: None,
            source_cell: None,
            bytes_up: None,
            bytes_down: None,
            counterpart: None,
            timing_advance,
            rsrp_dbm: Some(level),
            true_pos: pos,
        });
        self.seq = self.seq.wrapping_add(1);
    }
}
