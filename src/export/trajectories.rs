//! Placeholder.
use super::{ExportError, Output};
use crate::reader::DatasetReader;
pub const SKMOB_TABLES: &[&str] = &[];
pub const TRACKINTEL_TABLES: &[&str] = &[];
pub fn export_skmob(
    _data: &DatasetReader,
    _out: &mut Output,
    _notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    Ok(())
}
pub fn export_trackintel(
    _data: &DatasetReader,
    _out: &mut Output,
    _notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    Ok(())
}
