"""The bundled gemeente list: names offline, every year 2019-2025, mergers and suggestions."""

from __future__ import annotations

import pytest

from wijkanalyse import gemeenten
from wijkanalyse.cbs_tables import KERNCIJFERS, table_for_year, year_for_table
from wijkanalyse.errors import DataError


@pytest.mark.parametrize(("year", "count"), [(2019, 355), (2020, 355), (2021, 352), (2022, 345), (2023, 342),
                                             (2024, 342), (2025, 342)])
def test_as_many_gemeenten_as_cbs_counts(year: int, count: int) -> None:
    assert len(gemeenten.gemeenten_in(year)) == count


@pytest.mark.parametrize(
    ("text", "year", "code"),
    [("Ermelo", 2024, "GM0233"), ("ERMELO", 2019, "GM0233"), ("Den Bosch", 2024, "GM0796"),
     ("'s-Hertogenbosch", 2024, "GM0796"), ("Súdwest-Fryslân", 2024, "GM1900"), ("sudwest fryslan", 2021, "GM1900"),
     ("Beek (L.)", 2024, "GM0888"), ("Beekdaelen", 2019, "GM1954"), ("Appingedam", 2020, "GM0003"),
     ("Eemsdelta", 2021, "GM1979"), ("Weesp", 2022, "GM0457"), ("Voorne aan Zee", 2023, "GM1992"), ("gm233", 2024, "GM0233")],
)
def test_names_and_codes(text: str, year: int, code: str) -> None:
    assert gemeenten.find_gemeente(text, year).code == code


@pytest.mark.parametrize(
    ("text", "year", "message"),
    [("Schinnen", 2024, r"Schinnen \(GM0962\) is geen gemeente in 2024: ze hoort vanaf 2019 bij Beekdaelen \(GM1954\)"),
     ("Appingedam", 2021, r"vanaf 2021 bij Eemsdelta \(GM1979\)\. Kies die gemeente, of een jaar tot en met 2020"),
     ("Haaren", 2021, r"Boxtel \(GM0757\), Oisterwijk \(GM0824\), Tilburg \(GM0855\), Vught \(GM0865\)"),
     ("Voorne aan Zee", 2022, r"bestond in 2022 nog niet; ze bestaat vanaf 2023"),
     ("Amsterdm", 2024, r"Geen gemeente met de naam 'Amsterdm' in 2024\. Bedoelt u Amsterdam \(GM0363\)"),
     ("Bergen", 2024, r"past bij meer dan één gemeente: Bergen \(NH\.\) \(GM0373\), Bergen \(L\.\) \(GM0893\)"),
     ("Ermelo", 2018, r"loopt van 2019 tot en met 2025, niet 2018")],
)
def test_what_is_not_a_gemeente_says_why(text: str, year: int, message: str) -> None:
    with pytest.raises(DataError, match=message):
        gemeenten.find_gemeente(text, year)


def test_every_year_has_its_table_in_one_place() -> None:
    assert sorted(KERNCIJFERS) == list(range(gemeenten.FIRST_YEAR, gemeenten.LAST_YEAR + 1))
    assert table_for_year(2021) == "85039NED" and year_for_table("85984ned") == 2024
    assert year_for_table("37230ned") is None
    with pytest.raises(DataError, match="Geen CBS-tabel Kerncijfers bekend voor 2018"):
        table_for_year(2018)
