"""The tables: Project → Document → Segment ← Coding → Code, and their companions.

Everything a coder does is a row in ``coding`` (current state) and an appended row in
``coding_event`` (history). Codes are never deleted while codings point at them: a
code that leaves the codebook is marked ``active = False`` and reported.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, Column, Index, LargeBinary, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Project(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    language: str = "en"  # spaCy language for segmentation: en, ru, kk (via xx)
    segmentation_unit: str = "sentence"  # sentence | turn
    blind_mode: bool = True
    team_mode: bool = False
    embedding_model: str = "all-MiniLM-L6-v2"
    codebook_source: Optional[str] = None  # YAML text last applied, for diffs
    # who changes the codebook in the app and CLI (migration 0010): admins | supervisors | propose
    # (supervisors, and coders may propose codes that a supervisor accepts); see coding.roles
    codebook_editors: str = Field(default="supervisors", sa_column_kwargs={"server_default": "supervisors"})
    created: datetime = Field(default_factory=utcnow)


class CodeFrame(SQLModel, table=True):
    __tablename__ = "code_frame"
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str
    label: str
    description: str = ""
    mutually_exclusive: bool = False
    position: int = 0
    active: bool = True


class Code(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    frame_id: int = Field(foreign_key="code_frame.id", index=True)
    key: str  # the codebook's stable id, e.g. "rd_systemic_approach"
    label: str
    parent_key: Optional[str] = None
    definition: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    inclusion: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exclusion: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    examples: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: int = 0
    active: bool = True  # False once the code left the codebook but codings still use it
    color: Optional[str] = None  # "#rrggbb" from a REFI-QDA file, written back on export
    codable: bool = True  # False: a category (REFI-QDA isCodable="false") that only groups its children
    # a coder's proposal, not yet accepted by a supervisor (migration 0010); None: part of the codebook
    proposed_by: Optional[int] = Field(default=None, foreign_key="coder.id")


class CodebookVersion(SQLModel, table=True):
    """One change of the codebook made in the app or CLI: a numbered version with its changelog line.

    ``codebook`` is the whole codebook after the change (``Codebook.to_dict``), so every version can
    be exported; ``detail`` holds what undoing the change needs (fields before, codings moved).
    """

    __tablename__ = "codebook_version"
    __table_args__ = (UniqueConstraint("project_id", "number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    number: int
    action: str  # add | edit | move | merge | split | retire | accept | undo
    code_key: str
    summary: str = Field(sa_column=Column(Text, nullable=False))  # what changed, in words
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))  # why
    actor_id: Optional[int] = Field(default=None, foreign_key="coder.id")
    undoes: Optional[int] = None  # the version number an 'undo' reverts
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    codebook: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)


class Coder(SQLModel, table=True):
    """A person (or the consensus) who codes. In team mode also a sign-in user."""

    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str
    role: str = "coder"  # coder | supervisor | admin
    is_consensus: bool = False
    password_hash: Optional[str] = None
    created: datetime = Field(default_factory=utcnow)


class Document(SQLModel, table=True):
    """One transcript; ``respondent`` groups documents for respondent-level counts.

    Names are unique per project; equal text (``sha256``) is refused by the import unless
    asked for (identical survey answers), so the database does not forbid it.
    """

    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str
    respondent: str
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))  # the stored original text
    format: str = "txt"
    encoding: str = "utf-8"
    language: str = "en"
    sha256: str
    imported: datetime = Field(default_factory=utcnow)


class Segment(SQLModel, table=True):
    """A span of a document's text: a sentence or a speaker turn."""

    __table_args__ = (UniqueConstraint("document_id", "position"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    position: int  # 0-based order in the document, interviewer turns included
    turn_index: int = 0
    speaker: Optional[str] = None
    role: str = "respondent"  # interviewer | respondent | unknown
    is_unit: bool = True  # a unit of coding (respondent talk by default)
    start: int  # character offsets into Document.text; text == document.text[start:end]
    end: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    time_start: Optional[float] = None  # seconds, for .vtt/.srt
    time_end: Optional[float] = None


class Coding(SQLModel, table=True):
    """One code applied to one segment by one coder: the current state."""

    __table_args__ = (
        UniqueConstraint("segment_id", "code_id", "coder_id"),
        Index("ix_coding_coder_code", "coder_id", "code_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", index=True)
    code_id: int = Field(foreign_key="code.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    source: str = "hand"  # hand | suggestion | adjudication | import
    score: Optional[float] = None
    model_id: Optional[str] = None
    memo: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    # starred by a coder as a key quote: the findings report quotes it first
    key_quote: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False,
                                                            server_default=false()))
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class Selection(SQLModel, table=True):
    """The exact span an imported coding had in its file: ``document.text[start:end]``.

    The coding itself lives on the segment(s) the span overlaps (rows of ``coding``, used by
    agreement and shares); this row keeps the original span so an export writes it back
    unchanged while all of those codings still exist (see ``coding.service.exchange``).
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    code_id: int = Field(foreign_key="code.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    start: int  # character (code point) offsets into Document.text, end exclusive
    end: int
    memo: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    created: Optional[datetime] = None


class ItemSet(SQLModel, table=True):
    """A named group of codes and/or documents (REFI-QDA ``<Set>``, MAXQDA's document and code sets)."""

    __tablename__ = "item_set"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # code keys
    documents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # document names


class CodingEvent(SQLModel, table=True):
    """Append-only history of coding changes: who, when, before, after, how."""

    __tablename__ = "coding_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    segment_id: int = Field(foreign_key="segment.id", index=True)
    code_id: int = Field(foreign_key="code.id")
    coder_id: int = Field(foreign_key="coder.id", index=True)  # whose coding changed
    actor_id: Optional[int] = Field(default=None, foreign_key="coder.id")  # who changed it
    action: str  # add | remove | memo | restore
    source: str = "hand"
    before: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utcnow, index=True)


class DocumentProgress(SQLModel, table=True):
    """A coder marks a transcript as done."""

    __tablename__ = "document_progress"
    __table_args__ = (UniqueConstraint("document_id", "coder_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    done: bool = False
    updated: datetime = Field(default_factory=utcnow)


class FrameCoverage(SQLModel, table=True):
    """A coder has finished coding one frame on one document, codes applied or not.

    This is what makes an uncoded segment a real 'not applied' for agreement: without it a
    document where a coder found nothing to code would look unseen.
    """

    __tablename__ = "frame_coverage"
    __table_args__ = (UniqueConstraint("document_id", "coder_id", "frame_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    frame_key: str
    updated: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """A document in the blind double-coding sample, assigned to a coder."""

    __table_args__ = (UniqueConstraint("document_id", "coder_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    released: bool = False  # once released, coders may see each other's codings here
    created: datetime = Field(default_factory=utcnow)


class SuggestionFeedback(SQLModel, table=True):
    """A coder's accept or reject of a suggestion: the few-shot model's labels."""

    __tablename__ = "suggestion_feedback"
    __table_args__ = (UniqueConstraint("segment_id", "code_id", "coder_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", index=True)
    code_id: int = Field(foreign_key="code.id", index=True)
    coder_id: int = Field(foreign_key="coder.id")
    decision: str  # accept | reject
    score: Optional[float] = None
    model_id: Optional[str] = None
    at: datetime = Field(default_factory=utcnow)


class EmbeddingCache(SQLModel, table=True):
    """Embeddings keyed by model id and text hash, so unchanged text is never re-embedded."""

    __tablename__ = "embedding_cache"
    __table_args__ = (UniqueConstraint("model_id", "text_hash"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    model_id: str = Field(index=True)
    text_hash: str
    dim: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32, little-endian


class Instrument(SQLModel, table=True):
    """A survey, an OCAI or a sector instrument of a project (migration 0006).

    ``kind`` is survey | ocai | scale; ``spec`` holds what the import decided: a survey's
    id, attribute, closed and open columns; the OCAI validation mode and every rescaled row;
    a sector instrument's YAML text.
    """

    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str
    kind: str
    source: Optional[str] = None  # the file it came from
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created: datetime = Field(default_factory=utcnow)


class InstrumentResponse(SQLModel, table=True):
    """One respondent's answers to one instrument: attributes and answers (JSON, instrument-shaped).

    Survey: ``{"closed": {question: answer}, "open": {question: text}}``; OCAI: ``{"now"|"preferred":
    {dimension: [clan, adhocracy, market, hierarchy]}}`` as scored; scale: ``{statement: rating}``.
    """

    __tablename__ = "instrument_response"
    __table_args__ = (UniqueConstraint("instrument_id", "respondent"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", index=True)
    respondent: str
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Memo(SQLModel, table=True):
    """An analytic memo on a unit (segment), a document or a code; memos on codings live on the coding.

    ``target_id`` is the segment or document id, or the code's id, as ``target_kind`` says.
    """

    __table_args__ = (Index("ix_memo_target", "target_kind", "target_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    target_kind: str  # segment | document | code
    target_id: int
    coder_id: int = Field(foreign_key="coder.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class UnitMark(SQLModel, table=True):
    """A coder read a unit and found that nothing of one frame applies ("read, nothing applies").

    Progress counts such a unit as read, and "next uncoded" skips it. Coding the unit in that
    frame afterwards removes the mark.
    """

    __tablename__ = "unit_mark"
    __table_args__ = (UniqueConstraint("segment_id", "coder_id", "frame_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    frame_key: str
    created: datetime = Field(default_factory=utcnow)


class Exclusion(SQLModel, table=True):
    """A document or a coder kept out of analysis (shares, agreement, disagreements), nothing deleted.

    ``kind`` is ``document`` or ``coder``; ``target_id`` is that row's id. Removing the row
    brings the document or coder back; both changes are in ``project_event``.
    """

    __table_args__ = (UniqueConstraint("project_id", "kind", "target_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    kind: str  # document | coder
    target_id: int
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    actor_id: Optional[int] = Field(default=None, foreign_key="coder.id")
    at: datetime = Field(default_factory=utcnow)


class Adjudication(SQLModel, table=True):
    """A consensus decision on one unit for one frame, also when it is 'no code of this frame applies'."""

    __table_args__ = (UniqueConstraint("segment_id", "frame_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", index=True)
    frame_id: int = Field(foreign_key="code_frame.id", index=True)
    actor_id: Optional[int] = Field(default=None, foreign_key="coder.id")
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utcnow)


class ProjectEvent(SQLModel, table=True):
    """Append-only history of changes to what is analysed: documents and coders excluded, included, removed."""

    __tablename__ = "project_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    actor_id: Optional[int] = Field(default=None, foreign_key="coder.id")
    action: str  # exclude | include | remove
    kind: str  # document | coder
    target: str  # the document's or coder's name
    detail: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utcnow, index=True)


class UserSession(SQLModel, table=True):
    """A signed-in app session. The browser's session holds only a random id; this row holds its
    SHA-256, the user, and when it was last used (idle sessions expire) or ended (sign-out)."""

    __tablename__ = "user_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    coder_id: int = Field(foreign_key="coder.id", index=True)
    client: Optional[str] = None  # the client address the session was opened from
    created: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    ended: Optional[datetime] = None
    end_reason: Optional[str] = None  # signed_out | expired | password_changed | role_changed


class AuthEvent(SQLModel, table=True):
    """Append-only audit history of sign-in and user management; never a password or a session id.

    ``name`` is the user name as typed (a failed attempt may name nobody who exists); the
    failed and throttled attempts per name and per client since the last success are what
    the sign-in back-off counts, so a restart of the app does not reset it.
    """

    __tablename__ = "auth_event"
    __table_args__ = (
        Index("ix_auth_event_project_name", "project_id", "name"),
        Index("ix_auth_event_project_client", "project_id", "client"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    name: str  # whose account: the user name as typed at sign-in, or the user acted on
    coder_id: Optional[int] = Field(default=None, foreign_key="coder.id")
    actor_id: Optional[int] = Field(default=None, foreign_key="coder.id")  # who did it (user management)
    client: Optional[str] = None
    action: str  # sign_in | sign_in_failed | sign_in_throttled | sign_out | session_expired | password_changed | ...
    detail: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utcnow, index=True)
