//! The bundled `ci-fixture` scenario is pinned: its files' SHA-256 checksums
//! are published in README.md, and this test fails when the output drifts.
//! A deliberate change of output updates that table (the failure prints the
//! new one).

use std::collections::BTreeMap;
use std::process::Command;

const START: &str = "<!-- ci-fixture-checksums:start -->";
const END: &str = "<!-- ci-fixture-checksums:end -->";

fn published() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find(START).expect("README has the checksum table") + START.len();
    let end = readme.find(END).unwrap();
    readme[start..end]
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            match cells.as_slice() {
                [file, sum] if sum.len() == 64 => {
                    Some((file.trim_matches('`').to_string(), sum.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn the_ci_fixture_matches_its_published_checksums() {
    let dir = std::env::temp_dir().join(format!("mobsynth-ci-fixture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_mobsynth"))
        .args(["run", "ci-fixture", "--quiet", "-o", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let actual: BTreeMap<String, String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let table: String = actual
        .iter()
        .map(|(f, s)| format!("| `{f}` | {s} |\n"))
        .collect();
    assert_eq!(
        published(),
        actual,
        "the ci-fixture output changed; if that is intended, put this table in README.md:\n{table}"
    );
}
