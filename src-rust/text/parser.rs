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
    /// Markers removed from answer text (a response template's content delimiters).
    pub strip: Vec<String>,
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
    Strip,
    Stop(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReasoningMarker {
    End,
    /// An opener seen inside reasoning: dropped when nothing but blanks came before.
    Start,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Answer,
    Reasoning,
    Tool,
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
    stopped: Option<usize>,
    /// Stop strings past this index are the format's `end` markers.
    user_stops: usize,
}

impl TextParser {
    pub fn new(config: TextParserConfig) -> Result<TextParser> {
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

        // Answer mode: reasoning openers, then tool openers, then stops (ties go to markers,
        // so a stop string equal to a marker never hides a call or a section).
        let mut answer_patterns: Vec<&str> = Vec::new();
        let mut answer_meaning = Vec::new();
        if let Some(spec) = &config.reasoning {
            for start in &spec.starts {
                answer_patterns.push(start);
                answer_meaning.push(AnswerMarker::Reasoning);
            }
        }
        if let Some(section) = &tools {
            for (n, marker) in section.start_markers().iter().enumerate() {
                answer_patterns.push(marker);
                answer_meaning.push(AnswerMarker::Tool(n));
            }
        }
        for marker in &config.strip {
            answer_patterns.push(marker);
            answer_meaning.push(AnswerMarker::Strip);
        }
        for (n, s) in stop.strings().iter().enumerate() {
            answer_patterns.push(s);
            answer_meaning.push(AnswerMarker::Stop(n));
        }

        let mut reasoning_patterns: Vec<&str> = Vec::new();
        let mut reasoning_meaning = Vec::new();
        let mut starts_inside = false;
        if let Some(spec) = &config.reasoning {
            starts_inside = spec.starts_inside;
            for end in &spec.ends {
                reasoning_patterns.push(end);
                reasoning_meaning.push(ReasoningMarker::End);
            }
            for start in &spec.starts {
                reasoning_patterns.push(start);
                reasoning_meaning.push(ReasoningMarker::Start);
            }
        }

        let core = Core {
            answer_markers: Markers::shared(&answer_patterns),
            answer_meaning,
            reasoning_markers: Markers::shared(&reasoning_patterns),
            reasoning_meaning,
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
        if core.stopped.is_none() {
            match core.mode {
                Mode::Answer => core.scanner.flush(|s| em.text(s)),
                Mode::Reasoning => core.scanner.flush(|s| em.reasoning(s)),
                Mode::Tool => {
                    if let Some(section) = core.tools.as_mut() {
                        section.finish(&mut em);
                    }
                }
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
        last.stop_sequence = self.stop_sequence().map(str::to_owned);
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

impl Core {
    /// Answer text: look for reasoning openers, tool openers and stop strings.
    fn answer<'t>(&mut self, mut text: &'t str, em: &mut Emitter<'_>) -> &'t str {
        if let (Some(leading), false) = (self.leading, self.answer_started) {
            // Formats without a start marker (Llama 3 JSON, pythonic): a call is recognised
            // only as the first non-blank thing in the answer (reasoning does not count).
            if self.scanner.held().trim().is_empty() {
                let blank = text.len() - text.trim_start().len();
                if blank > 0 {
                    // Blanks are scanned as usual: a stop string may be made of them.
                    let blanks = &text[..blank];
                    if let Scan::Found { id, consumed } =
                        self.scanner
                            .scan(&self.answer_markers, blanks, |s| em.text(s))
                    {
                        return self.answer_marker(id, text, consumed, em);
                    }
                    text = &text[blank..];
                }
                if text.starts_with(leading) && self.scanner.held().trim().is_empty() {
                    self.scanner.flush(|s| em.text(s));
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
                em.text(s)
            });
            return match scan {
                Scan::Pending => "",
                Scan::Found { id, consumed } => self.answer_marker(id, text, consumed, em),
            };
        }
        match self
            .scanner
            .scan(&self.answer_markers, text, |s| em.text(s))
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
                self.mode = Mode::Reasoning;
                self.reasoning_blank = true;
            }
            AnswerMarker::Tool(n) => {
                self.answer_started = true;
                let marker_chars = char_count(self.answer_markers.pattern(id));
                let offset = em.char_offset(text, consumed).saturating_sub(marker_chars);
                self.section().begin(Opener::Marker(n), offset);
                self.mode = Mode::Tool;
            }
            AnswerMarker::Strip => {}
            AnswerMarker::Stop(n) => {
                if self.stop.include && n < self.user_stops {
                    em.text(&self.stop.strings()[n]);
                }
                self.stopped = Some(n);
            }
        }
        &text[consumed..]
    }

    fn reasoning<'t>(&mut self, text: &'t str, em: &mut Emitter<'_>) -> &'t str {
        let blank = &mut self.reasoning_blank;
        let scan = self.scanner.scan(&self.reasoning_markers, text, |s| {
            *blank &= s.trim().is_empty();
            em.reasoning(s)
        });
        match scan {
            Scan::Pending => "",
            Scan::Found { id, consumed } => {
                match self.reasoning_meaning[id] {
                    ReasoningMarker::End => self.mode = Mode::Answer,
                    ReasoningMarker::Start if self.reasoning_blank => {}
                    ReasoningMarker::Start => em.reasoning(self.reasoning_markers.pattern(id)),
                }
                &text[consumed..]
            }
        }
    }

    fn tool<'t>(&mut self, text: &'t str, em: &mut Emitter<'_>) -> &'t str {
        match self.section().feed(text, em) {
            Step::NeedMore => "",
            Step::Ended { consumed } | Step::Invalid { at: consumed, .. } => {
                self.mode = Mode::Answer;
                &text[consumed..]
            }
        }
    }

    fn section(&mut self) -> &mut Box<dyn ToolSection> {
        self.tools
            .as_mut()
            .expect("tool markers exist only when a format is set")
    }
}
