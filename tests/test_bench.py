"""The benchmark keeps working: `python -m bench.compare` run end to end at a tiny size.

No timing is asserted (speed is measured by running the benchmark, on demand); what is checked
is that every system ran, nothing was lost or duplicated where the service promises it, and the
tables replaced the generated part of the results file and left the findings alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

from bench.compare import BEGIN, END, LABELS
from tests.conftest import POSTGRES_URL, PROJECT, postgres_available

TINY = [
    "--n", "20", "--warmup", "5", "--rounds", "2", "--concurrency", "10",
    "--workers", "2", "--threads", "4",
    "--latency", "0.05", "--healthy-latency", "0.02", "--delay-n", "5", "--per-second", "20",
    "--closeoff-n", "30", "--burst", "5", "--sheet-timeout", "60",
]  # fmt: skip


def table_row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_benchmark_runs_every_system_and_rewrites_only_its_part_of_the_results(
    tmp_path: Path,
) -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    results = tmp_path / "RESULTS.md"
    findings = "## Findings\n\nWritten by hand; the benchmark leaves it alone.\n"
    results.write_text(f"# Benchmark results\n\n{BEGIN}\nold table\n{END}\n\n{findings}")

    run = subprocess.run(
        [sys.executable, "-m", "bench.compare", *TINY, "--results", str(results)]
        + ["--postgres", POSTGRES_URL, "--db-prefix", f"{make_url(POSTGRES_URL).database}_bench"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=380,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    text = results.read_text(encoding="utf-8")
    assert text.endswith(findings) and "old table" not in text
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    for system, label in LABELS.items():
        _, throughput, p50, p99, lost, duplicated, writes, *_ = table_row(text, label)
        assert " /s" in throughput and p50.endswith(" ms") and " ms" in p99
        if system != "naive":
            assert (lost, duplicated) == ("0 of 50", "0")  # two rounds of 5 + 20
        if system.startswith("service"):
            assert "× floor; rounds " in throughput and "× floor" in p99
            assert "per submission" in writes
    assert "| a row's delay into the sheet, 5 submissions" in text
    assert re.search(r"\| a burst of 5 cancellations .* \| [1-9]\d* write calls", text)
    assert re.search(
        r"\| `close-off --event … --force` of 30 .* \| [\d.]+ s, [1-9]\d* API calls", text
    )
    assert re.search(r"\| `export --list participants --format xlsx` .* peak RSS [1-9]", text)
    assert re.search(r"\| `export --list attendance` .* peak RSS [1-9]", text)
