//! CSV input/output and Excel sheets.
