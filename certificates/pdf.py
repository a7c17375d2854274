"""The certificate as a one-page A4 PDF (fpdf2, DejaVu Sans as the printed lists use): the
title, the number, the text, the date and place of issue, the signatory, and the verification
URL with its QR code. Polish typography: no line ends with a one-letter word."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from checkin.codes import qr_png
from registrations.polish import date_text, nbsp
from staff.pdf import FAMILY, _add_fonts

TITLE = "Zaświadczenie o udziale"


@dataclass(frozen=True)
class CertificatePage:
    number: str  # `<n>/<year>`
    text: str
    issued_on: date
    place: str
    organisation: str
    signatory_name: str | None
    signatory_role: str | None
    verification_url: str


def _lines(pdf: FPDF, width: float, height: float, text: str, align: str) -> None:
    """A paragraph, the next one starting at the left margin below it."""
    pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_certificate(page: CertificatePage) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(f"{TITLE} nr {page.number}")
    pdf.set_author(page.organisation)
    _add_fonts(pdf)
    pdf.set_auto_page_break(False)
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    pdf.set_font(FAMILY, "", 11)
    _lines(pdf, 0, 6, nbsp(page.organisation), "C")
    pdf.ln(25)
    pdf.set_font(FAMILY, "B", 24)
    _lines(pdf, 0, 12, TITLE, "C")
    pdf.set_font(FAMILY, "", 13)
    _lines(pdf, 0, 8, f"nr {page.number}", "C")
    pdf.ln(18)
    pdf.set_font(FAMILY, "", 14)
    _lines(pdf, 0, 8, nbsp(page.text), "L")
    pdf.ln(18)
    pdf.set_font(FAMILY, "", 11)
    pdf.multi_cell(
        0,
        6,
        nbsp(f"{page.place}, {date_text(page.issued_on)}"),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if page.signatory_name:
        pdf.set_y(200)
        pdf.set_x(110)
        _lines(pdf, 75, 6, "." * 40, "C")
        pdf.set_x(110)
        pdf.set_font(FAMILY, "B", 11)
        pdf.multi_cell(
            75, 6, nbsp(page.signatory_name), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        if page.signatory_role:
            pdf.set_x(110)
            pdf.set_font(FAMILY, "", 10)
            pdf.multi_cell(
                75, 5, nbsp(page.signatory_role), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
    pdf.image(io.BytesIO(qr_png(page.verification_url)), x=25, y=237, w=30, h=30)
    pdf.set_xy(60, 242)
    pdf.set_font(FAMILY, "", 9)
    pdf.multi_cell(
        125,
        5,
        "Autentyczność zaświadczenia można sprawdzić pod adresem:",
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_x(60)
    _lines(pdf, 125, 5, page.verification_url, "L")
    return bytes(pdf.output())
