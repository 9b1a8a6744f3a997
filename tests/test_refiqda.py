"""REFI-QDA: schema-valid export, round trip, files in the style of other tools, unsafe input."""

import io
import zipfile
from datetime import date, datetime

import pytest
import xmlschema

from coding.bundle import Bundle, BundleCoding, BundleDocument
from coding.codebook import Code, Codebook, Frame, default_codebook_path, load_codebook
from coding.errors import ExchangeError
from coding.paths import PACKAGE_DIR
from coding.refiqda import (
    NO_DESCRIPTION,
    export_qdc,
    export_qdpx,
    import_qdc,
    import_qdpx,
    slug_id,
    stable_guid,
)

PROJECT_XSD = xmlschema.XMLSchema(str(PACKAGE_DIR / "schemas" / "Project-mrt2019.xsd"))
CODEBOOK_XSD = xmlschema.XMLSchema(str(PACKAGE_DIR / "schemas" / "Codebook-mrt2019.xsd"))
NS = 'xmlns="urn:QDA-XML:project:1.0"'


def make_zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload.encode("utf-8") if isinstance(payload, str) else payload)
    return buffer.getvalue()


def small_codebook() -> Codebook:
    frame = Frame(
        id="reform", label="Reform directions", description="What reform must address.", mutually_exclusive=False,
        codes=(
            Code("systemic", "Systematic approach", "reform", None, "Reform as a whole.",
                 ("calls for a systematic basis", "criticism of\npartial reform"), ("pace only",),
                 ("Any reform needs to be considered as a whole.",)),
            Code("systemic_pace", "Pace of reform", "reform", "systemic", "Reform is too slow.", (), (), ()),
            Code("resistance", "Resistance to change", "reform", None, "Aversion to change.",
                 ("fear of mistakes",), (), ("There is resistance to transformation.",)),
        ))
    other = Frame(id="values", label="Values", description="", mutually_exclusive=True,
                  codes=(Code("integrity", "Integrity", "values", None, "Honesty.", (), (), ()),))
    return Codebook(title="Civil service reform", frames=(frame, other), description="Seed article codebook.")


def small_bundle() -> Bundle:
    text1 = "Реформа нужна целиком 😀. Any reform needs to be considered as a whole.\nThere is resistance."
    text2 = "We fear mistakes; integrity matters."
    docs = [
        BundleDocument(name="R01.txt", text=text1, respondent="R01", language="ru",
                       attributes={"group": "internal", "years": 12, "senior": True, "score": 0.25,
                                   "interviewed": date(2024, 3, 1)}),
        BundleDocument(name="R02.txt", text=text2, respondent="R02",
                       attributes={"group": "external", "years": 3, "senior": False, "score": 1.5,
                                   "interviewed": date(2024, 3, 2)}),
    ]
    codings = [
        BundleCoding("R01.txt", 0, 21, "systemic", "ann", memo="Russian span", created=datetime(2024, 5, 1, 10, 0)),
        BundleCoding("R01.txt", 25, 70, "systemic", "bob"),
        BundleCoding("R01.txt", 71, len(text1), "resistance", "ann"),
        BundleCoding("R02.txt", 0, 16, "systemic_pace", "ann"),
        BundleCoding("R02.txt", 18, 27, "integrity", "bob", memo="line one\nline two"),
    ]
    return Bundle(codebook=small_codebook(), documents=docs, codings=codings, coders=["ann", "bob"], name="Demo")


def qde_of(qdpx: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(qdpx)).read("project.qde")


# --------------------------------------------------------------------------- export


def test_exported_qdc_is_schema_valid_and_frames_are_non_codable():
    data = export_qdc(load_codebook(default_codebook_path()))
    CODEBOOK_XSD.validate(data.decode("utf-8"))
    small = export_qdc(small_codebook()).decode("utf-8")
    CODEBOOK_XSD.validate(small)
    assert 'name="Reform directions" isCodable="false"' in small
    assert "Codeframe frame: reform" in small and "Codeframe code: systemic" in small
    assert "Include:\n- calls for a systematic basis\n- criticism of\n  partial reform" in small


def test_exported_qdpx_is_schema_valid_with_sources_in_the_zip():
    bundle = small_bundle()
    data = export_qdpx(bundle)
    archive = zipfile.ZipFile(io.BytesIO(data))
    PROJECT_XSD.validate(archive.read("project.qde").decode("utf-8"))
    guid = stable_guid("source", "R01.txt")
    assert archive.read(f"Sources/{guid}.txt").decode("utf-8") == bundle.documents[0].text
    qde = archive.read("project.qde").decode("utf-8")
    assert f'plainTextPath="internal://{guid}.txt"' in qde
    # positions are Unicode characters (code points) of the plain text: the emoji counts as one
    assert 'startPosition="25" endPosition="70"' in qde
    assert bundle.documents[0].text[25:70] == "Any reform needs to be considered as a whole."
    assert qde.count("<Case ") == 2 and qde.count("<Variable ") == 5 and qde.count("<User ") == 2
    assert 'typeOfVariable="Integer"' in qde and 'typeOfVariable="Date"' in qde


def test_export_is_deterministic_and_guids_are_stable():
    assert export_qdpx(small_bundle()) == export_qdpx(small_bundle())
    assert export_qdc(small_codebook()) == export_qdc(small_codebook())
    assert stable_guid("code", "systemic") in export_qdc(small_codebook()).decode()


def test_export_refuses_codings_it_cannot_represent():
    bundle = small_bundle()
    bundle.codings.append(BundleCoding("R01.txt", 0, 5, "no_such_code", "ann"))
    bundle.codings.append(BundleCoding("R02.txt", 0, 999, "systemic", "ann"))
    with pytest.raises(ExchangeError) as info:
        export_qdpx(bundle)
    messages = " ".join(p.message for p in info.value.problems)
    assert "no_such_code" in messages and "outside" in messages


# --------------------------------------------------------------------------- round trips


def test_qdc_round_trip_keeps_frames_codes_and_hierarchy():
    book = load_codebook(default_codebook_path())
    back = import_qdc(export_qdc(book), title=book.title)
    assert back.frames == book.frames
    small = import_qdc(export_qdc(small_codebook()))
    assert small.frames == small_codebook().frames
    assert small.code("systemic").include == ("calls for a systematic basis", "criticism of\npartial reform")
    assert small.frame("values").mutually_exclusive is True


def test_qdpx_round_trip_gives_the_same_bundle():
    bundle = small_bundle()
    back, report = import_qdpx(export_qdpx(bundle))
    assert back.codebook == bundle.codebook
    assert back.codebook.title == "Civil service reform" and back.codebook.description == "Seed article codebook."
    assert back.documents == bundle.documents
    assert back.coders == bundle.coders and back.name == bundle.name

    def key(c):
        return (c.document, c.start, c.end, c.code, c.coder, c.memo, c.created)

    assert sorted(map(key, back.codings)) == sorted(map(key, bundle.codings))
    assert {c.source for c in back.codings} == {"import"}
    assert report.skipped == {} and len(report.documents) == 2 and report.codings == 5
    qde = zipfile.ZipFile(io.BytesIO(export_qdpx(bundle))).read("project.qde").decode()
    memos = [c.memo for c in bundle.codings if c.memo]
    assert qde.count("<NoteRef ") == len(memos) == 2  # memos travel as notes, as other tools exchange them
    assert all(f"<PlainTextContent>{m}</PlainTextContent>" in qde for m in memos)
    assert "<Description>Russian span" not in qde


# --------------------------------------------------------------------------- other tools


MAXQDA_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="MAXQDA study" origin="MAXQDA 2022">
  <Users>
    <User guid="11111111-1111-1111-1111-111111111111" name="Anna"/>
    <User guid="22222222-2222-2222-2222-222222222222" name="Boris"/>
  </Users>
  <CodeBook><Codes>
    <Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="Leadership" isCodable="true" color="#ff0000">
      <Description>Statements about leading people.</Description>
      <Code guid="aaaaaaaa-0000-0000-0000-000000000002" name="Vision" isCodable="true"/>
      <Code guid="aaaaaaaa-0000-0000-0000-000000000003" name="Vision" isCodable="true">
        <Description>Second code with the same name.</Description>
      </Code>
    </Code>
    <Code guid="aaaaaaaa-0000-0000-0000-000000000004" name="Кадровый резерв" isCodable="true"/>
  </Codes></CodeBook>
  <Variables>
    <Variable guid="bbbbbbbb-0000-0000-0000-000000000001" name="Age" typeOfVariable="Integer"/>
    <Variable guid="bbbbbbbb-0000-0000-0000-000000000002" name="Sector" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="cccccccc-0000-0000-0000-000000000001" name="Expert 1">
      <VariableValue><VariableRef targetGUID="bbbbbbbb-0000-0000-0000-000000000001"/><IntegerValue>52</IntegerValue></VariableValue>
      <VariableValue><VariableRef targetGUID="bbbbbbbb-0000-0000-0000-000000000002"/><TextValue>Ministry</TextValue></VariableValue>
      <SourceRef targetGUID="dddddddd-0000-0000-0000-000000000001"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="dddddddd-0000-0000-0000-000000000001" name="Interview 1">
      <PlainTextContent>A leader needs a vision. Кадры решают всё.</PlainTextContent>
      <PlainTextSelection guid="eeeeeeee-0000-0000-0000-000000000001" startPosition="0" endPosition="24"
          creatingUser="11111111-1111-1111-1111-111111111111" creationDateTime="2023-04-05T06:07:08Z">
        <Description>good quote</Description>
        <Coding guid="ffffffff-0000-0000-0000-000000000001" creatingUser="11111111-1111-1111-1111-111111111111">
          <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000002"/>
        </Coding>
        <Coding guid="ffffffff-0000-0000-0000-000000000002" creatingUser="22222222-2222-2222-2222-222222222222">
          <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000001"/>
        </Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="eeeeeeee-0000-0000-0000-000000000002" startPosition="25" endPosition="42">
        <Coding guid="ffffffff-0000-0000-0000-000000000003" creatingUser="22222222-2222-2222-2222-222222222222">
          <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000004"/>
        </Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="eeeeeeee-0000-0000-0000-000000000003" startPosition="30" endPosition="900">
        <Coding guid="ffffffff-0000-0000-0000-000000000004"><CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000004"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""


def test_maxqda_style_inline_text_nested_codes_and_cases():
    PROJECT_XSD.validate(MAXQDA_QDE)  # the fixture follows the published schema
    bundle, report = import_qdpx(make_zip({"project.qde": MAXQDA_QDE}), name="maxqda.qdpx")
    book = bundle.codebook
    assert [f.id for f in book.frames] == ["imported"]
    assert [(c.id, c.parent) for c in book.codes()] == [
        ("leadership", None), ("vision", "leadership"), ("vision_2", "leadership"), ("kadrovyi_rezerv", None)]
    assert book.code("leadership").definition == "Statements about leading people."
    assert book.code("vision").definition == NO_DESCRIPTION
    assert book.code("kadrovyi_rezerv").label == "Кадровый резерв"
    [document] = bundle.documents
    assert (document.name, document.respondent) == ("Interview 1", "Expert 1")
    assert document.attributes == {"Age": 52, "Sector": "Ministry"}
    spans = sorted((c.start, c.end, c.code, c.coder, c.memo) for c in bundle.codings)
    assert spans == [(0, 24, "leadership", "Boris", "good quote"), (0, 24, "vision", "Anna", "good quote"),
                     (25, 42, "kadrovyi_rezerv", "Boris", None)]
    assert document.text[25:42] == "Кадры решают всё."
    assert bundle.codings[0].created.year == 2023
    assert bundle.coders == ["Anna", "Boris"]
    assert report.skipped_counts == {"coding with bad position": 1}
    assert "bad position" in report.summary()


QUALCODER_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="QualCoder project" origin="QualCoder 3.5" basePath="/home/user/project">
  <Users><User guid="11111111-1111-1111-1111-111111111111" name="default"/></Users>
  <CodeBook><Codes>
    <Code guid="aaaaaaaa-0000-0000-0000-000000000010" name="Barriers" isCodable="false">
      <Description>Category of barriers</Description>
      <Code guid="aaaaaaaa-0000-0000-0000-000000000011" name="Bureaucracy" isCodable="true"><Description>Red tape.</Description></Code>
    </Code>
  </Codes></CodeBook>
  <Cases>
    <Case guid="cccccccc-0000-0000-0000-000000000010" name="P1"><SourceRef targetGUID="dddddddd-0000-0000-0000-000000000010"/></Case>
  </Cases>
  <Sources>
    <TextSource guid="dddddddd-0000-0000-0000-000000000010" name="p1.txt" plainTextPath="relative://p1.txt">
      <PlainTextSelection guid="eeeeeeee-0000-0000-0000-000000000010" startPosition="4" endPosition="14"
          creatingUser="11111111-1111-1111-1111-111111111111">
        <Coding guid="ffffffff-0000-0000-0000-000000000010" creatingUser="11111111-1111-1111-1111-111111111111">
          <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000011"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="dddddddd-0000-0000-0000-000000000011" name="p2.txt" plainTextPath="internal://dddddddd-0000-0000-0000-000000000011.txt">
      <Coding guid="ffffffff-0000-0000-0000-000000000011" creatingUser="11111111-1111-1111-1111-111111111111">
        <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000011"/></Coding>
    </TextSource>
    <TextSource guid="dddddddd-0000-0000-0000-000000000012" name="missing.txt" plainTextPath="relative://elsewhere/missing.txt"/>
  </Sources>
</Project>"""


def test_qualcoder_style_sources_folder_relative_paths_and_uncased_sources():
    PROJECT_XSD.validate(QUALCODER_QDE)
    data = make_zip({
        "project.qde": QUALCODER_QDE,
        "Sources/p1.txt": "\ufeffToo much bureaucracy here.",
        "Sources/dddddddd-0000-0000-0000-000000000011.txt": "Second text.",
    })
    bundle, report = import_qdpx(data)
    assert [f.id for f in bundle.codebook.frames] == ["barriers"]  # non-codable category with children = frame
    assert bundle.codebook.frame("barriers").description == "Category of barriers"
    assert bundle.codebook.code("bureaucracy").parent is None
    docs = {d.name: d for d in bundle.documents}
    assert docs["p1.txt"].text == "Too much bureaucracy here."  # BOM is not a character of the text
    assert docs["p1.txt"].respondent == "P1"
    assert docs["p2.txt"].respondent == "p2"  # in no case: its own respondent
    codings = sorted((c.document, c.start, c.end, c.code, c.coder) for c in bundle.codings)
    assert codings == [("p1.txt", 4, 14, "bureaucracy", "default"), ("p2.txt", 0, 12, "bureaucracy", "default")]
    assert docs["p1.txt"].text[4:14] == "much burea"
    assert list(report.skipped) == ["TextSource whose text file is not in the archive"]
    assert "missing.txt" in report.skipped["TextSource whose text file is not in the archive"][0]


NVIVO_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="NVivo export" origin="NVivo 14">
  <Users><User guid="{{11111111-1111-1111-1111-111111111111}}" name="Nadia"/></Users>
  <CodeBook><Codes>
    <Code guid="{{AAAAAAAA-0000-0000-0000-000000000020}}" name="Trust" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <PDFSource guid="{{DDDDDDDD-0000-0000-0000-000000000020}}" name="Report.pdf" path="internal://report.pdf">
      <PDFSelection guid="{{EEEEEEEE-0000-0000-0000-000000000020}}" page="1" firstX="0" firstY="0" secondX="10" secondY="10">
        <Coding guid="{{FFFFFFFF-0000-0000-0000-000000000020}}"><CodeRef targetGUID="{{AAAAAAAA-0000-0000-0000-000000000020}}"/></Coding>
      </PDFSelection>
    </PDFSource>
    <AudioSource guid="{{DDDDDDDD-0000-0000-0000-000000000022}}" name="Call.mp3" path="internal://call.mp3"/>
    <TextSource guid="{{DDDDDDDD-0000-0000-0000-000000000021}}" name="Notes A" plainTextPath="internal://a.txt"
        creatingUser="{{11111111-1111-1111-1111-111111111111}}">
      <PlainTextSelection guid="{{EEEEEEEE-0000-0000-0000-000000000021}}" startPosition="0" endPosition="5">
        <Coding guid="{{FFFFFFFF-0000-0000-0000-000000000021}}">
          <CodeRef targetGUID="{{AAAAAAAA-0000-0000-0000-000000000020}}"/>
          <NoteRef targetGUID="{{99999999-0000-0000-0000-000000000001}}"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
  <Notes>
    <Note guid="{{99999999-0000-0000-0000-000000000001}}" name="memo"><PlainTextContent>Trust is the key word.</PlainTextContent></Note>
  </Notes>
  <Sets><Set guid="{{88888888-0000-0000-0000-000000000001}}" name="Core"/></Sets>
</Project>"""


def test_nvivo_style_pdf_and_audio_are_reported_and_skipped():
    PROJECT_XSD.validate(NVIVO_QDE)
    data = make_zip({"project.qde": NVIVO_QDE, "Sources/a.txt": "Trust matters.", "Sources/report.pdf": b"%PDF-1.4"})
    bundle, report = import_qdpx(data, name="nvivo.qdpx")
    assert [d.name for d in bundle.documents] == ["Notes A"]
    [coding] = bundle.codings
    assert (coding.start, coding.end, coding.code, coding.coder) == (0, 5, "trust", "Nadia")  # source's user
    assert coding.memo == "Trust is the key word."  # from the referenced note
    assert report.skipped["PDFSource"] == ["Report.pdf"]
    assert report.skipped["AudioSource"] == ["Call.mp3"]
    assert report.skipped["coding in a PDFSource"] == ["Report.pdf: 1 coding(s)"]
    assert report.carried["sets -> groups"] == 1 and [s.name for s in bundle.sets] == ["Core"]  # sets are carried
    assert "skipped 1 PDFSource: Report.pdf" in report.summary()


def test_slug_ids_are_valid_and_unique():
    assert slug_id("Öffentlicher Dienst") == "offentlicher_dienst"
    assert slug_id("Қызмет әдебі") == "qyzmet_adebi"
    assert slug_id("123") == "c_123" and slug_id("!!!") == "code"


# --------------------------------------------------------------------------- unsafe input


def test_path_traversal_and_absolute_members_are_refused():
    for bad in ["../evil.txt", "Sources/../../evil.txt", "/etc/passwd", "Sources\\x.txt", "C:/x.txt"]:
        with pytest.raises(ExchangeError) as info:
            import_qdpx(make_zip({"project.qde": QUALCODER_QDE, bad: "x"}), name="bad.qdpx")
        assert any(p.field == bad for p in info.value.problems), bad


def test_zip_bomb_and_oversized_archives_are_refused_before_reading():
    bomb = make_zip({"project.qde": MAXQDA_QDE, "Sources/zeros.txt": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(ExchangeError, match="unsafe") as info:
        import_qdpx(bomb)
    assert "compression ratio" in info.value.problems[0].message
    with pytest.raises(ExchangeError, match="too many bytes"):
        import_qdpx(make_zip({"project.qde": MAXQDA_QDE}), max_total_bytes=100)
    with pytest.raises(ExchangeError, match="too many members"):
        import_qdpx(make_zip({"project.qde": MAXQDA_QDE, "a.txt": "a", "b.txt": "b"}), max_members=2)


def test_xxe_and_entity_expansion_are_refused():
    xxe = ('<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           f'<Project {NS} name="&x;"/>')
    with pytest.raises(ExchangeError, match="DTD, entities or external"):
        import_qdpx(make_zip({"project.qde": xxe}))
    laughs = ('<?xml version="1.0"?><!DOCTYPE CodeBook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="aaaaaaaa-0000-0000-0000-000000000001" '
              'name="&b;" isCodable="true"/></Codes></CodeBook>')
    with pytest.raises(ExchangeError, match="DTD, entities or external"):
        import_qdc(laughs.encode())


def test_broken_files_raise_exchange_errors_naming_the_file():
    with pytest.raises(ExchangeError, match="not a readable zip"):
        import_qdpx(b"not a zip", name="x.qdpx")
    with pytest.raises(ExchangeError, match="no project.qde"):
        import_qdpx(make_zip({"other.xml": "<a/>"}))
    with pytest.raises(ExchangeError, match="not well-formed") as info:
        import_qdpx(make_zip({"project.qde": "<Project"}), name="y.qdpx")
    assert info.value.problems[0].file == "y.qdpx:project.qde"
    with pytest.raises(ExchangeError, match="not a REFI-QDA codebook"):
        import_qdc(b'<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>')


def test_every_import_returns_the_one_import_report():
    from coding import bundle, refiqda, service

    assert refiqda.ImportReport is service.ImportReport is bundle.ImportReport
