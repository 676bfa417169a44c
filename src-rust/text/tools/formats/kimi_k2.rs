//! Kimi K2:
//!
//! ```text
//! <|tool_calls_section_begin|>
//! <|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Paris"}<|tool_call_end|>
//! <|tool_calls_section_end|>
//! ```
//!
//! The call id (`functions.NAME:IDX`) is the model's own and is forwarded as the id; the name
//! is what sits between the last `.` and the `:`. The singular section markers some versions
//! write are accepted too.

use super::super::super::emit::Emitter;
use super::super::{clean_name, CallSlot, ToolContext, ToolSection};
use super::json_section::{CallHead, Head, JsonSection, Reached, SectionGrammar, UpTo};

const ARGUMENT_BEGIN: &str = "<|tool_call_argument_begin|>";
const MAX_ID: usize = 512;

pub const KIMI_K2: SectionGrammar = SectionGrammar {
    openers: &[
        "<|tool_calls_section_begin|>",
        "<|tool_call_section_begin|>",
    ],
    between: &[
        "<|tool_call_begin|>",
        "<|tool_calls_section_end|>",
        "<|tool_call_section_end|>",
    ],
    after_arguments: &["<|tool_call_end|>"],
};

pub fn build(context: ToolContext) -> Box<dyn ToolSection> {
    let head = KimiHead {
        id: UpTo::new(ARGUMENT_BEGIN, MAX_ID),
    };
    Box::new(JsonSection::new(&KIMI_K2, head, context))
}

/// The call id, up to `<|tool_call_argument_begin|>`.
struct KimiHead {
    id: UpTo,
}

impl CallHead for KimiHead {
    fn start(&mut self) {
        self.id.reset();
    }

    fn read(&mut self, text: &str, pos: usize, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Head {
        // An id longer than its cap is no call.
        let consumed = match self.id.read(&text[pos..], slot) {
            Reached::Pending => return Head::NeedMore,
            Reached::Over { consumed } => return Head::GiveUp(pos + consumed),
            Reached::Found { consumed } => consumed,
        };
        let id = self.id.text().trim().to_owned();
        match name_from_id(&id) {
            Some(name) => {
                slot.announce(em, name, Some(id));
                Head::Arguments(pos + consumed)
            }
            None => Head::GiveUp(pos + consumed),
        }
    }
}

/// `functions.get_weather:0` -> `get_weather`.
fn name_from_id(id: &str) -> Option<String> {
    let head = id.rsplit_once(':').map_or(id, |(head, _)| head);
    clean_name(head.rsplit('.').next().unwrap_or(head))
}

#[cfg(test)]
mod tests {
    use super::name_from_id;

    #[test]
    fn names_come_from_ids() {
        assert_eq!(
            name_from_id("functions.get_weather:0").as_deref(),
            Some("get_weather")
        );
        assert_eq!(
            name_from_id("get_weather:3").as_deref(),
            Some("get_weather")
        );
        assert_eq!(name_from_id("search").as_deref(), Some("search"));
        assert_eq!(name_from_id("functions.:0"), None);
    }
}
