"""One date module (``kzgeo.dates``) reads every date the manifest, the loader and the
article form take: ISO, German and English forms, impossible dates refused."""

from __future__ import annotations

import datetime as dt

import pytest

from kzgeo.corpus import check_date
from kzgeo.dates import first_date, parse_day_month_year, parse_iso
from kzgeo.ingest import IngestError, guess_date, parse_date


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Astana, 5. Januar 2024 – Der Präsident", dt.date(2024, 1, 5)),
        ("5 März 2024", dt.date(2024, 3, 5)),
        ("Wien, 12. Jänner 2023", dt.date(2023, 1, 12)),
        ("ASIEN 16.11.2025 | Vitaly Portnikov", dt.date(2025, 11, 16)),
        ("Published 2023-07-01, updated 2023-07-02", dt.date(2023, 7, 1)),
        ("March 3, 2023 - The port of Aktau", dt.date(2023, 3, 3)),
        ("DECEMBER 24 2022 Aktau", dt.date(2022, 12, 24)),
        ("30.02.2024 kein Datum, dann 1.3.2024", dt.date(2024, 3, 1)),
        ("Mai 2024 ohne Tag", None),
        ("1234567", None),
        ("", None),
    ],
)
def test_the_first_valid_date_of_a_text_in_any_form(text, date):
    assert first_date(text) == date
    assert guess_date(text) == date  # the article form's guess reads the same


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2024-04-22", dt.date(2024, 4, 22)),
        (" 2024-04-22\n", dt.date(2024, 4, 22)),
        (dt.date(2024, 4, 22), dt.date(2024, 4, 22)),
        (dt.datetime(2024, 4, 22, 23, 59), dt.date(2024, 4, 22)),
        ("2024-04-31", None),
        ("22.04.2024", None),
        ("gestern", None),
        (20240422, None),
    ],
)
def test_manifest_and_form_dates_are_iso_and_agree(value, date):
    assert parse_iso(value) == date
    assert check_date(value)[0] == date
    assert (check_date(value)[1] is None) == (date is not None)
    if date is None:
        with pytest.raises(IngestError, match="YYYY-MM-DD"):
            parse_date(value)
    else:
        assert parse_date(value) == date


def test_column_headers_are_read_day_month_year():
    assert parse_day_month_year("Kolumne vom 3.10.2024, Astana") == dt.date(2024, 10, 3)
    assert parse_day_month_year("31.9.2024") is None
