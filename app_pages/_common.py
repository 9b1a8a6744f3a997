"""Shared plumbing of the Streamlit pages: the cached engine, the project, who is coding, chips.

No business logic lives here: every read or write goes through :mod:`coding.service`.
Only ids, names and selections are kept in ``st.session_state`` (never ORM objects or frames).
"""

from __future__ import annotations

import colorsys
import hashlib
import html
import os
import threading

import streamlit as st
from sqlalchemy.engine import Engine

from coding import service
from coding.database.engine import default_url, make_engine
from coding.errors import CodeframeError

PROJECT_ENV = "CODEFRAME_PROJECT"

# Session-state keys (plain values only).
CODER = "coder"  # the current coder's name (the sidebar selectbox "_coder_pick" copies its choice here)
DOC_ID = "doc_id"  # selected document id
SEG_ID = "seg_id"  # selected segment id
FRAMES = "frames"  # chosen frame ids on the coding page

_init_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL, shared by every session of the server."""
    return make_engine(url)


def engine() -> Engine:
    """The engine for ``$CODEFRAME_DB`` (default: the embedded SQLite file)."""
    return _engine_for(default_url())


def project_name() -> str:
    return os.environ.get(PROJECT_ENV) or service.DEFAULT_PROJECT


def ensure_project(engine: Engine, project: str) -> None:
    """On first start, create the project and load the sample corpus (once, even with several tabs open)."""
    if service.project_exists(engine, project):
        return
    with _init_lock, st.spinner("Loading the sample corpus…"):
        if service.project_exists(engine, project):
            return
        try:
            service.initialize(engine, project, sample=True)
        except CodeframeError as exc:
            st.warning(f"The project was created, but the sample corpus could not be loaded: {exc}")


def current_coder() -> str | None:
    return st.session_state.get(CODER)


def first_line(exc: BaseException) -> str:
    """The headline of an error message (its first line), for short notices."""
    return str(exc).split("\n", 1)[0]


def show_error(exc: CodeframeError) -> None:
    """Show a user error with one line per problem (file, line, field)."""
    head = first_line(exc)
    if exc.problems:
        st.error(head + "\n\n" + "\n".join(f"- {html.escape(str(p))}" for p in exc.problems))
    else:
        st.error(head)


# --------------------------------------------------------------------------- sidebar


def _add_coder(engine: Engine, project: str) -> None:
    name = (st.session_state.get("_new_coder_name") or "").strip()
    role = st.session_state.get("_new_coder_role") or "coder"
    if name == service.CONSENSUS:
        st.session_state["_sidebar_message"] = ("error", "consensus is written only by adjudication; pick another name")
        return
    try:
        st.session_state[CODER] = service.ensure_coder(engine, project, name, role=role)
        st.session_state["_coder_pick"] = name  # shown at once (the browser would keep its own value)
        st.session_state["_new_coder_name"] = ""
        st.session_state["_sidebar_message"] = ("success", f"Coder {name!r} added; you are now coding as {name}.")
    except CodeframeError as exc:
        st.session_state["_sidebar_message"] = ("error", first_line(exc))


def _remember_coder() -> None:
    st.session_state[CODER] = st.session_state.get("_coder_pick")


def sidebar(engine: Engine, project: str) -> None:
    """'Who are you?' and a small form to add a coder."""
    coders = [c for c in service.list_coders(engine, project) if not c["is_consensus"]]  # written by adjudication
    names = [c["name"] for c in coders]
    roles = {c["name"]: c["role"] for c in coders}
    with st.sidebar:
        st.markdown("### Who are you?")
        if CODER not in st.session_state and st.query_params.get("coder") in names \
                and not service.get_project(engine, project).team_mode:  # a link to the coding page names its coder
            st.session_state[CODER] = st.session_state["_coder_pick"] = st.query_params["coder"]
        if st.session_state.get(CODER) not in names:
            st.session_state.pop(CODER, None)
        current = st.session_state.get(CODER)
        st.selectbox(
            "Coder",
            names,
            index=None if "_coder_pick" in st.session_state else names.index(current) if current in names else None,
            key="_coder_pick",
            on_change=_remember_coder,
            placeholder="Choose your name",
            format_func=lambda n: f"{n} ({roles[n]})" if roles.get(n, "coder") != "coder" else n,
            help="Codings are saved under this name. In blind mode you see only your own codings.",
        )
        with st.expander("Add a coder"):
            with st.form("add_coder", clear_on_submit=False, border=False):
                st.text_input("Name", key="_new_coder_name", placeholder="e.g. aigerim")
                st.selectbox("Role", service.ROLES[:2], key="_new_coder_role",
                             help="Supervisors see everyone's codings and adjudicate.")
                st.form_submit_button("Add coder", on_click=_add_coder, args=(engine, project))
        message = st.session_state.pop("_sidebar_message", None)
        if message:
            (st.success if message[0] == "success" else st.error)(message[1])
        st.caption(f"Project **{html.escape(project)}**")


def visible_coders(engine: Engine, project: str) -> list[str] | None:
    """Whose codings the current coder may see in counts, quotes, shares and exports (None: everyone's)."""
    return service.visible_coders(engine, project, current_coder())


def require_coder() -> str | None:
    """The current coder, or an explanation of how to choose one (and None)."""
    coder = current_coder()
    if coder is None:
        st.info("Choose who you are in the sidebar (**Who are you?**) to start coding.", icon=":material/person:")
    return coder


# --------------------------------------------------------------------------- chips


def code_colour(code: str) -> tuple[str, str, str]:
    """A stable (background, border, text) colour for a code id: same id, same colour, every run."""
    digest = hashlib.md5(code.encode("utf-8")).digest()
    hue = digest[0] / 255
    def rgb(lightness: float, saturation: float) -> str:
        r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
        return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
    return rgb(0.90, 0.70), rgb(0.62, 0.45), rgb(0.25, 0.60)


def chip(code: str, label: str, *, coder: str | None = None, own: bool = True, title: str | None = None) -> str:
    """HTML of one colour chip (escaped). Others' codings get a dashed outline and their name."""
    background, border, text = code_colour(code)
    short = label if len(label) <= 34 else label[:32].rstrip() + "…"
    style = (
        f"background:{background};border:1px {'solid' if own else 'dashed'} {border};color:{text};"
    )
    suffix = f" · {html.escape(coder)}" if coder and not own else ""
    tip = html.escape(title or f"{code}: {label}", quote=True)
    return f'<span class="cf-chip" style="{style}" title="{tip}">{html.escape(short)}{suffix}</span>'


CSS = """
<style>
[data-testid="stMainBlockContainer"]{padding-top:2.2rem}
.cf-chip{display:inline-block;font-size:0.72rem;line-height:1.25;padding:1px 8px;margin:1px 3px 1px 0;
  border-radius:10px;white-space:nowrap;vertical-align:middle;font-weight:500}
.cf-turn{margin:0 0 0.7rem 0;line-height:1.55}
.cf-speaker{font-weight:600;font-size:0.78rem;text-transform:uppercase;letter-spacing:0.04em;color:#555;
  display:block;margin-bottom:1px}
.cf-interviewer{color:#8a8f98;font-style:italic}
.cf-interviewer .cf-speaker{color:#9aa0a8}
.cf-respondent{border-left:3px solid #e3e6ea;padding-left:10px}
.cf-note{color:#8a8f98}
.cf-note .cf-speaker{color:#9aa0a8}
.cf-seg{padding:1px 2px;border-radius:3px}
.cf-num{font-size:0.65rem;color:#9aa0a8;font-weight:600;margin-right:2px;vertical-align:super}
.cf-uncoded .cf-num{color:#d07a00}
.cf-selected{background:#fff3c4;box-shadow:0 0 0 2px #f3c94d}
.cf-quote{border-left:4px solid #f3c94d;background:#fffaf0;padding:10px 14px;border-radius:4px;
  font-size:1.02rem;line-height:1.5;margin:4px 0 8px 0}
.cf-context{color:#8a8f98;font-size:0.85rem;font-style:italic;margin-bottom:4px}
.cf-muted{color:#8a8f98;font-size:0.85rem}
</style>
"""


def inject_css() -> None:
    st.markdown(CSS, unsafe_allow_html=True)


def warm_up_progress(engine: Engine, project: str) -> None:
    """Start the background preparation of suggestions (once per server process and after each import)
    and show its progress in the sidebar while it runs."""
    state = service.start_warm_up(engine, project)
    if state.status in ("running", "failed"):
        with st.sidebar:  # a fragment may not open the sidebar itself, so it is called inside it
            _warm_up_fragment(engine, project)


@st.fragment(run_every=2)
def _warm_up_fragment(engine: Engine, project: str) -> None:
    state = service.warm_up_state(engine, project)
    if state.status == "running":
        st.progress(min(state.fraction, 1.0), text=f"Preparing suggestions: {state.step}…")
    elif state.status == "failed":
        st.caption(f"Suggestions will load on demand (background preparation failed: {state.error})")
    elif state.status == "done":
        st.caption(f"Suggestions ready ({state.units} units, {state.seconds:.0f} s).")
