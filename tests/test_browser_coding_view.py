"""The coding view in a real browser, on a fresh server WHILE the background warm-up runs (issue 26).

A 40-key sequence of codes, moves, "nothing applies", accept, reject and undo is typed as fast as
Playwright can; then the database must hold every decision on the unit where its key was pressed,
none lost and none twice. The same again with the browser's connection cut for a while in the
middle: the decisions queue, show as pending, and land once it is back. Also: keys work right after
a transcript switch, the header marks "nothing applies" per frame, and F5 returns to the unit.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser_server import CHROMIUM, CHROMIUM_ARGS, require_chromium
from sqlmodel import Session, select

from benchmarks.browser import serve, stop
from coding import service
from coding.database.engine import make_engine
from coding.database.tables import Decision

pytestmark = pytest.mark.browser

PROJECT = "default"
CODER = "fast"
DOC = "R02"
# the sequence, then accept/reject/undo and more moves: 40 keys
KEYS = ("1 j 0 2 j 0 3 j 1 j 0 1 j 2 j 0 3 j 4 j 0 5 "
        "a j x u k 2 2 j 0 u u 6 j 1").split()


@pytest.fixture
def warm_server(sample_db_template, tmp_path):
    """A fresh app over a copy of the sample database, its warm-up ON (as after every start)."""
    db = tmp_path / "view.sqlite"
    shutil.copy(sample_db_template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    service.ensure_coder(engine, PROJECT, CODER)
    for n in range(40):  # a team: the warm-up fits every frame for every coder, so it runs for a while
        service.ensure_coder(engine, PROJECT, f"team{n:02d}")
    # the project's model is the fast word-hashing stand-in (the real one takes minutes on a loaded machine)
    registry = tmp_path / "models.yaml"
    registry.write_text("models:\n  all-MiniLM-L6-v2:\n    backend: topics:word_hashing_backend\n", encoding="utf-8")
    tests = str(Path(__file__).resolve().parent)
    env = {**os.environ, "CODEFRAME_DB": url, "HF_HUB_OFFLINE": "1", "CODEFRAME_WARM_UP": "1",
           "CODEFRAME_MODELS": str(registry),
           "PYTHONPATH": os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("CODEFRAME_PROJECT", None)
    try:
        proc, base = serve(Path(__file__).resolve().parent.parent / "app.py", env, tmp_path / "streamlit.log",
                           timeout=90)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield base, engine
    finally:
        stop(proc)
        engine.dispose()


class Expected:
    """What the keys must do, computed from the keys alone (the view's rules, written again here)."""

    def __init__(self, units: list[int], numbered: list[str], frame_of: dict[str, str], frames: list[str]):
        self.units, self.numbered, self.frame_of, self.frames = units, numbered, frame_of, frames
        self.i = 0
        self.decisions: list[tuple[int, str]] = []  # (unit, action), in order
        self.history: list[tuple[int, str, set, set]] = []  # this tab's decisions: unit, action, codes, marks
        self.codes: dict[int, set[str]] = {}
        self.marks: dict[int, set[str]] = {}

    @property
    def unit(self) -> int:
        return self.units[self.i]

    def decide(self, action: str, codes: set = frozenset(), marks: set = frozenset()) -> None:
        """Record a decision and what it changed (codes toggled, marks set or lifted), for undo."""
        self.decisions.append((self.unit, action))
        if action != "undo":
            self.history.append((self.unit, action, set(codes), set(marks)))

    def apply_code(self, code: str) -> None:
        here, marks = self.codes.setdefault(self.unit, set()), self.marks.setdefault(self.unit, set())
        lifted = {self.frame_of[code]} & marks
        marks -= lifted
        here.add(code)
        return lifted

    def key(self, key: str, suggested: str | None) -> None:
        here = self.codes.setdefault(self.unit, set())
        marks = self.marks.setdefault(self.unit, set())
        if key in "jk":
            self.i = min(max(self.i + (1 if key == "j" else -1), 0), len(self.units) - 1)
        elif key.isdigit() and key != "0":
            code = self.numbered[int(key) - 1]
            if code in here:
                here.discard(code)
                self.decide("untick", {code})
            else:
                self.decide("tick", {code}, self.apply_code(code))
        elif key == "0":
            free = [f for f in self.frames if f not in {self.frame_of[c] for c in here}]
            if free and all(f in marks for f in free):
                marks.difference_update(free)
                self.decide("clear_nothing", marks=set(free))
            elif free:
                added = set(free) - marks
                marks.update(free)
                self.decide("nothing", marks=added)
                self.i = min(self.i + 1, len(self.units) - 1)
        elif key == "a" and suggested:
            self.decide("accept", {suggested}, self.apply_code(suggested))
        elif key == "x" and suggested:
            self.decide("reject")
        elif key == "u":
            self.decide("undo")
            if self.history:
                self.undo(*self.history.pop())

    def undo(self, unit: int, action: str, codes: set, marks: set) -> None:
        here, marked = self.codes.setdefault(unit, set()), self.marks.setdefault(unit, set())
        if action in ("tick", "accept"):
            here.difference_update(codes)
            marked.update(marks)
        elif action == "untick":
            here.update(codes)
        elif action == "nothing":
            marked.difference_update(marks)
        elif action == "clear_nothing":
            marked.update(marks)
        self.i = self.units.index(unit)


def _setup(engine):
    doc = next(d.id for d in service.list_documents(engine, PROJECT) if d.name == DOC)
    units = [s.id for s in service.document_view(engine, PROJECT, doc, viewer=CODER).segments if s.is_unit]
    codebook = service.project_codebook(engine, PROJECT)
    frames = [f.id for f in codebook.frames][:2]  # two frames: suggestions are fitted for these only
    codes = [c for f in codebook.frames if f.id in frames for c in f.codes]
    return doc, units, [c.id for c in codes[:9]], {c.id: c.frame for c in codebook.codes()}, frames


def _type(page, keys, expected: Expected, *, offline_at: int | None = None, context=None) -> None:
    trace = []
    for n, key in enumerate(keys):
        if offline_at is not None and n == offline_at:
            context.set_offline(True)
            page.wait_for_function("() => !navigator.onLine")
        if offline_at is not None and n == offline_at + 8:
            # while cut off, the decisions wait in the queue and show as pending
            assert int(page.locator(".cf-view").get_attribute("data-pending")) > 0
            assert "saving" in page.locator(".cf-progress").inner_text()
            context.set_offline(False)
        suggested = None
        if key in "ax" and page.locator(".cf-sugg .cf-accept").count():  # the suggestion a/x act on, as shown
            suggested = page.locator(".cf-sugg .cf-chip").get_attribute("title").split(":")[0]
        before = expected.unit
        page.keyboard.press(key)
        expected.key(key, suggested)
        if key.isdigit():  # drawn at once, on the unit where the key was pressed
            assert page.locator(f"#cf-seg-{before}").count() == 1
        trace.append((key, expected.unit, suggested))
        if key in "jk0u":  # the selection the test expects is the one on screen
            shown = page.locator(".cf-seg.cf-selected").get_attribute("id")
            assert shown == f"cf-seg-{expected.unit}", (n, key, str(trace[20:]), page.locator(".cf-message").inner_text())


def _check_database(engine, expected: Expected, doc: int) -> None:
    with Session(engine) as session:
        rows = session.exec(select(Decision).order_by(Decision.id)).all()
    got = [(r.segment_id, r.action) for r in rows]
    assert got == expected.decisions  # each on the unit where its key was pressed, in order, none lost or doubled
    assert all(r.status == "applied" for r in rows), [(r.action, r.reason) for r in rows if r.status != "applied"]
    assert len({r.client_id for r in rows}) == len(rows)
    # and the codings and marks are exactly what the keys meant, unit by unit
    found = service.document_view(engine, PROJECT, doc, viewer=CODER)
    codes = {s.id: {c.code for c in s.codings if c.coder == CODER} for s in found.segments if s.is_unit}
    assert {u: c for u, c in codes.items() if c} == {u: c for u, c in expected.codes.items() if c}
    marks = service.unit_marks(engine, PROJECT, doc, coder=CODER)
    assert {u: set(m) for u, m in marks.items()} == {u: m for u, m in expected.marks.items() if m}


def _run(warm_server, tmp_path, *, offline: bool) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, engine = warm_server
    doc, units, numbered, frame_of, frames = _setup(engine)
    expect.set_options(timeout=120_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{base}/code?coder={CODER}&doc={doc}&unit={units[0]}&frames={','.join(frames)}")
            expect(page.get_by_text("Preparing suggestions")).to_be_visible()  # the warm-up runs
            page.get_by_text("Suggestions", exact=True).click()  # suggestions on: a/x act on the shown one
            expect(page.locator(".cf-view[data-ready='1']")).to_be_visible()
            expect(page.locator(".cf-sugg .cf-sugg-head, .cf-sugg .cf-muted")).to_be_visible()
            assert page.get_by_text("Preparing suggestions").is_visible()  # the keys come while it runs
            for part in (".cf-unittext", ".cf-code >> nth=0", ".cf-sugg"):  # what a key acts on is in view
                box = page.locator(part).bounding_box()
                assert box and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= 800, (part, box)
            expect(page.locator(".cf-seg.cf-selected")).to_have_attribute("id", f"cf-seg-{units[0]}")
            expected = Expected(units, numbered, frame_of, frames)
            _type(page, KEYS, expected, offline_at=15 if offline else None, context=context)
            expect(page.locator(".cf-view")).to_have_attribute("data-pending", "0")
            expect(page.locator(".cf-progress")).to_contain_text("all saved")
            page.screenshot(path=str(tmp_path / "after.png"))
        finally:
            browser.close()
    _check_database(engine, expected, doc)


def test_forty_keys_during_the_warm_up_land_on_their_units(warm_server, tmp_path):
    _run(warm_server, tmp_path, offline=False)


def test_forty_keys_with_the_connection_cut_in_the_middle(warm_server, tmp_path):
    _run(warm_server, tmp_path, offline=True)


def test_d_goes_through_the_units_from_the_least_certain_suggestion_with_margins_and_notes(warm_server):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright
    from topics import WordHashing

    base, engine = warm_server
    doc, units, _, _, frames = _setup(engine)
    model = WordHashing()  # the server's model (topics:word_hashing_backend)
    found = [s for f in frames for s in service.suggest(engine, PROJECT, frame=f, coder=CODER, document_id=doc,
                                                        embedder=model)]
    order = list(dict.fromkeys(s.segment_id for s in service.confidence_order(service.limit_per_unit(found, 3))))
    notes = [n for f in frames for n in service.suggestion_notes(engine, PROJECT, frame=f, coder=CODER, embedder=model)]
    start = next(u for u in units if u not in order[:2])
    expect.set_options(timeout=120_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/code?coder={CODER}&doc={doc}&unit={start}&frames={','.join(frames)}")
            page.get_by_text("Suggestions", exact=True).click()
            expect(page.locator(".cf-view[data-ready='1']")).to_be_visible()
            expect(page.locator(".cf-sugg")).to_be_visible()
            for n, unit in enumerate(order[:2], start=1):
                page.locator(".cf-view").press("d")
                expect(page.locator(".cf-seg.cf-selected")).to_have_attribute("id", f"cf-seg-{unit}")
                expect(page.locator(".cf-message")).to_contain_text(f"Doubtful {n} of {len(order)}")
                expect(page.locator(".cf-sugg .cf-score")).to_contain_text("margin")
            assert notes  # a fresh coder: the status line says what the scores are standardised on
            expect(page.locator(".cf-sugg-status")).to_have_text(" · ".join(dict.fromkeys(notes)))
        finally:
            browser.close()
