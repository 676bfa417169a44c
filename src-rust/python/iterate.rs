//! The items of a Python iterable, with their positions (for error messages); lists and tuples
//! are read in place, without an iterator object.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// `each(position, item)` for every item of `items`, in order; the first error stops.
pub fn for_each_item<'py>(
    items: &Bound<'py, PyAny>,
    mut each: impl FnMut(usize, Bound<'py, PyAny>) -> PyResult<()>,
) -> PyResult<()> {
    if let Ok(list) = items.cast::<PyList>() {
        for (position, item) in list.iter().enumerate() {
            each(position, item)?;
        }
    } else if let Ok(tuple) = items.cast::<PyTuple>() {
        for (position, item) in tuple.iter().enumerate() {
            each(position, item)?;
        }
    } else {
        for (position, item) in items.try_iter()?.enumerate() {
            each(position, item?)?;
        }
    }
    Ok(())
}
