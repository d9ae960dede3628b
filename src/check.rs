//! Checks of parameter values, shared by every stage's parameter types and
//! the scenario. A failed check is the key and what was expected, for an
//! error naming both.

pub type Check = Result<(), (String, String)>;

/// A finite value in `[lo, hi]`; `what` says what was expected.
pub fn in_range(key: &str, v: f64, lo: f64, hi: f64, what: &str) -> Check {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err((key.into(), format!("must be {what}, got {v}")))
    }
}

pub fn probability(key: &str, v: f64) -> Check {
    in_range(key, v, 0.0, 1.0, "a probability between 0 and 1")
}

pub fn share(key: &str, v: f64) -> Check {
    in_range(key, v, 0.0, 1.0, "a share between 0 and 1")
}

pub fn positive(key: &str, v: f64) -> Check {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err((key.into(), format!("must be a positive number, got {v}")))
    }
}
