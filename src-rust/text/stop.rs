//! Stop strings: validated once, matched by the text parser's marker scanner.
//!
//! Semantics (the ones llama.cpp and SGLang converge on): the output ends at the stop string
//! that completes earliest in the text, ties going to the one listed first; the stop string is
//! dropped unless `include_stop`; nothing after it is ever emitted. Only the longest suffix
//! that may still grow into a stop string is held back. Stop strings are matched in answer text
//! only, never inside reasoning or tool calls, so a stop can never cut a call in half.

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopStrings {
    strings: Vec<String>,
    pub include: bool,
}

impl StopStrings {
    pub fn new(strings: Vec<String>, include: bool) -> Result<StopStrings> {
        if let Some(index) = strings.iter().position(String::is_empty) {
            return Err(Error::usage(format!(
                "stop[{index}] is an empty string; stop strings must be non-empty"
            )));
        }
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
}
