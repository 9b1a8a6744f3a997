"""App page render: the coding page of a 400-segment transcript, through ``streamlit.testing``.

Ours: ``AppTest.from_file("app.py")`` with ``CODEFRAME_DB`` pointing at a temp SQLite
database holding one generated interview of 400 segments and a coder ``bench``:

* ``code page, first render``: ``at.run()`` on the page "Code a transcript" in a fresh
  session (the app has run once on its default page and switched; that is untimed);
* ``code page, rerun after a decision``: the coding view sends one decision (a tick, through its
  outbox, as the browser does) and ``run()`` applies it and acknowledges it.

Baseline: ``AppTest.from_string`` of a minimal script that renders the same 400
segment texts with one ``st.markdown`` call (plus one button to click): its first ``run()``
is untimed like ours (it pays AppTest's one-off start-up), then ``run()`` again is timed,
and a click + ``run()``.
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Iterator

from benchmarks import corpus
from benchmarks.context import Context
from benchmarks.harness import Case, Runner

STAGE = "app"
CODER = "bench"
TIMEOUT = 120

BASELINE_SCRIPT = """
import json
import streamlit as st
texts = json.load(open({path!r}, encoding="utf-8"))
st.markdown("\\n\\n".join(texts))
st.button("next", key="cf_next")  # one click: the baseline of a rerun after an input
"""


def _checked(at):
    if at.exception:
        raise RuntimeError(f"the app raised: {at.exception[0].message}")
    return at


def _quiet_streamlit() -> None:
    """Silence 'missing ScriptRunContext' warnings that AppTest set-up logs outside a script run."""
    import logging

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("streamlit"):
            logging.getLogger(name).setLevel(logging.ERROR)


def cases(ctx: Context) -> Iterator[Case]:
    from streamlit.testing.v1 import AppTest

    _quiet_streamlit()

    from coding import service
    from coding.database.engine import DB_ENV, make_engine
    from coding.service import repo_root

    url = ctx.new_sqlite_url("app")
    engine = make_engine(url)
    service.create_project(engine, "default")
    name, data = corpus.interview_file(1, seed=ctx.seed, segments=ctx.size.app_segments)
    report = service.import_transcripts(engine, "default", [("T400.txt", data)], language="en")
    service.ensure_coder(engine, "default", CODER)
    engine.dispose()
    texts = [s.text for _, spans in service.parse_transcripts([("T400.txt", data)]) for s in spans]
    texts_path = ctx.tmp / "app_texts.json"
    texts_path.write_text(json.dumps(texts), encoding="utf-8")
    script = BASELINE_SCRIPT.format(path=str(texts_path))
    app_path = str(repo_root() / "app.py")
    notes = [f"one transcript: {report.segments} segments ({report.units} units)"]
    previous = os.environ.get(DB_ENV)
    os.environ[DB_ENV] = url

    def code_page():
        at = AppTest.from_file(app_path, default_timeout=TIMEOUT)
        at.session_state["coder"] = CODER
        _checked(at.run())
        at.switch_page("app_pages/code.py")
        return at

    def code_page_run(at):
        _checked(at.run())
        if not any("Code a transcript" in t.value for t in at.title):
            raise RuntimeError("the coding page did not render")
        return at

    def code_page_ready():
        return code_page_run(code_page())

    document = service.list_documents(engine, "default")[0].id  # the unit and code a decision ticks
    unit = next(s.id for s in service.document_view(engine, "default", document, viewer=CODER).segments if s.is_unit)
    code = service.project_codebook(engine, "default").codes()[0].id
    numbers = itertools.count(1)

    def decide(at):  # what the browser does: one tick in the view's outbox (see app_pages/_coding_view.py)
        n = next(numbers)
        event = {"coder": CODER, "id": f"bench-{n}", "seq": n, "unit_id": unit,
                 "action": "tick" if n % 2 else "untick", "code": code}
        at.session_state["cf_view"] = {"outbox": {"events": [event], "nonce": f"bench-{n}"}}
        return _checked(at.run())

    def click_next(at):
        return _checked(at.button(key="cf_next").click().run())

    def minimal():
        return AppTest.from_string(script, default_timeout=TIMEOUT)

    def minimal_ready():
        return _checked(minimal().run())

    try:
        yield Case(STAGE, "code page, first render",
                   Runner("AppTest app.py: switch_page(code.py), at.run()", code_page_run, setup=code_page,
                          warmup=code_page_ready),
                   Runner("AppTest minimal script (one st.markdown of the texts), at.run() again",
                          lambda at: _checked(at.run()), setup=minimal_ready, warmup=minimal_ready),
                   notes=notes)
        yield Case(STAGE, "code page, rerun after a decision",
                   Runner("AppTest: one tick in the coding view's outbox + run()", decide, setup=code_page_ready),
                   Runner("AppTest minimal script, click + run()", click_next, setup=minimal_ready),
                   notes=notes)
    finally:
        if previous is None:
            os.environ.pop(DB_ENV, None)
        else:
            os.environ[DB_ENV] = previous
