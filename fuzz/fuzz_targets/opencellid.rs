//! Any bytes given as an OpenCelliD export are either imported or refused
//! with an error naming the file; the importer never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobsynth::radio::{RadioParams, import};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::write_input("opencellid", data);
    let params = RadioParams::default();
    if let Ok(cells) = import::read_opencellid(&path, &params, common::map()) {
        common::check_cells(&cells);
    }
});
