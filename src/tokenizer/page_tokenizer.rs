//! Loading tokenizers: a Hugging Face `tokenizer.json` configured never to
//! truncate or pad, and the choice of backend (exact fast BPE or Hugging
//! Face) for encoding page text; or a tokenizer built into the binary
//! ([`super::builtin`]). A run's tokenizers are loaded when a statement first
//! calls a function that needs one, so a query without tokenizer functions
//! never needs a tokenizer file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{anyhow, bail, Context};
use datafusion::common::{DataFusionError, Result};

use super::builtin::{BuiltinTokenizer, BUILTIN_NAMES};
use super::fast_bpe::{default_cache_dir, FastBpe, Unsupported};

/// Which implementation encodes page text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
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
    vocabulary: Vocabulary,
}

/// Where a tokenizer's vocabulary and rules come from.
#[derive(Debug)]
enum Vocabulary {
    /// A `tokenizer.json`, encoded by Hugging Face or the fast backend.
    File {
        inner: Box<tokenizers::Tokenizer>,
        /// Set (to `Some` when the fast backend encodes this tokenizer's
        /// text) once the backend is decided; see [`PageTokenizer::fast`].
        fast: Arc<OnceLock<Option<FastBpe>>>,
    },
    /// Built into the binary.
    Builtin(BuiltinTokenizer),
}

impl PageTokenizer {
    /// A tokenizer built into the binary (`cl100k_base`, `o200k_base`).
    pub fn builtin(name: &str, backend: TokenizerBackend) -> anyhow::Result<Self> {
        let Some(builtin) = BuiltinTokenizer::named(name) else {
            bail!(
                "tokenizer {name:?} is not built in (built in: {}); pass --tokenizer PATH to a Hugging Face tokenizer.json",
                BUILTIN_NAMES.join(", ")
            );
        };
        if backend == TokenizerBackend::Hf {
            bail!("tokenizer {name:?} is built in (exact byte-level BPE, no tokenizer.json): --tokenizer-backend hf needs a file");
        }
        tracing::info!(
            tokenizer = name,
            "backend: built in (exact byte-level BPE, tiktoken's ids)"
        );
        Ok(PageTokenizer {
            name: name.to_string(),
            vocabulary: Vocabulary::Builtin(builtin),
        })
    }

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
            vocabulary: Vocabulary::File {
                inner: Box::new(inner),
                fast,
            },
        })
    }

    /// The fast encoder, if this tokenizer uses it. With `auto` it is built
    /// in the background (~0.5 s for cl100k, less from the cache) from the
    /// moment the tokenizer is loaded — the first call of a tokenizer
    /// function — and that first batch waits for it.
    fn fast(&self) -> Option<&FastBpe> {
        match &self.vocabulary {
            Vocabulary::File { fast, .. } => fast.wait().as_ref(),
            Vocabulary::Builtin(_) => None,
        }
    }

    /// `builtin`, `fast` or `hf`: which implementation encodes page text.
    pub fn backend_name(&self) -> &'static str {
        match &self.vocabulary {
            Vocabulary::Builtin(_) => "builtin",
            Vocabulary::File { .. } if self.fast().is_some() => "fast",
            Vocabulary::File { .. } => "hf",
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
        match &self.vocabulary {
            Vocabulary::File { inner, .. } => inner.get_vocab_size(true),
            Vocabulary::Builtin(builtin) => builtin.vocab_size(),
        }
    }

    /// [`PageTokenizer::encode`], appending to `out` (the UDFs build one
    /// values buffer per batch).
    pub fn encode_into(
        &self,
        text: &str,
        special_tokens: bool,
        out: &mut Vec<u32>,
    ) -> std::result::Result<(), tokenizers::Error> {
        match &self.vocabulary {
            // cl100k and o200k add no tokens around a text.
            Vocabulary::Builtin(builtin) => builtin.encode_into(text, out),
            Vocabulary::File { inner, .. } => match self.fast() {
                Some(fast) if !special_tokens => fast.encode_into(text, out),
                _ => out.extend_from_slice(inner.encode_fast(text, special_tokens)?.get_ids()),
            },
        }
        Ok(())
    }

    /// The number of ids [`PageTokenizer::encode`] gives without special
    /// tokens (the fast backend counts without materializing them).
    pub fn count(&self, text: &str) -> std::result::Result<usize, tokenizers::Error> {
        match &self.vocabulary {
            Vocabulary::Builtin(builtin) => Ok(builtin.count(text)),
            Vocabulary::File { inner, .. } => match self.fast() {
                Some(fast) => Ok(fast.count(text)),
                None => Ok(inner.encode_fast(text, false)?.len()),
            },
        }
    }
}

/// The tokenizers of a run, by name; the first one is the default. Each is
/// loaded on first use, so a query that calls no tokenizer function never
/// reads a tokenizer file (nor needs one to exist).
#[derive(Debug)]
pub struct TokenizerSet {
    default: String,
    by_name: BTreeMap<String, LazyTokenizer>,
    backend: TokenizerBackend,
    /// Tokens produced by the tokenizer functions so far (for progress and
    /// the run summary).
    pub tokens_produced: Arc<AtomicU64>,
}

/// A tokenizer named on the command line, loaded when first needed.
#[derive(Debug)]
struct LazyTokenizer {
    /// As given: `PATH`, `NAME=PATH` or a built-in name.
    spec: String,
    source: TokenizerSource,
    loaded: OnceLock<std::result::Result<Arc<PageTokenizer>, String>>,
}

#[derive(Debug, Clone)]
enum TokenizerSource {
    File(PathBuf),
    Builtin,
}

impl TokenizerSet {
    /// Reads `NAME=PATH`, `PATH` or built-in `NAME` specs (a bare path is
    /// named after its file: `cl100k_base.tokenizer.json` → `cl100k_base`;
    /// a built-in name that is not an existing file is the built-in
    /// tokenizer). Nothing is loaded yet.
    pub fn load(specs: &[String], backend: TokenizerBackend) -> anyhow::Result<Self> {
        let mut by_name = BTreeMap::new();
        let mut default = None;
        for spec in specs {
            let (name, source) = match spec.split_once('=') {
                Some((name, path)) if !name.contains(['/', '\\']) => {
                    (name.to_string(), TokenizerSource::File(PathBuf::from(path)))
                }
                _ if BUILTIN_NAMES.contains(&spec.as_str()) && !Path::new(spec).exists() => {
                    if backend == TokenizerBackend::Hf {
                        bail!(
                            "--tokenizer {spec}: a built-in tokenizer (exact byte-level BPE, no tokenizer.json); \
                             --tokenizer-backend hf needs a Hugging Face file (--tokenizer PATH)"
                        );
                    }
                    (spec.clone(), TokenizerSource::Builtin)
                }
                _ => (
                    default_tokenizer_name(Path::new(spec)),
                    TokenizerSource::File(PathBuf::from(spec)),
                ),
            };
            default.get_or_insert_with(|| name.clone());
            let lazy = LazyTokenizer {
                spec: spec.clone(),
                source,
                loaded: OnceLock::new(),
            };
            if by_name.insert(name.clone(), lazy).is_some() {
                bail!("--tokenizer: the name {name:?} is given twice");
            }
        }
        let default = default.ok_or_else(|| anyhow!("no --tokenizer given"))?;
        Ok(TokenizerSet {
            default,
            by_name,
            backend,
            tokens_produced: Arc::new(AtomicU64::new(0)),
        })
    }

    /// [`TokenizerSet::load`], shared by every caller in this process with
    /// the same specs and backend (files by canonical path and modification
    /// time): the Python module's Arrow functions and split reads run once
    /// per batch or split, and loading a tokenizer takes longer than either.
    pub fn shared(specs: &[String], backend: TokenizerBackend) -> anyhow::Result<Arc<TokenizerSet>> {
        type Cache = Mutex<HashMap<(Vec<String>, TokenizerBackend), Arc<TokenizerSet>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let key = (specs.iter().map(|spec| file_identity(spec)).collect(), backend);
        if let Some(set) = cache.lock().map_err(|_| anyhow!("tokenizer cache poisoned"))?.get(&key) {
            return Ok(set.clone());
        }
        // Built outside the lock; two threads racing build it twice and keep one.
        let set = Arc::new(TokenizerSet::load(specs, backend)?);
        let mut cache = cache.lock().map_err(|_| anyhow!("tokenizer cache poisoned"))?;
        Ok(cache.entry(key).or_insert(set).clone())
    }

    /// The tokenizer `name` (the default one for `None`), loading it on
    /// first use; errors name `function`, the SQL function that needed it.
    pub fn get(&self, function: &str, name: Option<&str>) -> Result<&Arc<PageTokenizer>> {
        let name = name.unwrap_or(&self.default);
        let lazy = self.by_name.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
            DataFusionError::Plan(format!(
                "{function}: unknown tokenizer {name:?}; given: {}",
                known.join(", ")
            ))
        })?;
        let loaded = lazy.loaded.get_or_init(|| {
            let loaded = match &lazy.source {
                TokenizerSource::Builtin => PageTokenizer::builtin(name, self.backend),
                TokenizerSource::File(path) => PageTokenizer::with_backend(name, path, self.backend),
            };
            match loaded {
                Ok(tokenizer) => {
                    tracing::info!(tokenizer = %name, spec = %lazy.spec, backend = ?self.backend, "loaded tokenizer");
                    Ok(Arc::new(tokenizer))
                }
                Err(e) => Err(format!("{e:#} (--tokenizer {})", lazy.spec)),
            }
        });
        loaded
            .as_ref()
            .map_err(|e| DataFusionError::Execution(format!("{function}: {e}")))
    }

    /// The default tokenizer (Megatron's dtype follows its vocabulary);
    /// `needed_by` says what needed it, for the error.
    pub fn default_tokenizer(&self, needed_by: &str) -> Result<&Arc<PageTokenizer>> {
        self.get(needed_by, None)
    }

    /// The name of the default tokenizer.
    pub fn default_name(&self) -> &str {
        &self.default
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
        let inner = match &self.vocabulary {
            Vocabulary::Builtin(builtin) => return builtin.eos_token_id(),
            Vocabulary::File { inner, .. } => inner,
        };
        let specials: Vec<(u32, String)> = inner
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
        match &self.vocabulary {
            Vocabulary::File { inner, .. } => inner.token_to_id(token),
            Vocabulary::Builtin(builtin) => builtin.token_id(token),
        }
    }

    pub fn decode(&self, ids: &[u32]) -> std::result::Result<String, tokenizers::Error> {
        match &self.vocabulary {
            Vocabulary::File { inner, .. } => inner.decode(ids, false),
            Vocabulary::Builtin(builtin) => builtin.decode(ids).map_err(Into::into),
        }
    }

    pub fn id_to_token(&self, id: u32) -> Option<String> {
        match &self.vocabulary {
            Vocabulary::File { inner, .. } => inner.id_to_token(id),
            Vocabulary::Builtin(builtin) => builtin.id_to_token(id),
        }
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

/// A tokenizer spec as a cache key: its file (of `PATH` or `NAME=PATH`) by
/// canonical path and modification time, so a relative path read from
/// another directory, or a file rewritten since, is another tokenizer.
fn file_identity(spec: &str) -> String {
    let (name, path) = match spec.split_once('=') {
        Some((name, path)) if !name.contains(['/', '\\']) => (Some(name), path),
        _ => (None, spec),
    };
    let Ok(canonical) = Path::new(path).canonicalize() else {
        return spec.to_string(); // a built-in name
    };
    let modified = std::fs::metadata(&canonical)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{}={}@{modified}", name.unwrap_or_default(), canonical.display())
}
