"""Who may sign in to the staff pages, and as what: the staff lists of the environment
(`STAFF_EMAILS`, `CHECKIN_EMAILS`) and of the organisation file, compared case-insensitively.

The lists say who may sign in, nothing more: `STAFF_EMAIL` alone receives staff e-mails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from config.organisation import Organisation
from config.settings import Settings, address_list


class Role(StrEnum):
    STAFF = "staff"  # every staff page
    CHECKIN = "checkin"  # the check-in pages only


def address_key(address: str) -> str:
    """How an address is compared and stored: without spaces around it, case-folded."""
    return address.strip().casefold()


@dataclass(frozen=True)
class StaffLists:
    staff: frozenset[str]
    checkin: frozenset[str]

    @classmethod
    def of(cls, organisation: Organisation, settings: Settings) -> StaffLists:
        return cls(
            _keys([*organisation.staff_emails, *address_list(settings.staff_emails)]),
            _keys([*organisation.checkin_emails, *address_list(settings.checkin_emails)]),
        )

    def role(self, address: str) -> Role | None:
        """The address's role now; an address on both lists is full staff."""
        key = address_key(address)
        if key in self.staff:
            return Role.STAFF
        if key in self.checkin:
            return Role.CHECKIN
        return None


def _keys(addresses: Iterable[str]) -> frozenset[str]:
    return frozenset(address_key(str(address)) for address in addresses)
