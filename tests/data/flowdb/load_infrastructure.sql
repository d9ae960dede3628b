-- The export's ingest_infrastructure.sql without PostGIS: the same staging
-- tables and inserts, less the geometry column. Run from the export directory.
BEGIN;
CREATE TEMP TABLE mobsynth_cells (
    id TEXT, version INTEGER, site_id TEXT, type TEXT, lac TEXT,
    height NUMERIC, azimuth NUMERIC, electrical_tilt NUMERIC,
    date_of_first_service DATE, date_of_last_service DATE,
    longitude NUMERIC, latitude NUMERIC);
\copy mobsynth_cells FROM 'infrastructure/cells.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO infrastructure.cells (id, version, site_id, type, lac, height, azimuth,
        electrical_tilt, date_of_first_service, date_of_last_service)
    SELECT id, version, site_id, type, lac, height, azimuth, electrical_tilt,
        date_of_first_service, date_of_last_service
    FROM mobsynth_cells;
CREATE TEMP TABLE mobsynth_sites (
    id TEXT, version INTEGER, type TEXT,
    date_of_first_service DATE, date_of_last_service DATE,
    longitude NUMERIC, latitude NUMERIC);
\copy mobsynth_sites FROM 'infrastructure/sites.csv' WITH (FORMAT csv, HEADER true)
INSERT INTO infrastructure.sites (id, version, type, date_of_first_service,
        date_of_last_service)
    SELECT id, version, type, date_of_first_service, date_of_last_service
    FROM mobsynth_sites;
COMMIT;
