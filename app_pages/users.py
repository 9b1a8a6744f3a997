"""Users (team mode, admins): add users, change roles, reset passwords, and the sign-in history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _common as common
from coding import roles, service
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()

st.title("Users")
if not common.allowed(engine, project, roles.may_admin, "managing users"):
    st.stop()
admin = common.current_coder()
MESSAGE = "_users_message"
REVISION = "_users_revision"  # bumped after every change, so the role boxes re-read the database
revision = st.session_state.get(REVISION, 0)


def _run(action, success: str) -> None:
    try:
        action()
    except CodeframeError as exc:
        st.session_state[MESSAGE] = ("error", common.first_line(exc))
    else:
        st.session_state[MESSAGE] = ("success", success)
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1


def _add() -> None:
    name = (st.session_state.get("_u_name") or "").strip()
    role = st.session_state.get("_u_role") or "coder"
    password = st.session_state.get("_u_password") or ""
    st.session_state["_u_password"] = ""
    _run(lambda: service.add_user(engine, project, name, role=role, password=password, actor=admin),
         f"User {name!r} added as {role}; they can sign in now.")


def _role(name: str, key: str) -> None:
    role = st.session_state.get(key)
    _run(lambda: service.change_role(engine, project, name, role, actor=admin), f"{name} is now {role}.")


def _reset() -> None:
    name = st.session_state.get("_u_reset_name")
    password = st.session_state.get("_u_reset_password") or ""
    st.session_state["_u_reset_password"] = ""
    _run(lambda: service.reset_password(engine, project, name, password, actor=admin),
         f"Password of {name} reset; their open sessions have ended.")


message = st.session_state.pop(MESSAGE, None)
if message:
    (st.success if message[0] == "success" else st.error)(common.md(message[1]))

users = [u for u in service.list_users(engine, project) if not u["is_consensus"]]
st.subheader("People")
for user in users:
    row = st.columns([2, 2, 1], vertical_alignment="center")
    row[0].text(user["name"])  # text, never markup
    role_key = f"_u_role_{user['name']}_{revision}"
    row[1].selectbox("Role", roles.ROLES, index=roles.ROLES.index(user["role"]), key=role_key,
                     label_visibility="collapsed", on_change=_role, args=(user["name"], role_key))
    row[2].caption("can sign in" if user["can_sign_in"] else "no password yet")

left, right = st.columns(2)
with left, st.form("add_user", border=True):
    st.markdown("**Add a user**")
    st.text_input("Name", key="_u_name")
    st.selectbox("Role", roles.ROLES, key="_u_role")
    st.text_input("Password", type="password", key="_u_password", autocomplete="new-password",
                  help="At least 8 characters. Tell it to the user; they can change it under 'Your account'.")
    st.form_submit_button("Add user", type="primary", on_click=_add)
with right, st.form("reset_password", border=True):
    st.markdown("**Reset a password**")
    st.selectbox("User", [u["name"] for u in users if u["name"] != admin], key="_u_reset_name")
    st.text_input("New password", type="password", key="_u_reset_password", autocomplete="new-password")
    st.form_submit_button("Reset password", on_click=_reset)

st.subheader("Sign-in history")
st.caption("Every sign-in attempt, sign-out, expiry and user change, newest first (no passwords are ever stored).")
history = service.auth_history(engine, project, limit=200, actor=admin)
st.dataframe(pd.DataFrame(history, columns=["at", "action", "name", "by", "client", "detail"]), hide_index=True,
             width="stretch")
