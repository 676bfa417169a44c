//! What each template of tests/data/response_templates compiles to, and the refusals.

use super::*;

fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/response_templates")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ok(json: &str) -> CompiledTemplate {
    compile(json, None).unwrap_or_else(|e| panic!("{e}"))
}

fn err(json: &str) -> TemplateError {
    compile(json, None).expect_err("should be refused")
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The tools of a template whose calls are JSON between one opener and its closer.
fn json_tools(opener: &str, closer: &str, body: Body) -> Option<TemplateTools> {
    Some(TemplateTools::Row(CustomRow::Json(JsonRow {
        openers: strings(&[opener]),
        closers: vec![Some(closer.into())],
        body,
    })))
}

fn think(starts_inside: bool) -> ReasoningSpec {
    ReasoningSpec {
        starts: strings(&["<think>"]),
        ends: strings(&["</think>"]),
        starts_inside,
        ..ReasoningSpec::default()
    }
}

#[test]
fn a_tokenizer_config_with_hermes_style_calls() {
    let t = ok(&data("smollm3/tokenizer_config.json"));
    assert_eq!(t.reasoning, Some(think(false)));
    assert_eq!(
        t.tools,
        json_tools("<tool_call>", "</tool_call>", Body::Object)
    );
    assert_eq!(t.end, strings(&["<|im_end|>"]));
    assert!(t.strip.is_empty());
}

#[test]
fn xml_inline_calls_become_an_xml_row() {
    let t = ok(&data("qwen3_coder.json"));
    assert_eq!(
        t.tools,
        Some(TemplateTools::Row(CustomRow::Xml(XmlRow {
            openers: strings(&["<tool_call>"]),
            closers: strings(&["</tool_call>"]),
            invoke: "<function=".into(),
            invoke_end: "</function>".into(),
            param: "<parameter=".into(),
            param_end: "</parameter>".into(),
            quoted: false,
            untyped: Untyped::Guess,
        })))
    );
    assert_eq!(t.end, strings(&["<|im_end|>", "<|endoftext|>"]));

    let t = ok(&data("minimax_xml.json"));
    let Some(TemplateTools::Row(CustomRow::Xml(row))) = t.tools else {
        panic!("not an XML row");
    };
    assert_eq!(
        (
            row.invoke.as_str(),
            row.invoke_end.as_str(),
            row.param.as_str()
        ),
        ("<invoke name=", "</invoke>", "<parameter name=")
    );
    assert!(row.quoted);
    assert_eq!(row.openers, strings(&["<minimax:tool_call>"]));
}

#[test]
fn explicit_content_delimiters_are_stripped() {
    let t = ok(&data("cohere_command_a.json"));
    assert_eq!(
        t.strip,
        strings(&["<|START_RESPONSE|>", "<|END_RESPONSE|>"])
    );
    assert!(t.end.is_empty());
    assert_eq!(
        t.tools,
        json_tools("<|START_ACTION|>", "<|END_ACTION|>", Body::Either)
    );
}

#[test]
fn a_start_alternative_means_the_output_starts_in_reasoning() {
    let t = ok(&data("ernie45.json"));
    assert_eq!(t.reasoning, Some(think(true)));
    assert_eq!(
        t.strip,
        strings(&["<response>\n", "\n</response>", "</response>"])
    );
}

#[test]
fn named_layouts() {
    let t = ok(&data("gemma4.json"));
    assert_eq!(t.tools, Some(TemplateTools::Named("gemma4")));
    assert_eq!(t.end, strings(&["<turn|>", "<|tool_response>", "<eos>"]));
    assert_eq!(
        t.reasoning.unwrap().starts,
        strings(&["<|channel>thought\n"])
    );
    // Harmony is its own format: compiled to it when this build has it, refused otherwise.
    match compile(&data("gpt_oss.json"), None) {
        Ok(t) => assert_eq!(
            t,
            CompiledTemplate {
                tools: Some(TemplateTools::Named("harmony")),
                ..CompiledTemplate::default()
            }
        ),
        Err(e) => {
            assert!(!TOOL_FORMATS.contains(&"harmony"));
            assert!(e.to_string().contains("\"harmony\" layout"), "{e}");
        }
    }
}

#[test]
fn custom_markers_and_reasoning_aliases() {
    let t = ok(&data("custom_json.json"));
    assert_eq!(
        t.reasoning,
        Some(ReasoningSpec {
            starts: strings(&["<reasoning>", "<thought>"]),
            ends: strings(&["</reasoning>", "</thought>"]),
            starts_inside: false,
            ..ReasoningSpec::default()
        })
    );
    assert_eq!(
        t.tools,
        json_tools("<|function_call|>", "<|/function_call|>", Body::Object)
    );
    assert!(t.end.is_empty(), "eos closes nothing");
}

#[test]
fn the_prefix_says_whether_reasoning_is_open() {
    let json = data("smollm3/tokenizer_config.json");
    let earlier =
        "<|im_start|>assistant\n<think>old</think>done<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n";
    for (tail, inside) in [
        ("<|im_start|>assistant\n<think>\n", true),
        ("<|im_start|>assistant\n<think>\n\n</think>\n\n", false),
        ("<|im_start|>assistant\n", false),
    ] {
        let prefix = format!("{earlier}{tail}");
        let t = compile(&json, Some(&prefix)).unwrap();
        assert_eq!(t.reasoning.unwrap().starts_inside, inside, "{tail:?}");
    }
    // An earlier turn's open reasoning does not count: only the text after the last anchor.
    let prefix = "<|im_start|>assistant\n<think>cut off<|im_end|><|im_start|>assistant\n";
    assert!(
        !compile(&json, Some(prefix))
            .unwrap()
            .reasoning
            .unwrap()
            .starts_inside
    );
    // `^` among the openers: inside unless the prompt already closed it.
    let ernie = data("ernie45.json");
    assert!(
        compile(&ernie, Some("User: hi\nAssistant:"))
            .unwrap()
            .reasoning
            .unwrap()
            .starts_inside
    );
    assert!(
        !compile(&ernie, Some("Assistant:</think>\n"))
            .unwrap()
            .reasoning
            .unwrap()
            .starts_inside
    );
}

#[test]
fn refusals_name_the_field_and_key() {
    for (json, field, key, words) in [
        (r#"[]"#, None, None, "JSON object"),
        (r#"{"x": 1"#, None, None, "not valid JSON"),
        (r#"{"eos_token": "</s>"}"#, None, None, "no `fields`"),
        (
            r#"{"response_schema": {"type": "object"}}"#,
            None,
            None,
            "response_schema",
        ),
        (r#"{"fields": {}}"#, None, None, "non-empty"),
        (
            r#"{"version": 2, "fields": {"content": {}}}"#,
            None,
            None,
            "version",
        ),
        (
            r#"{"defaults": {"role": "assistant", "name": "x"}, "fields": {"content": {}}}"#,
            None,
            None,
            "\"name\"",
        ),
        (
            r#"{"fields": {"content": {}}, "other": 1}"#,
            None,
            None,
            "unknown key",
        ),
        (
            r#"{"fields": {"summary": {"open": "<s>"}}}"#,
            Some("summary"),
            None,
            "only thinking",
        ),
        (
            r#"{"fields": {"content": {"opn": "x"}}}"#,
            Some("content"),
            Some("opn"),
            "unknown key",
        ),
        (
            r#"{"fields": {"thinking": {"open": "<t>"}}}"#,
            Some("thinking"),
            Some("close"),
            "close marker",
        ),
        (
            r#"{"fields": {"thinking": {"open": "<t>", "close": "</t>", "content": "json"}}}"#,
            Some("thinking"),
            Some("content"),
            "text",
        ),
        (
            r#"{"fields": {"thinking": {"open": "", "close": "</t>"}}}"#,
            Some("thinking"),
            Some("open"),
            "empty",
        ),
        (
            r#"{"fields": {"thinking": {"open_pattern": "<t(?=x)>", "close": "</t>"}}}"#,
            Some("thinking"),
            Some("open_pattern"),
            "lookarounds",
        ),
        (
            r#"{"fields": {"thinking": {"open_pattern": "<t>\\s*<u>", "close": "</t>"}}}"#,
            Some("thinking"),
            Some("open_pattern"),
            "literal",
        ),
        (
            r#"{"fields": {"content": {}, "thinking": {"close": "</t>"}}}"#,
            None,
            None,
            "at most one field",
        ),
        (
            r#"{"fields": {"tool_calls": {"open": "<c>", "content": "kv-lines"}}}"#,
            Some("tool_calls"),
            Some("content"),
            "kv-lines",
        ),
        (
            r#"{"fields": {"tool_calls": {"open": "<c>", "content": "json", "transform": {"function": {"name": "{content.fn}", "arguments": "{content.args}"}}}}}"#,
            Some("tool_calls"),
            Some("transform"),
            "\"fn\"",
        ),
        (
            r#"{"fields": {"tool_calls": {"open": "<c>", "content": "json", "content_args": {"unquoted_keys": true}}}}"#,
            Some("tool_calls"),
            Some("content_args"),
            "unquoted_keys",
        ),
        (
            r#"{"fields": {"tool_calls": {"open_pattern": "<c (?P<name>\\w+)>", "content": "json", "transform": {"function": {"name": "{name}", "arguments": "{content}"}}}}}"#,
            Some("tool_calls"),
            Some("open_pattern"),
            "Gemma 4 and Harmony",
        ),
        (
            r#"{"fields": {"tool_calls": {"open_pattern": "<function=(?P<name>\\w+)>", "close": "</function>", "content": "xml-inline", "content_args": {"tag_pattern": "<parameter=(?P<key>\\w+)>(?P<value>.*?)</parameter>"}}}}"#,
            Some("tool_calls"),
            Some("open_pattern"),
            "block marker",
        ),
        (
            r#"{"fields": {"tool_calls": {"open_pattern": "<b><f=(?P<name>\\w+)>", "close": "</b>", "content": "xml-inline", "content_args": {"tag_pattern": "<p (?P<key>\\w+)>(?P<value>.*?)</p>", "merge_duplicates": true}}}}"#,
            Some("tool_calls"),
            Some("content_args"),
            "merge_duplicates",
        ),
        (
            r#"{"fields": {"tool_calls": {"content": "json"}, "content": {}}}"#,
            Some("tool_calls"),
            Some("open"),
            "open marker",
        ),
    ] {
        let error = err(json);
        assert_eq!(error.field.as_deref(), field, "{json}: {error}");
        assert_eq!(error.key.as_deref(), key, "{json}: {error}");
        assert!(error.to_string().contains(words), "{json}: {error}");
    }
}

#[test]
fn caps_and_clashes_at_the_top() {
    let both =
        err(r#"{"start_anchor": "a", "start_anchor_pattern": "a", "fields": {"content": {}}}"#);
    assert!(both.to_string().contains("not both"), "{both}");
    let many: Vec<String> = (0..40).map(|i| format!("<m{i}>")).collect();
    let json = format!(r#"{{"fields": {{"content": {{"open": {many:?}, "close": "x"}}}}}}"#);
    let error = err(&json);
    assert_eq!(
        (error.field.as_deref(), error.key.as_deref()),
        (Some("content"), Some("open"))
    );
    assert!(
        error.to_string().contains("more than 32 markers"),
        "{error}"
    );
}

#[test]
fn applying_keeps_the_callers_stops() {
    let t = ok(&data("smollm3/tokenizer_config.json"));
    let config = t
        .apply(TextParserConfig {
            stop: strings(&["Observation:"]),
            ..TextParserConfig::default()
        })
        .unwrap();
    assert_eq!(config.stop, strings(&["Observation:"]));
    assert_eq!(config.end, strings(&["<|im_end|>"]));
    assert!(config.tool_grammar.is_some() && config.tools.is_none());
    let clash = ok(&data("gemma4.json")).apply(TextParserConfig {
        tools: Some("hermes".into()),
        ..TextParserConfig::default()
    });
    assert!(clash.is_err());
}
