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
//! exact fast backend ([`fast_bpe`]) unless `--tokenizer-backend hf`;
//! everything else, and what needs the file's post-processor
//! (`tokenize_with_special_tokens`) or decoder, goes through Hugging Face.
//! `cl100k_base` (the default) and `o200k_base` are built in ([`builtin`]):
//! no file needed.

//!
//! - [`page_tokenizer`]: loading `tokenizer.json` files, choosing the backend;
//! - [`builtin`]: the tokenizers compiled into the binary;
//! - [`fast_bpe`]: the exact fast byte-level BPE backend;
//! - [`udf`]: the vectorized scalar functions over Arrow string columns.

pub mod builtin;
pub mod fast_bpe;
pub mod page_tokenizer;
pub mod udf;

pub use page_tokenizer::{PageTokenizer, TokenizerBackend, TokenizerSet};
pub use udf::{register_tokenizer_udfs, token_list_type, tokenize_array};
