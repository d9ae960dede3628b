//! mobsynth: synthetic mobile-network data.
//!
//! The pipeline, one module per stage, with types flowing one way:
//! [`scenario`] → [`map`] → [`routing`] → [`population`] → [`days`] →
//! [`radio`] → [`events`] → [`sink`]; [`validate`] measures what was written.
//! [`products`] counts the truth in the zones of a [`zones`] zoning, [`baseline`]
//! computes the same products from the events, and [`score`] compares a
//! pipeline's products with the truth.

pub mod baseline;
pub mod days;
pub mod events;
pub mod inspect;
pub mod map;
pub mod population;
pub mod products;
pub mod radio;
pub mod reader;
pub mod rng;
pub mod routing;
pub mod run;
pub mod scenario;
pub mod score;
pub mod sink;
pub mod validate;
pub mod zones;
