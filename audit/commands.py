"""One path for every change: commands that apply themselves, undo themselves, and log.

Every create, edit and delete — of a feature, an annotation or an estimate —
is a command. ``History.do`` applies it inside one transaction together with
its change-log entry; ``undo``/``redo`` do the same in reverse. The GUI, the
CLI and the tests all go through here, so the log sees every change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from audit import changelog
from layers.errors import LanternError
from layers.i18n import _


class UndoRefused(LanternError):
    """The row was changed again since (by someone else, in a shared workspace): undoing would overwrite that."""


def _refuse_if_changed(table: str, row_id, now: dict | None, left: dict | None) -> None:
    """Undo touches only one's own change: the row must still be as the command left it."""
    if now is None or left is None or any(now.get(k) != v for k, v in left.items()):
        raise UndoRefused(_("{table} {id} was changed since (by someone else?); undoing would overwrite that "
                            "change, so nothing was undone").format(table=table, id=row_id))


@dataclass
class Context:
    """What a command needs while it runs: the workspace and who is acting."""

    workspace: object
    author: str

    def log(self, action: str, table: str, row_id, before, after) -> None:
        changelog.append(self.workspace.db, author=self.author, action=action, table=table, row_id=row_id,
                         before=before, after=after)

    def touched(self, table: str, geometry: bool = True) -> None:
        self.workspace.touch(table, geometry)


class Command:
    label = ""
    tables: tuple[str, ...] = ()

    def apply(self, ctx: Context) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def revert(self, ctx: Context) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class RowCommand(Command):
    """A change of one row of one table."""

    table: str
    row_id: int | None

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table,)

    def _existing(self, ctx: Context) -> dict:
        row = ctx.workspace.get_row(self.table, self.row_id)
        if row is None:
            raise KeyError(_("{table} has no row {id}").format(table=self.table, id=self.row_id))
        return row

    def _record(self, ctx: Context, action: str, before, after) -> None:
        ctx.log(action, self.table, self.row_id, before, after)
        ctx.touched(self.table, self.moves_geometry)

    #: whether the change may move the layer's extent (an update says from the fields it changes)
    moves_geometry = True


@dataclass
class InsertRow(RowCommand):
    """Insert a row. ``values`` may be a callable, evaluated at the first apply
    (so a macro can refer to the id of a row inserted just before)."""

    table: str
    values: dict | Callable[[], dict]
    label: str = ""
    row_id: int | None = None

    def apply(self, ctx: Context) -> None:
        if callable(self.values):
            self.values = self.values()
        values = dict(self.values)
        if self.row_id is not None:  # redo: same id, so later commands still refer to it
            values[ctx.workspace.primary_key(self.table)] = self.row_id
        self.row_id = ctx.workspace.insert_row(self.table, values)
        self.left = self._existing(ctx)
        self._record(ctx, "insert", None, self.left)

    def revert(self, ctx: Context) -> None:
        before = ctx.workspace.get_row(self.table, self.row_id)
        _refuse_if_changed(self.table, self.row_id, before, getattr(self, "left", before))
        ctx.workspace.delete_row(self.table, self.row_id)
        self._record(ctx, "undo insert", before, None)


@dataclass
class UpdateRow(RowCommand):
    table: str
    row_id: int
    changes: dict
    label: str = ""
    before: dict | None = None

    @property
    def moves_geometry(self) -> bool:
        return bool({"geom", "outline"} & set(self.changes))

    def apply(self, ctx: Context) -> None:
        current = self._existing(ctx)
        self.before = {k: current[k] for k in self.changes}
        ctx.workspace.update_row(self.table, self.row_id, self.changes)
        stored = self._existing(ctx)
        self.left = {k: stored[k] for k in self.changes}  # as SQLite stored them (its types), to compare at undo
        self._record(ctx, "update", self.before, dict(self.changes))

    def revert(self, ctx: Context) -> None:
        _refuse_if_changed(self.table, self.row_id, ctx.workspace.get_row(self.table, self.row_id),
                           getattr(self, "left", None) or self._existing(ctx))
        ctx.workspace.update_row(self.table, self.row_id, self.before)
        self._record(ctx, "undo update", dict(self.changes), self.before)


@dataclass
class DeleteRow(RowCommand):
    table: str
    row_id: int
    label: str = ""
    before: dict | None = None

    def apply(self, ctx: Context) -> None:
        self.before = self._existing(ctx)
        ctx.workspace.delete_row(self.table, self.row_id)
        self._record(ctx, "delete", self.before, None)

    def revert(self, ctx: Context) -> None:
        if ctx.workspace.get_row(self.table, self.row_id) is not None:
            _refuse_if_changed(self.table, self.row_id, None, None)
        ctx.workspace.insert_row(self.table, self.before)
        self._record(ctx, "undo delete", None, self.before)


@dataclass
class Macro(Command):
    """Several commands as one step (e.g. a new place and its first annotation)."""

    commands: list[Command]
    label: str = ""

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for c in self.commands for t in c.tables))

    def apply(self, ctx: Context) -> None:
        for command in self.commands:
            command.apply(ctx)

    def revert(self, ctx: Context) -> None:
        for command in reversed(self.commands):
            command.revert(ctx)


@dataclass
class History:
    """Undo and redo stacks over a workspace; each step is one transaction."""

    workspace: object
    author: str = ""
    undo_stack: list[Command] = field(default_factory=list)
    redo_stack: list[Command] = field(default_factory=list)

    def _context(self) -> Context:
        return Context(self.workspace, self.author)

    def do(self, command: Command) -> Command:
        with self.workspace.atomic():
            command.apply(self._context())
        self.undo_stack.append(command)
        self.redo_stack.clear()
        return command

    def undo(self) -> Command | None:
        if not self.undo_stack:
            return None
        command = self.undo_stack[-1]
        with self.workspace.atomic():
            command.revert(self._context())
        self.redo_stack.append(self.undo_stack.pop())
        return command

    def redo(self) -> Command | None:
        if not self.redo_stack:
            return None
        command = self.redo_stack[-1]
        with self.workspace.atomic():
            command.apply(self._context())
        self.undo_stack.append(self.redo_stack.pop())
        return command

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)
