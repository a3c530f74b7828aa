"""The command line: a thin layer over :mod:`wijkanalyse.pipeline`.

Logs and progress go to stderr, a short summary to stdout, results to files. Every error
the user can fix is one line on stderr and exit code 1 (2 for a usage error), no traceback;
an unexpected error is one line too, saying to run again with ``--debug``, which shows the
traceback. Ctrl-C and SIGTERM stop a run the same way: what it was writing is removed,
the earlier outputs stay, exit code 130.
"""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from wijkanalyse import __version__
from wijkanalyse._format import format_int, format_percent
from wijkanalyse.config import default_config_text, load_config
from wijkanalyse.errors import WijkanalyseError

__all__ = ["cli"]

DEFAULT_OUT = Path("kaarten")
OSM_PBF = click.option(
    "--osm-pbf", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="Take streets and venues from this local .osm.pbf extract (e.g. a Geofabrik province) instead of Overpass.",
)


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
        *(
            [f"  eigen punten:            {s['n_own_points']} uit {s['own_points_file']} "
             f"({s['own_points_merged_with_osm']} ook in OpenStreetMap, {s['own_points_rejected_rows']} regels afgekeurd)"]
            if s.get("own_points_file") else []
        ),
        f"  hotspots (signaal):      {', '.join(s['hotspot_buurten']) or 'geen'}",
        f"  bestanden in {outputs.folder}: " + ", ".join(p.name for p in outputs.files.values()),
    ]
    return "\n".join(lines)


#: Exit code after Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
INTERRUPTED = 130


class _Cli(click.Group):
    """The command group: every failure is one line (``--debug``: the traceback too)."""

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.ClickException as e:
            if debug and e.__cause__ is not None:
                traceback.print_exception(e.__cause__, file=sys.stderr)
            raise
        except KeyboardInterrupt:
            if debug:
                traceback.print_exc(file=sys.stderr)
            click.echo("Afgebroken (Ctrl-C of SIGTERM); de vorige uitvoer is ongewijzigd.", err=True)
            ctx.exit(INTERRUPTED)
        except WijkanalyseError as e:
            if debug:
                raise
            raise click.ClickException(str(e)) from e
        except Exception as e:
            if debug:
                raise
            text = " ".join(str(e).split())[:300]
            msg = (
                f"Unexpected error ({type(e).__name__}: {text}). Run the same command with --debug "
                "(wijkanalyse --debug ...) to see where, and report it with that output."
            )
            raise click.ClickException(msg) from e


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    """SIGTERM handler: stop like Ctrl-C (temporary folders removed, earlier outputs kept)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleaning short
    raise KeyboardInterrupt


def _handle_sigterm(ctx: click.Context) -> None:
    """Handle SIGTERM like Ctrl-C while a command runs (main thread only); restore it afterwards."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        return
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wijkanalyse")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (to report a problem).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """wijkanalyse: where social problems cluster, and who lives too far from a meeting point.

    Example:

        wijkanalyse run --demo

        wijkanalyse --debug run --snapshot snapshots/ermelo-2024
    """
    _handle_sigterm(ctx)


@cli.command()
@click.option("--demo", is_flag=True, help="Run on the built-in synthetic demo gemeente (Voorbeeldgemeente, GM9999).")
@click.option(
    "--snapshot", "snapshot_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Run on a snapshot folder (made by 'wijkanalyse fetch' or 'wijkanalyse demo').",
)
@click.option("--gemeente", help="CBS gemeente code or name, e.g. GM0233 or Ermelo: download its data (needs internet), then run.")
@click.option("--year", type=int, help="Year of the CBS figures for --gemeente (default: the config's area.year).")
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML config file; what it leaves out keeps the defaults ('wijkanalyse config' prints them).",
)
@click.option(
    "--ontmoetingspunten", "own_points_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The gemeente's own meeting points (CSV, GeoPackage or GeoJSON), merged with OpenStreetMap; "
    "overrides own_points.file in the config.",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT,
    show_default=True, help="Output folder; files go to OUT/<gemeente>/.",
)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where downloads are cached (default: ~/.cache/wijkanalyse).")
@OSM_PBF
@click.option("--refresh", is_flag=True, help="With --gemeente: download everything again instead of using the cache.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def run(
    demo: bool, snapshot_dir: Path | None, gemeente: str | None, year: int | None, config_path: Path | None,
    own_points_file: Path | None, out_dir: Path, cache_dir: Path | None, refresh: bool, osm_pbf: Path | None,
    verbose: int, quiet: bool,
) -> None:
    """Analyse one gemeente and write map, tables and key figures.

    Writes OUT/<gemeente>/kaart.html, buurten.gpkg, buurten.csv and samenvatting.json.

    Example:

        wijkanalyse run --demo --out kaarten

        wijkanalyse run --snapshot snapshots/GM0233-2024 --config mijn.toml

        wijkanalyse run --snapshot snapshots/GM0233-2024 --ontmoetingspunten ontmoetingspunten.csv
    """
    from wijkanalyse import pipeline  # noqa: PLC0415 (keeps --help fast)

    _setup_logging(-1 if quiet else 1 + verbose)
    chosen = [name for name, given in (("--demo", demo), ("--snapshot", snapshot_dir), ("--gemeente", gemeente)) if given]
    try:
        config = load_config(config_path)
        if own_points_file is not None:
            config = replace(config, own_points=replace(config.own_points, file=own_points_file))
        if not chosen and config.gemeente:
            gemeente = config.gemeente
            chosen = ["--gemeente"]
        if not chosen:
            msg = "Say what to analyse: --demo (synthetic example), --snapshot DIR, or --gemeente GMxxxx."
            raise click.UsageError(msg)
        if len(chosen) > 1:
            msg = f"Give only one of --demo, --snapshot, --gemeente (got {' and '.join(chosen)})."
            raise click.UsageError(msg)
        for flag, given in (("--year", year is not None), ("--refresh", refresh), ("--osm-pbf", osm_pbf is not None)):
            if given and not gemeente:
                msg = f"{flag} only applies to --gemeente: a snapshot (and the demo) has its own year and data."
                raise click.UsageError(msg)
        if demo:
            from wijkanalyse._atomic import private_tempdir  # noqa: PLC0415
            from wijkanalyse.demo import write_demo_snapshot  # noqa: PLC0415

            with private_tempdir("wijkanalyse-demo-") as tmp:  # removed after a kill by the next run
                snapshot = write_demo_snapshot(tmp / "snapshot")
                outputs = pipeline.run(snapshot, config, out_dir)
        elif snapshot_dir is not None:
            outputs = pipeline.run(snapshot_dir, config, out_dir)
        else:
            from wijkanalyse.sources import live  # noqa: PLC0415

            year = year or config.year
            code = live.normalise_gemeente(gemeente or "", year)
            snapshot = live.download_snapshot(
                code, year, config=config, cache_dir=cache_dir, refresh=refresh, osm_pbf=osm_pbf
            )
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

    path = write_demo_snapshot(dest)  # built beside DEST and swapped in whole; errors: see _Cli
    click.echo(f"Demo snapshot (synthetisch) geschreven naar {path}")


@cli.command()
@click.option("--gemeente", required=True, help="CBS gemeente code or name, e.g. GM0233 or Ermelo.")
@click.option("--year", type=int, default=None, help="Year of the CBS figures (default: the config's area.year).")
@click.option("--snapshot", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Snapshot folder to write (default: CACHE/snapshots/<gemeente>-<year>).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML config file (its [venues] decide which OSM tags are downloaded).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where downloads are cached (default: ~/.cache/wijkanalyse).")
@click.option("--refresh", is_flag=True, help="Download everything again instead of using the cache.")
@OSM_PBF
def fetch(
    gemeente: str, year: int | None, dest: Path | None, config_path: Path | None, cache_dir: Path | None, refresh: bool,
    osm_pbf: Path | None,
) -> None:
    """Download CBS, PDOK and OpenStreetMap data of a gemeente into a snapshot folder (needs internet).

    The folder is built under a temporary name and swapped in whole when complete. Service
    addresses, timeouts and retries are set in [services] of the config. With --osm-pbf the
    streets and venues come from a local extract instead of Overpass.

    Example:

        wijkanalyse fetch --gemeente Ermelo --year 2024 --snapshot snapshots/ermelo-2024

        wijkanalyse fetch --gemeente GM0233 --osm-pbf gelderland-latest.osm.pbf
    """
    from wijkanalyse.sources import live  # noqa: PLC0415

    _setup_logging(1)
    try:
        config = load_config(config_path)
        year = year or config.year
        path = live.download_snapshot(
            live.normalise_gemeente(gemeente, year), year, config=config, cache_dir=cache_dir, dest=dest,
            refresh=refresh, osm_pbf=osm_pbf,
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
