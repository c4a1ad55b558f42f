//! Tokenizers that ship in the binary: OpenAI's `cl100k_base` and
//! `o200k_base`, from the dictionaries the `bpe-openai` crate compiles in
//! (ids identical to tiktoken's). They need no file, so the default
//! tokenizer works in any directory — a pod, a `pip install`ed module —
//! not only in a checkout that holds `data/samples/tokenizer/`.
//!
//! What the tokenizer functions need beyond encoding comes from tiktoken's
//! definitions of the same encodings: the special tokens and their ids
//! (`<|endoftext|>` = 100257 in cl100k), the vocabulary size (the largest
//! id + 1, as tiktoken's `n_vocab`), and each id's vocabulary entry written
//! as Hugging Face's byte-level files write it (`Ġthe`), so
//! `token_strings()` reads the same for a built-in and a `tokenizer.json`.

use std::fmt;
use std::sync::OnceLock;

use super::fast_bpe::FastBpe;

/// A tokenizer built into wikitok.
#[derive(Clone, Copy)]
pub struct BuiltinTokenizer {
    pub name: &'static str,
    bpe: &'static bpe_openai::Tokenizer,
    /// The encoder page text goes through: [`FastBpe`] over the same
    /// dictionary (`None` only if it could not be built: then `bpe`'s own).
    fast: Option<&'static FastBpe>,
    /// Special tokens and their ids.
    specials: &'static [(&'static str, u32)],
}

/// tiktoken's split regexes of the two encodings (`tiktoken_ext/openai_public.py`).
const CL100K_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const O200K_SPLIT: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
);

/// The fast encoder of a built-in tokenizer, built once per process.
fn fast_encoder(
    cell: &'static OnceLock<Option<FastBpe>>,
    bpe: &'static bpe_openai::Tokenizer,
    split: &str,
    name: &str,
) -> Option<&'static FastBpe> {
    cell.get_or_init(|| match FastBpe::from_builtin(bpe, split) {
        Ok(fast) => Some(fast),
        Err(e) => {
            tracing::warn!("{name}: the fast encoder could not be built ({e}); using bpe-openai's own");
            None
        }
    })
    .as_ref()
}

impl fmt::Debug for BuiltinTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltinTokenizer").field("name", &self.name).finish()
    }
}

/// The names `--tokenizer` takes without a file.
pub const BUILTIN_NAMES: &[&str] = &["cl100k_base", "o200k_base"];

const CL100K_SPECIALS: &[(&str, u32)] = &[
    ("<|endoftext|>", 100257),
    ("<|fim_prefix|>", 100258),
    ("<|fim_middle|>", 100259),
    ("<|fim_suffix|>", 100260),
    ("<|endofprompt|>", 100276),
];

const O200K_SPECIALS: &[(&str, u32)] = &[("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)];

impl BuiltinTokenizer {
    /// The built-in tokenizer called `name`, if there is one.
    pub fn named(name: &str) -> Option<BuiltinTokenizer> {
        match name {
            "cl100k_base" => {
                static FAST: OnceLock<Option<FastBpe>> = OnceLock::new();
                let bpe = bpe_openai::cl100k_base();
                Some(BuiltinTokenizer {
                    name: "cl100k_base",
                    bpe,
                    fast: fast_encoder(&FAST, bpe, CL100K_SPLIT, name),
                    specials: CL100K_SPECIALS,
                })
            }
            "o200k_base" => {
                static FAST: OnceLock<Option<FastBpe>> = OnceLock::new();
                let bpe = bpe_openai::o200k_base();
                Some(BuiltinTokenizer {
                    name: "o200k_base",
                    bpe,
                    fast: fast_encoder(&FAST, bpe, O200K_SPLIT, name),
                    specials: O200K_SPECIALS,
                })
            }
            _ => None,
        }
    }

    /// Appends the ids of `text` (special tokens in the text are text, as
    /// tiktoken's `encode_ordinary` reads them).
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        match self.fast {
            Some(fast) => fast.encode_into(text, out),
            None => out.extend(self.bpe.encode(text)),
        }
    }

    pub fn count(&self, text: &str) -> usize {
        match self.fast {
            Some(fast) => fast.count(text),
            None => self.bpe.count(text),
        }
    }

    /// The largest id + 1 (tiktoken's `n_vocab`).
    pub fn vocab_size(&self) -> usize {
        let specials = self.specials.iter().map(|&(_, id)| id as usize + 1).max().unwrap_or(0);
        self.bpe.bpe.num_tokens().max(specials)
    }

    pub fn eos_token_id(&self) -> Option<u32> {
        self.special_id("<|endoftext|>")
    }

    fn special_id(&self, token: &str) -> Option<u32> {
        self.specials.iter().find(|(text, _)| *text == token).map(|&(_, id)| id)
    }

    fn special_text(&self, id: u32) -> Option<&'static str> {
        self.specials
            .iter()
            .find(|&&(_, special)| special == id)
            .map(|&(text, _)| text)
    }

    /// The bytes of `id`: a vocabulary entry or a special token's text;
    /// `None` for an id the tokenizer does not have.
    fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        if (id as usize) < self.bpe.bpe.num_tokens() {
            Some(self.bpe.bpe.token_bytes(id))
        } else {
            self.special_text(id).map(str::as_bytes)
        }
    }

    /// The id of a vocabulary entry written byte-level (`Ġthe`) or of a
    /// special token.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        if let Some(id) = self.special_id(token) {
            return Some(id);
        }
        let bytes = byte_level_decode(token)?;
        match self.bpe.bpe.encode_via_backtracking(&bytes).as_slice() {
            [id] if self.bpe.bpe.token_bytes(*id) == bytes.as_slice() => Some(*id),
            _ => None,
        }
    }

    /// The text of `ids`; bytes that are not UTF-8 become U+FFFD, as
    /// Hugging Face's byte-level decoder writes them. An id the tokenizer
    /// does not have is an error naming it.
    pub fn decode(&self, ids: &[u32]) -> Result<String, String> {
        let mut bytes = Vec::new();
        for &id in ids {
            let token = self
                .token_bytes(id)
                .ok_or_else(|| format!("token id {id} is not in {}", self.name))?;
            bytes.extend_from_slice(token);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The vocabulary entry of `id` as byte-level files write it.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        if let Some(special) = self.special_text(id) {
            return Some(special.to_string());
        }
        self.token_bytes(id).map(byte_level_encode)
    }
}

/// GPT-2's byte-to-character table: printable bytes stand for themselves,
/// the others map to U+0100 upwards in byte order.
fn byte_char(byte: u8) -> char {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    if printable(byte) {
        return byte as char;
    }
    let shifted = (0..byte).filter(|&b| !printable(b)).count() as u32;
    char::from_u32(0x100 + shifted).expect("below U+0200")
}

fn byte_level_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| byte_char(b)).collect()
}

fn byte_level_decode(token: &str) -> Option<Vec<u8>> {
    token
        .chars()
        .map(|c| (0..=255u8).find(|&b| byte_char(b) == c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids against the Hugging Face file of the same vocabulary (whose ids
    /// the integration tests compare with tiktoken's).
    #[test]
    fn cl100k_matches_the_hugging_face_file() {
        let builtin = BuiltinTokenizer::named("cl100k_base").unwrap();
        let mut file = tokenizers::Tokenizer::from_file("data/samples/tokenizer/cl100k_base.tokenizer.json").unwrap();
        // Special tokens written in page text are text (see the module docs of `tokenizer`).
        file.set_encode_special_tokens(true);
        for text in [
            "Hello world",
            "  leading spaces\n\n\ttabs and 12345 digits, punctuation!? 'll 've",
            "Ünïcödé — 東京タワー, Αλέξανδρος 😀 <|endoftext|>",
            "",
        ] {
            let mut ids = Vec::new();
            builtin.encode_into(text, &mut ids);
            assert_eq!(ids, file.encode_fast(text, false).unwrap().get_ids(), "{text:?}");
            assert_eq!(builtin.count(text), ids.len());
            assert_eq!(builtin.decode(&ids).unwrap(), text);
            for &id in &ids {
                assert_eq!(builtin.id_to_token(id), file.id_to_token(id), "id {id}");
                assert_eq!(builtin.token_id(&builtin.id_to_token(id).unwrap()), Some(id));
            }
        }
        // Every vocabulary entry and special token, id by id.
        for id in 0..builtin.vocab_size() as u32 {
            assert_eq!(builtin.id_to_token(id), file.id_to_token(id), "id {id}");
        }
        assert_eq!(builtin.eos_token_id(), Some(100257));
        assert_eq!(builtin.token_id("<|endoftext|>"), file.token_to_id("<|endoftext|>"));
        assert_eq!(builtin.vocab_size(), 100277);
        assert!(builtin.decode(&[300_000]).unwrap_err().contains("300000"));
    }

    /// Both built-ins against tiktoken's algorithm as ported by
    /// `tiktoken-rs` (its own rank files): natural text and random strings
    /// of the characters that split differently (whitespace runs, digits,
    /// apostrophes, CJK, emoji, combining marks, case changes).
    #[test]
    fn ids_equal_tiktokens() {
        let pieces = [
            " ",
            "  ",
            "\n",
            "\n\n",
            "\t",
            "a",
            "A",
            "word",
            "Word",
            "WORD",
            "'s",
            "'LL",
            "1",
            "123",
            "12345",
            ".",
            ",",
            "!?",
            "—",
            "东京",
            "タワー",
            "😀",
            "👩‍💻",
            "é",
            "e\u{301}",
            "Ω",
            "ß",
            "über",
            "\u{a0}",
            "<|endoftext|>",
            "/",
            "://",
        ];
        let mut texts: Vec<String> = vec![
            "Albert Einstein (14 March 1879 – 18 April 1955) was a German-born theoretical physicist.".into(),
            "L'anarchisme, ou idéologie libertaire, regroupe plusieurs courants de philosophie politique.".into(),
            "Калви — коммуна во Франции. 東京タワーは、東京都港区芝公園にある総合電波塔。".into(),
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            texts.push(text);
        }
        for (name, reference) in [
            ("cl100k_base", tiktoken_rs::cl100k_base_singleton()),
            ("o200k_base", tiktoken_rs::o200k_base_singleton()),
        ] {
            let builtin = BuiltinTokenizer::named(name).unwrap();
            assert!(builtin.fast.is_some(), "{name}: the fast encoder was not built");
            // Twice: the second pass is answered from the piece memo.
            for _ in 0..2 {
                for text in &texts {
                    let mut ids = Vec::new();
                    builtin.encode_into(text, &mut ids);
                    assert_eq!(ids, reference.encode_ordinary(text), "{name}: {text:?}");
                    assert_eq!(ids, builtin.bpe.encode(text.as_str()), "{name}: {text:?}");
                    assert_eq!(builtin.count(text), ids.len());
                }
            }
        }
    }

    #[test]
    fn o200k_is_there_too() {
        let builtin = BuiltinTokenizer::named("o200k_base").unwrap();
        let mut ids = Vec::new();
        builtin.encode_into("Hello world", &mut ids);
        assert_eq!(ids, [13225, 2375]);
        assert_eq!(builtin.eos_token_id(), Some(199999));
        assert_eq!(builtin.vocab_size(), 200019);
        assert!(BuiltinTokenizer::named("gpt2").is_none());
    }
}
