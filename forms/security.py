"""The headers a security review expects, on every answer: pages, error pages, JSON, static.

Nothing here allows inline scripts or styles: the pages take their CSS from /static/ only.
The private-link pages keep their stricter `Referrer-Policy: no-referrer` (`views.keep_private`).
"""

from __future__ import annotations

from flask import Flask, Response

from config.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours


def security_headers(https: bool) -> dict[str, str]:
    """The headers every answer carries; HSTS only when the service is reached over HTTPS."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def init_app(app: Flask, settings: Settings) -> None:
    headers = security_headers(settings.public_base_url.startswith("https://"))

    @app.after_request
    def _add_headers(response: Response) -> Response:
        response.headers.update(headers)
        # A stricter policy set by the view (the private-link pages) stays.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
