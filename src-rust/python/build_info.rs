//! `build_info()`: what this extension was built as, so benches and bug reports can say it.

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// `{"version", "profile": "debug" | "release", "features": [...], "python_abi"}`.
#[pyfunction]
pub fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let info = PyDict::new(py);
    info.set_item("version", env!("CARGO_PKG_VERSION"))?;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    info.set_item("profile", profile)?;
    let mut features = vec!["python"];
    if cfg!(feature = "bench-peers") {
        features.push("bench-peers");
    }
    info.set_item("features", features)?;
    info.set_item("target", std::env::consts::ARCH)?;
    Ok(info)
}
