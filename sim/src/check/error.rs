//! Case-file errors: the file, the line and the field, as for every other
//! file a user writes.

pub use crate::scenario::InputError as CaseError;
