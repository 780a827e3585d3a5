"""Read dates as manifests and articles write them: ISO (2024-04-22), German (22.04.2024,
5. Januar 2024) and English (March 3, 2023). Each reader returns a date or None, never raises."""

from __future__ import annotations

import datetime as dt
import re

MONTHS: dict[str, int] = {
    "januar": 1, "jänner": 1, "january": 1, "februar": 2, "february": 2, "märz": 3,
    "maerz": 3, "march": 3, "april": 4, "mai": 5, "may": 5, "juni": 6, "june": 6, "juli": 7,
    "july": 7, "august": 8, "september": 9, "oktober": 10, "october": 10, "november": 11,
    "dezember": 12, "december": 12,
}
_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_ISO = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"

# The forms a text may write a date in, in no order: the first one in the text wins.
DATE_FORMS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b" + _ISO + r"\b"),
    re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})\b"),
    re.compile(r"\b(?P<day>\d{1,2})\.?\s+" + _MONTH + r"\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\b", re.I),
)


def _date_of(found: re.Match[str]) -> dt.date | None:
    """Return the date a match of one of ``DATE_FORMS`` names, or None if there is none."""
    year, month, day = found.group("year", "month", "day")
    number = int(month) if month.isdigit() else MONTHS[month.lower()]
    try:
        return dt.date(int(year), number, int(day))
    except ValueError:
        return None


def parse_iso(value: object) -> dt.date | None:
    """Return ``value`` as a date: a date, a date-time, or text written YYYY-MM-DD; else None.

    >>> parse_iso("2024-04-22"), parse_iso(" 2024-04-22 "), parse_iso(dt.datetime(2024, 4, 22, 9))
    (datetime.date(2024, 4, 22), datetime.date(2024, 4, 22), datetime.date(2024, 4, 22))
    >>> parse_iso("2024-02-30"), parse_iso("22.04.2024"), parse_iso(""), parse_iso(None)
    (None, None, None, None)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    found = re.fullmatch(_ISO, value.strip()) if isinstance(value, str) else None
    return _date_of(found) if found else None


def parse_day_month_year(text: str | None) -> dt.date | None:
    """Return the first date written D.M.YYYY in ``text``, or None.

    >>> parse_day_month_year("ASIEN 16.11.2025 | Vitaly Portnikov")
    datetime.date(2025, 11, 16)
    >>> parse_day_month_year(None), parse_day_month_year("32.1.2025")
    (None, None)
    """
    found = re.search(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})", text or "")
    return _date_of(found) if found else None


def first_date(text: str | None) -> dt.date | None:
    """Return the first valid date written in ``text`` in any of ``DATE_FORMS``, or None.

    >>> first_date("Astana, 5. Januar 2024 – Der Präsident ...")
    datetime.date(2024, 1, 5)
    >>> first_date("ASIEN 16.11.2025 | Vitaly Portnikov"), first_date("March 3, 2023: Aktau")
    (datetime.date(2025, 11, 16), datetime.date(2023, 3, 3))
    >>> first_date("2024-02-30"), first_date(""), first_date(None)
    (None, None, None)
    """
    found = [
        (match.start(), date)
        for form in DATE_FORMS
        for match in form.finditer(text or "")
        if (date := _date_of(match)) is not None
    ]
    return min(found, key=lambda item: item[0])[1] if found else None
