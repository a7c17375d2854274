"""Certificates of participation (zaświadczenia): who qualifies, numbering per calendar year,
the one-page PDF, sending, reissuing, revoking and the public verification page."""
