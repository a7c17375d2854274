"""`python -m sheets_emulator`: run the Sheets API emulator standalone, in the foreground."""

from __future__ import annotations

import argparse

from .server import EmulatorServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Google Sheets API v4 emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument(
        "--write-quota-per-minute",
        type=int,
        default=None,
        help="answer 429 RESOURCE_EXHAUSTED to writes beyond this many per rolling minute",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args(argv)
    server = EmulatorServer(
        args.host, args.port, write_quota_per_minute=args.write_quota_per_minute, quiet=args.quiet
    )
    print(f"Sheets API emulator listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
