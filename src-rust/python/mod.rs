//! The PyO3 binding: the only code in the crate that knows about Python. It converts types,
//! maps errors and batches (one call per network chunk, returning a list).

mod build_info;
mod bytes_input;
mod chunk;
mod collect;
mod encode;
mod errors;
mod eventstream;
mod iterate;
mod json;
mod models;
mod ndjson;
mod providers;
mod response_template;
mod sdk_views;
mod sse;
mod stages;
mod strings;
mod text;
mod value_objects;

use pyo3::prelude::*;

#[pymodule]
fn _fastsse(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(build_info::build_info, m)?)?;
    m.add_class::<sse::ServerSentEvent>()?;
    m.add_class::<sse::SSEDecoder>()?;
    m.add_function(wrap_pyfunction!(sse::encode_sse, m)?)?;
    m.add_class::<ndjson::NDJSONDecoder>()?;
    m.add_class::<chunk::ToolCallDelta>()?;
    m.add_class::<chunk::GenerationChunk>()?;
    providers::register(m)?;
    collect::register(m)?;
    sdk_views::register(m)?;
    m.add_class::<encode::Encoder>()?;
    m.add_function(wrap_pyfunction!(encode::encode_stream, m)?)?;
    m.add_function(wrap_pyfunction!(encode::encode_response, m)?)?;
    m.add_class::<eventstream::EventStreamDecoder>()?;
    m.add_class::<eventstream::EventStreamMessage>()?;
    m.add_class::<text::TextParser>()?;
    stages::register(m)?;
    m.add_function(wrap_pyfunction!(errors::panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(models::formats_for_model, m)?)?;
    Ok(())
}
