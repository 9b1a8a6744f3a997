"""REFI-QDA exchange: Codebook (.qdc) and Project (.qdpx) files, QDA-XML 1.0.

The Rotterdam Exchange Format Initiative (https://www.qdasoftware.org) format
is what MAXQDA, ATLAS.ti, NVivo, QualCoder and others read and write. The
official schemas ship in ``coding/schemas`` (see ``SOURCES.md`` there).

What maps to what
-----------------
* **Frames.** QDA-XML has no code frames. Each frame is exported as a top-level
  *non-codable* code (``isCodable="false"``) holding the frame's codes; its
  ``<Description>`` starts with the line ``Codeframe frame: <frame id>``, then
  ``Mutually exclusive: yes|no``, a blank line and the frame description.
  On import, a top-level code with that marker becomes that frame again. A
  top-level non-codable code with children from another tool also becomes a
  frame (id derived from its name); other top-level codes go into one frame
  ``imported`` ("Imported codes") with their hierarchy kept through ``parent``.
* **Codes.** ``<Code guid name=label isCodable="true">``; the ``<Description>``
  is readable text: the definition, then ``Include:``, ``Exclude:`` and
  ``Examples:`` lists (``- item``, continuation lines indented by two spaces),
  then ``Codeframe code: <id>``. Codes from other tools keep their description
  as the definition, or ``(imported without description)``.
* **GUIDs** are UUID5 of the object's key (code id, frame id, coder name,
  respondent, document name), so re-exporting gives the same GUIDs.
* **Project.** Users = coders; Variables = respondent attributes (typed:
  Boolean, Integer, Float, Date, DateTime, else Text); Cases = respondents
  with their VariableValues and a SourceRef per document; each document is a
  ``TextSource`` whose plain text is ``Sources/<guid>.txt`` in the zip
  (``plainTextPath="internal://<guid>.txt"``, UTF-8); each coding is a
  ``PlainTextSelection`` (``startPosition``/``endPosition`` in Unicode
  characters -- code points -- of that plain text, end exclusive, like a Python
  slice) holding one ``<Coding creatingUser><CodeRef/></Coding>``; the memo is
  the selection's ``<Description>``. The codebook title goes in the project
  ``<Description>`` as ``Codeframe codebook: <title>``; a document's language
  and format in its source description (``Codeframe document: language=.. format=..``).
  A coding's ``source`` and ``score`` have no place in QDA-XML: imported
  codings get ``source="import"``.

Import never fails on parts it does not understand: PDF, picture, audio and
video sources, their selections, codings with bad positions or unknown codes,
notes, links, sets and graphs are counted and named in the :class:`ImportReport`
and skipped. It does fail (``ExchangeError``) on unsafe input: XML with a DTD,
entities or external references; zip members with ``..``, absolute paths or
backslashes; too many members, too many bytes, or a suspicious compression ratio.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from coding.bundle import Bundle, BundleCoding, BundleDocument
from coding.errors import CodebookError, ExchangeError, Problem

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
FRAME_MARKER = "Codeframe frame:"
CODE_MARKER = "Codeframe code:"
CODEBOOK_MARKER = "Codeframe codebook:"
DOCUMENT_MARKER = "Codeframe document:"
NO_DESCRIPTION = "(imported without description)"
DEFAULT_FRAME_ID = "imported"
DEFAULT_FRAME_LABEL = "Imported codes"
FALLBACK_CODER = "imported"

#: Limits for reading a .qdpx zip (all can be tightened per call).
MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECK_ABOVE = 1024 * 1024  # tiny members may compress extremely well; only check larger ones
MAX_XML_BYTES = 100 * 1024 * 1024

_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://www.qdasoftware.org/codeframe")
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_UNSUPPORTED_SOURCES = ("PDFSource", "PictureSource", "AudioSource", "VideoSource")
_IGNORED_PARTS = ("Notes", "Links", "Sets", "Graphs")

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
     "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "a", "g", "q", "n", "o", "u", "u", "h", "i"],
))


# --------------------------------------------------------------------------- small helpers


def schema_path(kind: str = "project") -> Path:
    """Path of the official XSD shipped with the package: ``"project"`` or ``"codebook"``."""
    names = {"project": "Project-mrt2019.xsd", "codebook": "Codebook-mrt2019.xsd"}
    if kind not in names:
        raise ValueError(f"kind must be 'project' or 'codebook', got {kind!r}")
    return Path(__file__).resolve().parent / "schemas" / names[kind]


def stable_guid(kind: str, key: str) -> str:
    """Deterministic GUID for an object of ``kind`` named ``key`` (UUID5).

    >>> stable_guid("code", "pay") == stable_guid("code", "pay") != stable_guid("code", "pay2")
    True
    """
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{kind}:{key}"))


def slug_id(name: str, *, fallback: str = "code") -> str:
    """A codebook id (``^[a-z][a-z0-9_]*$``) derived from a display name.

    Accents are dropped and Cyrillic (Russian, Kazakh) is transliterated;
    a name with no usable letters gives ``fallback``.

    >>> slug_id("Resistance to change!"), slug_id("Кадровый резерв"), slug_id("2nd wave"), slug_id("中文")
    ('resistance_to_change', 'kadrovyi_rezerv', 'c_2nd_wave', 'code')
    """
    text = "".join(_CYRILLIC.get(ch, ch) for ch in str(name).lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    text = re.sub(r"_+", "_", text)[:60].strip("_")
    if not text:
        return fallback
    if not text[0].isalpha():
        text = f"c_{text}"
    return text


def _unique(candidate: str, taken: set[str], suffix: str = "_{}") -> str:
    """``candidate``, or it with the first free number appended (``suffix`` formats the number)."""
    result, number = candidate, 2
    while result in taken:
        result = candidate + suffix.format(number)
        number += 1
    taken.add(result)
    return result


def _xml_text(value: Any) -> str:
    """Text that is legal in XML 1.0 (control characters become U+FFFD)."""
    return _INVALID_XML_CHARS.sub("\ufffd", str(value))


def _local(tag: Any) -> str:
    """Tag name without namespace: tools differ in (and get wrong) the namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


def _child(element, name: str):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _child_text(element, name: str) -> str | None:
    child = _child(element, name)
    return None if child is None else (child.text or "")


# --------------------------------------------------------------------------- report


@dataclass
class ImportReport:
    """What an import took in, and everything it skipped or had to guess.

    ``skipped`` maps a kind of thing (``"PDFSource"``, ``"coding with bad position"``,
    ``"Notes"`` ...) to the names or places of the skipped items; ``skipped_counts``
    gives their numbers.
    """

    file: str = ""
    documents: int = 0
    codings: int = 0
    frames: int = 0
    codes: int = 0
    coders: int = 0
    respondents: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def skip(self, kind: str, name: str) -> None:
        self.skipped.setdefault(kind, []).append(name)

    @property
    def skipped_counts(self) -> dict[str, int]:
        return {kind: len(names) for kind, names in self.skipped.items()}

    def summary(self) -> str:
        """A few human-readable lines for the CLI and the app."""
        lines = [f"{self.file or 'import'}: {self.documents} document(s) of {self.respondents} respondent(s), "
                 f"{self.codings} coding(s) by {self.coders} coder(s), {self.codes} code(s) in {self.frames} frame(s)"]
        for kind, names in self.skipped.items():
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            lines.append(f"skipped {len(names)} {kind}: {shown}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# --------------------------------------------------------------------------- safe reading


def _parse_xml(data: bytes, where: str):
    """Parse untrusted XML: no DTD, no entities, no external references."""
    import defusedxml
    from defusedxml import ElementTree as SafeET

    if len(data) > MAX_XML_BYTES:
        raise ExchangeError(f"{where} is too large to read",
                            [Problem(f"{len(data)} bytes, limit {MAX_XML_BYTES}", file=where)])
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise ExchangeError(f"{where} was refused: it declares a DTD, entities or external references",
                            [Problem(f"unsafe XML ({type(exc).__name__})", file=where)]) from None
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise ExchangeError(f"{where} is not well-formed XML",
                            [Problem(str(exc), file=where, line=line)]) from None


class _SafeZip:
    """A zip whose member names, count, sizes and ratios were checked before any read."""

    def __init__(self, data: bytes, where: str, *, max_members: int, max_total_bytes: int, max_ratio: float):
        self.where = where
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise ExchangeError(f"{where} is not a readable zip (.qdpx) file",
                                [Problem(str(exc), file=where)]) from None
        if len(infos) > max_members:
            raise ExchangeError(f"{where} has too many members",
                                [Problem(f"{len(infos)} members, limit {max_members}", file=where)])
        problems = []
        total = 0
        for info in infos:
            name = info.filename
            parts = name.split("/")
            if ("\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name) or "\x00" in name
                    or any(part == ".." for part in parts)):
                problems.append(Problem("unsafe member name (absolute, '..' or backslash)", file=where, field=name))
                continue
            total += info.file_size
            if info.file_size > RATIO_CHECK_ABOVE and (
                    info.compress_size == 0 or info.file_size / info.compress_size > max_ratio):
                problems.append(Problem(
                    f"compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 exceeds "
                    f"{max_ratio:.0f}:1 (zip bomb?)", file=where, field=name))
        if problems:
            raise ExchangeError(f"{where} was refused as unsafe", problems)
        if total > max_total_bytes:
            raise ExchangeError(f"{where} unpacks to too many bytes",
                                [Problem(f"{total} bytes uncompressed, limit {max_total_bytes}", file=where)])
        self.infos = {info.filename: info for info in infos if not info.is_dir()}
        self.lower = {name.lower(): name for name in self.infos}

    def find(self, name: str) -> str | None:
        return name if name in self.infos else self.lower.get(name.lower())

    def read(self, name: str) -> bytes:
        info = self.infos[name]
        try:
            with self.zip.open(info) as handle:
                data = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError) as exc:
            raise ExchangeError(f"{self.where}: member {name} cannot be read",
                                [Problem(str(exc), file=self.where, field=name)]) from None
        if len(data) > info.file_size:
            raise ExchangeError(f"{self.where}: member {name} is larger than its header says",
                                [Problem("size mismatch (manipulated zip?)", file=self.where, field=name)])
        return data


# --------------------------------------------------------------------------- descriptions


def _items(title: str, values: tuple[str, ...]) -> list[str]:
    lines = [f"{title}:"]
    for value in values:
        first, *rest = str(value).split("\n")
        lines.append(f"- {first}")
        lines.extend(f"  {line}" for line in rest)
    return lines


def code_description(code) -> str:
    """The readable ``<Description>`` of a code (definition, include, exclude, examples, id)."""
    lines = [code.definition.strip(), ""]
    lines += _items("Include", code.include)
    lines += _items("Exclude", code.exclude)
    lines += _items("Examples", code.examples)
    lines += ["", f"{CODE_MARKER} {code.id}"]
    return "\n".join(lines)


def _parse_code_description(text: str | None) -> dict[str, Any]:
    """Definition, lists and id from a description; foreign text is all definition."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return {"definition": NO_DESCRIPTION, "include": (), "exclude": (), "examples": (), "id": None}
    lines = text.split("\n")
    marker = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].startswith(CODE_MARKER)), None)
    if marker is None:
        return {"definition": text, "include": (), "exclude": (), "examples": (), "id": None}
    code_id = lines[marker][len(CODE_MARKER):].strip()
    sections: dict[str, list[str]] = {"Include": [], "Exclude": [], "Examples": []}
    definition: list[str] = []
    current: list[str] | None = None
    for line in lines[:marker]:
        heading = line.rstrip()[:-1] if line.rstrip().endswith(":") else None
        if heading in sections and (current is not None or not line.startswith(" ")):
            current = sections[heading]
        elif current is None:
            definition.append(line)
        elif line.startswith("- "):
            current.append(line[2:])
        elif line.startswith("  ") and current:
            current[-1] += "\n" + line[2:]
        elif line.strip():
            current.append(line.strip())
    return {
        "definition": "\n".join(definition).strip() or NO_DESCRIPTION,
        "include": tuple(sections["Include"]),
        "exclude": tuple(sections["Exclude"]),
        "examples": tuple(sections["Examples"]),
        "id": code_id,
    }


def frame_description(frame) -> str:
    """The ``<Description>`` of the non-codable code that stands for a frame."""
    lines = [f"{FRAME_MARKER} {frame.id}", f"Mutually exclusive: {'yes' if frame.mutually_exclusive else 'no'}"]
    if frame.description:
        lines += ["", frame.description]
    return "\n".join(lines)


def _parse_frame_description(text: str | None) -> dict[str, Any] | None:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text.startswith(FRAME_MARKER):
        return None
    lines = text.split("\n")
    frame_id = lines[0][len(FRAME_MARKER):].strip()
    exclusive = False
    rest = lines[1:]
    if rest and rest[0].lower().startswith("mutually exclusive:"):
        exclusive = rest[0].split(":", 1)[1].strip().lower() in {"yes", "true", "1"}
        rest = rest[1:]
    return {"id": frame_id, "mutually_exclusive": exclusive, "description": "\n".join(rest).strip()}


# --------------------------------------------------------------------------- export


def _codes_element(codebook, ns: str, *, with_noteref_slot: bool = False):
    codes = ET.Element(f"{{{ns}}}Codes")
    for frame in codebook.frames:
        frame_el = ET.SubElement(codes, f"{{{ns}}}Code", {
            "guid": stable_guid("frame", frame.id), "name": _xml_text(frame.label), "isCodable": "false"})
        ET.SubElement(frame_el, f"{{{ns}}}Description").text = _xml_text(frame_description(frame))
        elements: dict[str, Any] = {}
        for code in frame.codes:  # parents may come after children in a file: attach in a second pass
            el = ET.Element(f"{{{ns}}}Code", {
                "guid": stable_guid("code", code.id), "name": _xml_text(code.label), "isCodable": "true"})
            ET.SubElement(el, f"{{{ns}}}Description").text = _xml_text(code_description(code))
            elements[code.id] = el
        for code in frame.codes:
            parent = elements[code.parent] if code.parent in elements else frame_el
            parent.append(elements[code.id])
    return codes


def _to_bytes(root, ns: str) -> bytes:
    # ElementTree's default_namespace refuses unqualified attributes, so write the
    # default namespace declaration by hand on unqualified tags
    for element in root.iter():
        element.tag = _local(element.tag)
    root.set("xmlns", ns)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_qdc(codebook) -> bytes:
    """A REFI-QDA Codebook (.qdc, ``urn:QDA-XML:codebook:1.0``) of a :class:`~coding.codebook.Codebook`.

    Frames become top-level non-codable codes (see the module docstring).
    """
    if codebook is None or not codebook.frames:
        raise ExchangeError("Nothing to export: the codebook has no frames",
                            [Problem("a .qdc needs at least one code", field="frames")])
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": _origin()})
    root.append(_codes_element(codebook, CODEBOOK_NS))
    return _to_bytes(root, CODEBOOK_NS)


def _origin() -> str:
    from coding import __version__

    return f"Codeframe {__version__}"


def _variable_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
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
    tag = {"Text": "TextValue", "Boolean": "BooleanValue", "Integer": "IntegerValue", "Float": "FloatValue",
           "Date": "DateValue", "DateTime": "DateTimeValue"}[kind]
    element = ET.Element(f"{{{ns}}}{tag}")
    if kind == "Boolean":
        element.text = "true" if value else "false"
    elif kind == "Float":
        element.text = format(Decimal(repr(float(value))), "f")
    elif kind in ("Date", "DateTime"):
        element.text = value.isoformat()
    else:
        element.text = _xml_text(value)
    return element


def _document_description(document: BundleDocument) -> str:
    return f"{DOCUMENT_MARKER} language={document.language} format={document.format}"


def export_qdpx(bundle: Bundle) -> bytes:
    """A REFI-QDA Project (.qdpx zip: ``project.qde`` + ``Sources/<guid>.txt``) of a bundle.

    Raises ExchangeError if a coding names a document or code the bundle does not
    have, or its span lies outside the document's text.
    """
    ns = PROJECT_NS
    problems: list[Problem] = []
    documents = {d.name: d for d in bundle.documents}
    if len(documents) != len(bundle.documents):
        problems.append(Problem("two documents share a name", field="documents"))
    known_codes = set(bundle.codebook.code_ids) if bundle.codebook is not None else set()
    for number, coding in enumerate(bundle.codings, start=1):
        doc = documents.get(coding.document)
        if doc is None:
            problems.append(Problem(f"coding {number} names unknown document {coding.document!r}", field="document"))
        elif not 0 <= coding.start <= coding.end <= len(doc.text):
            problems.append(Problem(f"coding {number} span {coding.start}-{coding.end} is outside "
                                    f"{coding.document!r} ({len(doc.text)} characters)", field="start"))
        if coding.code not in known_codes:
            problems.append(Problem(f"coding {number} uses code {coding.code!r}, not in the codebook", field="code"))
    if problems:
        raise ExchangeError("The project cannot be exported to REFI-QDA", problems)

    root = ET.Element(f"{{{ns}}}Project", {"name": _xml_text(bundle.name or "Codeframe project"),
                                           "origin": _origin()})
    coders = list(dict.fromkeys([*bundle.coders, *(c.coder for c in bundle.codings)]))
    if coders:
        users = ET.SubElement(root, f"{{{ns}}}Users")
        for coder in coders:
            ET.SubElement(users, f"{{{ns}}}User", {"guid": stable_guid("user", coder), "name": _xml_text(coder)})
    if bundle.codebook is not None and bundle.codebook.frames:
        book = ET.SubElement(root, f"{{{ns}}}CodeBook")
        book.append(_codes_element(bundle.codebook, ns))

    respondents: dict[str, list[BundleDocument]] = {}
    for document in bundle.documents:
        respondents.setdefault(document.respondent, []).append(document)
    attributes: dict[str, dict[str, Any]] = {}
    for respondent, docs in respondents.items():
        merged: dict[str, Any] = {}
        for document in docs:
            for key, value in document.attributes.items():
                merged.setdefault(key, value)
        attributes[respondent] = merged
    variable_names = list(dict.fromkeys(k for merged in attributes.values() for k in merged))
    variable_types = {name: _variable_type([a.get(name) for a in attributes.values()]) for name in variable_names}
    if variable_names:
        variables = ET.SubElement(root, f"{{{ns}}}Variables")
        for name in variable_names:
            ET.SubElement(variables, f"{{{ns}}}Variable", {
                "guid": stable_guid("variable", name), "name": _xml_text(name),
                "typeOfVariable": variable_types[name]})
    if respondents:
        cases = ET.SubElement(root, f"{{{ns}}}Cases")
        for respondent, docs in respondents.items():
            case = ET.SubElement(cases, f"{{{ns}}}Case", {"guid": stable_guid("case", respondent),
                                                          "name": _xml_text(respondent)})
            for name in variable_names:
                value = attributes[respondent].get(name)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                holder = ET.SubElement(case, f"{{{ns}}}VariableValue")
                ET.SubElement(holder, f"{{{ns}}}VariableRef", {"targetGUID": stable_guid("variable", name)})
                holder.append(_value_element(variable_types[name], value, ns))
            for document in docs:
                ET.SubElement(case, f"{{{ns}}}SourceRef", {"targetGUID": stable_guid("source", document.name)})

    files: list[tuple[str, bytes]] = []
    if bundle.documents:
        sources = ET.SubElement(root, f"{{{ns}}}Sources")
        by_document: dict[str, list[tuple[int, BundleCoding]]] = {}
        for number, coding in enumerate(bundle.codings):
            by_document.setdefault(coding.document, []).append((number, coding))
        for document in bundle.documents:
            guid = stable_guid("source", document.name)
            source = ET.SubElement(sources, f"{{{ns}}}TextSource", {
                "guid": guid, "name": _xml_text(document.name), "plainTextPath": f"internal://{guid}.txt"})
            ET.SubElement(source, f"{{{ns}}}Description").text = _document_description(document)
            files.append((f"Sources/{guid}.txt", document.text.encode("utf-8")))
            for number, coding in by_document.get(document.name, []):
                key = f"{document.name}|{number}|{coding.start}|{coding.end}|{coding.code}|{coding.coder}"
                user = stable_guid("user", coding.coder)
                selection_attrs = {"guid": stable_guid("selection", key),
                                   "startPosition": str(coding.start), "endPosition": str(coding.end),
                                   "creatingUser": user}
                coding_attrs = {"guid": stable_guid("coding", key), "creatingUser": user}
                if coding.created is not None:
                    selection_attrs["creationDateTime"] = coding.created.isoformat()
                    coding_attrs["creationDateTime"] = coding.created.isoformat()
                selection = ET.SubElement(source, f"{{{ns}}}PlainTextSelection", selection_attrs)
                if coding.memo:
                    ET.SubElement(selection, f"{{{ns}}}Description").text = _xml_text(coding.memo)
                applied = ET.SubElement(selection, f"{{{ns}}}Coding", coding_attrs)
                ET.SubElement(applied, f"{{{ns}}}CodeRef", {"targetGUID": stable_guid("code", coding.code)})
    if bundle.codebook is not None:
        description = f"{CODEBOOK_MARKER} {bundle.codebook.title}"
        if bundle.codebook.description:
            description += "\n\n" + bundle.codebook.description
        ET.SubElement(root, f"{{{ns}}}Description").text = _xml_text(description)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in [("project.qde", _to_bytes(root, ns)), *files]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: stable bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, payload)
    return buffer.getvalue()


# --------------------------------------------------------------------------- import: codebook


class _CodeReader:
    """Turns a (possibly foreign) tree of ``<Code>`` elements into frames and codes."""

    def __init__(self, report: ImportReport, where: str):
        self.report = report
        self.where = where
        self.frames: list[dict[str, Any]] = []
        self.frame_ids: set[str] = set()
        self.code_ids: set[str] = set()
        self.by_guid: dict[str, str] = {}  # code guid -> code id (codable codes only)
        self.frame_guids: set[str] = set()
        self._default: dict[str, Any] | None = None

    def read(self, codes_element) -> None:
        top = _children(codes_element, "Code")
        # reserve the ids Codeframe files name explicitly (first claimant wins), so that
        # ids derived from names never take them
        self._reserved: dict[int, str] = {}
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

    def _new_frame(self, frame_id: str, label: str, description: str, exclusive: bool, guid: str | None):
        frame = {"id": frame_id, "label": label, "description": description, "mutually_exclusive": exclusive,
                 "codes": []}
        self.frames.append(frame)
        if guid:
            self.frame_guids.add(guid)
        return frame

    def _top(self, element) -> None:
        name = element.get("name") or "unnamed"
        description = _child_text(element, "Description")
        info = _parse_frame_description(description)
        children = _children(element, "Code")
        if info is not None:
            frame_id = self._reserved.get(id(element)) or _unique(slug_id(name, fallback="frame"), self.frame_ids)
            frame = self._new_frame(frame_id, name, info["description"], info["mutually_exclusive"],
                                    element.get("guid"))
            for child in children:
                self._code(child, frame, None)
        elif _is_false(element.get("isCodable")) and children:
            frame_id = _unique(slug_id(name, fallback="frame"), self.frame_ids)
            frame = self._new_frame(frame_id, name, (description or "").strip(), False, element.get("guid"))
            for child in children:
                self._code(child, frame, None)
        else:
            if self._default is None:
                self._default = self._new_frame(_unique(DEFAULT_FRAME_ID, self.frame_ids), DEFAULT_FRAME_LABEL,
                                                "Codes imported from a REFI-QDA file.", False, None)
            self._code(element, self._default, None)

    def _code(self, element, frame: dict[str, Any], parent: str | None) -> None:
        name = element.get("name") or "unnamed"
        parsed = _parse_code_description(_child_text(element, "Description"))
        code_id = self._reserved.get(id(element)) or _unique(slug_id(name), self.code_ids)
        if _is_false(element.get("isCodable")):
            self.report.warnings.append(f"code {name!r} is not codable in the source file; imported as a code")
        guid = (element.get("guid") or "").strip("{}").lower()
        if guid:
            self.by_guid[guid] = code_id
        frame["codes"].append({"id": code_id, "label": name, "frame": frame["id"], "parent": parent,
                               "definition": parsed["definition"], "include": parsed["include"],
                               "exclude": parsed["exclude"], "examples": parsed["examples"]})
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


def _is_false(value: str | None) -> bool:
    return (value or "").strip().lower() in {"false", "0"}


def import_qdc(data: bytes, *, title: str | None = None, name: str = "codebook.qdc"):
    """Read a REFI-QDA Codebook (.qdc) into a :class:`~coding.codebook.Codebook`.

    ``title`` names the codebook (QDA-XML codebooks carry none); default: ``name``
    without extension. Raises ExchangeError for unsafe or invalid XML or a file
    without codes.
    """
    root = _parse_xml(data, name)
    if _local(root.tag) != "CodeBook":
        raise ExchangeError(f"{name} is not a REFI-QDA codebook",
                            [Problem(f"root element is <{_local(root.tag)}>, expected <CodeBook>", file=name)])
    codes = _child(root, "Codes")
    if codes is None or not _children(codes, "Code"):
        raise ExchangeError(f"{name} has no codes", [Problem("missing <Codes>/<Code>", file=name)])
    report = ImportReport(file=name)
    reader = _CodeReader(report, name)
    reader.read(codes)
    return reader.codebook(title or Path(name).stem or "Imported codebook", "")


# --------------------------------------------------------------------------- import: project


def _value_of(holder, where: str, report: ImportReport) -> tuple[str | None, Any]:
    ref = _child(holder, "VariableRef")
    target = (ref.get("targetGUID") if ref is not None else "") or ""
    for element in holder:
        kind = _local(element.tag)
        if kind in ("VariableRef",) or not kind.endswith("Value"):
            continue
        raw = (element.text or "").strip()
        try:
            if kind == "BooleanValue":
                return target, raw.lower() in {"true", "1"}
            if kind == "IntegerValue":
                return target, int(raw)
            if kind == "FloatValue":
                return target, float(raw)
            if kind == "DateValue":
                return target, date.fromisoformat(raw[:10])
            if kind == "DateTimeValue":
                return target, datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            report.warnings.append(f"{where}: {kind} {raw!r} is not valid; kept as text")
            return target, raw
        return target, element.text or ""
    return target, None


def _guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


def _read_text(source, archive: _SafeZip, base_name: str, report: ImportReport) -> str | None:
    """Plain text of a TextSource: inline, or a zip member named by plainTextPath."""
    inline = _child(source, "PlainTextContent")
    if inline is not None and not source.get("plainTextPath"):
        return inline.text or ""
    path = (source.get("plainTextPath") or "").strip()
    label = source.get("name") or source.get("guid") or "unnamed source"
    if not path:
        if inline is not None:
            return inline.text or ""
        report.skip("TextSource without plain text", label)
        return None
    scheme, _, rest = path.partition("://")
    if not _:
        scheme, rest = "relative", path
    rest = rest.replace("\\", "/").lstrip("/") if scheme != "absolute" else rest
    candidates: list[str] = []
    if scheme == "internal":
        candidates = [f"Sources/{rest}", rest]
    elif scheme == "relative":
        candidates = [rest, f"Sources/{rest}", f"Sources/{rest.rsplit('/', 1)[-1]}"]
    if ".." in rest.split("/"):
        candidates = []
    member = next((archive.find(c) for c in candidates if archive.find(c)), None)
    if member is None:
        report.skip("TextSource whose text file is not in the archive", f"{label} ({path})")
        return None
    raw = archive.read(member)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.skip("TextSource not in UTF-8", f"{label} ({member})")
        return None
    return text


def import_qdpx(data: bytes, *, name: str = "project.qdpx", max_members: int = MAX_MEMBERS,
                max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO) -> tuple[Bundle, ImportReport]:
    """Read a REFI-QDA Project (.qdpx) into a :class:`~coding.bundle.Bundle` and a report.

    Text sources become documents (plain text inline, or ``internal://`` /
    ``relative://`` files inside the zip); cases become respondents with their
    variables as attributes (a source in no case is its own respondent, named
    after the source); ``PlainTextSelection`` codings become char-span codings.
    Everything else is reported and skipped (see the module docstring).
    """
    archive = _SafeZip(data, name, max_members=max_members, max_total_bytes=max_total_bytes, max_ratio=max_ratio)
    qde = archive.find("project.qde") or next(
        (n for n in archive.infos if n.lower().endswith(".qde") and "/" not in n), None)
    if qde is None:
        raise ExchangeError(f"{name} has no project.qde", [Problem("missing member project.qde", file=name)])
    where = f"{name}:{qde}"
    root = _parse_xml(archive.read(qde), where)
    if _local(root.tag) != "Project":
        raise ExchangeError(f"{where} is not a REFI-QDA project",
                            [Problem(f"root element is <{_local(root.tag)}>, expected <Project>", file=where)])
    report = ImportReport(file=name)

    users: dict[str, str] = {}
    users_element = _child(root, "Users")
    for user in (_children(users_element, "User") if users_element is not None else []):
        guid = _guid(user.get("guid"))
        users[guid] = (user.get("name") or user.get("id") or f"user-{guid[:8]}").strip()

    reader = _CodeReader(report, where)
    book_element = _child(root, "CodeBook")
    codes_element = _child(book_element, "Codes") if book_element is not None else None
    if codes_element is not None:
        reader.read(codes_element)
    description = _child_text(root, "Description") or ""
    title, book_description = root.get("name") or Path(name).stem, description.strip()
    if description.strip().startswith(CODEBOOK_MARKER):
        first, _, rest = description.strip().partition("\n")
        title, book_description = first[len(CODEBOOK_MARKER):].strip(), rest.strip()
    codebook = reader.codebook(title, book_description) if reader.frames else None

    variables: dict[str, str] = {}
    variables_element = _child(root, "Variables")
    for variable in (_children(variables_element, "Variable") if variables_element is not None else []):
        variables[_guid(variable.get("guid"))] = variable.get("name") or "variable"

    def read_values(element, label: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for holder in _children(element, "VariableValue"):
            target, value = _value_of(holder, label, report)
            variable = variables.get(_guid(target))
            if variable is None:
                report.skip("variable value of an unknown variable", label)
            elif value is not None:
                values[variable] = value
        return values

    case_of_source: dict[str, tuple[str, dict[str, Any]]] = {}
    cases_element = _child(root, "Cases")
    case_names: set[str] = set()
    for case in (_children(cases_element, "Case") if cases_element is not None else []):
        case_name = (case.get("name") or "").strip() or f"case-{_guid(case.get('guid'))[:8]}"
        if case_name in case_names:
            report.warnings.append(f"two cases are named {case_name!r}; they are merged into one respondent")
        case_names.add(case_name)
        values = read_values(case, f"case {case_name}")
        for ref in _children(case, "SourceRef"):
            target = _guid(ref.get("targetGUID"))
            if target in case_of_source:
                report.warnings.append(f"a source is in cases {case_of_source[target][0]!r} and {case_name!r}; "
                                       f"kept in the first")
                continue
            case_of_source[target] = (case_name, values)
        for _ in _children(case, "SelectionRef"):
            report.skip("case reference to a selection (part of a source)", case_name)
        for _ in _children(case, "CodeRef"):
            report.skip("case reference to a code", case_name)

    notes: dict[str, str] = {}
    notes_element = _child(root, "Notes")
    for note in (_children(notes_element, "Note") if notes_element is not None else []):
        text = _child_text(note, "PlainTextContent")
        if text is None and (note.get("plainTextPath") or "").startswith("internal://"):
            text = _read_text(note, archive, name, report)
        if text:
            notes[_guid(note.get("guid"))] = text.strip()
    for part in _IGNORED_PARTS:
        element = _child(root, part)
        if element is not None and part != "Notes":
            report.skip(f"{part} (not supported)", f"{len(list(element))} item(s)")

    documents: list[BundleDocument] = []
    codings: list[BundleCoding] = []
    document_names: set[str] = set()
    used_coders: list[str] = []

    def coder_of(*elements) -> str:
        for element in elements:
            guid = _guid(element.get("creatingUser")) if element is not None else ""
            if guid:
                if guid not in users:
                    users[guid] = f"user-{guid[:8]}"
                    report.warnings.append(f"user {guid} is not in <Users>; named {users[guid]!r}")
                return users[guid]
        return FALLBACK_CODER

    def add_coding(document: BundleDocument, start: int, end: int, coding_el, owners, memo, label: str) -> None:
        ref = _child(coding_el, "CodeRef")
        target = _guid(ref.get("targetGUID") if ref is not None else "")
        code = reader.by_guid.get(target)
        if code is None:
            kind = "coding of a frame (non-codable code)" if target in {_guid(g) for g in reader.frame_guids} \
                else "coding of an unknown code"
            report.skip(kind, label)
            return
        notes_text = [notes[_guid(r.get("targetGUID"))] for r in _children(coding_el, "NoteRef")
                      if _guid(r.get("targetGUID")) in notes]
        memo_parts = [part for part in [memo, *notes_text] if part]
        created_raw = coding_el.get("creationDateTime") or next(
            (o.get("creationDateTime") for o in owners if o is not None and o.get("creationDateTime")), None)
        created = None
        if created_raw:
            try:
                created = datetime.fromisoformat(created_raw.replace("Z", "+00:00"))
            except ValueError:
                report.warnings.append(f"{label}: creationDateTime {created_raw!r} is not valid; dropped")
        coder = coder_of(coding_el, *owners)
        if coder not in used_coders:
            used_coders.append(coder)
        codings.append(BundleCoding(document=document.name, start=start, end=end, code=code, coder=coder,
                                    source="import", memo="\n\n".join(memo_parts) or None, created=created))

    sources_element = _child(root, "Sources")
    for source in (list(sources_element) if sources_element is not None else []):
        kind = _local(source.tag)
        label = source.get("name") or source.get("guid") or "unnamed"
        if kind in _UNSUPPORTED_SOURCES:
            report.skip(kind, label)
            selections = sum(1 for el in source.iter() if _local(el.tag) == "Coding")
            if selections:
                report.skip(f"coding in a {kind}", f"{label}: {selections} coding(s)")
            continue
        if kind != "TextSource":
            report.skip(f"unknown source type <{kind}>", label)
            continue
        text = _read_text(source, archive, name, report)
        if text is None:
            continue
        doc_name = _unique(label, document_names, " ({})")
        if doc_name != label:
            report.warnings.append(f"two sources are named {label!r}; the second is {doc_name!r}")
        guid = _guid(source.get("guid"))
        case_name, case_values = case_of_source.get(guid, (None, {}))
        if case_name is None:
            case_name = Path(label).stem or label
        attributes = {**case_values, **read_values(source, f"source {label}")}
        language, fmt = "en", "txt"
        own_description = (_child_text(source, "Description") or "").strip()
        if own_description.startswith(DOCUMENT_MARKER):
            fields = dict(part.split("=", 1) for part in own_description[len(DOCUMENT_MARKER):].split() if "=" in part)
            language, fmt = fields.get("language", language), fields.get("format", fmt)
        document = BundleDocument(name=doc_name, text=text, respondent=case_name, attributes=attributes,
                                  language=language, format=fmt)
        documents.append(document)
        for selection in source:
            selection_kind = _local(selection.tag)
            if selection_kind == "PlainTextSelection":
                try:
                    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
                except (TypeError, ValueError):
                    report.skip("coding with bad position", f"{label}: {selection.get('startPosition')}-"
                                                           f"{selection.get('endPosition')}")
                    continue
                codings_here = _children(selection, "Coding")
                if not 0 <= start < end <= len(text):
                    for _ in codings_here:
                        report.skip("coding with bad position", f"{label}: {start}-{end} (text has {len(text)})")
                    continue
                memo = (_child_text(selection, "Description") or "").strip() or None
                for coding_el in codings_here:
                    add_coding(document, start, end, coding_el, [selection, source], memo,
                               f"{label}: {start}-{end}")
            elif selection_kind == "Coding":  # the whole source is coded
                add_coding(document, 0, len(text), selection, [source], None, f"{label}: whole text")
            elif selection_kind.endswith("Selection"):
                report.skip(f"{selection_kind} (not supported)", label)

    coders = list(dict.fromkeys([*users.values(), *used_coders]))
    bundle = Bundle(codebook=codebook, documents=documents, codings=codings, coders=coders,
                    name=root.get("name") or Path(name).stem)
    report.documents = len(documents)
    report.codings = len(codings)
    report.coders = len(coders)
    report.respondents = len({d.respondent for d in documents})
    return bundle, report
