"""The what-if on the map ("Zet hier een ontmoetingsplek", "Sluit dit punt") against the engine.

The page computes who comes within the threshold (or falls beyond it) in the browser, over
the network the file carries. The expected figures here come from the Python engine itself:
:meth:`WalkNetwork.attach` of the point the page used, then :meth:`WalkNetwork.within`
(one new spot) or :meth:`WalkNetwork.nearest` (meeting points with points closed and spots
added), compared with the run's ``binnen_drempel``. Cells are compared one by one, residents
per buurt and in total. Same Chromium fixtures as ``test_browser.py`` (skips without it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from tests.mapcases import demo_result
from tests import test_browser
from tests.test_browser import SIZES, _click_at, _no_errors, _open, _rect, _settle, _shot
from wijkanalyse._format import format_int
from wijkanalyse.network import Attachment
from wijkanalyse.outputs import maps
from wijkanalyse.outputs._encode import encode_varints
from wijkanalyse.outputs._whatif import decode_varints, fit_projection, project
from wijkanalyse.result import RunResult

TO_LATLON = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
browser = test_browser.browser  # the same headless Chromium (skips without it)


@pytest.fixture(scope="module")
def whatif_page(demo_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, RunResult]:
    result = demo_result(demo_snapshot)
    path = maps.save_map(maps.build_map(result), tmp_path_factory.mktemp("kaart") / "kaart.html")
    return path.as_uri(), result


# --------------------------------------------------------------------------- the engine's answer


def _concat(*parts: Attachment) -> Attachment:
    """One Attachment of the points of ``parts`` in turn (ties renumbered)."""
    sizes = np.cumsum([0, *(len(p) for p in parts)])
    return Attachment(
        np.concatenate([p.edge for p in parts]), np.concatenate([p.along for p in parts]),
        np.concatenate([p.offset for p in parts]),
        np.concatenate([p.tie_point + s for p, s in zip(parts, sizes, strict=False)]).astype(np.int64),
        np.concatenate([p.tie_edge for p in parts]).astype(np.int64),
        np.concatenate([p.tie_along for p in parts]), np.concatenate([p.tie_offset for p in parts]),
    )


class Engine:
    """Replays the what-if with the engine: attach, then within / nearest."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.net = result.network
        self.threshold = float(result.threshold_m)
        self.within_now = result.residents["binnen_drempel"].to_numpy(dtype=bool)
        self.meeting = result.venues["ontmoetingspunt"].astype(bool).to_numpy() & result.venue_att.on_network
        self.people = result.residents["inwoners"].fillna(0).to_numpy(dtype=float)
        codes = maps._map_buurten(result)["buurtcode"].astype(str).tolist()
        self.buurt = np.array([codes.index(c) if c in codes else -1 for c in result.residents["buurtcode"].astype(str)])

    def spot(self, x: float, y: float) -> Attachment:
        return self.net.attach(np.array([shapely.Point(x, y)], dtype=object))

    def gained_by_one(self, x: float, y: float) -> set[int]:
        reach = self.net.within(self.spot(x, y), self.result.resident_att, self.threshold)
        reached = np.zeros(len(self.within_now), dtype=bool)
        reached[reach.indices] = True
        return set(np.flatnonzero(reached & ~self.within_now).tolist())

    def scenario(self, spots: list[tuple[float, float]], closed: list[int]) -> tuple[set[int], set[int]]:
        keep = self.meeting.copy()
        keep[closed] = False
        targets = _concat(self.result.venue_att.take(keep), *(self.spot(x, y) for x, y in spots))
        new = self.net.nearest(self.result.resident_att, targets) <= self.threshold
        return set(np.flatnonzero(new & ~self.within_now).tolist()), set(np.flatnonzero(self.within_now & ~new).tolist())

    def per_buurt(self, cells: set[int]) -> dict[int, float]:
        out: dict[int, float] = {}
        for c in sorted(cells):
            out[int(self.buurt[c])] = out.get(int(self.buurt[c]), 0.0) + self.people[c]
        return out


def _spots(result: RunResult, n: int = 5) -> list[tuple[float, float]]:
    """RD points a little off the farthest cells beyond the threshold, 300 m apart at least."""
    res = result.residents
    far = res[~res["binnen_drempel"] & np.isfinite(res["afstand_m"])].sort_values("afstand_m", ascending=False)
    chosen: list[tuple[float, float]] = []
    for geom in far.geometry:
        p = (geom.x + 17.0, geom.y - 23.0)
        if all(np.hypot(p[0] - q[0], p[1] - q[1]) >= 300 for q in chosen):
            chosen.append(p)
        if len(chosen) == n:
            break
    assert len(chosen) == n
    return chosen


def _lost_by_closing(engine: Engine, n: int = 3) -> list[int]:
    """The ``n`` meeting points whose closing leaves the most cells beyond the threshold (by the engine)."""
    losses = []
    for i in np.flatnonzero(engine.meeting):
        _gained, lost = engine.scenario([], [int(i)])
        losses.append((-len(lost), int(i)))
    chosen = [i for size, i in sorted(losses)[:n] if size < 0]
    assert len(chosen) == n, "the demo should have three meeting points whose closing leaves someone beyond"
    return chosen


# --------------------------------------------------------------------------- the page


def _browser_result(driver: Any) -> dict[str, Any]:
    return driver.execute_script(
        "var r = WA.whatif.state.result; return {gained: r.gained, lost: r.lost, perBuurt: r.perBuurt || {},"
        " gain: r.gain.people, loss: r.loss.people, text: document.getElementById('wa-watals-uitkomst').textContent};"
    )


def _as_per_buurt(browser_per_buurt: dict[str, list[float]], which: int) -> dict[int, float]:
    return {int(b): float(v[which]) for b, v in browser_per_buurt.items() if v[which]}


def _page_point(driver: Any, lat: float, lng: float) -> tuple[float, float]:
    return driver.execute_script(
        "var map = WA.state.map, box = map.getContainer().getBoundingClientRect();"
        "var p = map.latLngToContainerPoint([arguments[0], arguments[1]]); return [box.left + p.x, box.top + p.y];",
        lat, lng,
    )


def _tap_place(driver: Any, x: float, y: float) -> tuple[float, float]:
    """Tap the button, then the map at RD (x, y); the RD point the page attached."""
    lng, lat = TO_LATLON.transform(x, y)
    driver.execute_script("WA.state.map.setView([arguments[0], arguments[1]], 16, {animate: false});", lat, lng)
    _settle(driver)
    driver.find_element("id", "wa-watals-plek").click()
    assert driver.execute_script("return WA.whatif.state.placing")
    px, py = _page_point(driver, lat, lng)
    _click_at(driver, px, py)
    assert not driver.execute_script("return WA.whatif.state.placing")
    spot = driver.execute_script("var s = WA.whatif.state.added; s = s[s.length - 1]; return [s.x, s.y, s.lat, s.lng];")
    # the page's RD point is pyproj's RD of the tapped lat/lon (to a centimetre)
    ex, ey = TO_RD.transform(spot[3], spot[2])
    assert np.hypot(spot[0] - ex, spot[1] - ey) < 0.01
    return spot[0], spot[1]


def _single_spots(driver: Any, engine: Engine) -> list[tuple[float, float]]:
    """Each spot alone: the first tapped by hand, the others through the page's own place()."""
    placed = []
    for k, (x, y) in enumerate(_spots(engine.result)):
        driver.execute_script("WA.whatif.clear()")
        if k == 0:
            px, py = _tap_place(driver, x, y)
        else:
            lng, lat = TO_LATLON.transform(x, y)
            px, py = driver.execute_script("var s = WA.whatif.place(arguments[0], arguments[1]); return [s.x, s.y];", lat, lng)
        placed.append((px, py))
        got = _browser_result(driver)
        expected = engine.gained_by_one(px, py)
        assert expected, "a spot beside the farthest cells should bring someone within"
        assert set(got["gained"]) == expected
        assert got["lost"] == []
        assert _as_per_buurt(got["perBuurt"], 0) == {b: v for b, v in engine.per_buurt(expected).items() if v}
        assert got["gain"] == sum(engine.people[c] for c in expected)
        assert format_int(got["gain"]) in got["text"]
        if k == 0:
            _shot(driver, "laptop-watals-plek")
    return placed


def _single_closings(driver: Any, engine: Engine) -> list[int]:
    """Each closing alone, the first through the meeting point's popup."""
    closed = _lost_by_closing(engine)
    for k, i in enumerate(closed):
        driver.execute_script("WA.whatif.clear()")
        if k == 0:
            driver.execute_script(
                "var m = WA.whatif.state.markers[arguments[0]]; WA.state.map.setView(m.getLatLng(), 16, {animate: false});"
                "m.fire('click');", i,
            )
            _settle(driver)
            button = driver.find_element("css selector", ".leaflet-popup-content [data-wa-sluit]")
            assert button.text == "Sluit dit punt"
            button.click()
        else:
            assert driver.execute_script("return WA.whatif.close(arguments[0])", i)
        got = _browser_result(driver)
        gained, lost = engine.scenario([], [i])
        assert gained == set()
        assert set(got["gained"]) == set()
        assert set(got["lost"]) == lost
        assert _as_per_buurt(got["perBuurt"], 1) == {b: v for b, v in engine.per_buurt(lost).items() if v}
        assert got["loss"] == sum(engine.people[c] for c in lost)
        if k == 0:
            _shot(driver, "laptop-watals-sluit")
    return closed


def test_five_spots_and_three_closings_equal_the_engine(browser: Any, whatif_page: tuple[str, RunResult]) -> None:
    url, result = whatif_page
    engine = Engine(result)
    _open(browser, url, SIZES["laptop"])
    placed = _single_spots(browser, engine)
    closed = _single_closings(browser, engine)

    # all together: five spots added and three points closed at once
    browser.execute_script("WA.whatif.clear()")
    for x, y in placed:
        lng, lat = TO_LATLON.transform(x, y)  # the page's own RD points, back to lat/lon
        browser.execute_script("WA.whatif.place(arguments[0], arguments[1])", lat, lng)
    for i in closed:
        browser.execute_script("WA.whatif.close(arguments[0])", i)
    spots = browser.execute_script("return WA.whatif.state.added.map(function (s) { return [s.x, s.y]; })")
    gained, lost = engine.scenario([tuple(s) for s in spots], closed)
    got = _browser_result(browser)
    assert set(got["gained"]) == gained
    assert set(got["lost"]) == lost
    assert got["gain"] == sum(engine.people[c] for c in gained)
    assert got["loss"] == sum(engine.people[c] for c in lost)
    assert _as_per_buurt(got["perBuurt"], 0) == {b: v for b, v in engine.per_buurt(gained).items() if v}
    assert _as_per_buurt(got["perBuurt"], 1) == {b: v for b, v in engine.per_buurt(lost).items() if v}
    _shot(browser, "laptop-watals-samen")

    browser.find_element("id", "wa-watals-wis").click()
    assert browser.execute_script(
        "var S = WA.whatif.state; return [S.added.length, Object.keys(S.closed).length, S.result.gained.length,"
        " S.result.lost.length]"
    ) == [0, 0, 0, 0]
    _no_errors(browser)


def test_phone_can_place_and_clear(browser: Any, whatif_page: tuple[str, RunResult]) -> None:
    url, result = whatif_page
    _open(browser, url, SIZES["telefoon"])
    box = _rect(browser, ".wa-watals")
    assert box["left"] >= 0 and box["right"] <= 390 and box["bottom"] <= 844
    for other in (".wa-paneel", ".leaflet-control-zoom"):
        r = _rect(browser, other)
        assert min(box["right"], r["right"]) <= max(box["left"], r["left"]) or \
            min(box["bottom"], r["bottom"]) <= max(box["top"], r["top"]), f"the what-if box covers {other}"
    x, y = _spots(result)[0]
    _tap_place(browser, x, y)
    text = browser.find_element("id", "wa-watals-uitkomst").text
    assert "Erbij binnen 400 m" in text
    box = _rect(browser, ".wa-watals")
    assert box["top"] >= 0 and box["bottom"] <= 844
    assert browser.execute_script("return document.querySelectorAll('.leaflet-wa-whatif-pane path').length") > 0
    _shot(browser, "telefoon-watals")
    browser.find_element("id", "wa-watals-wis").click()
    assert browser.execute_script("return document.querySelectorAll('.leaflet-wa-whatif-pane path').length") == 0
    _no_errors(browser)


# --------------------------------------------------------------------------- without a browser


def test_varints_round_trip() -> None:
    values = [0, 1, -1, 15, 16, -16, 31, 32, 1023, -1024, 2**31, -(2**31) - 5, 2**45]
    assert decode_varints(encode_varints(values)) == values
    assert decode_varints(encode_varints([abs(v) for v in values], signed=False), signed=False) == [abs(v) for v in values]
    assert set(encode_varints(values)) <= {chr(c) for c in range(63, 127)}


def test_projection_is_within_a_millimetre() -> None:
    # over a 40 km square in the north-east of the Netherlands, on points not used in the fit
    proj = fit_projection([[53.0, 6.3], [53.35, 6.9]])
    for lon, lat in [(6.3123, 53.0177), (6.61, 53.2), (6.8999, 53.3498), (6.45, 53.31)]:
        x, y = project(proj, lon, lat)
        ex, ey = TO_RD.transform(lon, lat)
        assert np.hypot(x - ex, y - ey) < 0.001


def test_readme_worked_example(whatif_page: tuple[str, RunResult]) -> None:
    """The figures of the README's worked example, replayed with the engine (the browser test ties the page to it)."""
    _url, result = whatif_page
    engine = Engine(result)
    names = maps._map_buurten(result)["buurtnaam"].tolist()
    oosterhof = int(np.flatnonzero(result.venues["naam"].eq("Dorpshuis De Oosterhof").to_numpy())[0])
    _, lost = engine.scenario([], [oosterhof])
    assert (len(lost), sum(engine.people[c] for c in lost)) == (17, 350)
    assert {names[b] for b in engine.per_buurt(lost)} == {"Oosterdorp-Kern"}
    gap = result.gaps.sort_values("inwoners", ascending=False).iloc[0]
    assert (int(gap["gat_id"]), gap["inwoners"]) == (1, 1960)
    spot = gap.geometry.representative_point()
    assert round(float(engine.spot(spot.x, spot.y).offset[0])) == 25
    gained = engine.gained_by_one(spot.x, spot.y)
    assert (len(gained), sum(engine.people[c] for c in gained)) == (17, 930)
    assert {names[b]: v for b, v in engine.per_buurt(gained).items()} == {
        "Zuidoost-Flats": 805, "Zuidoost-Plein": 65, "Zuidoost-Hoven": 60}
    both_gained, both_lost = engine.scenario([(spot.x, spot.y)], [oosterhof])
    within = result.summary["residents_within_threshold"] + sum(engine.people[c] for c in both_gained) - sum(
        engine.people[c] for c in both_lost)
    assert (result.summary["residents_within_threshold"], result.summary["residents_total"], within) == (12810, 18145, 13390)
