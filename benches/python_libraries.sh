#!/usr/bin/env bash
# Loads mobsynth's exports with the real Python libraries they are made for
# and checks what they compute against mobsynth's own numbers:
#   - scikit-mobility reads skmob/truth_stays.csv as a TrajDataFrame and
#     computes each person's radius of gyration, compared with
#     `mobsynth validate`'s truth.radius_of_gyration_km (median over people);
#   - trackintel reads positionfixes.csv and staypoints.csv;
#   - GeoPandas reads the GeoParquet layers, whose geometries must equal the
#     lon/lat columns.
# Needs network access once for `pip install` (a virtual environment under
# target/); not part of CI. Usage: benches/python_libraries.sh [SUBSCRIBERS] [DAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
subscribers=${1:-300}
days=${2:-7}
work=target/python-libraries
venv=$work/venv
mkdir -p "$work"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q trackintel geopandas pyarrow jsonschema
    # scikit-mobility's pinned dependencies (an old python-igraph, built
    # from source) do not build here; radius_of_gyration needs only these.
    "$venv/bin/pip" install -q --no-deps scikit-mobility
    "$venv/bin/pip" install -q tqdm folium statsmodels scikit-learn geojson requests powerlaw h3 fiona
fi
cargo build --release -q
bin=target/release/mobsynth
rm -rf "$work/dataset" "$work/skmob" "$work/trackintel" "$work/geoparquet"
"$bin" run --subscribers "$subscribers" --days "$days" --quiet -o "$work/dataset"
"$bin" validate "$work/dataset" --only truth.radius_of_gyration_km --json "$work/validate.json" >/dev/null
for kind in skmob trackintel geoparquet; do
    "$bin" export "$kind" "$work/dataset" -o "$work/$kind" 2>/dev/null
done
"$venv/bin/python" - "$work" <<'PY'
import json, sys
import pandas as pd
work = sys.argv[1]
# scikit-mobility 1.x still imports shapely's `cascaded_union`, which
# shapely 2 (needed by current GeoPandas) renamed `unary_union`.
import shapely.ops
if not hasattr(shapely.ops, "cascaded_union"):
    shapely.ops.cascaded_union = shapely.ops.unary_union
import skmob
from skmob.measures.individual import radius_of_gyration
import geopandas as gpd
stays = pd.read_csv(f"{work}/skmob/skmob/truth_stays.csv")
# As validate measures it: people only (IoT devices left out), and a run of
# consecutive stays at one place counted as one visit.
homes = gpd.read_parquet(f"{work}/geoparquet/homes.parquet")
machines = set(homes.loc[homes["device"] == "iot", "subscriber_id"])
stays = stays[~stays["uid"].isin(machines)]
same = (stays["uid"] == stays["uid"].shift()) & (stays["lat"] == stays["lat"].shift()) & (stays["lng"] == stays["lng"].shift())
stays = stays[~same]
tdf = skmob.TrajDataFrame(stays, latitude="lat", longitude="lng", datetime="datetime", user_id="uid")
rg = radius_of_gyration(tdf, show_progress=False)
median_km = float(rg["radius_of_gyration"].median())
ours = json.load(open(f"{work}/validate.json"))
ours = [m for m in ours if m["id"] == "truth.radius_of_gyration_km"][0]["value"]
print(f"scikit-mobility {skmob.__version__}: {len(tdf)} points, {len(rg)} people, "
      f"median radius of gyration {median_km:.3f} km; mobsynth validate {ours:.3f} km")
import trackintel as ti
pfs = ti.read_positionfixes_csv(f"{work}/trackintel/trackintel/positionfixes.csv", sep=";", index_col=0)
sp = ti.read_staypoints_csv(f"{work}/trackintel/trackintel/staypoints.csv", sep=";", index_col=0)
print(f"trackintel {ti.__version__}: {len(pfs)} positionfixes, {len(sp)} staypoints, "
      f"{sp['user_id'].nunique()} users")
# The `geo` metadata against GeoParquet's JSON schema
# (format-specs/schema.json, with `version` fixed to the release, 1.1.0).
import jsonschema, pyarrow.parquet as pq
schema = {
    "type": "object", "required": ["version", "primary_column", "columns"],
    "properties": {
        "version": {"type": "string", "const": "1.1.0"},
        "primary_column": {"type": "string", "minLength": 1},
        "columns": {"type": "object", "minProperties": 1, "additionalProperties": False,
            "patternProperties": {".+": {"type": "object", "required": ["encoding", "geometry_types"],
                "properties": {
                    "encoding": {"type": "string", "pattern": "^(WKB|point|linestring|polygon|multipoint|multilinestring|multipolygon)$"},
                    "geometry_types": {"type": "array", "uniqueItems": True, "items": {"type": "string",
                        "pattern": "^(GeometryCollection|(Multi)?(Point|LineString|Polygon))( Z)?$"}},
                    "bbox": {"type": "array", "items": {"type": "number"},
                        "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}]}}}}}}}
for layer in ["cells", "homes", "stays", "event_positions"]:
    jsonschema.validate(json.loads(pq.read_metadata(f"{work}/geoparquet/{layer}.parquet").metadata[b"geo"]), schema)
print("jsonschema: the geo metadata of every layer is valid GeoParquet 1.1.0")
for layer in ["cells", "homes", "stays", "event_positions"]:
    g = gpd.read_parquet(f"{work}/geoparquet/{layer}.parquet")
    lon, lat = ("home_lon", "home_lat") if layer == "homes" else ("lon", "lat")
    same = bool(((g.geometry.x == g[lon]) & (g.geometry.y == g[lat])).all())
    print(f"geopandas {gpd.__version__}: {layer}: {len(g)} rows, crs {g.crs.to_string()}, "
          f"geometry equals lon/lat: {same}")
PY
