"""The checks of a local actor's values: what is refused (with a message naming the field) and what is only
warned about.

Refused: no name; a sector or role the catalogue does not know; no role; anything that looks like a Latvian
personal code (*personas kods*, NNNNNN-NNNNN) in any text; a phone or e-mail that is not one; a date that is
not a date; a renewal that does not come after the agreement; counts below zero; more trained staff than
staff; half a position. Warned (a heuristic, so never refused): a contact point that looks like a private
person's name (two or three capitalised words and no word of an office or a role, or a title such as "Mr" or
"kundze"), and an e-mail address that looks like name.surname@.
"""
from __future__ import annotations

import datetime as dt
import re

from audit.actor_catalogue import find_id, roles, sectors
from layers import actor_store
from layers.actor_store import COLUMNS, role_ids, stored_roles
from layers.errors import ValidationError
from layers.i18n import N_, _

FIELD_LABELS = {
    "name": N_("Name"), "sector": N_("Sector"), "roles": N_("Roles in the chain of assistance"),
    "contact_point": N_("Contact point"), "contact_phone": N_("Contact phone"), "contact_email": N_("Contact e-mail"),
    "address": N_("Address"), "lon": N_("Longitude"), "lat": N_("Latitude"), "agreement_date": N_("Agreement date"),
    "agreement_scope": N_("Agreement scope"), "agreement_renewal": N_("Agreement renewal"), "staff": N_("Staff"),
    "staff_trained": N_("Trained staff"), "trained_on": N_("Trained on"), "training_needs": N_("Training needs"),
    "service_fid": N_("Entry in the services directory"), "notes": N_("Notes"), "position": N_("Position"),
}
TEXT_FIELDS = ("name", "contact_point", "contact_phone", "contact_email", "address", "agreement_scope",
               "training_needs", "notes")
DATE_FIELDS = ("agreement_date", "agreement_renewal", "trained_on")
COUNT_FIELDS = ("staff", "staff_trained")

#: a Latvian personal code: six digits, a hyphen, five digits (also written without the hyphen)
_PERSONAL_CODE = re.compile(r"(?<!\d)(\d{6})[-‐–]?(\d{5})(?!\d)")
_PHONE = re.compile(r"^\+?[\d\s()./-]{5,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
#: stems of words that name an office or a role, in Latvian and English: a contact point holding one is fine
_OFFICE_WORDS = ("dienest", "nodaļ", "biroj", "centr", "departament", "pārvald", "daļa", "iecirkn", "tālrun",
                 "līnij", "komand", "grup", "sekretariāt", "administr", "koordinator", "speciālist", "vadītāj",
                 "inspekt", "darbinie", "dežur", "reģistratūr", "polic", "skol", "direktor", "psiholog", "sociāl",
                 "palīdz", "info", "kontakt", "aģentūr", "dome", "valde", "padom", "asociācij", "bērn", "jurist",
                 "office", "service", "desk", "unit", "team", "line", "department", "duty", "officer", "coordinat",
                 "specialist", "head", "manager", "reception", "hotline", "station", "secretar", "inspector",
                 "worker", "nurse", "school", "director", "priest", "psycholog", "social", "help", "contact",
                 "agency", "board", "council", "association", "lawyer", "chair", "general", "main")
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "kungs", "kundze", "k-gs", "k-dze"}


def field_label(column: str) -> str:
    return _(FIELD_LABELS[column]) if column in FIELD_LABELS else column


def _plausible_birth_date(six: str) -> bool:
    try:
        dt.date(2000 + int(six[4:6]), int(six[2:4]), int(six[:2]))
    except ValueError:
        return False
    return True


def holds_personal_code(text) -> bool:
    """NNNNNN-NNNNN anywhere; eleven digits in a row only when they start like a personal code (a birth date
    DDMMYY, or 32 of the codes since 2017), so a phone number written +37167075344 is not taken for one."""
    for match in _PERSONAL_CODE.finditer(str(text or "")):
        first = match.group(1)
        if len(match.group(0)) == 12 or first.startswith("32") or _plausible_birth_date(first):
            return True
    return False


def looks_like_a_person(text) -> bool:
    """Whether a contact point reads like a private person's name rather than a role or an office (a heuristic)."""
    words = re.findall(r"[^\s,;:()/]+", str(text or ""))
    if any(w.casefold().rstrip(".") in _TITLES for w in words):
        return True
    if any(_office_word(w) for w in words):
        return False
    return 2 <= len(words) <= 3 and all(w[:1].isupper() and w.replace("-", "").isalpha() for w in words)


def _office_word(word: str) -> bool:
    return word.casefold().startswith(_OFFICE_WORDS)


def _personal_email(address: str) -> bool:
    local = address.partition("@")[0]
    return bool(re.fullmatch(r"[^\W\d_]{2,}[._][^\W\d_]{2,}", local)) and not any(
        _office_word(w) for w in re.split(r"[._]", local))


def warnings(values: dict) -> list[str]:
    """What deserves a second look but is not refused."""
    found = []
    point = values.get("contact_point") or ""
    if point and looks_like_a_person(point):
        found.append(_("{field}: {value!r} looks like a person's name; name a role or an office (e.g. \"Social "
                       "service crisis unit\"), never a private person").format(field=field_label("contact_point"),
                                                                                value=point))
    email = values.get("contact_email") or ""
    if email and _personal_email(email):
        found.append(_("{field}: {value!r} looks personal (name.surname@…); prefer the office's address").format(
            field=field_label("contact_email"), value=email))
    return found


# -- normalising and refusing ---------------------------------------------------------------------------------


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (
        isinstance(value, str) and not value.strip())


def _text(column: str, value) -> str | None:
    """Stripped; spaces collapsed on one line (notes keep their lines)."""
    if _missing(value):
        return None
    return str(value).strip() if column == "notes" else " ".join(str(value).split())


def _texts(raw: dict, out: dict, problems: list[str]) -> None:
    for column in TEXT_FIELDS:
        out[column] = _text(column, raw.get(column))
        if out[column] and holds_personal_code(out[column]):
            problems.append(_("{field}: looks like a personal code (personas kods); an actor's record never holds "
                              "one").format(field=field_label(column)))
    if not out["name"]:
        problems.append(_("{field}: an actor needs a name (the organisation or office)").format(
            field=field_label("name")))
    phone, email = out["contact_phone"], out["contact_email"]
    if phone and not _PHONE.match(phone):
        problems.append(_("{field}: {value!r} is not a phone number (digits, spaces, +, -, parentheses)").format(
            field=field_label("contact_phone"), value=phone))
    if email and not _EMAIL.match(email):
        problems.append(_("{field}: {value!r} is not an e-mail address").format(field=field_label("contact_email"),
                                                                               value=email))


def _sector_and_roles(raw: dict, out: dict, problems: list[str]) -> None:
    sector = raw.get("sector")
    out["sector"] = None if _missing(sector) else find_id(sectors(), sector)
    if out["sector"] is None:
        choices = ", ".join(s["id"] for s in sectors())
        problems.append(_("{field}: unknown sector {value!r}; choose one of: {choices}").format(
            field=field_label("sector"), value="" if _missing(sector) else str(sector), choices=choices))
    given = role_ids(raw.get("roles"))
    ids = [find_id(roles(), r) for r in given]
    for text, found in zip(given, ids):
        if found is None:
            problems.append(_("{field}: unknown role {value!r}; choose from: {choices}").format(
                field=field_label("roles"), value=text, choices=", ".join(r["id"] for r in roles())))
    if not given:
        problems.append(_("{field}: choose at least one role in the chain of assistance").format(
            field=field_label("roles")))
    out["roles"] = stored_roles(dict.fromkeys(r for r in ids if r))


def _date(value) -> dt.date:
    """A date from a date, or from text starting YYYY-MM-DD (a time after it is ignored); else ValueError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d\d-\d\d([T ].*)?", text):
        raise ValueError(text)
    return dt.date.fromisoformat(text[:10])


def _dates(raw: dict, out: dict, problems: list[str]) -> None:
    for column in DATE_FIELDS:
        value = raw.get(column)
        try:
            out[column] = None if _missing(value) else _date(value).isoformat()
        except ValueError:
            out[column] = None
            problems.append(_("{field}: {value!r} is not a date like 2026-03-31").format(field=field_label(column),
                                                                                        value=str(value)))
    start, renewal = out["agreement_date"], out["agreement_renewal"]
    if start and renewal and renewal <= start:
        problems.append(_("{field}: {renewal} must come after the agreement date {start}").format(
            field=field_label("agreement_renewal"), renewal=renewal, start=start))


def _count(value) -> int:
    number = float(str(value).strip().replace(",", "."))
    if number < 0 or number != int(number):
        raise ValueError(value)
    return int(number)


def _counts(raw: dict, out: dict, problems: list[str]) -> None:
    for column in (*COUNT_FIELDS, "service_fid"):
        value = raw.get(column)
        try:
            out[column] = None if _missing(value) else _count(value)
        except (TypeError, ValueError):
            out[column] = None
            problems.append(_("{field}: {value!r} is not a whole number of 0 or more").format(
                field=field_label(column), value=str(value)))
    staff, trained = out["staff"], out["staff_trained"]
    if staff is not None and trained is not None and trained > staff:
        problems.append(_("{field}: {trained} is more than the staff ({staff})").format(
            field=field_label("staff_trained"), trained=trained, staff=staff))


def _position(raw: dict, out: dict, problems: list[str]) -> None:
    lon, lat = raw.get("lon"), raw.get("lat")
    out["lon"] = out["lat"] = None
    if _missing(lon) and _missing(lat):
        return
    try:
        x, y = float(str(lon).replace(",", ".")), float(str(lat).replace(",", "."))
    except (TypeError, ValueError):
        problems.append(_("{field}: give both longitude and latitude in degrees, or neither").format(
            field=field_label("position")))
        return
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        problems.append(_("{field}: {lon}, {lat} is not a longitude and latitude in degrees").format(
            field=field_label("position"), lon=lon, lat=lat))
        return
    out["lon"], out["lat"] = x, y


def problems_of(raw: dict) -> tuple[dict, list[str]]:
    """``raw`` as it would be stored, and every problem found (empty: it may be stored)."""
    out: dict = {}
    problems: list[str] = []
    for step in (_texts, _sector_and_roles, _dates, _counts, _position):
        step(raw, out, problems)
    return {c: out.get(c) for c in COLUMNS}, problems


def checked(workspace, raw: dict) -> dict:
    """``raw`` as stored; raises ValidationError naming every problem (one per line)."""
    values, problems = problems_of(raw)
    fid = values["service_fid"]
    if fid is not None and workspace is not None and not actor_store.service_exists(workspace.db.conn, fid):
        problems.append(_("{field}: the services directory has no entry {fid}").format(
            field=field_label("service_fid"), fid=fid))
    if problems:
        raise ValidationError("\n".join(problems))
    return values
