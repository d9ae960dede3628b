-- FlowDB's event and infrastructure tables, as FlowKit defines them in
-- flowdb/bin/build/0020_schema_events.sql (events.calls, events.sms,
-- events.mds) and flowdb/bin/build/0020_schema_infrastructure.sql
-- (infrastructure.cells, infrastructure.sites) of github.com/Flowminder/FlowKit:
-- the same columns, types and range partitioning by datetime.
--
-- Two differences, so that a plain PostgreSQL without PostGIS can hold them:
-- the `geom_point`/`geom_polygon` geometry columns FlowKit adds with
-- AddGeometryColumn are left out, and the serial surrogate keys are plain
-- BIGSERIAL as there. The export's cells are loaded through a staging table,
-- as FlowKit's flowdb/testdata/test_data/sql/ingest_cells.sql does.

CREATE SCHEMA IF NOT EXISTS events;

CREATE TABLE IF NOT EXISTS events.calls (
    id TEXT,
    outgoing BOOLEAN,
    datetime TIMESTAMPTZ NOT NULL,
    duration NUMERIC,
    network TEXT,
    msisdn TEXT NOT NULL,
    msisdn_counterpart TEXT,
    location_id TEXT,
    imsi TEXT,
    imei TEXT,
    tac NUMERIC(8),
    operator_code NUMERIC,
    country_code NUMERIC
) PARTITION BY RANGE (datetime);

CREATE TABLE IF NOT EXISTS events.sms (
    id TEXT,
    outgoing BOOLEAN,
    datetime TIMESTAMPTZ NOT NULL,
    network TEXT,
    msisdn TEXT NOT NULL,
    msisdn_counterpart TEXT,
    location_id TEXT,
    imsi TEXT,
    imei TEXT,
    tac NUMERIC(8),
    operator_code NUMERIC,
    country_code NUMERIC
) PARTITION BY RANGE (datetime);

CREATE TABLE IF NOT EXISTS events.mds (
    id TEXT,
    datetime TIMESTAMPTZ NOT NULL,
    duration NUMERIC,
    volume_total NUMERIC,
    volume_upload NUMERIC,
    volume_download NUMERIC,
    msisdn TEXT NOT NULL,
    location_id TEXT,
    imsi TEXT,
    imei TEXT,
    tac NUMERIC(8),
    operator_code NUMERIC,
    country_code NUMERIC
) PARTITION BY RANGE (datetime);

CREATE SCHEMA IF NOT EXISTS infrastructure;

CREATE TABLE IF NOT EXISTS infrastructure.sites (
    site_id BIGSERIAL PRIMARY KEY,
    id TEXT,
    version INTEGER,
    name TEXT,
    type TEXT,
    status TEXT,
    structure_type TEXT,
    is_cow BOOLEAN,
    date_of_first_service DATE,
    date_of_last_service DATE,
    last_updated DATE,
    first_added DATE,
    UNIQUE (id, version)
);

CREATE TABLE IF NOT EXISTS infrastructure.cells (
    cell_id BIGSERIAL PRIMARY KEY,
    id TEXT,
    version INTEGER,
    site_id TEXT,
    name TEXT,
    type TEXT,
    msc TEXT,
    bsc_rnc TEXT,
    antenna_type TEXT,
    status TEXT,
    lac TEXT,
    height NUMERIC,
    azimuth NUMERIC,
    transmitter TEXT,
    max_range NUMERIC,
    min_range NUMERIC,
    electrical_tilt NUMERIC,
    mechanical_downtilt NUMERIC,
    date_of_first_service DATE,
    date_of_last_service DATE,
    last_updated DATE,
    first_added DATE,
    UNIQUE (id, version)
);
