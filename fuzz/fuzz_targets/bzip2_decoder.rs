#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wikitok::fuzzing::bzip2_decoder(data));
