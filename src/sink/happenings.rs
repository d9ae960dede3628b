//! The happenings' truth tables: `truth/happenings` (one row per
//! happening) and `truth/happening_participants` (who attended a gathering
//! or was relocated). See `crate::happenings`.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder,
};
use arrow::datatypes::{DataType, Int8Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::tables::{batch, dict_type, field, ts_column, ts_type};
use crate::happenings::{Happenings, Kind};
use crate::map::Map;

/// Schema of `truth/happenings`.
pub fn happenings_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("happening_id", DataType::Int64, false),
        field("name", DataType::Utf8, false),
        field("kind", dict_type(), false),
        field("start", ts_type(), false),
        field("end", ts_type(), false),
        field("lon", DataType::Float64, true),
        field("lat", DataType::Float64, true),
        field("radius_m", DataType::Float64, true),
        field("sites", DataType::Utf8, true),
        field("place_kinds", DataType::Utf8, true),
        field("participants", DataType::Int64, false),
        field("to_lon", DataType::Float64, true),
        field("to_lat", DataType::Float64, true),
        field("to_radius_m", DataType::Float64, true),
        field("zone_ids", DataType::Utf8, true),
        field("to_zone_ids", DataType::Utf8, true),
    ]))
}

/// Schema of `truth/happening_participants`.
pub fn participants_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("happening_id", DataType::Int64, false),
        field("subscriber_id", DataType::Int64, false),
        field("role", dict_type(), false),
    ]))
}

/// The `truth/happenings` table.
pub fn happenings_batch(h: &Happenings, map: &Map) -> RecordBatch {
    let n = h.items.len();
    let mut id = Int64Builder::with_capacity(n);
    let mut name = StringBuilder::new();
    let mut kind = StringDictionaryBuilder::<Int8Type>::new();
    let mut start = ts_column(n);
    let mut end = ts_column(n);
    let mut lon = Float64Builder::with_capacity(n);
    let mut lat = Float64Builder::with_capacity(n);
    let mut radius = Float64Builder::with_capacity(n);
    let mut sites = StringBuilder::new();
    let mut kinds = StringBuilder::new();
    let mut participants = Int64Builder::with_capacity(n);
    let mut to_lon = Float64Builder::with_capacity(n);
    let mut to_lat = Float64Builder::with_capacity(n);
    let mut to_radius = Float64Builder::with_capacity(n);
    let mut zone_ids = StringBuilder::new();
    let mut to_zone_ids = StringBuilder::new();
    for x in &h.items {
        id.append_value(i64::from(x.id));
        name.append_value(&x.spec.name);
        kind.append_value(x.spec.kind.name());
        start.append_value(x.start * 1000);
        end.append_value(x.end * 1000);
        let ll = x.center.map(|c| map.lon_lat(c));
        lon.append_option(ll.map(|l| l.0));
        lat.append_option(ll.map(|l| l.1));
        radius.append_option(x.spec.radius_m);
        let mut dark: Vec<u32> = x.sites.iter().copied().collect();
        dark.sort_unstable();
        let text = dark
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        sites.append_option((x.spec.kind == Kind::Outage).then_some(text));
        kinds.append_option((!x.spec.place_kinds.is_empty()).then(|| x.spec.place_kinds.join(" ")));
        participants.append_value(x.participants.len() as i64);
        let to = x.destination.map(|(c, r)| (map.lon_lat(c), r));
        to_lon.append_option(to.map(|t| t.0.0));
        to_lat.append_option(to.map(|t| t.0.1));
        to_radius.append_option(to.map(|t| t.1));
        zone_ids.append_option(x.zones.as_ref().map(|z| z.keys.join(" ")));
        to_zone_ids.append_option(x.destination_zones.as_ref().map(|z| z.keys.join(" ")));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(kind.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(lon.finish()),
        Arc::new(lat.finish()),
        Arc::new(radius.finish()),
        Arc::new(sites.finish()),
        Arc::new(kinds.finish()),
        Arc::new(participants.finish()),
        Arc::new(to_lon.finish()),
        Arc::new(to_lat.finish()),
        Arc::new(to_radius.finish()),
        Arc::new(zone_ids.finish()),
        Arc::new(to_zone_ids.finish()),
    ];
    batch(&happenings_schema(), columns)
}

/// The `truth/happening_participants` rows of the subscribers for which
/// `mine` holds.
pub fn participants_batch(h: &Happenings, mine: &dyn Fn(u32) -> bool) -> RecordBatch {
    let mut id = Int64Builder::new();
    let mut sub = Int64Builder::new();
    let mut role = StringDictionaryBuilder::<Int8Type>::new();
    for x in &h.items {
        for &s in x.participants.iter().filter(|s| mine(**s)) {
            id.append_value(i64::from(x.id));
            sub.append_value(i64::from(s));
            role.append_value(match x.spec.kind {
                Kind::Relocation => "relocated",
                _ => "attendee",
            });
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(sub.finish()),
        Arc::new(role.finish()),
    ];
    batch(&participants_schema(), columns)
}
