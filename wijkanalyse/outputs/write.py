"""Write the tables: GeoPackage for QGIS, CSV for Excel, JSON key figures for machines.

Every file is written to a temporary name beside the target and renamed when complete, so
an interrupted run never leaves a corrupt file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from wijkanalyse import _atomic
from wijkanalyse.outputs._common import for_file, jsonable, neutralise_frame
from wijkanalyse.outputs.texts import with_labels
from wijkanalyse.result import RunResult

__all__ = ["write_csv", "write_geopackage", "write_summary", "write_table_csv"]

#: GeoPackage layers: layer name -> RunResult attribute (a layer whose attribute is None is left out).
LAYERS = {
    "buurten": "buurten", "inwoners": "residents", "voorzieningen": "venues", "gaten": "gaps",
    "kernen": "kernen", "voorstellen": "proposals", "makelaarsgebieden": "broker_areas",
    "scenario_wijzigingen": "scenario_changes", "scenario_punten": "scenario_points",
}
#: Extra CSV tables: file name -> RunResult attribute (written when present).
TABLES = {"kernen.csv": "kernen", "voorstellen.csv": "proposals", "makelaarsgebieden.csv": "broker_areas",
          "scenarios.csv": "scenario_figures"}


def _max_attach_m(result: RunResult) -> float | None:
    network = result.summary.get("network") if isinstance(result.summary, dict) else None
    return network.get("max_attach_m") if isinstance(network, dict) else None


def _scenario_buurten(result: RunResult) -> gpd.GeoDataFrame | None:
    """Each scenario's buurt figures on the buurt polygons (layer ``scenario_buurten``); None without scenarios."""
    figures = getattr(result, "scenario_figures", None)
    if figures is None or len(figures) == 0:
        return None
    rows = figures[figures["niveau"] == "buurt"].drop(columns="niveau").rename(columns={"code": "buurtcode", "naam": "buurtnaam"})
    shapes = result.buurten[["buurtcode", result.buurten.geometry.name]].reset_index(drop=True)
    joined = rows.merge(shapes, on="buurtcode", how="left")
    return gpd.GeoDataFrame(joined, geometry=result.buurten.geometry.name, crs=result.buurten.crs)


def write_geopackage(result: RunResult, path: Path) -> Path:
    """Write buurten, inwoners (resident cells), voorzieningen, gaten, ... as layers of one GeoPackage.

    With scenarios also ``scenario_buurten`` (each scenario's buurt figures on the buurt
    polygons), ``scenario_wijzigingen`` (the cells whose reach changes) and ``scenario_punten``.
    """

    def writer(tmp: Path) -> None:
        for layer, attr in LAYERS.items():
            frame = getattr(result, attr, None)
            if frame is not None:
                frame = with_labels(frame, max_attach_m=_max_attach_m(result))
                for_file(frame).to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
        scenario_buurten = _scenario_buurten(result)
        if scenario_buurten is not None:
            for_file(scenario_buurten).to_file(tmp, layer="scenario_buurten", driver="GPKG", engine="pyogrio")

    return _atomic.write_with(path, writer)


def write_csv(result: RunResult, path: Path) -> Path:
    """Write the buurt table as CSV for Dutch Excel: ';' separated, decimal comma, UTF-8 with BOM.

    Each indicator column is followed by ``<indicator>_gemeente`` and ``<indicator>_nederland``
    (``result.reference``), the same figure for the whole gemeente and the Netherlands. Text that
    a spreadsheet would run as a formula (a name starting with ``=``, ``+``, ``-``, ``@``, tab or
    CR) gets a leading ``'`` (:func:`wijkanalyse.outputs.tables.neutralise`).
    """
    table = pd.DataFrame(with_labels(result.buurten).drop(columns=result.buurten.geometry.name)).reset_index(drop=True)
    for key in reversed([k for k in result.indicators if k in table.columns and k in result.reference.index]):
        at = cast(int, table.columns.get_loc(key)) + 1  # unique columns: an int
        table.insert(at, f"{key}_nederland", cast(float, result.reference.loc[key, "nederland"]))
        table.insert(at, f"{key}_gemeente", cast(float, result.reference.loc[key, "gemeente"]))
    return write_table_csv(table, path)


def _whole_numbers(table: pd.DataFrame) -> pd.DataFrame:
    """Float columns that hold only whole numbers (counts: inwoners, kosten, rangen) as integers: "1025", not "1025,000"."""
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        values = out[col].to_numpy(dtype=float)
        known = values[~np.isnan(values)]
        if known.size and np.all(np.isfinite(known)) and np.all(known == np.round(known)):
            out[col] = pd.array(np.round(values), dtype="Float64").astype("Int64")
    return out


def write_table_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write any table as CSV for Dutch Excel (';', decimal comma, UTF-8 with BOM); geometry is left out.

    Formula prefixes in text cells are neutralised like :func:`write_csv` does.
    """
    if isinstance(table, gpd.GeoDataFrame):
        table = pd.DataFrame(table.drop(columns=table.geometry.name))
    table = neutralise_frame(_whole_numbers(table.reset_index(drop=True)))
    text = table.to_csv(sep=";", decimal=",", index=False, float_format="%.3f", lineterminator="\r\n")
    return _atomic.write_text(path, "\ufeff" + text)


def write_summary(summary: dict[str, Any], path: Path) -> Path:
    """Write the key figures as ``samenvatting.json`` (UTF-8, sorted as given)."""
    text = json.dumps(jsonable(summary), indent=2, ensure_ascii=False) + "\n"
    return _atomic.write_text(path, text)
