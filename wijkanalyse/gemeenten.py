"""Gemeenten by code or by name, offline: the bundled list of every gemeente 2019-2025.

``wijkanalyse/data/gemeenten.csv`` holds one row per gemeente that existed on 1 January of
any year from 2019 to 2025, plus the gemeenten that merged on 1 January 2019 (so that a
user typing "Schinnen" hears it is part of Beekdaelen since 2019). Columns:

``code``
    CBS code, ``GMxxxx``.
``naam``
    the name CBS uses in its "gemeenten alfabetisch" list (e.g. ``Beek``).
``vanaf`` / ``tot_en_met``
    first and last year (1 January) the gemeente existed; empty = before 2019 / still.
``opgegaan_in``
    for a gemeente that ended: the code(s) of the gemeente(n) it went into.
``cbs_naam``
    the name with a province suffix that CBS uses in some tables (``Beek (L.)``).
``provinciecode`` / ``provincie``
    the province (``PV25``, ``Gelderland``; CBS spells Friesland ``Fryslân``); empty for the
    gemeenten that ended on 1 January 2019, which no year of the list has.

Sources: CBS "Gemeentelijke indeling op 1 januari" 2021 and 2023 (CSV copies in the public
repository edugis-repo/cbsbuurtwijkgemeente), CBS 85755NED "Gebieden in Nederland 2024"
(via loukanton/woonikveilig) and the CBS wijk- en buurtkaart 2025 gemeente layer
(cartomap/nl); 2019, 2020 and 2022 follow from the mergers listed in the file, which are
checked against the CBS counts (355, 355, 352, 345, 342, 342, 342 for 2019-2025).
The provinces come from the same CBS "Gemeenten alfabetisch" lists of 2021 and 2023
(columns ``ProvinciecodePV``, ``Provincienaam``); the four gemeenten that ended in 2019 or
2020 (Appingedam, Delfzijl, Loppersum, Haaren) take the province of the gemeente they went
into, which is their own. No gemeente changed province from 2019 to 2025, and the
gemeenten of 2023 are those of 2024 and 2025, so these lists cover every year.

Names match case- and accent-insensitively, with or without the province suffix, and a
few everyday names ("Den Bosch", "Den Haag") are known aliases.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from wijkanalyse.errors import DataError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "PROVINCES",
    "Gemeente",
    "all_gemeenten",
    "find_gemeente",
    "find_province",
    "gemeenten_in",
    "gemeenten_in_province",
]

FIRST_YEAR, LAST_YEAR = 2019, 2025
#: Everyday names that are not the official name.
ALIASES = {
    "den bosch": "GM0796",
    "s hertogenbosch": "GM0796",
    "hertogenbosch": "GM0796",
    "den haag": "GM0518",
    "the hague": "GM0518",
    "s gravenhage": "GM0518",
    "nuenen": "GM0820",
    "sudwest friesland": "GM1900",
    "noordoost friesland": "GM1970",
    "de friese meren": "GM1940",
}
#: The twelve provinces (CBS code -> name as CBS spells it).
PROVINCES = {
    "PV20": "Groningen", "PV21": "Fryslân", "PV22": "Drenthe", "PV23": "Overijssel", "PV24": "Flevoland",
    "PV25": "Gelderland", "PV26": "Utrecht", "PV27": "Noord-Holland", "PV28": "Zuid-Holland", "PV29": "Zeeland",
    "PV30": "Noord-Brabant", "PV31": "Limburg",
}
#: Everyday province names that are not CBS's.
PROVINCE_ALIASES = {"friesland": "PV21", "brabant": "PV30"}
_CODE_RE = re.compile(r"\s*(?:GM)?\s*(\d{1,4})\s*", flags=re.IGNORECASE)


@dataclass(frozen=True)
class Gemeente:
    """One gemeente of the bundled list."""

    code: str
    name: str
    first_year: int | None  # None: existed before 2019
    last_year: int | None  # None: still exists
    successors: tuple[str, ...] = ()
    cbs_name: str = ""
    province_code: str = ""  # PV20..PV31; "" for the gemeenten that ended on 1 January 2019
    province: str = ""

    def exists_in(self, year: int) -> bool:
        """True when the gemeente existed on 1 January of ``year``."""
        return (self.first_year is None or self.first_year <= year) and (
            self.last_year is None or year <= self.last_year
        )


def _fold(text: str) -> str:
    """Lower case, no accents, no punctuation, no province suffix: the form names are compared in."""
    text = re.sub(r"\((?:[a-z]{1,3}\.?)+\)", " ", text, flags=re.IGNORECASE)  # "Beek (L.)", "Bergen (NH.)"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text).split())


@functools.cache
def all_gemeenten() -> tuple[Gemeente, ...]:
    """Every gemeente of the bundled list (2019-2025, plus those merged on 1 January 2019)."""
    text = resources.files("wijkanalyse").joinpath("data/gemeenten.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        out.append(Gemeente(
            code=row["code"],
            name=row["naam"],
            first_year=int(row["vanaf"]) if row["vanaf"] else None,
            last_year=int(row["tot_en_met"]) if row["tot_en_met"] else None,
            successors=tuple(row["opgegaan_in"].split()),
            cbs_name=row["cbs_naam"],
            province_code=row.get("provinciecode", ""),
            province=row.get("provincie", ""),
        ))
    return tuple(out)


def gemeenten_in(year: int) -> list[Gemeente]:
    """The gemeenten that existed on 1 January of ``year``."""
    return [g for g in all_gemeenten() if g.exists_in(year)]


def _by_code() -> dict[str, Gemeente]:
    return {g.code: g for g in all_gemeenten()}


def _gone(gemeente: Gemeente, year: int) -> str:
    names = _by_code()
    into = ", ".join(f"{names[c].name} ({c})" for c in gemeente.successors if c in names)
    if gemeente.last_year is not None and year > gemeente.last_year:
        earlier = f", of een jaar tot en met {gemeente.last_year}" if gemeente.last_year >= FIRST_YEAR else ""
        return (
            f"{gemeente.name} ({gemeente.code}) is geen gemeente in {year}: ze hoort vanaf {gemeente.last_year + 1} "
            f"bij {into}. Kies die gemeente{earlier}."
        )
    return f"{gemeente.name} ({gemeente.code}) bestond in {year} nog niet; ze bestaat vanaf {gemeente.first_year}. Kies een later jaar met --year."


def find_gemeente(text: str, year: int) -> Gemeente:
    """Find a gemeente of ``year`` by CBS code ('GM0233', '233') or name ('ermelo', "Den Bosch").

    Raises
    ------
    DataError
        When nothing matches (with up to three suggestions), when the gemeente did not
        exist in ``year`` (naming the gemeente it went into), or when the year is outside
        the bundled list.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        msg = f"De gemeentelijst loopt van {FIRST_YEAR} tot en met {LAST_YEAR}, niet {year}. Kies met --year een jaar daartussen."
        raise DataError(msg)
    codes = _by_code()
    if m := _CODE_RE.fullmatch(text):
        code = f"GM{int(m[1]):04d}"
        if code not in codes:
            msg = f"{text.strip()!r} is geen CBS-gemeentecode van {FIRST_YEAR}-{LAST_YEAR}. Geef een code zoals GM0233 of een naam zoals Ermelo."
            raise DataError(msg)
        found = codes[code]
    else:
        folded = _fold(text)
        if not folded:
            msg = "Geef een gemeente als CBS-code (GM0233) of naam (Ermelo)."
            raise DataError(msg)
        candidates = [g for g in all_gemeenten() if folded in (_fold(g.name), _fold(g.cbs_name or g.name))]
        if not candidates and folded in ALIASES:
            candidates = [codes[ALIASES[folded]]]
        if not candidates:
            pool = {_fold(g.name): g for g in gemeenten_in(year)} | {k: codes[v] for k, v in ALIASES.items()}
            close = difflib.get_close_matches(folded, list(pool), n=3, cutoff=0.6)
            seen: list[Gemeente] = []
            for key in close:
                if pool[key] not in seen:
                    seen.append(pool[key])
            hint = f" Bedoelt u {', '.join(f'{g.name} ({g.code})' for g in seen)}?" if seen else ""
            msg = f"Geen gemeente met de naam {text.strip()!r} in {year}.{hint} Geef de CBS-naam of -code (GMxxxx)."
            raise DataError(msg)
        current = [g for g in candidates if g.exists_in(year)]
        if len(current) > 1:
            options = ", ".join(f"{g.cbs_name or g.name} ({g.code})" for g in current)
            msg = f"{text.strip()!r} past bij meer dan één gemeente: {options}. Geef de code."
            raise DataError(msg)
        found = current[0] if current else candidates[0]
    if not found.exists_in(year):
        raise DataError(_gone(found, year))
    return found


def find_province(text: str) -> str:
    """The CBS code (``PV25``) of a province given by name ("Gelderland", "friesland", "Noord Brabant") or code.

    Raises
    ------
    DataError
        When no province matches, with the twelve names.
    """
    folded = _fold(text)
    for code, name in PROVINCES.items():
        if folded in (_fold(name), code.lower(), code[2:]):
            return code
    if folded in PROVINCE_ALIASES:
        return PROVINCE_ALIASES[folded]
    close = difflib.get_close_matches(folded, [_fold(n) for n in PROVINCES.values()], n=1, cutoff=0.6)
    hint = f" Bedoelt u {next(n for n in PROVINCES.values() if _fold(n) == close[0])}?" if close else ""
    msg = f"Geen provincie met de naam {text.strip()!r}.{hint} Kies een van: {', '.join(PROVINCES.values())}."
    raise DataError(msg)


def gemeenten_in_province(province: str, year: int) -> list[Gemeente]:
    """The gemeenten of ``province`` (name or PV code) that existed on 1 January of ``year``."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        msg = f"De gemeentelijst loopt van {FIRST_YEAR} tot en met {LAST_YEAR}, niet {year}. Kies met --year een jaar daartussen."
        raise DataError(msg)
    code = find_province(province)
    return [g for g in gemeenten_in(year) if g.province_code == code]
