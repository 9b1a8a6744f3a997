"""Starting the app for a browser: Debian's chromium and ``streamlit run`` with the launch options every
browser test and the browser benchmark use.

Imported by ``benchmarks/stage_browser.py`` and, through ``tests/browser_server.py``, by the browser
tests; it needs only the standard library, so ``python -m benchmarks`` and pytest both reach it
from a clean clone.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING = (f"{CHROMIUM} is missing: install Debian's chromium (`make browser`, or `apt-get install chromium`); "
           "the browser tests and the browser stage never download a browser")


def chromium_missing() -> str | None:
    """Why no browser can run (the message to fail with), or None when chromium is there."""
    return None if Path(CHROMIUM).exists() else MISSING


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(script: Path, env: dict, log_path: Path, *, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` headless on a free local port, from the repository root (so its
    .streamlit/config.toml applies), its output in ``log_path``; waits until healthy and returns the
    process and the base address. RuntimeError with the end of the log if it does not start."""
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"streamlit did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server; kill it if it does not stop within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
