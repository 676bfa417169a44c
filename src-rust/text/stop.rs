//! Stop strings: validated once, matched by the text parser's marker scanner.
//!
//! Semantics (the ones llama.cpp and SGLang converge on): the output ends at the stop string
//! that completes earliest in the text, ties going to the one listed first; the stop string is
//! dropped unless `include_stop`; nothing after it is ever emitted. Only the longest suffix
//! that may still grow into a stop string is held back. Stop strings are matched in answer text
//! only, never inside reasoning or tool calls, so a stop can never cut a call in half.

use crate::error::{Error, Result};

/// Most stop strings (and most custom reasoning markers) one parser accepts.
pub const MAX_STOP_STRINGS: usize = 64;
/// Longest stop string (or custom reasoning marker), in UTF-8 bytes.
pub const MAX_STOP_BYTES: usize = 4096;

/// Check user-given markers (`what` is `stop`, `reasoning_start`, ...): non-empty, and within
/// the caps that keep the matcher's memory and build time small.
pub fn check_markers(what: &str, strings: &[String]) -> Result<()> {
    if strings.len() > MAX_STOP_STRINGS {
        return Err(Error::limit(
            "max_stop_strings",
            MAX_STOP_STRINGS,
            format!("{what} has {} strings", strings.len()),
        ));
    }
    for (index, s) in strings.iter().enumerate() {
        if s.is_empty() {
            return Err(Error::usage(format!(
                "{what}[{index}] is an empty string; {what} strings must be non-empty"
            )));
        }
        if s.len() > MAX_STOP_BYTES {
            return Err(Error::limit(
                "max_stop_bytes",
                MAX_STOP_BYTES,
                format!("{what}[{index}] is {} bytes long", s.len()),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopStrings {
    strings: Vec<String>,
    pub include: bool,
}

impl StopStrings {
    pub fn new(strings: Vec<String>, include: bool) -> Result<StopStrings> {
        check_markers("stop", &strings)?;
        Ok(StopStrings { strings, include })
    }

    pub fn strings(&self) -> &[String] {
        &self.strings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_stop_strings() {
        let err = StopStrings::new(vec!["a".into(), String::new()], false).unwrap_err();
        assert!(err.to_string().contains("stop[1]"));
        assert_eq!(
            StopStrings::new(vec!["a".into()], true).unwrap().strings(),
            ["a"]
        );
    }

    #[test]
    fn caps_count_and_length() {
        let limit = |strings: Vec<String>| match StopStrings::new(strings, false) {
            Err(Error::LimitExceeded { limit_name, .. }) => limit_name,
            other => panic!("expected a limit error, got {other:?}"),
        };
        assert_eq!(limit(vec!["x".repeat(1 << 20)]), "max_stop_bytes");
        assert_eq!(limit(vec!["x".into(); 65]), "max_stop_strings");
        assert!(StopStrings::new(vec!["x".repeat(MAX_STOP_BYTES); 2], false).is_ok());
    }
}
