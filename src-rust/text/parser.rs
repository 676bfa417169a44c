//! `TextParser`: raw model text in, unified chunks out.
//!
//! The text is in one of three modes. In the *answer* the scanner looks for reasoning openers,
//! tool-section openers and stop strings; in *reasoning* only for the closing markers; in a
//! *tool section* the format's own parser consumes the text until the section ends. Each mode
//! switch happens at the exact byte where a marker completes, so every byte is looked at once
//! and the output does not depend on how the text was split.

use std::sync::Arc;

use super::emit::{char_count, EmitState, Emitter};
use super::matcher::{MarkerScanner, Markers, Scan};
use super::schema::ToolSchemas;
use super::sections::ReasoningSpec;
use super::stop::StopStrings;
use super::tools::{section_for, GrammarRow, Opener, Step, ToolContext, ToolSection, TOOL_FORMATS};
use crate::chunk::{FinishReason, GenerationChunk};
use crate::error::{Error, Result};

/// Default cap on what a tool section may hold on to (see `tools` module docs).
pub const DEFAULT_MAX_BUFFER: usize = 1 << 20;

#[derive(Debug, Clone, Default)]
pub struct TextParserConfig {
    pub stop: Vec<String>,
    pub include_stop: bool,
    pub reasoning: Option<ReasoningSpec>,
    /// A name from `TOOL_FORMATS`.
    pub tools: Option<String>,
    /// Or a grammar row made at run time (a compiled response template).
    pub tool_grammar: Option<GrammarRow>,
    /// Markers that end the output like a stop string but belong to the format (a template's
    /// end of turn): never included in the text, never reported as `stop_sequence`.
    pub end: Vec<String>,
    pub tool_schemas: Arc<ToolSchemas>,
    /// 0 means `DEFAULT_MAX_BUFFER`.
    pub max_buffer: usize,
    /// Makes generated tool-call ids reproducible (tests).
    pub id_seed: Option<u64>,
}

/// What a pattern of the answer-mode scanner means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnswerMarker {
    Reasoning,
    Tool(usize),
    Stop(usize),
    /// A marker of the reasoning format that is not text (Cohere's `<|START_RESPONSE|>`).
    Drop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReasoningMarker {
    End,
    /// An opener seen inside reasoning: dropped when nothing but blanks came before.
    Start,
    /// The format's role label: dropped right after the opener, reasoning text elsewhere.
    Label,
    /// A tool-section opener: it ends the reasoning and starts the call (Qwen3.5, Kimi K2
    /// and DeepSeek-V4 open calls without closing their reasoning).
    Tool(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Answer,
    Reasoning,
    Tool,
}

/// The patterns of one mode's scanner and what each one means (same order).
struct PatternTable<'a, M> {
    patterns: Vec<&'a str>,
    meaning: Vec<M>,
}

impl<M> Default for PatternTable<'_, M> {
    fn default() -> Self {
        PatternTable {
            patterns: Vec::new(),
            meaning: Vec::new(),
        }
    }
}

impl<'a, M> PatternTable<'a, M> {
    /// Append `markers`; marker number `n` of them means `meaning(n)`.
    fn add<S: AsRef<str>>(&mut self, markers: &'a [S], meaning: impl Fn(usize) -> M) {
        for (n, marker) in markers.iter().enumerate() {
            self.patterns.push(marker.as_ref());
            self.meaning.push(meaning(n));
        }
    }
}

pub struct TextParser {
    core: Core,
    emit: EmitState,
    char_base: u64,
    flushed: bool,
}

/// Everything but the output state, so that an `Emitter` (which borrows the output state)
/// and the mode handlers can be used together.
struct Core {
    answer_markers: Arc<Markers>,
    answer_meaning: Vec<AnswerMarker>,
    reasoning_markers: Arc<Markers>,
    reasoning_meaning: Vec<ReasoningMarker>,
    scanner: MarkerScanner,
    mode: Mode,
    stop: StopStrings,
    tools: Option<Box<dyn ToolSection>>,
    /// The format's leading character (formats without a start marker).
    leading: Option<char>,
    /// The answer has had a non-blank character.
    answer_started: bool,
    /// Only blanks in the current reasoning section so far.
    reasoning_blank: bool,
    /// Nothing at all in the current reasoning section so far (for the label).
    reasoning_fresh: bool,
    /// Append-think: reasoning and its markers go to the answer text.
    reasoning_as_text: bool,
    /// The format's blanks after its end / dropped markers are not text, and such a marker
    /// was just passed.
    trims_after: bool,
    trim_blank: bool,
    /// Append-think output that starts inside: the opener to write in front of everything.
    prefix: Option<String>,
    /// The open tool section began inside reasoning with this opener, when `.1` calls had
    /// been announced: if it announces none (prose that mentions the opener), the reasoning
    /// goes on, and what the section gives back is read again as reasoning.
    opened_in_reasoning: Option<(&'static str, u32)>,
    stopped: Option<usize>,
    /// Stop strings past this index are the format's `end` markers.
    user_stops: usize,
}

impl TextParser {
    pub fn new(mut config: TextParserConfig) -> Result<TextParser> {
        (config.tools, config.reasoning) = reader_of(config.tools, config.reasoning.take())?;
        let user_stops = config.stop.len();
        let mut stops = config.stop;
        for end in config.end {
            if !stops.contains(&end) {
                stops.push(end);
            }
        }
        let stop = StopStrings::new(stops, config.include_stop)?;
        let max_buffer = if config.max_buffer == 0 {
            DEFAULT_MAX_BUFFER
        } else {
            config.max_buffer
        };
        let context = ToolContext {
            schemas: config.tool_schemas.clone(),
            max_buffer,
        };
        let tools = match config.tools.as_deref() {
            None => config.tool_grammar.map(|row| row.build(context)),
            Some(_) if config.tool_grammar.is_some() => {
                return Err(Error::usage(
                    "give a tool-call format name or a grammar, not both",
                ))
            }
            Some(name) => Some(section_for(name, context).ok_or_else(|| {
                Error::usage(format!(
                    "unknown tool-call format {name:?}; expected one of {}",
                    TOOL_FORMATS.join(", ")
                ))
            })?),
        };

        let no_spec = ReasoningSpec::default();
        let spec = config.reasoning.as_ref().unwrap_or(&no_spec);
        let tool_openers = tools.as_ref().map_or(&[][..], |t| t.start_markers());

        // Answer mode: reasoning openers, then tool openers, then dropped markers, then stops
        // (ties go to markers, so a stop string equal to a marker never hides a call).
        let mut answer = PatternTable::default();
        answer.add(&spec.starts, |_| AnswerMarker::Reasoning);
        answer.add(tool_openers, AnswerMarker::Tool);
        answer.add(&spec.drop, |_| AnswerMarker::Drop);
        answer.add(stop.strings(), AnswerMarker::Stop);

        // Reasoning mode: closers, openers (dropped or kept), the label, tool openers.
        let mut reasoning = PatternTable::default();
        if config.reasoning.is_some() {
            reasoning.add(&spec.ends, |_| ReasoningMarker::End);
            reasoning.add(&spec.starts, |_| ReasoningMarker::Start);
            reasoning.add(spec.label.as_slice(), |_| ReasoningMarker::Label);
            reasoning.add(tool_openers, ReasoningMarker::Tool);
        }
        let starts_inside = spec.starts_inside;
        let reasoning_as_text = spec.as_text;
        let prefix = (spec.starts_inside && spec.as_text)
            .then(|| spec.starts.first().cloned())
            .flatten();

        let core = Core {
            answer_markers: Markers::shared(&answer.patterns),
            answer_meaning: answer.meaning,
            reasoning_markers: Markers::shared(&reasoning.patterns),
            reasoning_meaning: reasoning.meaning,
            scanner: MarkerScanner::new(),
            mode: if starts_inside {
                Mode::Reasoning
            } else {
                Mode::Answer
            },
            leading: tools.as_ref().and_then(|t| t.leading()),
            tools,
            stop,
            answer_started: false,
            reasoning_blank: true,
            reasoning_fresh: true,
            reasoning_as_text,
            trims_after: spec.trim_after,
            trim_blank: false,
            prefix,
            opened_in_reasoning: None,
            stopped: None,
            user_stops,
        };
        Ok(TextParser {
            core,
            emit: EmitState::new(config.id_seed),
            char_base: 0,
            flushed: false,
        })
    }

    /// The stop string that ended the output, if one did.
    pub fn stop_sequence(&self) -> Option<&str> {
        self.core
            .stopped
            .filter(|n| *n < self.core.user_stops)
            .map(|n| self.core.stop.strings()[n].as_str())
    }

    /// True once a stop string matched: later text is ignored.
    pub fn stopped(&self) -> bool {
        self.core.stopped.is_some()
    }

    /// Tool calls announced so far.
    pub fn tool_calls(&self) -> u32 {
        self.emit.calls()
    }

    /// Text held back because it may still grow into a marker or stop string.
    pub fn held(&self) -> &str {
        self.core.scanner.held()
    }

    /// Parse the next piece of text, appending chunks to `out`.
    pub fn decode(&mut self, text: &str, out: &mut Vec<GenerationChunk>) -> Result<()> {
        if self.flushed {
            return Err(Error::usage("TextParser.decode() called after flush()"));
        }
        if self.core.stopped.is_some() {
            return Ok(());
        }
        let mut em = Emitter::new(out, &mut self.emit, text, self.char_base);
        let core = &mut self.core;
        if let Some(prefix) = core.prefix.take() {
            em.text(&prefix);
        }
        if core.mode == Mode::Tool && core.section().absorb(text, &mut em) {
            self.char_base += char_count(text);
            return Ok(());
        }
        let mut rest = text;
        while !rest.is_empty() && core.stopped.is_none() {
            rest = match core.mode {
                Mode::Answer => core.answer(rest, &mut em),
                Mode::Reasoning => core.reasoning(rest, &mut em),
                Mode::Tool => core.tool(rest, &mut em),
            };
        }
        self.char_base += char_count(text);
        Ok(())
    }

    /// End of stream: release what is held and append the final chunk (`done=True`).
    /// `finish` is the engine's reason; a matched stop string makes it `stop`, and `stop`
    /// becomes `tool_calls` when calls were emitted.
    pub fn flush(&mut self, finish: FinishReason, out: &mut Vec<GenerationChunk>) -> Result<()> {
        if self.flushed {
            return Err(Error::usage("TextParser.flush() called twice"));
        }
        self.flushed = true;
        let mut em = Emitter::new(out, &mut self.emit, "", self.char_base);
        let core = &mut self.core;
        if let Some(prefix) = core.prefix.take() {
            em.text(&prefix);
        }
        // A section that ends here may give back text that is read again (and may open
        // another section).
        while core.stopped.is_none() && core.mode == Mode::Tool {
            core.section().finish(&mut em);
            core.end_section(&mut em);
        }
        if core.stopped.is_none() {
            let as_text = core.reasoning_as_text;
            match core.mode {
                Mode::Answer => {
                    let trim = &mut core.trim_blank;
                    core.scanner.flush(|s| em.answer_text(s, trim));
                }
                Mode::Reasoning => core.scanner.flush(|s| em.reasoning_or_text(s, as_text)),
                Mode::Tool => {}
            }
        }
        let mut reason = if core.stopped.is_some() {
            FinishReason::Stop
        } else {
            finish
        };
        if reason == FinishReason::Stop && self.emit.calls() > 0 {
            reason = FinishReason::ToolCalls;
        }
        let mut last = GenerationChunk::finish(reason);
        last.rare.stop_sequence = self.stop_sequence().map(str::to_owned);
        out.push(last);
        Ok(())
    }

    /// Convenience for tests and Rust callers: decode into a fresh vector.
    pub fn decode_to_vec(&mut self, text: &str) -> Result<Vec<GenerationChunk>> {
        let mut out = Vec::new();
        self.decode(text, &mut out)?;
        Ok(out)
    }

    pub fn flush_to_vec(&mut self, finish: FinishReason) -> Result<Vec<GenerationChunk>> {
        let mut out = Vec::new();
        self.flush(finish, &mut out)?;
        Ok(out)
    }
}

/// A reasoning format read by a tool format's own reader (Harmony's analysis channel)
/// selects that reader, and that reader takes no other reasoning markers.
fn reader_of(
    tools: Option<String>,
    reasoning: Option<ReasoningSpec>,
) -> Result<(Option<String>, Option<ReasoningSpec>)> {
    let reader = |name: &str| ReasoningSpec::named(name).and_then(|spec| spec.reader);
    match (tools, reasoning) {
        (tools, Some(spec)) if spec.reader.is_some() => {
            let reader = spec.reader.unwrap_or_default();
            match tools {
                Some(name) if name != reader => Err(Error::usage(format!(
                    "reasoning={reader:?} is read by tools={reader:?}, not by tools={name:?}"
                ))),
                _ => Ok((Some(reader.to_owned()), None)),
            }
        }
        (Some(name), Some(_)) if reader(&name).is_some() => Err(Error::usage(format!(
            "tools={name:?} reads the reasoning itself: leave reasoning unset or give {name:?}"
        ))),
        pair => Ok(pair),
    }
}

impl Core {
    /// Answer text: look for reasoning openers, tool openers and stop strings.
    fn answer<'t>(&mut self, mut text: &'t str, em: &mut Emitter<'_>) -> &'t str {
        if let (Some(leading), false) = (self.leading, self.answer_started) {
            // Formats without a start marker (Llama 3 JSON, pythonic): a call is recognised
            // only as the first non-blank thing in the answer (reasoning does not count).
            let trim = &mut self.trim_blank;
            if self.scanner.held().trim().is_empty() {
                let blank = text.len() - text.trim_start().len();
                if blank > 0 {
                    // Blanks are scanned as usual: a stop string may be made of them.
                    let blanks = &text[..blank];
                    if let Scan::Found { id, consumed } =
                        self.scanner
                            .scan(&self.answer_markers, blanks, |s| em.answer_text(s, trim))
                    {
                        return self.answer_marker(id, text, consumed, em);
                    }
                    text = &text[blank..];
                }
                if text.starts_with(leading) && self.scanner.held().trim().is_empty() {
                    self.scanner.flush(|s| em.answer_text(s, trim));
                    self.answer_started = true;
                    let offset = em.char_offset(text, 0);
                    self.section().begin(Opener::Leading, offset);
                    self.mode = Mode::Tool;
                    return text;
                }
            }
            let started = &mut self.answer_started;
            let scan = self.scanner.scan(&self.answer_markers, text, |s| {
                *started |= !s.trim().is_empty();
                em.answer_text(s, trim)
            });
            return match scan {
                Scan::Pending => "",
                Scan::Found { id, consumed } => self.answer_marker(id, text, consumed, em),
            };
        }
        let trim = &mut self.trim_blank;
        match self
            .scanner
            .scan(&self.answer_markers, text, |s| em.answer_text(s, trim))
        {
            Scan::Pending => "",
            Scan::Found { id, consumed } => self.answer_marker(id, text, consumed, em),
        }
    }

    /// Marker `id` completed after `consumed` bytes of `text`.
    fn answer_marker<'t>(
        &mut self,
        id: usize,
        text: &'t str,
        consumed: usize,
        em: &mut Emitter<'_>,
    ) -> &'t str {
        match self.answer_meaning[id] {
            AnswerMarker::Reasoning => {
                if self.reasoning_as_text {
                    em.text(self.answer_markers.pattern(id));
                }
                self.trim_blank = false;
                self.mode = Mode::Reasoning;
                self.reasoning_blank = true;
                self.reasoning_fresh = true;
            }
            AnswerMarker::Tool(n) => {
                self.trim_blank = false;
                self.answer_started = true;
                let marker_chars = char_count(self.answer_markers.pattern(id));
                let offset = em.char_offset(text, consumed).saturating_sub(marker_chars);
                self.section().begin(Opener::Marker(n), offset);
                self.mode = Mode::Tool;
            }
            AnswerMarker::Stop(n) => {
                if self.stop.include && n < self.user_stops {
                    em.text(&self.stop.strings()[n]);
                }
                self.stopped = Some(n);
            }
            AnswerMarker::Drop => self.trim_blank = self.trims_after,
        }
        &text[consumed..]
    }

    fn reasoning<'t>(&mut self, text: &'t str, em: &mut Emitter<'_>) -> &'t str {
        let (blank, fresh) = (&mut self.reasoning_blank, &mut self.reasoning_fresh);
        let as_text = self.reasoning_as_text;
        let scan = self.scanner.scan(&self.reasoning_markers, text, |s| {
            *blank &= s.trim().is_empty();
            *fresh &= s.is_empty();
            em.reasoning_or_text(s, as_text)
        });
        let Scan::Found { id, consumed } = scan else {
            return "";
        };
        let marker = self.reasoning_markers.pattern(id);
        match self.reasoning_meaning[id] {
            ReasoningMarker::End => {
                if as_text {
                    em.text(marker);
                }
                self.trim_blank = self.trims_after;
                self.mode = Mode::Answer;
            }
            ReasoningMarker::Start if self.reasoning_blank => {}
            ReasoningMarker::Label if self.reasoning_fresh => {}
            ReasoningMarker::Start | ReasoningMarker::Label => {
                self.reasoning_blank = false;
                em.reasoning_or_text(marker, as_text);
            }
            ReasoningMarker::Tool(n) => {
                em.hold_given_back();
                let opener = self
                    .tools
                    .as_ref()
                    .expect("tool markers exist only when a format is set")
                    .start_markers()[n];
                self.opened_in_reasoning = Some((opener, em.calls()));
                let offset = em
                    .char_offset(text, consumed)
                    .saturating_sub(char_count(marker));
                self.section().begin(Opener::Marker(n), offset);
                self.mode = Mode::Tool;
            }
        }
        self.reasoning_fresh = false;
        &text[consumed..]
    }

    fn tool<'t>(&mut self, text: &'t str, em: &mut Emitter<'_>) -> &'t str {
        match self.section().feed(text, em) {
            Step::NeedMore => {
                self.release_given_back(em);
                ""
            }
            Step::Ended { consumed } | Step::Invalid { at: consumed, .. } => {
                self.end_section(em);
                &text[consumed..]
            }
        }
    }

    /// Text given back while a section opened in reasoning goes on: reasoning until the
    /// section has announced a call.
    fn release_given_back(&mut self, em: &mut Emitter<'_>) {
        if let Some((_, calls)) = self.opened_in_reasoning {
            let given = em.take_given_back(false);
            if calls == em.calls() {
                em.reasoning_or_text(&given, self.reasoning_as_text);
            } else {
                em.text(&given);
            }
        }
    }

    /// The tool section ended (or the stream did, inside it).
    fn end_section(&mut self, em: &mut Emitter<'_>) {
        let Some((opener, calls)) = self.opened_in_reasoning.take() else {
            self.mode = Mode::Answer;
            return;
        };
        let given = em.take_given_back(true);
        let mut rest = given.as_str();
        if calls == em.calls() {
            // Only prose that mentions the opener: the reasoning goes on, and what the section
            // took is read again as reasoning (it may end it). The opener itself is text.
            self.mode = Mode::Reasoning;
            if let Some(after) = rest.strip_prefix(opener) {
                em.reasoning_or_text(opener, self.reasoning_as_text);
                self.reasoning_blank = false;
                rest = after;
            }
        } else {
            self.mode = Mode::Answer;
        }
        while !rest.is_empty() && self.stopped.is_none() {
            rest = match self.mode {
                Mode::Answer => self.answer(rest, em),
                Mode::Reasoning => self.reasoning(rest, em),
                Mode::Tool => self.tool(rest, em),
            };
        }
    }

    fn section(&mut self) -> &mut Box<dyn ToolSection> {
        self.tools
            .as_mut()
            .expect("tool markers exist only when a format is set")
    }
}
