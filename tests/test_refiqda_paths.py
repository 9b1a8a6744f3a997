"""A REFI-QDA round trip keeps the file's code tree: every code path, colour and description, every source
and every coding as (source, code path, coded text); a frame that exists only because of an import is not
written back as a code.

On the real NVivo 12.6 export beside the repository (``../shared/refi``, read-only; a visible skip where it
is absent) and on projects written in the shapes MAXQDA and ATLAS.ti export.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from test_refiqda_roundtrip import U1, U2, Fixture

from coding import service
from coding.refiqda import CODE_MARKER, FRAME_MARKER, export_qdpx
from coding.refiqda.reader import ProjectReader

SHARED_NVIVO = Path("..") / "shared" / "refi" / "nvivo12_hungarian.qdpx"  # relative to the repository
REPOSITORY = Path(__file__).absolute().parent.parent  # not resolved: the checkout as it was reached
P = "p"


def readable(description: str | None) -> str:
    """A description as a reader sees it: without the lines Codeframe adds to find its ids again."""
    lines = (description or "").replace("\r\n", "\n").split("\n")
    kept = [line for line in lines if not line.startswith((CODE_MARKER, FRAME_MARKER, "Mutually exclusive:"))]
    return "\n".join(kept).strip()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element, name: str):
    return [child for child in element if _local(child.tag) == name]


class Tree:
    """What a .qdpx holds, read straight from its XML: codes by path, sources, codings."""

    def __init__(self, data: bytes):
        archive = zipfile.ZipFile(io.BytesIO(data))
        qde = next(n for n in archive.namelist() if n.lower().endswith(".qde"))
        root = ET.fromstring(archive.read(qde))
        self.codes: dict[str, tuple[str, str]] = {}  # path -> (colour, description)
        self.path_of: dict[str, str] = {}  # guid -> path
        codes = next(e for e in root.iter() if _local(e.tag) == "Codes")
        self._walk(codes, "")
        self.sources: dict[str, str] = {}
        self.codings: set[tuple[str, str, str]] = set()
        self.members = {n.lower(): n for n in archive.namelist()}
        self.archive = archive
        self.root = root

    def _walk(self, element, prefix: str) -> None:
        for code in _children(element, "Code"):
            path = f"{prefix}/{code.get('name')}" if prefix else code.get("name")
            description = next((d.text for d in _children(code, "Description")), None)
            self.codes[path] = ((code.get("color") or "").lower(), readable(description))
            self.path_of[code.get("guid").strip("{}").lower()] = path
            self._walk(code, path)

    def read_codings(self) -> None:
        """Sources and codings of a file whose positions are code points of its plain text (Codeframe's)."""
        for source in (e for e in self.root.iter() if _local(e.tag) == "TextSource"):
            member = "sources/" + source.get("plainTextPath").split("://", 1)[1].lower()
            text = self.archive.read(self.members[member]).decode("utf-8")
            self.sources[source.get("name")] = text.replace("\r\n", "\n")
            for selection in _children(source, "PlainTextSelection"):
                quote = text[int(selection.get("startPosition")):int(selection.get("endPosition"))]
                for coding in _children(selection, "Coding"):
                    guid = _children(coding, "CodeRef")[0].get("targetGUID").strip("{}").lower()
                    self.codings.add((source.get("name"), self.path_of[guid], quote.replace("\r\n", "\n")))


def original_tree(data: bytes) -> Tree:
    """The tree of a foreign file; its sources and codings as the reader places them (the tool's own offsets)."""
    tree = Tree(data)
    reader = ProjectReader(data, name="original.qdpx")
    bundle, _ = reader.read()
    guid_of = {code_id: guid for guid, code_id in reader.codes.by_guid.items()}
    texts = {d.name: d.text for d in bundle.documents}
    tree.sources = {name: text.replace("\r\n", "\n") for name, text in texts.items()}
    tree.codings = {(c.document, tree.path_of[guid_of[c.code]], texts[c.document][c.start:c.end].replace("\r\n", "\n"))
                    for c in bundle.codings}
    return tree


def assert_tree_kept(engine, data: bytes, name: str) -> Tree:
    """import -> export: the same code paths, colours, descriptions, sources and codings."""
    before = original_tree(data)
    bundle, report = ProjectReader(data, name=name).read()
    service.import_bundle(engine, P, bundle, report)
    after = Tree(export_qdpx(service.export_bundle(engine, P)))
    after.read_codings()
    assert sorted(set(after.codes) - set(before.codes)) == [], "code paths the file did not have"
    assert sorted(set(before.codes) - set(after.codes)) == [], "code paths lost"
    changed = {p: (before.codes[p], after.codes[p]) for p in before.codes if before.codes[p] != after.codes[p]}
    assert changed == {}, "colour or description changed"
    assert after.sources == before.sources
    assert sorted(before.codings - after.codings) == [] and sorted(after.codings - before.codings) == []
    return before


def test_the_real_nvivo_export_keeps_its_code_tree(engine):
    path = REPOSITORY / SHARED_NVIVO
    if not path.exists():
        pytest.skip(f"{SHARED_NVIVO} (beside the repository) is absent: the real NVivo 12.6 export cannot be tested")
    before = assert_tree_kept(engine, path.read_bytes(), path.name)
    assert len(before.codes) == 152 and len(before.sources) == 2
    assert len(before.codings) > 250  # distinct (source, code path, coded text)
    assert sum(1 for p in before.codes if "/" not in p) == 12  # 11 top-level nodes and 1 folder


def maxqda_shape() -> Fixture:
    """MAXQDA: top-level codes are codable, coloured, with sub-codes; descriptions on some; two coders."""
    f = Fixture("MAXQDA 24 style")
    pay_low, x_pay_low = f.code("Too low", color="#ff8000", description="Pay below the market.")
    pay_late, x_pay_late = f.code("Paid late", color="#ff8000")
    pay, x_pay = f.code("Pay", color="#ff0000", description="Anything about salaries.\nAlso bonuses.",
                        children=x_pay_low + x_pay_late)
    deeper, x_deeper = f.code("Peer mentoring", color="#00a0ff", description="Colleagues, not managers.")
    mentor, x_mentor = f.code("Mentoring", color="#00a0ff", children=x_deeper)  # three levels
    mentor_parent, x_training = f.code("Training", color="#0000ff", children=x_mentor)
    f.codes_xml = x_pay + x_training
    text = ("Respondent: Pay is too low for young staff. Salaries are paid late.\n"
            "Interviewer: And training?\nRespondent: A mentor helped me. My peers taught me more.\n")
    f.source("Interview 1", text, [("Pay is too low for young staff.", 0, [(pay_low, U1), (pay, U2)], None),
                                   ("Salaries are paid late.", 0, [(pay_late, U1)], None),
                                   ("A mentor helped me.", 0, [(mentor, U1), (mentor_parent, U2)], None),
                                   ("My peers taught me more.", 0, [(deeper, U2)], None)])
    f.source("Interview 2", "Respondent: Bonuses matter more than pay.\n",
             [("Bonuses matter more than pay.", 0, [(pay, U1)], "a memo")])
    return f


def atlas_shape() -> Fixture:
    """ATLAS.ti: a flat list of coloured codes with comments (one with a sub-code), selections named by their
    text, UTF-16 positions."""
    f = Fixture("ATLAS.ti 24 style", utf16=True, with_names=True)
    trust, x_trust = f.code("Trust", color="#3cb44b", description="Trust in institutions 🙂")
    distrust, x_distrust = f.code("Distrust", color="#e6194b", description="Suspicion of officials.")
    nepotism, x_nepotism = f.code("Nepotism", color="#911eb4")
    hiring, x_hiring = f.code("Hiring", color="#4363d8", children=x_nepotism)
    f.codes_xml = x_trust + x_distrust + x_hiring
    text = "Respondent: I trust the courts 🙂. Officials hire relatives. Nobody believes the ministry.\n"
    f.source("P1 interview.txt", text, [("I trust the courts 🙂.", 0, [(trust, U1)], None),
                                        ("Officials hire relatives.", 0, [(nepotism, U1), (hiring, U2)], None),
                                        ("Nobody believes the ministry.", 0, [(distrust, U2)], None)])
    return f


@pytest.mark.parametrize("shape", [maxqda_shape, atlas_shape], ids=["maxqda", "atlas"])
def test_a_foreign_code_tree_comes_back_as_it_was(engine, shape):
    f = shape()
    before = assert_tree_kept(engine, f.data(), f"{f.name}.qdpx")
    assert any(colour for colour, _ in before.codes.values()) and any(d for _, d in before.codes.values())
    assert any("/" in path for path in before.codes)  # a hierarchy, kept at its depth


def test_a_codeframe_frame_is_still_exported_as_a_category(engine):
    """Only the frame made by an import goes; the frames of Codeframe's own codebook stay categories."""
    service.initialize(engine, P)
    tree = Tree(export_qdpx(service.export_bundle(engine, P)))
    frames = {f.label for f in service.project_codebook(engine, P).frames}
    assert frames and {p for p in tree.codes if "/" not in p} == frames
