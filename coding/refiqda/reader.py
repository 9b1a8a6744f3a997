"""Reading a REFI-QDA Project (.qdpx) into a :class:`~coding.bundle.Bundle` and an :class:`ImportReport`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from coding.bundle import Bundle, BundleCoding, BundleDocument, BundleSet, ImportReport
from coding.errors import ExchangeError, Problem
from coding.refiqda.codes import CodeReader
from coding.refiqda.common import (
    CODEBOOK_MARKER,
    DOCUMENT_MARKER,
    FALLBACK_CODER,
    _child,
    _child_text,
    _children,
    _guid,
    _local,
    _unique,
)
from coding.refiqda.offsets import detect, text_matches
from coding.refiqda.safe import MAX_MEMBERS, MAX_RATIO, MAX_TOTAL_BYTES, SafeZip, parse_xml

_UNSUPPORTED_SOURCES = ("PDFSource", "PictureSource", "AudioSource", "VideoSource")
_VALUE_TYPES = {"BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue", "TextValue"}


def _value(element, where: str, report: ImportReport) -> Any:
    kind, raw = _local(element.tag), (element.text or "").strip()
    try:
        if kind == "BooleanValue":
            return raw.lower() in {"true", "1"}
        if kind == "IntegerValue":
            return int(raw)
        if kind == "FloatValue":
            return float(raw)
        if kind == "DateValue":
            return date.fromisoformat(raw[:10])
        if kind == "DateTimeValue":
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        report.notes.append(f"{where}: {kind} {raw!r} is not valid; kept as text")
        return raw
    return element.text or ""


def _timestamp(raw: str | None, where: str, report: ImportReport) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        report.notes.append(f"{where}: creationDateTime {raw!r} is not valid; dropped")
        return None


class ProjectReader:
    """One read of one .qdpx: call :meth:`read` for the bundle and the report.

    Text sources (and the plain-text representation of PDF sources) become documents; cases
    become respondents with their variables as attributes (a source in no case is its own
    respondent); variables on sources (MAXQDA) are that document's attributes; selections
    become codings on the exact span, positions read per source as :mod:`.offsets` decides;
    notes referenced by codings or selections become their memos; sets become
    :class:`~coding.bundle.BundleSet`. Everything else is counted in the report as dropped.
    """

    def __init__(self, data: bytes, *, name: str = "project.qdpx", max_members: int = MAX_MEMBERS,
                 max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO):
        self.name = name
        self.archive = SafeZip(data, name, max_members=max_members, max_total_bytes=max_total_bytes,
                               max_ratio=max_ratio)
        self.report = ImportReport(file=name)
        self.users: dict[str, str] = {}
        self.variables: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.used_notes: set[str] = set()
        self.case_of_source: dict[str, tuple[str, dict[str, Any]]] = {}
        self.documents: list[BundleDocument] = []
        self.document_of_source: dict[str, str] = {}
        self.codings: list[BundleCoding] = []
        self.used_coders: list[str] = []
        self._document_names: set[str] = set()

    # ------------------------------------------------------------------ entry point

    def _qde(self) -> str:
        archive = self.archive
        found = archive.find("project.qde")
        if found is None:  # ATLAS.ti 26 names it after the project
            candidates = sorted((n for n in archive.infos if n.lower().endswith(".qde")),
                                key=lambda n: (n.count("/"), n))
            found = candidates[0] if candidates else None
            if len(candidates) > 1:
                self.report.notes.append(f"{len(candidates)} .qde files; read {found}")
        if found is None:
            raise ExchangeError(f"{self.name} has no project.qde",
                                [Problem("missing member project.qde (or another .qde)", file=self.name)])
        return found

    def read(self) -> tuple[Bundle, ImportReport]:
        qde = self._qde()
        self.where = f"{self.name}:{qde}"
        root = parse_xml(self.archive.read(qde), self.where)
        if _local(root.tag) != "Project":
            raise ExchangeError(f"{self.where} is not a REFI-QDA project",
                                [Problem(f"root element is <{_local(root.tag)}>, expected <Project>",
                                         file=self.where)])
        self._users(root)
        codebook = self._codebook(root)
        self._variables(root)
        self._cases(root)
        self._notes(root)
        self._sources(root)
        sets = self._sets(root)
        self._unused(root)
        report = self.report
        coders = list(dict.fromkeys([*self.users.values(), *self.used_coders]))
        bundle = Bundle(codebook=codebook, documents=self.documents, codings=self.codings, coders=coders,
                        name=root.get("name") or Path(self.name).stem, colors=dict(self.codes.colors),
                        non_codable=list(self.codes.non_codable), sets=sets)
        report.documents = [d.name for d in self.documents]
        report.codings = len(self.codings)
        report.coders = len(coders)
        report.respondents = len({d.respondent for d in self.documents})
        report.carry("users -> coders", len(self.users))
        return bundle, report

    # ------------------------------------------------------------------ project parts

    def _users(self, root) -> None:
        element = _child(root, "Users")
        for user in (_children(element, "User") if element is not None else []):
            guid = _guid(user.get("guid"))
            self.users[guid] = (user.get("name") or user.get("id") or f"user-{guid[:8]}").strip()

    def _codebook(self, root):
        self.codes = CodeReader(self.report, self.where)
        book = _child(root, "CodeBook")
        codes = _child(book, "Codes") if book is not None else None
        if codes is not None:
            self.codes.read(codes)
        description = (_child_text(root, "Description") or "").strip()
        title, book_description = root.get("name") or Path(self.name).stem, description
        if description.startswith(CODEBOOK_MARKER):
            first, _, rest = description.partition("\n")
            title, book_description = first[len(CODEBOOK_MARKER):].strip(), rest.strip()
        return self.codes.codebook(title, book_description) if self.codes.frames else None

    def _variables(self, root) -> None:
        element = _child(root, "Variables")
        for variable in (_children(element, "Variable") if element is not None else []):
            self.variables[_guid(variable.get("guid"))] = variable.get("name") or "variable"
        self.report.carry("variables -> attributes", len(self.variables))

    def _values(self, element, label: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for holder in _children(element, "VariableValue"):
            ref = _child(holder, "VariableRef")
            variable = self.variables.get(_guid(ref.get("targetGUID") if ref is not None else ""))
            value_element = next((e for e in holder if _local(e.tag) in _VALUE_TYPES), None)
            if variable is None:
                self.report.skip("variable value of an unknown variable", label)
            elif value_element is not None:
                values[variable] = _value(value_element, label, self.report)
        return values

    def _cases(self, root) -> None:
        element = _child(root, "Cases")
        names: set[str] = set()
        for case in (_children(element, "Case") if element is not None else []):
            case_name = (case.get("name") or "").strip() or f"case-{_guid(case.get('guid'))[:8]}"
            if case_name in names:
                self.report.notes.append(f"two cases are named {case_name!r}; they are merged into one respondent")
            names.add(case_name)
            values = self._values(case, f"case {case_name}")
            refs = _children(case, "SourceRef")
            if not refs:
                self.report.skip("case with no source (a respondent needs a document)", case_name)
            else:
                self.report.carry("cases -> respondents")
            for ref in refs:
                target = _guid(ref.get("targetGUID"))
                if target in self.case_of_source:
                    self.report.notes.append(f"a source is in cases {self.case_of_source[target][0]!r} and "
                                                f"{case_name!r}; kept in the first")
                    continue
                self.case_of_source[target] = (case_name, values)
            for _ in _children(case, "SelectionRef"):
                self.report.skip("case reference to a selection (part of a source)", case_name)
            for _ in _children(case, "CodeRef"):
                self.report.skip("case reference to a code", case_name)

    def _notes(self, root) -> None:
        element = _child(root, "Notes")
        for note in (_children(element, "Note") if element is not None else []):
            text = self._text_of(note, quiet=True)
            label = note.get("name") or note.get("guid") or "note"
            if text and text.strip():
                self.notes[_guid(note.get("guid"))] = text.strip()
            else:
                self.report.skip("note without text", label)
        self._note_names = {_guid(n.get("guid")): n.get("name") or n.get("guid") or "note"
                            for n in (_children(element, "Note") if element is not None else [])}

    def _unused(self, root) -> None:
        for guid, name in self._note_names.items():
            if guid in self.notes and guid not in self.used_notes:
                self.report.skip("note not attached to a coding (Codeframe keeps memos on codings)", name)
        for part in ("Links", "Graphs"):
            element = _child(root, part)
            if element is not None:
                self.report.skip(f"{part} (not supported)", f"{len(list(element))} item(s)")
        for _ in _children(root, "NoteRef"):
            self.report.skip("note on the project (Codeframe keeps memos on codings)", root.get("name") or "project")

    def _sets(self, root) -> list[BundleSet]:
        element = _child(root, "Sets")
        sets: list[BundleSet] = []
        taken: set[str] = set()
        for item in (_children(element, "Set") if element is not None else []):
            name = _unique((item.get("name") or "").strip() or "set", taken, " ({})")
            codes, documents = [], []
            for ref in _children(item, "MemberCode"):
                code = self.codes.by_guid.get(_guid(ref.get("targetGUID")))
                if code is None:
                    self.report.skip("set member that is no code of the codebook (e.g. a frame)", name)
                else:
                    codes.append(code)
            for ref in _children(item, "MemberSource"):
                document = self.document_of_source.get(_guid(ref.get("targetGUID")))
                if document is None:
                    self.report.skip("set member that is no imported document", name)
                else:
                    documents.append(document)
            for _ in _children(item, "MemberNote"):
                self.report.skip("set member that is a note", name)
            sets.append(BundleSet(name=name, description=(_child_text(item, "Description") or "").strip(),
                                  codes=codes, documents=documents))
        self.report.carry("sets -> groups", len(sets))
        return sets

    # ------------------------------------------------------------------ sources

    def _text_of(self, source, *, quiet: bool = False) -> str | None:
        """Plain text of a TextSource or Note: inline, or a zip member named by plainTextPath."""
        inline = _child(source, "PlainTextContent")
        path = (source.get("plainTextPath") or "").strip()
        label = source.get("name") or source.get("guid") or "unnamed source"
        if inline is not None and not path:
            return inline.text or ""
        if not path:
            if not quiet:
                self.report.skip("TextSource without plain text", label)
            return None
        scheme, sep, rest = path.partition("://")
        if not sep:
            scheme, rest = "relative", path
        rest = rest.replace("\\", "/")
        base = rest.rstrip("/").rsplit("/", 1)[-1]
        if scheme == "internal":
            candidates = [f"Sources/{rest.lstrip('/')}", rest.lstrip("/")]
        elif scheme == "relative":
            rest = rest.lstrip("/")
            candidates = [rest, f"Sources/{rest}", f"Sources/{base}"]
        else:  # absolute://C:/... : never the file system, only a file of that name in the archive
            candidates = [f"Sources/{base}", base]
        if ".." in rest.split("/"):
            candidates = []
        member = next((self.archive.find(c) for c in candidates if self.archive.find(c)), None)
        if member is None:
            if inline is not None:
                return inline.text or ""
            if not quiet:
                self.report.skip("TextSource whose text file is not in the archive", f"{label} ({path})")
            return None
        try:
            return self.archive.read(member).decode("utf-8-sig")
        except UnicodeDecodeError:
            if not quiet:
                self.report.skip("TextSource not in UTF-8", f"{label} ({member})")
            return None

    def _sources(self, root) -> None:
        element = _child(root, "Sources")
        for source in (list(element) if element is not None else []):
            kind = _local(source.tag)
            label = source.get("name") or source.get("guid") or "unnamed"
            if kind == "PDFSource" and _child(source, "Representation") is not None:
                for selection in _children(source, "PDFSelection"):
                    self.report.skip("PDFSelection (only the text representation is read)",
                                     f"{label}: {len(_children(selection, 'Coding'))} coding(s)")
                self.report.carry("PDF sources read through their text representation")
                self._text_source(_child(source, "Representation"), label, _guid(source.get("guid")),
                                  self._values(source, f"source {label}"))
            elif kind in _UNSUPPORTED_SOURCES:
                self.report.skip(kind, label)
                codings = sum(1 for el in source.iter() if _local(el.tag) == "Coding")
                if codings:
                    self.report.skip(f"coding in a {kind}", f"{label}: {codings} coding(s)")
            elif kind == "TextSource":
                self._text_source(source, label, _guid(source.get("guid")), {})
            else:
                self.report.skip(f"unknown source type <{kind}>", label)

    def _text_source(self, source, label: str, guid: str, extra_values: dict[str, Any]) -> None:
        text = self._text_of(source)
        if text is None:
            return
        doc_name = _unique(label, self._document_names, " ({})")
        if doc_name != label:
            self.report.notes.append(f"two sources are named {label!r}; the second is {doc_name!r}")
        case_name, case_values = self.case_of_source.get(guid, (None, {}))
        if case_name is None:
            case_name = Path(label).stem or label
        own = {**extra_values, **self._values(source, f"source {label}")}
        if own:
            self.report.carry("variable values on sources -> document attributes", len(own))
        language, fmt = "", "txt"  # "": unknown, the import detects it from the text
        own_description = (_child_text(source, "Description") or "").strip()
        if own_description.startswith(DOCUMENT_MARKER):
            fields = dict(part.split("=", 1) for part in own_description[len(DOCUMENT_MARKER):].split() if "=" in part)
            language, fmt = fields.get("language", language), fields.get("format", fmt)
        elif own_description:
            self.report.skip("source description (Codeframe has no document memo)", label)
        document = BundleDocument(name=doc_name, text=text, respondent=case_name,
                                  attributes={**case_values, **own}, language=language, format=fmt)
        self.documents.append(document)
        self.document_of_source[guid] = doc_name
        self.report.carry("text sources -> documents")
        for _ in _children(source, "NoteRef"):
            self.report.skip("note on a source (Codeframe keeps memos on codings)", label)
        self._selections(source, document, label)

    def _selections(self, source, document: BundleDocument, label: str) -> None:
        text = document.text
        raw: list[tuple[Any, int, int]] = []
        for selection in source:
            kind = _local(selection.tag)
            if kind == "PlainTextSelection":
                try:
                    raw.append((selection, int(selection.get("startPosition")), int(selection.get("endPosition"))))
                except (TypeError, ValueError):
                    for _ in _children(selection, "Coding") or [None]:
                        self.report.skip("coding with bad position", f"{label}: {selection.get('startPosition')}-"
                                                                      f"{selection.get('endPosition')}")
            elif kind == "Coding":  # the whole source is coded
                self._coding(document, 0, len(text), selection, [source], None, f"{label}: whole text")
            elif kind.endswith("Selection"):
                self.report.skip(f"{kind} (not supported)", label)
        if not raw:
            return
        decision = detect(text, [(start, end, s.get("name")) for s, start, end in raw])
        convention = decision.convention
        if decision.alternatives > 1:
            self.report.offsets[document.name] = decision.describe()
        for selection, start, end in raw:
            codings = _children(selection, "Coding")
            span = convention.span(start, end)
            where = f"{label}: {start}-{end}"
            if not codings:
                self.report.skip("selection without a coding (nothing to code)", where)
                continue
            if span is None:
                size = f"{convention.position(len(text))} {convention.label.split(',')[0]}"
                for _ in codings:
                    self.report.skip("coding with bad position",
                                     f"{where} (fits no offset convention; the text has {size})")
                continue
            if decision.text_checked and text_matches(text, span, selection.get("name")) is False:
                self.report.notes.append(f"{where}: the selection's own text does not match the text at its "
                                            f"position ({convention.label}); kept at its position")
            if span != (start, end):
                self.report.map(f"selection positions converted from {convention.label} to code points",
                                len(codings))
            own_memo = (_child_text(selection, "Description") or "").strip()
            if own_memo:
                self.report.carry("selection descriptions -> memos")
            memo_parts = [own_memo, *self._note_texts(selection)]
            memo = "\n\n".join(p for p in memo_parts if p) or None
            for coding in codings:
                self._coding(document, span[0], span[1], coding, [selection, source], memo, where)

    def _note_texts(self, element) -> list[str]:
        texts = []
        for ref in _children(element, "NoteRef"):
            guid = _guid(ref.get("targetGUID"))
            if guid in self.notes:
                self.used_notes.add(guid)
                texts.append(self.notes[guid])
                self.report.carry("notes -> memos")
        return texts

    def _coder(self, *elements) -> str:
        for element in elements:
            guid = _guid(element.get("creatingUser")) if element is not None else ""
            if guid:
                if guid not in self.users:
                    self.users[guid] = f"user-{guid[:8]}"
                    self.report.notes.append(f"user {guid} is not in <Users>; named {self.users[guid]!r}")
                return self.users[guid]
        return FALLBACK_CODER

    def _coding(self, document: BundleDocument, start: int, end: int, element, owners, memo, where: str) -> None:
        ref = _child(element, "CodeRef")
        target = _guid(ref.get("targetGUID") if ref is not None else "")
        code = self.codes.by_guid.get(target)
        if code is None:
            kind = "coding of a frame (non-codable category)" if target in self.codes.frame_guids \
                else "coding of an unknown code"
            self.report.skip(kind, where)
            return
        notes = self._note_texts(element)
        memo = "\n\n".join(part for part in [memo, *notes] if part) or None
        created_raw = element.get("creationDateTime") or next(
            (o.get("creationDateTime") for o in owners if o is not None and o.get("creationDateTime")), None)
        coder = self._coder(element, *owners)
        if coder not in self.used_coders:
            self.used_coders.append(coder)
        self.codings.append(BundleCoding(document=document.name, start=start, end=end, code=code, coder=coder,
                                         source="import", memo=memo,
                                         created=_timestamp(created_raw, where, self.report)))
        self.report.carry("selections -> codings on their exact span")


def import_qdpx(data: bytes, *, name: str = "project.qdpx", max_members: int = MAX_MEMBERS,
                max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: float = MAX_RATIO) -> tuple[Bundle, ImportReport]:
    """Read a REFI-QDA Project (.qdpx) into a :class:`~coding.bundle.Bundle` and a report.

    See :class:`ProjectReader` for what is read and how.
    """
    return ProjectReader(data, name=name, max_members=max_members, max_total_bytes=max_total_bytes,
                         max_ratio=max_ratio).read()
