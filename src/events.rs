//! Tower-level events: what the network records of each device.

use serde::{Deserialize, Serialize};

/// Parameters of this stage, from the scenario's section of the same name.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneParams {}

impl PhoneParams {
    /// Checks values; the error is (key, what was expected).
    pub fn validate(&self) -> Result<(), (String, String)> {
        Ok(())
    }
}
