//! mobsynth: synthetic mobile-network data.
//!
//! The pipeline, one module per stage, with types flowing one way:
//! [`map`] → [`routing`] → [`population`] → [`days`] → [`radio`] →
//! [`events`]. Each stage takes its own parameters and the run's
//! [`spec::RunSpec`] (seed, subscribers, [`calendar::Calendar`]); the
//! [`scenario`] aggregates every stage's parameters. [`generate`] turns the
//! stages' records into Arrow record batches per [`Table`]; [`run`] writes
//! them through [`sink`] as files or a stream. Datasets are read back
//! through [`reader`], which [`validate`] measures against the published
//! laws of human mobility and [`export`] converts into the layouts of other
//! tools. [`products`] counts the truth in the zones of a [`zones`]
//! zoning, [`baseline`] computes the same products from the events alone,
//! and [`score`] compares a pipeline's products with the truth.
//!
//! # Embedding
//!
//! Generate the default scenario's first 1,000 subscribers for one day in
//! memory and count their events by type:
//!
//! ```
//! use std::collections::BTreeMap;
//! use arrow::{array::AsArray, compute::cast, datatypes::DataType};
//! use mobsynth::{Model, Options, Scenario, Table};
//!
//! let mut scenario = Scenario::bundled("default")?;
//! (scenario.subscribers, scenario.days) = (1_000, 1);
//! let model = Model::build(scenario)?;
//! let generator = model.generator(Options::default())?;
//! let mut counts: BTreeMap<String, usize> = BTreeMap::new();
//! for chunk in generator.chunks() {
//!     for (_day, batch) in chunk.table(Table::Events) {
//!         let types = cast(batch.column_by_name("event_type").unwrap(), &DataType::Utf8)?;
//!         for t in types.as_string::<i32>().iter().flatten() {
//!             *counts.entry(t.to_string()).or_default() += 1;
//!         }
//!     }
//! }
//! assert!(counts["TAU_PERIODIC"] > 0 && counts["VOICE_MO"] > 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "validate")]
pub mod baseline;
pub mod calendar;
pub mod check;
pub mod days;
pub mod events;
pub mod export;
pub mod generate;
pub mod happenings;
pub mod inspect;
pub mod log_quality;
pub mod map;
pub mod population;
#[cfg(feature = "validate")]
pub mod privacy;
pub mod products;
pub mod radio;
pub mod reader;
pub mod rng;
pub mod routing;
pub mod run;
pub mod scenario;
#[cfg(feature = "validate")]
pub mod score;
pub mod sink;
pub mod social;
pub mod spec;
#[cfg(feature = "validate")]
pub mod validate;

pub mod zones;

pub use generate::{Chunk, GenerateError, Generator, Model, Options, Table, Worker};
pub use scenario::Scenario;
