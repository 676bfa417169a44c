//! One module per way of writing calls; each holds the grammar rows of the formats that write
//! them that way (see `REGISTRY` in the parent module).

pub mod deepseek_v3;
pub mod gemma4;
pub mod glm45;
pub mod json_calls;
pub mod json_section;
pub mod kimi_k2;
pub mod minimax_m3;
pub mod mistral;
pub mod pythonic;
pub mod xml_calls;
