//! Any text given as a scenario file is either accepted or refused with an
//! error; it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobsynth::scenario::Scenario;

fuzz_target!(|data: &[u8]| {
    // Scenario files are read as UTF-8 before parsing, so other bytes never
    // reach the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Scenario::parse(text, "fuzz", None) {
        // What was accepted must also survive being written out and read back.
        let again = s.to_toml();
        if let Err(e) = Scenario::parse(&again, "fuzz", None) {
            panic!("an accepted scenario does not parse back: {e}\n{again}");
        }
    }
});
