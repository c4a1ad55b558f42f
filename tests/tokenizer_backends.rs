//! The fast BPE backend against Hugging Face `tokenizers` on generated
//! adversarial text: every id must be identical. (The end-to-end tests also
//! check both backends against tiktoken on the sample pages and the committed
//! adversarial dump.)

use std::path::Path;

use wikitok::tokenizer::{PageTokenizer, TokenizerBackend};

const CL100K: &str = "data/samples/tokenizer/cl100k_base.tokenizer.json";

/// Fragments that stress pre-tokenization and merging: whitespace of every
/// kind and length, digit runs in several scripts, CJK, emoji with ZWJ and
/// modifiers, combining marks, right-to-left and mixed scripts, contractions,
/// and special-token spellings that must stay ordinary text.
const FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\n\n\n",
    " \n ",
    "\u{3000}",
    "\u{a0}",
    "\u{2009}",
    "\u{200b}",
    "\u{85}",
    "\u{feff}",
    "0",
    "7",
    "12",
    "123",
    "1234",
    "2026-11-23",
    "3.14159",
    "１２３",
    "٣٤٥",
    "১২৩",
    "漢字",
    "日本語のテキスト",
    "한국어",
    "中文，标点。",
    "👨\u{200d}👩\u{200d}👧\u{200d}👦",
    "🏳\u{fe0f}\u{200d}🌈",
    "👍🏽",
    "🇧🇬",
    "e\u{301}",
    "a\u{308}\u{304}",
    "Z\u{334}\u{327}\u{31b}a\u{336}l\u{337}g\u{338}o",
    "مرحبا",
    "שָׁלוֹם",
    "Привет",
    "мир",
    "naïve",
    "café",
    "don't",
    "I'LL",
    "'s",
    "’s",
    "'VE",
    "...",
    "—",
    "«»",
    "#$%^&*",
    "<|endoftext|>",
    "<|fim_prefix|>",
    "[[Category:X]]",
    "{{cite}}",
    "http://example.org/a?b=c",
    "Ünïcödé",
    "ǅ",
    "ß",
    "İ",
    "ﬁ",
    "\u{1d400}",
    "x",
    "the",
    "Wikipedia",
    "tokenizer",
];

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn adversarial_text(rng: &mut XorShift) -> String {
    let mut text = String::new();
    for _ in 0..1 + rng.below(40) {
        match rng.below(10) {
            // Long runs: whitespace and digits far past the regex's small repeats.
            0 => text.push_str(&" ".repeat(1 + rng.below(200))),
            1 => text.extend((0..1 + rng.below(60)).map(|i| char::from(b'0' + ((i * 7 + 3) % 10) as u8))),
            2 => text.push_str(&"\n".repeat(1 + rng.below(10))),
            _ => text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]),
        }
    }
    text
}

fn load(backend: TokenizerBackend) -> PageTokenizer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CL100K);
    PageTokenizer::with_backend("cl100k", &path, backend).unwrap()
}

#[test]
fn fast_and_hugging_face_give_identical_ids_on_adversarial_text() {
    let hf = load(TokenizerBackend::Hf);
    let fast = load(TokenizerBackend::Fast);
    assert_eq!((hf.backend_name(), fast.backend_name()), ("hf", "fast"));
    let mut rng = XorShift(0x00ad_5e75_eed0_0001);
    let mut checked_tokens = 0;
    for case in 0..20_000 {
        let text = adversarial_text(&mut rng);
        let expected = hf.encode(&text, false).unwrap();
        let got = fast.encode(&text, false).unwrap();
        assert_eq!(got, expected, "case {case}: {text:?}");
        checked_tokens += expected.len();
    }
    assert!(checked_tokens > 200_000, "{checked_tokens}");
}

#[test]
fn special_tokens_come_from_the_post_processor_either_way() {
    // `tokenize_with_special_tokens` needs the file's post-processor: both
    // backends use Hugging Face for it.
    let hf = load(TokenizerBackend::Hf);
    let fast = load(TokenizerBackend::Fast);
    let text = "Hello <|endoftext|> world";
    assert_eq!(fast.encode(text, true).unwrap(), hf.encode(text, true).unwrap());
    assert!(
        !fast.encode(text, false).unwrap().contains(&100257),
        "page text never yields control tokens"
    );
}

#[test]
fn tokenizers_of_other_shapes_fall_back_to_hugging_face_or_refuse_fast() {
    let bert = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bert-base-uncased.tokenizer.json");
    let auto = PageTokenizer::with_backend("bert", &bert, TokenizerBackend::Auto).unwrap();
    assert_eq!(auto.backend_name(), "hf");
    let forced = PageTokenizer::with_backend("bert", &bert, TokenizerBackend::Fast).unwrap_err();
    assert!(format!("{forced:#}").contains("cannot reproduce"), "{forced:#}");
}

/// cl100k's vocabulary and merges under another pipeline: the fast backend
/// must either match Hugging Face exactly or refuse.
fn variant(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> std::path::PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CL100K);
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut json);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-scratch/tokenizer-variants");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}.tokenizer.json"));
    std::fs::write(&out, serde_json::to_string(&json).unwrap()).unwrap();
    out
}

fn assert_backends_agree(path: &Path, cases: usize) {
    let hf = PageTokenizer::with_backend("v", path, TokenizerBackend::Hf).unwrap();
    let fast = PageTokenizer::with_backend("v", path, TokenizerBackend::Fast).unwrap();
    let mut rng = XorShift(0x0bad_cafe_f00d_0001);
    for case in 0..cases {
        let text = adversarial_text(&mut rng);
        assert_eq!(
            fast.encode(&text, false).unwrap(),
            hf.encode(&text, false).unwrap(),
            "{}: case {case}: {text:?}",
            path.display()
        );
    }
}

#[test]
fn other_byte_level_shapes_gpt2_regex_o200k_regex_and_nfc_match_hugging_face() {
    // GPT-2 style: a bare ByteLevel pre-tokenizer with its built-in regex.
    let gpt2 = variant("gpt2-style", |json| {
        json["pre_tokenizer"] = serde_json::json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    });
    assert_backends_agree(&gpt2, 3000);
    // o200k's split regex (letter-case classes, `[\r\n/]*`).
    let o200k = variant("o200k-regex", |json| {
        json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = serde_json::Value::from(concat!(
            r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
            r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
        ));
    });
    assert_backends_agree(&o200k, 3000);
    // An NFC normalizer (combining marks in the generated text compose).
    let nfc = variant("nfc", |json| json["normalizer"] = serde_json::json!({"type": "NFC"}));
    assert_backends_agree(&nfc, 3000);
}

#[test]
fn shapes_the_fast_backend_cannot_reproduce_are_refused_and_auto_uses_hugging_face() {
    let swapped = variant("swapped-merges", |json| {
        let merges = json["model"]["merges"].as_array_mut().unwrap();
        merges.swap(1000, 2000);
    });
    let lowercase = variant("lowercase", |json| {
        json["normalizer"] = serde_json::json!({"type": "Lowercase"})
    });
    let lookbehind = variant("lookbehind", |json| {
        json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = serde_json::Value::from(r"(?<=a)b|\s+|\S+");
    });
    for (path, reason) in [
        (&swapped, "merge order"),
        (&lowercase, "normalizer"),
        (&lookbehind, "look-around"),
    ] {
        let error = PageTokenizer::with_backend("v", path, TokenizerBackend::Fast).unwrap_err();
        assert!(format!("{error:#}").contains(reason), "{reason}: {error:#}");
        let auto = PageTokenizer::with_backend("v", path, TokenizerBackend::Auto).unwrap();
        assert_eq!(auto.backend_name(), "hf", "{reason}");
    }
}
