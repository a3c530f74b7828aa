"""Which CBS table holds which year: the one place the table ids live.

CBS publishes "Kerncijfers wijken en buurten" as a new OData table every year, each with
its own id and its own column numbering (``AantalInwoners_5``, ``Koopwoningen_40`` in 2021,
``Koopwoningen_47`` in 2024). Columns are therefore resolved by name through the table's
``DataProperties`` (see :func:`wijkanalyse.model.resolve_column`), never by number.

The ids were checked against several independent public code bases that query the live
service (2019-2025 all agree); see the project README.
"""

from __future__ import annotations

from wijkanalyse.errors import DataError

__all__ = ["KERNCIJFERS", "table_for_year", "year_for_table"]

#: CBS "Kerncijfers wijken en buurten" table id per year of the figures.
KERNCIJFERS: dict[int, str] = {
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
    2025: "86165NED",
}


def table_for_year(year: int) -> str:
    """Return the CBS table id of ``year``; an unknown year is a one-line error listing the known ones."""
    if year not in KERNCIJFERS:
        years = ", ".join(str(y) for y in sorted(KERNCIJFERS))
        msg = f"Geen CBS-tabel Kerncijfers bekend voor {year}. Kies met --year een van {years}."
        raise DataError(msg)
    return KERNCIJFERS[year]


def year_for_table(table: str) -> int | None:
    """Return the year whose figures table ``table`` holds, or None for a table not listed here."""
    wanted = table.strip().upper()
    return next((year for year, tid in KERNCIJFERS.items() if tid.upper() == wanted), None)
