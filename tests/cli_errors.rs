//! Bad input through the binary: one line naming the file and the problem,
//! a non-zero exit, no panic.

use std::path::{Path, PathBuf};
use std::process::Command;

const MAP: &str = "scenarios/maps/liechtenstein.osm.pbf";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mobsynth-cli-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the binary and returns (exit code, stderr), checking the error
/// contract on the way.
fn fails(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, 0, "{args:?} succeeded");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(stderr.starts_with("mobsynth: error: "), "{stderr}");
    (code, stderr)
}

fn inspect_fails(path: &Path, expect: &str) {
    let (code, err) = fails(&["inspect-map", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(path.to_str().unwrap()),
        "file not named: {err}"
    );
    assert!(err.contains(expect), "expected {expect:?} in {err}");
}

/// The byte offsets where the PBF's blobs end, read from their headers.
fn blob_ends(data: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let header_len = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        let header = &data[pos + 4..pos + 4 + header_len];
        // BlobHeader field 3 (datasize) is the only varint field.
        let mut i = 0;
        let mut size = 0usize;
        while i < header.len() {
            let key = header[i];
            i += 1;
            if key & 7 == 2 {
                let len = header[i] as usize;
                i += 1 + len;
            } else {
                let (mut v, mut shift) = (0usize, 0);
                loop {
                    let b = header[i];
                    i += 1;
                    v |= ((b & 0x7f) as usize) << shift;
                    shift += 7;
                    if b < 0x80 {
                        break;
                    }
                }
                if key >> 3 == 3 {
                    size = v;
                }
            }
        }
        pos += 4 + header_len + size;
        ends.push(pos);
    }
    ends
}

#[test]
fn a_missing_map_is_named() {
    inspect_fails(Path::new("no/such/map.osm.pbf"), "cannot read map file");
}

#[test]
fn a_text_file_is_not_a_pbf() {
    let p = scratch("notes.osm.pbf");
    std::fs::write(&p, "these are not the roads you are looking for\n").unwrap();
    inspect_fails(&p, "not a valid OpenStreetMap PBF file");
}

#[test]
fn an_xml_osm_file_is_recognised() {
    let p = scratch("map.osm");
    std::fs::write(&p, "<?xml version=\"1.0\"?>\n<osm version=\"0.6\"><node id=\"1\" lat=\"0\" lon=\"0\"/></osm>\n").unwrap();
    inspect_fails(&p, "XML .osm file");
}

#[test]
fn an_empty_file_is_not_a_map() {
    let p = scratch("empty.osm.pbf");
    std::fs::write(&p, b"").unwrap();
    inspect_fails(&p, "no OSM nodes or ways");
}

#[test]
fn a_truncated_pbf_is_reported_as_truncated() {
    let data = std::fs::read(MAP).unwrap();
    let ends = blob_ends(&data);
    let p = scratch("truncated.osm.pbf");
    // Cut in the middle of the third blob.
    std::fs::write(&p, &data[..(ends[1] + ends[2]) / 2]).unwrap();
    inspect_fails(&p, "truncated");
}

#[test]
fn a_pbf_without_roads_is_refused() {
    let data = std::fs::read(MAP).unwrap();
    let ends = blob_ends(&data);
    assert_eq!(
        *ends.last().unwrap(),
        data.len(),
        "blob walk must cover the file"
    );
    // Header and the first data blob hold only nodes.
    let p = scratch("nodes-only.osm.pbf");
    std::fs::write(&p, &data[..ends[1]]).unwrap();
    inspect_fails(&p, "no usable roads");
}

#[test]
fn a_scenario_with_an_unknown_key_names_it_and_its_line() {
    let p = scratch("bad-key.toml");
    let text = std::fs::read_to_string("scenarios/default.toml").unwrap() + "subscriber = 5\n";
    std::fs::write(&p, &text).unwrap();
    let (code, err) = fails(&["run", p.to_str().unwrap()]);
    assert_eq!(code, 2);
    let line = text.lines().count();
    assert!(
        err.contains(&format!("line {line}")) && err.contains("subscriber"),
        "{err}"
    );
    assert!(err.contains("bad-key.toml"), "{err}");
}

#[test]
fn a_scenario_with_a_wrong_type_names_the_key() {
    let p = scratch("bad-type.toml");
    let text = std::fs::read_to_string("scenarios/default.toml")
        .unwrap()
        .replace("seed = 42", "seed = \"forty-two\"");
    std::fs::write(&p, &text).unwrap();
    let (_, err) = fails(&["run", p.to_str().unwrap()]);
    let line = text.lines().position(|l| l.starts_with("seed")).unwrap() + 1;
    assert!(err.contains(&format!("line {line}")), "{err}");
}

#[test]
fn inspect_map_summarises_the_bundled_map() {
    let out = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(["inspect-map", MAP])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["graph", "car", "walk", "bike", "home", "bbox", "load time"] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
}

#[test]
fn an_absurd_request_states_its_estimate_and_does_not_start() {
    let dir = scratch("absurd-out");
    let (code, err) = fails(&[
        "run",
        "--subscribers",
        "100000000",
        "--days",
        "30",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("would write about") && err.contains("TB") && err.contains("--yes"),
        "{err}"
    );
    assert!(
        !dir.exists(),
        "nothing may be written before the user agrees"
    );
}

#[test]
fn a_population_beyond_the_machine_s_memory_states_its_estimate() {
    let dir = scratch("absurd-memory");
    let (code, err) = fails(&[
        "run",
        "--subscribers",
        "4000000000",
        "--days",
        "1",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("of memory") && err.contains("--yes"), "{err}");
    assert!(!dir.exists());
}
