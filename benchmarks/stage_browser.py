"""Browser stage: the coding page in headless chromium, click (or key) to stable, against a minimal page.

Ours: ``streamlit run app.py`` on a fresh SQLite database holding one generated interview of
400 units (40 at the small size, the CI smoke test), coded by ``bench`` in the frame
``oecd_pslc`` with **Suggestions on** (the shipped embedding model). Playwright drives Debian's
chromium with the keyboard, as a coder would, and times each action from the key press (or the
click) until the page stops changing: the script is no longer running and no DOM mutation
happened for ``QUIET_MS``; the time reported is that of the last mutation.

* ``tick`` — key ``1`` (toggles the first code, so ticks and unticks alternate);
* ``next unit`` — key ``j``;
* ``accept / reject`` — keys ``a`` / ``x`` on units that show a suggestion;
* ``page change`` — a click in the sidebar: to the Codebook, and back to the coding page.

Baseline: a minimal Streamlit page (one button and one line of text) served the same way, one
rerun per click. ``ratio`` = our median / the baseline's median. Each row gives the median, the
95th percentile (``p95``) and the range in milliseconds; the notes say how many actions were
timed and the load average during the run, since a busy machine slows both sides.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from typing import Iterator

from benchmarks import corpus
from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, chromium_missing, serve, stop
from benchmarks.context import FRAME, Context
from benchmarks.harness import RATIO_MEANING

STAGE = "browser"
CODER = "bench"
QUIET_MS = 300
UNITS = {"tiny": 20, "small": 40}  # every other size: 400 units
STEPS = {"tiny": 6, "small": 6}  # units walked through with next/tick/accept (default 40)

BASELINE_SCRIPT = """
import streamlit as st
n = st.session_state.get("n", 0)
def more():
    st.session_state["n"] = n + 1
st.button("next", key="cf_next", on_click=more)
st.write(f"clicked {n} times")
"""

OBSERVE = """() => {
  const options = {subtree: true, childList: true, attributes: true, characterData: true};
  if (!window.__benchObserver) {
    window.__benchLast = performance.now();
    window.__benchObserver = new MutationObserver(() => { window.__benchLast = performance.now(); });
    window.__benchObserver.observe(document.body, options);
    window.__benchRoots = new WeakSet();
  }
  // the coding view draws inside its component's shadow root: observe that DOM too (once it is there)
  for (const el of document.querySelectorAll("*")) {
    if (el.shadowRoot && !window.__benchRoots.has(el.shadowRoot)) {
      window.__benchRoots.add(el.shadowRoot);
      window.__benchObserver.observe(el.shadowRoot, options);
    }
  }
}"""
STATE = """() => { const e = document.querySelector('[data-test-script-state]');
  return [performance.now(), window.__benchLast, e ? e.getAttribute('data-test-script-state') : null]; }"""


def _transcript(units: int, seed: int) -> bytes:
    """A generated interview with at least ``units`` respondent sentences."""
    from coding import service

    segments = units  # about two thirds of the segments are respondent sentences: grow until enough
    while True:
        _, data = corpus.interview_file(1, seed=seed, segments=segments)
        found = sum(s.is_unit for _, spans in service.parse_transcripts([("T.txt", data)]) for s in spans)
        if found >= units:
            return data
        segments += max(5, (units - found) // 2)


def timed(page, act) -> float:
    """Milliseconds from ``act()`` until the last DOM change of the rerun it caused."""
    page.evaluate(OBSERVE)
    start = page.evaluate("() => performance.now()")
    act()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now, last, state = page.evaluate(STATE)
        if state != "running" and last > start and now - last >= QUIET_MS:
            return last - start
        if state != "running" and last <= start and now - start > 5000:
            raise RuntimeError("the action changed nothing on the page")
        time.sleep(0.01)
    raise RuntimeError("the page did not settle within 60 s")


def _quiet(page, quiet_ms: int = 600) -> None:
    page.evaluate(OBSERVE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        now, last, state = page.evaluate(STATE)
        if state == "notRunning" and now - last >= quiet_ms:
            return
        time.sleep(0.05)
    raise RuntimeError("the page did not settle within 180 s")


def _walk(page, steps: int) -> dict[str, list[float]]:
    """Next, tick (twice) and, where a suggestion shows, accept or reject: the coder's loop."""
    times: dict[str, list[float]] = {"tick": [], "next unit": [], "accept / reject": []}
    accept = True
    for _ in range(steps):
        times["next unit"].append(timed(page, lambda: page.keyboard.press("j")))
        if page.locator(".cf-sugg .cf-accept").count():
            key = "a" if accept else "x"
            times["accept / reject"].append(timed(page, lambda: page.keyboard.press(key)))
            accept = not accept
        times["tick"].append(timed(page, lambda: page.keyboard.press("1")))
        times["tick"].append(timed(page, lambda: page.keyboard.press("1")))
    return times


def _row(measurement: str, ms: list[float], base: list[float], notes: list[str], size: str) -> dict:
    def p95(values):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]

    median = statistics.median(ms)
    return {
        "stage": STAGE, "measurement": measurement, "size": size, "unit": "ms", "items": len(ms),
        "repeats": len(ms), "median": median, "p95": p95(ms), "min": min(ms), "max": max(ms),
        "seconds": {"median": median / 1000, "min": min(ms) / 1000, "max": max(ms) / 1000},
        "peak_python_mb": None, "peak_rss_mb": None, "rss_method": None,
        "ours": "the coding page in headless chromium, key or click to stable",
        "baseline": {"name": "minimal Streamlit page, one rerun per click", "median": statistics.median(base),
                     "p95": p95(base), "min": min(base), "max": max(base)},
        "ratio": median / statistics.median(base), "ratio_meaning": RATIO_MEANING,
        "notes": [f"{len(ms)} actions timed, p95 {p95(ms):.0f} ms; baseline p95 {p95(base):.0f} ms", *notes],
    }


def cases(ctx: Context) -> Iterator[dict]:
    if chromium_missing():
        raise RuntimeError(chromium_missing())
    from playwright.sync_api import sync_playwright

    from coding import service
    from coding.database.engine import DB_ENV, make_engine
    from coding.service import repo_root

    units = UNITS.get(ctx.size.name, 400)
    steps = STEPS.get(ctx.size.name, 40)
    url = ctx.new_sqlite_url("browser")
    engine = make_engine(url)
    service.create_project(engine, "default")
    report = service.import_transcripts(engine, "default", [("T400.txt", _transcript(units, ctx.seed))],
                                        language="en")
    service.ensure_coder(engine, "default", CODER)
    doc = service.list_documents(engine, "default")[0].id
    engine.dispose()
    baseline_script = ctx.tmp / "browser_baseline.py"
    baseline_script.write_text(BASELINE_SCRIPT, encoding="utf-8")
    env = {**os.environ, DB_ENV: url, "HF_HUB_OFFLINE": "1"}
    env.pop("CODEFRAME_PROJECT", None)
    ours, ours_url = serve(repo_root() / "app.py", env, ctx.tmp / "browser_app.log", timeout=120)
    base, base_url = serve(baseline_script, env, ctx.tmp / "browser_baseline.log", timeout=120)
    load = [os.getloadavg()[0]]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(180_000)
                page.goto(base_url)
                _quiet(page)
                minimal = [timed(page, lambda: page.locator(".st-key-cf_next button").click())
                           for _ in range(max(10, steps))]
                ctx.log(f"  {STAGE}: baseline median {statistics.median(minimal):.0f} ms")

                page.goto(f"{ours_url}/code?coder={CODER}&doc={doc}&frames={FRAME}")
                page.get_by_role("heading", name="Code a transcript").wait_for()
                _quiet(page)
                page.locator(".st-key-_suggest_toggle label").first.click()  # suggestions on (model loads)
                page.locator(".cf-sugg .cf-sugg-head, .cf-sugg .cf-muted").first.wait_for()
                _quiet(page)
                page.locator(".cf-view[data-ready='1']").wait_for()
                ctx.log(f"  {STAGE}: walking {steps} units of {report.units} with suggestions on")
                times = _walk(page, steps)
                load.append(os.getloadavg()[0])
                nav = page.get_by_test_id("stSidebarNav")
                times["page change"] = []
                for _ in range(3 if ctx.size.name in ("tiny", "small") else 5):
                    times["page change"].append(timed(page, lambda: nav.get_by_text("Codebook", exact=True).click()))
                    times["page change"].append(
                        timed(page, lambda: nav.get_by_text("Code a transcript", exact=True).click()))
                load.append(os.getloadavg()[0])
            finally:
                browser.close()
    finally:
        stop(ours)
        stop(base)
    notes = [f"one transcript of {report.units} units ({report.segments} segments), frame {FRAME}, suggestions on",
             f"load average (1 min) {min(load):.1f}-{max(load):.1f} on {os.cpu_count()} CPUs during the run"]
    for measurement, ms in times.items():
        if ms:
            yield _row(measurement, ms, minimal, notes, ctx.size.name)
    if not times["accept / reject"]:
        ctx.log(f"  {STAGE}: no unit showed a suggestion, so accept / reject was not timed")
