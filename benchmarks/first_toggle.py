"""Time the first "Suggestions" toggle in a real browser (issue 15), with and without the background warm-up.

Usage (from the repo root; needs Debian's chromium and playwright, like tests/test_browser.py)::

    .venv/bin/python benchmarks/first_toggle.py [--warm-up on|off] [--timeout 600]

Creates a fresh sample project in a temporary folder, starts ``streamlit run app.py`` on it, opens
the app, waits until the sidebar says the suggestions are ready (warm-up on), then opens "Code a
transcript" as aigerim, turns Suggestions on and measures until the suggestion panel of the
selected unit is drawn.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm-up", choices=("on", "off"), default="on")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import expect, sync_playwright

    home = Path(tempfile.mkdtemp(prefix="codeframe-toggle-"))
    env = {**os.environ, "CODEFRAME_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "CODEFRAME_WARM_UP": "1" if args.warm_up == "on" else "0"}
    env.pop("CODEFRAME_DB", None)
    env.pop("CODEFRAME_PROJECT", None)
    subprocess.run([sys.executable, "-m", "coding", "init", "--sample"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(home / "streamlit.log", "wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(args.timeout * 1000)
            expect.set_options(timeout=args.timeout * 1000)
            page.goto(base)
            expect(page.get_by_role("heading", name="Project overview")).to_be_visible()
            if args.warm_up == "on":
                expect(page.get_by_text("Suggestions ready", exact=False)).to_be_visible()
                print(f"warm-up finished {time.monotonic() - started:.1f} s after the server started")
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
            page.get_by_role("option", name="aigerim", exact=True).click()
            page.get_by_test_id("stSidebarNav").get_by_text("Code a transcript", exact=True).click()
            expect(page.get_by_role("heading", name="Code a transcript")).to_be_visible()
            expect(page.locator(".cf-selected")).to_have_count(1)
            page.wait_for_timeout(1000)
            toggle = page.get_by_text("Suggestions", exact=True).first
            clicked = time.monotonic()
            toggle.click()
            panel = page.locator(".cf-sugg").or_(page.get_by_text("the model abstains", exact=False))
            expect(panel.first).to_be_visible()
            seconds = time.monotonic() - clicked
            page.screenshot(path=str(home / "first_toggle.png"))
            print(f"first Suggestions toggle (warm-up {args.warm_up}): {seconds:.2f} s; screenshot "
                  f"{home / 'first_toggle.png'}")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
