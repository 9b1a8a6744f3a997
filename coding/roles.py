"""Who may do what: the one set of role rules of Codeframe (pure: no database, no Streamlit).

Roles: a **coder** codes and, in blind mode, sees only their own codings; a **supervisor**
also sees everyone's codings and adjudicates (writes the consensus coder); an **admin** also
manages users, the codebook, the project settings and team mode. The facade, the CLI and
the pages all ask these predicates, never ``role in (...)`` of their own.
"""

from __future__ import annotations

ROLES = ("coder", "supervisor", "admin")
ELEVATED = ("supervisor", "admin")  # roles that only an admin may hand out once a project has one


def may_code(role: str | None) -> bool:
    """Apply and remove codes (one's own codings)."""
    return role in ROLES


def may_see_others(role: str | None) -> bool:
    """See other coders' codings even in blind mode."""
    return role in ("supervisor", "admin")


def may_adjudicate(role: str | None) -> bool:
    """Decide disagreements into the consensus, assign and release double coding, edit others' codings."""
    return role in ("supervisor", "admin")


def may_admin(role: str | None) -> bool:
    """Manage users and roles, and (in team mode) the codebook, imports, settings and team mode."""
    return role == "admin"


def needed_for(predicate) -> str:
    """The role a predicate asks for, in words: 'a supervisor or an admin', 'an admin'."""
    return {may_code: "a signed-in user", may_see_others: "a supervisor or an admin",
            may_adjudicate: "a supervisor or an admin", may_admin: "an admin"}[predicate]


#: The project setting ``codebook_editors``: who changes the codebook in the app and the CLI.
#: ``admins``: only admins; ``supervisors`` (the default): supervisors and admins; ``propose``:
#: supervisors and admins, and coders may add codes, "proposed" until a supervisor accepts them.
CODEBOOK_EDITORS = ("admins", "supervisors", "propose")


def may_edit_codebook(role: str | None, editors: str = "supervisors") -> bool:
    """Add, edit, move, merge, split, retire and accept codes, under the project's ``codebook_editors``."""
    if editors == "admins":
        return role == "admin"
    return role in ("supervisor", "admin")


def may_propose_code(role: str | None, editors: str = "supervisors") -> bool:
    """Add a code as a proposal (coders, when the project's ``codebook_editors`` is ``propose``)."""
    return may_edit_codebook(role, editors) or (editors == "propose" and role == "coder")
