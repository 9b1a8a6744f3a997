"""Shared parts of the REFI-QDA reader and writer: names, GUIDs, XML helpers, descriptions."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
FRAME_MARKER = "Codeframe frame:"
CODE_MARKER = "Codeframe code:"
CODEBOOK_MARKER = "Codeframe codebook:"
DOCUMENT_MARKER = "Codeframe document:"
NO_DESCRIPTION = "(imported without description)"
DEFAULT_FRAME_ID = "imported"
DEFAULT_FRAME_LABEL = "Imported codes"
#: The description of the frame that holds a foreign file's top-level codes. It marks a frame that exists only
#: because of an import: the export writes its codes at the top level again, never the frame as a code.
IMPORTED_FRAME_DESCRIPTION = "Codes imported from a REFI-QDA file."
FALLBACK_CODER = "imported"

_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://www.qdasoftware.org/codeframe")
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RGB = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
     "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "a", "g", "q", "n", "o", "u", "u", "h", "i"],
))


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


def _guid(value: str | None) -> str:
    """A GUID as compared: no braces (NVivo), lower case."""
    return (value or "").strip().strip("{}").lower()


def _is_false(value: str | None) -> bool:
    return (value or "").strip().lower() in {"false", "0"}


def _color(value: str | None) -> str | None:
    """A REFI-QDA ``RGBType`` colour, or None."""
    value = (value or "").strip()
    return value if _RGB.match(value) else None


# --------------------------------------------------------------------------- descriptions


def _items(title: str, values: tuple[str, ...]) -> list[str]:
    lines = [f"{title}:"]
    for value in values:
        first, *rest = str(value).split("\n")
        lines.append(f"- {first}")
        lines.extend(f"  {line}" for line in rest)
    return lines


def code_description(code) -> str:
    """The readable ``<Description>`` of a code (definition, include, exclude, examples, id); parts that are
    empty are left out, so a foreign code's description comes back as it was, with the id line below it."""
    blocks = [code.definition.strip()] if code.definition.strip() not in ("", NO_DESCRIPTION) else []
    for title, values in (("Include", code.include), ("Exclude", code.exclude), ("Examples", code.examples)):
        if values:
            blocks.append("\n".join(_items(title, values)))
    blocks.append(f"{CODE_MARKER} {code.id}")
    return "\n\n".join(blocks)


def import_only_frame(frame) -> bool:
    """Whether a frame exists only because an import put a foreign file's top-level codes into it."""
    return frame.description == IMPORTED_FRAME_DESCRIPTION and re.fullmatch(
        rf"{DEFAULT_FRAME_ID}(_\d+)?", frame.id) is not None


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

