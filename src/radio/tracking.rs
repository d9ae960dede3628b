//! Tracking areas: neighbouring sites grouped under one tracking-area code.
//!
//! Sites are clustered with k-means on their positions, k = ⌈sites /
//! sites per area⌉, started from a farthest-point seeding so that the result
//! is deterministic and the areas compact. Every cell of a site gets the
//! site's code; codes are numbered from north-west to south-east.

use geo::Coord;

/// First tracking-area code handed out.
pub const FIRST_TAC: u32 = 1001;

/// The tracking-area code of each site.
pub fn cluster(sites: &[Coord], sites_per_area: u32) -> Vec<u32> {
    let n = sites.len();
    if n == 0 {
        return Vec::new();
    }
    let k = n.div_ceil(sites_per_area.max(1) as usize).max(1);
    let mut centres = farthest_point_seeds(sites, k);
    let mut assign = vec![0usize; n];
    for _ in 0..30 {
        let mut changed = false;
        for (i, p) in sites.iter().enumerate() {
            let best = nearest(&centres, *p);
            if best != assign[i] {
                assign[i] = best;
                changed = true;
            }
        }
        let mut sum = vec![(0.0, 0.0, 0usize); k];
        for (i, p) in sites.iter().enumerate() {
            let s = &mut sum[assign[i]];
            s.0 += p.x;
            s.1 += p.y;
            s.2 += 1;
        }
        for (c, s) in centres.iter_mut().zip(&sum) {
            if s.2 > 0 {
                *c = Coord {
                    x: s.0 / s.2 as f64,
                    y: s.1 / s.2 as f64,
                };
            }
        }
        if !changed {
            break;
        }
    }
    // Number the areas by position, north-west first, dropping empty ones.
    let mut order: Vec<usize> = (0..k).filter(|c| assign.contains(c)).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (centres[a], centres[b]);
        (-ca.y + ca.x).total_cmp(&(-cb.y + cb.x)).then(a.cmp(&b))
    });
    let mut code = vec![0u32; k];
    for (rank, &c) in order.iter().enumerate() {
        code[c] = FIRST_TAC + rank as u32;
    }
    assign.iter().map(|&c| code[c]).collect()
}

fn nearest(centres: &[Coord], p: Coord) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (i, c) in centres.iter().enumerate() {
        let d = (c.x - p.x).powi(2) + (c.y - p.y).powi(2);
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// k seeds: the site nearest the centroid, then repeatedly the site farthest
/// from all seeds so far.
fn farthest_point_seeds(sites: &[Coord], k: usize) -> Vec<Coord> {
    let n = sites.len() as f64;
    let mean = Coord {
        x: sites.iter().map(|p| p.x).sum::<f64>() / n,
        y: sites.iter().map(|p| p.y).sum::<f64>() / n,
    };
    let first = nearest(sites, mean);
    let mut seeds = vec![sites[first]];
    let mut dist: Vec<f64> = sites
        .iter()
        .map(|p| (p.x - sites[first].x).powi(2) + (p.y - sites[first].y).powi(2))
        .collect();
    while seeds.len() < k {
        let mut far = (0.0, 0usize);
        for (i, &d) in dist.iter().enumerate() {
            if d > far.0 {
                far = (d, i);
            }
        }
        if far.0 == 0.0 {
            break;
        }
        let s = sites[far.1];
        seeds.push(s);
        for (d, p) in dist.iter_mut().zip(sites) {
            *d = d.min((p.x - s.x).powi(2) + (p.y - s.y).powi(2));
        }
    }
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_separate_towns_get_two_codes() {
        let mut sites = Vec::new();
        for i in 0..10 {
            sites.push(Coord {
                x: i as f64 * 100.0,
                y: 0.0,
            });
            sites.push(Coord {
                x: 20_000.0 + i as f64 * 100.0,
                y: 0.0,
            });
        }
        let tac = cluster(&sites, 10);
        assert_eq!(tac[0], tac[2]);
        assert_ne!(tac[0], tac[1]);
        assert!(tac.iter().all(|&t| t == FIRST_TAC || t == FIRST_TAC + 1));
    }
}
