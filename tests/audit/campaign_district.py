"""A hand-built district in Rīga (so distances are measured in LKS-92) with known counts around a campaign site.

The campaign runs in April 2025 at SITE; its windows are January–March (before) and May–July (after). Cases are
placed 100 m from SITE (inside the 500 m catchment) or 6 km away (in the comparison area), in window months, in
the campaign's own month and outside the windows (those two must never be counted)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

SITE = (24.05, 56.95)
NEAR = (24.0515, 56.9503)  # ~100 m from SITE
FAR = (24.15, 56.955)  # ~6 km east
CORNERS = [(24.00, 56.90), (24.20, 57.00)]  # the district's extent (two services at the corners)
CAMPAIGN = {"name": "Bus station", "starts": "2025-04-01", "ends": "2025-04-30", "audiences": ["taxi_drivers"],
            "languages": ["lv", "ru"], "channels": ["leaflets"], "people_reached": 120, "leaflets": 300}


def _cases(spec: dict) -> pd.DataFrame:
    """``spec``: (place, month) -> (cases, of which referred)."""
    rows = []
    for (place, month), (n, referred) in spec.items():
        lon, lat = NEAR if place == "catchment" else FAR
        for i in range(n):
            rows.append({"lon": lon + i * 1e-6, "lat": lat, "reported": month, "forms": "labour",
                         "status": "potential", "referral_made": "true" if i < referred else "false"})
    return pd.DataFrame(rows)


#: catchment before 12 (5 referred), after 30 (12 referred); comparison before 40 (20), after 41 (20); plus
#: cases in April (campaign month) and December/August (outside the windows) that must not count
CASES = {("catchment", "2025-01"): (4, 2), ("catchment", "2025-02"): (4, 2), ("catchment", "2025-03"): (4, 1),
         ("catchment", "2025-05"): (10, 4), ("catchment", "2025-06"): (10, 4), ("catchment", "2025-07"): (10, 4),
         ("comparison", "2025-01"): (20, 10), ("comparison", "2025-03"): (20, 10),
         ("comparison", "2025-06"): (21, 10), ("comparison", "2025-07"): (20, 10),
         ("catchment", "2025-04"): (50, 50), ("comparison", "2024-12"): (9, 9), ("catchment", "2025-08"): (9, 9)}
EXPECTED_CASES = {"catchment_before": 12, "catchment_after": 30, "comparison_before": 40, "comparison_after": 41}
EXPECTED_REFERRALS = {"catchment_before": 5, "catchment_after": 12, "comparison_before": 20,
                      "comparison_after": 20}


def build(ws, folder: Path, cases: dict | None = None) -> None:
    """Fill ``ws``: a risk area around SITE, one far away, services at SITE, FAR and the corners, the cases."""
    from layers.importers import import_file

    def square(lon, lat, d=0.002):
        return [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]]

    areas = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Station square", "forms": "labour"},
         "geometry": {"type": "Polygon", "coordinates": square(*SITE)}},
        {"type": "Feature", "properties": {"name": "East market", "forms": "labour"},
         "geometry": {"type": "Polygon", "coordinates": square(*FAR)}}]}
    (folder / "areas.geojson").write_text(json.dumps(areas), encoding="utf-8")
    import_file(ws, folder / "areas.geojson", "risk_areas")
    services = pd.DataFrame({"lon": [SITE[0], FAR[0], *(c[0] for c in CORNERS)],
                             "lat": [SITE[1], FAR[1], *(c[1] for c in CORNERS)],
                             "name": ["Station help desk", "East social service", "Corner A", "Corner B"],
                             "service_type": "social_services"})
    services.to_csv(folder / "services.csv", index=False)
    import_file(ws, folder / "services.csv", "services")
    _cases(cases or CASES).to_csv(folder / "cases.csv", index=False)
    import_file(ws, folder / "cases.csv", "reported_cases")
