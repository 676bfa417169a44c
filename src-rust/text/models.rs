//! Which tool-call and reasoning formats a model writes, from its name.
//!
//! `MODEL_TABLE` maps name patterns to `(tools, reasoning)`. A pattern matches anywhere in the
//! model name, case-insensitively, after any organisation prefix (`Qwen/`, `unsloth/`,
//! `mlx-community/`) is taken off; when several match, the longest pattern wins, so
//! `qwen3-coder` beats `qwen3` and `deepseek-r1-distill` beats `deepseek-r1`. Unknown names give
//! `(None, None)`. Each row says what the model's own chat template makes it write (sources:
//! the model cards and the parsers vLLM / SGLang pair with each model).

/// `(pattern, tools, reasoning)`; patterns are lower case.
type Row = (&'static str, Option<&'static str>, Option<&'static str>);

pub const MODEL_TABLE: &[Row] = &[
    // Qwen: Qwen3 hybrid writes `<think>`; -2507 Thinking / 3.5+ have it in the prompt.
    ("qwen2.5", Some("hermes"), None),
    ("qwq", Some("hermes"), Some("qwen3")),
    ("qwen3", Some("hermes"), Some("think")),
    ("thinking-2507", Some("hermes"), Some("qwen3")),
    ("instruct-2507", Some("hermes"), None),
    ("qwen3-coder", Some("qwen3-coder"), None),
    ("qwen3.5", Some("qwen3-coder"), Some("qwen3")),
    ("qwen3.6", Some("qwen3-coder"), Some("qwen3")),
    // DeepSeek: V3.1 / V3.2 / V4 are hybrid, non-thinking by default.
    ("deepseek-v3", Some("deepseek-v3"), None),
    ("deepseek-r1", Some("deepseek-v3"), Some("deepseek-r1")),
    ("deepseek-r1-distill", None, Some("deepseek-r1")),
    ("deepseek-v3.1", Some("deepseek-v3.1"), None),
    ("deepseek-v3.2", Some("deepseek-v3.2"), None),
    ("deepseek-v3.2-exp", Some("deepseek-v3.1"), None),
    ("deepseek-v4", Some("deepseek-v3.2"), None),
    // GLM (Z.ai): 4.5 / 4.6 with a newline after the name, 4.7 / 5 without.
    ("glm-4.5", Some("glm-4.5"), Some("glm-4.5")),
    ("glm-4.6", Some("glm-4.5"), Some("glm-4.5")),
    ("glm-4.7", Some("glm-4.7"), Some("glm-4.5")),
    ("glm-5", Some("glm-4.7"), Some("glm-4.5")),
    // Kimi (Moonshot).
    ("kimi-k2", Some("kimi-k2"), None),
    ("kimi-k2-thinking", Some("kimi-k2"), Some("kimi-k2")),
    ("kimi-k2.5", Some("kimi-k2"), Some("kimi-k2")),
    // MiniMax: M2 as vLLM recommends serving it (append-think).
    ("minimax-m2", Some("minimax-m2"), Some("minimax-m2")),
    ("minimax-m3", None, Some("minimax-m3")),
    // Mistral AI: tokenizer v13+ models think in [THINK] when they reason.
    ("mistral", Some("mistral"), None),
    ("mixtral", Some("mistral"), None),
    ("ministral", Some("mistral"), None),
    ("devstral", Some("mistral"), None),
    ("magistral", Some("mistral"), Some("mistral")),
    // Meta Llama: 3.x JSON, 4 pythonic (spelt `Llama-3.1` on the Hub, `llama3.1` in Ollama).
    ("llama-3", Some("llama3-json"), None),
    ("llama3", Some("llama3-json"), None),
    ("llama-4", Some("llama4-pythonic"), None),
    ("llama4", Some("llama4-pythonic"), None),
    // IBM Granite: 3.0 / 3.1 arrays, 3.2 / 3.3 also reasoning phrases, 4 writes Hermes.
    ("granite", Some("granite"), None),
    ("granite-3.2", Some("granite"), Some("granite")),
    ("granite-3.3", Some("granite"), Some("granite")),
    ("granite-4", Some("hermes"), None),
    // Nous Hermes.
    ("hermes-2-pro", Some("hermes"), None),
    ("hermes-3", Some("hermes"), None),
    ("hermes-4", Some("hermes"), Some("think")),
    // Tencent Hunyuan, Baidu ERNIE.
    ("hunyuan", Some("hunyuan"), Some("hunyuan")),
    ("ernie-4.5", Some("ernie45"), None),
    (
        "ernie-4.5-21b-a3b-thinking",
        Some("ernie45"),
        Some("ernie45"),
    ),
    // Google Gemma 4 (Gemma 3 has no tool-call format of its own).
    ("gemma-4", Some("gemma4"), Some("gemma4")),
    ("gemma4", Some("gemma4"), Some("gemma4")),
    // NVIDIA Nemotron: Nemotron 3 Nano writes Qwen3-Coder XML (unsure for the others).
    ("nemotron", None, Some("nemotron")),
    ("nemotron-3-nano", Some("qwen3-coder"), Some("nemotron")),
    // AllenAI Olmo 3: the Think models reason.
    ("olmo-3", Some("olmo3"), None),
    ("olmo-3-7b-think", Some("olmo3"), Some("olmo3")),
    ("olmo-3-32b-think", Some("olmo3"), Some("olmo3")),
    ("olmo-3.1-32b-think", Some("olmo3"), Some("olmo3")),
    // ByteDance Seed-OSS, StepFun Step-3 (Step-3.5 writes Qwen3-Coder XML).
    ("seed-oss", Some("seed-oss"), Some("seed-oss")),
    ("step-3", Some("step3"), Some("step3")),
    ("step3", Some("step3"), Some("step3")),
    ("step-3.5", Some("qwen3-coder"), Some("step3")),
    // Microsoft Phi-4-mini, Salesforce xLAM, InternLM 2 / 2.5, AI21 Jamba.
    ("phi-4-mini", Some("phi4-mini"), None),
    ("xlam", Some("xlam"), None),
    ("internlm2", Some("internlm"), None),
    ("jamba", Some("jamba"), None),
    // Meituan LongCat, Liquid LFM2.
    ("longcat-flash", Some("longcat"), None),
    ("longcat-flash-thinking", Some("longcat"), Some("longcat")),
    ("lfm2", Some("lfm2"), None),
    // Cohere Command R7B / Command A.
    ("command-r7b", Some("cohere"), Some("cohere")),
    ("command-a", Some("cohere"), Some("cohere")),
    // OpenAI gpt-oss.
    ("gpt-oss", Some("harmony"), Some("harmony")),
];

/// `(tools, reasoning)` for a model name (see the module docs); `(None, None)` when unknown.
pub fn formats_for_model(name: &str) -> (Option<&'static str>, Option<&'static str>) {
    let model = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let mut best: Option<&Row> = None;
    for row in MODEL_TABLE {
        if model.contains(row.0) && best.is_none_or(|b| row.0.len() > b.0.len()) {
            best = Some(row);
        }
    }
    best.map_or((None, None), |row| (row.1, row.2))
}

#[cfg(test)]
mod tests {
    use super::super::{REASONING_FORMATS, TOOL_FORMATS};
    use super::*;

    #[test]
    fn every_format_named_in_the_table_is_registered() {
        // `harmony` lands with the Harmony parser (`text/harmony*`); until it is registered
        // its row is skipped here, and any other unknown name fails.
        let pending = ["harmony"];
        for (pattern, tools, reasoning) in MODEL_TABLE {
            assert_eq!(*pattern, pattern.to_ascii_lowercase(), "{pattern}");
            for (name, known) in [(tools, TOOL_FORMATS), (reasoning, REASONING_FORMATS)] {
                if let Some(name) = name {
                    assert!(
                        known.contains(name) || pending.contains(name),
                        "{pattern}: {name} is not a registered format"
                    );
                }
            }
        }
    }

    #[test]
    fn patterns_are_unique() {
        for (n, row) in MODEL_TABLE.iter().enumerate() {
            assert!(
                MODEL_TABLE[..n].iter().all(|earlier| earlier.0 != row.0),
                "{} twice",
                row.0
            );
        }
    }

    #[test]
    fn longest_pattern_wins_case_and_organisation_aside() {
        let cases = [
            (
                "Qwen/Qwen3-Coder-30B-A3B-Instruct",
                (Some("qwen3-coder"), None),
            ),
            ("qwen3-8b", (Some("hermes"), Some("think"))),
            (
                "Qwen/Qwen3-235B-A22B-Thinking-2507",
                (Some("hermes"), Some("qwen3")),
            ),
            (
                "Qwen/Qwen3.5-397B-A17B",
                (Some("qwen3-coder"), Some("qwen3")),
            ),
            (
                "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
                (None, Some("deepseek-r1")),
            ),
            (
                "deepseek-ai/DeepSeek-V3.2-Exp",
                (Some("deepseek-v3.1"), None),
            ),
            (
                "meta-llama/Llama-3.1-8B-Instruct",
                (Some("llama3-json"), None),
            ),
            (
                "mlx-community/Llama-4-Scout-17B-16E-Instruct-4bit",
                (Some("llama4-pythonic"), None),
            ),
            (
                "mistralai/Magistral-Small-2509",
                (Some("mistral"), Some("mistral")),
            ),
            ("zai-org/GLM-4.7", (Some("glm-4.7"), Some("glm-4.5"))),
            ("openai/gpt-oss-20b", (Some("harmony"), Some("harmony"))),
            ("gpt-oss-120b", (Some("harmony"), Some("harmony"))),
            ("gpt-4o", (None, None)),
            ("", (None, None)),
        ];
        for (name, want) in cases {
            assert_eq!(formats_for_model(name), want, "{name}");
        }
    }
}
