//! Which tool-call and reasoning formats a model writes, from its name.
//!
//! `MODEL_TABLE` maps name patterns to `(tools, reasoning)`. A pattern matches anywhere in the
//! model name, case-insensitively, after any organisation prefix (`Qwen/`, `unsloth/`,
//! `mlx-community/`) is taken off; when several match, the longest pattern wins, so
//! `qwen3-coder` beats `qwen3` and `deepseek-r1-distill` beats `deepseek-r1`. Unknown names give
//! `(None, None)`. Each row says what the model's own chat template makes it write (sources:
//! the model cards and the parsers vLLM / SGLang pair with each model).

/// One row a line: `pattern tools reasoning` (`-`: none); `#` starts a comment line.
/// Patterns are lower case.
pub const MODEL_TABLE: &str = "\
# Qwen: Qwen3 hybrid writes `<think>`; -2507 Thinking / 3.5+ have it in the prompt.
qwen2.5                     hermes            -
qwq                         hermes            qwen3
qwen3                       hermes            think
thinking-2507               hermes            qwen3
instruct-2507               hermes            -
qwen3-coder                 qwen3-coder       -
qwen3.5                     qwen3-coder       qwen3
qwen3.6                     qwen3-coder       qwen3
# DeepSeek: V3.1 / V3.2 / V4 are hybrid, non-thinking by default.
deepseek-v3                 deepseek-v3       -
deepseek-r1                 deepseek-v3       deepseek-r1
deepseek-r1-distill         -                 deepseek-r1
deepseek-v3.1               deepseek-v3.1     -
deepseek-v3.2               deepseek-v3.2     -
deepseek-v3.2-exp           deepseek-v3.1     -
deepseek-v4                 deepseek-v3.2     -
# GLM (Z.ai): 4.5 / 4.6 with a newline after the name, 4.7 / 5 without.
glm-4.5                     glm-4.5           glm-4.5
glm-4.6                     glm-4.5           glm-4.5
glm-4.7                     glm-4.7           glm-4.5
glm-5                       glm-4.7           glm-4.5
# Kimi (Moonshot).
kimi-k2                     kimi-k2           -
kimi-k2-thinking            kimi-k2           kimi-k2
kimi-k2.5                   kimi-k2           kimi-k2
# MiniMax: M2 as vLLM recommends serving it (append-think).
minimax-m2                  minimax-m2        minimax-m2
minimax-m3                  minimax-m3        minimax-m3
# Mistral AI: tokenizer v13+ models think in [THINK] when they reason.
mistral                     mistral           -
mixtral                     mistral           -
ministral                   mistral           -
devstral                    mistral           -
magistral                   mistral           mistral
# Meta Llama: 3.x JSON, 4 pythonic (spelt `Llama-3.1` on the Hub, `llama3.1` in Ollama).
llama-3                     llama3-json       -
llama3                      llama3-json       -
llama-4                     llama4-pythonic   -
llama4                      llama4-pythonic   -
# IBM Granite: 3.0 / 3.1 arrays, 3.2 / 3.3 also reasoning phrases, 4 writes Hermes.
granite                     granite           -
granite-3.2                 granite           granite
granite-3.3                 granite           granite
granite-4                   hermes            -
# Nous Hermes.
hermes-2-pro                hermes            -
hermes-3                    hermes            -
hermes-4                    hermes            think
# Tencent Hunyuan, Baidu ERNIE.
hunyuan                     hunyuan           hunyuan
ernie-4.5                   ernie45           -
# Google Gemma 4 (Gemma 3 has no tool-call format of its own).
gemma-4                     gemma4            gemma4
gemma4                      gemma4            gemma4
# NVIDIA Nemotron: Nemotron 3 Nano writes Qwen3-Coder XML (unsure for the others).
nemotron                    -                 nemotron
nemotron-3-nano             qwen3-coder       nemotron
# AllenAI Olmo 3: the Think models reason.
olmo-3                      olmo3             -
olmo-3-7b-think             olmo3             olmo3
olmo-3-32b-think            olmo3             olmo3
olmo-3.1-32b-think          olmo3             olmo3
# ByteDance Seed-OSS, StepFun Step-3 (Step-3.5 writes Qwen3-Coder XML).
seed-oss                    seed-oss          seed-oss
step-3                      step3             step3
step3                       step3             step3
step-3.5                    qwen3-coder       step3
# Microsoft Phi-4-mini, Salesforce xLAM, InternLM 2 / 2.5, AI21 Jamba.
phi-4-mini                  phi4-mini         -
xlam                        xlam              -
internlm2                   internlm          -
jamba                       jamba             -
# Meituan LongCat, Liquid LFM2.
longcat-flash               longcat           -
longcat-flash-thinking      longcat           longcat
lfm2                        lfm2              -
# Cohere Command R7B / Command A.
command-r7b                 cohere            cohere
command-a                   cohere            cohere
# OpenAI gpt-oss.
gpt-oss                     harmony           harmony
";

/// The rows of `MODEL_TABLE`.
pub fn model_rows(
) -> impl Iterator<Item = (&'static str, Option<&'static str>, Option<&'static str>)> {
    let name = |field: Option<&'static str>| field.filter(|f| *f != "-");
    MODEL_TABLE
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(move |line| {
            let mut fields = line.split_whitespace();
            let pattern = fields.next().unwrap_or_default();
            (pattern, name(fields.next()), name(fields.next()))
        })
}

/// `(tools, reasoning)` for a model name (see the module docs); `(None, None)` when unknown.
pub fn formats_for_model(name: &str) -> (Option<&'static str>, Option<&'static str>) {
    let model = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let mut best = ("", None, None);
    for row in model_rows() {
        if model.contains(row.0) && row.0.len() > best.0.len() {
            best = row;
        }
    }
    (best.1, best.2)
}

#[cfg(test)]
mod tests {
    use super::super::{REASONING_FORMATS, TOOL_FORMATS};
    use super::*;

    #[test]
    fn every_format_named_in_the_table_is_registered() {
        for (pattern, tools, reasoning) in model_rows() {
            assert_eq!(pattern, pattern.to_ascii_lowercase(), "{pattern}");
            for (name, known) in [(tools, TOOL_FORMATS), (reasoning, REASONING_FORMATS)] {
                if let Some(name) = name {
                    assert!(
                        known.contains(&name),
                        "{pattern}: {name} is not a registered format"
                    );
                }
            }
        }
    }

    #[test]
    fn patterns_are_unique() {
        let rows: Vec<_> = model_rows().collect();
        assert!(rows.len() > 60, "the table is missing");
        for (n, row) in rows.iter().enumerate() {
            assert!(
                rows[..n].iter().all(|earlier| earlier.0 != row.0),
                "{} twice",
                row.0
            );
        }
        for line in MODEL_TABLE.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split_whitespace().count(), 3, "{line:?}");
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
