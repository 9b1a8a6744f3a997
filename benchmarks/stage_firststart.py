"""First-start stage: ``streamlit run app.py`` on an empty data folder, in headless chromium.

Ours: a fresh server on a fresh SQLite file (no project yet, so the app loads the sample corpus in
the background). The browser opens the page as soon as the server answers its health check, as
``make app`` does, and we time from that navigation:

* ``first paint (progress shown)`` — until the page shows "Loading the sample corpus…" (or, had the
  load finished already, the overview);
* ``usable overview`` — until the overview shows its 24 documents (the "Documents" metric and the
  documents table) and the script has stopped running.

A second tab is opened while the first still shows the progress; the notes say whether it showed the
same progress (the wanted behaviour) rather than an empty project. The notes also give both times
counted from the server's launch and the load average.

Baseline: a minimal Streamlit page (one line of text) on a fresh server, timed the same way from
navigation to its text. ``ratio`` = our median / the baseline's median. Each repeat is a new
server on a new data folder (``--repeats``; the small size runs 1).
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from benchmarks.browser import stop
from benchmarks.context import Context
from benchmarks.harness import RATIO_MEANING

STAGE = "firststart"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROGRESS_TEXT = "Loading the sample corpus"
BASELINE_TEXT = "minimal page ready"
BASELINE_SCRIPT = f'import streamlit as st\nst.write("{BASELINE_TEXT}")\n'
OVERVIEW_READY = """() => {
  const h = [...document.querySelectorAll('h1')].some(e => e.textContent.includes('Project overview'));
  const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
    .some(e => e.textContent.includes('Documents') && e.textContent.includes('24'));
  const t = document.querySelector('[data-testid="stDataFrame"]');
  const s = document.querySelector('[data-test-script-state]');
  return h && m && !!t && (!s || s.getAttribute('data-test-script-state') !== 'running');
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(script: Path, env: dict, log_path: Path, cwd: Path) -> tuple[subprocess.Popen, str, float]:
    """Start ``streamlit run script``; wait until healthy. Returns the process, its URL, seconds to healthy."""
    port = _free_port()
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, base, time.perf_counter() - started
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not start: {log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def first_start(browser, app: Path, env: dict, tmp: Path) -> dict:
    """One first start on a fresh data folder: seconds to first paint and to a usable overview, second tab."""
    data = Path(tempfile.mkdtemp(prefix="firststart-", dir=tmp))
    env = {**env, "CODEFRAME_DB": f"sqlite:///{data / 'codeframe.sqlite'}"}
    proc, url, healthy = serve(app, env, data / "app.log", app.parent)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_function(
            f"() => document.body.innerText.includes({PROGRESS_TEXT!r}) || ({OVERVIEW_READY})()", polling=20)
        paint = time.perf_counter() - start
        shown = page.evaluate("() => document.body.innerText")
        second = None
        if PROGRESS_TEXT in shown:  # the load is running: a second tab must show the same progress
            other = browser.new_page(viewport={"width": 1400, "height": 1000})
            other.goto(url)
            other.wait_for_function(
                f"() => document.body.innerText.includes({PROGRESS_TEXT!r}) || "
                "document.body.innerText.includes('Project overview')", polling=20)
            text = other.evaluate("() => document.body.innerText")
            second = "progress" if PROGRESS_TEXT in text else ("overview" if "No documents yet" not in text
                                                               else "EMPTY PROJECT")
            other.close()
        page.wait_for_function(OVERVIEW_READY, polling=20)
        usable = time.perf_counter() - start
        page.close()
    finally:
        stop(proc)
    log = (data / "app.log").read_text(errors="replace")
    found = re.search(r"sample corpus of project .* loaded in ([0-9.]+) s", log)
    return {"paint": paint, "usable": usable, "healthy": healthy, "second_tab": second,
            "load_s": float(found.group(1)) if found else None,
            "progress_seen": PROGRESS_TEXT in shown, "first_text": " | ".join(line for line in shown.strip().splitlines() if line.strip())[:300]}


def baseline_start(browser, script: Path, env: dict, tmp: Path) -> dict:
    proc, url, healthy = serve(script, env, tmp / "firststart_baseline.log", script.parent)
    try:
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(url)
        page.get_by_text(BASELINE_TEXT).wait_for()
        paint = time.perf_counter() - start
        page.close()
    finally:
        stop(proc)
    return {"paint": paint, "healthy": healthy}


def _row(measurement: str, ours: list[float], base: list[float], notes: list[str], size: str) -> dict:
    median = statistics.median(ours)
    return {
        "stage": STAGE, "measurement": measurement, "size": size, "unit": "s", "items": None,
        "repeats": len(ours), "median": median, "min": min(ours), "max": max(ours),
        "seconds": {"median": median, "min": min(ours), "max": max(ours)},
        "peak_python_mb": None, "peak_rss_mb": None, "rss_method": None,
        "ours": "streamlit run app.py on an empty data folder, headless chromium, from navigation",
        "baseline": {"name": "minimal Streamlit page on a fresh server, navigation to its text",
                     "median": statistics.median(base), "min": min(base), "max": max(base),
                     "seconds": {"median": statistics.median(base), "min": min(base), "max": max(base)}},
        "ratio": median / statistics.median(base), "ratio_meaning": RATIO_MEANING, "notes": list(notes),
    }


def cases(ctx: Context) -> Iterator[dict]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install chromium); the stage never downloads a browser")
    from playwright.sync_api import sync_playwright

    from coding.service import repo_root

    app = repo_root() / "app.py"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for name in ("CODEFRAME_PROJECT", "CODEFRAME_DB", "CODEFRAME_WARM_UP"):
        env.pop(name, None)
    script = ctx.tmp / "firststart_baseline.py"
    script.write_text(BASELINE_SCRIPT, encoding="utf-8")
    repeats = 1 if ctx.size.name in ("tiny", "small") else ctx.repeats
    runs, bases, load = [], [], [os.getloadavg()[0]]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                bases.append(baseline_start(browser, script, env, ctx.tmp))
                runs.append(first_start(browser, app, env, ctx.tmp))
                load.append(os.getloadavg()[0])
                ctx.log(f"  {STAGE}: first paint {runs[-1]['paint']:.2f} s, usable overview {runs[-1]['usable']:.2f} s "
                        f"(healthy after {runs[-1]['healthy']:.2f} s, sample load {runs[-1]['load_s']} s), "
                        f"second tab: {runs[-1]['second_tab']}, "
                        f"load {load[-1]:.1f}")
        finally:
            browser.close()
    base = [b["paint"] for b in bases]
    notes = [
        f"from server launch: healthy {statistics.median(r['healthy'] for r in runs):.2f} s, first paint "
        f"{statistics.median(r['healthy'] + r['paint'] for r in runs):.2f} s, usable overview "
        f"{statistics.median(r['healthy'] + r['usable'] for r in runs):.2f} s (median of {len(runs)})",
        f"progress message shown at first paint: {sum(r['progress_seen'] for r in runs)} of {len(runs)} runs; "
        f"second tab during the load showed: {', '.join(str(r['second_tab']) for r in runs)}",
        "the sample load itself (server log): " + ", ".join(f"{r['load_s']:.2f} s" if r["load_s"] else "?" for r in runs),
        f"baseline server healthy after {statistics.median(b['healthy'] for b in bases):.2f} s",
        f"load average (1 min) {min(load):.1f}-{max(load):.1f} on {os.cpu_count()} CPUs during the run",
    ]
    yield _row("first paint (progress shown)", [r["paint"] for r in runs], base, notes, ctx.size.name)
    yield _row("usable overview", [r["usable"] for r in runs], base, notes, ctx.size.name)
