"""REFI-QDA round trips through the database that keep every original span.

For the real NVivo 12.6 export (``tests/fixtures/refi``) and each generated fixture:
import -> export -> import gives the same project; the export is valid against the XSD;
export -> import into a fresh project -> export gives the same XML apart from timestamps.
"""

import hashlib
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import xmlschema
from sqlmodel import Session, select

from coding import service
from coding.database import queries
from coding.database.tables import Code, CodeFrame, Coder, Coding, Document, ItemSet, Segment, Selection
from coding.paths import PACKAGE_DIR
from coding.refiqda import export_qdpx, import_qdpx, stable_guid
from coding.refiqda.reader import ProjectReader

HERE = Path(__file__).resolve().parent
NVIVO = HERE / "fixtures" / "refi" / "nvivo12_hungarian.qdpx"
SHARED_NVIVO = HERE.parent.parent / "shared" / "refi" / "nvivo12_hungarian.qdpx"
NVIVO_SHA256 = "0c3df5420d44ba06a6f5bdec91873bdac9dfb344f7025f57f69c57ba047f39a8"
PROJECT_XSD = xmlschema.XMLSchema(str(PACKAGE_DIR / "schemas" / "Project-mrt2019.xsd"))
Q = "{urn:QDA-XML:project:1.0}"
P = "p"


# --------------------------------------------------------------------------- helpers


def qde_text(qdpx: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(qdpx)).read("project.qde").decode("utf-8")


def without_timestamps(qdpx: bytes) -> tuple[str, dict[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(qdpx))
    qde = re.sub(r' (creationDateTime|modifiedDateTime)="[^"]*"', "", archive.read("project.qde").decode("utf-8"))
    return qde, {n: archive.read(n) for n in archive.namelist() if n != "project.qde"}


def snapshot(engine, project: str) -> dict:
    """Everything a round trip must keep, from the database."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        docs = {d.id: d for d in queries.documents(session, row.id)}
        frames = {f.id: f.key for f in session.exec(select(CodeFrame).where(CodeFrame.project_id == row.id))}
        codes = {c.id: c for c in session.exec(select(Code).where(Code.project_id == row.id))}
        coders = {c.id: c.name for c in session.exec(select(Coder).where(Coder.project_id == row.id))}
        selections = session.exec(select(Selection).where(Selection.document_id.in_(list(docs)))).all()
        codings = session.exec(select(Coding, Segment).join(Segment, Coding.segment_id == Segment.id)
                               .where(Segment.document_id.in_(list(docs)))).all()
        sets = session.exec(select(ItemSet).where(ItemSet.project_id == row.id)).all()
        return {
            "documents": sorted((d.name, d.text, d.respondent, sorted(d.attributes.items())) for d in docs.values()),
            "codes": sorted((c.key, c.label, c.parent_key or "", c.definition, frames[c.frame_id], c.color or "",
                             c.codable, c.active) for c in codes.values()),
            "coders": sorted(coders.values()),
            "selections": sorted((docs[s.document_id].name, s.start, s.end, codes[s.code_id].key,
                                  coders[s.coder_id], s.memo or "") for s in selections),
            "codings": sorted((docs[g.document_id].name, g.position, codes[c.code_id].key, coders[c.coder_id],
                               c.memo or "") for c, g in codings),
            "sets": sorted((s.name, s.description, tuple(s.codes), tuple(s.documents)) for s in sets),
        }


def round_trip(engine, data: bytes, name: str):
    """import -> snapshot -> export -> (fresh project) import -> snapshot -> export."""
    bundle, report = import_qdpx(data, name=name)
    service.import_bundle(engine, P, bundle, report)
    first = snapshot(engine, P)
    exported = export_qdpx(service.export_bundle(engine, P))
    PROJECT_XSD.validate(qde_text(exported))
    service.delete_project(engine, P)
    again, again_report = import_qdpx(exported, name="exported.qdpx")
    service.import_bundle(engine, P, again, again_report)
    second = snapshot(engine, P)
    exported_again = export_qdpx(service.export_bundle(engine, P))
    return report, first, second, exported, exported_again


def assert_round_trip(engine, data: bytes, name: str):
    report, first, second, exported, exported_again = round_trip(engine, data, name)
    for part in first:  # part by part, so a failure names what changed
        assert second[part] == first[part], part
    assert without_timestamps(exported_again) == without_timestamps(exported)
    assert exported != b""
    return report, first, exported


def selection_texts(engine, project: str = P) -> Counter:
    """(document, text of the stored span, code label, coder) of every stored selection."""
    with Session(engine) as session:
        row = queries.project_by_name(session, project)
        rows = session.exec(
            select(Document.name, Document.text, Selection.start, Selection.end, Code.label, Coder.name)
            .join(Document, Selection.document_id == Document.id).join(Code, Selection.code_id == Code.id)
            .join(Coder, Selection.coder_id == Coder.id).where(Document.project_id == row.id)).all()
    return Counter((d, text[s:e], label, coder) for d, text, s, e, label, coder in rows)


# --------------------------------------------------------------------------- the real NVivo export


def nvivo_bytes() -> bytes:
    return NVIVO.read_bytes()  # missing fixture: FileNotFoundError, a failure


def test_the_nvivo_fixture_is_the_real_export_unedited():
    data = nvivo_bytes()
    assert hashlib.sha256(data).hexdigest() == NVIVO_SHA256
    if SHARED_NVIVO.exists():  # the shared copy beside the repository, where there is one
        assert SHARED_NVIVO.read_bytes() == data


def _original_selections(data: bytes):
    """Every PlainTextSelection of the NVivo file: (source, startPosition, endPosition, code id, user)."""
    reader = ProjectReader(data, name="nvivo.qdpx")
    reader.read()
    root = ET.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("project.qde"))
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{Q}User")}
    out = []
    for source in root.iter(f"{Q}TextSource"):
        for selection in source.iter(f"{Q}PlainTextSelection"):
            for coding in selection.iter(f"{Q}Coding"):
                code = reader.codes.by_guid[coding.find(f"{Q}CodeRef").get("targetGUID").lower()]
                out.append((source.get("name"), int(selection.get("startPosition")),
                            int(selection.get("endPosition")), code, users[coding.get("creatingUser")]))
    texts = {}
    archive = zipfile.ZipFile(io.BytesIO(data))
    for source in root.iter(f"{Q}TextSource"):
        member = "Sources/" + source.get("plainTextPath").split("://", 1)[1]
        texts[source.get("name")] = archive.read(member).decode("utf-8-sig")
    return out, texts, users


def _utf16_units(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def _back_to_nvivo_units(original: str, exported: str) -> list[int]:
    """For each code point offset of the exported (LF) text, NVivo's position in the original (CRLF) text."""
    stored_to_original: dict[int, int] = {}
    j = 0
    for i, ch in enumerate(original):
        stored_to_original[j] = i  # the last original offset at this stored offset
        if j < len(exported) and (exported[j] == ch or (ch == "\r" and exported[j] == "\n")):
            j += 1
    stored_to_original[j] = len(original)
    assert original.replace("\r\n", "\n") == exported  # the text itself only lost its CRs and BOM
    units, count, previous = [], 0, 0
    for j in range(len(exported) + 1):  # cumulative UTF-16 units, computed incrementally
        i = stored_to_original[j]
        count += _utf16_units(original[previous:i], i - previous) if i > previous else 0
        previous = i
        units.append(count)
    return units


def test_nvivo_positions_are_read_as_utf16_units_with_crlf_as_two():
    bundle, report = import_qdpx(nvivo_bytes(), name="nvivo12_hungarian.qdpx")
    assert report.offsets["videos_10_selected"].startswith("UTF-16 units, CRLF as two characters")
    assert "videos_selection" not in report.offsets  # no selections there: nothing to decide
    assert "coding with bad position" not in report.skipped
    assert report.carried["selections -> codings on their exact span"] == 330 == len(bundle.codings)
    assert len(bundle.codebook.code_ids) == 151 and len(bundle.coders) == 3
    originals, texts, _ = _original_selections(nvivo_bytes())
    # independent check: each span read from the file starts and ends where NVivo's UTF-16 count points
    for (source, start, end, code, user), coding in zip(originals, bundle.codings, strict=True):
        original = texts[source]
        assert _utf16_units(original, coding.start) == start and _utf16_units(original, coding.end) == end
        assert (coding.code, coding.coder) == (code, user)


def test_nvivo_round_trip_keeps_100_percent_of_the_original_spans_codes_and_coders(engine):
    data = nvivo_bytes()
    report, first, exported = assert_round_trip(engine, data, "nvivo12_hungarian.qdpx")
    originals, texts, users = _original_selections(data)
    assert len(originals) == 330 and len({(s, a, b) for s, a, b, _, _ in originals}) == 195

    root = ET.fromstring(qde_text(exported))
    archive = zipfile.ZipFile(io.BytesIO(exported))
    code_of_guid = {stable_guid("code", key): key for key, *_ in first["codes"]}
    exported_users = {u.get("guid"): u.get("name") for u in root.iter(f"{Q}User")}
    back = []
    for source in root.iter(f"{Q}TextSource"):
        name = source.get("name")
        text = archive.read("Sources/" + source.get("plainTextPath").split("://", 1)[1]).decode("utf-8")
        units = _back_to_nvivo_units(texts[name], text)
        for selection in source.iter(f"{Q}PlainTextSelection"):
            for coding in selection.iter(f"{Q}Coding"):
                back.append((name, units[int(selection.get("startPosition"))], units[int(selection.get("endPosition"))],
                             code_of_guid[coding.find(f"{Q}CodeRef").get("targetGUID")],
                             exported_users[coding.get("creatingUser")]))
    kept = sum((Counter(originals) & Counter(back)).values())
    # 330 of 330 selections (195 distinct spans) come back with NVivo's own positions, code and user
    assert (kept, len(originals), len(back)) == (330, 330, 330), f"{kept / len(originals):.0%} of the spans kept"
    assert Counter(back) == Counter(originals)
    assert {code for *_, code, _ in originals} <= {key for key, *_ in first["codes"]}
    assert len([c for c in first["codes"] if c[-1]]) == 151  # every code, no leftover of the default codebook
    assert set(users.values()) == set(first["coders"]) == {"Gergo", "floriansipos", "test_user"}
    assert len(first["selections"]) == 330
    assert report.mapped["spans kept exactly (original span stored beside its segment codings)"] == 330
    assert report.mapped["spans not on segment boundaries, coded on the segments they overlap"] > 0


# --------------------------------------------------------------------------- generated fixtures

NS = 'xmlns="urn:QDA-XML:project:1.0"'
U1, U2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def _g(n: int, kind: str = "a") -> str:
    return f"{kind * 8}-0000-0000-0000-{n:012d}"


def _position(text: str, index: int, *, utf16: bool, crlf_one: bool) -> int:
    prefix = text[:index]
    count = len(prefix.encode("utf-16-le")) // 2 if utf16 else len(prefix)
    return count - prefix.count("\r\n") if crlf_one else count


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class Fixture:
    """A foreign-style .qdpx built from quotes, so the expected text of every selection is known."""

    def __init__(self, name: str, *, utf16: bool = False, crlf_one: bool = False, with_names: bool = False):
        self.name, self.utf16, self.crlf_one, self.with_names = name, utf16, crlf_one, with_names
        self.codes_xml, self.extra, self.cases, self.sources, self.members = "", "", "", [], {}
        self.expected: Counter = Counter()
        self.code_labels: dict[str, str] = {}
        self.n = 0

    def guid(self, kind: str = "e") -> str:
        self.n += 1
        return _g(self.n, kind)

    def source(self, name: str, text: str, selections, *, inline: bool = False, variables: str = "",
               convention: dict | None = None) -> str:
        """``selections``: (quote, occurrence, [(code guid, user)], memo-or-None)."""
        conv = {"utf16": self.utf16, "crlf_one": self.crlf_one, **(convention or {})}
        guid = self.guid("d")
        parts = []
        for quote, occurrence, codings, description in selections:
            index = -1
            for _ in range(occurrence + 1):
                index = text.index(quote, index + 1)
            start = _position(text, index, **conv)
            end = _position(text, index + len(quote), **conv)
            named = f' name="{_escape(quote)}"' if self.with_names else ""
            inner = f"<Description>{_escape(description)}</Description>" if description else ""
            for code, user in codings:
                inner += (f'<Coding guid="{self.guid("f")}" creatingUser="{user}">'
                          f'<CodeRef targetGUID="{code}"/></Coding>')
                coder = {U1: "Anna", U2: "Boris"}[user]
                self.expected[(name, quote.replace("\r\n", "\n"), self.code_labels[code], coder)] += 1
            parts.append(f'<PlainTextSelection guid="{self.guid("e")}"{named} startPosition="{start}" '
                         f'endPosition="{end}" creatingUser="{U1}">{inner}</PlainTextSelection>')
        if inline:
            body = f"<PlainTextContent>{_escape(text)}</PlainTextContent>"
            self.members_text = None
            attrs = ""
        else:
            body, attrs = "", f' plainTextPath="internal://{guid}.txt"'
            self.members[f"Sources/{guid}.txt"] = text.encode("utf-8")
        self.sources.append(f'<TextSource guid="{guid}" name="{_escape(name)}"{attrs}>{body}{"".join(parts)}'
                            f'{variables}</TextSource>')
        return guid

    def code(self, label: str, *, codable: bool = True, color: str | None = None, children: str = "",
             description: str = "") -> tuple[str, str]:
        guid = self.guid("a")
        self.code_labels[guid] = label
        colour = f' color="{color}"' if color else ""
        desc = f"<Description>{_escape(description)}</Description>" if description else ""
        return guid, (f'<Code guid="{guid}" name="{_escape(label)}" isCodable="{str(codable).lower()}"{colour}>'
                      f'{desc}{children}</Code>')

    def data(self) -> bytes:
        qde = (f'<?xml version="1.0" encoding="utf-8"?><Project {NS} name="{self.name}" origin="Other tool 1.0">'
               f'<Users><User guid="{U1}" name="Anna"/><User guid="{U2}" name="Boris"/></Users>'
               f"<CodeBook><Codes>{self.codes_xml}</Codes></CodeBook>{self.cases}"
               f'<Sources>{"".join(self.sources)}</Sources>{self.extra}</Project>')
        PROJECT_XSD.validate(qde)  # the generated fixture follows the published schema
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("project.qde", qde.encode("utf-8"))
            for member, payload in self.members.items():
                archive.writestr(member, payload)
        return buffer.getvalue()


def overlapping() -> Fixture:
    f = Fixture("Overlapping")
    a, xa = f.code("Pay")
    b, xb = f.code("Careers")
    f.codes_xml = xa + xb
    text = ("Respondent: Pay is too low for young staff. Careers stall after five years. "
            "Nobody stays for long.\nInterviewer: Why?\nRespondent: Because pay and careers are linked.\n")
    f.source("overlap.txt", text, [
        ("Pay is too low for young staff. Careers stall", 0, [(a, U1)], "cuts a sentence"),
        ("Careers stall after five years. Nobody stays", 0, [(b, U1), (b, U2)], None),  # overlaps the first
        ("young staff", 0, [(a, U2)], None),  # inside the first
        ("Pay is too low for young staff.", 0, [(a, U1), (b, U1)], "two codes, one span"),
        ("Why?", 0, [(b, U2)], None),  # an interviewer turn
        ("pay and careers", 0, [(a, U1)], None),
        ("pay and careers", 0, [(a, U1)], None),  # the same selection twice: both kept
    ])
    return f


def hierarchy() -> Fixture:
    f = Fixture("Three levels")
    leaf, x_leaf = f.code("Training", color="#00ff00", description="Courses and mentoring.")
    mid, x_mid = f.code("Capacity", codable=False, children=x_leaf)
    top, x_top = f.code("Governance", color="#FF0000", children=x_mid)
    value, x_value = f.code("Integrity", description="Honesty.")
    category, x_category = f.code("Values", codable=False, children=x_value)
    f.codes_xml = x_top + x_category
    text = "Respondent: Training matters. Governance too. Integrity above all.\n"
    f.source("levels.txt", text, [("Training matters.", 0, [(leaf, U1)], None),
                                  ("Governance too.", 0, [(top, U2)], None),
                                  ("Integrity above all.", 0, [(value, U1)], None)])
    return f


def crlf() -> Fixture:
    f = Fixture("CRLF")
    a, xa = f.code("Reform")
    f.codes_xml = xa
    text = ("Interviewer: First question?\r\nRespondent: The reform is slow.\r\n\r\nIt needs a plan.\r\n"
            "Interviewer: And then?\r\nRespondent: Then the plan needs people.\r\nPeople need pay.\r\n")
    quotes = [("The reform is slow.", 0, [(a, U1)], None), ("It needs a plan.", 0, [(a, U2)], None),
              ("Then the plan needs people.", 0, [(a, U1)], None), ("People need pay.", 0, [(a, U1)], None),
              ("The reform is slow.\r\n\r\nIt needs a plan.", 0, [(a, U2)], "spans lines")]
    f.source("two.txt", text, quotes)  # CRLF counted as two characters (NVivo)
    f.source("one.txt", text, quotes, convention={"crlf_one": True})  # as one (read with universal newlines)
    return f


def cyrillic_kazakh() -> Fixture:
    f = Fixture("Кадры")
    a, xa = f.code("Кадровый резерв", description="Резерв кадров.")
    b, xb = f.code("Қызмет әдебі")
    f.codes_xml = xa + xb
    ru = "Респондент: Кадровый резерв формируется плохо. Нужны новые правила.\n"
    kk = "Респондент: Қызмет әдебі өте маңызды. Ұлттық құндылықтар, һәм ғылым, іс-әрекет.\n"
    f.source("ru.txt", ru, [("Кадровый резерв формируется плохо.", 0, [(a, U1)], "русский"),
                            ("Нужны новые правила.", 0, [(a, U2)], None)])
    f.source("kk.txt", kk, [("Қызмет әдебі өте маңызды.", 0, [(b, U1)], "қазақша"),
                            ("Ұлттық құндылықтар, һәм ғылым", 0, [(b, U2), (a, U1)], None)])
    return f


def emoji() -> Fixture:
    f = Fixture("Emoji", utf16=True, with_names=True)  # ATLAS.ti style: UTF-16 units, selection text as name
    a, xa = f.code("Joy")
    b, xb = f.code("Anger")
    f.codes_xml = xa + xb
    text = ("Respondent: 😀 We love the new rules 👍🏽. The family 👨‍👩‍👧 agrees.\n"
            "Respondent: 😡 But the pay 💸 is a joke. Really 🤣🤣.\n")
    f.source("emoji.txt", text, [("We love the new rules 👍🏽.", 0, [(a, U1)], None),
                                 ("The family 👨‍👩‍👧 agrees.", 0, [(a, U2)], None),
                                 ("But the pay 💸 is a joke.", 0, [(b, U1)], "💸"),
                                 ("Really 🤣🤣.", 0, [(b, U2)], None)])
    return f


def cases_and_variables() -> Fixture:
    f = Fixture("Cases")
    a, xa = f.code("Pay")
    f.codes_xml = xa
    v = [f.guid("b") for _ in range(6)]
    kinds = ["Integer", "Boolean", "Float", "Date", "Text", "Text"]
    names = ["Age", "Senior", "Score", "Interviewed", "Sector", "Wave"]
    variables = "".join(f'<Variable guid="{g}" name="{n}" typeOfVariable="{k}"/>' for g, n, k in zip(v, names, kinds))

    def value(i, tag, raw):
        return f'<VariableValue><VariableRef targetGUID="{v[i]}"/><{tag}>{raw}</{tag}></VariableValue>'

    t1, t2, t3 = ("Respondent: Pay is low.\n", "Respondent: Pay is fine.\n", "Respondent: Pay again.\n")
    d1 = f.source("e1-a.txt", t1, [("Pay is low.", 0, [(a, U1)], None)], variables=value(5, "TextValue", "one"))
    d2 = f.source("e1-b.txt", t2, [("Pay is fine.", 0, [(a, U2)], None)], variables=value(5, "TextValue", "two"))
    d3 = f.source("e2.txt", t3, [("Pay again.", 0, [(a, U1)], None)], inline=True,
                  variables=value(4, "TextValue", "Ministry"))  # MAXQDA: a variable on the source
    case1 = (f'<Case guid="{f.guid("c")}" name="Expert 1">{value(0, "IntegerValue", 52)}'
             f'{value(1, "BooleanValue", "true")}{value(2, "FloatValue", "0.25")}'
             f'{value(3, "DateValue", "2024-03-01")}<SourceRef targetGUID="{d1}"/>'
             f'<SourceRef targetGUID="{d2}"/></Case>')
    case2 = (f'<Case guid="{f.guid("c")}" name="Expert 2">{value(0, "IntegerValue", 40)}'
             f'{value(1, "BooleanValue", "false")}<SourceRef targetGUID="{d3}"/></Case>')
    f.cases = f"<Variables>{variables}</Variables><Cases>{case1}{case2}</Cases>"
    f.extra = (f'<Sets><Set guid="{f.guid("9")}" name="Ministries"><Description>Sources from ministries'
               f'</Description><MemberCode targetGUID="{a}"/><MemberSource targetGUID="{d1}"/>'
               f'<MemberSource targetGUID="{d3}"/></Set><Set guid="{f.guid("9")}" name="Empty"/></Sets>')
    return f


GENERATED = {"overlapping": overlapping, "hierarchy": hierarchy, "crlf": crlf, "cyrillic_kazakh": cyrillic_kazakh,
             "emoji": emoji, "cases": cases_and_variables}


@pytest.mark.parametrize("fixture", list(GENERATED))
def test_generated_fixture_round_trips_with_every_span(engine, fixture):
    f = GENERATED[fixture]()
    report, first, exported = assert_round_trip(engine, f.data(), f"{fixture}.qdpx")
    assert "coding with bad position" not in report.skipped
    # every selection of the file is stored on exactly the text it selected
    service.delete_project(engine, P)
    bundle, report = import_qdpx(f.data(), name=f"{fixture}.qdpx")
    service.import_bundle(engine, P, bundle, report)
    assert selection_texts(engine) == f.expected
    assert report.carried["selections -> codings on their exact span"] == sum(f.expected.values())
    if fixture == "cyrillic_kazakh":  # sources of other tools carry no language: it is detected from the text
        assert {d.name: d.language for d in service.export_bundle(engine, P).documents} == {"ru.txt": "ru",
                                                                                        "kk.txt": "kk"}


def test_offsets_are_detected_per_source_and_reported():
    _, report = import_qdpx(crlf().data(), name="crlf.qdpx")
    assert report.offsets["two.txt"].startswith("code points, CRLF as two characters")
    assert report.offsets["one.txt"].startswith("code points, CRLF as one character")
    _, report = import_qdpx(emoji().data(), name="emoji.qdpx")
    assert report.offsets["emoji.txt"].startswith("UTF-16 units, CRLF as two characters (4 of 4 selection texts match")
    assert "offsets of emoji.txt: UTF-16 units" in report.summary()
    _, report = import_qdpx(overlapping().data(), name="plain.qdpx")
    assert report.offsets == {}  # no CRLF, no emoji: nothing to decide


def test_a_span_that_fits_no_convention_is_reported_with_source_and_position():
    f = Fixture("Bad", utf16=True)
    a, xa = f.code("Joy")
    f.codes_xml = xa
    text = "Respondent: 😀 fine. Fine again. And fine.\n"
    f.source("bad.txt", text, [("fine.", 0, [(a, U1)], None), ("Fine again.", 0, [(a, U1)], None)])
    f.sources[-1] = f.sources[-1].replace("</TextSource>", (
        f'<PlainTextSelection guid="{_g(99, "e")}" startPosition="13" endPosition="500">'
        f'<Coding guid="{_g(99, "f")}" creatingUser="{U1}"><CodeRef targetGUID="{a}"/></Coding>'
        "</PlainTextSelection></TextSource>"))
    bundle, report = import_qdpx(f.data(), name="bad.qdpx")
    assert len(bundle.codings) == 2
    [bad] = report.skipped["coding with bad position"]
    assert bad.startswith("bad.txt: 13-500 (fits no offset convention")


def test_categories_colours_cases_sets_and_notes_are_carried(engine):
    _, report = import_qdpx(hierarchy().data(), name="h.qdpx")
    assert report.carried["categories (isCodable=false) -> parent codes"] == 1
    assert report.carried["code colours"] == 2
    _, first, exported = assert_round_trip(engine, hierarchy().data(), "h.qdpx")
    codes = {key: (label, parent, color, codable) for key, label, parent, _, _, color, codable, _ in first["codes"]}
    assert codes["capacity"] == ("Capacity", "governance", "", False)
    assert codes["training"] == ("Training", "capacity", "#00ff00", True)
    assert codes["governance"][2:] == ("#FF0000", True)
    qde = qde_text(exported)
    assert 'name="Capacity" isCodable="false"' in qde and 'color="#00ff00"' in qde

    service.delete_project(engine, P)
    _, first, exported = assert_round_trip(engine, cases_and_variables().data(), "c.qdpx")
    docs = {name: (respondent, dict(attrs)) for name, _, respondent, attrs in first["documents"]}
    assert docs["e1-a.txt"] == ("Expert 1", {"Age": 52, "Senior": True, "Score": 0.25, "Interviewed": "2024-03-01",
                                             "Wave": "one"})
    assert docs["e1-b.txt"][1]["Wave"] == "two"  # differs within a respondent: written on the source
    assert docs["e2.txt"] == ("Expert 2", {"Age": 40, "Senior": False, "Sector": "Ministry"})
    assert first["sets"] == [("Empty", "", (), ()), ("Ministries", "Sources from ministries", ("pay",),
                                                     ("e1-a.txt", "e2.txt"))]
    qde = qde_text(exported)
    assert 'typeOfVariable="Date"' in qde and "<DateValue>2024-03-01</DateValue>" in qde
    assert qde.count("<Set ") == 2 and qde.count("<MemberSource ") == 2


NOTES_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="Notes" origin="MAXQDA 24">
  <Users><User guid="{U1}" name="Anna"/></Users>
  <CodeBook><Codes><Code guid="{_g(1)}" name="Trust" isCodable="true"/></Codes></CodeBook>
  <Sources>
    <TextSource guid="{_g(1, 'd')}" name="Memo source" plainTextPath="absolute://C:/Users/anna/Memo source.txt">
      <PlainTextSelection guid="{_g(1, 'e')}" startPosition="12" endPosition="26" creatingUser="{U1}">
        <Coding guid="{_g(1, 'f')}" creatingUser="{U1}"><CodeRef targetGUID="{_g(1)}"/>
          <NoteRef targetGUID="{_g(1, '9')}"/></Coding>
        <NoteRef targetGUID="{_g(2, '9')}"/>
      </PlainTextSelection>
    </TextSource>
    <PDFSource guid="{_g(2, 'd')}" name="Report.pdf" path="internal://report.pdf">
      <Representation guid="{_g(3, 'd')}" name="Report.pdf" plainTextPath="internal://report.txt">
        <PlainTextSelection guid="{_g(2, 'e')}" startPosition="0" endPosition="5" creatingUser="{U1}">
          <Coding guid="{_g(2, 'f')}" creatingUser="{U1}"><CodeRef targetGUID="{_g(1)}"/></Coding>
        </PlainTextSelection>
      </Representation>
    </PDFSource>
  </Sources>
  <Notes>
    <Note guid="{_g(1, '9')}" name="coding memo"><PlainTextContent>Trust is the key.</PlainTextContent></Note>
    <Note guid="{_g(2, '9')}" name="selection memo"><PlainTextContent>Said twice.</PlainTextContent></Note>
    <Note guid="{_g(3, '9')}" name="project memo"><PlainTextContent>Unattached.</PlainTextContent></Note>
  </Notes>
</Project>"""


def test_tolerated_variants_qde_name_lowercase_sources_absolute_paths_pdf_text(engine):
    PROJECT_XSD.validate(NOTES_QDE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("My Study.qde", NOTES_QDE)  # ATLAS.ti 26 names the .qde after the project
        archive.writestr("sources/Memo source.txt", "Respondent: Trust matters here.\n")
        archive.writestr("sources/report.txt", "Trust in the report.\n")
        archive.writestr("sources/report.pdf", b"%PDF-1.4")
    bundle, report = import_qdpx(buffer.getvalue(), name="study.qdpx")
    assert sorted(d.name for d in bundle.documents) == ["Memo source", "Report.pdf"]
    memo = next(c for c in bundle.codings if c.document == "Memo source")
    assert bundle.documents[0].text[memo.start:memo.end] == "Trust matters "[:14]
    assert memo.memo == "Said twice.\n\nTrust is the key."  # NoteRefs of the selection and of the coding
    assert report.carried["notes -> memos"] == 2
    assert report.carried["PDF sources read through their text representation"] == 1
    assert report.skipped["note not attached to a coding (Codeframe keeps memos on codings)"] == ["project memo"]
    service.import_bundle(engine, P, bundle, report)
    assert snapshot(engine, P)["selections"][0][-1] in {"Said twice.\n\nTrust is the key.", ""}
    assert "carried 2 notes -> memos" in report.summary() and "skipped 1 note not attached" in report.summary()


def test_codings_changed_in_codeframe_are_exported_on_their_segments(engine):
    f = overlapping()
    bundle, report = import_qdpx(f.data(), name="o.qdpx")
    service.import_bundle(engine, P, bundle, report)
    text = bundle.documents[0].text

    def spans():
        return re.findall(r'startPosition="(\d+)" endPosition="(\d+)"',
                          qde_text(export_qdpx(service.export_bundle(engine, P))))

    young = (str(text.index("young staff")), str(text.index("young staff") + len("young staff")))
    assert len(spans()) == 9 and young in spans()  # one selection per original coding, on its own span
    segments = service.document_view(engine, P, service.list_documents(engine, P)[0].id, viewer="Boris").segments
    first = next(s for s in segments if "young staff" in s.text)
    nobody = next(s for s in segments if s.text.startswith("Nobody"))
    # Boris's "young staff" (Pay) is coded on the first sentence: remove it there, and add a coding by hand
    assert service.remove_coding(engine, P, segment_id=first.id, code="pay", coder="Boris")
    service.add_coding(engine, P, segment_id=nobody.id, code="pay", coder="Boris")
    after = spans()
    assert young not in after  # the removed coding is not exported from its stored span
    assert (str(nobody.start), str(nobody.end)) in after  # the new one is, on its segment
    assert len(after) == 9
    # a memo changed in Codeframe on an imported span is exported on that span, not the imported memo
    why = next(s for s in segments if s.text == "Why?")
    service.set_memo(engine, P, segment_id=why.id, code="careers", coder="Boris", memo="asked back")
    qde = qde_text(export_qdpx(service.export_bundle(engine, P)))
    start = text.index("Why?")
    selection = re.search(rf'startPosition="{start}" endPosition="{start + 4}"[^>]*>((?:(?!</PlainTextSelection>).)*)',
                          qde, re.S).group(1)
    note = re.search(r'<NoteRef targetGUID="([^"]+)"', selection).group(1)  # the memo is a project note
    assert re.search(rf'<Note guid="{note}"[^>]*>\s*<PlainTextContent>asked back</PlainTextContent>', qde)
    assert "<Description>asked back" not in qde


def test_cli_imports_the_nvivo_file_with_its_report_and_exports_it_again(tmp_path, capsys):
    from coding.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["--db", url, "--project", "nv", "import", "qdpx", str(NVIVO)]) == 0
    out = capsys.readouterr().out
    assert "offsets of videos_10_selected: UTF-16 units, CRLF as two characters" in out
    assert "mapped 330 spans kept exactly" in out and "carried 3 users -> coders" in out
    assert main(["--db", url, "--project", "nv", "export", "qdpx", str(tmp_path / "nv.qdpx")]) == 0
    assert main(["--db", url, "--project", "nv", "export", "qdc", str(tmp_path / "nv.qdc")]) == 0
    bundle, _ = import_qdpx((tmp_path / "nv.qdpx").read_bytes())
    assert len(bundle.codings) == 330 and len(bundle.codebook.code_ids) == 151
    assert b"isCodable" in (tmp_path / "nv.qdc").read_bytes()
