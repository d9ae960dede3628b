//! The dataset's tables: Arrow schemas and builders that turn the pipeline's
//! records into record batches.
//!
//! Conventions: times are `timestamp[ms, UTC]`; every integer column is
//! signed, since Spark, Java, PostgreSQL and most warehouses have no unsigned
//! integers: `int64` for ids and byte counts, `int32` for codes and
//! durations, `int16` for small numbers (age, MCC, MNC, day numbers, timing
//! advance). Values are never negative. Categorical strings are
//! dictionary-encoded; coordinates are WGS84 degrees. Identifiers that carry
//! leading zeros (IMSI, IMEI) are strings.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int16Builder, Int64Builder,
    StringBuilder, StringDictionaryBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Int8Type, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::days::{PersonDays, PositionSample, Stay, Trip};
use crate::map::Map;
use crate::population::{Contract, DeviceType, Occupation, Sex, Subscriber};

pub(super) fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

pub(super) fn dict_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
}

/// An unsigned value as an `int64` column value. Every value written fits
/// (ids are at most 63 bits by construction); saturating keeps a column
/// never negative should one not.
pub(super) fn i64_of(v: impl Into<u64>) -> i64 {
    i64::try_from(v.into()).unwrap_or(i64::MAX)
}

/// An unsigned value as an `int32` column value, saturating (see
/// [`i64_of`]).
pub(super) fn i32_of(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// An unsigned value as an `int16` column value, saturating (see
/// [`i64_of`]).
pub(super) fn i16_of(v: impl Into<u32>) -> i16 {
    i16::try_from(v.into()).unwrap_or(i16::MAX)
}

pub(super) fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

/// A timestamp column with room for `rows`.
pub(super) fn ts_column(rows: usize) -> TimestampMillisecondBuilder {
    TimestampMillisecondBuilder::with_capacity(rows).with_timezone("UTC")
}

/// A dictionary column of a few short names with room for `rows`.
pub(super) fn names_column(rows: usize) -> StringDictionaryBuilder<Int8Type> {
    StringDictionaryBuilder::with_capacity(rows, 16, 256)
}

pub(super) fn batch(schema: &SchemaRef, mut columns: Vec<ArrayRef>) -> RecordBatch {
    // Builders start with room for a thousand rows; a chunk's day of stays
    // holds a few hundred, and batches wait in the writer's queue, so the
    // spare room is given back.
    for c in &mut columns {
        if let Some(array) = Arc::get_mut(c) {
            array.shrink_to_fit();
        }
    }
    // The builders below fill exactly the schema's columns, so this cannot
    // fail unless the code itself is inconsistent.
    RecordBatch::try_new(schema.clone(), columns).expect("columns match their schema")
}

/// A dictionary column of a closed set of names, keyed by the caller's own
/// small index (an enum discriminant), so that a row costs no hashing. Keys
/// are given in order of first appearance, as Arrow's dictionary builder
/// gives them.
pub(super) struct NameDictionary {
    key_of: Vec<i8>,
    names: Vec<&'static str>,
    keys: arrow::array::Int8Builder,
}

impl NameDictionary {
    /// For indices `0..size`, with room for `rows`.
    pub(super) fn new(size: usize, rows: usize) -> Self {
        NameDictionary {
            key_of: vec![-1; size],
            names: Vec::new(),
            keys: arrow::array::Int8Builder::with_capacity(rows),
        }
    }

    /// Appends `name`, which must always come with the same `index`.
    pub(super) fn append(&mut self, index: usize, name: &'static str) {
        if self.key_of[index] < 0 {
            self.key_of[index] = self.names.len() as i8;
            self.names.push(name);
        }
        self.keys.append_value(self.key_of[index]);
    }

    pub(super) fn finish(&mut self) -> arrow::array::DictionaryArray<Int8Type> {
        let values = arrow::array::StringArray::from(std::mem::take(&mut self.names));
        self.key_of.fill(-1);
        // Every key indexes a name pushed with it.
        arrow::array::DictionaryArray::try_new(self.keys.finish(), Arc::new(values))
            .expect("dictionary keys point into their names")
    }
}

fn sex_name(s: Sex) -> &'static str {
    match s {
        Sex::Female => "F",
        Sex::Male => "M",
    }
}

fn occupation_name(o: Occupation) -> &'static str {
    match o {
        Occupation::Employed => "employed",
        Occupation::Student => "student",
        Occupation::Pupil => "pupil",
        Occupation::Retired => "retired",
        Occupation::Other => "other",
    }
}

fn device_name(d: DeviceType) -> &'static str {
    match d {
        DeviceType::Smartphone => "smartphone",
        DeviceType::FeaturePhone => "feature_phone",
        DeviceType::Iot => "iot",
    }
}

fn contract_name(c: Contract) -> &'static str {
    match c {
        Contract::Prepaid => "prepaid",
        Contract::Postpaid => "postpaid",
    }
}

/// Schema of `subscribers`.
pub fn subscribers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("subscriber_id", DataType::Int64, false),
        field("imsi", DataType::Utf8, false),
        field("msisdn", DataType::Utf8, false),
        field("imei", DataType::Utf8, false),
        field("age", DataType::Int16, false),
        field("sex", dict_type(), false),
        field("occupation", dict_type(), false),
        field("has_car", DataType::Boolean, false),
        field("device", dict_type(), false),
        field("contract", dict_type(), false),
        field("roamer", DataType::Boolean, false),
        field("home_mcc", DataType::Int16, false),
        field("home_mnc", DataType::Int16, false),
        field("first_day", DataType::Int16, true),
        field("last_day", DataType::Int16, true),
        field("home_place_id", DataType::Int64, false),
        field("home_lon", DataType::Float64, false),
        field("home_lat", DataType::Float64, false),
        field("anchor_place_id", DataType::Int64, true),
        field("anchor_lon", DataType::Float64, true),
        field("anchor_lat", DataType::Float64, true),
    ]))
}

/// The `subscribers` table for a slice of subscribers.
pub fn subscribers_batch(subscribers: &[Subscriber], map: &Map) -> RecordBatch {
    let n = subscribers.len();
    let mut id = Int64Builder::with_capacity(n);
    let mut imsi = StringBuilder::new();
    let mut msisdn = StringBuilder::new();
    let mut imei = StringBuilder::new();
    let mut age = Int16Builder::with_capacity(n);
    let mut sex = StringDictionaryBuilder::<Int8Type>::new();
    let mut occupation = StringDictionaryBuilder::<Int8Type>::new();
    let mut has_car = BooleanBuilder::with_capacity(n);
    let mut device = StringDictionaryBuilder::<Int8Type>::new();
    let mut contract = StringDictionaryBuilder::<Int8Type>::new();
    let mut roamer = BooleanBuilder::with_capacity(n);
    let mut mcc = Int16Builder::with_capacity(n);
    let mut mnc = Int16Builder::with_capacity(n);
    let mut first_day = Int16Builder::with_capacity(n);
    let mut last_day = Int16Builder::with_capacity(n);
    let mut home = Int64Builder::with_capacity(n);
    let mut home_lon = Float64Builder::with_capacity(n);
    let mut home_lat = Float64Builder::with_capacity(n);
    let mut anchor = Int64Builder::with_capacity(n);
    let mut anchor_lon = Float64Builder::with_capacity(n);
    let mut anchor_lat = Float64Builder::with_capacity(n);
    for s in subscribers {
        id.append_value(i64::from(s.id.0));
        imsi.append_value(format!("{:015}", s.imsi));
        msisdn.append_value(s.msisdn.to_string());
        imei.append_value(format!("{:015}", s.imei));
        age.append_value(i16::from(s.age));
        sex.append_value(sex_name(s.sex));
        occupation.append_value(occupation_name(s.occupation));
        has_car.append_value(s.has_car);
        device.append_value(device_name(s.device));
        contract.append_value(contract_name(s.contract));
        roamer.append_value(s.roaming.is_some());
        // The MCC is the IMSI's first three digits, the MNC the next two.
        mcc.append_value((s.imsi / 1_000_000_000_000) as i16);
        mnc.append_value((s.imsi / 10_000_000_000 % 100) as i16);
        first_day.append_option(s.roaming.map(|r| i16_of(r.first_day)));
        last_day.append_option(s.roaming.map(|r| i16_of(r.last_day)));
        let h = map.place(s.home);
        let (lon, lat) = map.lon_lat(h.pos);
        home.append_value(i64::from(s.home.0));
        home_lon.append_value(lon);
        home_lat.append_value(lat);
        match (s.anchor, s.anchor_outside) {
            (Some(a), _) => {
                let (lon, lat) = map.lon_lat(map.place(a).pos);
                anchor.append_value(i64::from(a.0));
                anchor_lon.append_value(lon);
                anchor_lat.append_value(lat);
            }
            // Work or school beyond the map's edge: its real position, no
            // place of the map.
            (None, Some(o)) => {
                let (lon, lat) = map.lon_lat(o.pos);
                anchor.append_null();
                anchor_lon.append_value(lon);
                anchor_lat.append_value(lat);
            }
            (None, None) => {
                anchor.append_null();
                anchor_lon.append_null();
                anchor_lat.append_null();
            }
        }
    }
    batch(
        &subscribers_schema(),
        vec![
            Arc::new(id.finish()),
            Arc::new(imsi.finish()),
            Arc::new(msisdn.finish()),
            Arc::new(imei.finish()),
            Arc::new(age.finish()),
            Arc::new(sex.finish()),
            Arc::new(occupation.finish()),
            Arc::new(has_car.finish()),
            Arc::new(device.finish()),
            Arc::new(contract.finish()),
            Arc::new(roamer.finish()),
            Arc::new(mcc.finish()),
            Arc::new(mnc.finish()),
            Arc::new(first_day.finish()),
            Arc::new(last_day.finish()),
            Arc::new(home.finish()),
            Arc::new(home_lon.finish()),
            Arc::new(home_lat.finish()),
            Arc::new(anchor.finish()),
            Arc::new(anchor_lon.finish()),
            Arc::new(anchor_lat.finish()),
        ],
    )
}

/// Schema of `truth/stays`.
pub fn stays_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("subscriber_id", DataType::Int64, false),
        field("start", ts_type(), false),
        field("end", ts_type(), false),
        field("activity", dict_type(), false),
        field("place_id", DataType::Int64, true),
        field("lon", DataType::Float64, false),
        field("lat", DataType::Float64, false),
        field("out_of_area", DataType::Boolean, false),
    ]))
}

/// Builds `truth/stays` batches row by row.
pub struct StaysBuilder {
    subscriber: Int64Builder,
    start: TimestampMillisecondBuilder,
    end: TimestampMillisecondBuilder,
    activity: StringDictionaryBuilder<Int8Type>,
    place: Int64Builder,
    lon: Float64Builder,
    lat: Float64Builder,
    out_of_area: BooleanBuilder,
}

impl StaysBuilder {
    /// With room for `rows` stays: a long run keeps a builder per day, so
    /// room is only made for what is expected.
    pub fn new(rows: usize) -> Self {
        StaysBuilder {
            subscriber: Int64Builder::with_capacity(rows),
            start: ts_column(rows),
            end: ts_column(rows),
            activity: names_column(rows),
            place: Int64Builder::with_capacity(rows),
            lon: Float64Builder::with_capacity(rows),
            lat: Float64Builder::with_capacity(rows),
            out_of_area: BooleanBuilder::with_capacity(rows),
        }
    }

    pub fn append(&mut self, subscriber: u32, stay: &Stay, map: &Map) {
        let (lon, lat) = map.lon_lat(stay.pos);
        self.subscriber.append_value(i64::from(subscriber));
        self.start.append_value(stay.start * 1000);
        self.end.append_value(stay.end * 1000);
        self.activity.append_value(stay.activity.name());
        self.place.append_option(stay.place.map(|p| i64::from(p.0)));
        self.lon.append_value(lon);
        self.lat.append_value(lat);
        self.out_of_area.append_value(stay.out_of_area());
    }

    pub fn len(&self) -> usize {
        self.subscriber.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn finish(&mut self) -> RecordBatch {
        batch(
            &stays_schema(),
            vec![
                Arc::new(self.subscriber.finish()),
                Arc::new(self.start.finish()),
                Arc::new(self.end.finish()),
                Arc::new(self.activity.finish()),
                Arc::new(self.place.finish()),
                Arc::new(self.lon.finish()),
                Arc::new(self.lat.finish()),
                Arc::new(self.out_of_area.finish()),
            ],
        )
    }
}

/// Schema of `truth/positions`.
pub fn positions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("subscriber_id", DataType::Int64, false),
        field("timestamp", ts_type(), false),
        field("lon", DataType::Float64, false),
        field("lat", DataType::Float64, false),
        field("activity", dict_type(), true),
        field("mode", dict_type(), true),
        field("out_of_area", DataType::Boolean, false),
    ]))
}

/// Builds `truth/positions` batches row by row.
pub struct PositionsBuilder {
    subscriber: Int64Builder,
    timestamp: TimestampMillisecondBuilder,
    lon: Float64Builder,
    lat: Float64Builder,
    activity: StringDictionaryBuilder<Int8Type>,
    mode: StringDictionaryBuilder<Int8Type>,
    out_of_area: BooleanBuilder,
}

impl PositionsBuilder {
    /// With room for `rows` positions.
    pub fn new(rows: usize) -> Self {
        PositionsBuilder {
            subscriber: Int64Builder::with_capacity(rows),
            timestamp: ts_column(rows),
            lon: Float64Builder::with_capacity(rows),
            lat: Float64Builder::with_capacity(rows),
            activity: names_column(rows),
            mode: names_column(rows),
            out_of_area: BooleanBuilder::with_capacity(rows),
        }
    }

    pub fn append(&mut self, subscriber: u32, sample: &PositionSample, map: &Map) {
        let (lon, lat) = map.lon_lat(sample.pos);
        self.subscriber.append_value(i64::from(subscriber));
        self.timestamp.append_value(sample.t * 1000);
        self.lon.append_value(lon);
        self.lat.append_value(lat);
        self.activity
            .append_option(sample.activity.map(|a| a.name()));
        self.mode.append_option(sample.mode.map(|m| m.name()));
        self.out_of_area.append_value(sample.out_of_area);
    }

    pub fn is_empty(&self) -> bool {
        self.subscriber.len() == 0
    }

    pub fn finish(&mut self) -> RecordBatch {
        batch(
            &positions_schema(),
            vec![
                Arc::new(self.subscriber.finish()),
                Arc::new(self.timestamp.finish()),
                Arc::new(self.lon.finish()),
                Arc::new(self.lat.finish()),
                Arc::new(self.activity.finish()),
                Arc::new(self.mode.finish()),
                Arc::new(self.out_of_area.finish()),
            ],
        )
    }
}

/// Schema of `truth/trips`.
pub fn trips_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        field("subscriber_id", DataType::Int64, false),
        field("start", ts_type(), false),
        field("end", ts_type(), false),
        field("mode", dict_type(), false),
        field("distance_m", DataType::Float64, false),
        field("origin_place_id", DataType::Int64, true),
        field("destination_place_id", DataType::Int64, true),
        field("origin_activity", dict_type(), false),
        field("destination_activity", dict_type(), false),
        field("origin_lon", DataType::Float64, false),
        field("origin_lat", DataType::Float64, false),
        field("destination_lon", DataType::Float64, false),
        field("destination_lat", DataType::Float64, false),
        field("origin_out_of_area", DataType::Boolean, false),
        field("destination_out_of_area", DataType::Boolean, false),
    ]))
}

/// Builds `truth/trips` batches row by row.
pub struct TripsBuilder {
    subscriber: Int64Builder,
    start: TimestampMillisecondBuilder,
    end: TimestampMillisecondBuilder,
    mode: StringDictionaryBuilder<Int8Type>,
    distance: Float64Builder,
    origin: Int64Builder,
    destination: Int64Builder,
    origin_activity: StringDictionaryBuilder<Int8Type>,
    destination_activity: StringDictionaryBuilder<Int8Type>,
    origin_lon: Float64Builder,
    origin_lat: Float64Builder,
    destination_lon: Float64Builder,
    destination_lat: Float64Builder,
    origin_out_of_area: BooleanBuilder,
    destination_out_of_area: BooleanBuilder,
}

impl TripsBuilder {
    /// With room for `rows` trips.
    pub fn new(rows: usize) -> Self {
        TripsBuilder {
            subscriber: Int64Builder::with_capacity(rows),
            start: ts_column(rows),
            end: ts_column(rows),
            mode: names_column(rows),
            distance: Float64Builder::with_capacity(rows),
            origin: Int64Builder::with_capacity(rows),
            destination: Int64Builder::with_capacity(rows),
            origin_activity: names_column(rows),
            destination_activity: names_column(rows),
            origin_lon: Float64Builder::with_capacity(rows),
            origin_lat: Float64Builder::with_capacity(rows),
            destination_lon: Float64Builder::with_capacity(rows),
            destination_lat: Float64Builder::with_capacity(rows),
            origin_out_of_area: BooleanBuilder::with_capacity(rows),
            destination_out_of_area: BooleanBuilder::with_capacity(rows),
        }
    }

    pub fn append(&mut self, subscriber: u32, trip: &Trip, days: &PersonDays, map: &Map) {
        let from = &days.stays[trip.from_stay];
        let to = &days.stays[trip.to_stay];
        let (olon, olat) = map.lon_lat(from.pos);
        let (dlon, dlat) = map.lon_lat(to.pos);
        self.subscriber.append_value(i64::from(subscriber));
        self.start.append_value(trip.start * 1000);
        self.end.append_value(trip.end * 1000);
        self.mode.append_value(trip.mode.name());
        self.distance.append_value(trip.distance_m);
        self.origin
            .append_option(from.place.map(|p| i64::from(p.0)));
        self.destination
            .append_option(to.place.map(|p| i64::from(p.0)));
        self.origin_activity.append_value(from.activity.name());
        self.destination_activity.append_value(to.activity.name());
        self.origin_lon.append_value(olon);
        self.origin_lat.append_value(olat);
        self.destination_lon.append_value(dlon);
        self.destination_lat.append_value(dlat);
        self.origin_out_of_area.append_value(from.out_of_area());
        self.destination_out_of_area.append_value(to.out_of_area());
    }

    pub fn len(&self) -> usize {
        self.subscriber.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn finish(&mut self) -> RecordBatch {
        batch(
            &trips_schema(),
            vec![
                Arc::new(self.subscriber.finish()),
                Arc::new(self.start.finish()),
                Arc::new(self.end.finish()),
                Arc::new(self.mode.finish()),
                Arc::new(self.distance.finish()),
                Arc::new(self.origin.finish()),
                Arc::new(self.destination.finish()),
                Arc::new(self.origin_activity.finish()),
                Arc::new(self.destination_activity.finish()),
                Arc::new(self.origin_lon.finish()),
                Arc::new(self.origin_lat.finish()),
                Arc::new(self.destination_lon.finish()),
                Arc::new(self.destination_lat.finish()),
                Arc::new(self.origin_out_of_area.finish()),
                Arc::new(self.destination_out_of_area.finish()),
            ],
        )
    }
}
