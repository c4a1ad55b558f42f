//! `shuffle_key(id, seed)`: a deterministic pseudo-random key per row, for
//! seeded shuffles and hash splits in SQL (`ORDER BY shuffle_key(page_id, 7)`,
//! `WHERE shuffle_key(page_id, 0) % 1000 < 50`).
//!
//! DataFusion's `random()` is not seeded and its `hash`-like functions come
//! with the crypto feature this build leaves out; this is SplitMix64 (a
//! bijection on 64-bit integers with good avalanche), so the same (id, seed)
//! gives the same key on every machine and run, and distinct ids never share
//! a key for one seed.

use std::sync::Arc;

use arrow::array::{AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionContext;

/// The key: SplitMix64 of `id` mixed with `seed`, as a non-negative BIGINT.
pub fn shuffle_key(id: i64, seed: i64) -> i64 {
    let mut z = (id as u64) ^ (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 1) as i64
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ShuffleKeyUdf {
    signature: Signature,
}

impl ScalarUDFImpl for ShuffleKeyUdf {
    fn name(&self) -> &str {
        "shuffle_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (ids, seeds) = (
            arrays[0].as_primitive::<Int64Type>(),
            arrays[1].as_primitive::<Int64Type>(),
        );
        let keys: Int64Array = ids
            .iter()
            .zip(seeds.iter())
            .map(|(id, seed)| Some(shuffle_key(id?, seed?)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(keys)))
    }
}

/// Registers `shuffle_key` in `ctx`.
pub fn register_shuffle_udf(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(ShuffleKeyUdf {
        signature: Signature::exact(vec![DataType::Int64, DataType::Int64], Volatility::Immutable),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_non_negative_and_depend_on_the_seed() {
        let keys: std::collections::BTreeSet<i64> = (0..10_000).map(|id| shuffle_key(id, 7)).collect();
        assert_eq!(keys.len(), 10_000);
        assert!(keys.iter().all(|&k| k >= 0));
        assert_ne!(shuffle_key(1, 7), shuffle_key(1, 8));
        // Roughly uniform: about 5% of ids fall under 50 per mille.
        let valid = (0..100_000).filter(|&id| shuffle_key(id, 0) % 1000 < 50).count();
        assert!((4_500..5_500).contains(&valid), "{valid}");
    }
}
