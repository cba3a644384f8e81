"""A fake ODK Central for the tests: a ``requests`` transport adapter mounted on a pyodk Client's session.

It answers from the recorded (synthetic) responses in tests/fixtures/odk_central/ (see its README) and
records every request it is given. It is mounted for ``http://`` and ``https://``, so whatever host a request
is for, it comes here and never to a network: a test can assert which hosts were asked.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from tests.submission_exports import Sub, jpeg_with_exif

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "odk_central"
BASE = "https://central.example.lv"
HOST = "central.example.lv"
PROJECT, FORM = 7, "lantern_field_all"
PASSWORD = "sintētiska-parole-Zx81"
FORM_PATH = f"/v1/projects/{PROJECT}/forms/{FORM}"
TABLE = f"{FORM_PATH}.svc/Submissions"
_REASONS = {200: "OK", 302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            500: "Internal Server Error"}


def recorded(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def same_subs() -> list[Sub]:
    """The submissions of submissions.json, as tests/submission_exports.py writes them into an export."""
    uuid = "5a1e0000-0000-4000-8000-00000000000{}".format
    return [
        Sub(uuid(1), lat=60.1702, lon=24.9384, new_place_name="Būvlaukums pie dzelzceļa, Brīvības iela 204",
            note="Strādnieki guļ būvvagoniņā; ēdiens tikai reizi dienā, pases glabā brigadieris",
            photos=["a.jpg", "gone.jpg"], extra_photos=["b.jpg"]),
        Sub(uuid(2), lat=60.171, lon=24.9412, place="worksites-3", indicators=["gen_minor", "lab_retired_in_v1", "other"],
            other_text="Cits: bērni darbā pie Brīvības ielas tirgus", observed="2026-11-19", author="Līga Ozoliņa",
            confidence="high", note="", catalogue_version=1, submitted="2026-11-20T11:05:12.345Z"),
        Sub(uuid(3), lat=60.25, lon=24.9, new_place_name="Autoostas stāvvieta naktī", place_type="street",
            indicators=["gen_controlled"], team="", confidence="low", source="ngo",
            note="Mikroautobuss atved un aizved sievietes; šoferis savāc telefonus", submitted="2026-11-20T21:40:00.000Z"),
    ]


def write_config(folder: Path, base_url: str = BASE, password: str = PASSWORD) -> Path:
    path = folder / "pyodk_config.toml"
    path.write_text(f'[central]\nbase_url = "{base_url}"\nusername = "koordinatore@example.lv"\n'
                    f'password = "{password}"\ndefault_project_id = {PROJECT}\n', encoding="utf-8")
    return path


class FakeCentral(BaseAdapter):
    """ODK Central as recorded; ``routes[(method, path)] = (status, body, headers)`` can be changed by a test."""

    def __init__(self, photos: dict[str, bytes] | None = None):
        super().__init__()
        self.requests = []
        photos = {"a.jpg": jpeg_with_exif(), "b.jpg": jpeg_with_exif()} if photos is None else photos
        self.routes: dict[tuple[str, str], tuple[int, object, dict]] = {
            ("POST", "/v1/sessions"): (200, recorded("session.json"), {}),
            ("GET", "/v1/users/current"): (200, {"id": 7, "displayName": "Koordinatore", "type": "user"}, {}),
            ("GET", TABLE): (200, recorded("submissions.json"), {}),
        }
        for instance_id, listing in recorded("attachments.json").items():
            path = f"{FORM_PATH}/submissions/{instance_id}/attachments"
            self.routes[("GET", path)] = (200, listing, {})
            for entry in listing:
                if entry["exists"] and entry["name"] in photos:
                    self.routes[("GET", f"{path}/{entry['name']}")] = (200, photos[entry["name"]],
                                                                      {"Content-Type": "image/jpeg"})

    def mount(self, client):
        client.session.mount("https://", self)
        client.session.mount("http://", self)
        return client

    def fail(self, method: str, path: str, status: int) -> None:
        self.routes[(method, path)] = (status, recorded("problems.json").get(str(status), {}), {})

    @property
    def hosts(self) -> set[str]:
        return {urlsplit(r.url).hostname for r in self.requests}

    def paths(self, method: str = "GET") -> list[str]:
        return [unquote(urlsplit(r.url).path) for r in self.requests if r.method == method]

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.requests.append(request)
        key = (request.method, unquote(urlsplit(request.url).path))
        status, body, headers = self.routes.get(key) or (404, recorded("problems.json")["404"], {})
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        raw = HTTPResponse(body=io.BytesIO(data), headers=headers, status=status, reason=_REASONS.get(status, ""),
                           preload_content=False)
        return HTTPAdapter().build_response(request, raw)

    def close(self):
        pass
