//! What the importer targets share: the bundled map, loaded once, and a
//! scratch file, since the importers read from a path.

use std::path::PathBuf;
use std::sync::OnceLock;

use mobsynth::map::Map;
use mobsynth::radio::{Cell, import};
use mobsynth::scenario::{BUNDLED_MAP, BUNDLED_MAP_NAME};

pub fn map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(|| {
        Map::load_bytes(std::path::Path::new(BUNDLED_MAP_NAME), BUNDLED_MAP)
            .expect("the bundled map loads")
    })
}

/// Writes the input where the importer can read it. One file per process,
/// so parallel fuzzing jobs do not read each other's inputs.
pub fn write_input(target: &str, data: &[u8]) -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("mobsynth-fuzz-{target}-{}.csv", std::process::id()))
    });
    std::fs::write(path, data).expect("the scratch file is writable");
    path.clone()
}

/// What an accepted file must give: finite positions and radio values that
/// the signal model can use, and area codes that the tables can hold.
pub fn check_cells(cells: &[Cell]) {
    assert!(!cells.is_empty(), "an accepted file yields cells");
    for c in cells {
        for (what, v) in [
            ("x", c.pos.x),
            ("y", c.pos.y),
            ("lon", c.lon),
            ("lat", c.lat),
            ("height_m", c.height_m),
            ("power_dbm", c.power_dbm),
            ("gain_dbi", c.gain_dbi),
            ("tilt_deg", c.tilt_deg),
            ("h_beamwidth_deg", c.h_beamwidth_deg),
            ("v_beamwidth_deg", c.v_beamwidth_deg),
            ("path_loss_exponent", c.path_loss_exponent),
        ] {
            assert!(v.is_finite(), "cell {:?}: {what} = {v}", c.id);
        }
        assert!(c.h_beamwidth_deg > 0.0 && c.v_beamwidth_deg > 0.0);
        // The `tac` columns are signed 32-bit integers.
        assert!(c.tac <= import::MAX_AREA_CODE, "cell {:?}: tac {}", c.id, c.tac);
    }
}
