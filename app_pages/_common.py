"""Shared plumbing of the Streamlit pages: the cached engine, the project, who is coding, chips.

No business logic lives here: every read or write goes through :mod:`coding.service`.
Only ids, names and selections are kept in ``st.session_state`` (never ORM objects or frames).
In team mode the only sign-in state kept there is the opaque session id; who that is (name
and role) is read from the database on every run by :func:`sign_in_gate`.
"""

from __future__ import annotations

import colorsys
import hashlib
import os
import time

import streamlit as st
from sqlalchemy.engine import Engine

from coding import roles, service
from coding.database.engine import default_url, make_engine
from coding.errors import CodeframeError
from coding.markup import html_text, md  # noqa: F401 - the pages escape user text through common.md

PROJECT_ENV = "CODEFRAME_PROJECT"

# Session-state keys (plain values only).
CODER = "coder"  # the current coder's name (the sidebar selectbox "_coder_pick" copies its choice here)
DOC_ID = "doc_id"  # selected document id
SEG_ID = "seg_id"  # selected segment id
FRAMES = "frames"  # chosen frame ids on the coding page
SESSION = "_auth_session"  # team mode: the opaque session id (the database maps it to the user)
TRUST_PROXY_ENV = "CODEFRAME_TRUST_PROXY"  # "1": the client is the first X-Forwarded-For address



@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    """One engine (connection pool) per database URL, shared by every session of the server."""
    return make_engine(url)


def engine() -> Engine:
    """The engine for ``$CODEFRAME_DB`` (default: the embedded SQLite file)."""
    return _engine_for(default_url())


PROJECT_PARAM = "project"  # the address names the project when it is not the one the server started with
SIDEBAR_PARAMS = (PROJECT_PARAM,)  # address params the sidebar owns: a page rewriting the address keeps them
_PROJECT = "_project"  # ... and the session remembers it (a page that rewrites the address may drop it)


def project_name() -> str:
    """The project this session works in: ``?project=`` (or the one chosen earlier in this session) if the
    database has it, else ``$CODEFRAME_PROJECT`` (default "default")."""
    start = os.environ.get(PROJECT_ENV) or service.DEFAULT_PROJECT
    wanted = st.query_params.get(PROJECT_PARAM) or st.session_state.get(_PROJECT)
    if wanted and wanted != start and service.project_exists(engine(), wanted):
        st.session_state[_PROJECT] = wanted
        if st.query_params.get(PROJECT_PARAM) != wanted:
            st.query_params[PROJECT_PARAM] = wanted
        return wanted
    st.session_state.pop(_PROJECT, None)
    if PROJECT_PARAM in st.query_params:
        del st.query_params[PROJECT_PARAM]
    return start


def _switch_project(engine: Engine, project: str) -> None:
    """Open the project chosen in the sidebar: sign out of this one, forget who and where one was."""
    chosen = st.session_state.get("_project_pick")
    if not chosen or chosen == project:
        return
    if st.session_state.get(SESSION):
        service.sign_out(engine, project, st.session_state.get(SESSION))
    for key in (SESSION, _SIGNED_IN, CODER, "_coder_pick", DOC_ID, SEG_ID, FRAMES):
        st.session_state.pop(key, None)
    st.session_state[_PROJECT] = chosen
    st.query_params.clear()  # the unit or document of the old project means nothing in the new one
    st.query_params[PROJECT_PARAM] = chosen


def project_picker(engine: Engine, project: str) -> None:
    """The projects of the database to switch to (which ones: :func:`coding.service.projects_to_offer`)."""
    user = signed_in()[0] if signed_in() else None
    offered = service.projects_to_offer(engine, current=project, user=user)
    if len(offered) < 2:
        st.caption(f"Project **{md(project)}**" + (" · team mode" if user else ""))
        return
    team = {p["name"]: p["team_mode"] for p in offered}
    names = list(team)
    st.session_state["_project_pick"] = project  # the widget shows the project this run works in
    st.selectbox("Project", names, key="_project_pick",
                 on_change=_switch_project, args=(engine, project),
                 format_func=lambda n: f"{n} (team: sign in)" if team[n] and n != project else n,
                 help="The projects of this database. A team-mode project asks you to sign in to it.")


def ensure_project(engine: Engine, project: str) -> None:
    """On first start, create the project and load the sample corpus in the background.

    The page shows at once how far the load got ("Loading the sample corpus: 12 of 24 transcripts…")
    and polls until it is done; every tab of the server sees the same load (the state is process-wide,
    in :mod:`coding.service.sample`), so a second tab never mistakes the half-loaded project for an
    empty one. Nothing below this call runs while the sample loads.
    """
    state = service.start_sample_load(engine, project)
    if state.status == "running":
        st.title("Welcome to Codeframe")
        _sample_progress(engine, project)
        st.stop()
    if state.status == "failed":
        st.warning(state.message, icon=":material/warning:")


@st.fragment(run_every=0.5)
def _sample_progress(engine: Engine, project: str) -> None:
    state = service.sample_load_state(engine, project)
    if state.status != "running":  # done (or failed): the whole page runs again, now the project is there
        st.rerun()
    st.progress(state.fraction, text=state.message)
    st.caption("First start: the shipped sample project (24 interviews, two coders' codings and the consensus) is "
               "being set up. Every open tab shows this until it is ready.")


def current_coder() -> str | None:
    return st.session_state.get(CODER)


def first_line(exc: BaseException) -> str:
    """The headline of an error message (its first line), for short notices."""
    return str(exc).split("\n", 1)[0]


# --------------------------------------------------------------------------- sign-in (team mode)

_SIGNED_IN = "_signed_in"  # this run's (name, role), rewritten from the database by sign_in_gate on every run


def team_mode(engine: Engine, project: str) -> bool:
    return service.get_project(engine, project).team_mode


def client_address() -> str | None:
    """The browser's address, for the per-client sign-in back-off (behind a proxy see README).

    Streamlit gives None for a browser on this machine (127.0.0.1, ::1): that client is "localhost",
    never NULL, so its back-off applies too.
    """
    if os.environ.get(TRUST_PROXY_ENV) == "1":
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return st.context.ip_address or "localhost"


def _sign_in(engine: Engine, project: str) -> None:
    name = st.session_state.get("_signin_name") or ""
    password = st.session_state.get("_signin_password") or ""
    st.session_state["_signin_password"] = ""  # never kept past this callback
    try:
        signed = service.sign_in(engine, project, name, password, client=client_address())
    except CodeframeError as exc:
        st.session_state["_signin_message"] = first_line(exc)
        return
    st.session_state[SESSION] = signed.session_id
    st.session_state.pop("_signin_message", None)


def sign_out(engine: Engine, project: str) -> None:
    service.sign_out(engine, project, st.session_state.get(SESSION))
    for key in (SESSION, _SIGNED_IN, CODER, DOC_ID, SEG_ID):
        st.session_state.pop(key, None)
    st.session_state["_signin_message"] = "You are signed out."


def sign_in_gate(engine: Engine, project: str, register_pages=None) -> None:
    """In team mode: the signed-in user becomes the coder, or the sign-in form is shown and the run stops.

    ``register_pages`` (called before the form, e.g. ``st.navigation(PAGES, position="hidden")``) keeps the
    page the address asked for, so that signing in after F5 or from a shared link lands on that page with
    its query (``/code?doc=1&unit=17``), not on the default page."""
    if not team_mode(engine, project):
        st.session_state.pop(_SIGNED_IN, None)
        return
    signed = service.session_user(engine, project, st.session_state.get(SESSION))
    if signed is not None:
        st.session_state[_SIGNED_IN] = (signed.name, signed.role)
        st.session_state[CODER] = signed.name
        return
    had_session = st.session_state.pop(SESSION, None) is not None
    for key in (_SIGNED_IN, CODER):
        st.session_state.pop(key, None)
    if register_pages is not None:
        register_pages()
    st.title("Sign in to Codeframe")
    st.caption(f"Project **{md(project)}** is in team mode: sign in with the name and password your admin "
               "gave you.")
    message = st.session_state.pop("_signin_message", None)
    if had_session and message is None:
        message = "Your session has ended (signed out elsewhere, idle too long, or the password was reset)."
    column = st.columns([2, 3])[0]
    with column:
        if message:
            (st.info if message.startswith(("You are signed out", "Your session")) else st.error)(message)
        with st.form("sign_in"):
            st.text_input("Name", key="_signin_name", autocomplete="username")
            st.text_input("Password", type="password", key="_signin_password", autocomplete="current-password")
            st.form_submit_button("Sign in", type="primary", on_click=_sign_in, args=(engine, project))
    with st.sidebar:
        project_picker(engine, project)
    st.stop()


def signed_in() -> tuple[str, str] | None:
    """(name, role) of the signed-in user this run, or None (solo mode, or nobody)."""
    return st.session_state.get(_SIGNED_IN)


def current_role(engine: Engine, project: str) -> str | None:
    """The role of whoever is coding: the signed-in user's, or in solo mode the chosen coder's."""
    if signed_in():
        return signed_in()[1]
    coder = current_coder()
    return next((c["role"] for c in service.list_coders(engine, project) if c["name"] == coder), None)


def allowed(engine: Engine, project: str, predicate, what: str, *, team_only: bool = False) -> bool:
    """Whether the current user may ``what`` (a predicate of :mod:`coding.roles`); if not, say so.

    ``team_only``: the rule binds only in team mode (in solo mode everyone may).
    """
    if team_only and not team_mode(engine, project):
        return True
    role = current_role(engine, project)
    if predicate(role):
        return True
    who = f"you are {md(current_coder())} ({role})" if current_coder() else "choose who you are first"
    st.info(f"{what[0].upper()}{what[1:]} is for {roles.needed_for(predicate)}; {who}.", icon=":material/lock:")
    return False


def stop_on_database_fault(exc: Exception) -> None:
    """Show a database fault as one message and stop this run (the next click tries again); re-raise others."""
    fault = service.database_fault(exc)
    if fault is None:
        raise exc
    st.error(first_line(fault))
    st.stop()


def show_error(exc: CodeframeError) -> None:
    """Show a user error with one line per problem (file, line, field)."""
    head = first_line(exc)
    if exc.problems:
        more = len(exc.problems) - len(exc.listed())
        st.error(md(head) + "\n\n" + "\n".join(f"- {md(str(p))}" for p in exc.listed())
                 + (f"\n\n... and {more} more problem(s)" if more else ""))
    else:
        st.error(md(head))


# --------------------------------------------------------------------------- sidebar


def _add_coder(engine: Engine, project: str) -> None:
    name = (st.session_state.get("_new_coder_name") or "").strip()
    role = st.session_state.get("_new_coder_role") or "coder"
    if name == service.CONSENSUS:
        st.session_state["_sidebar_message"] = ("error", "consensus is written only by adjudication; pick another name")
        return
    try:
        st.session_state[CODER] = service.ensure_coder(engine, project, name, role=role, actor=current_coder())
        st.session_state["_coder_pick"] = name  # shown at once (the browser would keep its own value)
        st.session_state["_new_coder_name"] = ""
        st.session_state["_sidebar_message"] = ("success", f"Coder {name!r} added; you are now coding as {name}.")
    except CodeframeError as exc:
        st.session_state["_sidebar_message"] = ("error", first_line(exc))


def _remember_coder() -> None:
    st.session_state[CODER] = st.session_state.get("_coder_pick")


def sidebar(engine: Engine, project: str) -> None:
    """Team mode: who is signed in, and sign-out. Solo mode: 'Who are you?' and a small form to add a coder."""
    if signed_in():
        name, role = signed_in()
        with st.sidebar:
            st.markdown(f"Signed in as **{md(name)}** ({role})")
            st.button("Sign out", key="_sign_out", icon=":material/logout:", on_click=sign_out, args=(engine, project))
            project_picker(engine, project)
        return
    coders = [c for c in service.list_coders(engine, project) if not c["is_consensus"]]  # written by adjudication
    names = [c["name"] for c in coders]
    role_of = {c["name"]: c["role"] for c in coders}
    # once the project has an admin, supervisors and admins are made by an admin (CLI or Users page)
    new_roles = ["coder"] if "admin" in role_of.values() else ["coder", "supervisor"]
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
            format_func=lambda n: f"{n} ({role_of[n]})" if role_of.get(n, "coder") != "coder" else n,
            help="Codings are saved under this name. In blind mode you see only your own codings.",
        )
        with st.expander("Add a coder"):
            with st.form("add_coder", clear_on_submit=False, border=False):
                st.text_input("Name", key="_new_coder_name", placeholder="e.g. aigerim")
                st.selectbox("Role", new_roles, key="_new_coder_role",
                             help="Supervisors see everyone's codings and adjudicate." if len(new_roles) > 1 else
                             "This project has an admin: only an admin makes supervisors (codeframe user role).")
                st.form_submit_button("Add coder", on_click=_add_coder, args=(engine, project))
        message = st.session_state.pop("_sidebar_message", None)
        if message:
            (st.success if message[0] == "success" else st.error)(md(message[1]))
        project_picker(engine, project)


def visible_coders(engine: Engine, project: str) -> list[str] | None:
    """Whose codings the current coder may see in counts, quotes, shares and exports (None: everyone's)."""
    return service.visible_coders(engine, project, current_coder())


def counted_coders(engine: Engine, project: str, names, *, key: str | None = None) -> list[str]:
    """``names`` without the coders excluded from analysis (Settings): what a coder picker offers.
    A picker's stale choice (``key`` in the session) loses an excluded coder too."""
    skip = set(service.exclusions(engine, project)["coder"])
    if key is not None and isinstance(st.session_state.get(key), list):
        st.session_state[key] = [n for n in st.session_state[key] if n not in skip]
    elif key is not None and st.session_state.get(key) in skip:
        st.session_state[key] = None
    return [n for n in names if n not in skip]


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
    suffix = f" · {html_text(coder)}" if coder and not own else ""
    tip = html_text(title or f"{code}: {label}")
    return f'<span class="cf-chip" style="{style}" title="{tip}">{html_text(short)}{suffix}</span>'


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
    loaded = service.sample_load_state(engine, project)
    just_loaded = loaded.status == "done" and time.perf_counter() - (loaded.started + loaded.seconds) < 10
    state = service.start_warm_up(engine, project, delay=5.0 if just_loaded else 0.0)
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
