"""The command line: a thin layer over :mod:`wijkanalyse.pipeline`.

Logs and progress go to stderr, a short summary to stdout, results to files. Every error
the user can fix is one line on stderr and exit code 1 (2 for a usage error), no traceback.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import click

from wijkanalyse import __version__
from wijkanalyse._format import format_int, format_percent
from wijkanalyse.config import default_config_text, load_config
from wijkanalyse.errors import WijkanalyseError

__all__ = ["cli"]

DEFAULT_OUT = Path("kaarten")


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("wijkanalyse")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _summary_text(outputs) -> str:  # noqa: ANN001
    s = outputs.result.summary
    lines = [
        f"{s['gemeente_name']} ({s['gemeente_code']}), {s['year']}"
        + ("  [SYNTHETISCHE DEMO-GEMEENTE: verzonnen gegevens]" if s["synthetic"] else ""),
        f"  inwoners:                {format_int(s['residents_total'])}",
        f"  binnen {s['threshold_m']:g} m van een ontmoetingspunt: {format_int(s['residents_within_threshold'])} "
        f"({format_percent(s['share_within_threshold'])}, "
        + ("lopend over straat" if s["distance_method"] == "network" else "hemelsbreed") + ")",
        f"  buiten bereik:           {format_int(s['residents_beyond_threshold'])} inwoners in {s['n_gaps']} gebieden",
        f"  ontmoetingspunten:       {s['n_meeting_points']} (van {s['n_venues']} voorzieningen)",
        f"  hotspots (signaal):      {', '.join(s['hotspot_buurten']) or 'geen'}",
        f"  bestanden in {outputs.folder}: " + ", ".join(p.name for p in outputs.files.values()),
    ]
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wijkanalyse")
def cli() -> None:
    """wijkanalyse: where social problems cluster, and who lives too far from a meeting point.

    Example:

        wijkanalyse run --demo
    """


@cli.command()
@click.option("--demo", is_flag=True, help="Run on the built-in synthetic demo gemeente (Voorbeeldgemeente, GM9999).")
@click.option(
    "--snapshot", "snapshot_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Run on a snapshot folder (made by 'wijkanalyse fetch' or 'wijkanalyse demo').",
)
@click.option("--gemeente", help="CBS gemeente code, e.g. GM0233: download its data (needs internet), then run.")
@click.option("--year", type=int, help="Year of the CBS figures for --gemeente (default: the config's area.year).")
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML config file; what it leaves out keeps the defaults ('wijkanalyse config' prints them).",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT,
    show_default=True, help="Output folder; files go to OUT/<gemeente>/.",
)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where downloads are cached (default: ~/.cache/wijkanalyse).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def run(
    demo: bool, snapshot_dir: Path | None, gemeente: str | None, year: int | None, config_path: Path | None,
    out_dir: Path, cache_dir: Path | None, verbose: int, quiet: bool,
) -> None:
    """Analyse one gemeente and write map, tables and key figures.

    Writes OUT/<gemeente>/kaart.html, buurten.gpkg, buurten.csv, buurten.xlsx and samenvatting.json.

    Example:

        wijkanalyse run --demo --out kaarten

        wijkanalyse run --snapshot snapshots/GM0233-2024 --config mijn.toml
    """
    from wijkanalyse import pipeline  # noqa: PLC0415 (keeps --help fast)

    _setup_logging(-1 if quiet else 1 + verbose)
    chosen = [name for name, given in (("--demo", demo), ("--snapshot", snapshot_dir), ("--gemeente", gemeente)) if given]
    try:
        config = load_config(config_path)
        if not chosen and config.gemeente:
            gemeente = config.gemeente
            chosen = ["--gemeente"]
        if not chosen:
            msg = "Say what to analyse: --demo (synthetic example), --snapshot DIR, or --gemeente GMxxxx."
            raise click.UsageError(msg)
        if len(chosen) > 1:
            msg = f"Give only one of --demo, --snapshot, --gemeente (got {' and '.join(chosen)})."
            raise click.UsageError(msg)
        if year is not None and not gemeente:
            msg = "--year only applies to --gemeente: a snapshot (and the demo) has its own year."
            raise click.UsageError(msg)
        if demo:
            from wijkanalyse.demo import write_demo_snapshot  # noqa: PLC0415

            with tempfile.TemporaryDirectory(prefix="wijkanalyse-demo-") as tmp:
                snapshot = write_demo_snapshot(Path(tmp) / "snapshot")
                outputs = pipeline.run(snapshot, config, out_dir)
        elif snapshot_dir is not None:
            outputs = pipeline.run(snapshot_dir, config, out_dir)
        else:
            from wijkanalyse.sources import live  # noqa: PLC0415

            code = live.normalise_gemeente(gemeente or "")
            snapshot = live.download_snapshot(code, year or config.year, config=config, cache_dir=cache_dir)
            outputs = pipeline.run(snapshot, config, out_dir)
    except WijkanalyseError as e:
        raise click.ClickException(str(e)) from e
    click.echo(_summary_text(outputs))


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def demo(dest: Path) -> None:
    """Write the synthetic demo gemeente as a snapshot folder DEST, to look at or to re-run.

    Example:

        wijkanalyse demo voorbeeld && wijkanalyse run --snapshot voorbeeld
    """
    from wijkanalyse.demo import write_demo_snapshot  # noqa: PLC0415

    try:
        path = write_demo_snapshot(dest)
    except OSError as e:
        msg = f"Cannot write the demo snapshot to {dest}: {e.strerror or e}."
        raise click.ClickException(msg) from e
    click.echo(f"Demo snapshot (synthetisch) geschreven naar {path}")


@cli.command()
@click.option("--gemeente", required=True, help="CBS gemeente code, e.g. GM0233.")
@click.option("--year", type=int, default=None, help="Year of the CBS figures (default: the config's area.year).")
@click.option("--snapshot", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Snapshot folder to write (default: CACHE/snapshots/<gemeente>-<year>).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML config file (its [venues] decide which OSM tags are downloaded).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where downloads are cached (default: ~/.cache/wijkanalyse).")
def fetch(gemeente: str, year: int | None, dest: Path | None, config_path: Path | None, cache_dir: Path | None) -> None:
    """Download CBS, PDOK and OpenStreetMap data of a gemeente into a snapshot folder (needs internet).

    Example:

        wijkanalyse fetch --gemeente GM0233 --year 2024 --snapshot snapshots/ermelo-2024
    """
    from wijkanalyse.sources import live  # noqa: PLC0415

    _setup_logging(1)
    try:
        config = load_config(config_path)
        path = live.download_snapshot(
            live.normalise_gemeente(gemeente), year or config.year, config=config, cache_dir=cache_dir, dest=dest
        )
    except WijkanalyseError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Snapshot geschreven naar {path}")


@cli.command(name="config")
def show_config() -> None:
    """Print the default configuration (TOML), to copy and edit.

    Example:

        wijkanalyse config > mijn-gemeente.toml
    """
    click.echo(default_config_text(), nl=False)


def main() -> None:
    """Entry point for ``python -m wijkanalyse``."""
    cli()
