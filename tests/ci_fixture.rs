//! The bundled `ci-fixture` scenario is pinned: the SHA-256 checksums of its
//! files are kept in `tests/data/ci-fixture.sha256` (the format of
//! `sha256sum`, so `sha256sum -c` checks a run's output directory against
//! it), and README.md publishes the same pairs as a table. One test fails when
//! the output drifts from the data file, the other when the README's table
//! drifts from it. A deliberate change of output updates both (the failures
//! print the new contents of each).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

const CHECKSUMS: &str = "tests/data/ci-fixture.sha256";
const START: &str = "<!-- ci-fixture-checksums:start -->";
const END: &str = "<!-- ci-fixture-checksums:end -->";

/// Path → checksum, as `sha256sum` writes them: `HASH  path` (or
/// `HASH *path` in binary mode), one file a line.
fn data_file() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(CHECKSUMS).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let (sum, path) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("{CHECKSUMS}: line {}: expected `HASH  path`", n + 1));
            let path = path.strip_prefix([' ', '*']).unwrap_or(path);
            assert!(
                sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()),
                "{CHECKSUMS}: line {}: expected 64 hex digits, found {sum:?}",
                n + 1
            );
            (path.to_string(), sum.to_string())
        })
        .collect()
}

/// Path → checksum from the table between README.md's markers.
fn readme_table() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find(START).expect("README.md has the start marker") + START.len();
    let end = start
        + readme[start..]
            .find(END)
            .expect("README.md has the end marker after the start marker");
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

fn as_data_file(sums: &BTreeMap<String, String>) -> String {
    sums.iter().map(|(f, s)| format!("{s}  {f}\n")).collect()
}

fn as_readme_table(sums: &BTreeMap<String, String>) -> String {
    let rows: String = sums
        .iter()
        .map(|(f, s)| format!("| `{f}` | {s} |\n"))
        .collect();
    format!("{START}\n| file | sha256 |\n|---|---|\n{rows}{END}\n")
}

#[test]
fn the_ci_fixture_matches_its_pinned_checksums() {
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
    let listed: BTreeMap<String, String> = manifest["files"]
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
    // The manifest's checksums are computed while the files are written; hash
    // the files as they lie on disk too, as `sha256sum -c` would.
    let on_disk: BTreeMap<String, String> = listed
        .keys()
        .map(|f| {
            let bytes = std::fs::read(Path::new(&dir).join(f)).unwrap();
            let sum: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (f.clone(), sum)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        listed, on_disk,
        "the manifest's checksums differ from the files' own"
    );
    assert_eq!(
        data_file(),
        on_disk,
        "the ci-fixture output changed; if that is intended, put this in {CHECKSUMS}:\n{}\n\
         and this table in README.md:\n{}",
        as_data_file(&on_disk),
        as_readme_table(&on_disk)
    );
}

#[test]
fn the_readme_publishes_the_pinned_checksums() {
    let pinned = data_file();
    assert!(!pinned.is_empty(), "{CHECKSUMS} lists no file");
    assert_eq!(
        readme_table(),
        pinned,
        "README.md's checksum table differs from {CHECKSUMS}, which holds:\n{}\n\
         put this table in README.md:\n{}",
        as_data_file(&pinned),
        as_readme_table(&pinned)
    );
}

#[test]
fn the_checksum_file_is_sorted_by_path_in_the_sha256sum_format() {
    let text = std::fs::read_to_string(CHECKSUMS).unwrap();
    assert_eq!(
        text,
        as_data_file(&data_file()),
        "{CHECKSUMS} must be `HASH  path` lines (two spaces between), sorted by path"
    );
}
