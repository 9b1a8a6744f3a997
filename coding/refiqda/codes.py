"""Reading a tree of REFI-QDA ``<Code>`` elements (of a .qdc or a .qdpx) into frames and codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coding.bundle import ImportReport
from coding.errors import CodebookError, ExchangeError, Problem
from coding.refiqda.common import (
    _ID_PATTERN,
    DEFAULT_FRAME_ID,
    DEFAULT_FRAME_LABEL,
    IMPORTED_FRAME_DESCRIPTION,
    _child,
    _child_text,
    _children,
    _color,
    _guid,
    _is_false,
    _local,
    _parse_code_description,
    _parse_frame_description,
    _unique,
    slug_id,
)
from coding.refiqda.safe import parse_xml


class CodeReader:
    """Turns a (possibly foreign) tree of ``<Code>`` elements into frames and codes.

    A top-level code marked as a Codeframe frame, or a top-level non-codable category with
    children, becomes a frame; other top-level codes go into the frame ``imported``. Nested
    non-codable categories become parent codes listed in :attr:`non_codable`; colours are
    kept in :attr:`colors`.
    """

    def __init__(self, report: ImportReport, where: str):
        self.report = report
        self.where = where
        self.frames: list[dict[str, Any]] = []
        self.frame_ids: set[str] = set()
        self.code_ids: set[str] = set()
        self.by_guid: dict[str, str] = {}  # code guid -> code id
        self.frame_guids: set[str] = set()
        self.colors: dict[str, str] = {}
        self.non_codable: list[str] = []
        self._default: dict[str, Any] | None = None
        self._reserved: dict[int, str] = {}

    def read(self, codes_element) -> None:
        top = _children(codes_element, "Code")
        # reserve the ids Codeframe files name explicitly (first claimant wins), so that
        # ids derived from names never take them
        for element in top:
            info = _parse_frame_description(_child_text(element, "Description"))
            if info and _ID_PATTERN.match(info["id"]) and info["id"] not in self.frame_ids:
                self.frame_ids.add(info["id"])
                self._reserved[id(element)] = info["id"]
        for element in codes_element.iter():
            if _local(element.tag) != "Code" or id(element) in self._reserved:
                continue
            wanted = _parse_code_description(_child_text(element, "Description"))["id"]
            if wanted and _ID_PATTERN.match(wanted) and wanted not in self.code_ids:
                self.code_ids.add(wanted)
                self._reserved[id(element)] = wanted
        for element in top:
            self._top(element)

    def _new_frame(self, frame_id: str, label: str, description: str, exclusive: bool, element):
        frame = {"id": frame_id, "label": label, "description": description, "mutually_exclusive": exclusive,
                 "codes": []}
        self.frames.append(frame)
        if element is not None:
            self.frame_guids.add(_guid(element.get("guid")))
            if _color(element.get("color")):
                self.report.skip("colour of a category read as a frame (frames have no colour)", label)
        return frame

    def _top(self, element) -> None:
        name = element.get("name") or "unnamed"
        description = _child_text(element, "Description")
        info = _parse_frame_description(description)
        children = _children(element, "Code")
        if info is not None:
            frame_id = self._reserved.get(id(element)) or _unique(slug_id(name, fallback="frame"), self.frame_ids)
            frame = self._new_frame(frame_id, name, info["description"], info["mutually_exclusive"], element)
            for child in children:
                self._code(child, frame, None)
        elif _is_false(element.get("isCodable")) and children:
            frame_id = _unique(slug_id(name, fallback="frame"), self.frame_ids)
            frame = self._new_frame(frame_id, name, (description or "").strip(), False, element)
            self.report.carry("top-level categories (isCodable=false) -> frames")
            for child in children:
                self._code(child, frame, None)
        else:
            if self._default is None:
                self._default = self._new_frame(_unique(DEFAULT_FRAME_ID, self.frame_ids), DEFAULT_FRAME_LABEL,
                                                IMPORTED_FRAME_DESCRIPTION, False, None)
            self._code(element, self._default, None)

    def _code(self, element, frame: dict[str, Any], parent: str | None) -> None:
        name = element.get("name") or "unnamed"
        description = _child_text(element, "Description")
        parsed = _parse_code_description(description)
        code_id = self._reserved.get(id(element)) or _unique(slug_id(name), self.code_ids)
        if _is_false(element.get("isCodable")):
            self.non_codable.append(code_id)
            self.report.carry("categories (isCodable=false) -> parent codes")
        if (description or "").strip():
            self.report.carry("code descriptions -> definitions")
        color = _color(element.get("color"))
        if color:
            self.colors[code_id] = color
            self.report.carry("code colours")
        elif element.get("color"):
            self.report.skip("code colour that is not #rrggbb", f"{name}: {element.get('color')}")
        guid = _guid(element.get("guid"))
        if guid:
            self.by_guid[guid] = code_id
        frame["codes"].append({"id": code_id, "label": name, "frame": frame["id"], "parent": parent,
                               "definition": parsed["definition"], "include": parsed["include"],
                               "exclude": parsed["exclude"], "examples": parsed["examples"]})
        for _ in _children(element, "NoteRef"):
            self.report.skip("note on a code (Codeframe keeps memos on codings)", name)
        for child in _children(element, "Code"):
            self._code(child, frame, code_id)

    def codebook(self, title: str, description: str):
        from coding.codebook import Code, Codebook, Frame

        frames = tuple(
            Frame(id=f["id"], label=f["label"], description=f["description"],
                  mutually_exclusive=f["mutually_exclusive"],
                  codes=tuple(Code(**c) for c in f["codes"]))
            for f in self.frames)
        try:
            book = Codebook(title=title, frames=frames, description=description, source=self.where)
        except CodebookError as exc:  # should not happen: ids are made unique above
            raise ExchangeError(f"{self.where}: the codebook could not be rebuilt", exc.problems) from None
        self.report.frames = len(frames)
        self.report.codes = sum(len(f.codes) for f in frames)
        return book


def import_qdc(data: bytes, *, title: str | None = None, name: str = "codebook.qdc"):
    """Read a REFI-QDA Codebook (.qdc) into a :class:`~coding.codebook.Codebook`.

    ``title`` names the codebook (QDA-XML codebooks carry none); default: ``name``
    without extension. Raises ExchangeError for unsafe or invalid XML or a file
    without codes.
    """
    root = parse_xml(data, name)
    if _local(root.tag) != "CodeBook":
        raise ExchangeError(f"{name} is not a REFI-QDA codebook",
                            [Problem(f"root element is <{_local(root.tag)}>, expected <CodeBook>", file=name)])
    codes = _child(root, "Codes")
    if codes is None or not _children(codes, "Code"):
        raise ExchangeError(f"{name} has no codes", [Problem("missing <Codes>/<Code>", file=name)])
    reader = CodeReader(ImportReport(file=name), name)
    reader.read(codes)
    return reader.codebook(title or Path(name).stem or "Imported codebook", "")
