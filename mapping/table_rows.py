"""A big layer's rows for the attribute table, read a page at a time.

A table of a million reported cases needs the fifty rows on screen, not a
data frame of a million. :class:`PagedRows` answers the table model's
questions (how many rows, what is in row r, where is fid f) with small
queries through :mod:`layers.viewport`, and keeps the last few pages.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from layers import viewport
from layers.catalogue import kind as get_kind
from layers.layer_reader import read_frame

#: rows read at a time
PAGE = 400
#: pages kept
KEEP = 8


#: what :meth:`PagedRows.peek` answers for a row whose page is not read yet
PENDING = object()


class PagedRows:
    """Rows of ``kind_id`` within ``row_filter``, ordered by fid, read ``PAGE`` at a time.

    ``connect()`` gives the calling thread's connection to the workspace, so a worker can read pages
    (the window asks for a page it lacks, shows a placeholder, and is told when the page is in).
    ``count``: how many rows pass the filter, when the caller knows it already (a city's filtered count
    is a scan of a million rows: the session counts once per filter state)."""

    def __init__(self, connect, kind_id: str, row_filter=None, count: int | None = None):
        self.connect, self.kind_id, self.row_filter = connect, kind_id, row_filter
        self.columns = list(get_kind(kind_id).columns)
        self._count = viewport.count_rows(connect(), kind_id, row_filter) if count is None else count
        self._pages: OrderedDict[int, object] = OrderedDict()
        self._lock = threading.Lock()  # pages are read in a worker and looked up on the UI thread

    def __len__(self) -> int:
        return self._count

    def load(self, number: int):
        """Page ``number`` (rows number*PAGE …) as (fids, one list of values per column), read now if it is
        not kept; safe from any thread."""
        with self._lock:
            page = self._pages.get(number)
            if page is not None:
                self._pages.move_to_end(number)
                return page
        where, params = viewport.page_condition(self.kind_id, number * PAGE, PAGE, self.row_filter)
        frame = read_frame(self.connect(), self.kind_id, where, params)
        # as plain lists, made where the page is read: a cell shown is then a list lookup on the UI thread
        page = ([int(f) for f in frame.index], [frame[c].tolist() for c in self.columns])
        with self._lock:
            self._pages[number] = page
            while len(self._pages) > KEEP:
                self._pages.popitem(last=False)
        return page

    def _kept(self, row: int):
        with self._lock:
            return self._pages.get(row // PAGE)

    def peek(self, row: int, column: int):
        """The value in a row whose page is kept, else PENDING (never reads)."""
        page = self._kept(row)
        return PENDING if page is None else page[1][column][row % PAGE]

    def peek_fid(self, row: int):
        """The fid in a row whose page is kept, else PENDING (never reads)."""
        page = self._kept(row)
        return PENDING if page is None else page[0][row % PAGE]

    def value(self, row: int, column: int):
        return self.load(row // PAGE)[1][column][row % PAGE]

    def fid_at(self, row: int) -> int:
        return self.load(row // PAGE)[0][row % PAGE]

    def row_of(self, fid: int) -> int:
        """The row of ``fid`` (-1 when it is not among these rows)."""
        return viewport.rank_of(self.connect(), self.kind_id, int(fid), self.row_filter)


class FrameRows:
    """A data frame (index = fid) behind the same questions as :class:`PagedRows`; the geometry is left out."""

    def __init__(self, frame):
        self.frame = frame.drop(columns=[frame.geometry.name]) if hasattr(frame, "geometry") else frame
        self.columns = list(self.frame.columns)
        self._fids = [int(f) for f in self.frame.index]
        self._rows: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self._fids)

    def value(self, row: int, column: int):
        return self.frame.iat[row, column]

    def fid_at(self, row: int) -> int:
        return self._fids[row]

    def row_of(self, fid: int) -> int:
        if self._rows is None:
            self._rows = {f: i for i, f in enumerate(self._fids)}
        return self._rows.get(int(fid), -1)


def table_rows(data):
    """What the attribute table shows: PagedRows as they are, a data frame as FrameRows, None as None."""
    if data is None or isinstance(data, PagedRows):
        return data
    return FrameRows(data)
