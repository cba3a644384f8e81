"""Shared setup of the mapping tests."""
from __future__ import annotations

import shutil

from audit.annotations import annotate, annotation_values
from audit.commands import History
from layers.workspace import Workspace


def annotated_copy(demo_file, folder, author: str, notes) -> object:
    """A copy of the demo in ``folder`` whose last place of concern is annotated once per note, by ``author``."""
    path = folder / "demo.gpkg"
    shutil.copy(demo_file, path)
    with Workspace.open(path) as ws:
        fid = int(ws.read_layer("places_of_concern").index[-1])
        for note in notes:
            History(ws, author).do(annotate(annotation_values(
                "places_of_concern", fid, indicators_seen=["gen_controlled"], observed="2026-01-05",
                confidence="high", source="police", author=author, note=note)))
    return path
