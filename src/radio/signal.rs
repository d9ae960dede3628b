//! The signal model: log-distance path loss, a 3GPP-style sector antenna
//! pattern and spatially correlated log-normal shadowing.
//!
//! Received level (dBm) = transmit power + reference-signal offset + antenna
//! gain + antenna pattern − path loss + shadowing. All functions are pure, so
//! the same point always sees the same cells.

use geo::Coord;

use crate::rng::{Purpose, key_hash};

use super::{Cell, Technology};

/// Height of a handset above ground, metres (3GPP TR 36.942 uses 1.5 m).
pub const UE_HEIGHT_M: f64 = 1.5;

/// Distances below this are clamped: the far-field model means nothing
/// closer to the mast than a few metres.
const MIN_DISTANCE_M: f64 = 10.0;

/// Carrier frequency assumed for each technology, MHz: the most common
/// European bands (GSM 900, UMTS 2100, LTE 1800, NR 3500).
pub fn frequency_mhz(t: Technology) -> f64 {
    match t {
        Technology::Gsm => 900.0,
        Technology::Umts => 2100.0,
        Technology::Lte => 1800.0,
        Technology::Nr => 3500.0,
    }
}

/// What the level a device reports lies below the total transmit power, dB:
/// LTE and NR report RSRP, the power of one resource element out of 600
/// (10 MHz); UMTS reports RSCP of the pilot, about 10% of the power; GSM
/// reports the whole BCCH carrier.
pub fn reference_offset_db(t: Technology) -> f64 {
    match t {
        Technology::Gsm => 0.0,
        Technology::Umts => -10.0,
        Technology::Lte | Technology::Nr => -27.8,
    }
}

/// Path loss in dB at `d_m` metres: free space up to 1 m, then
/// `10·n·log10(d)` with the environment's exponent `n` (Rappaport,
/// *Wireless Communications*, ch. 4).
pub fn path_loss_db(d_m: f64, exponent: f64, f_mhz: f64) -> f64 {
    let d = d_m.max(MIN_DISTANCE_M);
    let fspl_1m = 20.0 * f_mhz.log10() - 27.55;
    fspl_1m + 10.0 * exponent * d.log10()
}

/// Horizontal pattern in dB (≤ 0): −min(12(φ/φ3dB)², Am), 3GPP TR 36.814
/// table A.2.1.1-2. `off_axis_deg` is the angle from boresight.
pub fn horizontal_pattern_db(off_axis_deg: f64, beamwidth_deg: f64, am_db: f64) -> f64 {
    -(12.0 * (off_axis_deg / beamwidth_deg).powi(2)).min(am_db)
}

/// Vertical pattern in dB (≤ 0): −min(12((θ−tilt)/θ3dB)², SLAv), with θ the
/// angle below the horizon.
pub fn vertical_pattern_db(
    elevation_deg: f64,
    tilt_deg: f64,
    beamwidth_deg: f64,
    sla_db: f64,
) -> f64 {
    -(12.0 * ((elevation_deg - tilt_deg) / beamwidth_deg).powi(2)).min(sla_db)
}

/// The smallest angle between two bearings, degrees in [0, 180].
pub fn angle_between_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 { 360.0 - d } else { d }
}

/// Compass bearing from `from` to `to` (0 = north, clockwise), degrees.
pub fn bearing_deg(from: Coord, to: Coord) -> f64 {
    (to.x - from.x)
        .atan2(to.y - from.y)
        .to_degrees()
        .rem_euclid(360.0)
}

/// Spatially correlated shadowing of one site at a point, dB.
///
/// Independent standard normals sit on a square lattice of spacing
/// `corr_m`, keyed by (seed, site, lattice point); the field is their
/// bilinear interpolation, rescaled so that its variance is σ² everywhere.
/// Its autocorrelation falls to zero at one lattice step, which mimics the
/// exponential decorrelation measured by Gudmundson (1991). Sectors of one
/// site share the field, since they share the propagation environment.
pub fn shadowing_db(seed: u64, site: u32, p: Coord, sigma_db: f64, corr_m: f64) -> f64 {
    if sigma_db <= 0.0 {
        return 0.0;
    }
    sigma_db * unit_field(seed, site, p, corr_m)
}

/// Shadowing of one site with a part shared by all sites: an obstacle near
/// the handset dims every site alike, so the fields of two sites correlate
/// with coefficient `site_correlation` (0.5 in 3GPP TR 36.942).
pub fn correlated_shadowing_db(
    seed: u64,
    site: u32,
    p: Coord,
    sigma_db: f64,
    corr_m: f64,
    site_correlation: f64,
) -> f64 {
    if sigma_db <= 0.0 {
        return 0.0;
    }
    let rho = site_correlation.clamp(0.0, 1.0);
    let own = unit_field(seed, site, p, corr_m);
    let shared = if rho > 0.0 {
        unit_field(seed, u32::MAX, p, corr_m)
    } else {
        0.0
    };
    sigma_db * (rho.sqrt() * shared + (1.0 - rho).sqrt() * own)
}

/// A smooth standard-normal field of one key.
fn unit_field(seed: u64, site: u32, p: Coord, corr_m: f64) -> f64 {
    let gx = p.x / corr_m;
    let gy = p.y / corr_m;
    let (ix, iy) = (gx.floor(), gy.floor());
    let (fx, fy) = (gx - ix, gy - iy);
    let (ix, iy) = (ix as i64, iy as i64);
    let w = [
        (1.0 - fx) * (1.0 - fy),
        fx * (1.0 - fy),
        (1.0 - fx) * fy,
        fx * fy,
    ];
    let g = [
        lattice_normal(seed, site, ix, iy),
        lattice_normal(seed, site, ix + 1, iy),
        lattice_normal(seed, site, ix, iy + 1),
        lattice_normal(seed, site, ix + 1, iy + 1),
    ];
    let sum: f64 = w.iter().zip(g).map(|(w, g)| w * g).sum();
    let norm = w.iter().map(|w| w * w).sum::<f64>().sqrt();
    sum / norm
}

/// A standard normal that depends only on its key (Box–Muller on the two
/// halves of one 64-bit hash).
fn lattice_normal(seed: u64, site: u32, ix: i64, iy: i64) -> f64 {
    let key = (ix as u64 & 0xFFFF_FFFF) | ((iy as u64) << 32);
    let h = key_hash(seed, Purpose::Shadowing, site as u64, key);
    let u1 = ((h >> 32) as f64 + 1.0) / 4_294_967_296.0;
    let u2 = (h & 0xFFFF_FFFF) as f64 / 4_294_967_296.0;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Constants of the antenna model shared by all cells.
#[derive(Clone, Copy, Debug)]
pub struct AntennaModel {
    /// Am: front-to-back attenuation cap, dB.
    pub front_to_back_db: f64,
    /// SLAv: vertical side-lobe cap, dB.
    pub side_lobe_db: f64,
    pub shadowing_sigma_db: f64,
    pub shadowing_correlation_m: f64,
    pub shadowing_site_correlation: f64,
    pub seed: u64,
}

/// The level (dBm) a handset at `p` receives from `cell`.
pub fn received_dbm(cell: &Cell, model: &AntennaModel, p: Coord) -> f64 {
    // Plain sqrt: hypot's overflow care costs more than the whole pattern
    // and cannot matter at these magnitudes.
    let d = ((p.x - cell.pos.x).powi(2) + (p.y - cell.pos.y).powi(2))
        .sqrt()
        .max(MIN_DISTANCE_M);
    let pattern = match cell.azimuth_deg {
        None => 0.0,
        Some(az) => {
            let off = angle_between_deg(bearing_deg(cell.pos, p), az);
            let h = horizontal_pattern_db(off, cell.h_beamwidth_deg, model.front_to_back_db);
            let elev = ((cell.height_m - UE_HEIGHT_M) / d).atan().to_degrees();
            let v = vertical_pattern_db(
                elev,
                cell.tilt_deg,
                cell.v_beamwidth_deg,
                model.side_lobe_db,
            );
            (h + v).max(-model.front_to_back_db)
        }
    };
    cell.power_dbm + reference_offset_db(cell.technology) + cell.gain_dbi + pattern
        - path_loss_db(d, cell.path_loss_exponent, frequency_mhz(cell.technology))
        + correlated_shadowing_db(
            model.seed,
            cell.site,
            p,
            model.shadowing_sigma_db,
            model.shadowing_correlation_m,
            model.shadowing_site_correlation,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_matches_the_3gpp_formula() {
        assert_eq!(horizontal_pattern_db(0.0, 65.0, 25.0), 0.0);
        // At half the 3 dB beamwidth the loss is 3 dB by construction.
        assert!((horizontal_pattern_db(32.5, 65.0, 25.0) + 3.0).abs() < 1e-9);
        assert_eq!(horizontal_pattern_db(180.0, 65.0, 25.0), -25.0);
    }

    #[test]
    fn angles_wrap_around_north() {
        assert!((angle_between_deg(350.0, 10.0) - 20.0).abs() < 1e-9);
        let east = bearing_deg(Coord { x: 0.0, y: 0.0 }, Coord { x: 5.0, y: 0.0 });
        assert!((east - 90.0).abs() < 1e-9);
    }

    #[test]
    fn path_loss_grows_by_ten_n_per_decade() {
        let a = path_loss_db(100.0, 3.5, 1800.0);
        let b = path_loss_db(1000.0, 3.5, 1800.0);
        assert!((b - a - 35.0).abs() < 1e-9);
    }

    #[test]
    fn shadowing_is_deterministic_continuous_and_has_the_asked_spread() {
        let p = Coord { x: 123.0, y: 456.0 };
        assert_eq!(
            shadowing_db(1, 2, p, 8.0, 100.0),
            shadowing_db(1, 2, p, 8.0, 100.0)
        );
        let q = Coord { x: 124.0, y: 456.0 };
        assert!(
            (shadowing_db(1, 2, p, 8.0, 100.0) - shadowing_db(1, 2, q, 8.0, 100.0)).abs() < 1.0
        );
        let n = 20_000;
        let var = (0..n)
            .map(|i| {
                let p = Coord {
                    x: (i % 200) as f64 * 370.0,
                    y: (i / 200) as f64 * 410.0,
                };
                shadowing_db(9, 1, p, 8.0, 100.0).powi(2)
            })
            .sum::<f64>()
            / n as f64;
        assert!((var.sqrt() - 8.0).abs() < 0.4, "sd {}", var.sqrt());
    }
}
