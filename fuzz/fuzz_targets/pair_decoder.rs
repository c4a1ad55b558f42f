#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wikitok::fuzzing::pair_decoder(data));
