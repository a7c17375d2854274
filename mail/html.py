"""The HTML part of every e-mail: a whole Polish document, no single letter at a line's end."""

from __future__ import annotations

from markupsafe import Markup

from registrations.polish import nbsp_html


def document(title: str, body: str) -> str:
    """`body` (HTML) as a document declared Polish (`lang="pl"`, so screen readers read it in
    Polish), with non-breaking spaces after one-letter words in its text."""
    page = Markup(
        '<!doctype html>\n<html lang="pl">\n<head><meta charset="utf-8"><title>{}</title></head>\n'
        "<body>{}</body>\n</html>\n"
    ).format(title, Markup(body))
    return nbsp_html(str(page))
