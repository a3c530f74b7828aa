"""rapport.html as it is printed (Chromium's own print to PDF, read back with poppler) and on a phone (390 px).

Needs Debian's ``chromium`` (and ``chromium-driver`` for the phone) and ``poppler-utils`` (pdftotext,
pdfimages, pdfinfo, pdftoppm); ``.ci/run`` installs them. Without them the tests skip and say why.
The printed pages are kept as PNGs in ``tests/artefacts/report/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.test_browser import _find, browser  # noqa: F401 (browser: the shared Chromium fixture)
from wijkanalyse import pipeline
from wijkanalyse.config import load_config
from wijkanalyse.outputs._sources import SYNTHETIC_BANNER

ARTEFACTS = Path(__file__).resolve().parent / "artefacts" / "report"
POPPLER = ("pdftotext", "pdfimages", "pdfinfo", "pdftoppm")
#: A printed text page needs at least this many words besides the banner and the footer: about six lines.
MIN_WORDS = 60
#: The footer of every page ("Wijkanalyse sociale basis", "pagina 3 van 16").
FOOTER = re.compile(r"Wijkanalyse sociale basis|pagina \d+ van \d+")
MM_PER_PT = 25.4 / 72


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def demo_report(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rapport.html of the demo run (with its three print maps embedded)."""
    outputs = pipeline.run(demo_snapshot, load_config(), tmp_path_factory.mktemp("out"))
    return outputs.files["rapport"]


@pytest.fixture(scope="module")
def printed(demo_report: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report printed to A4 by headless Chromium, the way a browser's 'print to PDF' does."""
    chromium = _find("WIJKANALYSE_CHROMIUM", "chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome")
    if not chromium:
        pytest.skip("no Chromium here (Debian: apt-get install chromium; or set WIJKANALYSE_CHROMIUM)")
    missing = [tool for tool in POPPLER if not shutil.which(tool)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian: apt-get install poppler-utils)")
    folder = tmp_path_factory.mktemp("pdf")
    pdf = folder / "rapport.pdf"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         f"--user-data-dir={folder / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
         demo_report.as_uri()],
        capture_output=True, check=True,
    )
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTEFACTS.glob("pagina-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTEFACTS / "pagina")], check=True)
    return pdf


def _pages(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", str(pdf)), re.MULTILINE).group(1))


def _text(pdf: Path, page: int) -> str:
    return _run("pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-")


def _images(pdf: Path) -> dict[int, list[dict[str, float]]]:
    """Embedded images per page: their pixel width and the resolution they are printed at."""
    out: dict[int, list[dict[str, float]]] = {}
    for line in _run("pdfimages", "-list", str(pdf)).splitlines()[2:]:
        cols = line.split()
        out.setdefault(int(cols[0]), []).append({"width_px": float(cols[3]), "x_ppi": float(cols[12])})
    return out


def _page_size_mm(pdf: Path, page: int) -> tuple[float, float]:
    info = _run("pdfinfo", "-f", str(page), "-l", str(page), str(pdf))
    w, h = re.search(rf"^Page\s+{page} size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE).groups()
    return float(w) * MM_PER_PT, float(h) * MM_PER_PT


def _words(pdf: Path) -> dict[int, list[tuple[float, float, float, float, str]]]:
    """Every word's box (xMin, yMin, xMax, yMax in pt) per page, from pdftotext -bbox."""
    pages: dict[int, list[tuple[float, float, float, float, str]]] = {}
    number = 0
    for line in _run("pdftotext", "-bbox", str(pdf), "-").splitlines():
        if "<page " in line:
            number += 1
            pages[number] = []
        elif m := re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line):
            pages[number].append((*(float(v) for v in m.groups()[:4]), unescape(m.group(5))))
    return pages


def test_page_count_and_no_near_empty_page(printed: Path) -> None:
    pages = _pages(printed)
    images = _images(printed)
    # 20 pages before this layout (Chromium 156, the demo): each chapter began on a new page, so page 2
    # held only the hot-spot box; chapters now follow each other and the 3 maps each fill one page
    # (16 pages then; the sections on walking time, opening hours, target groups, vulnerable meeting
    # points and scenarios came after: 21).
    assert pages <= 21
    assert sorted(images) != [] and len(images) == 3  # the three print maps, one per page
    for page in range(1, pages + 1):
        if page in images:
            continue
        text = _text(printed, page).replace(SYNTHETIC_BANNER, " ")
        words = FOOTER.sub(" ", text).split()
        # the last page ends the last chapter and may be short; it still holds a paragraph of its own
        least = MIN_WORDS if page < pages else MIN_WORDS // 2
        assert len(words) >= least, f"page {page} holds only {len(words)} words: {' '.join(words)[:200]}"


def test_one_banner_per_page(printed: Path) -> None:
    """Text pages: the banner once, in the page's top margin. Map pages: no page banner, the map carries its own."""
    images = _images(printed)
    for page in range(1, _pages(printed) + 1):
        count = _text(printed, page).count(SYNTHETIC_BANNER)
        assert count == (0 if page in images else 1), f"page {page}: the banner {count} times in the text"
    # what the eye sees: one solid red band (#b30000) across each page, be it the page's or the map's
    pytest.importorskip("PIL", reason="Pillow is not installed")
    from PIL import Image

    for png in sorted(ARTEFACTS.glob("pagina-*.png")):
        with Image.open(png) as im:
            rgb = im.convert("RGB")
            width, height = rgb.size
            red_rows = []
            for y in range(height):
                row = [rgb.getpixel((x, y)) for x in range(0, width, 4)]
                red = sum(1 for r, g, b in row if r > 150 and g < 40 and b < 40)
                red_rows.append(red > 0.3 * len(row))  # the band is ~85 % of the width, its text ~40 %
        bands = sum(1 for y in range(height) if red_rows[y] and (y == 0 or not red_rows[y - 1]))
        assert bands == 1, f"{png.name}: {bands} red banner bands"


def test_maps_fill_their_landscape_page(printed: Path) -> None:
    for page, found in _images(printed).items():
        width_mm, height_mm = _page_size_mm(printed, page)
        assert width_mm > height_mm, f"page {page} is not landscape"
        [image] = found
        printed_mm = image["width_px"] / image["x_ppi"] * 25.4
        # the page is 297 mm wide with 10 mm margins: 277 mm for the map; it may lose a little to its height
        # (1753 x 1240 px, at most 194 mm high: 194 x 1753 / 1240 = 274 mm). pdfimages rounds the ppi.
        assert printed_mm >= 0.95 * (width_mm - 20), f"page {page}: map {printed_mm:.0f} mm wide"


def test_no_overprinted_words(printed: Path) -> None:
    """No two words overlap on any page (a long header word once ran into its neighbour: 'Eenpersoonshuishoudens')."""
    for page, words in _words(printed).items():
        words.sort(key=lambda w: w[1])
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                if b[1] >= a[3]:
                    break  # sorted by top: no later word reaches up into a
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                assert not (dx > 1.0 and dy > 1.0), f"page {page}: {a[4]!r} overprints {b[4]!r}"


def _viewport(driver: Any, width: int, height: int) -> None:
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])  # the viewport, not the window, is the size


def test_phone_390_px_no_horizontal_overflow(browser: Any, demo_report: Path) -> None:  # noqa: F811
    _viewport(browser, 390, 844)
    browser.get(demo_report.as_uri())
    deadline = time.monotonic() + 30
    while browser.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, "the report did not load"
        time.sleep(0.1)
    assert browser.execute_script("return window.innerWidth") == 390
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390 + 1
    tables = browser.execute_script("""
        return Array.from(document.querySelectorAll('table')).map(function (t) {
          var r = t.getBoundingClientRect(), first = t.querySelector('tr > *:first-child');
          return {right: r.right, left: r.left, scroll: t.scrollWidth, client: t.clientWidth,
                  overflow: getComputedStyle(t).overflowX, sticky: first ? getComputedStyle(first).position : '',
                  head: (t.querySelector('th') || {}).textContent};
        });""")
    assert len(tables) >= 10
    wide = 0
    for t in tables:
        assert t["left"] >= 0 and t["right"] <= 390 + 1, t  # the table box stays on the screen
        if t["scroll"] > t["client"] + 1:  # wider than the screen: it scrolls on its own, the first column stays
            wide += 1
            assert t["overflow"] in {"auto", "scroll"} and t["sticky"] == "sticky", t
    assert wide >= 1  # the buurt table with signal and hot-spot columns is wider than a phone
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("document.getElementById('buurten').scrollIntoView()")
    browser.save_screenshot(str(ARTEFACTS / "telefoon-buurten.png"))
