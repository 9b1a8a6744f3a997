"""Reading codebook YAML: every problem collected with its line, nothing of an invalid codebook returned.

The loader composes the YAML node tree itself (aliases become placeholders, so no alias
bombs; duplicate keys are problems), then builds the :mod:`coding.codebook` model from it.
Pure module: the standard library, PyYAML and :mod:`coding.codebook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from coding.codebook import (
    FORMAT_VERSION,
    ID_PATTERN,
    MAX_CODEBOOK_BYTES,
    MAX_EXAMPLES,
    MIN_EXAMPLES,
    Code,
    Codebook,
    Frame,
    _parent_cycles,
)
from coding.errors import CodebookError, Problem

# key -> required?
_TOP_KEYS = {"codebook": True, "title": True, "description": False, "frames": True}
_FRAME_KEYS = {
    "id": True,
    "label": True,
    "description": False,
    "mutually_exclusive": False,
    "codes": True,
}
_CODE_KEYS = {
    "id": True,
    "label": True,
    "parent": False,
    "definition": True,
    "include": True,
    "exclude": True,
    "examples": True,
    "expected_share": False,
}


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook YAML file (UTF-8, with or without BOM).

    Raises
    ------
    CodebookError
        If the file is missing, too large, binary, not UTF-8, or invalid in any way;
        ``.problems`` lists every problem with its line.
    """
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CodebookError(
            f"cannot read codebook {name}", [Problem(f"cannot read file: {exc.strerror or exc}", file=name)]
        ) from None
    if not path.is_file():
        raise CodebookError(f"cannot read codebook {name}", [Problem("not a file", file=name)])
    if size > MAX_CODEBOOK_BYTES:
        raise CodebookError(f"codebook {name} is too large", [_too_large(size, name)])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodebookError(
            f"cannot read codebook {name}", [Problem(f"cannot read file: {exc.strerror or exc}", file=name)]
        ) from None
    if b"\x00" in data:
        raise CodebookError(
            f"codebook {name} is a binary file",
            [Problem("binary file (contains NUL bytes); a codebook is UTF-8 YAML text", file=name)],
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CodebookError(
            f"codebook {name} is not UTF-8",
            [Problem(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                     "save the file as UTF-8", file=name, line=line)],
        ) from None
    return parse_codebook(text, source=name)


def parse_codebook(text: str, *, source: str = "<string>") -> Codebook:
    """Parse and validate codebook YAML text.

    ``source`` names the text in problem messages (usually the file path).

    Raises
    ------
    CodebookError
        With one :class:`~coding.errors.Problem` per issue, each with its line.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_codebook needs str, got {type(text).__name__}")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_CODEBOOK_BYTES:
        raise CodebookError(f"codebook {source} is too large", [_too_large(size, source)])
    if text.startswith("\ufeff"):
        text = text[1:]
    report = _Report(source)
    root = _compose(text, report)
    if root is not None:
        _check_characters(root, report)
    codebook = None
    if root is not None and not report.fatal:
        codebook = _Builder(report).build(root)
    if report.problems or codebook is None:
        report.problems.sort(key=lambda problem: problem.line or 0)
        count = len(report.problems)
        raise CodebookError(
            f"{source}: invalid codebook, {count} problem{'s' if count != 1 else ''}; nothing was loaded",
            report.problems,
        )
    return codebook


def _check_characters(root: Node, report: _Report) -> None:
    """Refuse a NUL or a lone surrogate in any value (a YAML escape can write them): no database stores them."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            bad = next((c for c in node.value if c == "\x00" or "\ud800" <= c <= "\udfff"), None)
            if bad is not None:
                what = "a NUL character" if bad == "\x00" else f"a lone surrogate (U+{ord(bad):04X})"
                report.add(f"{what} in {node.value[:40]!r}: write plain text", node)
        elif isinstance(node.value, list):
            stack.extend(v for pair in node.value for v in (pair if isinstance(pair, tuple) else (pair,)))


def _too_large(size: int, name: str) -> Problem:
    return Problem(
        f"file is {size / 1e6:.1f} MB; a codebook may be at most {MAX_CODEBOOK_BYTES // (1024 * 1024)} MB",
        file=name,
    )


class _Report:
    """Collects problems while a codebook is checked."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self.fatal = False

    def add(self, message: str, where: Node | int | None, key: str | None = None) -> None:
        line = where.start_mark.line + 1 if isinstance(where, Node) else where
        self.problems.append(Problem(message, file=self.source, line=line, field=key))


class _AliasPlaceholder(ScalarNode):
    """Stands in for a YAML alias so the node tree stays a tree (no alias bombs)."""


class _CheckingLoader(yaml.SafeLoader):
    """SafeLoader that records anchors and aliases instead of resolving aliases."""

    def __init__(self, text: str, report: _Report):
        super().__init__(text)
        self._report = report

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.get_event()
            self._report.add(
                f"YAML aliases are not allowed (*{event.anchor}); write the value out in full",
                event.start_mark.line + 1,
            )
            return _AliasPlaceholder("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._report.add(
                f"YAML anchors are not allowed (&{anchor}); write each value out in full",
                event.start_mark.line + 1,
            )
            # Compose the node without registering the anchor, so later aliases
            # cannot refer to it and duplicate anchors are not an error on top.
            event.anchor = None
        return super().compose_node(parent, index)


def compose_untrusted(text: str, source: str, *, what: str = "file") -> tuple[Node | None, list[Problem]]:
    """The YAML node tree of untrusted ``text`` with no alias ever resolved, and the problems found
    (every anchor and alias, syntax errors, characters YAML forbids). Safe against alias bombs: the
    tree stays a tree. Used by every YAML reader (codebooks, sector instruments)."""
    report = _Report(source)
    root = _compose(text, report, what=what)
    return root, report.problems


def _compose(text: str, report: _Report, *, what: str = "codebook") -> Node | None:
    """The YAML node tree of ``text``, or None (with a problem) if it is not YAML."""
    loader = None
    try:
        loader = _CheckingLoader(text, report)  # the reader checks characters already here
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        parts = [p for p in (exc.context, exc.problem) if p]
        report.add(f"YAML syntax error: {', '.join(parts) or exc}", mark.line + 1 if mark else None)
        report.fatal = True
        return None
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        report.add(f"character {char!r} (U+{ord(char):04X}) is not allowed in YAML", line)
        report.fatal = True
        return None
    except yaml.YAMLError as exc:  # pragma: no cover - defensive, all PyYAML errors are marked
        report.add(f"YAML error: {exc}", None)
        report.fatal = True
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        report.add(f"the {what} is empty", 1)
        report.fatal = True
    return root


_NO_VALUE = object()


@dataclass
class _CodeEntry:
    """A code as seen while checking: its id and place, and the Code if it is valid."""

    id: str
    frame: str
    line: int
    parent: str | None
    parent_line: int | None
    code: Code | None


@dataclass
class _FrameEntry:
    """A frame as seen while checking, with the entries of its codes."""

    id: str | None
    line: int
    frame: Frame | None
    codes: list[_CodeEntry]


class _Builder:
    """Walks the node tree, checking every key and value, and builds the Codebook."""

    def __init__(self, report: _Report):
        self.report = report
        self.constructor = yaml.constructor.SafeConstructor()
        self.unreadable: set[int] = set()  # ids of scalar nodes whose tag was reported

    # -- typed values ------------------------------------------------------

    def scalar(self, node: Node) -> Any:
        """The Python value of a scalar node, or _NO_VALUE if it has none."""
        if isinstance(node, _AliasPlaceholder):
            return _NO_VALUE  # already reported
        if not isinstance(node, ScalarNode) or id(node) in self.unreadable:
            return _NO_VALUE
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            self.unreadable.add(id(node))
            self.report.add(f"unsupported YAML value ({exc.problem}); use plain text, numbers or true/false", node)
            return _NO_VALUE

    def describe(self, node: Node) -> str:
        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        value = self.scalar(node)
        if value is None:
            return "nothing (null)"
        if isinstance(value, bool):
            return f"true/false ({node.value})"
        if isinstance(value, (int, float)):
            return f"a number ({node.value})"
        if isinstance(value, str):
            return "text"
        return f"a {type(value).__name__} ({node.value})"

    def text(self, node: Node, what: str, key: str, *, allow_empty: bool = False) -> str | None:
        value = self.scalar(node)
        if isinstance(node, _AliasPlaceholder) or id(node) in self.unreadable:
            return None
        if value is None and isinstance(node, ScalarNode):
            if allow_empty:
                return ""
            self.report.add(f"{what}: {key!r} must not be empty", node, key)
            return None
        if not isinstance(value, str):
            hint = " (put it in quotes)" if isinstance(node, ScalarNode) else ""
            self.report.add(f"{what}: {key!r} must be text, got {self.describe(node)}{hint}", node, key)
            return None
        value = value.strip()
        if not value and not allow_empty:
            self.report.add(f"{what}: {key!r} must not be empty", node, key)
            return None
        return value

    def identifier(self, node: Node, what: str, key: str = "id") -> str | None:
        value = self.text(node, what, key)
        if value is not None and not ID_PATTERN.match(value):
            self.report.add(
                f"{what}: id {value!r} is not valid; use lowercase letters, digits and "
                "underscores, starting with a letter (e.g. 'rd_delegation')",
                node,
                key,
            )
            return None
        return value

    def text_list(self, node: Node, what: str, key: str) -> tuple[str, ...] | None:
        if isinstance(node, _AliasPlaceholder):
            return None
        if not isinstance(node, SequenceNode):
            self.report.add(f"{what}: {key!r} must be a list of texts, got {self.describe(node)}", node, key)
            return None
        items: list[str] = []
        ok = True
        for position, item in enumerate(node.value, start=1):
            value = self.text(item, what, f"{key}[{position}]")
            if value is None:
                ok = False
            else:
                items.append(value)
        return tuple(items) if ok else None

    def expected_share(self, keys: dict, what: str) -> tuple[bool, float | None]:
        """The optional ``expected_share`` of a code: a number above 0 and at most 1 (a share of the
        frame's units). Returns ``(valid, value)``."""
        if "expected_share" not in keys:
            return True, None
        node = keys["expected_share"][1]
        value = self.scalar(node)
        if isinstance(node, _AliasPlaceholder) or id(node) in self.unreadable:
            return False, None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            self.report.add(f"{what}: 'expected_share' must be a number above 0 and at most 1 (the share of the "
                            f"frame's units expected to carry the code), got {self.describe(node)}",
                            node, "expected_share")
            return False, None
        return True, float(value)

    def boolean(self, node: Node, what: str, key: str) -> bool | None:
        value = self.scalar(node)
        if isinstance(node, _AliasPlaceholder) or id(node) in self.unreadable:
            return None
        if not isinstance(value, bool):
            self.report.add(f"{what}: {key!r} must be true or false, got {self.describe(node)}", node, key)
            return None
        return value

    def mapping(self, node: Node, what: str, allowed: dict[str, bool]) -> dict[str, tuple[Node, Node]] | None:
        """Keys of a mapping node -> (key node, value node); reports wrong type,
        non-text keys, duplicate, unknown and missing keys."""
        if isinstance(node, _AliasPlaceholder):
            return None
        if not isinstance(node, MappingNode):
            self.report.add(f"{what} must be a mapping of keys to values, got {self.describe(node)}", node)
            return None
        found: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                if not isinstance(key_node, _AliasPlaceholder):
                    self.report.add(f"{what}: keys must be text, got {self.describe(key_node)}", key_node)
                continue
            if key in found:
                first = found[key][0].start_mark.line + 1
                self.report.add(f"{what}: duplicate key {key!r} (first given on line {first})", key_node, key)
                continue
            if key not in allowed:
                names = ", ".join(allowed)
                self.report.add(f"{what}: unknown key {key!r}; allowed keys are: {names}", key_node, key)
                continue
            found[key] = (key_node, value_node)
        for key, required in allowed.items():
            if required and key not in found:
                self.report.add(f"{what}: missing required key {key!r}", node, key)
        return found

    # -- structure ---------------------------------------------------------

    def build(self, root: Node) -> Codebook | None:
        top = self.mapping(root, "the codebook", _TOP_KEYS)
        if top is None:
            return None
        if "codebook" in top:
            node = top["codebook"][1]
            version = self.scalar(node)
            if isinstance(version, bool) or not isinstance(version, int):
                if not isinstance(node, _AliasPlaceholder):
                    self.report.add(
                        f"'codebook' is the format version and must be the number {FORMAT_VERSION}, "
                        f"got {self.describe(node)}", node, "codebook")
            elif version != FORMAT_VERSION:
                self.report.add(
                    f"unsupported codebook format version {version}; this version of Codeframe "
                    f"reads version {FORMAT_VERSION}", node, "codebook")
        title = self.text(top["title"][1], "the codebook", "title") if "title" in top else None
        description = ""
        if "description" in top:
            description = self.text(top["description"][1], "the codebook", "description", allow_empty=True) or ""

        frames: list[_FrameEntry] = []
        if "frames" in top:
            frames_node = top["frames"][1]
            if isinstance(frames_node, SequenceNode):
                if not frames_node.value:
                    self.report.add("the codebook has no frames; add at least one", frames_node, "frames")
                for position, frame_node in enumerate(frames_node.value, start=1):
                    entry = self.frame(frame_node, position)
                    if entry is not None:
                        frames.append(entry)
            elif not isinstance(frames_node, _AliasPlaceholder):
                self.report.add(f"'frames' must be a list of frames, got {self.describe(frames_node)}",
                                frames_node, "frames")
        self.check_ids_and_parents(frames)
        if self.report.problems or title is None or any(entry.frame is None for entry in frames):
            return None
        return Codebook(
            title=title,
            description=description,
            frames=tuple(entry.frame for entry in frames),
            source=self.report.source,
        )

    @staticmethod
    def peek_id(node: Node) -> str | None:
        """The plain ``id:`` text of a mapping node, to name it in messages early."""
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if (isinstance(key_node, ScalarNode) and key_node.value == "id"
                        and isinstance(value_node, ScalarNode) and ID_PATTERN.match(value_node.value)):
                    return value_node.value
        return None

    def frame(self, node: Node, position: int) -> _FrameEntry | None:
        """Check one frame and its codes; None if it is not even a mapping."""
        peeked = self.peek_id(node)
        what = f"frame {peeked!r}" if peeked else f"frame #{position}"
        keys = self.mapping(node, what, _FRAME_KEYS)
        if keys is None:
            return None
        line = node.start_mark.line + 1
        frame_id = self.identifier(keys["id"][1], what) if "id" in keys else None
        if frame_id is not None:
            what = f"frame {frame_id!r}"
        label = self.text(keys["label"][1], what, "label") if "label" in keys else None
        description = ""
        if "description" in keys:
            description = self.text(keys["description"][1], what, "description", allow_empty=True) or ""
        exclusive: bool | None = False
        if "mutually_exclusive" in keys:
            exclusive = self.boolean(keys["mutually_exclusive"][1], what, "mutually_exclusive")
        entries: list[_CodeEntry] = []
        complete = "codes" in keys
        if "codes" in keys:
            codes_node = keys["codes"][1]
            if isinstance(codes_node, SequenceNode):
                if not codes_node.value:
                    self.report.add(f"{what} has an empty codes list; add at least one code", codes_node, "codes")
                for code_position, code_node in enumerate(codes_node.value, start=1):
                    entry = self.code(code_node, frame_id or f"#{position}", what, code_position)
                    if entry is None:
                        complete = False
                    else:
                        entries.append(entry)
                        complete = complete and entry.code is not None
            else:
                complete = False
                if not isinstance(codes_node, _AliasPlaceholder):
                    self.report.add(f"{what}: 'codes' must be a list of codes, got {self.describe(codes_node)}",
                                    codes_node, "codes")
        frame = None
        if complete and None not in (frame_id, label, exclusive):
            frame = Frame(
                id=frame_id,
                label=label,
                description=description,
                mutually_exclusive=exclusive,
                codes=tuple(entry.code for entry in entries),
                line=line,
            )
        return _FrameEntry(id=frame_id, line=line, frame=frame, codes=entries)

    def code(self, node: Node, frame_id: str, frame_what: str, position: int) -> _CodeEntry | None:
        """Check one code. None if it has no usable id; otherwise an entry whose
        ``code`` is None when some other field is wrong (so its id still counts
        for the global checks and its children are not reported as orphans)."""
        peeked = self.peek_id(node)
        what = f"code {peeked!r}" if peeked else f"code #{position} of {frame_what}"
        keys = self.mapping(node, what, _CODE_KEYS)
        if keys is None:
            return None
        line = node.start_mark.line + 1
        code_id = self.identifier(keys["id"][1], what) if "id" in keys else None
        if code_id is not None:
            what = f"code {code_id!r}"
        values: dict[str, Any] = {}
        for key in ("label", "definition"):
            if key in keys:
                values[key] = self.text(keys[key][1], what, key)
        for key in ("include", "exclude", "examples"):
            if key in keys:
                values[key] = self.text_list(keys[key][1], what, key)
        examples = values.get("examples")
        if examples is not None and not MIN_EXAMPLES <= len(examples) <= MAX_EXAMPLES:
            self.report.add(
                f"{what}: give {MIN_EXAMPLES} to {MAX_EXAMPLES} examples, found {len(examples)}",
                keys["examples"][1], "examples")
            values["examples"] = None
        share_ok, share = self.expected_share(keys, what)
        parent: str | None = None
        parent_line: int | None = None
        parent_ok = True
        if "parent" in keys:
            parent_node = keys["parent"][1]
            raw = self.scalar(parent_node)
            # ``parent: null`` (or empty) marks a top-level code
            if not (raw is None and isinstance(parent_node, ScalarNode)
                    and not isinstance(parent_node, _AliasPlaceholder)):
                parent = self.identifier(parent_node, what, "parent")
                parent_line = parent_node.start_mark.line + 1
                parent_ok = parent is not None
        if code_id is None:
            return None
        required = [values.get(k) for k in ("label", "definition", "include", "exclude", "examples")]
        code = None
        if parent_ok and share_ok and all(value is not None for value in required):
            code = Code(
                id=code_id,
                label=values["label"],
                frame=frame_id,
                parent=parent,
                definition=values["definition"],
                include=values["include"],
                exclude=values["exclude"],
                examples=values["examples"],
                expected_share=share,
                line=line,
            )
        return _CodeEntry(id=code_id, frame=frame_id, line=line, parent=parent,
                          parent_line=parent_line, code=code)

    def check_ids_and_parents(self, frames: list[_FrameEntry]) -> None:
        """Global rules: unique frame ids, unique code ids, parents in the same frame,
        no cycles."""
        frame_lines: dict[str, int] = {}
        for frame in frames:
            if frame.id is None:
                continue
            if frame.id in frame_lines:
                self.report.add(
                    f"duplicate frame id {frame.id!r} (also on line {frame_lines[frame.id]})", frame.line, "id")
            else:
                frame_lines[frame.id] = frame.line

        first: dict[str, _CodeEntry] = {}
        entries = [entry for frame in frames for entry in frame.codes]
        for entry in entries:
            other = first.get(entry.id)
            if other is None:
                first[entry.id] = entry
                continue
            where = "" if other.frame == entry.frame else f" in frame {other.frame!r}"
            self.report.add(
                f"duplicate code id {entry.id!r}: defined on line {other.line}{where} and again on "
                f"line {entry.line}; code ids must be unique across all frames", entry.line, "id")

        parent_of: dict[str, str | None] = {}
        parent_lines: dict[str, int] = {}
        for entry in entries:
            if first[entry.id] is not entry or entry.parent is None:
                continue
            target = first.get(entry.parent)
            if target is None:
                self.report.add(f"code {entry.id!r}: parent {entry.parent!r} is not a code in the codebook",
                                entry.parent_line, "parent")
            elif target.frame != entry.frame:
                self.report.add(
                    f"code {entry.id!r}: parent {entry.parent!r} is in frame {target.frame!r}, not in "
                    f"{entry.frame!r}; a parent must be in the same frame", entry.parent_line, "parent")
            else:
                parent_of[entry.id] = entry.parent
                parent_lines[entry.id] = entry.parent_line
        for cycle in _parent_cycles(parent_of):
            self.report.add(
                f"parent cycle: {' -> '.join(cycle)}; a code cannot be its own ancestor",
                parent_lines[cycle[0]], "parent")
