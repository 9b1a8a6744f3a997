"""Codeframe: the Streamlit front end (``streamlit run app.py``, or ``make app``).

A thin layer over :mod:`coding.service`: the database is ``$CODEFRAME_DB`` (default the
embedded SQLite file), the project ``$CODEFRAME_PROJECT`` (default "default"). On first
start the project is created with the shipped codebook and the sample corpus, loaded in the
background while every page shows its progress (``app_pages._boot``, ``_common.ensure_project``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # so the pages can import app_pages._common
    sys.path.insert(0, str(HERE))

# The favicon is an emoji, drawn by the browser from an inline SVG: Streamlit fetches a ":material/...:" page icon
# from fonts.gstatic.com, and nothing may be fetched at run time (tests/test_browser_offline.py).
st.set_page_config(page_title="Codeframe", page_icon="🏷️", layout="wide")

from app_pages import _boot  # noqa: E402 - light: Streamlit and coding.paths only

PAGES = {
    "Project": [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("app_pages/code.py", title="Code a transcript", icon=":material/edit_note:"),
        st.Page("app_pages/codebook.py", title="Codebook", icon=":material/menu_book:"),
    ],
    "Analysis": [
        st.Page("app_pages/agreement.py", title="Agreement & adjudication", icon=":material/fact_check:"),
        st.Page("app_pages/shares.py", title="Shares (Figure 1)", icon=":material/bar_chart:"),
        st.Page("app_pages/instruments.py", title="Instruments", icon=":material/radar:"),
        st.Page("app_pages/retrieve.py", title="Retrieve & report", icon=":material/manage_search:"),
    ],
    "Setup": [
        st.Page("app_pages/import_data.py", title="Import", icon=":material/upload_file:"),
        st.Page("app_pages/settings.py", title="Settings", icon=":material/settings:"),
    ],
}

# The first run of a server process: a message at once, the heavy imports in a thread. The pages are
# registered (hidden) in that run too, so the page the URL names (e.g. /code?doc=3) is still the one
# shown when the run after the imports comes.
_boot.first_paint(lambda: st.navigation(PAGES, position="hidden"))

from app_pages import _common as common  # noqa: E402

try:  # a database fault (read-only, disk full, server gone) is one message, and the next run recovers
    engine = common.engine()
    project = common.project_name()
    common.ensure_project(engine, project)
    # team mode: nothing below runs until someone signs in; the pages are registered (hidden) meanwhile, so the
    # page and query of the address (F5, a shared link) are where the sign-in lands
    common.sign_in_gate(engine, project, register_pages=lambda: st.navigation(PAGES, position="hidden"))
    common.sidebar(engine, project)
    common.warm_up_progress(engine, project)

    if common.signed_in():  # team mode: accounts
        PAGES["Team"] = [
            st.Page("app_pages/account.py", title="Your account", icon=":material/person:"),
            st.Page("app_pages/users.py", title="Users", icon=":material/group:"),
        ]

    st.navigation(PAGES).run()
except Exception as exc:  # noqa: BLE001 - only database faults are caught; anything else is raised again
    common.stop_on_database_fault(exc)
