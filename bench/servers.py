"""The processes bench/compare.py runs: the Sheets emulator and gunicorn, each on a free port,
plus peak-RSS sampling (psutil) of gunicorn's workers and of one-off commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil
import requests

PROJECT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Until `url` gives any HTTP answer; fails at once if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer in {timeout:g} s") from None
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], graceful: bool = True) -> None:
    """SIGTERM (gunicorn: graceful) or SIGQUIT (gunicorn: at once) and wait; SIGKILL if it does
    not go in 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM if graceful else signal.SIGQUIT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Emulator:
    """`python -m sheets_emulator` in its own process, steered over its /_emulator/ API."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.host_port = f"127.0.0.1:{self.port}"
        self.control = f"http://{self.host_port}/_emulator"
        command = [sys.executable, "-m", "sheets_emulator", "--port", str(self.port), "--quiet"]
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=PROJECT, stdout=output, stderr=subprocess.STDOUT
            )
        wait_until_answering(f"{self.control}/stats", self.process, 30)
        self.http = requests.Session()

    def prepare(self, latency: float, writes_per_minute: int | None) -> str:
        """Forget everything, set Google's latency and quota; a new spreadsheet's ID."""
        self.http.post(f"{self.control}/reset").raise_for_status()
        if latency:
            rule = {"action": "delay", "seconds": latency, "times": -1}
            self.http.post(f"{self.control}/faults", json=rule).raise_for_status()
        self.set_quota(writes_per_minute)
        book = self.http.post(f"{self.control}/spreadsheets", json={"title": "bench"})
        book.raise_for_status()
        spreadsheet_id: str = book.json()["spreadsheetId"]
        return spreadsheet_id

    def set_quota(self, writes_per_minute: int | None) -> None:
        """Writes beyond this many in a rolling minute answer 429 (from now on)."""
        quota = {"writeRequestsPerMinute": writes_per_minute}
        self.http.post(f"{self.control}/quota", json=quota).raise_for_status()

    def stats(self) -> dict[str, int]:
        answer = self.http.get(f"{self.control}/stats")
        answer.raise_for_status()
        counts: dict[str, int] = answer.json()
        return counts

    def clear_stats(self) -> None:
        self.http.delete(f"{self.control}/requests").raise_for_status()

    def values(self, spreadsheet_id: str, title: str) -> list[list[str]]:
        """A worksheet's values as staff see them, read beside the API: neither counted nor
        delayed ([] while it does not exist)."""
        answer = self.http.get(
            f"{self.control}/spreadsheets/{spreadsheet_id}/values", params={"sheet": title}
        )
        if answer.status_code == 404:
            return []
        answer.raise_for_status()
        values: list[list[str]] = answer.json()["values"]
        return values

    def close(self) -> None:
        stop(self.process)


class Gunicorn:
    """gunicorn `-w WORKERS --threads THREADS` on a free port; samples its workers' RSS."""

    def __init__(
        self,
        config: Path,
        app: str | None,
        env: dict[str, str],
        log: Path,
        workers: int = 4,
        threads: int = 8,
        graceful: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(config),
            "-w", str(workers), "--threads", str(threads),
            "-b", f"127.0.0.1:{self.port}", "--no-control-socket",
        ]  # fmt: skip
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, *([app] if app else [])],
                cwd=PROJECT,
                env={**os.environ, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.workers = workers
        self.graceful = graceful  # stop letting the workers finish (and release their lease)
        self.peaks: dict[int, int] = {}  # worker pid -> peak RSS in bytes
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Gunicorn:
        try:
            wait_until_answering(self.url + "/", self.process, 120)
            self._wait_for_workers(60)
        except BaseException:
            stop(self.process)
            raise
        self._sampler.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._sampling.set()
        self._sampler.join()
        stop(self.process, self.graceful)
        for pid in self.peaks:  # a worker the master left behind on a quick stop: not for long
            try:
                worker = psutil.Process(pid)
                if "gunicorn" in " ".join(worker.cmdline()):
                    worker.kill()
            except psutil.Error:
                pass

    def _wait_for_workers(self, timeout: float) -> None:
        """gunicorn answers as soon as one worker is up; the load waits for all of them."""
        deadline = time.monotonic() + timeout
        while len(psutil.Process(self.process.pid).children()) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn's workers did not all start")
            time.sleep(0.1)
        time.sleep(1.0)  # each worker builds its app after it forks

    def _sample(self) -> None:
        master = psutil.Process(self.process.pid)
        while not self._sampling.wait(0.1):
            try:
                children = master.children()
            except psutil.NoSuchProcess:
                return
            for worker in children:
                try:
                    rss = worker.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                self.peaks[worker.pid] = max(self.peaks.get(worker.pid, 0), rss)

    @property
    def peak_worker_mib(self) -> float:
        """The largest peak RSS of any worker so far."""
        return max(self.peaks.values(), default=0) / MIB


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command to its end: seconds, peak RSS in MiB (it and its children, sampled every
    20 ms) and its output; raises when it fails."""
    start = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    watched = psutil.Process(process.pid)
    peak = 0
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    while process.poll() is None:
        try:
            tree: list[Any] = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.02)
    seconds = time.monotonic() - start
    reader.join()
    text = b"".join(output).decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{text}")
    return seconds, peak / MIB, text
