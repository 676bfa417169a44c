//! Newline-delimited JSON framing (Ollama's `application/x-ndjson`).
//!
//! Lines end at LF (a CR before it is dropped); blank lines are skipped; invalid UTF-8 becomes
//! U+FFFD. Like the SSE decoder, scanning resumes where it stopped and only the unfinished
//! line is copied, so cost is linear however the bytes are split.

use memchr::memchr;

use super::Lifecycle;
use crate::error::{Error, Result};
use crate::utf8::decode_lossy;

pub const DEFAULT_MAX_LINE_SIZE: usize = 64 * 1024 * 1024;

#[derive(Debug)]
pub struct NdjsonDecoder {
    max_line_size: usize,
    tail: Vec<u8>,
    consumed: u64,
    lifecycle: Lifecycle,
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        NdjsonDecoder::new(DEFAULT_MAX_LINE_SIZE)
    }
}

impl NdjsonDecoder {
    pub fn new(max_line_size: usize) -> Self {
        NdjsonDecoder {
            max_line_size,
            tail: Vec::new(),
            consumed: 0,
            lifecycle: Lifecycle::new("NDJSONDecoder"),
        }
    }

    pub fn max_line_size(&self) -> usize {
        self.max_line_size
    }

    /// Feed bytes; `on_line` sees each complete non-blank line and the stream offset of its end.
    pub fn decode_with<F>(&mut self, input: &[u8], mut on_line: F) -> Result<()>
    where
        F: FnMut(&str, u64) -> Result<()>,
    {
        self.lifecycle.check("decode")?;
        let result = self.decode_inner(input, &mut on_line);
        self.lifecycle.after_decode(result)
    }

    /// End of stream: a last line without its LF is still a line (NDJSON writers often omit it).
    pub fn flush_with<F>(&mut self, mut on_line: F) -> Result<()>
    where
        F: FnMut(&str, u64) -> Result<()>,
    {
        self.lifecycle.check("flush")?;
        let line = std::mem::take(&mut self.tail);
        let result = emit(&line, self.consumed, &mut on_line);
        self.lifecycle.after_flush(result)
    }

    pub fn decode(&mut self, input: &[u8], out: &mut Vec<String>) -> Result<()> {
        self.decode_with(input, |line, _| {
            out.push(line.to_owned());
            Ok(())
        })
    }

    pub fn flush(&mut self, out: &mut Vec<String>) -> Result<()> {
        self.flush_with(|line, _| {
            out.push(line.to_owned());
            Ok(())
        })
    }

    fn decode_inner(
        &mut self,
        mut input: &[u8],
        on_line: &mut dyn FnMut(&str, u64) -> Result<()>,
    ) -> Result<()> {
        let mut offset = self.consumed;
        self.consumed += input.len() as u64;
        while let Some(end) = memchr(b'\n', input) {
            offset += end as u64 + 1;
            if self.tail.len() + end > self.max_line_size {
                return Err(self.too_large(offset));
            }
            if self.tail.is_empty() {
                emit(&input[..end], offset, on_line)?;
            } else {
                let mut line = std::mem::take(&mut self.tail);
                line.extend_from_slice(&input[..end]);
                let result = emit(&line, offset, on_line);
                line.clear();
                self.tail = line;
                result?;
            }
            input = &input[end + 1..];
        }
        if self.tail.len() + input.len() > self.max_line_size {
            return Err(self.too_large(offset + input.len() as u64));
        }
        self.tail.extend_from_slice(input);
        Ok(())
    }

    fn too_large(&self, offset: u64) -> Error {
        Error::EventTooLarge {
            what: "NDJSON line",
            limit: self.max_line_size,
            offset,
        }
    }
}

fn emit(line: &[u8], offset: u64, on_line: &mut dyn FnMut(&str, u64) -> Result<()>) -> Result<()> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    on_line(&decode_lossy(line), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_chunks() {
        let mut decoder = NdjsonDecoder::default();
        let mut out = Vec::new();
        decoder.decode(b"{\"a\":1}\r\n{\"b\"", &mut out).unwrap();
        decoder.decode(b":2}\n\n{\"c\":3}", &mut out).unwrap();
        decoder.flush(&mut out).unwrap();
        assert_eq!(out, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn line_cap() {
        let mut decoder = NdjsonDecoder::new(4);
        let mut out = Vec::new();
        let err = decoder.decode(b"12345", &mut out).unwrap_err();
        assert!(matches!(err, Error::EventTooLarge { limit: 4, .. }));
    }
}
