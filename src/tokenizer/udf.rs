//! The tokenizer functions as vectorized DataFusion scalar UDFs: each call
//! receives a whole string column and builds the Arrow `List<UInt32>` (or
//! `Int64`) result directly.

use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;

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

use super::page_tokenizer::{PageTokenizer, TokenizerSet, EOS_CANDIDATES};

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
        let tokenizer = self
            .tokenizers
            .get(self.name(), tokenizer_name_arg(self.name(), &args.args, 1)?)?;
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
                let tokenizer = self
                    .tokenizers
                    .get(self.name(), tokenizer_name_arg(self.name(), &args.args, 0)?)?;
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
                let tokenizer = self
                    .tokenizers
                    .get(self.name(), tokenizer_name_arg(self.name(), &args.args, 1)?)?;
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
        let tokenizer = self
            .tokenizers
            .get(self.name(), tokenizer_name_arg(self.name(), &args.args, 1)?)?;
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

/// A tokenizer function applied to a string array outside SQL (the Python
/// module's Arrow functions): `tokenize`, `tokenize_with_special_tokens` or
/// `token_count` with `tokenizers`' default tokenizer — the ids the SQL
/// functions give, from the same code.
pub fn tokenize_array(tokenizers: &TokenizerSet, function: &str, texts: &ArrayRef) -> Result<ArrayRef> {
    let output = match function {
        "tokenize" => TokenOutput::Ids,
        "tokenize_with_special_tokens" => TokenOutput::IdsWithSpecialTokens,
        "token_count" => TokenOutput::Count,
        other => {
            return exec_err!("{other}: not a tokenizer function (tokenize, tokenize_with_special_tokens, token_count)")
        }
    };
    let tokenizer = tokenizers.get(function, None)?;
    let texts = as_utf8(texts)?;
    let (result, _) = match output {
        TokenOutput::Ids => encode_to_lists(tokenizer, &texts, false)?,
        TokenOutput::IdsWithSpecialTokens => encode_to_lists(tokenizer, &texts, true)?,
        TokenOutput::Count => count_tokens(tokenizer, &texts)?,
    };
    Ok(result)
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
    for i in 0..texts.len() {
        if texts.is_valid(i) {
            tokenizer
                .encode_into(texts.value(i), special_tokens, &mut values)
                .map_err(encode_error)?;
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
    for text in texts.iter() {
        match text {
            Some(text) => {
                let count = tokenizer.count(text).map_err(encode_error)?;
                counts.append_value(count as i64);
                total += count as u64;
            }
            None => counts.append_null(),
        }
    }
    Ok((Arc::new(counts.finish()), total))
}
