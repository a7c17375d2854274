"""Polish as the service writes it: counts declined, dates with `r.`, no lone letter at line ends.

One module for every page (as Jinja filters, see `forms.formatting`), e-mail and printed list,
so the same number or date never reads two ways. The plural form is Babel's choice
(`Locale('pl').plural_form(n)`: one, few, many), each phrase listing its three forms once; dates
use Babel's `pl` month and weekday names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel import Locale
from babel.dates import format_date, format_datetime

from registrations.event import Event

PL = Locale("pl")
NBSP = "\u00a0"


@dataclass(frozen=True)
class Phrase:
    """A noun phrase in its three Polish plural forms: `1 miejsce`, `2 miejsca`, `5 miejsc`."""

    one: str
    few: str
    many: str

    def form(self, n: int) -> str:
        """The form `n` takes (Babel's plural category of `n` in Polish)."""
        category = PL.plural_form(n)
        if category == "one":
            return self.one
        if category == "few":
            return self.few
        return self.many

    def __call__(self, n: int) -> str:
        """`n` with the phrase in its form: `22 potwierdzone osoby`."""
        return f"{n} {self.form(n)}"


PEOPLE = Phrase("osoba", "osoby", "osób")
CONFIRMED_PEOPLE = Phrase("potwierdzona osoba", "potwierdzone osoby", "potwierdzonych osób")
SEATS = Phrase("miejsce", "miejsca", "miejsc")
FREE_SEATS = Phrase("wolne miejsce", "wolne miejsca", "wolnych miejsc")
NIGHTS = Phrase("noc", "noce", "nocy")
CHANGES = Phrase("zmiana", "zmiany", "zmian")
PORTIONS = Phrase("porcja", "porcje", "porcji")
ENTERPRISES = Phrase("przedsiębiorstwo", "przedsiębiorstwa", "przedsiębiorstw")


def plural(n: int, one: str, few: str, many: str) -> str:
    """`n` and the form of the phrase it takes: a Jinja filter (`{{ n|plural('osoba', …) }}`)."""
    return Phrase(one, few, many)(n)


def overbooked(confirmed: int, capacity: int) -> str:
    """`5 potwierdzonych osób na 3 miejsca – 2 ponad limit` (or `… na 30 miejsc` within it)."""
    text = f"{CONFIRMED_PEOPLE(confirmed)} na {SEATS(capacity)}"
    if confirmed > capacity:
        text += f" – {confirmed - capacity} ponad limit"
    return text


# -- dates -----------------------------------------------------------------------------------


def date_pl(value: date) -> str:
    """`22 sierpnia 2018` (a date inside a sentence that adds `r.` itself)."""
    return format_date(value, "d MMMM y", locale=PL)


def date_text(value: date) -> str:
    """`22 sierpnia 2018 r.`"""
    return f"{date_pl(value)} r."


def weekday_date(value: date) -> str:
    """`poniedziałek, 27 sierpnia 2018 r.`"""
    return f"{format_date(value, 'EEEE', locale=PL)}, {date_text(value)}"


def datetime_pl(value: datetime) -> str:
    """`22 sierpnia 2018 r., godz. 14:03`, in the datetime's own zone."""
    day = format_datetime(value, "d MMMM y", tzinfo=value.tzinfo, locale=PL)
    return f"{day} r., godz. {value:%H:%M}"


def span_pl(start: date, end: date) -> str:
    """Days from `start` to `end` without the closing `r.`: `27–28 sierpnia 2018`,
    `31 sierpnia – 2 września 2018`, `31 grudnia 2018 r. – 2 stycznia 2019`."""
    if start == end:
        return date_pl(start)
    if start.year != end.year:
        return f"{date_text(start)} – {date_pl(end)}"
    if start.month == end.month:
        return f"{start.day}–{date_pl(end)}"  # an en dash, no spaces: "27–28 sierpnia 2018"
    return f"{format_date(start, 'd MMMM', locale=PL)} – {date_pl(end)}"


def span_text(start: date, end: date) -> str:
    """`27–28 sierpnia 2018 r.`"""
    return f"{span_pl(start, end)} r."


def night_text(night: date) -> str:
    """The night from `night` to the next day: `z 27 na 28 sierpnia 2018 r.`"""
    after = night + timedelta(days=1)
    if night.year != after.year:
        return f"z {date_text(night)} na {date_text(after)}"
    if night.month != after.month:
        return f"z {format_date(night, 'd MMMM', locale=PL)} na {date_text(after)}"
    return f"z {night.day} na {date_text(after)}"


def nights_text(first: date, last_morning: date) -> str:
    """The nights between two days: `Nocleg z 27 na 28 sierpnia 2018 r.`, or for several
    `Noclegi od 27 do 30 sierpnia 2018 r. (3 noce)`."""
    count = (last_morning - first).days
    if count <= 1:
        return f"Nocleg {night_text(first)}"
    return f"Noclegi od {_from_to(first, last_morning)} ({NIGHTS(count)})"


def _from_to(start: date, end: date) -> str:
    if start.year != end.year:
        return f"{date_text(start)} do {date_text(end)}"
    if start.month != end.month:
        return f"{format_date(start, 'd MMMM', locale=PL)} do {date_text(end)}"
    return f"{start.day} do {date_text(end)}"


# -- line breaks -----------------------------------------------------------------------------

# A one-letter word (w, z, i, o, u, a, either case) and the spaces after it, before a word; or
# at the very end (the word after it is in the next piece of markup: `z <a>organizatorem</a>`).
_SINGLE_LETTER = re.compile(r"(?<![\w\-.@/&#])([wziouaWZIOUA])[ \t\r\n]+(?=\S)")
_SINGLE_LETTER_AT_END = re.compile(r"(?<![\w\-.@/&#])([wziouaWZIOUA])[ \t\r\n]+$")


def nbsp(text: str, *, continued: bool = False) -> str:
    """`text` with a non-breaking space after each one-letter word, so none ends a line.

    For rendered text only (pages, HTML e-mails, PDFs): never form values, JSON, the sheet,
    CSV/XLSX or an e-mail's text part, where the character would be data. `continued`: the
    text goes on after this piece (inline markup follows), so a letter at its end counts too.
    """
    text = _SINGLE_LETTER.sub(rf"\1{NBSP}", text)
    if continued:
        text = _SINGLE_LETTER_AT_END.sub(rf"\1{NBSP}", text)
    return text


def unbroken(text: str) -> str:
    """Text that must never break across lines (a phone number): every space non-breaking."""
    return text.replace(" ", NBSP)


_MARKUP = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z0-9]+)")
# Elements whose text is data, not prose: a textarea's text is the value the form sends.
_VERBATIM = frozenset({"textarea", "script", "style", "pre", "code"})
# Elements inside a line of text: a one-letter word before one is still in the same line.
_INLINE = frozenset({"a", "strong", "em", "b", "i", "span", "abbr", "small", "time", "code"})


def nbsp_html(html: str) -> str:
    """`nbsp` over the text of an HTML document only: tags and their attributes (form values
    among them) and the text of `textarea`, `pre`, `code`, `script` and `style` stay as they are.

    The service's HTML is escaped by Jinja or markupsafe, so a `>` never stands inside a tag.
    """
    parts = _MARKUP.split(html)
    verbatim: str | None = None
    for index, part in enumerate(parts):
        if index % 2:
            tag = _TAG_NAME.match(part)
            if tag is None:
                continue
            closing, name = tag.group(1) == "/", tag.group(2).lower()
            if verbatim is None and not closing and name in _VERBATIM:
                verbatim = name
            elif closing and name == verbatim:
                verbatim = None
        elif verbatim is None and part:
            following = _TAG_NAME.match(parts[index + 1]) if index + 1 < len(parts) else None
            opens_inline = (
                following is not None
                and following.group(1) != "/"
                and following.group(2).lower() in _INLINE
            )
            parts[index] = nbsp(part, continued=opens_inline)
    return "".join(parts)


def event_dates(event: Event) -> str:
    """The event's days without the closing `r.`: `27–28 sierpnia 2018`."""
    return span_pl(event.starts_on, event.ends_on)


def event_dates_text(event: Event) -> str:
    """The event's days: `27–28 sierpnia 2018 r.`"""
    return span_text(event.starts_on, event.ends_on)


def event_when(event: Event) -> str:
    """The event's days, with its hours when the event file gives them:
    `27–28 sierpnia 2018 r. (początek 27 sierpnia o godz. 9:00, zakończenie 28 sierpnia
    o godz. 16:00)`."""
    days = event_dates_text(event)
    hours = []
    if event.start_time is not None:
        start = format_date(event.starts_on, "d MMMM", locale=PL)
        hours.append(f"początek {start} o godz. {event.start_time.hour}:{event.start_time:%M}")
    if event.end_time is not None:
        end = format_date(event.ends_on, "d MMMM", locale=PL)
        hours.append(f"zakończenie {end} o godz. {event.end_time.hour}:{event.end_time:%M}")
    return f"{days} ({', '.join(hours)})" if hours else days
