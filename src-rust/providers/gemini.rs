//! Google Gemini / Vertex AI `streamGenerateContent?alt=sse` (and the non-streaming
//! `generateContent` body) -> unified chunks.
//!
//! Each SSE event is a whole `GenerateContentResponse`: `candidates[].content.parts[]` carry
//! the new text (`thought: true` marks reasoning), `functionCall` parts and server-side tool
//! parts; `usageMetadata` holds running totals (each event repeats the counts so far, so the
//! last one wins); `finishReason` arrives on the last event of a candidate.
//!
//! Function calls come whole (`{"name", "args"}`) or, with Vertex `streamFunctionCallArguments`,
//! in pieces: `{"name", "willContinue": true}` opens the call, parts with `partialArgs`
//! (`jsonPath` + a value, strings continued by `willContinue`) fill it, and a part without
//! `willContinue` (usually `functionCall: {}`) closes it. The pieces are turned into the
//! argument JSON text as they arrive (see `partial_args`).
//!
//! | Gemini `finishReason` | unified |
//! |---|---|
//! | `STOP` | `stop`, or `tool_calls` when the candidate made function calls |
//! | `MAX_TOKENS` | `length` |
//! | `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION` | `content_filter` |
//! | `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS`, `MISSING_THOUGHT_SIGNATURE`, `LANGUAGE`, `NO_IMAGE`, `IMAGE_OTHER`, `OTHER` | `error` (`error_code` = the reason, `error_message` = `finishMessage`) |
//! | `FINISH_REASON_UNSPECIFIED`, anything else | `stop` |
//! | no candidates, `promptFeedback.blockReason` set | `content_filter` |
//!
//! Parts we do not map (`executableCode`, `codeExecutionResult`, `inlineData`, `fileData`)
//! give a content-less chunk whose `raw` holds the event.
//!
//! A part's `thoughtSignature` becomes `reasoning_signature` on the first chunk that part gave
//! (on a `functionCall` part: the chunk opening that call), or on a content-less chunk of its
//! own. Gemini 3 requires it back on the same part in the next request.
//!
//! Usage: `prompt_tokens` = `promptTokenCount` + `toolUsePromptTokenCount`,
//! `completion_tokens` = `candidatesTokenCount` + `thoughtsTokenCount`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::emit::{attach_raw, sum_present, Emitter};
use super::json::JStr;
use super::partial_args::{parse_path, ArgumentsBuilder, Scalar};
use super::{Reducer, WireEvent};
use crate::chunk::FinishReason;
use crate::error::{Error, Result};
use crate::providers::Chunks;

/// More candidates than any request can ask for: a guard against absurd indices.
const MAX_CANDIDATES: u32 = 64;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Response<'a> {
    #[serde(default)]
    candidates: Vec<Candidate<'a>>,
    usage_metadata: Option<Usage>,
    prompt_feedback: Option<PromptFeedback<'a>>,
    error: Option<ApiError<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Candidate<'a> {
    content: Option<Content<'a>>,
    finish_reason: Option<JStr<'a>>,
    finish_message: Option<JStr<'a>>,
    #[serde(default)]
    index: u32,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct Content<'a> {
    #[serde(default)]
    parts: Vec<Part<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct Part<'a> {
    text: Option<JStr<'a>>,
    #[serde(default)]
    thought: bool,
    thought_signature: Option<JStr<'a>>,
    function_call: Option<FunctionCall<'a>>,
    executable_code: Option<&'a RawValue>,
    code_execution_result: Option<&'a RawValue>,
    inline_data: Option<&'a RawValue>,
    file_data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct FunctionCall<'a> {
    id: Option<JStr<'a>>,
    name: Option<JStr<'a>>,
    args: Option<&'a RawValue>,
    #[serde(default)]
    partial_args: Vec<PartialArg<'a>>,
    #[serde(default)]
    will_continue: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct PartialArg<'a> {
    json_path: JStr<'a>,
    string_value: Option<&'a RawValue>,
    number_value: Option<&'a RawValue>,
    bool_value: Option<bool>,
    null_value: Option<&'a RawValue>,
    #[serde(default)]
    will_continue: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Usage {
    prompt_token_count: Option<u64>,
    tool_use_prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(deserialize = "'de: 'a"))]
struct PromptFeedback<'a> {
    block_reason: Option<JStr<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ApiError<'a> {
    code: Option<i64>,
    message: Option<JStr<'a>>,
    status: Option<JStr<'a>>,
}

/// A function call whose arguments are still streaming.
struct StreamedCall {
    index: u32,
    arguments: ArgumentsBuilder,
}

#[derive(Default)]
struct CandidateState {
    streamed_call: Option<StreamedCall>,
    made_calls: bool,
}

pub struct GeminiReducer {
    emit: Emitter,
    candidates: Vec<CandidateState>,
    /// Reusable buffer for argument text.
    scratch: String,
}

impl Default for GeminiReducer {
    fn default() -> Self {
        GeminiReducer {
            emit: Emitter::new("gemini"),
            candidates: Vec::new(),
            scratch: String::new(),
        }
    }
}

impl GeminiReducer {
    pub fn new() -> Self {
        Self::default()
    }

    fn reduce(&mut self, data: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        let response: Response<'_> = self.emit.parse(data, offset)?;
        if let Some(error) = response.error {
            let code = error
                .status
                .map(JStr::into_string)
                .or_else(|| error.code.map(|c| c.to_string()));
            let message = error
                .message
                .map_or_else(|| "unknown error".to_owned(), JStr::into_string);
            return Err(Error::provider(code, message, data));
        }
        for candidate in response.candidates {
            self.reduce_candidate(candidate, data, offset, out)?;
        }
        if let Some(reason) = response.prompt_feedback.and_then(|f| f.block_reason) {
            if self.emit.ending.finish_reason.is_none() && !reason.is_empty() {
                self.emit.set_finish(FinishReason::ContentFilter, data);
            }
        }
        if let Some(usage) = response.usage_metadata {
            let ending = &mut self.emit.ending;
            if usage.prompt_token_count.is_some() {
                ending.prompt_tokens =
                    sum_present(&[usage.prompt_token_count, usage.tool_use_prompt_token_count]);
            }
            if let Some(total) =
                sum_present(&[usage.candidates_token_count, usage.thoughts_token_count])
            {
                ending.completion_tokens = Some(total);
            }
        }
        Ok(())
    }

    fn reduce_candidate(
        &mut self,
        candidate: Candidate<'_>,
        raw: &str,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        let index = candidate.index;
        if index >= MAX_CANDIDATES {
            return Err(Error::protocol(
                format!("gemini candidate index {index} is out of range (at most {MAX_CANDIDATES} candidates)"),
                Some(offset),
            ));
        }
        let slot = index as usize;
        if self.candidates.len() <= slot {
            self.candidates
                .resize_with(slot + 1, CandidateState::default);
        }
        let start = out.len();
        for part in candidate.content.into_iter().flat_map(|c| c.parts) {
            self.reduce_part(slot, part, offset, out)?;
        }
        if let Some(reason) = candidate.finish_reason {
            self.close_streamed_call(slot, out);
            // Only the first candidate decides how the stream ended (one terminal chunk).
            if slot == 0 || self.emit.ending.finish_reason.is_none() {
                let made_calls = self.candidates[slot].made_calls;
                let (finish, failed) = map_finish_reason(&reason, made_calls);
                self.emit.set_finish(finish, raw);
                let ending = &mut self.emit.ending;
                if failed {
                    ending.error_code = Some(reason.into_string());
                    ending.error_message = candidate.finish_message.map(JStr::into_string);
                } else {
                    ending.error_code = None;
                    ending.error_message = None;
                }
            }
        }
        for chunk in &mut out[start..] {
            chunk.choice_index = index;
        }
        Ok(())
    }

    /// A part's chunks. Its `thoughtSignature` goes on the part's own first chunk (for a
    /// `functionCall` part, the chunk that opens the call), or on a chunk of its own when the
    /// part gave none: encoders then write it before the part's content, as Anthropic orders
    /// a thinking block's signature before the text or tool call that follows.
    fn reduce_part(
        &mut self,
        slot: usize,
        mut part: Part<'_>,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        let mut signature = part.thought_signature.take().filter(|s| !s.is_empty());
        self.reduce_part_content(slot, part, &mut signature, offset, out)?;
        if let Some(signature) = signature {
            self.emit
                .reasoning_signature(Some(signature.into_string()), out);
        }
        Ok(())
    }

    fn reduce_part_content(
        &mut self,
        slot: usize,
        part: Part<'_>,
        signature: &mut Option<JStr<'_>>,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        if let Some(call) = part.function_call {
            return self.reduce_function_call(slot, call, signature, offset, out);
        }
        let text = part.text.as_deref().unwrap_or("");
        // Server-side tool activity and media are output we do not map: reachable via `raw`.
        let unmapped = part.executable_code.is_some()
            || part.code_execution_result.is_some()
            || part.inline_data.is_some()
            || part.file_data.is_some();
        if text.is_empty() && !unmapped {
            // Empty parts (often carrying only a thoughtSignature) add no content.
            return Ok(());
        }
        self.close_streamed_call(slot, out);
        let own = out.len();
        if unmapped {
            self.emit.raw_only(out);
        } else if part.thought {
            self.emit.reasoning(text, out);
        } else {
            self.emit.text(text, out);
        }
        sign(out, own, signature);
        Ok(())
    }

    fn reduce_function_call(
        &mut self,
        slot: usize,
        call: FunctionCall<'_>,
        signature: &mut Option<JStr<'_>>,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        if let Some(name) = call.name.as_deref().filter(|n| !n.is_empty()) {
            self.close_streamed_call(slot, out);
            let own = out.len();
            let index = self
                .emit
                .start_tool_call(call.id.as_deref(), Some(name), out);
            sign(out, own, signature);
            self.candidates[slot].made_calls = true;
            if let Some(args) = call.args {
                self.emit.tool_arguments(index, args.get(), out);
                return Ok(());
            }
            let opened = StreamedCall {
                index,
                arguments: ArgumentsBuilder::default(),
            };
            return self.stream_arguments(slot, opened, &call, offset, out);
        }
        let Some(streamed) = self.candidates[slot].streamed_call.take() else {
            if call.partial_args.is_empty() && call.args.is_none() {
                return Ok(()); // a stray end marker
            }
            return Err(self.emit.bad_json(
                "functionCall arguments without a name and no call in progress",
                offset,
            ));
        };
        self.stream_arguments(slot, streamed, &call, offset, out)
    }

    /// A part's `partialArgs` applied to the call in progress: the argument text they add is
    /// sent, and the call stays open while the part says `willContinue`.
    fn stream_arguments(
        &mut self,
        slot: usize,
        mut streamed: StreamedCall,
        call: &FunctionCall<'_>,
        offset: u64,
        out: &mut Chunks,
    ) -> Result<()> {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let applied = apply_partial_args(&mut streamed.arguments, &call.partial_args, &mut text);
        if applied.is_ok() && !call.will_continue {
            streamed.arguments.finish(&mut text);
        }
        self.emit.tool_arguments(streamed.index, text.as_str(), out);
        self.scratch = text;
        applied.map_err(|e| self.emit.bad_json(e, offset))?;
        if call.will_continue {
            self.candidates[slot].streamed_call = Some(streamed);
        }
        Ok(())
    }

    /// Close the arguments of a call still streaming (its end marker never came).
    fn close_streamed_call(&mut self, slot: usize, out: &mut Chunks) {
        if let Some(mut streamed) = self.candidates[slot].streamed_call.take() {
            let mut text = String::new();
            streamed.arguments.finish(&mut text);
            self.emit.tool_arguments(streamed.index, text, out);
        }
    }
}

/// Put the part's signature on `out[at]`, the part's own first chunk, when there is one.
fn sign(out: &mut Chunks, at: usize, signature: &mut Option<JStr<'_>>) {
    if let Some(chunk) = out.get_mut(at) {
        if let Some(signature) = signature.take() {
            chunk.rare.reasoning_signature = Some(signature.into_string());
        }
    }
}

fn apply_partial_args(
    arguments: &mut ArgumentsBuilder,
    pieces: &[PartialArg<'_>],
    out: &mut String,
) -> std::result::Result<(), String> {
    for piece in pieces {
        let path = parse_path(&piece.json_path)?;
        let value = if let Some(text) = piece.string_value {
            Scalar::String(text.get())
        } else if let Some(number) = piece.number_value {
            Scalar::Other(number.get())
        } else if let Some(flag) = piece.bool_value {
            Scalar::Other(if flag { "true" } else { "false" })
        } else if piece.null_value.is_some() {
            Scalar::Other("null")
        } else {
            return Err(format!(
                "partialArgs entry for {:?} has no value",
                piece.json_path.as_str()
            ));
        };
        arguments.apply(&path, value, piece.will_continue, out)?;
    }
    Ok(())
}

/// Gemini `finishReason` -> (unified reason, whether it is a failure worth an error code).
fn map_finish_reason(reason: &str, made_calls: bool) -> (FinishReason, bool) {
    match reason {
        "STOP" if made_calls => (FinishReason::ToolCalls, false),
        "MAX_TOKENS" => (FinishReason::Length, false),
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => (FinishReason::ContentFilter, false),
        "MALFORMED_FUNCTION_CALL"
        | "UNEXPECTED_TOOL_CALL"
        | "TOO_MANY_TOOL_CALLS"
        | "MISSING_THOUGHT_SIGNATURE"
        | "LANGUAGE"
        | "NO_IMAGE"
        | "IMAGE_OTHER"
        | "OTHER" => (FinishReason::Error, true),
        _ => (FinishReason::Stop, false),
    }
}

impl Reducer for GeminiReducer {
    fn on_event(&mut self, event: &WireEvent<'_>, out: &mut Chunks) -> Result<()> {
        self.reduce(event.data, event.offset, out)
    }

    fn finish(&mut self, out: &mut Chunks) -> Result<()> {
        for slot in 0..self.candidates.len() {
            if self.candidates[slot].streamed_call.is_some() {
                // The stream ended inside a call: close its JSON so the arguments parse.
                let mut chunks = Vec::new();
                self.close_streamed_call(slot, &mut chunks);
                for mut chunk in chunks {
                    chunk.choice_index = slot as u32;
                    out.push(chunk);
                }
            }
        }
        self.emit.finish(out)
    }

    /// A `generateContent` body, or the JSON array `streamGenerateContent` returns without
    /// `alt=sse`.
    fn on_complete_body(&mut self, body: &str, offset: u64, out: &mut Chunks) -> Result<()> {
        if body.trim_start().starts_with('[') {
            let responses: Vec<&RawValue> = self.emit.parse(body, offset)?;
            for response in responses {
                // Each element is one streamed event: its chunks carry it as `raw`.
                let start = out.len();
                self.reduce(response.get(), offset, out)?;
                attach_raw(&mut out[start..], response.get());
            }
        } else {
            self.reduce(body, offset, out)?;
        }
        self.finish(out)
    }
}
