"""Printed lists as PDF (fpdf2): one table renderer for every list, and sheets of name badges.

Layout is worked out by small pure functions over a text-measuring function (column widths,
line wrapping, what goes on a badge), so it is tested without a PDF; the FPDF subclasses only
draw. Every text is set in DejaVu Sans from `staff/fonts/`, so Polish letters print right on
any machine and nothing is needed from the system.
"""

from __future__ import annotations

import gc
import io
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, TTFFont

Table = list[list[str]]
# Width in mm of a text set at a size (pt), bold or not.
Measure = Callable[[str, float, bool], float]

FONT_DIR = Path(__file__).with_name("fonts")
FAMILY = "DejaVuSans"
PT = 25.4 / 72  # mm in a point
LEADING = 1.2  # line height as a multiple of the font size
MARGIN = 12.0  # mm around the page's content
CELL_PADDING = (1.2, 1.0)  # mm above/below and beside a table cell's text
MAX_CELL_LINES = 15  # a longer cell is cut with "…": a row must fit on one page
ELLIPSIS = "…"
GREY = 100  # 0 black … 255 white
AUTHOR = "OWES Zielona Góra"


@dataclass(frozen=True)
class Block:
    """One table; its first row is the header, repeated on every page the table spans."""

    table: Table
    widths: tuple[float, ...] | None = None  # relative; measured from the content when None
    min_row_height: float | None = None  # mm, e.g. room to sign


@dataclass(frozen=True)
class Section:
    """Pages of their own, numbered apart ("Strona 1 z 2"): one day's attendance, one list.

    `signatures`: fields to sign below the tables (the organiser's, on an attendance list),
    each a label over a dotted line, kept together on one page.
    """

    heading: str
    blocks: tuple[Block, ...]
    signatures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A printed list: its title and the event's lines head each section's first page."""

    title: str
    lines: tuple[str, ...]
    footer: str
    sections: tuple[Section, ...]
    made_at: datetime
    landscape: bool = False
    font_size: float = 10.0
    logo: bytes | None = None  # a strip of logos (PNG) atop each section's first page


@dataclass(frozen=True)
class Badge:
    first_name: str
    last_name: str
    enterprise: str
    note: str = ""  # e.g. `bez zgody na wizerunek`, small at the bottom
    qr: bytes | None = None  # the check-in QR code (PNG), at the right with `label` beneath
    label: str = ""  # the registration's ID


@dataclass(frozen=True)
class Line:
    """A line of text on a badge, `top` mm below the badge's inner top edge."""

    text: str
    size: float
    bold: bool
    top: float
    muted: bool = False  # grey

    @property
    def height(self) -> float:
        return line_height(self.size)


def line_height(size: float) -> float:
    return size * PT * LEADING


# --- Pure layout ------------------------------------------------------------------------------


def fit_widths(natural: Sequence[float], minimum: Sequence[float], total: float) -> list[float]:
    """Column widths that fill `total`.

    When every column's text fits on one line they share the room in proportion to it.
    Otherwise the widest columns are narrowed to one common width (their text wraps), but
    never below their longest word, so short columns (Lp., Nocleg) stay whole. When even the
    longest words do not fit, only the columns with the longest words are narrowed further
    (those words are cut), never all columns alike.
    """
    floor = _level([max(m, 1.0) for m in minimum], [0.0] * len(minimum), total)
    want = [max(n, f) for n, f in zip(natural, floor, strict=True)]
    if sum(want) <= total:
        return [w * total / sum(want) for w in want]
    return _level(want, floor, total)


def _level(values: Sequence[float], floor: Sequence[float], total: float) -> list[float]:
    """`values` cut down to one common cap, never below `floor`, so that they sum to `total`
    (or the values as they are when they already fit)."""
    if sum(values) <= total:
        return list(values)
    low, high = 0.0, max(values)
    for _ in range(60):
        cap = (low + high) / 2
        if sum(max(f, min(v, cap)) for v, f in zip(values, floor, strict=True)) > total:
            high = cap
        else:
            low = cap
    return [max(f, min(v, low)) for v, f in zip(values, floor, strict=True)]


def words(text: str) -> list[str]:
    """The places a line may break: at spaces, never at a non-breaking one (after a one-letter
    word, inside a phone number)."""
    return [word for word in text.replace("\t", " ").replace("\n", " ").split(" ") if word]


def wrap(text: str, size: float, bold: bool, width: float, measure: Measure) -> list[str]:
    """Greedy word wrap; a word wider than the line is cut where it must be."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in words(paragraph):
            candidate = f"{line} {word}" if line else word
            if measure(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while len(line) > 1 and measure(line, size, bold) > width:
                cut = _longest_prefix(line, size, bold, width, measure)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def _longest_prefix(word: str, size: float, bold: bool, width: float, measure: Measure) -> int:
    """How much of `word` fits on a line: up to a hyphen in it if it has one, else what fits."""
    cut = len(word) - 1
    while cut > 1 and measure(word[:cut], size, bold) > width:
        cut -= 1
    hyphen = word.rfind("-", 0, cut)
    return hyphen + 1 if hyphen > 0 else cut


def clip(
    lines: list[str], count: int, size: float, bold: bool, width: float, measure: Measure
) -> list[str]:
    """At most `count` lines; when some are left out the last one kept ends with "…"."""
    if len(lines) <= count:
        return lines
    kept = lines[:count]
    last = kept[-1]
    while last and measure(last + ELLIPSIS, size, bold) > width:
        last = last[:-1]
    return [*kept[:-1], last.rstrip() + ELLIPSIS]


def fit(
    text: str, bold: bool, width: float, sizes: Sequence[float], max_lines: int, measure: Measure
) -> tuple[float, list[str]]:
    """The largest size at which `text` takes at most `max_lines` lines with no word cut;
    failing that, the smallest size, wrapped (and cut where a word is wider than the line)."""
    for size in sizes:
        lines = wrap(text, size, bold, width, measure)
        whole_words = all(measure(word, size, bold) <= width for word in words(text))
        if len(lines) <= max_lines and whole_words:
            return size, lines
    smallest = sizes[-1]
    return smallest, wrap(text, smallest, bold, width, measure)


NAME_SIZES = tuple(float(s) for s in range(28, 11, -1))
ENTERPRISE_SIZES = tuple(float(s) for s in range(13, 7, -1))
CAPTION_SIZE = 8.0
GAP = 2.5  # mm between the caption, the name and the enterprise


def badge_lines(
    badge: Badge, caption: str, width: float, height: float, measure: Measure
) -> list[Line]:
    """What a badge shows and where: the caption (the event) at the top, the first and the
    last name large in the middle, each on its line, the enterprise at the bottom.

    A note (`bez zgody na wizerunek`) takes the bottom line, in small bold type. The name
    takes the largest size at which both names fit on a line each, down to 12 pt,
    below which they wrap; the enterprise takes up to three lines, shrinking to 8 pt, and is
    cut with "…" only if a pathological name leaves no room for it.
    """
    captions = wrap(caption, CAPTION_SIZE, False, width, measure) if caption else []
    captions = clip(captions, 1, CAPTION_SIZE, False, width, measure)
    size = next(
        (
            s
            for s in NAME_SIZES
            if max(measure(badge.first_name, s, True), measure(badge.last_name, s, True)) <= width
        ),
        NAME_SIZES[-1],
    )
    names = [
        *wrap(badge.first_name, size, True, width, measure),
        *wrap(badge.last_name, size, True, width, measure),
    ]
    enterprise_size, enterprise = fit(badge.enterprise, False, width, ENTERPRISE_SIZES, 3, measure)
    notes = clip(
        wrap(badge.note, CAPTION_SIZE, True, width, measure) if badge.note else [],
        1,
        CAPTION_SIZE,
        True,
        width,
        measure,
    )
    note_height = len(notes) * line_height(CAPTION_SIZE)
    height -= note_height  # the note takes the bottom line; the rest is laid out above it
    below_caption = len(captions) * line_height(CAPTION_SIZE)
    names_height = len(names) * line_height(size)
    room = height - below_caption - GAP - names_height - GAP
    enterprise = clip(
        enterprise,
        max(int(room // line_height(enterprise_size)), 1),
        enterprise_size,
        False,
        width,
        measure,
    )
    enterprise_top = height - len(enterprise) * line_height(enterprise_size)
    names_top = below_caption + (enterprise_top - below_caption - names_height) / 2
    return [
        *_stack(captions, CAPTION_SIZE, False, 0.0, muted=True),
        *_stack(names, size, True, names_top),
        *_stack(enterprise, enterprise_size, False, enterprise_top),
        *_stack(notes, CAPTION_SIZE, True, height),
    ]


def _stack(
    texts: Sequence[str], size: float, bold: bool, top: float, muted: bool = False
) -> list[Line]:
    return [Line(t, size, bold, top + n * line_height(size), muted) for n, t in enumerate(texts)]


def clip_cell(text: str, size: float, width: float, measure: Measure) -> str:
    """A table cell's text, cut with "…" where it would make its row taller than a page."""
    lines = wrap(text, size, False, width, measure)
    if len(lines) <= MAX_CELL_LINES:
        return text
    return " ".join(clip(lines, MAX_CELL_LINES, size, False, width, measure))


def measured_widths(table: Table, size: float, total: float, measure: Measure) -> list[float]:
    """Column widths for a table's content (see `fit_widths`); headers are bold."""
    pad = 2 * CELL_PADDING[1] + 0.5
    header, *body = table
    natural, minimum = [], []
    for column, title in enumerate(header):
        cells = [row[column] for row in body]
        longest = max([measure(title, size, True), *(measure(c, size, False) for c in cells)])
        natural.append(longest + pad)
        # fpdf2 breaks lines at spaces only: a column is never narrower than its longest word.
        widest = [measure(w, size, True) for w in words(title)]
        widest += [measure(w, size, False) for c in cells for w in words(c)]
        minimum.append(max(widest, default=0.0) + pad)
    return fit_widths(natural, minimum, total)


def numeric_columns(table: Table) -> list[bool]:
    """Columns whose every body cell is a number (Lp., counts): aligned right."""
    width = len(table[0])
    body = [row for row in table[1:] if len(row) == width]
    return [
        bool(body) and all(row[c].isascii() and row[c].isdigit() for row in body)
        for c in range(width)
    ]


BADGE_SIZE = (95.0, 68.0)  # mm; 2 × 4 on an A4 sheet
BADGE_GRID = (2, 4)
BADGE_PADDING = 5.0
A4_PORTRAIT = (210.0, 297.0)
_BADGES_LEFT = (A4_PORTRAIT[0] - BADGE_GRID[0] * BADGE_SIZE[0]) / 2
_BADGES_TOP = (A4_PORTRAIT[1] - BADGE_GRID[1] * BADGE_SIZE[1]) / 2


def badge_places(count: int) -> Iterator[tuple[int, float, float]]:
    """(sheet, x, y) of the top left corner of each of `count` badges, row by row."""
    columns, rows = BADGE_GRID
    for n in range(count):
        row, column = divmod(n % (columns * rows), columns)
        x = _BADGES_LEFT + column * BADGE_SIZE[0]
        yield n // (columns * rows), x, _BADGES_TOP + row * BADGE_SIZE[1]


def cut_lines() -> list[tuple[float, float, float, float]]:
    """Lines across the whole sheet along the badges' edges, to guide scissors or a guillotine:
    neighbouring badges share an edge, so one cut frees both."""
    width, height = A4_PORTRAIT
    columns, rows = BADGE_GRID
    across = [_BADGES_TOP + r * BADGE_SIZE[1] for r in range(rows + 1)]
    down = [_BADGES_LEFT + c * BADGE_SIZE[0] for c in range(columns + 1)]
    return [(0.0, y, width, y) for y in across] + [(x, 0.0, x, height) for x in down]


LOGO_MAX_HEIGHT = 22.0  # mm: a strip of logos across the top, as EU-funded projects print them
LOGO_MAX_PIXELS = 4000  # wider pictures are scaled down first: the PDF stays small


def reencoded_logo(path: Path) -> bytes:
    """The picture as a fresh PNG: only its pixels go into the PDF (no metadata, nothing a
    crafted file could carry past Pillow), scaled down when very large."""
    from PIL import Image

    with Image.open(path) as source:
        source.load()
        image = source.convert("RGBA" if "A" in source.getbands() else "RGB")
    if max(image.size) > LOGO_MAX_PIXELS:
        image.thumbnail((LOGO_MAX_PIXELS, LOGO_MAX_PIXELS))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- Drawing ----------------------------------------------------------------------------------


def _set_up(pdf: FPDF, title: str, made_at: datetime) -> None:
    _add_fonts(pdf)
    pdf.set_font(FAMILY, size=10)
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_lang("pl")
    pdf.set_creation_date(made_at)


@contextmanager
def font_measure() -> Iterator[Measure]:
    """Widths of texts set in the shipped font, without a document to draw in."""
    pdf = FPDF()
    _add_fonts(pdf)
    try:
        yield _measure(pdf)
    finally:
        _close_fonts(pdf)


def _add_fonts(pdf: FPDF) -> None:
    pdf.add_font(FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")


def _close_fonts(pdf: FPDF) -> None:
    """fpdf2 keeps the font files open until it writes the PDF; a document never written (a
    first pass, a measuring one) closes them here."""
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.close()


def _measure(pdf: FPDF) -> Measure:
    def measure(text: str, size: float, bold: bool) -> float:
        pdf.set_font(FAMILY, "B" if bold else "", size)
        return float(pdf.get_string_width(text))

    return measure


class _ListPdf(FPDF):
    """Draws a Document: each section from a new page, its header and numbered footer."""

    def __init__(self, document: Document, totals: Sequence[int] | None) -> None:
        super().__init__(orientation="L" if document.landscape else "P", unit="mm", format="A4")
        _set_up(self, document.title, document.made_at)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 4)
        self.document = document
        self.totals = totals
        self.section = 0
        self.section_start = 1
        self.page_sections: dict[int, tuple[int, int]] = {}

    def draw(self) -> list[int]:
        """Draw every section; the number of pages each took."""
        for index, section in enumerate(self.document.sections):
            self.section, self.section_start = index, self.page + 1
            self.add_page()
            for block in section.blocks:
                self._table(block)
                self.ln(6)
            self._signatures(section.signatures)
        counts = Counter(section for section, _ in self.page_sections.values())
        return [counts[n] for n in range(len(self.document.sections))]

    def header(self) -> None:
        self.page_sections[self.page] = (self.section, self.section_start)
        document = self.document
        heading = document.sections[self.section].heading
        if self.page != self.section_start:
            running = " – ".join(filter(None, [document.title, heading]))
            self._text(f"{running} (ciąg dalszy)", 8, grey=True)
            self.ln(2)
            return
        if document.logo is not None:
            self._logo(document.logo)
        self._text(document.title, 15, bold=True)
        for line in document.lines:
            self._text(line, 10)
        if heading:
            self.ln(1.5)
            self._text(heading, 12, bold=True)
        self.ln(4)

    def footer(self) -> None:
        section, start = self.page_sections[self.page]
        total = str(self.totals[section]) if self.totals else "?"
        self.set_y(-MARGIN)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(GREY)
        self.cell(self.epw * 0.75, 5, self.document.footer, align="L")
        self.cell(self.epw * 0.25, 5, f"Strona {self.page - start + 1} z {total}", align="R")
        self.set_text_color(0)

    def _logo(self, logo: bytes) -> None:
        """The strip of logos across the top, as wide as it may be up to LOGO_MAX_HEIGHT."""
        from PIL import Image

        with Image.open(io.BytesIO(logo)) as image:
            ratio = image.height / image.width
        width = min(self.epw, LOGO_MAX_HEIGHT / ratio)
        self.image(io.BytesIO(logo), x=self.l_margin + (self.epw - width) / 2, w=width)
        self.ln(3)

    def _signatures(self, labels: Sequence[str]) -> None:
        """Fields to sign: each a label, a dotted line to sign on and what goes there."""
        if not labels:
            return
        height = 22.0 * len(labels)
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        for label in labels:
            self.ln(8)
            self._text(label, 10, bold=True)
            self.ln(8)
            self._text("." * 60, 10)
            self._text("data i czytelny podpis", 8, grey=True)

    def _text(self, text: str, size: float, bold: bool = False, grey: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(GREY if grey else 0)
        self.multi_cell(
            self.epw, line_height(size), text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.set_text_color(0)

    def _table(self, block: Block) -> None:
        size = self.document.font_size
        measure = _measure(self)
        widths = (
            [w * self.epw / sum(block.widths) for w in block.widths]
            if block.widths
            else measured_widths(block.table, size, self.epw, measure)
        )
        inner = [w - 2 * CELL_PADDING[1] for w in widths]
        header, *body = block.table
        align = tuple("RIGHT" if n else "LEFT" for n in numeric_columns(block.table))
        self.set_font(FAMILY, "", size)
        with self.table(
            col_widths=tuple(widths),
            width=self.epw,
            line_height=line_height(size),
            padding=CELL_PADDING,
            text_align=align,
            v_align="MIDDLE",
            headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
            min_row_height=block.min_row_height,
            repeat_headings=1,
        ) as table:
            table.row(header)
            for row in body:
                table.row([clip_cell(c, size, w, measure) for c, w in zip(row, inner, strict=True)])
            if not body:
                table.row().cell("(brak)", colspan=len(header))


def render_document(document: Document) -> bytes:
    """The PDF of a list. Drawn twice: the first pass counts each section's pages, so the
    footers can say "Strona 1 z 3" (footers never change the flow)."""
    first = _ListPdf(document, totals=None)
    totals = first.draw()
    _close_fonts(first)
    del first  # its pages (an attendance list has hundreds) are not kept beside the final's
    gc.collect()  # an FPDF holds cycles: freed now, not when the collector next runs
    final = _ListPdf(document, totals=totals)
    final.draw()
    return bytes(final.output())


def render_badges(badges: Sequence[Badge], caption: str, made_at: datetime) -> bytes:
    """Sheets of 8 badges (95 × 68 mm) with dashed cut lines; `caption` (the event) tops each."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    _set_up(pdf, f"Identyfikatory – {caption}", made_at)
    pdf.set_auto_page_break(False)
    measure = _measure(pdf)
    width = BADGE_SIZE[0] - 2 * BADGE_PADDING
    height = BADGE_SIZE[1] - 2 * BADGE_PADDING
    if not badges:
        pdf.add_page()
        pdf.cell(text="Brak potwierdzonych uczestników: nie ma identyfikatorów do wydruku.")
    for (sheet, x, y), badge in zip(badge_places(len(badges)), badges, strict=True):
        if sheet == pdf.page_no():  # the first badge of a new sheet (pages count from 1)
            pdf.add_page()
            _draw_cut_lines(pdf)
        text_width = width - BADGE_QR_BOX if badge.qr else width
        for line in badge_lines(badge, caption, text_width, height, measure):
            pdf.set_font(FAMILY, "B" if line.bold else "", line.size)
            pdf.set_text_color(GREY if line.muted else 0)
            pdf.set_xy(x + BADGE_PADDING, y + BADGE_PADDING + line.top)
            pdf.cell(text_width, line.height, line.text, align="C")
        if badge.qr:
            _draw_badge_qr(pdf, badge, x, y)
    return bytes(pdf.output())


BADGE_QR = 20.0  # mm: the check-in QR code's side on a badge
BADGE_QR_BOX = BADGE_QR + 3.0  # the room it takes from the text's width


def _draw_badge_qr(pdf: FPDF, badge: Badge, x: float, y: float) -> None:
    """The check-in QR code at the badge's right, the registration's ID beneath it."""
    assert badge.qr is not None
    left = x + BADGE_SIZE[0] - BADGE_PADDING - BADGE_QR
    top = y + (BADGE_SIZE[1] - BADGE_QR) / 2
    pdf.image(io.BytesIO(badge.qr), x=left, y=top, w=BADGE_QR, h=BADGE_QR)
    pdf.set_font(FAMILY, "", 7)
    pdf.set_text_color(0)
    pdf.set_xy(left - 2, top + BADGE_QR + 0.5)
    pdf.cell(BADGE_QR + 4, line_height(7), badge.label, align="C")


def _draw_cut_lines(pdf: FPDF) -> None:
    with pdf.local_context(draw_color=160, line_width=0.2):
        pdf.set_dash_pattern(dash=2, gap=2)
        for x1, y1, x2, y2 in cut_lines():
            pdf.line(x1, y1, x2, y2)
