//! The native part of the Python stream stages (`fastsse.streams`): the per-chunk field work of
//! `coalesce_text` runs here, so the stage costs one native call per chunk (`push`) or, for
//! a sync upstream, none at all (`coalesce(upstream)` pulls it from Rust).

use std::collections::VecDeque;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PyTuple};

use super::chunk::GenerationChunk;
use super::errors::{catch_panic, internal_error};
use crate::coalesce::{Coalescer as CoreCoalescer, Step};

/// The core coalescer plus the Python object of the pending run's first chunk (handed out as
/// it came when the run stays one chunk long).
struct Runs {
    core: CoreCoalescer,
    first: Option<Py<GenerationChunk>>,
    steps: Vec<Step>,
}

impl Runs {
    fn new(min_chars: i64) -> PyResult<Runs> {
        if min_chars < 1 {
            return Err(PyValueError::new_err(format!(
                "min_chars must be at least 1, got {min_chars}"
            )));
        }
        Ok(Runs {
            core: CoreCoalescer::new(usize::try_from(min_chars).unwrap_or(usize::MAX)),
            first: None,
            steps: Vec::new(),
        })
    }

    /// Feed `chunk` (None: the end of the stream) and hand each ready chunk to `out`.
    fn feed(
        &mut self,
        py: Python<'_>,
        chunk: Option<&Bound<'_, GenerationChunk>>,
        mut out: impl FnMut(Py<PyAny>),
    ) -> PyResult<()> {
        let Runs { core, first, steps } = self;
        // Logprobs given from Python live in the binding's object, not in the core chunk.
        let python_logprobs =
            chunk.is_some_and(|chunk| chunk.get().logprobs_from_python(py).is_some());
        catch_panic(|| match chunk {
            Some(_) if python_logprobs => core.push_barrier(steps),
            Some(chunk) => core.push(&chunk.get().inner, steps),
            None => core.flush(steps),
        })
        .map_err(|message| internal_error(py, message, Ok(PyList::empty(py))))?;
        for step in steps.drain(..) {
            match step {
                Step::ReleaseFirst => {
                    if let Some(first) = first.take() {
                        out(first.into_any());
                    }
                }
                Step::ReleaseMerged(merged) => {
                    out(GenerationChunk::from_core(*merged)
                        .into_py(py)?
                        .into_any()
                        .unbind());
                }
                Step::Start => *first = chunk.map(|chunk| chunk.clone().unbind()),
                Step::Pass => {
                    if let Some(chunk) = chunk {
                        out(chunk.clone().into_any().unbind());
                    }
                }
            }
        }
        Ok(())
    }
}

/// Merges runs of small text / reasoning / refusal deltas into chunks of at least `min_chars`
/// characters (see `fastsse.streams.coalesce_text`). `push(chunk)` / `flush()` return the chunks
/// ready to hand out (a tuple, usually empty). `Coalesced` is the same over a sync iterator.
#[pyclass(module = "fastsse")]
pub struct Coalescer {
    runs: Runs,
}

#[pymethods]
impl Coalescer {
    #[new]
    fn py_new(min_chars: i64) -> PyResult<Self> {
        Ok(Coalescer {
            runs: Runs::new(min_chars)?,
        })
    }

    #[getter]
    fn min_chars(&self) -> usize {
        self.runs.core.min_chars()
    }

    fn push<'py>(&mut self, chunk: &Bound<'py, GenerationChunk>) -> PyResult<Bound<'py, PyTuple>> {
        let py = chunk.py();
        let mut ready = Vec::new();
        self.runs.feed(py, Some(chunk), |item| ready.push(item))?;
        PyTuple::new(py, ready)
    }

    fn flush<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let mut ready = Vec::new();
        self.runs.feed(py, None, |item| ready.push(item))?;
        PyTuple::new(py, ready)
    }
}

/// `Coalesced(upstream, min_chars)`: the coalesced chunks of a sync iterator, which it reads
/// from Rust (no Python work per upstream chunk).
#[pyclass(module = "fastsse")]
pub struct Coalesced {
    upstream: Py<PyIterator>,
    runs: Runs,
    ready: VecDeque<Py<PyAny>>,
    ended: bool,
}

#[pymethods]
impl Coalesced {
    #[new]
    fn py_new(upstream: &Bound<'_, PyAny>, min_chars: i64) -> PyResult<Self> {
        Ok(Coalesced {
            runs: Runs::new(min_chars)?,
            upstream: upstream.try_iter()?.unbind(),
            ready: VecDeque::new(),
            ended: false,
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Ok(Some(item));
            }
            if self.ended {
                return Ok(None);
            }
            let ready = &mut self.ready;
            let mut upstream = self.upstream.bind(py).clone();
            match upstream.next() {
                Some(item) => {
                    let item = item?;
                    let chunk = item.cast::<GenerationChunk>()?;
                    self.runs
                        .feed(py, Some(chunk), |item| ready.push_back(item))?;
                }
                None => {
                    self.ended = true;
                    self.runs.feed(py, None, |item| ready.push_back(item))?;
                }
            }
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Coalescer>()?;
    m.add_class::<Coalesced>()?;
    Ok(())
}
