"""Print maps: A4 landscape PNG (150 dpi) and one-page PDF, with the furniture a printed map needs."""

from __future__ import annotations

import copy
import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pypdfium2
import pytest
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib_scalebar.scalebar import ScaleBar
from PIL import Image
from shapely.geometry import LineString, box

from wijkanalyse import pipeline
from wijkanalyse.config import load_config
from wijkanalyse.outputs import printmaps, style
from wijkanalyse.outputs._sources import SYNTHETIC_BANNER
from wijkanalyse.result import Hotspot, RunResult
from wijkanalyse.sources.files import SnapshotReader


@pytest.fixture(scope="module")
def result(demo_snapshot: Path) -> RunResult:
    return pipeline.analyse(SnapshotReader(demo_snapshot), load_config())


@pytest.fixture(scope="module")
def written(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return printmaps.write_print_maps(result, tmp_path_factory.mktemp("kaarten"))


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def test_three_maps_in_two_formats(written: dict[str, Path]) -> None:
    assert sorted(written) == sorted(f"{name}_{fmt}" for name in printmaps.PRINT_MAPS for fmt in ("png", "pdf"))
    assert all(path.name == f"{key.rsplit('_', 1)[0]}.{key.rsplit('_', 1)[1]}" for key, path in written.items())


def test_png_is_a4_landscape_at_150_dpi(written: dict[str, Path]) -> None:
    for name in printmaps.PRINT_MAPS:
        with Image.open(written[f"{name}_png"]) as image:
            # 297 mm / 25.4 x 150 = 1753.9 and 210 mm / 25.4 x 150 = 1240.2 pixels (matplotlib truncates)
            assert image.size == (1753, 1240)
            assert image.info["dpi"] == pytest.approx((150, 150), abs=0.1)


@pytest.mark.parametrize("streets_as_lines", [True, False])
def test_png_is_the_pdf_page_as_matplotlib_itself_would_draw_it(
    result: RunResult, monkeypatch: pytest.MonkeyPatch, streets_as_lines: bool,
) -> None:
    """The PNG is the PDF's page rendered by PDFium. Checked against an independent renderer, matplotlib's own
    Agg canvas drawing the same figure at 150 dpi: with the texts hidden (Agg places glyphs on hinted advances,
    the PDF on exact ones, so words drift by a pixel or two) the two images differ by more than a quarter of the
    colour range in under 1 % of the pixels, all of them on the edges of lines, where Agg snaps to the pixel grid
    (0.4-0.6 % measured on the demo). A page at the wrong scale, shifted by a few pixels, without its street
    image or in other colours differs in far more."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not streets_as_lines:
        monkeypatch.setattr(printmaps, "STREET_LINES_LIMIT", 0)
    bg = printmaps.background(result)
    assert bg.as_lines is streets_as_lines
    for name, build in printmaps.PRINT_MAPS.items():
        fig = build(result, bg)
        for text in fig.findobj(Text):
            text.set_visible(False)
        pdf = io.BytesIO()
        fig.savefig(pdf, format="pdf", dpi=printmaps.DPI)
        png = printmaps._png_from_pdf(pdf.getvalue(), fig.get_size_inches(), "titel")
        canvas = FigureCanvasAgg(fig)
        fig.set_dpi(printmaps.DPI)
        canvas.draw()
        agg = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (1753, 1240) and image.info["Title"] == "titel"
            ours = np.asarray(image.convert("RGB")).astype(int)
        apart = np.abs(agg - ours).max(axis=2) > 64
        assert apart.mean() < 0.01, f"{name}: {apart.mean():.2%} of the pixels differ"
        shifted = np.abs(agg[:, 4:] - ours[:, :-4]).max(axis=2) > 64
        assert shifted.mean() > 2 * apart.mean()  # the measure sees a shift of four pixels


def test_written_png_is_the_written_pdf_page(written: dict[str, Path]) -> None:
    for name in printmaps.PRINT_MAPS:
        with Image.open(written[f"{name}_png"]) as image:
            assert image.info["Title"] == f"Voorbeeldgemeente 2024: {name}"
            assert image.info["Software"] == "wijkanalyse"
            page = image.tobytes()
        pdf = written[f"{name}_pdf"].read_bytes()
        with Image.open(io.BytesIO(printmaps._png_from_pdf(pdf, printmaps.A4_LANDSCAPE_IN, "titel"))) as again:
            assert again.tobytes() == page


def test_png_is_pdfium_whole_page_cut_to_the_figure_size(written: dict[str, Path]) -> None:
    """The written PNG's pixels are those of PDFium's whole page (pypdfium2's render without a crop, 1754 x 1241 for
    A4 landscape at 150 dpi, by hand) cut to matplotlib's size: only the surplus column and row are gone."""
    for name in printmaps.PRINT_MAPS:
        document = pypdfium2.PdfDocument(written[f"{name}_pdf"].read_bytes())
        try:
            whole = document[0].render(scale=printmaps.DPI / 72, fill_color=(255, 255, 255, 255)).to_pil()
        finally:
            document.close()
        assert whole.size == (1754, 1241)  # ceil(841.89 / 72 * 150), ceil(595.28 / 72 * 150)
        with Image.open(written[f"{name}_png"]) as image:
            assert image.size == (1753, 1240)
            assert image.convert("RGB").tobytes() == whole.crop((0, 0, 1753, 1240)).tobytes()


@pytest.mark.parametrize(("size_in", "pixels"), [((11.69, 8.27), (1753, 1240)), ((3.0, 2.0), (450, 300)),
                                                  ((2.337, 1.5), (350, 225))])
def test_page_rendered_at_the_figure_size(size_in: tuple[float, float], pixels: tuple[int, int]) -> None:
    """A page PDFium rounds up by a pixel (A4: 1754 x 1241; 2.337 in: 350.55 -> 351) or not at all (3 x 2 in: exactly
    450 x 300) comes out at matplotlib's truncated size, int(inches x 150), by hand in the parameters."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in)
    fig.add_artist(Rectangle((0, 0), 1, 1, color="#d04040", transform=fig.transFigure))
    pdf = io.BytesIO()
    fig.savefig(pdf, format="pdf", dpi=printmaps.DPI)
    with Image.open(io.BytesIO(printmaps._png_from_pdf(pdf.getvalue(), fig.get_size_inches(), "t"))) as image:
        assert image.size == pixels
        red = np.asarray(image.convert("RGB"))[1:-1, 1:-1]
        assert (np.abs(red.astype(int) - (0xD0, 0x40, 0x40)).max(axis=2) <= 2).all()  # the page, not white margins


def test_pdf_is_one_a4_landscape_page(written: dict[str, Path]) -> None:
    for name in printmaps.PRINT_MAPS:
        data = written[f"{name}_pdf"].read_bytes()
        assert data.startswith(b"%PDF-")
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 1
        [media] = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        # A4 landscape in points: 297 / 25.4 x 72 = 841.9 wide, 210 / 25.4 x 72 = 595.3 high
        assert (float(media[0]), float(media[1])) == pytest.approx((841.89, 595.28), abs=0.01)


@pytest.mark.parametrize("name", list(printmaps.PRINT_MAPS))
def test_furniture_title_legend_scale_north_source_banner(result: RunResult, name: str) -> None:
    fig = printmaps.PRINT_MAPS[name](result, None)
    shown = texts(fig)
    assert any(t.startswith("Voorbeeldgemeente 2024: ") for t in shown)  # the title
    assert "Bron: CBS (tabel 85984NED), PDOK; © OpenStreetMap-bijdragers. Gegevens opgehaald op 1 januari 2024." in shown
    assert "N" in shown  # the north arrow
    assert shown.count(SYNTHETIC_BANNER) == 2  # top band and foot of the demo map
    map_ax, panel = fig.axes
    assert any(isinstance(a, ScaleBar) for a in map_ax.artists)
    assert panel.get_legend() is not None and panel.get_legend().get_texts()
    assert map_ax.get_aspect() == 1.0  # metres on both axes: the scale bar is true


def test_signal_map_classes_and_hot_spots(result: RunResult) -> None:
    fig = printmaps.signal_figure(result)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    classes = [t for t in legend if " tot " in t]
    assert len(classes) == 5
    assert classes[0].endswith("laagste") and classes[-1].endswith("hoogste")
    assert any(t.startswith("hotspot: hoog signaal, omringd door") for t in legend)
    notes = re.sub(r"\s+", " ", " ".join(texts(fig)))
    assert "Hotspotbuurten: 3 van 21." in notes  # regression value, copied from a run of the demo: 3 hot spots
    assert "kleiner dan 5 %" in notes


def test_reach_map_numbers_the_proposals(result: RunResult) -> None:
    fig = printmaps.reach_figure(result)
    on_map = [t.get_text() for t in fig.axes[0].texts]
    for rank in result.proposals["rang"]:
        assert str(rank) in on_map
    notes = re.sub(r"\s+", " ", " ".join(texts(fig)))  # the panel text is wrapped
    # regression values, copied from a run of the demo (as in test_report.py): 12,810 of 18,145 within 400 m,
    # 12,810 / 18,145 = 70.6 %; the first proposal brings 1,025 more within reach for the 25,000 of a meeting point
    assert "Binnen 400 m: 12.810 van 18.145 inwoners (70,6 %)" in notes
    assert "1. Nieuwe plek in Zuidoost-Flats (gat 1): +1.025 inwoners; € 25.000" in notes


def test_broker_map_labels_each_area(result: RunResult) -> None:
    fig = printmaps.broker_figure(result)
    labels = [t.get_text() for t in fig.axes[0].texts]
    for _, area in result.broker_areas.iterrows():
        assert any(label.startswith(f"{area['gebied_id']}\nwerklast ") for label in labels)
    # regression values, copied from a run of the demo: area 1 has workload 7,432, the mean is 7,658
    # (22,973 / 3); the share follows from them: 7,432 / 7,658 = 0.970
    assert "1\nwerklast 7.432\n(97 % van gemiddeld)" in labels


def test_broker_labels_never_cover_each_other(result: RunResult) -> None:
    """Twelve areas a tenth of the map wide and one far from them. A whole label is about a fifth of the map wide
    (21 bold characters at 8 pt, 0.6 em each plus the box: 126 of the map's 560 pt), so beside a neighbour a tenth
    away it would cover that neighbour's number: those twelve get a shorter label, the lone area its whole one,
    no two labels touch, and the panel says how many were shortened."""
    crowded = copy.deepcopy(result)
    xmin, ymin, xmax, _ = printmaps.background(result).extent
    side = (xmax - xmin) / 10
    squares = [box(xmin + (5 + i) * side, ymin + (2 + j) * side, xmin + (6 + i) * side, ymin + (3 + j) * side)
               for j in range(3) for i in range(4)]
    squares.append(box(xmin + 0.2 * side, ymin + 0.2 * side, xmin + 3 * side, ymin + 3 * side))
    crowded.broker_areas = gpd.GeoDataFrame({
        "gebied_id": range(1, 14), "n_buurten": 2, "inwoners": 1000, "werklast": 1000.0, "werklast_tov_gemiddeld": 1.0,
    }, geometry=squares, crs="EPSG:28992")
    fig = printmaps.broker_figure(crowded)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = {int(t.get_text().split("\n")[0]): t for t in fig.axes[0].texts if t.get_bbox_patch() is not None}
    assert sorted(labels) == list(range(1, 14))
    assert labels[13].get_text() == "13\nwerklast 1.000\n(100 % van gemiddeld)"
    assert all("werklast" not in labels[k].get_text() for k in range(1, 13))
    boxes = {k: t.get_bbox_patch().get_window_extent(renderer) for k, t in labels.items()}  # as drawn
    assert not [(a, b) for a in boxes for b in boxes if a < b and boxes[a].overlaps(boxes[b])]
    assert "12 van de 13 gebieden hebben een korter label: het hele label zou een ander bedekken." in " ".join(
        texts(fig)).replace("\n", " ")


def test_area_colours_differ_between_neighbours() -> None:
    """A 3 x 3 grid of squares: squares that share an edge or a corner never get the same colour."""
    cells = [box(i, j, i + 1, j + 1) for i in range(3) for j in range(3)]
    areas = gpd.GeoDataFrame({"gebied_id": range(1, 10)}, geometry=cells, crs="EPSG:28992")
    colours = printmaps._area_colors(areas)
    for a in range(9):
        for b in range(a + 1, 9):
            if cells[a].intersects(cells[b]):
                assert colours[a] != colours[b], (a, b)
    assert set(colours) <= set(style.AREA_COLORS)


def test_signal_classes_are_quantiles() -> None:
    classes, colours, labels = printmaps._signal_classes(np.array([*range(10), np.nan], dtype=float))
    assert classes.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, -1]  # two buurten per fifth; unknown is -1
    assert colours == list(style.SIGNAL_COLORS)
    assert labels[0] == "0,00 tot 1,80   laagste"
    one, colour, label = printmaps._signal_classes(np.array([0.5, 0.5, np.nan]))
    assert one.tolist() == [0, 0, -1] and len(colour) == 1 and label == ["0,50 (alle buurten gelijk)"]


def test_background_streets_simplified_and_extent_fitted(result: RunResult) -> None:
    coords = printmaps._lines(np.array([LineString([(x, 0.0) for x in range(101)]), LineString([(0, 5), (0, 9)])]), 1.0)
    # a straight street of 101 vertices keeps its 2 ends; a NaN row separates the two lines
    assert coords.shape == (5, 2)
    assert np.isnan(coords[2]).all()
    xmin, ymin, xmax, ymax = printmaps._fit_extent(np.array([0.0, 0.0, 100.0, 100.0]), 2.0, pad=0.0)
    assert (xmax - xmin) / (ymax - ymin) == pytest.approx(2.0)
    assert (xmin, ymin, xmax, ymax) == (-50.0, 0.0, 150.0, 100.0)
    bg = printmaps.background(result)
    assert len(bg.minor) + len(bg.major) > 0


def _street_images(pdf: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image XObject in a PDF written by matplotlib (its dictionaries are not compressed)."""
    images = re.findall(rb"/Subtype\s*/Image\b.*?>>", pdf, flags=re.DOTALL)
    sizes = [(re.search(rb"/Width (\d+)", d), re.search(rb"/Height (\d+)", d)) for d in images]
    return [(int(w.group(1)), int(h.group(1))) for w, h in sizes if w and h]


def test_few_streets_drawn_as_lines_many_as_one_print_resolution_image(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's streets (under 2,000 vertices after simplification) are lines in the PNG and the PDF; over
    :data:`STREET_LINES_LIMIT` they are one image per resolution, the same for the three maps."""
    from matplotlib.lines import Line2D

    bg = printmaps.background(result)
    n = len(bg.minor) + len(bg.major)
    assert 0 < n <= printmaps.STREET_LINES_LIMIT and bg.as_lines
    fig = printmaps.reach_figure(result, bg)
    [ax] = [a for a in fig.axes if a.get_images()]  # the map (its cells are an image)
    lines = [a for a in ax.get_children() if isinstance(a, Line2D) and a.get_gid() == "straten"]
    assert sum(len(line.get_xdata()) for line in lines) == n
    assert not [im for im in ax.get_images() if im.get_gid() == "straten"]
    files = printmaps.write_print_maps(result, tmp_path / "lijnen")
    # the only image in the PDF is the reach map's cells: one pixel per 100 m cell, far below print resolution
    assert all(w < 200 for w, _ in _street_images(files["kaart_bereik_pdf"].read_bytes()))

    monkeypatch.setattr(printmaps, "STREET_LINES_LIMIT", 0)
    bg = printmaps.background(result)
    assert not bg.as_lines
    figs = [printmaps.signal_figure(result, bg), printmaps.reach_figure(result, bg)]
    layers = [im.get_array() for f in figs for a in f.axes for im in a.get_images() if im.get_gid() == "straten"]
    assert len(layers) == 2 and np.array_equal(layers[0], layers[1])
    assert list(bg._layers) == [300]  # drawn once for both maps, at print resolution
    # the map box at 300 dpi: 0.665 x 297 mm / 25.4 x 300 = 2332.7 by 0.815 x 210 mm / 25.4 x 300 = 2021.4
    # pixels (matplotlib truncates)
    assert layers[0].shape == (2021, 2332, 4)
    files = printmaps.write_print_maps(result, tmp_path / "beeld")
    for name in ("kaart_signaal", "kaart_bereik", "kaart_makelaars"):
        assert (2332, 2021) in _street_images(files[f"{name}_pdf"].read_bytes())  # embedded as it is


def _page_text(pdf: bytes) -> str:
    """The text PDFium reads on the page: what a reader searches, selects and copies."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return str(document[0].get_textpage().get_text_range())
    finally:
        document.close()


def _fonts(pdf: bytes) -> tuple[set[bytes], bool]:
    """The base names of the PDF's fonts, and whether any font program is embedded (Type 3 glyphs or a font file)."""
    return (set(re.findall(rb"/BaseFont\s*/([\w+-]+)", pdf)),
            re.search(rb"/FontFile\d?\b|/CharProcs\b", pdf) is not None)


def test_pdf_text_in_the_standard_fonts_and_searchable(written: dict[str, Path], result: RunResult) -> None:
    """Every name on the demo is in Windows-1252, so the PDFs use Helvetica, which every PDF reader and printer
    has built in: nothing embedded. The text is real text: a reader finds a hot spot's name on the map (it did
    not while the labels were drawn as outlines for their halo)."""
    for name in printmaps.PRINT_MAPS:
        pdf = written[f"{name}_pdf"].read_bytes()
        names, embedded = _fonts(pdf)
        assert not embedded and {b"Helvetica", b"Helvetica-Bold"} <= names <= {
            b"Helvetica", b"Helvetica-Bold", b"Helvetica-Oblique"}
        page = _page_text(pdf)
        assert "Voorbeeldgemeente 2024" in page and "SYNTHETISCHE DEMO-GEMEENTE" in page
    # a label wraps after its hyphen, which PDFium reads as a soft hyphen (U+FFFE) ending the line
    signal = re.sub("\ufffe\\s*", "-", _page_text(written["kaart_signaal_pdf"].read_bytes()))
    hot = result.buurten.loc[result.buurten["hotspot"] == Hotspot.HOT, "buurtnaam"]
    assert sorted(hot) == ["Zuidoost-Flats", "Zuidoost-Hoven", "Zuidoost-Plein"]
    # each twice: its label on the map and the panel's list of hot spots
    assert all(signal.count(str(n)) == 2 for n in hot), signal


def test_text_beyond_the_standard_fonts_is_embedded(result: RunResult, tmp_path: Path) -> None:
    """A name with a letter Windows-1252 lacks (Turkish s-cedilla, Hungarian double acute) is not replaced by a
    question mark: that page is set in DejaVu Sans, embedded, and the name reads back as it is."""
    other = copy.deepcopy(result)
    other.gemeente_name = "Şehirköy-Győr"
    assert not printmaps.core_fonts_suffice(printmaps.reach_figure(other))
    for build in printmaps.PRINT_MAPS.values():
        fig = build(result, None)
        assert printmaps.core_fonts_suffice(fig)
        # it reads every text matplotlib's own search finds (that search makes an axis's ticks, which cost time)
        assert sorted(texts(fig)) == sorted(t.get_text() for t in printmaps._texts(fig) if t.get_text())
    pdf = printmaps.write_print_maps(other, tmp_path)["kaart_bereik_pdf"].read_bytes()
    names, embedded = _fonts(pdf)
    assert embedded and names and all(b"DejaVuSans" in n for n in names)
    assert "Şehirköy-Győr 2024" in _page_text(pdf)


def test_standard_fonts_leave_matplotlib_settings_and_log_alone(
    result: RunResult, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """Helvetica's regular weight is "medium" in its metrics file, and matplotlib warns about that for every font
    size; the warning says nothing to a user, so it is dropped (only that one). The switch to the standard fonts
    is a global matplotlib setting: it is restored after each save, so a notebook keeps its own."""
    import matplotlib
    from matplotlib import font_manager

    font_manager.FontManager._findfont_cached.cache_clear()
    before = matplotlib.rcParams["pdf.use14corefonts"]
    with caplog.at_level("WARNING", logger="matplotlib"):
        printmaps.write_print_maps(result, tmp_path)
    assert matplotlib.rcParams["pdf.use14corefonts"] is before
    assert [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")] == []
    with caplog.at_level("WARNING", logger="matplotlib"):  # other font warnings still get through
        font_manager._log.warning("findfont: Failed to find font weight %s for %s, now using %s.",
                                  "light", "DejaVu Sans", "normal")
        font_manager._log.warning("findfont: Failed to find font weight %s for %s, now using %s.",
                                  "normal", "Liberation Sans", "medium")
        font_manager._log.warning("findfont: Font family %r not found.", "Helvetica")
    assert [r.getMessage() for r in caplog.records] == [
        "findfont: Failed to find font weight light for DejaVu Sans, now using normal.",
        "findfont: Failed to find font weight normal for Liberation Sans, now using medium.",
        "findfont: Font family 'Helvetica' not found."]


def test_label_placer_refuses_overlaps(result: RunResult) -> None:
    placer = printmaps._Labels(printmaps.background(result))
    assert placer.place(1000.0, 1000.0, "Zuidoost-Hoven", 7)
    assert not placer.place(1010.0, 1000.0, "Zuidoost-Plein", 7)  # 10 m away: on top of the first
    assert placer.place(1000.0, 5000.0, "Noorderhoek", 7)


def test_names_with_dollar_signs_print_as_text(result: RunResult, tmp_path: Path) -> None:
    """Names from OSM and CBS are not mathtext: an unbalanced TeX command must neither crash nor vanish."""
    nasty = r"$\frac{Café$ <De Ster> & 'Zaal'"
    hostile = copy.deepcopy(result)
    hostile.buurten.loc["BU99990403", "buurtnaam"] = nasty
    hostile.proposals.loc[0, "naam"] = nasty
    hostile.gemeente_name = nasty
    files = printmaps.write_print_maps(hostile, tmp_path)
    assert all(path.stat().st_size > 0 for path in files.values())
    fig = printmaps.reach_figure(hostile)
    assert any(t.startswith(f"{nasty} 2024: ") for t in texts(fig))
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def test_result_without_streets_areas_or_proposals(result: RunResult, tmp_path: Path) -> None:
    bare = copy.deepcopy(result)
    bare.streets = None
    bare.broker_areas = None
    bare.proposals = None
    bare.kernen = None
    files = printmaps.write_print_maps(bare, tmp_path)
    assert sorted(files) == ["kaart_bereik_pdf", "kaart_bereik_png", "kaart_signaal_pdf", "kaart_signaal_png"]


def test_cells_drawn_as_one_pixel_each() -> None:
    """Three cells of the 100 m grid: the image has a pixel per cell, the right colour where a cell is, clear
    between them; centres off the grid give no image (the squares are drawn as paths then)."""
    from matplotlib.colors import to_rgb

    points = gpd.GeoSeries.from_xy([150.0, 350.0, 150.0], [50.0, 50.0, 250.0], crs=28992)
    within = np.array([True, False, True])
    image, extent = printmaps.cell_image(points, [(within, "#1b9e77", 0.9), (~within, "#d95f02", 0.85)])
    assert extent == (100.0, 400.0, 0.0, 300.0) and image.shape == (3, 3, 4)  # 3 x 3 cells of 100 m
    assert tuple(image[0, 0]) == (*to_rgb("#1b9e77"), 0.9)  # (150, 50): column 0, row 0
    assert tuple(image[0, 2]) == (*to_rgb("#d95f02"), 0.85)  # (350, 50)
    assert tuple(image[2, 0]) == (*to_rgb("#1b9e77"), 0.9)  # (150, 250)
    assert image[1, 1, 3] == 0 and image[0, 1, 3] == 0  # no cell there: transparent
    assert printmaps.cell_image(gpd.GeoSeries.from_xy([150.0, 377.0], [50.0, 50.0]), [(np.array([True, True]), "red", 1.0)]) is None
