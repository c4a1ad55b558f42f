//! Loading tokenizers: a Hugging Face `tokenizer.json` configured never to
//! truncate or pad, and the choice of backend (exact fast BPE or Hugging
//! Face) for encoding page text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, bail, Context};
use datafusion::common::{DataFusionError, Result};

use super::fast_bpe::{default_cache_dir, FastBpe, Unsupported};

/// Which implementation encodes page text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TokenizerBackend {
    /// The fast backend when the file's shape allows exact results, else Hugging Face.
    #[default]
    Auto,
    /// Hugging Face `tokenizers` always.
    Hf,
    /// The fast backend; a tokenizer it cannot reproduce exactly is an error.
    Fast,
}

/// A loaded tokenizer, configured never to truncate or pad.
#[derive(Debug)]
pub struct PageTokenizer {
    pub name: String,
    pub path: PathBuf,
    inner: tokenizers::Tokenizer,
    /// Set (to `Some` when the fast backend encodes this tokenizer's text)
    /// once the backend is decided; see [`PageTokenizer::fast`].
    fast: Arc<OnceLock<Option<FastBpe>>>,
}

impl PageTokenizer {
    pub fn from_file(name: &str, path: &Path) -> anyhow::Result<Self> {
        Self::with_backend(name, path, TokenizerBackend::Hf)
    }

    pub fn with_backend(name: &str, path: &Path, backend: TokenizerBackend) -> anyhow::Result<Self> {
        if !path.is_file() {
            bail!(
                "tokenizer {name:?}: {} does not exist (pass --tokenizer PATH to a Hugging Face tokenizer.json)",
                path.display()
            );
        }
        let mut inner =
            tokenizers::Tokenizer::from_file(path).map_err(|e| anyhow!("tokenizer {}: {e}", path.display()))?;
        if let Some(truncation) = inner.get_truncation() {
            tracing::info!(
                tokenizer = name,
                "switching off the file's truncation (max_length {}): pages are never cut",
                truncation.max_length
            );
        }
        if inner.get_padding().is_some() {
            tracing::info!(tokenizer = name, "switching off the file's padding");
        }
        inner
            .with_truncation(None)
            .map_err(|e| anyhow!("tokenizer {}: {e}", path.display()))?;
        inner.with_padding(None);
        inner.set_encode_special_tokens(true);
        let fast = Arc::new(OnceLock::new());
        match backend {
            TokenizerBackend::Hf => {
                tracing::info!(tokenizer = name, "backend: hf (as requested)");
                let _ = fast.set(None);
            }
            TokenizerBackend::Fast => {
                let json = std::fs::read_to_string(path).with_context(|| format!("tokenizer {}", path.display()))?;
                match FastBpe::from_tokenizer_json_cached(&json, default_cache_dir().as_deref()) {
                    Ok(encoder) => {
                        tracing::info!(tokenizer = name, "backend: fast (exact byte-level BPE, as requested)");
                        let _ = fast.set(Some(encoder));
                    }
                    Err(reason) => bail!(
                        "tokenizer {}: --tokenizer-backend fast cannot reproduce this tokenizer exactly: {reason} \
                         (use --tokenizer-backend auto or hf)",
                        path.display()
                    ),
                }
            }
            TokenizerBackend::Auto => build_fast_in_background(name, path, fast.clone()),
        }
        Ok(PageTokenizer {
            name: name.to_string(),
            path: path.to_path_buf(),
            inner,
            fast,
        })
    }

    /// The fast encoder, if this tokenizer uses it. With `auto` it is built
    /// in the background (~0.5 s for cl100k) while the scan starts; the first
    /// batch to be tokenized waits for it.
    fn fast(&self) -> Option<&FastBpe> {
        self.fast.wait().as_ref()
    }

    /// `fast` or `hf`: which implementation encodes page text.
    pub fn backend_name(&self) -> &'static str {
        if self.fast().is_some() {
            "fast"
        } else {
            "hf"
        }
    }

    /// Token ids of `text`; with `special_tokens`, the tokenizer's
    /// post-processor adds its special tokens (e.g. BERT's `[CLS]`/`[SEP]`).
    pub fn encode(&self, text: &str, special_tokens: bool) -> std::result::Result<Vec<u32>, tokenizers::Error> {
        let mut ids = Vec::new();
        self.encode_into(text, special_tokens, &mut ids)?;
        Ok(ids)
    }

    /// The vocabulary size, added tokens included (Megatron's dtype rule).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// [`PageTokenizer::encode`], appending to `out` (the UDFs build one
    /// values buffer per batch).
    pub fn encode_into(
        &self,
        text: &str,
        special_tokens: bool,
        out: &mut Vec<u32>,
    ) -> std::result::Result<(), tokenizers::Error> {
        match self.fast() {
            Some(fast) if !special_tokens => fast.encode_into(text, out),
            _ => out.extend_from_slice(self.inner.encode_fast(text, special_tokens)?.get_ids()),
        }
        Ok(())
    }

    /// The number of ids [`PageTokenizer::encode`] gives without special
    /// tokens (the fast backend counts without materializing them).
    pub fn count(&self, text: &str) -> std::result::Result<usize, tokenizers::Error> {
        match self.fast() {
            Some(fast) => Ok(fast.count(text)),
            None => Ok(self.inner.encode_fast(text, false)?.len()),
        }
    }
}

/// The tokenizers of a run, by name; the first one is the default.
#[derive(Debug)]
pub struct TokenizerSet {
    default: String,
    by_name: BTreeMap<String, Arc<PageTokenizer>>,
    /// Tokens produced by the tokenizer functions so far (for progress and
    /// the run summary).
    pub tokens_produced: Arc<AtomicU64>,
}

impl TokenizerSet {
    /// Loads `NAME=PATH` or `PATH` specs; a bare path is named after its file
    /// (`cl100k_base.tokenizer.json` → `cl100k_base`).
    pub fn load(specs: &[String], backend: TokenizerBackend) -> anyhow::Result<Self> {
        let mut by_name = BTreeMap::new();
        let mut default = None;
        for spec in specs {
            let (name, path) = match spec.split_once('=') {
                Some((name, path)) if !name.contains(['/', '\\']) => (name.to_string(), PathBuf::from(path)),
                _ => (default_tokenizer_name(Path::new(spec)), PathBuf::from(spec)),
            };
            let tokenizer =
                PageTokenizer::with_backend(&name, &path, backend).with_context(|| format!("--tokenizer {spec}"))?;
            tracing::info!(tokenizer = %name, path = %path.display(), ?backend, "loaded tokenizer");
            default.get_or_insert_with(|| name.clone());
            if by_name.insert(name.clone(), Arc::new(tokenizer)).is_some() {
                bail!("--tokenizer: the name {name:?} is given twice");
            }
        }
        let default = default.ok_or_else(|| anyhow!("no --tokenizer given"))?;
        Ok(TokenizerSet {
            default,
            by_name,
            tokens_produced: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn get(&self, name: Option<&str>) -> Result<&Arc<PageTokenizer>> {
        let name = name.unwrap_or(&self.default);
        self.by_name.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
            DataFusionError::Plan(format!("unknown tokenizer {name:?}; loaded: {}", known.join(", ")))
        })
    }

    pub fn default_tokenizer(&self) -> &Arc<PageTokenizer> {
        &self.by_name[&self.default]
    }
}

/// End-of-text tokens of common tokenizer families, most specific first.
pub(super) const EOS_CANDIDATES: &[&str] = &[
    "<|endoftext|>",
    "<|end_of_text|>",
    "</s>",
    "<eos>",
    "<|eot_id|>",
    "<|im_end|>",
    "[SEP]",
];

impl PageTokenizer {
    /// The tokenizer's end-of-text token id: the first of the usual EOS
    /// spellings that is one of its special tokens.
    pub fn eos_token_id(&self) -> Option<u32> {
        let specials: Vec<(u32, String)> = self
            .inner
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, t)| (id, t.content))
            .collect();
        EOS_CANDIDATES
            .iter()
            .find_map(|eos| specials.iter().find(|(_, content)| content == eos).map(|(id, _)| *id))
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn decode(&self, ids: &[u32]) -> std::result::Result<String, tokenizers::Error> {
        self.inner.decode(ids, false)
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
}

/// Decides `auto` off the main thread: builds the fast encoder if the file
/// allows exact results, else settles on Hugging Face. The cell is always
/// set, even if building panics, so nobody waits forever.
fn build_fast_in_background(name: &str, path: &Path, cell: Arc<OnceLock<Option<FastBpe>>>) {
    let name = name.to_string();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let built = std::panic::catch_unwind(|| {
            let json = std::fs::read_to_string(&path).map_err(|e| Unsupported(e.to_string()))?;
            FastBpe::from_tokenizer_json_cached(&json, default_cache_dir().as_deref())
        });
        let encoder = match built {
            Ok(Ok(encoder)) => {
                tracing::info!(
                    tokenizer = %name,
                    "backend: fast (exact byte-level BPE), ready in {:.2} s",
                    started.elapsed().as_secs_f64()
                );
                Some(encoder)
            }
            Ok(Err(reason)) => {
                tracing::info!(tokenizer = %name, "backend: hf (the fast backend does not apply: {reason})");
                None
            }
            Err(_) => {
                tracing::warn!(tokenizer = %name, "backend: hf (building the fast backend failed)");
                None
            }
        };
        let _ = cell.set(encoder);
    });
}

fn default_tokenizer_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file.strip_suffix(".json").unwrap_or(&file);
    let stem = stem.strip_suffix("tokenizer").unwrap_or(stem);
    let stem = stem.trim_end_matches(['.', '_', '-']);
    if stem.is_empty() {
        "default".to_string()
    } else {
        stem.to_string()
    }
}
