//! Every input in `fuzz/regressions/<target>/` (each crash or stall the fuzzers or issue 13
//! found), plus a short deterministic pass of pseudo-random inputs per target, through the same
//! harnesses the cargo-fuzz targets run. `make fuzz` runs the real fuzzers for longer.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn every_regression_input_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for (target, run) in harness::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            eprintln!("replaying {}", path.display());
            run(&input);
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs found under {}",
        root.display()
    );
}

/// A xorshift stream: the same inputs on every run, so a failure reproduces.
struct Inputs(u64);

impl Inputs {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Bytes biased towards what the decoders care about: markers, JSON and line breaks.
    fn input(&mut self, seeds: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![self.next() as u8, self.next() as u8, self.next() as u8];
        for _ in 0..self.next() % 12 {
            match self.next() % 4 {
                0 => out.extend_from_slice(seeds[self.next() as usize % seeds.len()]),
                1 => out.push(self.next() as u8),
                _ => {
                    let seed = seeds[self.next() as usize % seeds.len()];
                    let cut = self.next() as usize % (seed.len() + 1);
                    out.extend_from_slice(&seed[..cut]);
                }
            }
        }
        out
    }
}

const SEEDS: &[&[u8]] = &[
    b"data: ",
    b"\n\n",
    b"\r\n",
    b"event: message_start\n",
    br#"{"choices":[{"index":0,"delta":{"content":"hi","tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\":"}}]}}]}"#,
    br#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","partialArgs":[{"jsonPath":"$.a[2].b","stringValue":"x","willContinue":true}]}}]}}]}"#,
    br#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}"#,
    b"<tool_call>",
    b"</tool_call>",
    br#"{"name": "f", "arguments": {"a": 1}}"#,
    b"<think>",
    b"</think>",
    b"[TOOL_CALLS]",
    "<\u{ff5c}tool\u{2581}calls\u{2581}begin\u{ff5c}>".as_bytes(),
    "<\u{ff5c}tool\u{2581}sep\u{ff5c}>".as_bytes(),
    b"<function=f><parameter=x>1</parameter></function>",
    b"STOP",
    b"|",
    br#"{"anyOf": [{"type": "string"}, {"type": "null"}]}"#,
    br#"[{"name": "f", "parameters": {"properties": {"x": "#,
    b"\x00\x00\x00\x10\x00\x00\x00\x00",
    "é€😀".as_bytes(),
];

#[test]
fn a_short_deterministic_pass_over_every_target() {
    let mut inputs = Inputs(0x9e37_79b9_7f4a_7c15);
    for (_, run) in harness::TARGETS {
        for _ in 0..400 {
            run(&inputs.input(SEEDS));
        }
    }
}
