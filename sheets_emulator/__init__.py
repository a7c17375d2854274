"""A local, in-memory Google Sheets API v4 emulator the real gspread client can talk to.

Built to prove our Sheets sync against Google's actual behaviour (table detection on append,
RAW vs USER_ENTERED parsing, column moves) and against failures (quota, revoked shares, lost
answers, dropped connections) without a Google account.
"""

from .api import create_emulator_app
from .faults import FaultRule
from .server import EmulatorServer
from .snapshot import CellInfo, SheetInfo
from .state import EmulatorState, LoggedRequest

__all__ = [
    "CellInfo",
    "EmulatorServer",
    "EmulatorState",
    "FaultRule",
    "LoggedRequest",
    "SheetInfo",
    "create_emulator_app",
]
