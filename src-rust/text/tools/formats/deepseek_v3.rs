//! DeepSeek V3 / R1-0528 and V3.1 (the bars are U+FF5C, the `▁` is U+2581):
//!
//! ```text
//! V3:   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
//!       ```json
//!       {"city": "Paris"}
//!       ```<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//! V3.1: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{"city": "Paris"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>
//! ```
//!
//! Both are accepted: after the separator, arguments starting with `{` mean V3.1 (the text
//! before the separator is the name); otherwise the name is the rest of the line (V3) and an
//! optional code fence wraps the JSON.

use super::super::super::emit::Emitter;
use super::super::scan::MAX_NAME;
use super::super::{clean_name, read_run, skip_ws, CallSlot, Run, ToolContext, ToolSection};
use super::json_section::{CallHead, Head, JsonSection, Reached, SectionGrammar, UpTo};

const SEP: &str = "<｜tool▁sep｜>";
const FENCE: &str = "```";

pub const DEEPSEEK_V3: SectionGrammar = SectionGrammar {
    openers: &["<｜tool▁calls▁begin｜>"],
    between: &["<｜tool▁call▁begin｜>", "<｜tool▁calls▁end｜>"],
    // The closing fence of V3 is passed over.
    after_arguments: &["<｜tool▁call▁end｜>", FENCE],
};

pub fn build(context: ToolContext) -> Box<dyn ToolSection> {
    let head = DeepSeekHead {
        part: Part::Head,
        head: UpTo::new(SEP, MAX_NAME),
        line: String::new(),
    };
    Box::new(JsonSection::new(&DEEPSEEK_V3, head, context))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Up to `<｜tool▁sep｜>`: the type (V3) or the name (V3.1).
    Head,
    /// Right after the separator: decides between V3 and V3.1.
    AfterSep,
    /// V3: the name, up to the end of the line.
    NameLine,
    /// V3: an optional fence line (```json) before the arguments.
    FenceLine,
}

struct DeepSeekHead {
    part: Part,
    head: UpTo,
    /// The name line, then the fence line (V3).
    line: String,
}

impl CallHead for DeepSeekHead {
    fn start(&mut self) {
        self.part = Part::Head;
        self.head.reset();
    }

    fn read(&mut self, text: &str, pos: usize, slot: &mut CallSlot, em: &mut Emitter<'_>) -> Head {
        let rest = &text[pos..];
        match self.part {
            // A head longer than a name and the separator is no call.
            Part::Head => match self.head.read(rest, slot) {
                Reached::Pending => Head::NeedMore,
                Reached::Over { consumed } => Head::GiveUp(pos + consumed),
                Reached::Found { consumed } => {
                    self.part = Part::AfterSep;
                    Head::Reading(pos + consumed)
                }
            },
            Part::AfterSep => {
                let blank = skip_ws(rest);
                if blank == rest.len() {
                    // Blanks only so far: wait to see what follows them.
                    slot.raw(rest);
                    return Head::NeedMore;
                }
                if rest.as_bytes()[blank] == b'{' {
                    if let Some(name) = clean_name(self.head.text()) {
                        slot.announce(em, name, None);
                        return Head::Arguments(pos);
                    }
                }
                // Blanks after the separator are skipped here as they are when they arrive
                // alone (above): the same call however the text is split.
                slot.raw(&rest[..blank]);
                self.line.clear();
                self.part = Part::NameLine;
                Head::Reading(pos + blank)
            }
            Part::NameLine => {
                let run = read_run(&mut self.line, rest, |b| b == b'\n', MAX_NAME);
                let taken = run.taken(rest.len());
                slot.raw(&rest[..taken]);
                let pos = pos + taken;
                match run {
                    Run::Open => return Head::NeedMore,
                    Run::Over { .. } => return Head::GiveUp(pos),
                    Run::End { .. } => {}
                }
                slot.raw("\n");
                let Some(name) = clean_name(&self.line) else {
                    return Head::GiveUp(pos + 1);
                };
                slot.announce(em, name, None);
                self.line.clear();
                self.part = Part::FenceLine;
                Head::Reading(pos + 1)
            }
            Part::FenceLine => {
                // Either the JSON itself or a fence line such as ```json.
                let mut pos = pos;
                if self.line.is_empty() {
                    pos += skip_ws(rest);
                    if pos == text.len() {
                        return Head::NeedMore;
                    }
                    if text.as_bytes()[pos] != b'`' {
                        return Head::Arguments(pos);
                    }
                }
                let rest = &text[pos..];
                let end = rest.bytes().position(|b| b == b'\n');
                let part = &rest[..end.unwrap_or(rest.len())];
                self.line.push_str(part);
                pos += part.len();
                let fence_like = self.line.starts_with(FENCE) || FENCE.starts_with(&self.line);
                if self.line.len() > 64 || !fence_like {
                    let expected = "the arguments";
                    return Head::Unexpected { pos, expected };
                }
                match end {
                    Some(_) => Head::Arguments(pos + 1),
                    None => Head::Reading(pos),
                }
            }
        }
    }
}
