//! Tokenizer UDFs: `tokenize`, `tokenize_with_special_tokens`, `token_count`,
//! and the helpers around them: `detokenize`, `token_strings`,
//! `eos_token_id`, `special_token_id`.
//!
//! Any Hugging Face `tokenizer.json` can be loaded. Two of its settings are
//! overridden on purpose:
//! - truncation and padding (BERT-style files carry `max_length: 128`) are
//!   switched off — a page is never cut;
//! - special tokens written literally in page text (a page quoting
//!   `<|endoftext|>`) are tokenized as ordinary text, as tiktoken's
//!   `encode_ordinary` does: page text must never inject control tokens.
//!
//! The functions are vectorized: each call receives a whole string column and
//! builds the Arrow `List<UInt32>` (or `Int64`) result directly, one values
//! buffer and one offsets buffer per batch.
//!
//! Byte-level BPE files (cl100k, GPT-2, Llama 3 style) are encoded by the
//! exact fast backend ([`crate::fast_bpe`]) unless `--tokenizer-backend hf`;
//! everything else, and what needs the file's post-processor
//! (`tokenize_with_special_tokens`) or decoder, goes through Hugging Face.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, bail, Context};
use arrow::array::{Array, ArrayRef, AsArray, Int64Builder, ListArray, StringArray, UInt32Array};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, DataFusionError, Result, ScalarValue};
use datafusion::functions_nested::expr_fn::cardinality;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    cast, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::fast_bpe::{FastBpe, Unsupported};

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
                match FastBpe::from_tokenizer_json(&json) {
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
        match self.fast() {
            Some(fast) if !special_tokens => Ok(fast.encode(text)),
            _ => Ok(self.inner.encode_fast(text, special_tokens)?.get_ids().to_vec()),
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
const EOS_CANDIDATES: &[&str] = &[
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
            FastBpe::from_tokenizer_json(&json)
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

/// The run's tokenizers as held by each UDF. DataFusion compares and hashes
/// UDFs (to deduplicate expressions); two UDFs are the same function when
/// they share the very same `TokenizerSet`, so identity is the pointer.
#[derive(Debug, Clone)]
struct SharedTokenizers(Arc<TokenizerSet>);

impl PartialEq for SharedTokenizers {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedTokenizers {}

impl Hash for SharedTokenizers {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.0).hash(state);
    }
}

impl std::ops::Deref for SharedTokenizers {
    type Target = TokenizerSet;

    fn deref(&self) -> &TokenizerSet {
        &self.0
    }
}

/// Registers the tokenizer functions in `ctx`.
pub fn register_tokenizer_udfs(ctx: &SessionContext, tokenizers: Arc<TokenizerSet>) {
    for output in [TokenOutput::Ids, TokenOutput::IdsWithSpecialTokens, TokenOutput::Count] {
        ctx.register_udf(ScalarUDF::new_from_impl(TokenizeUdf::new(output, tokenizers.clone())));
    }
    for kind in [IdsFunction::Detokenize, IdsFunction::TokenStrings] {
        ctx.register_udf(ScalarUDF::new_from_impl(IdsUdf::new(kind, tokenizers.clone())));
    }
    for kind in [SpecialTokenFunction::Eos, SpecialTokenFunction::ByName] {
        ctx.register_udf(ScalarUDF::new_from_impl(SpecialTokenUdf::new(kind, tokenizers.clone())));
    }
}

/// The optional constant tokenizer-name argument at `index`.
fn tokenizer_name_arg<'a>(function: &str, args: &'a [ColumnarValue], index: usize) -> Result<Option<&'a str>> {
    match args.get(index) {
        None => Ok(None),
        Some(ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(n)) | ScalarValue::LargeUtf8(Some(n)) | ScalarValue::Utf8View(Some(n)),
        )) => Ok(Some(n.as_str())),
        Some(_) => exec_err!("{function}: the tokenizer name must be a constant string, e.g. 'cl100k_base'"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IdsFunction {
    /// `detokenize(tokens [, tokenizer])`: the text of the ids (a round trip
    /// of `tokenize` for byte-level BPE tokenizers).
    Detokenize,
    /// `token_strings(tokens [, tokenizer])`: each id's vocabulary entry.
    TokenStrings,
}

/// Functions from token-id lists.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IdsUdf {
    kind: IdsFunction,
    tokenizers: SharedTokenizers,
    signature: Signature,
}

impl IdsUdf {
    fn new(kind: IdsFunction, tokenizers: Arc<TokenizerSet>) -> Self {
        IdsUdf {
            kind,
            tokenizers: SharedTokenizers(tokenizers),
            signature: Signature::one_of(
                vec![TypeSignature::Any(1), TypeSignature::Any(2)],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for IdsUdf {
    fn name(&self) -> &str {
        match self.kind {
            IdsFunction::Detokenize => "detokenize",
            IdsFunction::TokenStrings => "token_strings",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !matches!(
            arg_types.first(),
            Some(DataType::List(_) | DataType::LargeList(_) | DataType::Null)
        ) {
            return exec_err!(
                "{}: expects a list of token ids, got {:?}",
                self.name(),
                arg_types.first()
            );
        }
        Ok(match self.kind {
            IdsFunction::Detokenize => DataType::Utf8,
            IdsFunction::TokenStrings => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let tokenizer = self.tokenizers.get(tokenizer_name_arg(self.name(), &args.args, 1)?)?;
        let lists = args.args[0].to_array(args.number_rows)?;
        let lists = arrow::compute::cast(&lists, &token_list_type())?;
        let lists = lists.as_list::<i32>();
        let ids = lists.values().as_primitive::<arrow::datatypes::UInt32Type>();
        let row_ids = |i: usize| {
            let (start, end) = (lists.value_offsets()[i] as usize, lists.value_offsets()[i + 1] as usize);
            &ids.values()[start..end]
        };
        match self.kind {
            IdsFunction::Detokenize => {
                let mut out = arrow::array::StringBuilder::new();
                for i in 0..lists.len() {
                    if lists.is_null(i) {
                        out.append_null();
                    } else {
                        out.append_value(tokenizer.decode(row_ids(i)).map_err(encode_error)?);
                    }
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
            IdsFunction::TokenStrings => {
                let mut out = arrow::array::ListBuilder::new(arrow::array::StringBuilder::new())
                    .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true)));
                for i in 0..lists.len() {
                    if lists.is_null(i) {
                        out.append_null();
                        continue;
                    }
                    for &id in row_ids(i) {
                        out.values().append_option(tokenizer.id_to_token(id));
                    }
                    out.append(true);
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SpecialTokenFunction {
    /// `eos_token_id([tokenizer])`: the tokenizer's end-of-text id.
    Eos,
    /// `special_token_id(token [, tokenizer])`: the id of a token string.
    ByName,
}

/// Constant token ids, for framing sequences (`array_append(tokenize(text), eos_token_id())`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct SpecialTokenUdf {
    kind: SpecialTokenFunction,
    tokenizers: SharedTokenizers,
    signature: Signature,
}

impl SpecialTokenUdf {
    fn new(kind: SpecialTokenFunction, tokenizers: Arc<TokenizerSet>) -> Self {
        let signatures = match kind {
            SpecialTokenFunction::Eos => vec![TypeSignature::Nullary, TypeSignature::String(1)],
            SpecialTokenFunction::ByName => vec![TypeSignature::String(1), TypeSignature::String(2)],
        };
        SpecialTokenUdf {
            kind,
            tokenizers: SharedTokenizers(tokenizers),
            signature: Signature::one_of(signatures, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SpecialTokenUdf {
    fn name(&self) -> &str {
        match self.kind {
            SpecialTokenFunction::Eos => "eos_token_id",
            SpecialTokenFunction::ByName => "special_token_id",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let id = match self.kind {
            SpecialTokenFunction::Eos => {
                let tokenizer = self.tokenizers.get(tokenizer_name_arg(self.name(), &args.args, 0)?)?;
                tokenizer.eos_token_id().ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "eos_token_id: tokenizer {:?} has none of the usual end-of-text tokens ({}); \
                         use special_token_id('...')",
                        tokenizer.name,
                        EOS_CANDIDATES.join(" ")
                    ))
                })?
            }
            SpecialTokenFunction::ByName => {
                let Some(token) = tokenizer_name_arg(self.name(), &args.args, 0)? else {
                    return exec_err!("special_token_id: give the token, e.g. special_token_id('<|endoftext|>')");
                };
                let tokenizer = self.tokenizers.get(tokenizer_name_arg(self.name(), &args.args, 1)?)?;
                tokenizer.token_id(token).ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "special_token_id: {token:?} is not in tokenizer {:?}",
                        tokenizer.name
                    ))
                })?
            }
        };
        Ok(ColumnarValue::Scalar(ScalarValue::UInt32(Some(id))))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TokenOutput {
    /// `tokenize(text [, tokenizer])`: ids, no special tokens.
    Ids,
    /// `tokenize_with_special_tokens(text [, tokenizer])`: ids framed by the
    /// tokenizer's post-processor (BOS/EOS, `[CLS]`/`[SEP]`).
    IdsWithSpecialTokens,
    /// `token_count(text [, tokenizer])`: the length of `tokenize`.
    Count,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TokenizeUdf {
    output: TokenOutput,
    tokenizers: SharedTokenizers,
    signature: Signature,
}

impl TokenizeUdf {
    fn new(output: TokenOutput, tokenizers: Arc<TokenizerSet>) -> Self {
        TokenizeUdf {
            output,
            tokenizers: SharedTokenizers(tokenizers),
            signature: Signature::one_of(
                vec![TypeSignature::String(1), TypeSignature::String(2)],
                Volatility::Immutable,
            ),
        }
    }
}

/// The `tokenize` result type: `List<UInt32>`.
pub fn token_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::UInt32, true)))
}

impl ScalarUDFImpl for TokenizeUdf {
    fn name(&self) -> &str {
        match self.output {
            TokenOutput::Ids => "tokenize",
            TokenOutput::IdsWithSpecialTokens => "tokenize_with_special_tokens",
            TokenOutput::Count => "token_count",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            TokenOutput::Count => DataType::Int64,
            _ => token_list_type(),
        })
    }

    /// `token_count(x)` becomes `cardinality(tokenize(x))`: a query asking
    /// for both the tokens and their count (the common case) then tokenizes
    /// once, because DataFusion's common-subexpression elimination computes
    /// the shared `tokenize(x)` a single time.
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if self.output != TokenOutput::Count {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let tokenize = ScalarUDF::new_from_impl(TokenizeUdf::new(TokenOutput::Ids, self.tokenizers.0.clone()));
        let count = cardinality(tokenize.call(args));
        Ok(ExprSimplifyResult::Simplified(cast(count, DataType::Int64)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let tokenizer = self.tokenizers.get(tokenizer_name_arg(self.name(), &args.args, 1)?)?;
        let texts = args.args[0].to_array(args.number_rows)?;
        let texts = as_utf8(&texts)?;
        let (result, tokens) = match self.output {
            TokenOutput::Ids => encode_to_lists(tokenizer, &texts, false)?,
            TokenOutput::IdsWithSpecialTokens => encode_to_lists(tokenizer, &texts, true)?,
            TokenOutput::Count => count_tokens(tokenizer, &texts)?,
        };
        self.tokenizers.tokens_produced.fetch_add(tokens, Ordering::Relaxed);
        Ok(ColumnarValue::Array(result))
    }
}

fn as_utf8(array: &ArrayRef) -> Result<StringArray> {
    if array.data_type() == &DataType::Utf8 {
        return Ok(array.as_string::<i32>().clone());
    }
    let cast = arrow::compute::cast(array, &DataType::Utf8)?;
    Ok(cast.as_string::<i32>().clone())
}

fn encode_error(e: tokenizers::Error) -> DataFusionError {
    DataFusionError::Execution(format!("tokenizer failed: {e}"))
}

/// Returns the list array and the number of tokens in it.
fn encode_to_lists(tokenizer: &PageTokenizer, texts: &StringArray, special_tokens: bool) -> Result<(ArrayRef, u64)> {
    let mut offsets: Vec<i32> = Vec::with_capacity(texts.len() + 1);
    offsets.push(0);
    let mut values: Vec<u32> = Vec::with_capacity(texts.value_data().len() / 3);
    let fast = tokenizer.fast();
    for i in 0..texts.len() {
        if texts.is_valid(i) {
            match fast {
                Some(fast) if !special_tokens => fast.encode_into(texts.value(i), &mut values),
                _ => {
                    let encoding = tokenizer
                        .inner
                        .encode_fast(texts.value(i), special_tokens)
                        .map_err(encode_error)?;
                    values.extend_from_slice(encoding.get_ids());
                }
            }
        }
        let end = i32::try_from(values.len()).map_err(|_| {
            DataFusionError::Execution("more than 2^31 tokens in one batch; lower the batch size".into())
        })?;
        offsets.push(end);
    }
    let tokens = values.len() as u64;
    let field = Arc::new(Field::new_list_field(DataType::UInt32, true));
    let list = ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        Arc::new(UInt32Array::from(values)),
        texts.nulls().cloned(),
    )?;
    Ok((Arc::new(list), tokens))
}

/// Returns the counts and their sum.
fn count_tokens(tokenizer: &PageTokenizer, texts: &StringArray) -> Result<(ArrayRef, u64)> {
    let mut counts = Int64Builder::with_capacity(texts.len());
    let mut total = 0;
    let fast = tokenizer.fast();
    for text in texts.iter() {
        match text {
            Some(text) => {
                let count = match fast {
                    Some(fast) => fast.count(text),
                    None => tokenizer.inner.encode_fast(text, false).map_err(encode_error)?.len(),
                };
                counts.append_value(count as i64);
                total += count as u64;
            }
            None => counts.append_null(),
        }
    }
    Ok((Arc::new(counts.finish()), total))
}
