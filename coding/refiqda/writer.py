"""Writing REFI-QDA: a Codebook (.qdc) of a codebook, a Project (.qdpx) of a bundle."""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from coding.bundle import Bundle, BundleCoding, BundleDocument
from coding.errors import ExchangeError, Problem
from coding.refiqda.common import (
    CODEBOOK_MARKER,
    CODEBOOK_NS,
    DOCUMENT_MARKER,
    PROJECT_NS,
    _color,
    _local,
    _xml_text,
    code_description,
    frame_description,
    import_only_frame,
    stable_guid,
)

#: Characters of a selection's text written as its ``name`` (ATLAS.ti style), so a reader can check positions.
SELECTION_NAME_CHARS = 60
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_TYPE_TAGS = {"Text": "TextValue", "Boolean": "BooleanValue", "Integer": "IntegerValue", "Float": "FloatValue",
              "Date": "DateValue", "DateTime": "DateTimeValue"}


def _origin() -> str:
    from coding import __version__

    return f"Codeframe {__version__}"


def codes_element(codebook, ns: str, *, colors: dict[str, str] | None = None,
                  non_codable: set[str] | frozenset[str] = frozenset()):
    """``<Codes>``: each frame a top-level non-codable code holding its codes in their hierarchy."""
    colors = colors or {}
    codes = ET.Element(f"{{{ns}}}Codes")
    for frame in codebook.frames:
        if import_only_frame(frame):  # its codes were top-level codes of the file they came from
            frame_el = codes
        else:
            frame_el = ET.SubElement(codes, f"{{{ns}}}Code", {
                "guid": stable_guid("frame", frame.id), "name": _xml_text(frame.label), "isCodable": "false"})
            ET.SubElement(frame_el, f"{{{ns}}}Description").text = _xml_text(frame_description(frame))
        elements: dict[str, Any] = {}
        for code in frame.codes:  # parents may come after children in a file: attach in a second pass
            attrs = {"guid": stable_guid("code", code.id), "name": _xml_text(code.label),
                     "isCodable": "false" if code.id in non_codable else "true"}
            if _color(colors.get(code.id)):
                attrs["color"] = colors[code.id]
            el = ET.Element(f"{{{ns}}}Code", attrs)
            ET.SubElement(el, f"{{{ns}}}Description").text = _xml_text(code_description(code))
            elements[code.id] = el
        for code in frame.codes:
            parent = elements[code.parent] if code.parent in elements else frame_el
            parent.append(elements[code.id])
    return codes


def to_bytes(root, ns: str) -> bytes:
    # ElementTree's default_namespace refuses unqualified attributes, so write the
    # default namespace declaration by hand on unqualified tags
    for element in root.iter():
        element.tag = _local(element.tag)
    root.set("xmlns", ns)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_qdc(codebook, *, colors: dict[str, str] | None = None, non_codable=frozenset()) -> bytes:
    """A REFI-QDA Codebook (.qdc, ``urn:QDA-XML:codebook:1.0``) of a :class:`~coding.codebook.Codebook`.

    Frames become top-level non-codable codes (see the package docstring).
    """
    if codebook is None or not codebook.frames:
        raise ExchangeError("Nothing to export: the codebook has no frames",
                            [Problem("a .qdc needs at least one code", field="frames")])
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": _origin()})
    root.append(codes_element(codebook, CODEBOOK_NS, colors=colors, non_codable=set(non_codable)))
    return to_bytes(root, CODEBOOK_NS)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def variable_type(values: list[Any]) -> str:
    """The REFI-QDA type of a variable; ISO dates and times stored as text (a JSON column) are typed again."""
    present = [v for v in values if not _missing(v)]
    if present and all(isinstance(v, str) for v in present):
        if all(_ISO_DATE.match(v) for v in present):
            return "Date"
        if all(_ISO_DATETIME.match(v) for v in present):
            return "DateTime"
    if not present:
        return "Text"
    if all(isinstance(v, bool) for v in present):
        return "Boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "Integer"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in present):
        return "Float"
    if all(isinstance(v, datetime) for v in present):
        return "DateTime"
    if all(isinstance(v, date) and not isinstance(v, datetime) for v in present):
        return "Date"
    return "Text"


def _value_element(kind: str, value: Any, ns: str):
    element = ET.Element(f"{{{ns}}}{_TYPE_TAGS[kind]}")
    if kind == "Boolean":
        element.text = "true" if value else "false"
    elif kind == "Float":
        element.text = format(Decimal(repr(float(value))), "f")
    elif kind in ("Date", "DateTime"):
        element.text = value if isinstance(value, str) else value.isoformat()
    else:
        element.text = _xml_text(value)
    return element


def selection_name(text: str) -> str:
    """The ``name`` written on a selection: the start of its text, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SELECTION_NAME_CHARS else flat[:SELECTION_NAME_CHARS].rstrip() + "…"


class ProjectWriter:
    """One export of one bundle: :meth:`write` gives the .qdpx bytes (``project.qde`` + ``Sources/<guid>.txt``).

    Respondents are cases; an attribute with one value across a respondent's documents is a
    case variable, one that differs between them is written on each source (MAXQDA style).
    Each coding is one ``PlainTextSelection`` on its span (code points of the plain text,
    end exclusive), named by the start of its text. A coding's memo is a project ``<Note>`` (its
    text inline, its author the coder) that the selection points to with ``<NoteRef>``, as
    MAXQDA, ATLAS.ti and NVivo exchange memos.
    """

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.ns = PROJECT_NS
        self.files: list[tuple[str, bytes]] = []
        self.notes: list[tuple[str, str, BundleCoding]] = []  # (guid, name, coding) of each memo

    def _el(self, parent, tag: str, attrs: dict[str, str] | None = None):
        return ET.SubElement(parent, f"{{{self.ns}}}{tag}", attrs or {})

    def check(self) -> None:
        bundle, problems = self.bundle, []
        documents = {d.name: d for d in bundle.documents}
        if len(documents) != len(bundle.documents):
            problems.append(Problem("two documents share a name", field="documents"))
        known = set(bundle.codebook.code_ids) if bundle.codebook is not None else set()
        for number, coding in enumerate(bundle.codings, start=1):
            doc = documents.get(coding.document)
            if doc is None:
                problems.append(Problem(f"coding {number} names unknown document {coding.document!r}",
                                        field="document"))
            elif not 0 <= coding.start <= coding.end <= len(doc.text):
                problems.append(Problem(f"coding {number} span {coding.start}-{coding.end} is outside "
                                        f"{coding.document!r} ({len(doc.text)} characters)", field="start"))
            if coding.code not in known:
                problems.append(Problem(f"coding {number} uses code {coding.code!r}, not in the codebook",
                                        field="code"))
        if problems:
            raise ExchangeError("The project cannot be exported to REFI-QDA", problems)

    def write(self) -> bytes:
        self.check()
        bundle = self.bundle
        root = ET.Element(f"{{{self.ns}}}Project", {"name": _xml_text(bundle.name or "Codeframe project"),
                                                    "origin": _origin()})
        self._users(root)
        if bundle.codebook is not None and bundle.codebook.frames:
            self._el(root, "CodeBook").append(codes_element(bundle.codebook, self.ns, colors=bundle.colors,
                                                            non_codable=set(bundle.non_codable)))
        self._cases(root)
        self._sources(root)
        self._notes(root)
        self._sets(root)
        if bundle.codebook is not None:
            description = f"{CODEBOOK_MARKER} {bundle.codebook.title}"
            if bundle.codebook.description:
                description += "\n\n" + bundle.codebook.description
            self._el(root, "Description").text = _xml_text(description)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, payload in [("project.qde", to_bytes(root, self.ns)), *self.files]:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: stable bytes
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, payload)
        return buffer.getvalue()

    def _users(self, root) -> None:
        coders = list(dict.fromkeys([*self.bundle.coders, *(c.coder for c in self.bundle.codings)]))
        if coders:
            users = self._el(root, "Users")
            for coder in coders:
                self._el(users, "User", {"guid": stable_guid("user", coder), "name": _xml_text(coder)})

    def _cases(self, root) -> None:
        respondents: dict[str, list[BundleDocument]] = {}
        for document in self.bundle.documents:
            respondents.setdefault(document.respondent, []).append(document)
        names = list(dict.fromkeys(k for d in self.bundle.documents for k in d.attributes))
        self.types = {n: variable_type([d.attributes.get(n) for d in self.bundle.documents]) for n in names}
        self.case_values: dict[str, dict[str, Any]] = {}
        for respondent, docs in respondents.items():
            common = {}
            for name in names:
                values = [d.attributes.get(name) for d in docs]
                if not _missing(values[0]) and all(v == values[0] and type(v) is type(values[0]) for v in values):
                    common[name] = values[0]
            self.case_values[respondent] = common
        if names:
            variables = self._el(root, "Variables")
            for name in names:
                self._el(variables, "Variable", {"guid": stable_guid("variable", name), "name": _xml_text(name),
                                                 "typeOfVariable": self.types[name]})
        if respondents:
            cases = self._el(root, "Cases")
            for respondent, docs in respondents.items():
                case = self._el(cases, "Case", {"guid": stable_guid("case", respondent),
                                                "name": _xml_text(respondent)})
                self._values(case, self.case_values[respondent])
                for document in docs:
                    self._el(case, "SourceRef", {"targetGUID": stable_guid("source", document.name)})

    def _values(self, holder_parent, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if _missing(value):
                continue
            holder = self._el(holder_parent, "VariableValue")
            self._el(holder, "VariableRef", {"targetGUID": stable_guid("variable", name)})
            holder.append(_value_element(self.types[name], value, self.ns))

    def _sources(self, root) -> None:
        if not self.bundle.documents:
            return
        sources = self._el(root, "Sources")
        by_document: dict[str, list[BundleCoding]] = {}
        for coding in self.bundle.codings:
            by_document.setdefault(coding.document, []).append(coding)
        for document in self.bundle.documents:
            guid = stable_guid("source", document.name)
            source = self._el(sources, "TextSource", {
                "guid": guid, "name": _xml_text(document.name), "plainTextPath": f"internal://{guid}.txt"})
            self._el(source, "Description").text = (
                f"{DOCUMENT_MARKER} language={document.language} format={document.format}")
            self.files.append((f"Sources/{guid}.txt", document.text.encode("utf-8")))
            # in text order; the number tells equal selections apart, so GUIDs do not depend on other documents
            ordered = sorted(by_document.get(document.name, []), key=lambda c: (c.start, c.end, c.code, c.coder))
            for number, coding in enumerate(ordered):
                self._selection(source, document, number, coding)
            common = self.case_values.get(document.respondent, {})
            self._values(source, {k: v for k, v in document.attributes.items() if k not in common})

    def _selection(self, source, document: BundleDocument, number: int, coding: BundleCoding) -> None:
        key = f"{document.name}|{number}|{coding.start}|{coding.end}|{coding.code}|{coding.coder}"
        user = stable_guid("user", coding.coder)
        selection_attrs = {"guid": stable_guid("selection", key),
                           "name": _xml_text(selection_name(document.text[coding.start:coding.end])),
                           "startPosition": str(coding.start), "endPosition": str(coding.end),
                           "creatingUser": user}
        coding_attrs = {"guid": stable_guid("coding", key), "creatingUser": user}
        if coding.created is not None:
            selection_attrs["creationDateTime"] = coding.created.isoformat()
            coding_attrs["creationDateTime"] = coding.created.isoformat()
        selection = self._el(source, "PlainTextSelection", selection_attrs)
        applied = self._el(selection, "Coding", coding_attrs)
        self._el(applied, "CodeRef", {"targetGUID": stable_guid("code", coding.code)})
        if coding.memo:
            note = stable_guid("note", key)
            self.notes.append((note, f"Memo: {selection_attrs['name']}", coding))
            self._el(selection, "NoteRef", {"targetGUID": note})

    def _notes(self, root) -> None:
        if not self.notes:
            return
        notes = self._el(root, "Notes")
        for guid, name, coding in self.notes:
            attrs = {"guid": guid, "name": _xml_text(name), "creatingUser": stable_guid("user", coding.coder)}
            if coding.created is not None:
                attrs["creationDateTime"] = coding.created.isoformat()
            note = self._el(notes, "Note", attrs)
            self._el(note, "PlainTextContent").text = _xml_text(coding.memo)

    def _sets(self, root) -> None:
        if not self.bundle.sets:
            return
        sets = self._el(root, "Sets")
        known_codes = set(self.bundle.codebook.code_ids) if self.bundle.codebook is not None else set()
        known_documents = {d.name for d in self.bundle.documents}
        for item in self.bundle.sets:
            element = self._el(sets, "Set", {"guid": stable_guid("set", item.name), "name": _xml_text(item.name)})
            if item.description:
                self._el(element, "Description").text = _xml_text(item.description)
            for code in item.codes:
                if code in known_codes:
                    self._el(element, "MemberCode", {"targetGUID": stable_guid("code", code)})
            for name in item.documents:
                if name in known_documents:
                    self._el(element, "MemberSource", {"targetGUID": stable_guid("source", name)})


def export_qdpx(bundle: Bundle) -> bytes:
    """A REFI-QDA Project (.qdpx) of a bundle (see :class:`ProjectWriter`).

    Raises ExchangeError if a coding names a document or code the bundle does not
    have, or its span lies outside the document's text.
    """
    return ProjectWriter(bundle).write()
