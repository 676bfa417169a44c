//! gpt-oss token ids -> text with the special tokens kept, for engines that hand ids instead
//! of text. The vocabulary is o200k_harmony: o200k_base (embedded in the `tiktoken-rs` crate,
//! so nothing is downloaded) plus Harmony's special tokens (`<|start|>` = 200006, ...).
//!
//! A character may be split across tokens: its first bytes wait for the rest; bytes that can
//! never become UTF-8 turn into U+FFFD, so the text never fails.

use crate::error::{Error, Result};

/// The UTF-8 bytes of ids decoded so far that do not yet form a whole character.
#[derive(Debug, Default, Clone)]
pub struct TokenText {
    pending: Vec<u8>,
}

impl TokenText {
    pub fn new() -> TokenText {
        TokenText::default()
    }

    /// Decode `ids`; the complete characters are appended to `out`.
    pub fn decode(&mut self, ids: &[u32], out: &mut String) -> Result<()> {
        let vocabulary = tiktoken_rs::o200k_harmony_singleton();
        let bytes = vocabulary.decode_bytes(ids).map_err(|e| {
            Error::usage(format!(
                "token id {} is not in the gpt-oss (o200k_harmony) vocabulary",
                e.token
            ))
        })?;
        self.pending.extend_from_slice(&bytes);
        let mut start = 0;
        loop {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(text) => {
                    out.push_str(text);
                    start = self.pending.len();
                    break;
                }
                Err(e) => {
                    let valid = start + e.valid_up_to();
                    out.push_str(
                        std::str::from_utf8(&self.pending[start..valid]).expect("checked valid"),
                    );
                    match e.error_len() {
                        // A character whose last bytes are still to come.
                        None => {
                            start = valid;
                            break;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            start = valid + bad;
                        }
                    }
                }
            }
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// End of stream: a character still missing bytes becomes U+FFFD.
    pub fn finish(&mut self, out: &mut String) {
        if !self.pending.is_empty() {
            out.push_str(&String::from_utf8_lossy(&self.pending));
            self.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_tokens_and_split_characters() {
        let vocabulary = tiktoken_rs::o200k_harmony_singleton();
        let text = "<|channel|>analysis<|message|>été 🙂<|end|>";
        let ids = vocabulary.encode_with_special_tokens(text);
        assert_eq!(ids[0], 200005);
        let mut whole = String::new();
        TokenText::new().decode(&ids, &mut whole).unwrap();
        assert_eq!(whole, text);
        let mut one_by_one = String::new();
        let mut tokens = TokenText::new();
        for id in &ids {
            tokens.decode(&[*id], &mut one_by_one).unwrap();
        }
        tokens.finish(&mut one_by_one);
        assert_eq!(one_by_one, text);
        assert!(TokenText::new()
            .decode(&[300_000], &mut String::new())
            .is_err());
    }
}
