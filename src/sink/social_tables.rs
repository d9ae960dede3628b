//! The `truth/contacts` table: the social network's ties, each pair once.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringDictionaryBuilder};
use arrow::datatypes::{DataType, Int8Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::tables::{batch, dict_type, field};
use crate::social::SocialNetwork;

/// Schema of `truth/contacts`.
pub fn contacts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("subscriber_a", DataType::Int64, false),
        field("subscriber_b", DataType::Int64, false),
        field("kind", dict_type(), false),
        field("weight", DataType::Float64, false),
    ]))
}

/// Every tie once, `subscriber_a < subscriber_b`, ordered by a then b.
pub fn contacts_batch(network: &SocialNetwork) -> RecordBatch {
    let n = network.len();
    let mut a = Int64Builder::with_capacity(n);
    let mut b = Int64Builder::with_capacity(n);
    let mut kind = StringDictionaryBuilder::<Int8Type>::with_capacity(n, 3, 32);
    let mut weight = Float64Builder::with_capacity(n);
    for (x, tie) in network.pairs() {
        a.append_value(x as i64);
        b.append_value(tie.other as i64);
        kind.append_value(tie.kind.name());
        weight.append_value(tie.weight as f64);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(a.finish()),
        Arc::new(b.finish()),
        Arc::new(kind.finish()),
        Arc::new(weight.finish()),
    ];
    batch(&contacts_schema(), columns)
}
