//! Zonings that nest: which zone of a coarse zoning holds a zone of a fine
//! one, and which fine zones a coarse zone holds, by their keys alone, as a
//! reader of two releases knows them.
//!
//! Two kinds of pairs nest, and only these are attacked by subtraction
//! across zonings:
//!
//! - `grid:A` and `grid:B` with `A = n·B` for a whole `n ≥ 2`: both grids
//!   start at the dataset's centre, so square `(i, j)` of `A` is exactly the
//!   `n × n` squares `(n·i + a, n·j + b)` of `B`.
//! - `h3:R` and `h3:S` with `R < S`: a cell's children at `S` are the cells
//!   whose parent it is. H3 children do not tile their parent exactly (a
//!   point near the edge can lie in a child of the neighbouring parent), so
//!   a value recovered across H3 resolutions is the missing child's count
//!   give or take the people in the slivers.
//!
//! `outside` (beyond the map's edge, or in no polygon) is its own parent and
//! only child. GeoJSON zonings, and grids against H3, are not nested here.

use std::str::FromStr;

use h3o::{CellIndex, Resolution};

use crate::zones::OUTSIDE;

/// How a fine zoning sits in a coarse one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nesting {
    /// Grid squares: `n × n` fine squares to a coarse one.
    Grid { n: i64 },
    /// H3 cells: children at `fine` of a cell at `coarse`.
    H3 {
        coarse: Resolution,
        fine: Resolution,
    },
}

fn grid_side(spec: &str) -> Option<f64> {
    spec.strip_prefix("grid:")?.parse().ok()
}

fn h3_res(spec: &str) -> Option<Resolution> {
    let r: u8 = spec.strip_prefix("h3:")?.parse().ok()?;
    Resolution::try_from(r).ok()
}

impl Nesting {
    /// How zoning `fine` nests in zoning `coarse` (their `--zones` specs),
    /// or `None` when it does not.
    pub fn of(coarse: &str, fine: &str) -> Option<Nesting> {
        if let (Some(a), Some(b)) = (grid_side(coarse), grid_side(fine)) {
            let n = (a / b).round();
            return (n >= 2.0 && (a - n * b).abs() < 1e-9 * a)
                .then_some(Nesting::Grid { n: n as i64 });
        }
        let (coarse, fine) = (h3_res(coarse)?, h3_res(fine)?);
        (coarse < fine).then_some(Nesting::H3 { coarse, fine })
    }

    /// The coarse zone holding a fine zone (by key), `None` for a key that
    /// is not a zone of the fine zoning.
    pub fn parent(&self, fine: &str) -> Option<String> {
        if fine == OUTSIDE {
            return Some(OUTSIDE.to_string());
        }
        match *self {
            Nesting::Grid { n } => {
                let (i, j) = fine.split_once('_')?;
                let (i, j): (i64, i64) = (i.parse().ok()?, j.parse().ok()?);
                Some(format!("{}_{}", i.div_euclid(n), j.div_euclid(n)))
            }
            Nesting::H3 { coarse, .. } => {
                let c = CellIndex::from_str(fine).ok()?;
                Some(c.parent(coarse)?.to_string())
            }
        }
    }

    /// Every fine zone a coarse zone holds (by key), in a fixed order.
    pub fn children(&self, coarse: &str) -> Vec<String> {
        if coarse == OUTSIDE {
            return vec![OUTSIDE.to_string()];
        }
        match *self {
            Nesting::Grid { n } => {
                let Some((i, j)) = coarse.split_once('_') else {
                    return Vec::new();
                };
                let (Ok(i), Ok(j)) = (i.parse::<i64>(), j.parse::<i64>()) else {
                    return Vec::new();
                };
                let mut out = Vec::with_capacity((n * n) as usize);
                for a in 0..n {
                    for b in 0..n {
                        out.push(format!("{}_{}", n * i + a, n * j + b));
                    }
                }
                out
            }
            Nesting::H3 { fine, .. } => match CellIndex::from_str(coarse) {
                Ok(c) => c.children(fine).map(|c| c.to_string()).collect(),
                Err(_) => Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_nest_by_whole_ratios_and_h3_by_resolution() {
        let g = Nesting::of("grid:1000", "grid:500").unwrap();
        assert_eq!(g, Nesting::Grid { n: 2 });
        assert_eq!(g.parent("-3_5").as_deref(), Some("-2_2"));
        assert_eq!(g.children("-2_2"), ["-4_4", "-4_5", "-3_4", "-3_5"]);
        assert!(Nesting::of("grid:1000", "grid:300").is_none());
        assert!(Nesting::of("grid:500", "grid:1000").is_none());
        assert!(Nesting::of("grid:1000", "h3:8").is_none());
        let h = Nesting::of("h3:7", "h3:8").unwrap();
        let kids = h.children("871f8d4b2ffffff");
        assert_eq!(kids.len(), 7);
        for k in &kids {
            assert_eq!(h.parent(k).as_deref(), Some("871f8d4b2ffffff"));
        }
        assert_eq!(h.children(OUTSIDE), [OUTSIDE]);
        assert_eq!(h.parent(OUTSIDE).as_deref(), Some(OUTSIDE));
    }
}
