"""One page layout for every print map (outreach plans, shared maps, the report's maps, Print map…).

A page has a header (title that wraps and shrinks to fit, subtitle, the profile's marking), the map with a
grid reference on its frame, a scale bar and a north arrow, a panel (legend with classes and counts, then
any list such as the campaign sites) and a footer (date, sources, attribution, a method note in plain
words). Text is wrapped by measuring it with the figure's own renderer, so nothing is ever cut: what does
not fit on the page continues on another page (``PrintDocument.pages``). ``cut_texts`` lists any text that
would fall outside its page; the tests hold every output to it.
"""
from __future__ import annotations

import io
import math
import string
from dataclasses import dataclass, field
from pathlib import Path

from layers.i18n import _
from mapping.features import marking_color, styles, text_color

#: portrait sheet sizes, inches
PAPER = {"a4": (8.27, 11.69), "a3": (11.69, 16.54)}
MARGIN = 0.35  # inches
LINE = 1.3  # line height, in font sizes
GRID_STEPS = (100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)
# no creation time in print files: the same input gives the same bytes
METADATA = {"pdf": {"CreationDate": None}, "png": {"Software": None}}


def page_size(paper: str = "a4", orientation: str = "landscape") -> tuple[float, float]:
    """(width, height) in inches of an A4/A3 sheet in ``orientation`` ("portrait" or "landscape")."""
    if paper.lower() not in PAPER:
        raise ValueError(_("unknown paper {paper!r}; choose A4 or A3").format(paper=paper))
    if orientation not in ("portrait", "landscape"):
        raise ValueError(_("unknown orientation {o!r}; choose portrait or landscape").format(o=orientation))
    w, h = PAPER[paper.lower()]
    return (h, w) if orientation == "landscape" else (w, h)


@dataclass
class Sheet:
    """What a print page says besides the map: its texts, in the output's language."""

    title: str
    marking: str
    date: str
    subtitle: str = ""
    restricted: bool = False  # the marking on red (police)
    stamp: str | None = None  # across the page (police)
    sources: list[str] = field(default_factory=list)
    attribution: str | None = None  # "© OpenStreetMap contributors" where OSM data are shown
    method: list[str] = field(default_factory=list)  # plain words: how the map was made


@dataclass
class LegendEntry:
    """One row of the legend: a swatch (patch, point or line) and its label with its count."""

    label: str
    color: str
    kind: str = "patch"  # patch | point | line | blank
    edgecolor: str | None = None
    alpha: float = 1.0
    marker: str = "o"
    linestyle: str = "-"
    layer: str = ""  # the layer it stands for (its colours are checked across profiles)


@dataclass
class Block:
    """An item of the panel's flow: a heading, a legend row or a paragraph."""

    kind: str  # heading | entry | text
    text: str = ""
    entry: LegendEntry | None = None
    size: float = 7.5


def legend(title: str, entries: list[LegendEntry]) -> list[Block]:
    return [Block("heading", title, size=8.5), *(Block("entry", e.label, e, size=7.5) for e in entries)]


def paragraph(text: str, size: float = 7.5, heading: str | None = None) -> list[Block]:
    return [*([Block("heading", heading, size=8.5)] if heading else []), Block("text", text, size=size)]


# -- measuring and wrapping ------------------------------------------------------------------------

def _font(size: float, bold: bool = False):
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=size, weight="bold" if bold else "normal")


def text_width(fig, text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in inches, measured by the figure's renderer."""
    renderer = fig.canvas.get_renderer()
    w, _h, _d = renderer.get_text_width_height_descent(text, _font(size, bold), ismath=False)
    return w / fig.dpi


def wrap(fig, text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width`` inches (a word longer than a line is broken)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split():
            candidate = f"{line} {word}" if line else word
            if text_width(fig, candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(fig, word, size, bold) > width and len(word) > 1:  # a long word: break it
                cut = len(word) - 1
                while cut > 1 and text_width(fig, word[:cut], size, bold) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines or [""]


def put(fig, x: float, top: float, lines: list[str], size: float, bold: bool = False, color=None, **kw):
    """A text block with its top-left corner at (``x``, ``top``) inches from the bottom-left; returns the Text."""
    w, h = fig.get_size_inches()
    return fig.text(x / w, top / h, "\n".join(lines), fontsize=size, fontweight="bold" if bold else "normal",
                    va="top", ha="left", linespacing=LINE - 0.1, color=color or text_color("page"), parse_math=False,
                    **kw)


def height_of(fig, artist) -> float:
    """The drawn height of ``artist`` in inches."""
    return artist.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi


def cut_texts(fig) -> list[str]:
    """Every visible text of ``fig`` that is not wholly on the page (drawn first): empty when nothing is cut."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    cut = []
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < page.x0 - 0.5 or box.y0 < page.y0 - 0.5 or box.x1 > page.x1 + 0.5 or box.y1 > page.y1 + 0.5:
            cut.append(text.get_text())
    return cut


# -- the page --------------------------------------------------------------------------------------

class PrintPage:
    """One page: header, map axes (``ax``), panel and footer; ``flow`` fills the panel."""

    def __init__(self, sheet: Sheet, size: tuple[float, float], with_map: bool = True, continued: bool = False):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.sheet, self.size = sheet, size
        self.fig = plt.figure(figsize=size, dpi=100)
        self.landscape = size[0] > size[1]
        self.top = self._header(continued)
        self.bottom = self._footer()
        self.ax = None
        if with_map:
            self._map_and_panel()
        else:
            self.columns = self._full_columns()
        if sheet.stamp:
            self._stamp()

    # header and footer
    def _header(self, continued: bool) -> float:
        """Title (the largest size at which it takes two lines at most; never cut), subtitle, and the marking at
        the top right, or under the title when it is too long to sit beside it (Latvian markings are long)."""
        fig, (w, h), s = self.fig, self.size, self.sheet
        mark = put(fig, 0, h - MARGIN, [s.marking], 9, bold=True, color=styles()["marking"]["text"],
                   bbox={"facecolor": marking_color(s.restricted), "edgecolor": "none", "pad": 3})
        mark_w = mark.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi + 0.1
        beside = mark_w < 0.4 * (w - 2 * MARGIN)
        width = w - 2 * MARGIN - (mark_w + 0.25 if beside else 0)
        title = s.title + (" — " + _("continued") if continued else "")
        for size in (16, 15, 14, 13, 12, 11, 10):
            lines = wrap(fig, title, size, width, bold=True)
            if len(lines) <= 2:
                break
        top = h - MARGIN
        top -= height_of(fig, put(fig, MARGIN, top, lines, size, bold=True)) + 0.06
        if beside:
            mark.set_x((w - MARGIN - mark_w + 0.05) / w)
            mark.set_y((h - MARGIN - 0.05) / h)
        else:
            mark.set_x((MARGIN + 0.04) / w)
            mark.set_y((top - 0.05) / h)
            top -= height_of(fig, mark) + 0.16
        if s.subtitle:
            top -= height_of(fig, put(fig, MARGIN, top, wrap(fig, s.subtitle, 9, width), 9,
                                      color=text_color())) + 0.06
        return top - 0.05

    def _footer(self) -> float:
        fig, w, s = self.fig, self.size[0], self.sheet
        width = w - 2 * MARGIN
        blocks = [(" · ".join([s.date, *s.sources, *([s.attribution] if s.attribution else [])]), 7, "page")]
        blocks += [(" ".join(s.method), 6.5, "muted")] if s.method else []
        y = MARGIN
        for text, size, color in reversed(blocks):
            lines = wrap(fig, text, size, width)
            artist = put(fig, MARGIN, 0, lines, size, color=text_color(color))
            height = height_of(fig, artist)
            artist.set_y((y + height) / self.size[1])
            y += height + 0.05
        return y + 0.05

    def _stamp(self) -> None:
        w, h = self.size
        diagonal = (w * w + h * h) ** 0.5
        size = min(44.0, 0.7 * diagonal * 72 / max(1, text_width(self.fig, self.sheet.stamp, 10) * 72 / 10))
        self.fig.text(0.5, 0.5, self.sheet.stamp, fontsize=size, color=marking_color(True), parse_math=False,
                      alpha=styles()["marking"]["stamp_alpha"], ha="center", va="center",
                      rotation=math.degrees(math.atan2(h, w)))

    # the map and the panel
    def _map_and_panel(self) -> None:
        w, _h = self.size
        label_room = 0.2  # the grid's letters and numbers outside the frame
        if self.landscape:
            panel_w = min(4.0, max(2.4, 0.28 * w))
            map_box = (MARGIN + label_room, self.bottom, w - 2 * MARGIN - panel_w - 0.25 - label_room,
                       self.top - self.bottom - label_room)
            self.columns = [(w - MARGIN - panel_w, self.top, panel_w, self.top - self.bottom)]
        else:
            panel_h = max(1.8, 0.27 * (self.top - self.bottom))
            map_box = (MARGIN + label_room, self.bottom + panel_h + 0.15, w - 2 * MARGIN - label_room,
                       self.top - self.bottom - panel_h - 0.15 - label_room)
            n = 2 if w < 10 else 3
            col_w = (w - 2 * MARGIN - 0.25 * (n - 1)) / n
            self.columns = [(MARGIN + i * (col_w + 0.25), self.bottom + panel_h, col_w, panel_h) for i in range(n)]
        x, y, bw, bh = map_box
        W, H = self.size
        self.ax = self.fig.add_axes((x / W, y / H, bw / W, bh / H))
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        for spine in self.ax.spines.values():
            spine.set_linewidth(0.6)

    def _full_columns(self) -> list[tuple]:
        w, _h = self.size
        n = 2 if w < 10 else 3
        col_w = (w - 2 * MARGIN - 0.3 * (n - 1)) / n
        return [(MARGIN + i * (col_w + 0.3), self.top - 0.1, col_w, self.top - 0.1 - self.bottom) for i in range(n)]

    def flow(self, blocks: list[Block]) -> list[Block]:
        """Place ``blocks`` in the panel's columns; return those that did not fit (for another page)."""
        blocks = list(blocks)
        for x, top, width, height in self.columns:
            floor = top - height
            while blocks:
                placed = self._place(blocks, x, top, width, floor)
                if placed is None:
                    break
                top = placed
            if not blocks:
                break
        return blocks

    def _place(self, blocks: list[Block], x: float, top: float, width: float, floor: float) -> float | None:
        """Place the first block (a heading together with the block after it) at ``top``; None if it does not fit."""
        artists, y = [], top
        count = 2 if blocks[0].kind == "heading" and len(blocks) > 1 else 1
        for block in blocks[:count]:
            made, y = self._draw_block(block, x, y, width)
            artists += made
            if y < floor:
                for a in artists:
                    a.remove()
                return None
        del blocks[:count]
        return y

    def _draw_block(self, block: Block, x: float, top: float, width: float) -> tuple[list, float]:
        fig = self.fig
        if block.kind == "heading":
            top -= 0.04
            text = put(fig, x, top, wrap(fig, block.text, block.size, width, True), block.size, bold=True)
            return [text], top - height_of(fig, text) - 0.05
        if block.kind == "text":
            text = put(fig, x, top, wrap(fig, block.text, block.size, width), block.size)
            return [text], top - height_of(fig, text) - 0.04
        swatch_w = 0.28
        text = put(fig, x + swatch_w + 0.06, top, wrap(fig, block.text, block.size, width - swatch_w - 0.06),
                   block.size)
        line_h = block.size * LINE / 72
        made = [text, *_swatch(fig, block.entry, x, top - line_h / 2, swatch_w, line_h * 0.75)]
        return made, top - max(height_of(fig, text), line_h) - 0.025

    def close(self) -> None:
        import matplotlib.pyplot as plt

        plt.close(self.fig)


def _swatch(fig, entry: LegendEntry, x: float, mid: float, w: float, h: float) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    t = fig.dpi_scale_trans
    if entry.kind == "point":
        art = Line2D([x + w / 2], [mid], marker=entry.marker, markersize=7, markerfacecolor=entry.color,
                     markeredgecolor=entry.edgecolor or entry.color, alpha=entry.alpha, linestyle="none", transform=t)
    elif entry.kind == "line":
        art = Line2D([x, x + w], [mid, mid], color=entry.color, linestyle=entry.linestyle, linewidth=1.4, transform=t)
    else:
        blank = entry.kind == "blank"
        art = Rectangle((x, mid - h / 2), w, h, facecolor="white" if blank else entry.color, alpha=1 if blank else
                        entry.alpha, edgecolor=entry.edgecolor or ("#777777" if blank else "none"), linewidth=0.6,
                        transform=t)
    fig.add_artist(art)
    return [art]


# -- map furniture ---------------------------------------------------------------------------------

def set_view(ax, bounds, pad: float = 0.03) -> tuple[float, float, float, float]:
    """Show ``bounds`` (x0, y0, x1, y1, metres) at one scale in both directions, widened to the frame's shape
    (the frame keeps its size on the page); returns the limits set. Call again after drawing: plotting may
    have moved them."""
    x0, y0, x1, y1 = bounds
    dx, dy = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    x0, x1, y0, y1 = x0 - pad * dx, x1 + pad * dx, y0 - pad * dy, y1 + pad * dy
    box = ax.get_position()
    w_in, h_in = box.width * ax.figure.get_size_inches()[0], box.height * ax.figure.get_size_inches()[1]
    scale = max((x1 - x0) / w_in, (y1 - y0) / h_in)  # metres per inch
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    limits = (cx - scale * w_in / 2, cy - scale * h_in / 2, cx + scale * w_in / 2, cy + scale * h_in / 2)
    ax.set_aspect("auto")
    ax.set_xlim(limits[0], limits[2])
    ax.set_ylim(limits[1], limits[3])
    ax.set_aspect("equal", adjustable="datalim")  # the limits already have the frame's shape: nothing moves
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    return limits


def add_scalebar(ax):
    """A scale bar in the map's metric CRS (data units are metres), lower left; returns the artist."""
    from matplotlib_scalebar.scalebar import ScaleBar

    bar = ScaleBar(1, "m", location="lower left", length_fraction=0.22, width_fraction=0.012, box_alpha=0.85,
                   font_properties={"size": 7}, border_pad=0.6, scale_loc="top")
    bar.set_gid("scalebar")
    ax.add_artist(bar)
    return bar


def add_north_arrow(ax, crs) -> None:
    """An arrow to true north (at the map's centre, in ``crs``), top right inside the frame."""
    from pyproj import Transformer

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    to_geo = Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_geo.transform(cx, cy)
    nx, ny = to_map.transform(lon, min(lat + 0.01, 89.9))
    angle = math.atan2(nx - cx, ny - cy)  # from grid north, clockwise
    length = 0.07
    tip = (0.94 + length * math.sin(angle) / 2, 0.86 + length * math.cos(angle) / 2)
    tail = (0.94 - length * math.sin(angle) / 2, 0.86 - length * math.cos(angle) / 2)
    arrow = ax.annotate("", xy=tip, xytext=tail, xycoords="axes fraction",
                        arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.6, "mutation_scale": 14})
    arrow.set_gid("north_arrow")
    ax.text(tip[0], tip[1] + 0.015, _("N"), transform=ax.transAxes, ha="center", va="bottom", fontsize=10,
            fontweight="bold", parse_math=False, gid="north_label",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1})


@dataclass
class GridReference:
    """Squares of ``step`` metres from the frame's top-left corner: letters across, numbers down ("C4")."""

    x0: float
    y1: float
    step: float
    columns: int
    rows: int
    x1: float = float("inf")  # the frame's other edges: outside it there is no square
    y0: float = float("-inf")

    @classmethod
    def for_axes(cls, ax) -> "GridReference":
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        span = max(x1 - x0, y1 - y0)
        step = next((s for s in GRID_STEPS if span / s <= 9), GRID_STEPS[-1])
        return cls(x0, y1, step, int(-(-(x1 - x0) // step)), int(-(-(y1 - y0) // step)), x1, y0)

    def label(self, x: float, y: float) -> str:
        """The square holding (x, y) in the map's CRS; "—" outside the map."""
        col, row = int((x - self.x0) // self.step), int((self.y1 - y) // self.step)
        if not (self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1):
            return "—"
        letters = string.ascii_uppercase
        name = letters[col] if col < 26 else letters[col // 26 - 1] + letters[col % 26]
        return f"{name}{row + 1}"

    def draw(self, ax) -> None:
        """Thin lines across the map and the letters and numbers on the frame's top and left."""
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        color = styles()["grid"]["color"]
        for i in range(1, self.columns):
            ax.axvline(self.x0 + i * self.step, color=color, linewidth=0.4, zorder=6)
        for j in range(1, self.rows):
            ax.axhline(self.y1 - j * self.step, color=color, linewidth=0.4, zorder=6)
        for i in range(self.columns):
            mid = min(self.x0 + (i + 0.5) * self.step, (self.x0 + i * self.step + x1) / 2)
            ax.text(mid, y1, self.label(mid, y1 - 1)[:-1], ha="center", va="bottom", fontsize=7, clip_on=False,
                    color=text_color(), parse_math=False, gid="grid_label")
        for j in range(self.rows):
            mid = max(self.y1 - (j + 0.5) * self.step, (self.y1 - j * self.step + y0) / 2)
            ax.text(x0 - 0.01 * (x1 - x0), mid, str(j + 1), ha="right", va="center", fontsize=7, clip_on=False,
                    color=text_color(), parse_math=False, gid="grid_label")

    def note(self) -> str:
        return _("Grid squares of {step} m: letters across, numbers down (e.g. B2).").format(step=f"{self.step:g}")


def furnish(ax, crs) -> GridReference:
    """Grid reference, scale bar and north arrow on a map axes (after ``set_view``); returns the grid."""
    grid = GridReference.for_axes(ax)
    grid.draw(ax)
    add_scalebar(ax)
    add_north_arrow(ax, crs)
    return grid


def metric_bounds(bounds, crs) -> tuple[float, float, float, float]:
    """W, S, E, N (EPSG:4326) as x0, y0, x1, y1 in ``crs``."""
    from pyproj import Transformer

    return Transformer.from_crs(4326, crs, always_xy=True).transform_bounds(*bounds)


@dataclass
class PrintOptions:
    """What a print map shows: paper, orientation, texts, layers (kind ids; None: all) and extent (W,S,E,N)."""

    paper: str = "a4"
    orientation: str = "landscape"
    title: str = ""
    subtitle: str = ""
    layers: list[str] | None = None
    extent: tuple | None = None


# -- documents -------------------------------------------------------------------------------------

class PrintDocument:
    """A first page with the map, and as many further pages as the panel's overflow needs."""

    def __init__(self, sheet: Sheet, paper: str = "a4", orientation: str = "landscape",
                 size: tuple[float, float] | None = None):
        self.sheet = sheet
        self.size = size or page_size(paper, orientation)
        self.first = PrintPage(sheet, self.size)
        self.pages = [self.first]
        self.blocks: list[Block] = []  # everything the panels show (the legend's entries with their colours)
        self.grid: GridReference | None = None

    @property
    def ax(self):
        return self.first.ax

    def flow(self, blocks: list[Block], continued: str | None = None) -> None:
        """Fill the first page's panel, then continuation pages, until every block is placed; a page that
        starts in the middle of a list starts with the heading ``continued``."""
        self.blocks += blocks
        rest = self.first.flow(blocks)
        while rest:
            page = PrintPage(self.sheet, self.size, with_map=False, continued=True)
            self.pages.append(page)
            if continued and rest[0].kind != "heading":
                rest.insert(0, Block("heading", continued, size=8.5))
            left = page.flow(rest)
            if len(left) == len(rest):  # a single block taller than a page: place it anyway, never loop
                page.columns = page.columns[:1]
                left = left[1:]
            rest = left

    def save(self, path: str | Path, fmt: str | None = None, dpi: int = 150) -> Path:
        """PDF (one page per page) or PNG (the pages one under the other)."""
        path = Path(path)
        fmt = (fmt or path.suffix.lstrip(".")).lower()
        if fmt == "pdf":
            from matplotlib.backends.backend_pdf import PdfPages

            with PdfPages(path, metadata=METADATA["pdf"]) as pdf:
                for page in self.pages:
                    pdf.savefig(page.fig)
        elif len(self.pages) == 1:
            self.first.fig.savefig(path, format="png", dpi=dpi, metadata=METADATA["png"])
        else:
            _stacked_png(self.pages, path, dpi)
        return path

    def close(self) -> None:
        for page in self.pages:
            page.close()


def _stacked_png(pages: list[PrintPage], path: Path, dpi: int) -> None:
    import matplotlib.image as mpimg
    import numpy as np

    images = []
    for page in pages:
        buffer = io.BytesIO()
        page.fig.savefig(buffer, format="png", dpi=dpi)
        buffer.seek(0)
        images.append(mpimg.imread(buffer, format="png"))
    width = max(i.shape[1] for i in images)
    gap = np.full((max(2, dpi // 20), width, images[0].shape[2]), 0.6, dtype=images[0].dtype)
    rows = []
    for image in images:
        pad = np.ones((image.shape[0], width - image.shape[1], image.shape[2]), dtype=image.dtype)
        rows += [np.concatenate([image, pad], axis=1), gap]
    mpimg.imsave(path, np.concatenate(rows[:-1], axis=0), format="png", metadata=METADATA["png"])
