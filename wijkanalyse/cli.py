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
from typing import Any, NoReturn

import click

from wijkanalyse import __version__
from wijkanalyse._click_nl import VERSION_MESSAGE, VERSION_TEXT, DutchCommand, DutchContext, dutch_failure, dutch_help_option
from wijkanalyse._interrupts import (
    INTERRUPTED,
    STOPPED,
    caused_by_interrupt,
    forget_interrupt,
    redeliver_lost_interrupts,
    terminate,
)
from wijkanalyse._format import format_int, format_percent
from wijkanalyse.config import default_config_text, load_config
from wijkanalyse.errors import WijkanalyseError

__all__ = ["cli"]

DEFAULT_OUT = Path("kaarten")


def _national_options(f: Any) -> Any:
    """The options of ``run`` for many gemeenten at once."""
    options = [
        click.option("--gemeenten", help="Veel gemeenten: CBS-codes of namen, met komma's gescheiden, bijv. GM0233,Harderwijk."),
        click.option("--provincie", help="Elke gemeente van een provincie (of meer, met komma's), bijv. Gelderland."),
        click.option("--nederland", is_flag=True, help="Elke gemeente van Nederland in --year."),
        click.option("--snapshots", "snapshots_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Draai de snapshotmappen in deze map (offline): alle, of die van "
                     "--gemeenten/--provincie."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Lokale werkprocessen voor veel gemeenten (standaard: één per processorkern)."),
        click.option("--scheduler", default=None,
                     help="Draai de gemeenten op een dask.distributed-cluster, bijv. tcp://10.0.0.5:8786."),
        click.option("--resume/--no-resume", default=True, show_default=True,
                     help="Sla gemeenten (en snapshots) over die een eerder gestopte run al afmaakte."),
        click.option("--maps/--no-maps", default=True, show_default=True,
                     help="Bij veel gemeenten: schrijf ook van elke gemeente kaart.html en de printkaarten "
                     "(--no-maps: alleen de cijfers, tabellen en het rapport)."),
        click.option("--osm-engine", type=click.Choice(["auto", "osmium", "pyosmium"]), default="auto",
                     show_default=True, help="Hoe --osm-pbf per gemeente wordt uitgesneden: met het programma osmium waar "
                     "dat is geïnstalleerd (auto), of alleen met pyosmium."),
    ]
    for option in reversed(options):
        f = option(f)
    return f
OSM_PBF = click.option(
    "--osm-pbf", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="Neem straten en voorzieningen uit dit lokale .osm.pbf-bestand (bijv. een provincie van Geofabrik) in plaats van Overpass.",
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
    from wijkanalyse.outputs.texts import gap_count_words  # noqa: PLC0415 (keeps --help fast)

    s = outputs.result.summary
    lines = [
        f"{s['gemeente_name']} ({s['gemeente_code']}), {s['year']}"
        + ("  [SYNTHETISCHE DEMO-GEMEENTE: verzonnen gegevens]" if s["synthetic"] else ""),
        f"  inwoners:                {format_int(s['residents_total'])}",
        f"  binnen {format_int(s['threshold_m'])} m van een ontmoetingspunt: {format_int(s['residents_within_threshold'])} "
        f"({format_percent(s['share_within_threshold'])}, "
        + ("lopend over straat" if s["distance_method"] == "network" else "hemelsbreed") + ")",
        f"  buiten bereik:           {format_int(s['residents_beyond_threshold'])} inwoners in "
        + gap_count_words(s["n_gaps"], s.get("n_gaps_small"), s.get("min_gap_residents")),
        f"  ontmoetingspunten:       {format_int(s['n_meeting_points'])} (van {format_int(s['n_venues'])} voorzieningen)",
        *(
            [f"  eigen punten:            {format_int(s['n_own_points'])} uit {s['own_points_file']} "
             f"({format_int(s['own_points_merged_with_osm'])} ook in OpenStreetMap, {format_int(s['own_points_rejected_rows'])} regels afgekeurd)"]
            if s.get("own_points_file") else []
        ),
        f"  hotspots (signaal):      {', '.join(s['hotspot_buurten']) or 'geen'}",
    ]
    from wijkanalyse.outputs.texts import proposal_line  # noqa: PLC0415 (keeps --help fast)
    from wijkanalyse.outputs._siting import by_count_rows, count_line  # noqa: PLC0415
    from wijkanalyse.outputs.texts import what_if_lines  # noqa: PLC0415

    result = outputs.result
    proposals = result.proposals
    ranked = proposals[proposals["cumulatief_binnen_bereik"].notna()] if proposals is not None and len(proposals) else None
    for _, row in ranked.head(3).iterrows() if ranked is not None and len(ranked) else ():
        lines.append("  " + proposal_line(row))
    if ranked is not None and len(ranked) > 3:
        last = ranked.iloc[-1]
        lines.append(
            f"  ... {len(ranked)} voorstellen samen: {format_int(last['cumulatief_binnen_bereik'])} inwoners meer "
            f"binnen bereik ({format_percent(last['aandeel_na'])} daarna)"
        )
    counts = by_count_rows(result)
    if counts:
        lines.append("  per aantal nieuwe plekken (nummers uit de lijst):")
        lines.extend("    " + count_line(row) for row in counts)
    if result.explanations.get("brokers"):
        lines.append(f"  {result.explanations['brokers']}, in {len(s['broker_areas'])} gebieden")
    lines += ["  " + line for line in what_if_lines(s)]
    lines.append(f"  bestanden in {outputs.folder}: " + ", ".join(p.name for p in outputs.files.values()))
    return "\n".join(lines)


class _Cli(click.Group):
    """The command group: every failure is one Dutch line (``--debug``: the traceback too).

    click's own words (help headings, its usage errors) are put in Dutch by :mod:`wijkanalyse._click_nl`.
    """

    context_class = DutchContext
    command_class = DutchCommand

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return dutch_help_option(super().get_help_option(ctx))

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """An interrupt while click parses the arguments is the same one line and 130 (click would say "Aborted!")."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as e:  # a wrong option of the group itself
            raise dutch_failure(e) from e
        except KeyboardInterrupt:
            forget_interrupt()
            click.echo(STOPPED, err=True)
            sys.exit(INTERRUPTED)

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.ClickException as e:
            if debug and e.__cause__ is not None:
                traceback.print_exception(e.__cause__, file=sys.stderr)
            sub = ctx.invoked_subcommand
            raise dutch_failure(e, f"{ctx.command_path} {sub}" if sub else ctx.command_path) from e
        except BrokenPipeError:  # stdout closed early (wijkanalyse run ... | head -1): click exits quietly
            raise
        except KeyboardInterrupt:
            _interrupted(ctx, debug=debug)
        except Exception as e:
            if caused_by_interrupt(e):  # an interrupt Python wrapped (RuntimeError from __set_name__ ...)
                _interrupted(ctx, debug=debug)
            if debug:
                raise
            if isinstance(e, WijkanalyseError):
                raise dutch_failure(click.ClickException(str(e))) from e
            text = " ".join(str(e).split())[:300]
            msg = (
                f"Onverwachte fout ({type(e).__name__}: {text}). Start hetzelfde commando met --debug "
                "(wijkanalyse --debug ...) om te zien waar, en meld de fout met die uitvoer."
            )
            raise dutch_failure(click.ClickException(msg)) from e


def _interrupted(ctx: click.Context, *, debug: bool) -> NoReturn:
    """The interrupt has stopped the command (its temporary folders are gone): one line, exit 130."""
    forget_interrupt()
    if debug:
        traceback.print_exc(file=sys.stderr)
    click.echo(STOPPED, err=True)
    ctx.exit(INTERRUPTED)


def _handle_sigterm(ctx: click.Context) -> None:
    """Handle SIGTERM like Ctrl-C while a command runs (main thread only); restore it afterwards.

    An interrupt that lands where Python can only drop it (a weakref callback while modules
    load) is delivered again (:func:`wijkanalyse._entry.redeliver_lost_interrupts`).
    """
    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        return
    undo = redeliver_lost_interrupts()
    ctx.call_on_close(lambda: (signal.signal(signal.SIGTERM, previous), undo()))


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wijkanalyse", help=VERSION_TEXT, message=VERSION_MESSAGE)
@click.option("--debug", is_flag=True, help="Toon bij een fout de volledige traceback (om een probleem te melden).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """wijkanalyse: waar sociale problemen zich opstapelen, en wie te ver van een ontmoetingspunt woont.

    Voorbeeld:

        wijkanalyse run --demo

        wijkanalyse --debug run --snapshot snapshots/ermelo-2024
    """
    _handle_sigterm(ctx)


@cli.command()
@click.option("--demo", is_flag=True, help="Draai op de ingebouwde synthetische demo-gemeente (Voorbeeldgemeente, GM9999).")
@click.option(
    "--snapshot", "snapshot_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Draai op een snapshotmap (gemaakt met 'wijkanalyse fetch' of 'wijkanalyse demo').",
)
@click.option("--gemeente", help="CBS-gemeentecode of -naam, bijv. GM0233 of Ermelo: download de gegevens (vraagt internet) en analyseer.")
@click.option("--year", type=int, help="Jaar van de CBS-cijfers bij --gemeente (standaard: area.year uit de config).")
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML-config; wat er niet in staat houdt de standaardwaarde ('wijkanalyse config' toont ze).",
)
@click.option(
    "--ontmoetingspunten", "own_points_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="De eigen ontmoetingspunten van de gemeente (CSV, GeoPackage of GeoJSON), samengevoegd met "
    "OpenStreetMap; gaat voor own_points.file in de config.",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT,
    show_default=True, help="Uitvoermap; de bestanden komen in OUT/<gemeente>/.",
)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Waar downloads bewaard worden (standaard: ~/.cache/wijkanalyse).")
@OSM_PBF
@click.option("--refresh", is_flag=True, help="Bij --gemeente (of veel gemeenten): download alles opnieuw in plaats van de bewaarde kopie te gebruiken.")
@click.option("--exact", is_flag=True, help="Kies nieuwe ontmoetingspunten met het exacte model (HiGHS), bewezen per aantal plekken, in plaats van de snelle methode.")
@click.option("--makelaars", "n_brokers", type=click.IntRange(min=1), default=None,
              help="Verdeel de gemeente in zoveel werkgebieden voor wijkmakelaars (standaard: [brokers] n_areas, of het aantal nodig).")
@click.option("--kandidaten", "candidates_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Eigen kandidaat-plekken van de gemeente voor een nieuw ontmoetingspunt (CSV/GPKG/GeoJSON, met kosten_per_jaar).")
@click.option("--scenario", "scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Een TOML-bestand met [[scenario]]-tabellen (ontmoetingspunten die sluiten of openen, een andere "
              "drempel): hun cijfers naast die van de run zelf (zie config/scenario_voorbeeld.toml).")
@_national_options
@click.option("--pdf", is_flag=True,
              help="Schrijf ook rapport.pdf (vraagt WeasyPrint: pip install 'wijkanalyse[pdf]'; zonder zegt de run dat).")
@click.option("-v", "--verbose", count=True, help="Meer voortgang op stderr (-vv voor alle details).")
@click.option("-q", "--quiet", is_flag=True, help="Geen voortgang op stderr (waarschuwingen wel).")
def run(  # noqa: PLR0912, PLR0915 (one command, many ways in)
    demo: bool, snapshot_dir: Path | None, gemeente: str | None, year: int | None, config_path: Path | None,
    own_points_file: Path | None, out_dir: Path, cache_dir: Path | None, refresh: bool, osm_pbf: Path | None,
    exact: bool, n_brokers: int | None, candidates_file: Path | None, scenario_file: Path | None, pdf: bool,
    verbose: int, quiet: bool, **national: Any,
) -> None:
    """Analyseer één gemeente, of veel, en schrijf kaart, tabellen en kerncijfers.

    Schrijft OUT/<gemeente>/kaart.html, buurten.gpkg, buurten.csv, buurten.xlsx, samenvatting.json,
    de tabellen van de voorstellen, kernen en werkgebieden, het raadsrapport rapport.html en de
    A4-printkaarten kaart_signaal, kaart_bereik en kaart_makelaars (.png en .pdf). De samenvatting
    op stdout noemt de beste nieuwe ontmoetingspunten en de wijkmakelaars die nodig zijn. Met
    --gemeenten, --provincie, --nederland of --snapshots wordt elke gemeente geanalyseerd
    (parallel, te hervatten) en krijgt OUT/landelijk/ gemeenten.csv/.xlsx, overzicht.html en
    landelijk.html.

    Voorbeeld:

        wijkanalyse run --demo --out kaarten

        wijkanalyse run --snapshot snapshots/GM0233-2024 --config mijn.toml

        wijkanalyse run --snapshot snapshots/GM0233-2024 --ontmoetingspunten ontmoetingspunten.csv

        wijkanalyse run --demo --scenario config/scenario_voorbeeld.toml

        wijkanalyse run --nederland --year 2024 --osm-pbf netherlands-latest.osm.pbf

        wijkanalyse run --provincie Gelderland --osm-pbf gelderland-latest.osm.pbf --workers 2

        wijkanalyse run --snapshots snapshots/ --scheduler tcp://10.0.0.5:8786
    \f
    (Longer than 80 lines only with its help text: the code itself is 62 lines, one check each.)
    """
    from wijkanalyse._imports import long_lived  # noqa: PLC0415

    with long_lived():
        from wijkanalyse import pipeline  # noqa: PLC0415 (keeps --help fast)

    _setup_logging(-1 if quiet else 1 + verbose)
    many = [flag for flag, key in (("--gemeenten", "gemeenten"), ("--provincie", "provincie"),
                                   ("--nederland", "nederland"), ("--snapshots", "snapshots_dir")) if national[key]]
    if many:
        if demo or snapshot_dir or gemeente or own_points_file or scenario_file:
            single = next(f for f, g in (("--demo", demo), ("--snapshot", snapshot_dir), ("--gemeente", gemeente),
                                         ("--ontmoetingspunten", own_points_file), ("--scenario", scenario_file)) if g)
            msg = f"{single} is voor één gemeente; {many[0]} draait er veel. Geef er één van beide."
            raise click.UsageError(msg)
        _run_many(national, year=year, config_path=config_path, out_dir=out_dir, cache_dir=cache_dir, refresh=refresh,
                  osm_pbf=osm_pbf, verbose=-1 if quiet else verbose)
        return
    for flag, key in (("--workers", "workers"), ("--scheduler", "scheduler")):
        if national[key] is not None:
            msg = f"{flag} geldt alleen voor veel gemeenten (--gemeenten, --provincie, --nederland, --snapshots)."
            raise click.UsageError(msg)
    chosen = [name for name, given in (("--demo", demo), ("--snapshot", snapshot_dir), ("--gemeente", gemeente)) if given]
    try:
        config = load_config(config_path)
        if own_points_file is not None:
            config = replace(config, own_points=replace(config.own_points, file=own_points_file))
        if exact or candidates_file is not None:
            siting = replace(config.siting, exact=exact or config.siting.exact)
            config = replace(config, siting=replace(siting, candidates_file=candidates_file or siting.candidates_file))
        if n_brokers is not None:
            config = replace(config, brokers=replace(config.brokers, n_areas=n_brokers))
        if not chosen and config.gemeente:
            gemeente = config.gemeente
            chosen = ["--gemeente"]
        if not chosen:
            msg = "Zeg wat er geanalyseerd moet worden: --demo (synthetisch voorbeeld), --snapshot MAP, of --gemeente GMxxxx."
            raise click.UsageError(msg)
        if len(chosen) > 1:
            msg = f"Geef maar één van --demo, --snapshot, --gemeente (gekregen: {' en '.join(chosen)})."
            raise click.UsageError(msg)
        for flag, given in (("--year", year is not None), ("--refresh", refresh), ("--osm-pbf", osm_pbf is not None)):
            if given and not gemeente:
                msg = f"{flag} geldt alleen voor --gemeente: een snapshot (en de demo) heeft een eigen jaar en eigen gegevens."
                raise click.UsageError(msg)
        pipeline.preload()
        if demo:
            from wijkanalyse._atomic import private_tempdir  # noqa: PLC0415
            from wijkanalyse.demo import write_demo_snapshot  # noqa: PLC0415

            with private_tempdir("wijkanalyse-demo-") as tmp:  # removed after a kill by the next run
                snapshot = write_demo_snapshot(tmp / "snapshot")
                outputs = pipeline.run(snapshot, config, out_dir, pdf=pdf, scenario_file=scenario_file)
        elif snapshot_dir is not None:
            outputs = pipeline.run(snapshot_dir, config, out_dir, pdf=pdf, scenario_file=scenario_file)
        else:
            from wijkanalyse.sources import live  # noqa: PLC0415

            year = year or config.year
            code = live.normalise_gemeente(gemeente or "", year)
            snapshot = live.download_snapshot(
                code, year, config=config, cache_dir=cache_dir, refresh=refresh, osm_pbf=osm_pbf
            )
            outputs = pipeline.run(snapshot, config, out_dir, pdf=pdf, scenario_file=scenario_file)
    except WijkanalyseError as e:
        raise click.ClickException(str(e)) from e
    click.echo(_summary_text(outputs))


def _selection(national: dict[str, Any], year: int) -> list[str] | None:
    """Gemeente codes chosen by --gemeenten / --provincie / --nederland (None: no selection)."""
    from wijkanalyse import gemeenten as gm  # noqa: PLC0415
    from wijkanalyse.sources import live  # noqa: PLC0415

    codes: list[str] = []
    if national["nederland"]:
        codes += [g.code for g in gm.gemeenten_in(year)]
    for province in _split(national["provincie"]):
        codes += [g.code for g in gm.gemeenten_in_province(province, year)]
    codes += [live.normalise_gemeente(text, year) for text in _split(national["gemeenten"])]
    if not (national["nederland"] or national["provincie"] or national["gemeenten"]):
        return None
    return list(dict.fromkeys(codes))


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _run_many(
    national: dict[str, Any], *, year: int | None, config_path: Path | None, out_dir: Path, cache_dir: Path | None,
    refresh: bool, osm_pbf: Path | None, verbose: int,
) -> None:
    """``run`` for many gemeenten: download (or find) their snapshots, analyse them all, national outputs."""
    from wijkanalyse import batch, snapshot  # noqa: PLC0415

    try:
        config = load_config(config_path)
        year = year or config.year
        selection = _selection(national, year)
        failed: dict[str, str] = {}
        if national["snapshots_dir"] is not None:
            if osm_pbf is not None or refresh:
                msg = "--snapshots draait snapshotmappen offline; --osm-pbf en --refresh gelden voor een download. Laat ze weg."
                raise click.UsageError(msg)
            folders = batch.find_snapshots(national["snapshots_dir"])
            if selection is not None:
                by_code = {snapshot.read_manifest(f).gemeente_code: f for f in folders}
                missing = [c for c in selection if c not in by_code]
                if missing:
                    msg = (f"Geen snapshot in {national['snapshots_dir']} voor {', '.join(missing)}. "
                           "Haal ze eerst op (fetch), of laat ze weg.")
                    raise click.UsageError(msg)
                folders = [by_code[c] for c in selection]
        else:
            from wijkanalyse.sources import national as national_sources  # noqa: PLC0415

            assert selection is not None
            fetched = national_sources.download_snapshots(
                selection, year, config=config, cache_dir=cache_dir, osm_pbf=osm_pbf, refresh=refresh,
                resume=national["resume"], engine=national["osm_engine"],
            )
            folders = [fetched.snapshots[c] for c in selection if c in fetched.snapshots]
            failed = fetched.failed
        run = batch.run_national(
            folders, config, out_dir, workers=national["workers"], scheduler=national["scheduler"],
            resume=national["resume"], maps=national["maps"],
            log_level=logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING,
            failed=failed,
        )
    except WijkanalyseError as e:
        raise click.ClickException(str(e)) from e
    click.echo(_national_text(run, out_dir))


def _national_text(run: Any, out_dir: Path) -> str:
    t = run.national.totals
    failed = t["gemeenten_failed"]
    lines = [
        f"Landelijk: {t['n_gemeenten_done']} van {t['n_gemeenten']} gemeenten geanalyseerd"
        + (f" ({', '.join(map(str, t['years']))})" if t["years"] else "")
        + ("  [SYNTHETISCHE GEGEVENS]" if run.national.synthetic else ""),
        f"  inwoners:                {format_int(t['residents_total'])}",
        f"  binnen {format_int(t['threshold_m']) if t['threshold_m'] else 'de drempel'} m van een ontmoetingspunt: "
        f"{format_int(t['residents_within_threshold'])} ({format_percent(t['share_within_threshold'])})",
        f"  buiten bereik:           {format_int(t['residents_beyond_threshold'])} inwoners",
        f"  nu geanalyseerd:         {len(run.ran)}; al klaar (hervat): {len(run.skipped)}",
        *([f"  mislukt:                 {', '.join(failed)} (zie gemeenten.csv)"] if failed else []),
        f"  bestanden in {Path(out_dir) / 'landelijk'}: " + ", ".join(p.name for p in run.files.values()),
    ]
    return "\n".join(lines)


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--year", type=int, default=2024, show_default=True,
              help="2025: de demo-gemeente een jaar later (een andere buurtindeling en andere cijfers), "
              "om 'wijkanalyse compare' te proberen; 2026: een derde jaar (een ontmoetingspunt dicht, een "
              "nieuw), om 'wijkanalyse trend' te proberen.")
def demo(dest: Path, year: int) -> None:
    """Schrijf de synthetische demo-gemeente als snapshotmap DEST, om te bekijken of opnieuw te draaien.

    Voorbeeld:

        wijkanalyse demo voorbeeld && wijkanalyse run --snapshot voorbeeld

        wijkanalyse demo demo-2024 && wijkanalyse demo demo-2025 --year 2025 && wijkanalyse compare demo-2024 demo-2025
    """
    from wijkanalyse.demo import DEMO_YEARS, write_demo_snapshot  # noqa: PLC0415

    if year not in DEMO_YEARS:
        msg = f"De demogemeente bestaat voor {', '.join(map(str, DEMO_YEARS))}; --year {year} hoort daar niet bij. Kies een van die jaren."
        raise click.UsageError(msg)
    path = write_demo_snapshot(dest, year)  # built beside DEST and swapped in whole; errors: see _Cli
    click.echo(f"Demo snapshot {year} (synthetisch) geschreven naar {path}")


@cli.command()
@click.option("--gemeente", required=True, help="CBS-gemeentecode of -naam, bijv. GM0233 of Ermelo.")
@click.option("--year", type=int, default=None, help="Jaar van de CBS-cijfers (standaard: area.year uit de config).")
@click.option("--snapshot", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Snapshotmap om te schrijven (standaard: CACHE/snapshots/<gemeente>-<jaar>).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML-config (de [venues] bepalen welke OSM-tags worden opgehaald).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Waar downloads bewaard worden (standaard: ~/.cache/wijkanalyse).")
@click.option("--refresh", is_flag=True, help="Download alles opnieuw in plaats van de bewaarde kopie te gebruiken.")
@OSM_PBF
def fetch(
    gemeente: str, year: int | None, dest: Path | None, config_path: Path | None, cache_dir: Path | None, refresh: bool,
    osm_pbf: Path | None,
) -> None:
    """Haal de gegevens van CBS, PDOK en OpenStreetMap van een gemeente op in een snapshotmap (vraagt internet).

    De map wordt onder een tijdelijke naam gebouwd en pas als ze compleet is in één keer op
    haar plaats gezet. Adressen, tijdslimieten en herhalingen van de diensten staan in
    [services] van de config. Met --osm-pbf komen straten en voorzieningen uit een lokaal
    bestand in plaats van Overpass.

    Voorbeeld:

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


def _compare_text(outputs) -> str:  # noqa: ANN001
    from wijkanalyse.outputs.texts import MATCH_SHORT  # noqa: PLC0415
    from wijkanalyse.outputs.compare import format_pp, format_signed  # noqa: PLC0415

    s = outputs.summary
    rows = outputs.comparison.buurten

    def named(codes: list[str]) -> str:
        return ", ".join(f"{rows.at[c, 'buurtnaam']} ({c})" if c in rows.index else c for c in codes) or "geen"

    counts = s["matching"]
    division = ", ".join(f"{counts[k]} {MATCH_SHORT[k]}" for k in counts if counts[k])

    def points(key: str) -> str:
        return "; ".join(
            f"{p['name']}" + (f" ({p['buurtnaam']})" if p.get("buurtnaam") else "") for p in s.get(key, [])
        ) or "geen"

    lines = [
        f"{s['gemeente_name']} ({s['gemeente_code']}), {s['year_old']} → {s['year_new']}"
        + ("  [SYNTHETISCHE DEMO-GEMEENTE: verzonnen gegevens]" if s["synthetic"] else ""),
        f"  inwoners:                {format_int(s['residents_old'])} → {format_int(s['residents_new'])} "
        f"({format_signed(s['residents_change'])})",
        f"  binnen {format_int(s['threshold_m'])} m van een ontmoetingspunt: {format_int(s['residents_within_threshold_old'])} "
        f"({format_percent(s['share_within_threshold_old'])}) → {format_int(s['residents_within_threshold_new'])} "
        f"({format_percent(s['share_within_threshold_new'])}), {format_pp(s['share_within_threshold_change_pp'])}",
        f"  buurtindeling:           {division}",
        *(
            [f"  ontmoetingspunten:       {format_int(s['n_meeting_points_old'])} → {format_int(s['n_meeting_points_new'])} "
             f"(nieuw: {points('meeting_points_opened')}; verdwenen: {points('meeting_points_closed')})"]
            if "n_meeting_points_old" in s else []
        ),
        f"  nieuwe hotspots:         {named(s['hotspots_added'])}",
        f"  geen hotspot meer:       {named(s['hotspots_removed'])}",
        *(
            [f"  meest verbeterd:         {t['buurtnaam']} ({t['buurtcode']}), {format_pp(t['change_pp'])}"
             for t in s["largest_share_rises"][:1]]
        ),
        *(
            [f"  meest achteruit:         {t['buurtnaam']} ({t['buurtcode']}), {format_pp(t['change_pp'])}"
             for t in s["largest_share_falls"][:1]]
        ),
        f"  bestanden in {outputs.folder}: " + ", ".join(p.name for p in outputs.files.values()),
    ]
    return "\n".join(lines)


@cli.command()
@click.argument("old", type=click.Path(file_okay=False, path_type=Path))
@click.argument("new", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML-config voor beide jaren ('wijkanalyse config' toont de standaard).",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT,
    show_default=True, help="Uitvoermap; de bestanden komen in OUT/<gemeente>/vergelijking-<oud>-<nieuw>/.",
)
@click.option("-v", "--verbose", count=True, help="Meer voortgang op stderr (-vv voor alle details).")
@click.option("-q", "--quiet", is_flag=True, help="Geen voortgang op stderr (waarschuwingen wel).")
def compare(old: Path, new: Path, config_path: Path | None, out_dir: Path, verbose: int, quiet: bool) -> None:
    """Vergelijk twee jaren van één gemeente: wat veranderde er per buurt en kern.

    OLD en NEW zijn snapshotmappen van dezelfde gemeente (gemaakt met 'wijkanalyse fetch' of
    'wijkanalyse demo'); beide worden met dezelfde config geanalyseerd. Buurten waarvan de code
    of de grens veranderde, worden gekoppeld op waar ze liggen. Schrijft vergelijking.csv,
    vergelijking_kernen.csv, vergelijking.gpkg, vergelijking.json, kaart.html en
    vergelijking.html naar OUT/<gemeente>/vergelijking-<oud jaar>-<nieuw jaar>/.

    Voorbeeld:

        wijkanalyse compare snapshots/ermelo-2023 snapshots/ermelo-2024

        wijkanalyse demo demo-2024 && wijkanalyse demo demo-2025 --year 2025 && wijkanalyse compare demo-2024 demo-2025
    """
    from wijkanalyse import pipeline  # noqa: PLC0415 (keeps --help fast)

    _setup_logging(-1 if quiet else 1 + verbose)
    try:
        outputs = pipeline.compare(old, new, load_config(config_path), out_dir)
    except WijkanalyseError as e:
        raise click.ClickException(str(e)) from e
    click.echo(_compare_text(outputs))


def _trend_text(outputs) -> str:  # noqa: ANN001
    from wijkanalyse.outputs.texts import TREND_STATUS_LABELS  # noqa: PLC0415

    s, t = outputs.summary, outputs.trend
    years = t.years
    g, v = t.gemeente, t.verdicts

    def shares(frame) -> str:  # noqa: ANN001
        return " → ".join(format_percent(a) for a in frame["aandeel_binnen_drempel"])

    def status(row) -> str:  # noqa: ANN001
        return "" if row["status"] is None else f"  [{TREND_STATUS_LABELS[row['status']]}]"

    gv = v[v["niveau"] == "gemeente"].iloc[0]
    goal = (
        f"doel {format_percent(gv['doel'])} in {gv['doeljaar']}" if gv["doel"] is not None
        else "geen doel (--doel of [doelen] in de config)"
    )
    lines = [
        f"{s['gemeente_name']} ({s['gemeente_code']}), {' → '.join(map(str, years))}, buurtindeling van {years[-1]}"
        + ("  [SYNTHETISCHE DEMO-GEMEENTE: verzonnen gegevens]" if s["synthetic"] else ""),
        f"  binnen {format_int(s['threshold_m'])} m van een ontmoetingspunt: {shares(g)}; "
        f"verder weg in {years[-1]}: {format_int(g['inwoners_buiten_drempel'].iloc[-1])} inwoners{status(gv)}",
        f"  {goal}",
        "  per kern:",
    ]
    kern_v = v[v["niveau"] == "kern"].set_index("code")
    for kern, part in t.kernen.groupby("kern", sort=True):
        lines.append(f"    {kern}: {shares(part)}{status(kern_v.loc[kern])}")
    lines.append(f"  bestanden in {outputs.folder}: " + ", ".join(p.name for p in outputs.files.values()))
    return "\n".join(lines)


@cli.command()
@click.argument("snapshots", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option("--doel", "target", type=float, default=None,
              help="Doel: het aandeel inwoners (0-1, bijv. 0.9) binnen de loopafstand, voor de gemeente en elke kern "
              "zonder eigen doel in [doelen] van de config.")
@click.option("--doeljaar", "target_year", type=int, default=None,
              help="Het jaar waarin het doel gehaald moet zijn (standaard: het nieuwste jaar + 2).")
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML-config voor alle jaren ('wijkanalyse config' toont de standaard); [doelen] geeft doelen per kern.",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT,
    show_default=True, help="Uitvoermap; de bestanden komen in OUT/<gemeente>/trend-<eerste>-<laatste>/.",
)
@click.option("-v", "--verbose", count=True, help="Meer meldingen op stderr (-vv voor debug).")
@click.option("-q", "--quiet", is_flag=True, help="Geen voortgang op stderr (waarschuwingen wel).")
def trend(
    snapshots: tuple[Path, ...], target: float | None, target_year: int | None, config_path: Path | None,
    out_dir: Path, verbose: int, quiet: bool,
) -> None:
    """De verbetercyclus: drie of meer jaren van één gemeente, en of elke kern op koers ligt.

    SNAPSHOTS zijn snapshotmappen van dezelfde gemeente, één per jaar (in elke volgorde).
    Alle jaren komen op de buurtindeling van het nieuwste jaar. Schrijft trend.html,
    trend.xlsx en trend.json naar OUT/<gemeente>/trend-<eerste jaar>-<laatste jaar>/.

    Voorbeeld:

        wijkanalyse demo demo-2024 && wijkanalyse demo demo-2025 --year 2025 && wijkanalyse demo demo-2026 --year 2026

        wijkanalyse trend demo-2024 demo-2025 demo-2026 --doel 0.8
    """
    from wijkanalyse import pipeline  # noqa: PLC0415 (keeps --help fast)

    _setup_logging(-1 if quiet else 1 + verbose)
    try:
        outputs = pipeline.trend(list(snapshots), load_config(config_path), out_dir, target=target,
                                 target_year=target_year)
    except WijkanalyseError as e:
        raise click.ClickException(str(e)) from e
    click.echo(_trend_text(outputs))


@cli.command(name="config")
def show_config() -> None:
    """Toon de standaardconfiguratie (TOML), om te kopiëren en aan te passen.

    Example:

        wijkanalyse config > mijn-gemeente.toml
    """
    click.echo(default_config_text(), nl=False)


def main() -> None:
    """Entry point (also ``python -m wijkanalyse``): :func:`wijkanalyse._entry.main`."""
    from wijkanalyse._entry import main as entry  # noqa: PLC0415

    entry()
