"""Field submissions read from an ODK Central server through its OData feed, with the ``pyodk`` client.

**Where the server is.** pyodk's own configuration file says: its ``[central]`` table holds ``base_url``,
``username``, ``password`` and optionally ``default_project_id``; the file is ``$PYODK_CONFIG_FILE``, else
``~/.pyodk_config.toml``. Lantern keeps no server address and no password in its own settings; pyodk keeps
its session token in ``$PYODK_CACHE_FILE``, else ``~/.pyodk_cache.toml``.

**What is read** (docs.getodk.org, "OData Endpoints" and "Submission Management"):
``GET /v1/projects/{project}/forms/{form}.svc/Submissions?$expand=*``, one JSON object per submission with
``__id``, ``__system`` (``submissionDate``, ``formVersion``, …), each group as a nested object, a geopoint as
GeoJSON ``{"type": "Point", "coordinates": [lon, lat, alt], "properties": {"accuracy": …}}`` and each repeat,
expanded, as a list beside its ``<name>@odata.navigationLink``. Each submission is laid out as a row of ODK
Central's CSV export (``-`` group paths, the geopoint split, ``SubmissionDate``/``KEY``/``FormVersion``) and
read by the very code that reads that export (layers.importers.submissions), so both give the same
submissions. Photos are fetched one at a time when the import stores them: the submission's attachment list
(``…/submissions/{__id}/attachments``, ``[{"name", "exists"}]``), then the file itself; one the server
does not have is listed as missing.

**Only the configured server is asked.** An ``@odata.nextLink`` or a redirect to another server is refused,
before any request leaves for it.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

from layers.errors import LanternError
from layers.i18n import _, ngettext
from layers.importers.submissions import RawSubmission, SubmissionExport, add_repeat_row, cell_text, odk_submission

ODK_ODATA = "odk-central-odata"
DEFAULT_CONFIG = Path("~/.pyodk_config.toml")
_ATTACHMENTS = "projects/{project_id}/forms/{form_id}/submissions/{instance_id}/attachments"
_SYSTEM = {"submissionDate": "SubmissionDate", "submitterId": "SubmitterID", "submitterName": "SubmitterName",
           "attachmentsPresent": "AttachmentsPresent", "attachmentsExpected": "AttachmentsExpected",
           "status": "Status", "reviewState": "ReviewState", "deviceId": "DeviceID", "edits": "Edits",
           "formVersion": "FormVersion"}  # __system's keys -> the CSV export's columns

# pyodk logs each failure with its traceback; without a handler Python would print them on stderr, beside
# Lantern's own one-line message (and inside --json's output). Lantern reports the failure itself.
logging.getLogger("pyodk").addHandler(logging.NullHandler())


# -- the server ------------------------------------------------------------------------------------------------


def config_path() -> Path:
    """pyodk's configuration file: ``$PYODK_CONFIG_FILE``, else ``~/.pyodk_config.toml`` (pyodk's own rule)."""
    return Path(os.environ.get("PYODK_CONFIG_FILE") or DEFAULT_CONFIG.expanduser())


def connect(path: str | Path | None = None):
    """A pyodk Client for the server pyodk's configuration names; LanternError when there is none or it is
    unusable. Nothing is sent yet: pyodk logs in at the first request."""
    path = Path(path) if path else config_path()
    if not path.is_file():
        raise LanternError(_("no ODK Central server is configured: write pyodk's configuration file {path} "
                             "([central] base_url, username, password) or name another one in "
                             "PYODK_CONFIG_FILE").format(path=path))
    from pyodk.client import Client

    try:
        client = Client(config_path=path)
    except Exception as exc:  # pyodk raises PyODKError, toml its decode error, dataclasses TypeError/KeyError
        raise LanternError(_("pyodk's configuration {path} cannot be used: {error}").format(
            path=path, error=exc)) from exc
    return client


def server(client) -> str:
    """The configured server as ``scheme://host[:port]`` (never a user name or password)."""
    parts = urlsplit(client.session.base_url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _is_configured_server(client, url: str) -> bool:
    base, other = urlsplit(client.session.base_url), urlsplit(url)
    return (other.scheme, other.hostname, other.port) == (base.scheme, base.hostname, base.port)


def _refuse_other_server(client, url: str) -> None:
    if not _is_configured_server(client, url):
        raise LanternError(_("ODK Central at {server} pointed to another server ({other}); Lantern asks only the "
                             "configured one").format(server=server(client), other=urlsplit(url).hostname))


def _same_server_only(client) -> None:
    """Hook the client's session: a redirect to another server is refused before it is followed."""
    def hook(response, *args, **kwargs):
        if response.is_redirect:
            _refuse_other_server(client, urljoin(response.url, response.headers["location"]))
        return response

    hooks = client.session.hooks.setdefault("response", [])
    if not any(getattr(h, "lantern_same_server", False) for h in hooks):
        hook.lantern_same_server = True
        hooks.append(hook)


def _problem(response) -> str:
    """Central's own words for a failure (its JSON ``message``), else the HTTP reason."""
    try:
        message = response.json().get("message")
    except Exception:  # not JSON (a proxy's HTML page)
        message = None
    return str(message or response.reason or "")[:300]


def _refused(client, response, project_id, form_id) -> LanternError:
    status = response.status_code
    if status in (401, 403):
        return LanternError(_("ODK Central at {server} refused access (HTTP {status}): check the username and "
                              "password in {path}, and that this user may read form {form}").format(
            server=server(client), status=status, path=config_path(), form=form_id))
    if status == 404:
        return LanternError(_("ODK Central at {server} has no form {form} in project {project} (HTTP 404)").format(
            server=server(client), form=form_id, project=project_id))
    return LanternError(_("ODK Central at {server} answered HTTP {status}: {problem}").format(
        server=server(client), status=status, problem=_problem(response)))


@contextmanager
def _asking(client, project_id, form_id):
    """pyodk's and requests' failures as one clear LanternError naming the server (never the password)."""
    import requests
    from pyodk.errors import PyODKError

    try:
        yield
    except PyODKError as exc:
        response = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], requests.Response) else None
        if response is not None:
            raise _refused(client, response, project_id, form_id) from exc
        raise LanternError(_("ODK Central at {server}: {error}").format(server=server(client), error=exc)) from exc
    except requests.exceptions.JSONDecodeError as exc:
        raise LanternError(_("ODK Central at {server} did not answer with OData JSON").format(
            server=server(client))) from exc
    except requests.RequestException as exc:
        raise LanternError(_("cannot read from ODK Central at {server}: {error}").format(
            server=server(client), error=exc)) from exc


def _get(client, url: str, project_id, form_id):
    """GET ``url`` (relative to the server, or an absolute URL on it): the response, 404 included."""
    _refuse_other_server(client, client.session.urljoin(url))
    with _asking(client, project_id, form_id):
        response = client.session.get(url)
    if response.status_code != 404 and not response.ok:
        raise _refused(client, response, project_id, form_id)
    return response


# -- the submissions ---------------------------------------------------------------------------------------------


def _odata_values(client, doc) -> list[dict]:
    if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
        raise LanternError(_("ODK Central at {server} did not answer with OData JSON").format(server=server(client)))
    return [r for r in doc["value"] if isinstance(r, dict)]


def _records(client, project_id: int, form_id: str) -> list[dict]:
    """Every submission of the form, repeats expanded, following ``@odata.nextLink`` on the same server."""
    with _asking(client, project_id, form_id):
        doc = client.submissions.get_table(form_id=form_id, project_id=project_id, expand="*")
    records = _odata_values(client, doc)
    while doc.get("@odata.nextLink"):
        response = _get(client, doc["@odata.nextLink"], project_id, form_id)
        with _asking(client, project_id, form_id):
            doc = response.json()
        records += _odata_values(client, doc)
    return records


def _is_point(value) -> bool:
    return isinstance(value, dict) and value.get("type") == "Point" and isinstance(value.get("coordinates"), list)


def _point_columns(column: str, point: dict) -> dict[str, str]:
    """A GeoJSON point (lon, lat, alt; accuracy in properties) as the CSV export's four columns."""
    coords = list(point["coordinates"]) + [None] * 3
    accuracy = (point.get("properties") or {}).get("accuracy")
    return {f"{column}-Latitude": cell_text(coords[1]), f"{column}-Longitude": cell_text(coords[0]),
            f"{column}-Altitude": cell_text(coords[2]), f"{column}-Accuracy": cell_text(accuracy)}


def flatten(record: dict, prefix: str = "") -> tuple[dict[str, str], list[dict[str, str]]]:
    """One OData object as a CSV export row (group paths joined with ``-``) and its repeats' rows (nested
    repeats included, as the CSV export's repeat tables hold them)."""
    row: dict[str, str] = {}
    repeats: list[dict[str, str]] = []
    for key, value in record.items():
        if key.startswith("__") or "@odata." in key:
            continue
        column = f"{prefix}{key}"
        if _is_point(value):
            row.update(_point_columns(column, value))
        elif isinstance(value, dict):
            inner, nested = flatten(value, f"{column}-")
            row.update(inner)
            repeats += nested
        elif isinstance(value, list):
            for entry in (e for e in value if isinstance(e, dict)):
                inner, nested = flatten(entry)
                repeats += [inner, *nested]
        else:
            row[column] = cell_text(value)
    return row, repeats


def submission(record: dict, form_id: str) -> RawSubmission:
    """One OData submission, read as the CSV export's row of it would be."""
    row, repeats = flatten(record)
    system = record.get("__system") or {}
    row.update({column: cell_text(system.get(key)) for key, column in _SYSTEM.items()})
    row["KEY"] = cell_text(record.get("__id"))
    sub = odk_submission(row, form_id)
    for repeat in repeats:
        add_repeat_row(sub, repeat)
    return sub


class CentralAttachments:
    """The photos of a form's submissions, fetched from the server one at a time."""

    def __init__(self, client, project_id: int, form_id: str, keys: dict[str, str], close_client: bool):
        self.client, self.project_id, self.form_id = client, project_id, form_id
        self.keys = keys  # instance id (meta/instanceID) -> the submission's __id, which the REST API names
        self.close_client = close_client
        self.listed: dict[str, dict[str, bool]] = {}

    def _url(self, instance_id: str) -> str:
        return self.client.session.urlformat(_ATTACHMENTS, project_id=self.project_id, form_id=self.form_id,
                                             instance_id=self.keys.get(instance_id, instance_id))

    def _listing(self, instance_id: str) -> dict[str, bool]:
        if instance_id not in self.listed:
            response = _get(self.client, self._url(instance_id), self.project_id, self.form_id)
            with _asking(self.client, self.project_id, self.form_id):
                entries = response.json() if response.ok else []
            self.listed[instance_id] = {e["name"]: bool(e.get("exists")) for e in entries
                                        if isinstance(e, dict) and "name" in e}
        return self.listed[instance_id]

    def attachment(self, source: str, instance_id: str, name: str) -> bytes | None:
        base = PurePosixPath(name.replace("\\", "/")).name
        if not self._listing(instance_id).get(base):
            return None
        url = f"{self._url(instance_id)}/{self.client.session.urlquote(base)}"
        response = _get(self.client, url, self.project_id, self.form_id)
        return response.content if response.ok else None

    def close(self) -> None:
        if self.close_client:
            self.client.session.close()


def parse_form(text: str) -> tuple[int | None, str]:
    """``"7/lantern_field_all"`` -> (7, "lantern_field_all"); a form id alone -> (None, form id)."""
    project, sep, form_id = (text or "").strip().rpartition("/")
    if not form_id or (sep and not project.isdigit()):
        raise LanternError(_("name the form as PROJECT_ID/FORM_ID, e.g. 7/lantern_field_all, not {text!r}").format(
            text=text))
    return (int(project) if sep else None), form_id


def _check_decrypted(client, records: list[dict], form_id: str) -> None:
    locked = sum(1 for r in records if (r.get("__system") or {}).get("status") == "notDecrypted")
    if locked:
        raise LanternError(ngettext(
            "{n} submission of {form} is encrypted; ODK Central's OData feed does not decrypt: use its CSV export "
            "with the form's passphrase", "{n} submissions of {form} are encrypted; ODK Central's OData feed does "
            "not decrypt: use its CSV export with the form's passphrase", locked).format(n=locked, form=form_id))


def read_form(client, project_id: int | None, form_id: str, close_client: bool = False) -> SubmissionExport:
    """The submissions of one form on the server, as ``read_export`` gives an export's (photos fetched when
    read). ``project_id`` None: pyodk's ``default_project_id``. Raises LanternError naming the problem."""
    project_id = project_id if project_id is not None else client.project_id
    if project_id is None:
        raise LanternError(_("name the project: PROJECT_ID/FORM_ID, or set default_project_id in {path}").format(
            path=config_path()))
    _same_server_only(client)
    records = _records(client, int(project_id), form_id)
    _check_decrypted(client, records, form_id)
    subs = [submission(r, form_id) for r in records]
    missing = [i + 1 for i, s in enumerate(subs) if not s.instance_id]
    if missing:
        raise LanternError(_("ODK Central at {server} sent submissions without an instance id: {rows}").format(
            server=server(client), rows=", ".join(map(str, missing[:10]))))
    keys = {s.instance_id: str(r.get("__id") or s.instance_id) for s, r in zip(subs, records)}
    files = CentralAttachments(client, int(project_id), form_id, keys, close_client)
    label = f"{server(client)}{urlsplit(client.session.base_url).path}projects/{project_id}/forms/{form_id}.svc"
    return SubmissionExport(ODK_ODATA, Path(form_id), subs, files, label=label)
