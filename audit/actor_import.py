"""A register of local actors from a CSV file, as ONE undoable, logged step (a macro of inserts).

Only the register's own columns are read (by id, or by their English or Latvian label); a column it does not
know is refused, because it could carry what the register must not hold (a person's name or code). ``marking``
and ``id`` (of a Lantern export) are skipped. Sectors and roles may be ids or labels; roles are separated by
commas or semicolons. Every row is checked as a new actor is (audit.actor_checks); any problem refuses the whole
file, naming the rows (data rows counted from 1 after the header) — the workspace is left as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from audit.actor_checks import FIELD_LABELS, checked, warnings
from audit.commands import InsertRow, Macro
from layers import actor_csv, actor_store
from layers.actor_store import COLUMNS
from layers.errors import InputError, ValidationError
from layers.i18n import _, ngettext
from layers.migrations import ACTORS_TABLE

SKIPPED_COLUMNS = ("marking", "id")
SHOWN_PROBLEMS = 5


@dataclass
class ActorImport:
    command: Macro
    count: int
    warnings: list[str] = field(default_factory=list)  # "row N: …"
    notices: list[str] = field(default_factory=list)


def _column_names() -> dict[str, str]:
    """Every accepted spelling of a column (casefolded) → the column."""
    from layers.i18n import translations

    names = {c.casefold(): c for c in COLUMNS}
    for column, text in FIELD_LABELS.items():
        if column in COLUMNS:
            for lang in ("en", "lv"):
                names[translations(lang).gettext(text).casefold()] = column
    return names


def _columns(path: Path, header: list[str]) -> dict[str, str]:
    """The file's column → the register's column; refuses unknown columns, naming them."""
    names = _column_names()
    mapping = {h: names[h.casefold()] for h in header if h.casefold() in names}
    unknown = [h for h in header if h not in mapping and h.casefold() not in SKIPPED_COLUMNS]
    if unknown:
        raise InputError(path, _("unknown columns: {names}; the register of local actors takes only {allowed}").format(
            names=", ".join(unknown), allowed=", ".join(COLUMNS)))
    if "name" not in mapping.values() or "sector" not in mapping.values():
        raise InputError(path, _("the file needs the columns name and sector"))
    return mapping


def _refusal(path: Path, problems: list[str]) -> InputError:
    shown = problems[:SHOWN_PROBLEMS]
    more = len(problems) - len(shown)
    if more:
        shown.append(ngettext("… and {n} more problem", "… and {n} more problems", more).format(n=more))
    return InputError(path, _("nothing was imported:") + "\n" + "\n".join(shown))


def import_actors(workspace, path: str | Path) -> ActorImport:
    """Read and check every row; the macro that inserts them all (run it with History.do)."""
    path = Path(path)
    header, rows, notices = actor_csv.read_rows(path)
    mapping = _columns(path, header)
    seen = {(str(r["name"]).casefold(), r["sector"]) for r in actor_store.actor_rows(workspace.db.conn)}
    inserts, problems, notes = [], [], []
    for number, row in enumerate(rows, start=1):
        raw = {mapping[h]: v for h, v in row.items() if h in mapping}
        try:
            values = checked(workspace, raw)
        except ValidationError as exc:
            problems += [_("row {n}: {problem}").format(n=number, problem=p) for p in str(exc).splitlines()]
            continue
        key = (values["name"].casefold(), values["sector"])
        if key in seen:
            problems.append(_("row {n}: {name!r} ({sector}) is already in the register").format(
                n=number, name=values["name"], sector=values["sector"]))
        seen.add(key)
        notes += [_("row {n}: {problem}").format(n=number, problem=w) for w in warnings(values)]
        inserts.append(InsertRow(ACTORS_TABLE, values))
    if problems:
        raise _refusal(path, problems)
    label = ngettext("Import {n} local actor", "Import {n} local actors", len(inserts)).format(n=len(inserts))
    return ActorImport(Macro(inserts, label=label), len(inserts), notes, notices)
