"""Make the pictures of the README: the map and the report of the demo, in headless Chromium.

    python docs/maak_afbeeldingen.py            # writes docs/img/kaart.png and docs/img/rapport.png

Needs Debian's chromium (or set WIJKANALYSE_CHROMIUM to a Chromium/Chrome binary). The demo is
synthetic, so the pictures show no real gemeente.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium() -> str:
    found = os.environ.get("WIJKANALYSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("Chromium niet gevonden: installeer het (apt-get install chromium) of zet WIJKANALYSE_CHROMIUM.")
    return found


def screenshot(page: Path, target: Path, size: tuple[int, int]) -> Path:
    """A PNG of ``page`` at ``size`` (width, height), after its scripts ran."""
    with tempfile.TemporaryDirectory(prefix="wijkanalyse-img-") as profile:
        subprocess.run(  # noqa: S603 (our own Chromium on our own demo files)
            [_chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
             "--virtual-time-budget=8000", f"--screenshot={target}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    return target


def main() -> None:
    from wijkanalyse import demo, pipeline  # noqa: PLC0415
    from wijkanalyse.config import load_config  # noqa: PLC0415

    out_img = HERE / "img"
    out_img.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wijkanalyse-demo-") as tmp:
        snap = demo.write_demo_snapshot(Path(tmp) / "snapshot")
        run = pipeline.run(snap, load_config(), Path(tmp) / "uit")
        print(screenshot(run.files["kaart"], out_img / "kaart.png", (1366, 768)))
        print(screenshot(run.files["rapport"], out_img / "rapport.png", (1000, 1300)))


if __name__ == "__main__":
    main()
