"""The plain results the service returns (dataclasses, never ORM rows bound to a session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coding.bundle import ImportReport  # noqa: F401  (the one import report, re-exported)


@dataclass
class ProjectInfo:
    id: int
    name: str
    language: str
    segmentation_unit: str
    blind_mode: bool
    team_mode: bool
    embedding_model: str


@dataclass
class CodebookReport:
    """What applying a codebook changed; removed and relabelled codes are reported, never dropped."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    relabelled: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    kept_inactive: dict[str, int] = field(default_factory=dict)  # removed code -> codings kept
    moved_codings: dict[str, int] = field(default_factory=dict)  # renamed code -> codings moved

    def lines(self) -> list[str]:
        out = []
        for label, items in (("added", self.added), ("relabelled", self.relabelled), ("moved", self.moved)):
            if items:
                out.append(f"{label}: {', '.join(items)}")
        for old, new in self.renamed.items():
            out.append(f"renamed: {old} -> {new} ({self.moved_codings.get(old, 0)} coding(s) moved)")
        for key in self.removed:
            kept = self.kept_inactive.get(key, 0)
            out.append(
                f"removed from the codebook: {key}"
                + (f" — {kept} coding(s) kept; the code stays as inactive" if kept else " (no codings)")
            )
        return out


@dataclass
class DocumentInfo:
    id: int
    name: str
    respondent: str
    attributes: dict[str, Any]
    format: str
    language: str
    segments: int
    units: int


@dataclass
class CodingView:
    coding_id: int
    code: str
    label: str
    frame: str
    coder: str
    source: str
    score: float | None
    memo: str | None
    key_quote: bool = False  # starred as a key quote (the findings report quotes it first)


@dataclass
class SegmentView:
    """A stored segment with its id and the codings the viewer may see. The fields between ``id``
    and ``codings`` are those of :class:`~coding.segmentation.SegmentSpan`, in its order (checked by
    a test), so the view can be built from a span; ``id`` comes first because callers build it
    positionally."""

    id: int
    position: int
    turn_index: int
    speaker: str | None
    role: str
    is_unit: bool
    start: int
    end: int
    text: str
    time_start: float | None
    time_end: float | None
    codings: list[CodingView] = field(default_factory=list)


@dataclass
class DocumentView:
    document: DocumentInfo
    segments: list[SegmentView]
    viewer: str
    visible_coders: list[str] | None  # None: everyone's codings are visible
    done: bool


@dataclass
class Status:
    project: ProjectInfo
    documents: int
    respondents: int
    segments: int
    units: int
    codings_by_coder: dict[str, int]
    frames: dict[str, int]  # frame -> number of codes
