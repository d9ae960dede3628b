//! The world beyond the map's edge: the jump-length law that decides whether
//! a destination lies inside the extract or outside it, the extract's outline
//! that tells which, and the real position of a place outside, reached
//! through a border gate.
//!
//! A destination is drawn as a jump from its origin: a length from the
//! truncated power law of González, Hidalgo & Barabási (2008),
//! P(Δr) ∝ (Δr + Δr₀)^−β e^(−Δr/κ), and a direction uniform on the circle.
//! When the jump ends beyond the map's outline in that direction, the
//! destination is outside; so the share of a person's destinations outside
//! follows from the law and from where they are relative to the edge, not
//! from a fixed share. An outside destination leaves through the gate whose
//! bearing is closest to the drawn direction and lies on the straight line
//! from the origin through that gate, at the drawn distance (at least just
//! beyond the outline).

use geo::Coord;
use rand::Rng;

use super::draw::unit;
use super::spatial::Gate;
use crate::map::{RoadGraph, distance};

/// Published exponent β of the jump-length law (González et al. 2008).
pub const JUMP_BETA: f64 = 1.75;
/// Published offset Δr₀ of the jump-length law, metres.
pub const JUMP_OFFSET_M: f64 = 1_500.0;
/// Published exponent of the distribution of people's radii of gyration,
/// P(rg) ∝ (rg + rg₀)^−β e^(−rg/κ) (González et al. 2008).
pub const RANGE_BETA: f64 = 1.65;
/// Published offset rg₀ of that distribution, metres.
pub const RANGE_OFFSET_M: f64 = 5_800.0;
/// Exponent of one person's jump law, P(Δr | rg) (González et al. 2008
/// found the individual laws flatter than the population's, α ≈ 1.2, with
/// a cutoff set by the person's own radius of gyration; mixed over the
/// radii's distribution they give the population's β ≈ 1.75).
pub const PERSONAL_BETA: f64 = 1.2;
/// A place outside lies at least this far beyond the outline, so that it is
/// never on the edge (nor on a gate).
pub const BEYOND_EDGE_M: f64 = 200.0;

/// The truncated power law P(Δr) ∝ (Δr + Δr₀)^−β e^(−Δr/κ) of jump lengths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JumpLaw {
    pub beta: f64,
    pub offset_m: f64,
    /// Exponential cutoff κ, metres.
    pub cutoff_m: f64,
}

impl JumpLaw {
    /// The published β and Δr₀ with a cutoff of `cutoff_km`.
    pub fn published(cutoff_km: f64) -> Self {
        JumpLaw {
            beta: JUMP_BETA,
            offset_m: JUMP_OFFSET_M,
            cutoff_m: cutoff_km * 1000.0,
        }
    }

    /// The same law with another cutoff κ, metres.
    pub fn with_cutoff(self, cutoff_m: f64) -> Self {
        JumpLaw { cutoff_m, ..self }
    }

    /// The law's density per unit area at distance `d_m` from the origin,
    /// up to a constant: P(Δr) / (2π Δr). Weighting places by it around an
    /// origin makes the distances of the places chosen follow the law where
    /// places are evenly spread, so that destinations inside the map obey
    /// the same law as those beyond its edge. `d_m` is taken as at least
    /// `near_m` (half a sampling cell), which keeps it finite next door.
    pub fn density_per_area(&self, d_m: f64, near_m: f64) -> f64 {
        let d = d_m.max(near_m).max(1.0);
        (d + self.offset_m).powf(-self.beta) * (-d / self.cutoff_m).exp() / d
    }

    /// A jump length, metres.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.draw_beyond(rng, 0.0)
    }

    /// A jump length of at least `min_m`, metres: the law conditioned on
    /// Δr ≥ min_m. The power-law part is drawn by inversion on
    /// [min_m, min_m + 40 κ] (beyond which the cutoff leaves less than
    /// e^−40), the cutoff by rejection (accepted with e^(−(Δr − min)/κ));
    /// after many rejections, which only a cutoff far below `min_m` causes,
    /// the last draw is kept.
    pub fn draw_beyond<R: Rng + ?Sized>(&self, rng: &mut R, min_m: f64) -> f64 {
        let min_m = min_m.max(0.0);
        let a = 1.0 - self.beta;
        let low = (min_m + self.offset_m).powf(a);
        let high = (min_m + 40.0 * self.cutoff_m + self.offset_m).powf(a);
        let mut r = min_m;
        for _ in 0..64 {
            let u = unit(rng);
            r = (low + u * (high - low)).powf(1.0 / a) - self.offset_m;
            if !r.is_finite() {
                continue;
            }
            if unit(rng) < (-(r - min_m) / self.cutoff_m).exp() {
                return r;
            }
        }
        if r.is_finite() { r.max(min_m) } else { min_m }
    }
}

/// A person's own jump law: the law of their discretionary places. After
/// González et al. (2008), each person's jumps follow a law flatter than
/// the population's ([`PERSONAL_BETA`]) up to a cutoff set by their own
/// range, and the population's law is the mixture of these over the
/// heavy-tailed distribution of ranges. The range is drawn from the
/// published distribution of radii of gyration, P(rg) ∝ (rg + 5.8 km)^−1.65
/// e^(−rg/κ) with κ the national cutoff `national_cutoff_m`, times `scale`.
pub fn personal_law<R: Rng + ?Sized>(rng: &mut R, national_cutoff_m: f64, scale: f64) -> JumpLaw {
    let ranges = JumpLaw {
        beta: RANGE_BETA,
        offset_m: RANGE_OFFSET_M,
        cutoff_m: national_cutoff_m,
    };
    JumpLaw {
        beta: PERSONAL_BETA,
        offset_m: JUMP_OFFSET_M,
        cutoff_m: (ranges.draw(rng) * scale).max(1.0),
    }
}

/// The outline of the map: the convex hull of its road nodes. Inside it
/// lies the simulated region; a point beyond it is outside the extract.
#[derive(Clone, Debug, Default)]
pub struct Extent {
    /// Hull vertices, counter-clockwise.
    hull: Vec<Coord>,
}

impl Extent {
    /// The outline of a road graph.
    pub fn of(graph: &RoadGraph) -> Self {
        Extent {
            hull: convex_hull(graph.nodes.clone()),
        }
    }

    /// Whether `p` lies inside the outline (or on it).
    pub fn contains(&self, p: Coord) -> bool {
        if self.hull.len() < 3 {
            return false;
        }
        self.hull
            .iter()
            .zip(self.hull.iter().cycle().skip(1))
            .all(|(a, b)| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= -1e-6)
    }

    /// How far one goes from `origin` in direction `dir` (a unit vector)
    /// before leaving the outline, metres; 0 from a point outside it.
    pub fn exit_distance(&self, origin: Coord, dir: Coord) -> f64 {
        let n = self.hull.len();
        let mut best: f64 = 0.0;
        for i in 0..n {
            let a = self.hull[i];
            let b = self.hull[(i + 1) % n];
            let e = Coord {
                x: b.x - a.x,
                y: b.y - a.y,
            };
            let denom = dir.x * e.y - dir.y * e.x;
            if denom.abs() < 1e-12 {
                continue;
            }
            let w = Coord {
                x: a.x - origin.x,
                y: a.y - origin.y,
            };
            let t = (w.x * e.y - w.y * e.x) / denom;
            let s = (w.x * dir.y - w.y * dir.x) / denom;
            if t >= 0.0 && (-1e-9..=1.0 + 1e-9).contains(&s) {
                best = best.max(t);
            }
        }
        best
    }

    /// The hull's vertices.
    pub fn outline(&self) -> &[Coord] {
        &self.hull
    }
}

/// Andrew's monotone chain; counter-clockwise, without collinear points.
fn convex_hull(mut pts: Vec<Coord>) -> Vec<Coord> {
    pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross =
        |o: Coord, a: Coord, b: Coord| (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
    let chain = |points: &mut dyn Iterator<Item = Coord>| {
        let mut c: Vec<Coord> = Vec::new();
        for p in points {
            while c.len() >= 2 && cross(c[c.len() - 2], c[c.len() - 1], p) <= 0.0 {
                c.pop();
            }
            c.push(p);
        }
        // The last point starts the other chain.
        c.pop();
        c
    };
    let mut hull = chain(&mut pts.iter().copied());
    hull.extend(chain(&mut pts.iter().rev().copied()));
    hull
}

/// The unit vector of bearing `theta` (radians, counter-clockwise from east).
pub fn direction(theta: f64) -> Coord {
    Coord {
        x: theta.cos(),
        y: theta.sin(),
    }
}

/// A place outside the map: its real position and the gate the trips there
/// pass through.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutsidePlace {
    pub pos: Coord,
    pub gate: crate::map::NodeId,
}

/// Where a jump of `length_m` from `origin` in direction `dir` ends, if
/// beyond the map: through the gate whose bearing from `origin` is closest to
/// `dir` (ties to the stronger gate), on the straight line from `origin`
/// through it, at `length_m` or just beyond the outline, whichever is
/// farther. `None` when the jump ends inside the outline, or the map has no
/// gates.
pub fn jump_beyond(
    extent: &Extent,
    gates: &[Gate],
    origin: Coord,
    dir: Coord,
    length_m: f64,
) -> Option<OutsidePlace> {
    if length_m <= extent.exit_distance(origin, dir) {
        return None;
    }
    place_beyond(extent, gates, origin, dir, length_m)
}

/// The outside place of a jump already known to leave the map (see
/// [`jump_beyond`]).
pub fn place_beyond(
    extent: &Extent,
    gates: &[Gate],
    origin: Coord,
    dir: Coord,
    length_m: f64,
) -> Option<OutsidePlace> {
    let mut best: Option<(&Gate, f64, Coord)> = None;
    for g in gates {
        let d = distance(origin, g.pos);
        let u = if d > 1.0 {
            Coord {
                x: (g.pos.x - origin.x) / d,
                y: (g.pos.y - origin.y) / d,
            }
        } else {
            dir
        };
        let cos = u.x * dir.x + u.y * dir.y;
        if best.is_none_or(|(b, c, _)| cos > c + 1e-9 || (cos > c - 1e-9 && g.weight > b.weight)) {
            best = Some((g, cos, u));
        }
    }
    let (gate, _, u) = best?;
    let exit = extent.exit_distance(origin, u);
    let r = length_m.max(exit + BEYOND_EDGE_M);
    Some(OutsidePlace {
        pos: Coord {
            x: origin.x + u.x * r,
            y: origin.y + u.y * r,
        },
        gate: gate.node,
    })
}

/// A uniform bearing, radians.
pub fn bearing<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    unit(rng) * std::f64::consts::TAU
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn square(side: f64) -> Extent {
        Extent {
            hull: convex_hull(vec![
                Coord { x: 0.0, y: 0.0 },
                Coord { x: side, y: 0.0 },
                Coord { x: side, y: side },
                Coord { x: 0.0, y: side },
                Coord {
                    x: side / 2.0,
                    y: side / 2.0,
                },
            ]),
        }
    }

    #[test]
    fn outline_and_exit_of_a_square() {
        let e = square(1000.0);
        assert_eq!(e.outline().len(), 4);
        let c = Coord { x: 500.0, y: 500.0 };
        assert!(e.contains(c));
        assert!(!e.contains(Coord { x: 1001.0, y: 5.0 }));
        assert!((e.exit_distance(c, direction(0.0)) - 500.0).abs() < 1e-6);
        let diag = e.exit_distance(c, direction(std::f64::consts::FRAC_PI_4));
        assert!((diag - 500.0 * 2f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn jump_lengths_follow_the_law() {
        // Without cutoff, P(Δr > x) = ((x + Δr₀)/Δr₀)^−(β−1): with β 1.75
        // and Δr₀ 1.5 km, the median is 1.5 (2^(4/3) − 1) ≈ 2.28 km.
        let law = JumpLaw {
            cutoff_m: 1e12,
            ..JumpLaw::published(100.0)
        };
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut v: Vec<f64> = (0..20_000).map(|_| law.draw(&mut rng)).collect();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        assert!((median - 2_280.0).abs() < 100.0, "{median}");
        // Conditioned draws never fall short.
        let far: Vec<f64> = (0..1000)
            .map(|_| JumpLaw::published(100.0).draw_beyond(&mut rng, 10_000.0))
            .collect();
        assert!(far.iter().all(|&r| r >= 10_000.0));
    }
}
