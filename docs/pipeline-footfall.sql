-- A stand-in for "your pipeline": footfall on grid:1000 from the events alone.
-- Each event is placed at its cell's site; a subscriber seen in a zone during a
-- local hour is a visitor of that zone and hour.
SET TimeZone = 'Europe/Vaduz';                      -- the manifest's timezone
CREATE MACRO band(age) AS CASE WHEN age <= 17 THEN '0-17' WHEN age <= 24 THEN '18-24'
  WHEN age <= 34 THEN '25-34' WHEN age <= 44 THEN '35-44' WHEN age <= 54 THEN '45-54'
  WHEN age <= 64 THEN '55-64' ELSE '65+' END;
-- The grid's origin: the centre of the cells' bounding box (products.json: grid_centre_lon_lat).
CREATE TABLE origin AS SELECT (min(lon) + max(lon)) / 2 AS lon0, (min(lat) + max(lat)) / 2 AS lat0
  FROM 'data/cells.parquet';
CREATE TABLE cell_zone AS
  SELECT cell_id,
         floor((lon - lon0) * cos(radians(lat0)) * 6371008.8 * pi() / 180 / 1000)::BIGINT || '_' ||
         floor((lat - lat0) * 6371008.8 * pi() / 180 / 1000)::BIGINT AS zone
  FROM 'data/cells.parquet', origin;
COPY (
  SELECT z.zone, CAST(e.timestamp AS DATE) AS date, hour(e.timestamp) AS hour,
         band(s.age) AS age_band, s.sex, count(DISTINCT e.subscriber_id) AS visitors
  FROM 'data/events/*/*.parquet' e
  JOIN cell_zone z USING (cell_id)
  JOIN 'data/subscribers.parquet' s USING (subscriber_id)
  WHERE s.device <> 'iot'
  GROUP BY ALL
) TO 'my_footfall.csv' (HEADER);
