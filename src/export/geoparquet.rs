//! Placeholder.
use super::{ExportError, Output};
use crate::reader::DatasetReader;
pub const TABLES: &[&str] = &[];
pub fn export(
    _data: &DatasetReader,
    _out: &mut Output,
    _notes: &mut Vec<String>,
) -> Result<(), ExportError> {
    Ok(())
}
