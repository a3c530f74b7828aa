"""Static maps for print: A4 landscape, as PNG and PDF, readable without the interactive map.

Three maps, each with a title, a legend, a scale bar, a north arrow, the source line and a
background of their own (buurt borders and the walking network drawn thin grey), so they need no
map tiles and work offline:

``kaart_signaal``
    the composite signal per buurt in five quantile classes (mapclassify: each colour holds
    about a fifth of the buurten) of the colour-blind-safe ColorBrewer YlOrRd palette; hot
    spots outlined in black, cold spots in dashed blue.
``kaart_bereik``
    every inhabited 100 m cell within (green) or beyond (purple) the walking threshold, the
    meeting points, and the proposed new meeting points numbered by rank.
``kaart_makelaars``
    the broker areas (Okabe-Ito colours, neighbours never alike where eight colours allow),
    each labelled with its number and workload (shorter where that would cover another label).

Figures are drawn by matplotlib without pyplot (no display, and the global backend of a
notebook is left alone), once, as the PDF; the PNG is that PDF's page rendered by PDFium
(pypdfium2), so the two files show the same drawing and its text is laid out and drawn
once, in Helvetica, a standard font of every PDF reader and printer (DejaVu Sans, embedded,
on a page with a letter outside Windows-1252). Text from OSM, CBS or a user file is drawn with mathtext off, so a name with ``$``
is printed as it is. Nothing is computed here: every figure comes from
:class:`~wijkanalyse.result.RunResult`.
"""

from __future__ import annotations

import io
import logging
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pypdfium2
import shapely
from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerBase
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib_scalebar.scalebar import ScaleBar
from PIL.PngImagePlugin import PngInfo

from wijkanalyse import _atomic
from wijkanalyse._format import format_int, format_number, format_percent
from wijkanalyse.outputs._sources import SYNTHETIC_BANNER, source_line
from wijkanalyse.outputs.style import (
    BEYOND_COLOR,
    BORDER_COLOR,
    HOTSPOT_STYLES,
    MEETING_POINT_COLOR,
    MISSING_COLOR,
    STREET_COLOR,
    WITHIN_COLOR,
    area_colors,
    signal_classes,
)
from wijkanalyse.outputs.texts import gap_count_words
from wijkanalyse.result import Hotspot, RunResult

__all__ = [
    "A4_LANDSCAPE_IN",
    "CORE_FONT_ENCODING",
    "DPI",
    "PRINT_MAPS",
    "Background",
    "background",
    "broker_figure",
    "core_fonts_suffice",
    "reach_figure",
    "signal_figure",
    "write_print_maps",
]

#: A4 landscape in inches (297 x 210 mm).
A4_LANDSCAPE_IN = (297 / 25.4, 210 / 25.4)
#: Resolution of the PNG files: 1753 x 1240 pixels, sharp on screen and in a Word document;
#: the PDF files are vector graphics for print, but for the streets of a large network (see
#: :data:`PDF_STREET_DPI` and :data:`STREET_LINES_LIMIT`). The PNG is the PDF's page rendered
#: at this resolution.
DPI = 150
#: Resolution of the streets in the PDF files (and through them the PNG files): one image at
#: print resolution, drawn once per run and shared by the three maps (a 5 M-node province has
#: a million street segments, which as vectors made each PDF 20 MB and were drawn six times).
PDF_STREET_DPI = 300
#: Up to this many street vertices (after simplification) the streets are drawn as lines, in the
#: PNG and the PDF: sharp at any zoom and cheaper than the image, whose 300 dpi layer costs about
#: 0.13 s per PDF however few the streets (lines cost about 2 microseconds a vertex; a gemeente of
#: a national run has about 15,000). Above it, the shared image (a city's 150,000 and more).
STREET_LINES_LIMIT = 50_000

HOTSPOT_EDGE = HOTSPOT_STYLES[Hotspot.HOT][0]
COLDSPOT_EDGE = HOTSPOT_STYLES[Hotspot.COLD][0]
MAJOR_HIGHWAYS = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
    "tertiary", "tertiary_link",
})

# page layout, in figure fractions
_MAP_BOX = (0.015, 0.065, 0.665, 0.815)  # left, bottom, width, height of the map
_PANEL_BOX = (0.695, 0.2, 0.29, 0.68)  # legend and notes; below them the scale bar and north arrow
#: A label's light box, so it reads over cells and streets. It used to be a white halo (a path
#: effect), but matplotlib draws such text as outlines of its own font, DejaVu Sans, glyph by glyph:
#: the labels were in another typeface than the rest of the page, and cost a quarter of the text's time.
_LABEL_BOX: dict[str, Any] = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}
_TEXT: dict[str, Any] = {"parse_math": False}  # names from OSM/CBS/files are text, never mathtext
_STREETS_GID = "straten"  # the streets of a map (lines or image), as tests find them
#: zlib level 3 for the PNG files: on a city's map faster than Pillow's default 6 (0.40 s
#: instead of 0.64 s for the 0.5 M-node reach map) and no larger (1.64 instead of 1.75 MB).
_PNG_COMPRESS_LEVEL = 3
#: PDFium is not thread-safe; a dask worker (``run --scheduler``) runs gemeenten in threads.
_PDFIUM_LOCK = threading.Lock()
#: The character set of the PDF standard fonts (Windows-1252: every Dutch and Frisian letter, the
#: euro sign and the dashes). When every text on a page is in it, the PDF's text is set in
#: Helvetica, one of the fonts built into every PDF reader and printer, so nothing is embedded;
#: matplotlib then measures a string from the font's metrics in one step and writes it whole.
#: Otherwise the text is set in DejaVu Sans, embedded, and matplotlib places and writes every glyph
#: from Python: that was half of the print maps' time (see :func:`_pdf_bytes`).
CORE_FONT_ENCODING = "cp1252"
#: matplotlib reads ``pdf.use14corefonts`` from its global settings while it saves a PDF, and a
#: dask worker saves in threads: the setting and the save are taken together.
_PDF_SAVE_LOCK = threading.Lock()


class _CoreFontWeightFilter(logging.Filter):
    """Drops matplotlib's warning that Helvetica has no weight "normal": the standard font's
    regular weight is called "medium" (in its metrics file), and that is the weight it uses."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (str(record.msg).startswith("findfont: Failed to find font weight") and len(args) == 3
                    and str(args[1]).startswith("Helvetica") and str(args[2]) == "medium")


logging.getLogger("matplotlib.font_manager").addFilter(_CoreFontWeightFilter())


@dataclass(frozen=True)
class Background:
    """What every print map draws underneath: the extent and the simplified streets.

    Few streets (:attr:`as_lines`) are drawn as lines. Many are drawn once per resolution
    (:meth:`street_layer`) into a transparent image of the map box and reused by the three
    maps, in the PNG and the PDF.
    """

    extent: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax, fitted to the map box
    major: np.ndarray  # (n, 2) coordinates of the main roads, lines separated by a NaN row
    minor: np.ndarray  # the same for all other walkable ways
    _layers: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def as_lines(self) -> bool:
        """True when the streets are few enough to draw as lines (:data:`STREET_LINES_LIMIT`)."""
        return len(self.minor) + len(self.major) <= STREET_LINES_LIMIT

    def street_layer(self, dpi: int) -> np.ndarray | None:
        """The streets as an RGBA image of the map box at ``dpi`` (None without streets); drawn once per dpi."""
        if not (len(self.minor) or len(self.major)):
            return None
        if dpi not in self._layers:
            page_w, page_h = A4_LANDSCAPE_IN
            fig = Figure(figsize=(_MAP_BOX[2] * page_w, _MAP_BOX[3] * page_h), dpi=dpi)
            fig.patch.set_alpha(0.0)
            canvas = FigureCanvasAgg(fig)
            ax = fig.add_axes((0, 0, 1, 1))
            ax.set_axis_off()
            ax.patch.set_alpha(0.0)
            ax.set_xlim(self.extent[0], self.extent[2])
            ax.set_ylim(self.extent[1], self.extent[3])
            # at print resolution without anti-aliasing: every pixel street or not, which the PDF's
            # Flate compression stores in a fraction of the space of grey edges
            self.draw_lines(ax, antialiased=dpi < PDF_STREET_DPI)
            canvas.draw()
            layer = np.asarray(canvas.buffer_rgba()).copy()
            # one colour in every pixel, the streets' shape in alpha alone: the PDF stores the colour
            # part in one bit per pixel (about 30 % smaller and faster to write), and nothing of the
            # transparent pixels' colour can bleed into a street's edge
            layer[..., :3] = np.round(np.asarray(to_rgb(STREET_COLOR)) * 255).astype(np.uint8)
            self._layers[dpi] = layer
        return self._layers[dpi]

    def draw_lines(self, ax: Axes, **style: Any) -> None:
        """The streets as two lines on ``ax``: all other ways thin, the main roads thicker."""
        for coords, width in ((self.minor, 0.25), (self.major, 0.7)):
            if len(coords):
                line, = ax.plot(coords[:, 0], coords[:, 1], color=STREET_COLOR, linewidth=width, solid_capstyle="butt",
                                **style)
                line.set_gid(_STREETS_GID)


def _fit_extent(bounds: np.ndarray, aspect: float, pad: float = 0.03) -> tuple[float, float, float, float]:
    """``bounds`` padded and widened in one direction so width / height equals ``aspect``."""
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    w, h = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    xmin, xmax, ymin, ymax = xmin - pad * w, xmax + pad * w, ymin - pad * h, ymax + pad * h
    w, h = xmax - xmin, ymax - ymin
    if w / h < aspect:
        grow = (h * aspect - w) / 2
        xmin, xmax = xmin - grow, xmax + grow
    else:
        grow = (w / aspect - h) / 2
        ymin, ymax = ymin - grow, ymax + grow
    return xmin, ymin, xmax, ymax


def _lines(geoms: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """Line geometries as one (n, 2) array with a NaN row between lines, simplified by ``tolerance`` metres.

    One path with breaks draws (and writes to PDF) far faster than one path per line: the
    walking network of a city has 80,000 ways.
    """
    if len(geoms) == 0:
        return np.empty((0, 2))
    if tolerance > 0:  # lines only drawn: no need to keep them free of self-crossings (the map's streets do the same)
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=False)
    parts = shapely.get_parts(geoms)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return np.empty((0, 2))
    cuts = np.flatnonzero(np.diff(index)) + 1
    return np.insert(coords, cuts, np.nan, axis=0)


def background(result: RunResult) -> Background:
    """The extent (the buurten, fitted to the A4 map box) and the streets clipped to it and simplified.

    Computed once and shared by the three maps. Streets are simplified to a tolerance of one
    three-thousandth of the map width (4 m for a 12 km city): finer than a printed line.
    """
    page_w, page_h = A4_LANDSCAPE_IN
    aspect = (_MAP_BOX[2] * page_w) / (_MAP_BOX[3] * page_h)
    extent = _fit_extent(result.buurten.total_bounds, aspect)
    streets = result.streets
    if streets is None or streets.empty:
        return Background(extent, np.empty((0, 2)), np.empty((0, 2)))
    geoms = streets.geometry.to_numpy()
    inside = shapely.intersects(geoms, shapely.box(*extent))
    geoms = geoms[inside]
    major = streets["highway"].to_numpy()[inside]
    is_major = np.isin(major.astype(str), list(MAJOR_HIGHWAYS))
    tolerance = (extent[2] - extent[0]) / 3000
    return Background(extent, _lines(geoms[is_major], tolerance), _lines(geoms[~is_major], tolerance))


# ---------------------------------------------------------------------------------------------
# page furniture


def _page(result: RunResult, title: str, subtitle: str) -> tuple[Figure, Axes, Axes]:
    """An A4 landscape figure with title, subtitle, source line and (demo) banner; returns (fig, map, panel)."""
    fig = Figure(figsize=A4_LANDSCAPE_IN, dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    top = 0.975
    if result.synthetic:
        fig.patches.append(Rectangle((0, 0.955), 1, 0.045, transform=fig.transFigure, color="#b30000", zorder=5))
        fig.text(0.5, 0.9775, SYNTHETIC_BANNER, ha="center", va="center", color="white", fontsize=12,
                 fontweight="bold", zorder=6, **_TEXT)
        top = 0.94
    fig.text(0.015, top, title, ha="left", va="top", fontsize=17, fontweight="bold", **_TEXT)
    fig.text(0.015, top - 0.04, subtitle, ha="left", va="top", fontsize=10.5, color="#333333", **_TEXT)
    fig.text(0.015, 0.03, source_line(result), ha="left", va="center", fontsize=8, color="#444444", **_TEXT)
    fig.text(0.985, 0.03, "Kaart: wijkanalyse · RD New (EPSG:28992)", ha="right", va="center", fontsize=8,
             color="#444444", **_TEXT)
    if result.synthetic:
        fig.text(0.5, 0.012, SYNTHETIC_BANNER, ha="center", va="center", fontsize=8, color="#b30000",
                 fontweight="bold", **_TEXT)
    ax = fig.add_axes(_MAP_BOX)
    panel = fig.add_axes(_PANEL_BOX)
    panel.set_axis_off()
    return fig, ax, panel


def _map_axes(ax: Axes, bg: Background) -> None:
    xmin, ymin, xmax, ymax = bg.extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#ffffff")
    for spine in ax.spines.values():
        spine.set_edgecolor("#444444")
        spine.set_linewidth(0.8)


def _draw_streets(ax: Axes, bg: Background, zorder: float = 2, alpha: float = 1.0) -> None:
    """The streets as lines, or as the background's street image at print resolution (embedded as it is)."""
    if bg.as_lines:
        bg.draw_lines(ax, zorder=zorder, alpha=alpha)
        return
    layer = bg.street_layer(PDF_STREET_DPI)
    if layer is None:
        return
    xmin, ymin, xmax, ymax = bg.extent
    image = ax.imshow(layer, extent=(xmin, xmax, ymin, ymax), origin="upper", interpolation="none",
                      alpha=alpha, zorder=zorder)
    image.set_gid(_STREETS_GID)


def _draw_borders(ax: Axes, frame: gpd.GeoDataFrame, *, color: str = BORDER_COLOR, width: float = 0.5,
                  zorder: float = 3, style: str = "solid") -> None:
    if frame.empty:
        return
    coords = _lines(shapely.boundary(frame.geometry.to_numpy()))
    ax.plot(coords[:, 0], coords[:, 1], color=color, linewidth=width, linestyle=style, zorder=zorder)


def _polygon_path(geoms: np.ndarray) -> MplPath | None:
    """All polygons of ``geoms`` as one compound path: exteriors counter-clockwise, holes clockwise."""
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[shapely.get_type_id(parts) == 3]  # Polygon
    if len(parts) == 0:
        return None
    rings = shapely.get_rings(shapely.orient_polygons(parts))
    coords, index = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(index)) + 1]
    codes[starts] = MplPath.MOVETO
    codes[np.r_[starts[1:] - 1, len(coords) - 1]] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def _fill(ax: Axes, geoms: Any, colors: str | list[str], zorder: float = 1, alpha: float = 1.0) -> None:
    """Fill polygons (holes left open); one compound path per colour."""
    geom_arr = np.asarray(geoms, dtype=object)
    color_arr = np.asarray([colors] * len(geom_arr) if isinstance(colors, str) else colors, dtype=object)
    for color in dict.fromkeys(color_arr.tolist()):
        path = _polygon_path(geom_arr[color_arr == color])
        if path is not None:
            # add_artist, not add_patch: the extent is fixed, and add_patch walks every vertex to update it
            ax.add_artist(PathPatch(path, facecolor=color, edgecolor="none", alpha=alpha, zorder=zorder))


def _north_arrow(fig: Figure) -> None:
    """A north arrow in the bottom right margin, beside the map (RD grid north is true north within 2 degrees)."""
    page_w, page_h = A4_LANDSCAPE_IN
    cx, base = 0.955, 0.105  # figure fractions: centre and foot of the arrow
    w, h = 0.13 / page_w, 0.55 / page_h  # half width and height: 0.13 and 0.55 inch
    notch = base + 0.25 * h
    fig.patches.append(Polygon([(cx - w, base), (cx, base + h), (cx, notch)], closed=True, transform=fig.transFigure,
                               facecolor="white", edgecolor="black", linewidth=1))
    fig.patches.append(Polygon([(cx + w, base), (cx, base + h), (cx, notch)], closed=True, transform=fig.transFigure,
                               facecolor="black", edgecolor="black", linewidth=1))
    fig.text(cx, base + h + 0.008, "N", ha="center", va="bottom", fontsize=13, fontweight="bold", **_TEXT)


def _scale_bar(ax: Axes) -> None:
    """A scale bar in the margin below the legend (it measures the map's metres, EPSG:28992)."""
    bar = ScaleBar(
        1.0, "m", location="lower left", length_fraction=0.3, frameon=False, border_pad=0, pad=0,
        bbox_to_anchor=(_PANEL_BOX[0], 0.095), bbox_transform=ax.get_figure().transFigure,  # type: ignore[union-attr]
        scale_formatter=lambda value, unit: f"{format_number(value, 0)} {unit}",
    )
    ax.add_artist(bar)
    bar.set_clip_on(False)


def _finish(ax: Axes) -> None:
    _north_arrow(ax.get_figure())  # type: ignore[arg-type]
    _scale_bar(ax)


def _wrap(text: str, width: int = 52) -> str:
    return "\n".join(textwrap.fill(part, width) for part in text.split("\n"))


def _panel_notes(panel: Axes, legend_bottom: float, lines: list[str], fontsize: float = 8.5) -> None:
    """Notes below the legend in the right-hand panel (plain text, wrapped)."""
    if lines:
        panel.text(0.0, legend_bottom - 0.03, "\n".join(lines), transform=panel.transAxes, ha="left", va="top",
                   fontsize=fontsize, linespacing=1.35, **_TEXT)


def _legend(panel: Axes, handles: list[Any], title: str, handler_map: dict[Any, Any] | None = None) -> float:
    """The legend at the top of the panel; returns its bottom in panel fractions.

    Measured on matplotlib's Agg canvas, in DejaVu Sans; the PDF sets it in the narrower and lower
    Helvetica (see :data:`CORE_FONT_ENCODING`), so what follows the legend never runs into it.
    """
    leg = panel.legend(
        handles=handles, title=title, loc="upper left", bbox_to_anchor=(0.0, 1.0), frameon=False, fontsize=9,
        title_fontsize=10.5, alignment="left", handlelength=2.2, handleheight=1.3, labelspacing=0.55,
        handler_map=handler_map,
    )
    for text in [*leg.get_texts(), leg.get_title()]:
        text.set_parse_math(False)
    fig = panel.get_figure()
    renderer = fig.canvas.get_renderer()  # type: ignore[union-attr]
    box = leg.get_window_extent(renderer).transformed(panel.transAxes.inverted())
    return float(box.y0)


#: How much larger than its font size a bold label in a white box is, for :class:`_Labels`'s estimate
#: (bold text is up to 0.7 em a character where the estimate takes 0.6; the box's pad 0.25 em).
_BOXED_BOLD = 1.25


class _Labels:
    """Places map labels without overlap: a label is left off when it would cover one already placed.

    Sizes are estimated from the font size (a character is about 0.6 em wide), in metres on
    the printed map, so nothing needs to be drawn first.
    """

    def __init__(self, bg: Background) -> None:
        self.pt_per_m = _MAP_BOX[2] * A4_LANDSCAPE_IN[0] * 72 / (bg.extent[2] - bg.extent[0])
        self.boxes: list[tuple[float, float, float, float]] = []

    def size_m(self, text: str, fontsize: float) -> tuple[float, float]:
        lines = text.split("\n")
        return (0.6 * fontsize * max(len(line) for line in lines) / self.pt_per_m,
                1.3 * fontsize * len(lines) / self.pt_per_m)

    def fits_inside(self, geom: Any, text: str, fontsize: float) -> bool:
        """True when the label fits within the bounding box of ``geom``."""
        w, h = self.size_m(text, fontsize)
        xmin, ymin, xmax, ymax = geom.bounds
        return w <= 0.95 * (xmax - xmin) and h <= 0.9 * (ymax - ymin)

    def box(self, x: float, y: float, text: str, fontsize: float) -> tuple[float, float, float, float]:
        """The room a label centred at (x, y) takes: xmin, ymin, xmax, ymax in metres."""
        w, h = self.size_m(text, fontsize)
        return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)

    @staticmethod
    def overlaps(box: tuple[float, float, float, float], others: Iterable[tuple[float, float, float, float]]) -> bool:
        """True when ``box`` shares area with one of ``others`` (touching edges do not count)."""
        return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in others)

    def place(self, x: float, y: float, text: str, fontsize: float) -> bool:
        """Reserve room for a label centred at (x, y); False when it would overlap a placed label."""
        box = self.box(x, y, text, fontsize)
        if self.overlaps(box, self.boxes):
            return False
        self.boxes.append(box)
        return True

    def longest(self, points: list[tuple[float, float]], options: list[list[str]], fontsize: float) -> list[str]:
        """Per point, the first of its ``options`` (longest first, the last always drawn) that covers no other label.

        The last options are reserved first, so a longer label never covers another point's
        shortest one; then each point in turn gets the longest that fits beside what is chosen.
        """
        chosen = [opts[-1] for opts in options]
        boxes = [self.box(x, y, text, fontsize) for (x, y), text in zip(points, chosen, strict=True)]
        for k, ((x, y), opts) in enumerate(zip(points, options, strict=True)):
            others = boxes[:k] + boxes[k + 1:]
            for text in opts[:-1]:
                box = self.box(x, y, text, fontsize)
                if not self.overlaps(box, others):
                    chosen[k], boxes[k] = text, box
                    break
        self.boxes += boxes
        return chosen


def _label(ax: Axes, x: float, y: float, text: str, **kwargs: Any) -> None:
    style: dict[str, Any] = {"ha": "center", "va": "center", "fontsize": 7, "zorder": 15, "bbox": _LABEL_BOX, **_TEXT}
    style.update(kwargs)
    ax.text(x, y, text, **style)


# ---------------------------------------------------------------------------------------------
# the three maps


def _signal_classes(values: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    """(class of each value, -1 when missing; colour per class; legend label per class).

    The classes of the web map (:func:`wijkanalyse.outputs.style.signal_classes`: quantiles),
    with the lowest and highest class named for a reader without the map's colours in mind.
    """
    classes = signal_classes(values)
    labels = list(classes.labels)
    if len(labels) > 1:
        labels[0] = f"{labels[0]}   laagste"
        labels[-1] = f"{labels[-1]}   hoogste"
    return classes.index, list(classes.colors), labels


def signal_figure(result: RunResult, bg: Background | None = None) -> Figure:
    """The signal per buurt with the hot spots outlined (``kaart_signaal``)."""
    bg = bg or background(result)
    buurten = result.buurten
    fig, ax, panel = _page(
        result,
        f"{result.gemeente_name} {result.year}: waar stapelen sociale problemen zich op?",
        "Signaal per buurt (samengesteld uit de CBS-cijfers hiernaast) en hotspots: groepen buurten met een hoog signaal.",
    )
    _map_axes(ax, bg)
    values = buurten["signaal"].to_numpy(dtype=float)
    classes, colors, labels = _signal_classes(values)
    fills = [colors[c] if c >= 0 else MISSING_COLOR for c in classes]
    _fill(ax, buurten.geometry, fills, zorder=1)
    _draw_streets(ax, bg, zorder=2, alpha=0.55)
    _draw_borders(ax, buurten, color="#7a7a7a", width=0.45, zorder=3)
    hot = buurten[buurten["hotspot"] == Hotspot.HOT]
    cold = buurten[buurten["hotspot"] == Hotspot.COLD]
    _draw_borders(ax, cold, color=COLDSPOT_EDGE, width=1.8, zorder=4, style="dashed")
    _draw_borders(ax, hot, color=HOTSPOT_EDGE, width=2.4, zorder=5)
    # hot spots are named first (their name may stick out of the buurt), then the buurten the name fits in;
    # a name that would cover another is left off (the panel and the report list them all)
    placer = _Labels(bg)
    order = [*hot.index, *buurten.index.difference(hot.index, sort=False)]
    points = buurten.geometry.representative_point()
    for code in order:
        is_hot = code in hot.index
        size = 6.0 if is_hot else 6.5
        text = _wrap(str(buurten.at[code, "buurtnaam"]), 10 if is_hot else 14)
        point = points[code]
        fits = is_hot or placer.fits_inside(buurten.geometry[code], text, size)
        if fits and placer.place(point.x, point.y, text, size):
            _label(ax, point.x, point.y, text, fontsize=size, fontweight="bold" if is_hot else "normal")
    _finish(ax)

    handles: list[Any] = [Patch(facecolor=c, edgecolor="#7a7a7a", label=lab) for c, lab in zip(colors, labels, strict=True)]
    if (classes < 0).any():
        handles.append(Patch(facecolor=MISSING_COLOR, edgecolor="#7a7a7a", label="onbekend (CBS geeft geen cijfers)"))
    handles.append(Patch(facecolor="none", edgecolor=HOTSPOT_EDGE, linewidth=2.4,
                         label="hotspot: hoog signaal, omringd door\nbuurten met ook een hoog signaal"))
    if len(cold):
        handles.append(Patch(facecolor="none", edgecolor=COLDSPOT_EDGE, linewidth=1.8, linestyle="--",
                             label="coldspot: laag signaal, omringd door laag"))
    bottom = _legend(panel, handles, "Signaal per buurt")
    indicators = "; ".join(result.indicators.values()) or "geen"
    groups = (f"Elke kleur bevat ongeveer even veel buurten ({len(colors)} groepen). " if len(colors) > 1 else "")
    notes = [
        _wrap("Hoe hoger het signaal, hoe meer zorgen; 0 is de gemiddelde buurt. " + groups +
              f"Het signaal is het gewogen gemiddelde van deze CBS-cijfers per buurt, elk vergeleken met de "
              f"andere buurten: {indicators}."),
        "",
        _wrap("Hotspot: statistisch getoetst (Local Moran's I); de kans dat zo'n groep toevallig "
              f"ontstaat is kleiner dan {format_percent(result.summary.get('hotspot_alpha'), 0)}."),
        "",
        f"Hotspotbuurten: {len(hot)} van {len(buurten)}.",
    ]
    if len(hot):
        names = ", ".join(str(n) for n in hot["buurtnaam"].head(12))
        notes.append(_wrap(names + (" ..." if len(hot) > 12 else "")))
    _panel_notes(panel, bottom, notes)
    return fig


def _cells(points: gpd.GeoSeries) -> np.ndarray:
    """The 100 m squares around the cell centres."""
    return shapely.buffer(points.to_numpy(), 50.0, cap_style="square", join_style="mitre")


CELL_M = 100.0  # the CBS grid


def cell_image(points: gpd.GeoSeries, colors: list[tuple[np.ndarray, str, float]]) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
    """The 100 m cells as an RGBA image, one pixel per cell, and its extent; None when the centres are off the grid.

    ``colors``: (mask over ``points``, colour, alpha), later ones on top. One pixel per CBS cell draws
    exactly the squares :func:`_cells` would, at a fraction of the cost, and keeps a province's PDF small
    (a few hundred pixels a side instead of a path per cell).
    """
    if len(points) == 0:
        return None
    x, y = points.x.to_numpy(), points.y.to_numpy()
    x0, y0 = float(np.min(x)) - CELL_M / 2, float(np.min(y)) - CELL_M / 2
    col, row = (x - x0 - CELL_M / 2) / CELL_M, (y - y0 - CELL_M / 2) / CELL_M
    if not (np.allclose(col, np.rint(col), atol=1e-6) and np.allclose(row, np.rint(row), atol=1e-6)):
        return None
    col, row = np.rint(col).astype(np.int64), np.rint(row).astype(np.int64)
    width, height = int(col.max()) + 1, int(row.max()) + 1
    if width * height > 25_000_000:  # a grid this large is not a gemeente: draw the squares
        return None
    image = np.zeros((height, width, 4))
    for mask, color, alpha in colors:
        image[row[mask], col[mask]] = (*to_rgb(color), alpha)
    return image, (x0, x0 + width * CELL_M, y0, y0 + height * CELL_M)


def _fill_cells(ax: Axes, points: gpd.GeoSeries, colors: list[tuple[np.ndarray, str, float]], zorder: float = 1) -> None:
    """The cells coloured by ``colors`` (see :func:`cell_image`); squares as paths where the centres are off the grid."""
    drawn = cell_image(points, colors)
    if drawn is None:
        for mask, color, alpha in colors:
            _fill(ax, _cells(points[mask]), color, zorder=zorder, alpha=alpha)
        return
    image, extent = drawn
    # "none": the PDF embeds the small image as it is (crisp squares, no resampling to the page resolution)
    ax.imshow(image, extent=extent, origin="lower", interpolation="none", zorder=zorder)


def reach_figure(result: RunResult, bg: Background | None = None) -> Figure:
    """Residents within and beyond the threshold, meeting points and ranked proposals (``kaart_bereik``)."""
    bg = bg or background(result)
    s = result.summary
    threshold = format_number(result.threshold_m)
    how = "lopend over straten en paden" if result.distance_method == "network" else "hemelsbreed"
    fig, ax, panel = _page(
        result,
        f"{result.gemeente_name} {result.year}: woont iedereen binnen {threshold} m van een ontmoetingspunt?",
        f"Inwoners binnen en buiten {threshold} m ({how}), de ontmoetingspunten en de voorgestelde nieuwe plekken.",
    )
    _map_axes(ax, bg)
    _fill(ax, result.buurten.geometry, "#f5f5f5", zorder=0)
    residents = result.residents
    within = residents["binnen_drempel"].to_numpy(dtype=bool)
    _fill_cells(ax, residents.geometry, [(within, WITHIN_COLOR, 0.9), (~within, BEYOND_COLOR, 0.85)], zorder=1)
    _draw_streets(ax, bg, zorder=2, alpha=0.8)
    _draw_borders(ax, result.buurten, color=BORDER_COLOR, width=0.5, zorder=3)
    kernen = result.kernen
    if kernen is not None and len(kernen):
        placer = _Labels(bg)
        for name, geom in zip(kernen["kern"], kernen.geometry, strict=True):
            text = _wrap(str(name), 18)
            if geom is None or geom.is_empty or not placer.fits_inside(geom, text, 8.5):
                continue
            point = geom.representative_point()
            if placer.place(point.x, point.y, text, 8.5):
                _label(ax, point.x, point.y, text, fontsize=8.5, fontstyle="italic", color="#333333", zorder=9)
    meeting = result.venues[result.venues["ontmoetingspunt"].astype(bool)]
    ax.scatter(meeting.geometry.x, meeting.geometry.y, s=22, c=MEETING_POINT_COLOR, edgecolors="white",
               linewidths=0.6, zorder=10)
    proposals = result.proposals
    if proposals is not None and len(proposals):
        ax.scatter(proposals["x"], proposals["y"], s=190, c="white", edgecolors="black", linewidths=1.6, zorder=12)
        for rank, x, y in zip(proposals["rang"], proposals["x"], proposals["y"], strict=True):
            ax.text(x, y, str(int(rank)), ha="center", va="center", fontsize=7.5, fontweight="bold", zorder=13, **_TEXT)
    _finish(ax)

    handles: list[Any] = [
        Patch(facecolor=WITHIN_COLOR, edgecolor="none", label=f"inwoners binnen {threshold} m (vierkant 100 m)"),
        Patch(facecolor=BEYOND_COLOR, edgecolor="none", label=f"inwoners verder dan {threshold} m"),
        Line2D([], [], linestyle="none", marker="o", markersize=6, markerfacecolor=MEETING_POINT_COLOR,
               markeredgecolor="white", label="ontmoetingspunt"),
        Line2D([], [], linestyle="none", marker="o", markersize=12, markerfacecolor="white", markeredgecolor="black",
               markeredgewidth=1.6, label="voorgesteld nieuw ontmoetingspunt\n(het nummer is de rangorde)"),
        Line2D([], [], color=STREET_COLOR, linewidth=0.8, label="straat of pad"),
        Patch(facecolor="#f5f5f5", edgecolor=BORDER_COLOR, label="buurtgrens"),
    ]
    bottom = _legend(panel, handles, "Legenda")
    notes = [
        _wrap(f"Binnen {threshold} m: {format_int(s.get('residents_within_threshold'))} van "
              f"{format_int(s.get('residents_total'))} inwoners ({format_percent(s.get('share_within_threshold'))}); "
              f"{format_int(s.get('residents_beyond_threshold'))} wonen verder weg, in "
              f"{gap_count_words(s.get('n_gaps'), s.get('n_gaps_small'), s.get('min_gap_residents'))}."),
    ]
    if proposals is not None and len(proposals):
        notes += ["", "Voorstellen (nieuw binnen bereik; kosten per jaar):"]
        for _, row in proposals.head(10).iterrows():
            if np.isnan(float(row.get("nieuw_binnen_bereik", np.nan))):  # only in the set for fewer sites
                continue
            notes.append(_wrap(
                f"{int(row['rang'])}. {row['naam']}: +{format_int(row['nieuw_binnen_bereik'])} inwoners; "
                f"€\u00a0{format_int(row['kosten_per_jaar'])}", 56,
            ).replace("\n", "\n    "))
        if len(proposals) > 10:
            notes.append(f"... en {len(proposals) - 10} meer (zie het rapport)")
    _panel_notes(panel, bottom, notes, fontsize=8)
    return fig


def _area_colors(areas: gpd.GeoDataFrame) -> list[str]:
    """The same colour per area as on the web map (:func:`wijkanalyse.outputs.style.area_colors`)."""
    return area_colors(areas.geometry.to_numpy())


class _TextHandler(HandlerBase):
    """A legend key that is a short text (the area label sample)."""

    def create_artists(self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans):  # noqa: ANN001, ANN202, PLR0917 (matplotlib's signature)
        from matplotlib.text import Text  # noqa: PLC0415

        return [Text(width / 2 - xdescent, height / 2 - ydescent, "1", ha="center", va="center", fontsize=fontsize,
                     fontweight="bold", transform=trans)]


def broker_figure(result: RunResult, bg: Background | None = None) -> Figure:
    """The broker areas with their workload (``kaart_makelaars``)."""
    bg = bg or background(result)
    s = result.summary
    fig, ax, panel = _page(
        result,
        f"{result.gemeente_name} {result.year}: gebieden voor wijkmakelaars en dorpscoördinatoren",
        "Elk gebied bestaat uit hele buurten die aan elkaar grenzen, met ongeveer dezelfde werklast.",
    )
    _map_axes(ax, bg)
    areas = result.broker_areas if result.broker_areas is not None and len(result.broker_areas) else None
    shortened = 0
    if areas is not None:
        _fill(ax, areas.geometry, _area_colors(areas), zorder=1, alpha=0.5)
    else:
        _fill(ax, result.buurten.geometry, "#f5f5f5", zorder=1)
    _draw_streets(ax, bg, zorder=2, alpha=0.6)
    _draw_borders(ax, result.buurten, color=BORDER_COLOR, width=0.4, zorder=3)
    if areas is not None:
        _draw_borders(ax, areas, color="#000000", width=1.8, zorder=4)
        few = len(areas) <= 20
        size = 8 if few else 5.5
        box = {"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
        # the longest label that covers no other: workload and share, the share, the number alone (the
        # panel and the report list every area's figures)
        points = [(p.x, p.y) for p in areas.geometry.representative_point()]
        options = []
        for number, load, share in zip(areas["gebied_id"], areas["werklast"], areas["werklast_tov_gemiddeld"], strict=True):
            n, pct = str(int(number)), format_percent(share, 0)
            longer = [f"{n}\nwerklast {format_int(load)}\n({pct} van gemiddeld)"] if few else []
            options.append([*longer, f"{n}\n{pct}", n])
        # the white box adds a quarter em on every side: reserve its room, at the bold face's width
        chosen = _Labels(bg).longest(points, options, size * _BOXED_BOLD)
        shortened = sum(text != opts[0] for text, opts in zip(chosen, options, strict=True))
        for (x, y), text in zip(points, chosen, strict=True):
            ax.text(x, y, text, ha="center", va="center", fontsize=size, fontweight="bold", zorder=16, bbox=box,
                    **_TEXT)
    _finish(ax)

    handles: list[Any] = [
        Line2D([], [], color="#000000", linewidth=1.8, label="grens van een gebied"),
        Line2D([], [], color=BORDER_COLOR, linewidth=0.6, label="buurtgrens"),
        Line2D([], [], color=STREET_COLOR, linewidth=0.8, label="straat of pad"),
        "sample",
    ]
    sample = ("nummer van het gebied, werklast en\nverhouding tot het gemiddelde gebied" if areas is not None and len(areas) <= 20
              else "nummer van het gebied en werklast\nals % van het gemiddelde gebied")
    labels = [h.get_label() for h in handles[:-1]] + [sample]
    leg = panel.legend(handles=handles, labels=labels, title="Legenda", loc="upper left", bbox_to_anchor=(0, 1),
                       frameon=False, fontsize=9, title_fontsize=10.5, alignment="left", handlelength=2.2,
                       labelspacing=0.55, handler_map={str: _TextHandler()})
    for legend_text in [*leg.get_texts(), leg.get_title()]:
        legend_text.set_parse_math(False)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    bottom = float(leg.get_window_extent(renderer).transformed(panel.transAxes.inverted()).y0)
    notes = [_wrap(result.explanations.get("brokers") or
                   f"Nodig: {s.get('brokers_needed')} wijkmakelaar(s), € {format_int(s.get('broker_cost_per_year'))} per jaar")]
    if areas is not None:
        notes += [
            _wrap(f"Het zwaarste gebied heeft {format_number(s.get('broker_balance'), 2)} keer de werklast "
                  "van het lichtste."
                  + (f" Grootste afwijking van het gemiddelde: {format_percent(s['broker_max_deviation'], 0)}."
                     if s.get("broker_max_deviation") is not None else "")),
            *([_wrap(f"{shortened} van de {len(areas)} gebieden hebben een korter label: het hele label zou een "
                     "ander bedekken.")] if shortened else []),
            "",
            "Gebied: buurten, inwoners, werklast",
        ]
        for _, row in areas.head(14).iterrows():
            notes.append(f"{int(row['gebied_id'])}: {int(row['n_buurten'])} buurten, {format_int(row['inwoners'])} "
                         f"inwoners, {format_int(row['werklast'])}")
        if len(areas) > 14:
            notes.append(f"... en {len(areas) - 14} gebieden meer (zie het rapport)")
    for warning in s.get("broker_warnings") or []:
        notes += ["", _wrap(f"Let op: {warning}")]
    _panel_notes(panel, bottom, notes, fontsize=8)
    return fig


#: File stem -> figure builder, in the order the report shows them.
PRINT_MAPS: dict[str, Callable[[RunResult, Background | None], Figure]] = {
    "kaart_signaal": signal_figure,
    "kaart_bereik": reach_figure,
    "kaart_makelaars": broker_figure,
}


def write_print_maps(result: RunResult, folder: Path) -> dict[str, Path]:
    """Write each print map as ``<name>.pdf`` (vector) and ``<name>.png`` (:data:`DPI`) into ``folder``.

    Each figure is drawn once, into the PDF; the PNG is the PDF's page rendered by PDFium
    (:func:`_png_from_pdf`). Drawing the figure a second time on matplotlib's Agg canvas cost
    more than the PDF itself (its text above all); PDFium renders a page in well under 0.1 s.

    Returns
    -------
    dict
        ``{"kaart_signaal_png": path, "kaart_signaal_pdf": path, ...}``.
    """
    bg = background(result)
    folder = Path(folder)
    files: dict[str, Path] = {}
    for name, build in PRINT_MAPS.items():
        if name == "kaart_makelaars" and result.broker_areas is None:
            continue
        fig = build(result, bg)
        title = f"{result.gemeente_name} {result.year}: {name}"
        pdf = _pdf_bytes(fig, title)
        files[f"{name}_png"] = _atomic.write_bytes(folder / f"{name}.png",
                                                   _png_from_pdf(pdf, fig.get_size_inches(), title))
        files[f"{name}_pdf"] = _atomic.write_bytes(folder / f"{name}.pdf", pdf)
    return files


def _pdf_bytes(fig: Figure, title: str) -> bytes:
    """``fig`` as a one-page PDF at :data:`DPI` (for its images), its text in the PDF standard fonts
    when :func:`core_fonts_suffice`, else in DejaVu Sans, embedded (see :data:`CORE_FONT_ENCODING`)."""
    buffer = io.BytesIO()
    with _PDF_SAVE_LOCK, rc_context({"pdf.use14corefonts": core_fonts_suffice(fig)}):
        fig.savefig(buffer, format="pdf", dpi=DPI, metadata={"Title": title, "Creator": "wijkanalyse"})
    return buffer.getvalue()


def core_fonts_suffice(fig: Figure) -> bool:
    """True when every text of ``fig`` can be set in the PDF standard fonts (:data:`CORE_FONT_ENCODING`)."""
    try:
        for text in _texts(fig):
            text.get_text().encode(CORE_FONT_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _texts(artist: Artist) -> Iterator[Text]:
    """The texts under ``artist``, without asking an axis for its ticks (which makes them: the maps have
    none; an axis's label is still looked at)."""
    for child in artist.get_children():
        if isinstance(child, Text):
            yield child
        if isinstance(child, Axis):
            yield child.label
        else:
            yield from _texts(child)


def _png_from_pdf(pdf: bytes, size_in: Iterable[float], title: str) -> bytes:
    """The one page of ``pdf`` as PNG bytes at :data:`DPI`, on white, with ``title`` in its metadata.

    The size is matplotlib's for the same figure (it truncates: A4 landscape is 1753 x 1240 pixels);
    PDFium rounds the page up, so its last column and row, partly outside the page, are cut off.
    """
    width, height = (int(side * DPI) for side in size_in)
    with _PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(pdf)
        try:
            image = document[0].render(scale=DPI / 72, fill_color=(255, 255, 255, 255)).to_pil()
        finally:
            document.close()
    info = PngInfo()
    info.add_text("Title", title)
    info.add_text("Software", "wijkanalyse")
    out = io.BytesIO()
    image.crop((0, 0, width, height)).save(out, format="PNG", dpi=(DPI, DPI), pnginfo=info,
                                           compress_level=_PNG_COMPRESS_LEVEL)
    return out.getvalue()
