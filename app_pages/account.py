"""Your account (team mode): who you are, and changing your own password."""

from __future__ import annotations

import streamlit as st

from app_pages import _common as common
from coding import service
from coding.errors import CodeframeError

engine, project = common.engine(), common.project_name()

st.title("Your account")
if not common.signed_in():
    st.info("Accounts exist in team mode only; this project is in solo mode.", icon=":material/person:")
    st.stop()
name, role = common.signed_in()
st.markdown(f"You are signed in as **{common.md(name)}** ({role}). Idle sessions end after "
            f"{service.idle_timeout().total_seconds() / 3600:g} h.")

st.subheader("Change your password")
column = st.columns([2, 3])[0]
with column, st.form("own_password", clear_on_submit=True):
    old = st.text_input("Current password", type="password", autocomplete="current-password")
    new = st.text_input("New password", type="password", autocomplete="new-password",
                        help="At least 8 characters; a passphrase of several words is best.")
    again = st.text_input("New password again", type="password", autocomplete="new-password")
    submitted = st.form_submit_button("Change password", type="primary")
if submitted:
    with column:
        if new != again:
            st.error("The two new passwords differ; nothing was changed.")
        else:
            try:
                service.change_own_password(engine, project, st.session_state.get(common.SESSION), old, new,
                                                 client=common.client_address())
            except CodeframeError as exc:
                common.show_error(exc)
            else:
                st.success("Password changed. Your other sessions have ended.")
