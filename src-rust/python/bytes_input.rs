//! Borrow the bytes of any bytes-like Python object (bytes, bytearray, memoryview, array)
//! without copying. Non-`bytes` objects are pinned through the buffer protocol while borrowed,
//! so a bytearray cannot be resized under us.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub fn with_bytes<R>(obj: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> PyResult<R>) -> PyResult<R> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return f(bytes.as_bytes());
    }
    let buffer = PyBuffer::<u8>::get(obj).map_err(|_| {
        PyTypeError::new_err(format!(
            "expected bytes, bytearray or memoryview, got {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    if !buffer.is_c_contiguous() {
        return Err(PyTypeError::new_err("expected a C-contiguous buffer"));
    }
    // SAFETY: the buffer is C-contiguous, of item size 1 (PyBuffer<u8> checked the format),
    // and stays exported (so it cannot move or shrink) until `buffer` is dropped after `f`.
    let slice =
        unsafe { std::slice::from_raw_parts(buffer.buf_ptr() as *const u8, buffer.len_bytes()) };
    let result = f(slice);
    drop(buffer);
    result
}
