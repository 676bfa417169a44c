//! One Harmony message header: what the model writes between `<|start|>` and `<|message|>`,
//! read once it is complete (headers are short and capped, so reading it whole stays linear).
//!
//! ```text
//! assistant<|channel|>analysis
//! assistant<|channel|>commentary to=functions.get_weather <|constrain|>json
//! assistant to=functions.get_weather<|channel|>commentary json
//! ```
//!
//! The role part (before `<|channel|>`) holds the role and may hold the recipient; the channel
//! part holds the channel name, then in any order the recipient (`to=...`) and the content
//! type (`<|constrain|>json`, `<|constrain|> json` or a bare `json` / `code`). `<|constrain|>`
//! may touch the recipient. Anything else is malformed: the caller reports it and the stream
//! goes on.

use super::super::tools::clean_name;

pub const CHANNEL: &str = "<|channel|>";
pub const CONSTRAIN: &str = "<|constrain|>";

/// Where a message's content goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The `analysis` channel, or a message to a built-in tool (`browser.search`, `python`):
    /// the model's own work, not for the client's functions.
    Reasoning,
    /// `final`, `commentary` without a recipient (a preamble for the user), other channels.
    Text,
    /// `to=functions.NAME` on any channel: a call of the client's function `NAME`.
    Call(String),
}

/// The route of a complete header (the text before `<|message|>`, without `<|start|>`).
pub fn route(header: &str) -> Result<Route, &'static str> {
    let (role_part, channel_part) = match header.split_once(CHANNEL) {
        Some((role, channel)) => (role, Some(channel)),
        None => (header, None),
    };
    let mut fields = Fields::default();
    let mut role_tokens = tokens(role_part);
    match role_tokens.next() {
        None | Some("assistant") => {}
        Some(token) if token.starts_with("to=") || token.starts_with(CONSTRAIN) => {
            fields.take(token, false)?
        }
        Some(_) => return Err("the role is not assistant"),
    }
    for token in role_tokens {
        fields.take(token, false)?;
    }
    if let Some(channel_part) = channel_part {
        if channel_part.contains(CHANNEL) {
            return Err("two <|channel|> markers");
        }
        let mut channel_tokens = tokens(channel_part);
        match channel_tokens.next() {
            Some(name) if !name.starts_with("to=") && !name.starts_with(CONSTRAIN) => {
                fields.channel = Some(name);
            }
            _ => return Err("no channel name after <|channel|>"),
        }
        for token in channel_tokens {
            fields.take(token, true)?;
        }
    }
    if fields.awaiting_type {
        return Err("no content type after <|constrain|>");
    }
    if fields.channel.is_some_and(|name| name.contains("<|")) {
        return Err("a marker inside the channel name");
    }
    Ok(match fields.recipient {
        Some(recipient) => match recipient.strip_prefix("functions.") {
            Some(name) => {
                Route::Call(clean_name(name).ok_or("no function name after to=functions.")?)
            }
            None => Route::Reasoning,
        },
        None if fields.channel == Some("analysis") => Route::Reasoning,
        None => Route::Text,
    })
}

/// Whitespace-separated tokens, with `<|constrain|>` starting a token of its own even where
/// it touches the recipient.
fn tokens(part: &str) -> impl Iterator<Item = &str> {
    part.split_ascii_whitespace().flat_map(|word| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            // Past the first character: a token starting with the marker keeps it.
            let first = rest.chars().next().map_or(0, char::len_utf8);
            let cut = match rest[first..].find(CONSTRAIN) {
                Some(at) => first + at,
                None => rest.len(),
            };
            let (token, tail) = rest.split_at(cut);
            rest = tail;
            Some(token)
        })
    })
}

#[derive(Default)]
struct Fields<'a> {
    channel: Option<&'a str>,
    recipient: Option<&'a str>,
    content_type: Option<&'a str>,
    /// A bare `<|constrain|>` was read: the next token is the type.
    awaiting_type: bool,
}

impl<'a> Fields<'a> {
    fn take(&mut self, token: &'a str, after_channel: bool) -> Result<(), &'static str> {
        if let Some(recipient) = token.strip_prefix("to=") {
            if self.awaiting_type {
                return Err("no content type after <|constrain|>");
            }
            if self.recipient.is_some() {
                return Err("two recipients (to=)");
            }
            if recipient.is_empty() {
                return Err("an empty recipient after to=");
            }
            self.recipient = Some(recipient);
            return Ok(());
        }
        let (kind, constrained) = match token.strip_prefix(CONSTRAIN) {
            Some(kind) => (kind, true),
            None => (token, false),
        };
        if constrained && self.awaiting_type {
            return Err("no content type after <|constrain|>");
        }
        if !constrained && !self.awaiting_type && !after_channel {
            return Err("unexpected text before <|channel|>");
        }
        if kind.is_empty() {
            self.awaiting_type = true;
            return Ok(());
        }
        if self.content_type.is_some() {
            return Err("two content types");
        }
        if kind.contains("<|") {
            return Err("a marker inside the content type");
        }
        self.awaiting_type = false;
        self.content_type = Some(kind);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str) -> Result<Route, &'static str> {
        Ok(Route::Call(name.to_owned()))
    }

    #[test]
    fn channels_and_recipients() {
        assert_eq!(route("assistant<|channel|>analysis"), Ok(Route::Reasoning));
        assert_eq!(route("<|channel|>final"), Ok(Route::Text));
        assert_eq!(route("assistant<|channel|>commentary"), Ok(Route::Text));
        assert_eq!(route("assistant"), Ok(Route::Text));
        assert_eq!(route("<|channel|>final <|constrain|>json"), Ok(Route::Text));
        assert_eq!(
            route("assistant<|channel|>analysis to=browser.search code"),
            Ok(Route::Reasoning)
        );
    }

    #[test]
    fn the_ways_a_call_is_written() {
        let f = call("get_weather");
        for header in [
            "assistant<|channel|>commentary to=functions.get_weather <|constrain|>json",
            "assistant<|channel|>commentary to=functions.get_weather<|constrain|>json",
            "assistant<|channel|>commentary to=functions.get_weather <|constrain|> json",
            "assistant<|channel|>commentary to=functions.get_weather json",
            "assistant<|channel|>commentary to=functions.get_weather",
            "assistant to=functions.get_weather<|channel|>commentary json",
            "assistant to=functions.get_weather<|channel|>commentary<|constrain|>json",
            "<|channel|>commentary <|constrain|>json to=functions.get_weather",
            " assistant <|channel|>analysis to=functions.get_weather code",
        ] {
            assert_eq!(route(header), f, "{header}");
        }
    }

    #[test]
    fn malformed_headers_say_why() {
        for (header, why) in [
            (
                "assistant<|channel|>commentary to=functions.a to=functions.b",
                "two recipients (to=)",
            ),
            (
                "assistant to=functions.a<|channel|>commentary to=functions.b",
                "two recipients (to=)",
            ),
            (
                "assistant garbage<|channel|>final",
                "unexpected text before <|channel|>",
            ),
            ("user<|channel|>final", "the role is not assistant"),
            ("assistant<|channel|>", "no channel name after <|channel|>"),
            (
                "assistant<|channel|>commentary to=functions.",
                "no function name after to=functions.",
            ),
            ("<|channel|>final json code", "two content types"),
            ("<|channel|>a<|channel|>b", "two <|channel|> markers"),
            ("<|channel|>final é日<|constrain|>json", "two content types"),
            (
                "<|channel|>commentary to=functions.f <|constrain|>",
                "no content type after <|constrain|>",
            ),
        ] {
            assert_eq!(route(header), Err(why), "{header}");
        }
    }
}
