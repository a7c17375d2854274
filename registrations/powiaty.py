"""The powiaty of the lubuskie voivodeship (TERYT codes) and tolerant matching of their names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from registrations.validators import ascii_digits


@dataclass(frozen=True)
class Powiat:
    code: str
    name: str  # as it reads after "powiat …" or, for a city, the city's name
    city: bool = False

    @property
    def label(self) -> str:
        """How the form and the sheet show it."""
        return f"miasto {self.name}" if self.city else f"powiat {self.name}"


POWIATY: dict[str, Powiat] = {
    p.code: p
    for p in (
        Powiat("0801", "gorzowski"),
        Powiat("0802", "krośnieński"),
        Powiat("0803", "międzyrzecki"),
        Powiat("0804", "nowosolski"),
        Powiat("0805", "słubicki"),
        Powiat("0806", "strzelecko-drezdenecki"),
        Powiat("0807", "sulęciński"),
        Powiat("0808", "świebodziński"),
        Powiat("0809", "zielonogórski"),
        Powiat("0810", "żagański"),
        Powiat("0811", "żarski"),
        Powiat("0812", "wschowski"),
        Powiat("0861", "Gorzów Wielkopolski", city=True),
        Powiat("0862", "Zielona Góra", city=True),
    )
}

_PREFIXES = re.compile(r"^(powiat|pow|miasto na prawach powiatu|miasto|m st|m)\s+")
_EXTRA_SPELLINGS = {"gorzow wlkp": "0861"}


def fold(text: str) -> str:
    """Lower-case ASCII form of a name: no diacritics (ł too), punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).replace("ł", "l")
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9-]+", " ", ascii_only).split())


_BY_FOLDED_NAME = {fold(p.name): p.code for p in POWIATY.values()} | _EXTRA_SPELLINGS


def find_powiat(value: str) -> Powiat | None:
    """The powiat named by a TERYT code or by its name in any common spelling."""
    compact = value.strip().replace(" ", "")
    if ascii_digits(compact):
        return POWIATY.get(compact[:4] if len(compact) == 7 else compact)
    name = _PREFIXES.sub("", fold(value))
    code = _BY_FOLDED_NAME.get(name)
    return POWIATY[code] if code else None


def describe_area(codes: list[str]) -> str:
    """The eligible area in words, as the announcement puts it."""
    districts = [POWIATY[c].name for c in codes if not POWIATY[c].city]
    cities = [POWIATY[c].name for c in codes if POWIATY[c].city]
    parts = []
    if districts:
        parts.append("powiaty " + ", ".join(districts))
    if cities:
        parts.append("miasto " + " i ".join(cities))
    return " oraz ".join(parts)
