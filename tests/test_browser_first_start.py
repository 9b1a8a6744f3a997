"""First start in a real headless chromium: ``streamlit run app.py`` on an empty data folder.

The first page shows the sample load's progress ("Loading the sample corpus: … of 24 transcripts…"),
a second tab opened during the load shows the same progress (never an empty project), and the
overview with its 24 documents follows. Timing is asserted only loosely here (a busy CI machine);
the real figures come from ``python -m benchmarks --stages firststart``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.stage_firststart import CHROMIUM, CHROMIUM_ARGS, first_start  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make browser)")
def test_first_start_shows_progress_at_once_in_every_tab(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CODEFRAME_WARM_UP": "0"}
    env.pop("CODEFRAME_PROJECT", None)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            run = first_start(browser, ROOT / "app.py", env, tmp_path)
        finally:
            browser.close()
    assert run["progress_seen"], run["first_text"]
    assert "Loading the sample corpus: " in run["first_text"] and " of 24 transcripts" in run["first_text"], run
    assert run["second_tab"] == "progress", run
    assert run["paint"] < 30 and run["usable"] < 120, run  # loose: the benchmark reports the real times
