#![no_main]
libfuzzer_sys::fuzz_target!(|input: &[u8]| fastsse_fuzz::harness::providers(input));
