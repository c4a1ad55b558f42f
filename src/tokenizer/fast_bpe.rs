//! The exact fast BPE backend: byte-level BPE `tokenizer.json` files (GPT-2,
//! cl100k, Llama 3 style) encoded with GitHub's `bpe` crate instead of
//! Hugging Face `tokenizers`.
//!
//! `bpe`'s backtracking encoder gives tiktoken's result — at each step merge
//! the adjacent pair whose merged token has the lowest id — in linear time,
//! and the pieces are split (as `bpe-openai` splits them) with `regex-automata` instead of a
//! backtracking regex engine. That equals Hugging Face's result when
//! 1. the file's merges are in the same order as the ids of the tokens they
//!    make (checked: then "lowest merge rank" and "lowest id" agree), and
//!    every token encodes to itself (checked by `bpe` while building);
//! 2. the pipeline around the model is only a regex split plus the byte-level
//!    alphabet: no normalizer (or NFC), no prefix space, no byte fallback, no
//!    dropout, no non-special added tokens (special ones are ordinary text
//!    here, as everywhere in wikitok).
//!
//! The split regex is the file's own. Its one look-ahead, `\s+(?!\S)`
//! ("a whitespace run, leaving its last character to the next piece"), is
//! not supported by finite automata; it is rewritten as `bpe-openai` does for
//! cl100k: `\s+$` in the preceding pattern, then `\s+\s` with its last
//! character given back. Any other look-around means the file is not
//! supported, and `auto` falls back to Hugging Face.
//!
//! Exactness is also proven by tests against Hugging Face on every sample page
//! and on adversarial text (see `tests/tokenizer_backends.rs`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use bpe::byte_pair_encoding::{find_hash_factor_for_dictionary, BytePairEncoding};
use regex_automata::meta::{Cache as RegexCache, Regex};
use regex_automata::{Anchored, Input};
use rustc_hash::FxHashMap;
use serde_json::Value;

/// GPT-2's split pattern, used by `ByteLevel` pre-tokenizers with `use_regex`.
const GPT2_PATTERN: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
const WHITESPACE_LOOKAHEAD: &str = r"\s+(?!\S)";

/// Why a tokenizer file cannot use the fast backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn unsupported<T>(reason: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(reason.into()))
}

/// A byte-level BPE tokenizer that gives Hugging Face's ids, faster.
pub struct FastBpe {
    tokenizer: Encoder,
    /// Every token's bytes → its id. Most pre-tokenized pieces (words with
    /// their leading space) are one token; tiktoken looks a piece up whole
    /// before merging, and so do we: one hash lookup instead of building a
    /// backtracking encoder per piece (7% of a tokenize run's profile).
    whole_pieces: FxHashMap<Box<[u8]>, u32>,
    /// The split regex, searched with a per-thread cache (`bpe-openai`'s
    /// own split takes a cache from the regex's shared pool for every piece:
    /// a mutex lock per piece on every thread but the first, 4% of a run).
    splitter: Regex,
    /// Per pattern of `splitter`: whether its match ends in one look-ahead character.
    lookahead: Vec<bool>,
    /// Which of this thread's [`THREAD_STATE`] entries is this tokenizer's.
    cache_key: u64,
}

/// The byte-pair encoder (and normalizer) behind a [`FastBpe`]: built from a
/// file, or one of those `bpe-openai` compiles in (the built-in tokenizers).
enum Encoder {
    Owned(Box<bpe_openai::Tokenizer>),
    Builtin(&'static bpe_openai::Tokenizer),
}

impl std::ops::Deref for Encoder {
    type Target = bpe_openai::Tokenizer;

    fn deref(&self) -> &bpe_openai::Tokenizer {
        match self {
            Encoder::Owned(tokenizer) => tokenizer,
            Encoder::Builtin(tokenizer) => tokenizer,
        }
    }
}

/// What each thread keeps per tokenizer.
#[derive(Default)]
struct ThreadState {
    pieces: FxHashMap<Box<[u8]>, Box<[u32]>>,
    regex_cache: Option<RegexCache>,
}

/// Pieces that are several tokens, memoized per thread and per tokenizer:
/// words repeat (the long tail is short), and a hit is one hash lookup
/// instead of a backtracking encode. Bounded: a cache that reaches
/// [`PIECE_CACHE_ENTRIES`] starts over. The ids are those the encoder gave
/// for the same bytes, so results stay exact. Sized by a replay of 40 MB of
/// page text (`scale_dump.py --mb 100 --seed 41`, cl100k's split): 960 k
/// multi-token pieces, 39 k distinct; hit rate 55% with 16 k entries
/// (starting over too often), 96% with 64 k. About 70 bytes an entry: ~4.5 MB
/// per thread at most.
const PIECE_CACHE_ENTRIES: usize = 1 << 16;
/// Longer pieces are rare and not cached (they would crowd the cache out).
const MAX_CACHED_PIECE_BYTES: usize = 48;

thread_local! {
    static THREAD_STATE: std::cell::RefCell<FxHashMap<u64, ThreadState>> = Default::default();
}

static NEXT_CACHE_KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl fmt::Debug for FastBpe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastBpe")
            .field("tokens", &self.tokenizer.bpe.num_tokens())
            .finish()
    }
}

impl FastBpe {
    /// Builds the fast encoder from a `tokenizer.json`'s text, or says why
    /// the file's tokenizer is of a shape it cannot reproduce exactly.
    pub fn from_tokenizer_json(json: &str) -> Result<Self, Unsupported> {
        Self::from_tokenizer_json_cached(json, None)
    }

    /// [`FastBpe::from_tokenizer_json`], keeping what it derives from the
    /// file — the checked split patterns and the built byte-pair encoder — in
    /// `cache_dir`, keyed by the file's content, so later runs load it
    /// instead of parsing the 10 MB of JSON and building the encoder again
    /// (together most of a second for cl100k). A missing or undecodable
    /// entry is rebuilt; a cache that cannot be written is only logged. Only
    /// files that passed every check are ever cached.
    pub fn from_tokenizer_json_cached(json: &str, cache_dir: Option<&Path>) -> Result<Self, Unsupported> {
        let started = std::time::Instant::now();
        let cache_file = cache_dir.map(|dir| dir.join(cache_file_name(json)));
        let (derived, source) = match cache_file.as_deref().and_then(load_cached) {
            Some(derived) => (derived, "loaded from the cache"),
            None => {
                let derived = Derived::from_json(json)?;
                if let Some(file) = &cache_file {
                    store_cached(file, &derived);
                }
                (derived, "built")
            }
        };
        let Derived { nfc, patterns, bpe } = derived;
        // The split regex is ours (`for_each_piece`); bpe-openai only
        // normalizes and encodes, so it gets no pre-tokenizer to compile.
        let (pattern_texts, lookahead): (Vec<&str>, Vec<bool>) = patterns.iter().map(|(p, l)| (p.as_str(), *l)).unzip();
        let splitter = Regex::new_many(&pattern_texts).map_err(|e| Unsupported(format!("split regex: {e}")))?;
        let tokenizer =
            bpe_openai::Tokenizer::new(bpe, None, nfc).map_err(|e| Unsupported(format!("tokenizer: {e}")))?;
        let fast = FastBpe::with_encoder(Encoder::Owned(Box::new(tokenizer)), splitter, lookahead);
        tracing::debug!("fast BPE encoder {source} in {:.2} s", started.elapsed().as_secs_f64());
        Ok(fast)
    }

    /// The fast path for a tokenizer `bpe-openai` compiles in, whose split
    /// regex (as tiktoken writes it) is `split_pattern`: the same ids as
    /// `bpe-openai`'s own `encode`, with this encoder's per-thread regex
    /// cache, whole-token lookup and piece memo (its own `encode` takes a
    /// regex cache from a shared pool per piece and memoizes nothing).
    pub fn from_builtin(tokenizer: &'static bpe_openai::Tokenizer, split_pattern: &str) -> Result<Self, Unsupported> {
        let patterns = automaton_patterns(split_pattern)?;
        let (pattern_texts, lookahead): (Vec<&str>, Vec<bool>) = patterns.iter().map(|(p, l)| (p.as_str(), *l)).unzip();
        let splitter = Regex::new_many(&pattern_texts).map_err(|e| Unsupported(format!("split regex: {e}")))?;
        Ok(FastBpe::with_encoder(Encoder::Builtin(tokenizer), splitter, lookahead))
    }

    fn with_encoder(tokenizer: Encoder, splitter: Regex, lookahead: Vec<bool>) -> Self {
        let bpe = &tokenizer.bpe;
        let whole_pieces = (0..bpe.num_tokens() as u32)
            .map(|id| (Box::from(bpe.token_bytes(id)), id))
            .collect();
        FastBpe {
            tokenizer,
            whole_pieces,
            splitter,
            lookahead,
            cache_key: NEXT_CACHE_KEY.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The token ids of `text`, as Hugging Face's `encode(text, false)` gives
    /// them with special tokens treated as text.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        self.encode_into(text, &mut ids);
        ids
    }

    /// Appends the ids of `text` to `out` (no intermediate vector per page).
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        let text = self.tokenizer.normalize(text);
        self.for_each_piece(text.as_str(), |piece, cache| {
            if let Some(&id) = self.whole_pieces.get(piece) {
                out.push(id);
            } else if let Some(ids) = cache.get(piece) {
                out.extend_from_slice(ids);
            } else {
                let start = out.len();
                out.extend(self.tokenizer.bpe.encode_via_backtracking(piece));
                remember(cache, piece, &out[start..]);
            }
        })
    }

    pub fn count(&self, text: &str) -> usize {
        let text = self.tokenizer.normalize(text);
        let mut count = 0;
        self.for_each_piece(text.as_str(), |piece, cache| {
            count += if self.whole_pieces.contains_key(piece) {
                1
            } else if let Some(ids) = cache.get(piece) {
                ids.len()
            } else {
                let ids = self.tokenizer.bpe.encode_via_backtracking(piece);
                remember(cache, piece, &ids);
                ids.len()
            };
        });
        count
    }

    /// Calls `each` with every pre-tokenized piece of `text` (and this
    /// thread's piece cache), split exactly as `bpe-openai` splits: anchored
    /// matches one after another, a look-ahead pattern's last character
    /// given back to the next piece.
    fn for_each_piece(&self, text: &str, mut each: impl FnMut(&[u8], &mut FxHashMap<Box<[u8]>, Box<[u32]>>)) {
        THREAD_STATE.with_borrow_mut(|states| {
            let state = states.entry(self.cache_key).or_default();
            let regex_cache = state.regex_cache.get_or_insert_with(|| self.splitter.create_cache());
            let mut start = 0;
            while let Some(found) = self
                .splitter
                .search_with(regex_cache, &Input::new(&text[start..]).anchored(Anchored::Yes))
            {
                let mut end = start + found.end();
                if self.lookahead[found.pattern().as_usize()] {
                    end -= text[start..end].chars().next_back().map_or(0, char::len_utf8);
                }
                if end == start {
                    // No checked pattern matches empty, but never lose text over it.
                    end = start + text[start..].chars().next().map_or(0, char::len_utf8);
                    if end == start {
                        break;
                    }
                }
                each(&text.as_bytes()[start..end], &mut state.pieces);
                start = end;
            }
        })
    }
}

fn remember(cache: &mut FxHashMap<Box<[u8]>, Box<[u32]>>, piece: &[u8], ids: &[u32]) {
    if piece.len() > MAX_CACHED_PIECE_BYTES {
        return;
    }
    if cache.len() >= PIECE_CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(piece.into(), ids.into());
}

/// Where built encoders are kept: `$WIKITOK_CACHE_DIR` (empty: no cache),
/// else `${XDG_CACHE_HOME:-~/.cache}/wikitok`.
pub fn default_cache_dir() -> Option<PathBuf> {
    match std::env::var_os("WIKITOK_CACHE_DIR") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .map(|dir| dir.join("wikitok")),
    }
}

/// What a supported `tokenizer.json` yields: all the fast encoder needs.
#[derive(serde::Serialize, serde::Deserialize)]
struct Derived {
    nfc: bool,
    /// The split patterns for `bpe-openai` (pattern, gives back its last character).
    patterns: Vec<(String, bool)>,
    bpe: BytePairEncoding,
}

impl Derived {
    /// Parses and checks the file, then builds the encoder (the slow part).
    fn from_json(json: &str) -> Result<Self, Unsupported> {
        let file: Value = serde_json::from_str(json).map_err(|e| Unsupported(format!("not JSON: {e}")))?;
        let nfc = match file.get("normalizer") {
            None | Some(Value::Null) => false,
            Some(n) if n["type"] == "NFC" => true,
            Some(n) => return unsupported(format!("normalizer {}", n["type"])),
        };
        let pattern = split_pattern(&file["pre_tokenizer"])?;
        let tokens = byte_tokens_in_id_order(&file)?;
        check_merge_order(&file["model"])?;
        let patterns = automaton_patterns(&pattern)?;
        let hash_factor = find_hash_factor_for_dictionary(tokens.iter().cloned());
        // `bpe` asserts while building that every token encodes to itself; a
        // vocabulary for which that fails is not a proper BPE dictionary.
        let bpe = std::panic::catch_unwind(move || BytePairEncoding::from_dictionary(tokens, Some(hash_factor)))
            .map_err(|_| Unsupported("some vocabulary token does not encode to itself".into()))?;
        Ok(Derived { nfc, patterns, bpe })
    }
}

/// `bpe-VERSION-LENGTH-HASH.msgpack`: the wikitok version (the serialized
/// layout is `bpe`'s, pinned by it), the file's length and a 64-bit FNV-1a
/// hash of its text.
fn cache_file_name(json: &str) -> String {
    let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("bpe-{}-{}-{hash:016x}.msgpack", env!("CARGO_PKG_VERSION"), json.len())
}

/// The cached entry, if it exists and decodes (a truncated or foreign file
/// does not: it is rebuilt).
fn load_cached(file: &Path) -> Option<Derived> {
    let bytes = std::fs::read(file).ok()?;
    match rmp_serde::from_slice::<Derived>(&bytes) {
        Ok(derived) if derived.bpe.num_tokens() > 0 && !derived.patterns.is_empty() => Some(derived),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("{}: unreadable cached encoder, rebuilding: {e}", file.display());
            None
        }
    }
}

/// Writes the entry under a temporary name and renames it into place, so
/// concurrent runs never read half an entry.
fn store_cached(file: &Path, derived: &Derived) {
    let write = || -> std::io::Result<()> {
        let bytes = rmp_serde::to_vec(derived).map_err(std::io::Error::other)?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = file.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, file)
    };
    if let Err(e) = write() {
        tracing::debug!("{}: could not cache the encoder: {e}", file.display());
    }
}

/// The split regex of a byte-level pre-tokenizer.
fn split_pattern(pre_tokenizer: &Value) -> Result<String, Unsupported> {
    let byte_level_ok = |p: &Value, needs_regex: bool| {
        p["type"] == "ByteLevel"
            && p["add_prefix_space"] != true
            && (p["use_regex"] == needs_regex || (needs_regex && p.get("use_regex").is_none()))
    };
    match pre_tokenizer["type"].as_str() {
        Some("ByteLevel") if byte_level_ok(pre_tokenizer, true) => Ok(GPT2_PATTERN.to_string()),
        Some("Sequence") => {
            let steps = pre_tokenizer["pretokenizers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            match steps {
                [split, byte_level]
                    if split["type"] == "Split"
                        && split["behavior"] == "Isolated"
                        && split["invert"] != true
                        && byte_level_ok(byte_level, false) =>
                {
                    match split["pattern"]["Regex"].as_str() {
                        Some(regex) => Ok(regex.to_string()),
                        None => unsupported("the Split pre-tokenizer has no regex pattern"),
                    }
                }
                _ => unsupported("the pre-tokenizer is not a regex Split followed by ByteLevel"),
            }
        }
        _ => unsupported(format!("pre-tokenizer {}", pre_tokenizer["type"])),
    }
}

/// The split regex as `bpe-openai` patterns: (pattern, ends in a one-character look-ahead).
fn automaton_patterns(pattern: &str) -> Result<Vec<(String, bool)>, Unsupported> {
    let parts: Vec<&str> = pattern.split(&format!("|{WHITESPACE_LOOKAHEAD}|")).collect();
    let [before, after] = parts.as_slice() else {
        if ["(?=", "(?!", "(?<"].iter().any(|l| pattern.contains(l)) {
            return unsupported("the split regex uses look-around other than `|\\s+(?!\\S)|`");
        }
        return Ok(vec![(pattern.to_string(), false)]);
    };
    if ["(?=", "(?!", "(?<"]
        .iter()
        .any(|l| before.contains(l) || after.contains(l))
    {
        return unsupported("the split regex uses look-around other than `|\\s+(?!\\S)|`");
    }
    Ok(vec![
        (format!("{before}|\\s+$"), false),
        (r"\s+\s".to_string(), true),
        (after.to_string(), false),
    ])
}

/// GPT-2's byte-level alphabet: the printable character standing for each byte.
fn byte_level_alphabet() -> HashMap<char, u8> {
    let mut printable: Vec<u8> = (b'!'..=b'~').chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut chars: Vec<u32> = printable.iter().map(|&b| u32::from(b)).collect();
    let mut next = 256;
    for b in 0..=255u8 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(next);
            next += 1;
        }
    }
    printable
        .into_iter()
        .zip(chars)
        .map(|(b, c)| (char::from_u32(c).expect("valid code point"), b))
        .collect()
}

/// The model's tokens as bytes, indexed by id (added tokens left out).
fn byte_tokens_in_id_order(file: &Value) -> Result<Vec<Vec<u8>>, Unsupported> {
    let model = &file["model"];
    if model["type"] != "BPE" {
        return unsupported(format!("model {}", model["type"]));
    }
    if model["byte_fallback"] == true {
        return unsupported("byte fallback");
    }
    if !model["dropout"].is_null() {
        return unsupported("BPE dropout");
    }
    for affix in ["continuing_subword_prefix", "end_of_word_suffix"] {
        if model[affix].as_str().is_some_and(|s| !s.is_empty()) {
            return unsupported(affix.replace('_', " "));
        }
    }
    let mut added = HashSet::new();
    for token in file["added_tokens"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        if token["special"] != true {
            return unsupported(format!("non-special added token {}", token["content"]));
        }
        added.insert(token["id"].as_u64().unwrap_or(u64::MAX));
    }
    let Some(vocab) = model["vocab"].as_object() else {
        return unsupported("the model has no vocab object");
    };
    let alphabet = byte_level_alphabet();
    let mut by_id: Vec<Option<Vec<u8>>> = vec![None; vocab.len()];
    for (token, id) in vocab {
        let Some(id) = id.as_u64() else {
            return unsupported(format!("vocab id of {token:?} is not a number"));
        };
        if added.contains(&id) {
            continue;
        }
        let bytes: Option<Vec<u8>> = token.chars().map(|c| alphabet.get(&c).copied()).collect();
        let Some(bytes) = bytes else {
            return unsupported(format!("vocab token {token:?} is not in the byte-level alphabet"));
        };
        match by_id.get_mut(id as usize) {
            Some(slot) => *slot = Some(bytes),
            None => return unsupported(format!("vocab ids are not contiguous (id {id})")),
        }
    }
    while by_id.last().is_some_and(Option::is_none) {
        by_id.pop();
    }
    by_id
        .into_iter()
        .enumerate()
        .map(|(id, bytes)| bytes.ok_or_else(|| Unsupported(format!("vocab id {id} is missing"))))
        .collect()
}

/// Merge `i` must make a token with a larger id than merge `i - 1`'s.
fn check_merge_order(model: &Value) -> Result<(), Unsupported> {
    let vocab = model["vocab"].as_object().expect("checked by byte_tokens_in_id_order");
    let merges = model["merges"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut previous: Option<u64> = None;
    for merge in merges {
        let (left, right) = match merge {
            Value::String(s) => match s.split_once(' ') {
                Some(pair) => pair,
                None => return unsupported(format!("merge {s:?} is not a pair")),
            },
            Value::Array(pair) if pair.len() == 2 => (pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or("")),
            other => return unsupported(format!("merge {other} is not a pair")),
        };
        let merged = format!("{left}{right}");
        let Some(id) = vocab.get(&merged).and_then(Value::as_u64) else {
            return unsupported(format!(
                "merge {left:?} + {right:?} makes {merged:?}, which is not in the vocab"
            ));
        };
        if previous.is_some_and(|p| id <= p) {
            return unsupported(format!(
                "merge order differs from id order at {merged:?} (id {id}); only Hugging Face reproduces it"
            ));
        }
        previous = Some(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_encoder_is_reused_and_a_damaged_one_rebuilt() {
        let json = std::fs::read_to_string("data/samples/tokenizer/cl100k_base.tokenizer.json").unwrap();
        let dir = std::env::temp_dir().join(format!("wikitok-bpe-cache-{}", std::process::id()));
        let text = "Ἀναρχισμός — anarchism, 1840s: «  whitespace\n\n and 数字 12345 🙂»";
        let fresh = FastBpe::from_tokenizer_json(&json).unwrap().encode(text);
        let built = FastBpe::from_tokenizer_json_cached(&json, Some(&dir)).unwrap();
        let entry = dir.join(cache_file_name(&json));
        assert!(entry.exists(), "nothing cached");
        assert_eq!(built.encode(text), fresh);
        let loaded = FastBpe::from_tokenizer_json_cached(&json, Some(&dir)).unwrap();
        assert_eq!(loaded.encode(text), fresh);
        for damage in [&b"not msgpack"[..], &std::fs::read(&entry).unwrap()[..1000]] {
            std::fs::write(&entry, damage).unwrap();
            let rebuilt = FastBpe::from_tokenizer_json_cached(&json, Some(&dir)).unwrap();
            assert_eq!(rebuilt.encode(text), fresh);
            assert!(load_cached(&entry).is_some(), "the damaged entry was not replaced");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_byte_level_alphabet_covers_every_byte_once() {
        let alphabet = byte_level_alphabet();
        assert_eq!(alphabet.len(), 256);
        let bytes: HashSet<u8> = alphabet.values().copied().collect();
        assert_eq!(bytes.len(), 256);
        assert_eq!(alphabet[&'Ġ'], b' ');
        assert_eq!(alphabet[&'a'], b'a');
    }

    #[test]
    fn the_whitespace_look_ahead_is_rewritten_and_other_look_arounds_refused() {
        let patterns = automaton_patterns(r"a+|\s+(?!\S)|\s+").unwrap();
        assert_eq!(
            patterns,
            [
                (r"a+|\s+$".to_string(), false),
                (r"\s+\s".to_string(), true),
                (r"\s+".to_string(), false)
            ]
        );
        assert!(automaton_patterns(r"a(?=b)|\s+").is_err());
        assert_eq!(
            automaton_patterns(r"\w+|\s+").unwrap(),
            [(r"\w+|\s+".to_string(), false)]
        );
    }

    #[test]
    fn files_of_other_shapes_say_why() {
        let bert = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bert-base-uncased.tokenizer.json"),
        )
        .unwrap();
        let reason = FastBpe::from_tokenizer_json(&bert).unwrap_err();
        assert!(reason.0.contains("normalizer"), "{reason}");
    }
}
