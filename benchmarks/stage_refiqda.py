"""REFI-QDA import: a generated MAXQDA-style project of 10 sources and 300 codes.

* ``import a 10-source, 300-code .qdpx``: ``refiqda.import_qdpx`` (unzip, parse, detect the
  offset convention of each source) and ``service.import_bundle`` (codebook, documents
  segmented, every selection coded on its segments and kept as an original span) into a
  fresh migrated SQLite database.

The project (seeded): the first 10 generated interviews with CRLF line endings as
``Sources/<guid>.txt``; 30 top-level codes with 9 sub-codes each (300 codes, with
descriptions and colours); 2 users; a case per source with 3 variables; 100 selections per
source (1,000 codings) on word boundaries, positions counting CRLF as two characters.

Baseline: ``service.import_transcripts`` of the same 10 texts into a fresh SQLite database:
the floor for getting these texts into Codeframe, without codebook or codings.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from typing import Iterator

from benchmarks import corpus
from benchmarks.context import Context, drop_sqlite
from benchmarks.harness import Case, Runner

STAGE = "refiqda"
SOURCES, TOP_CODES, SUB_CODES, SELECTIONS = 10, 30, 9, 100
NS = "urn:QDA-XML:project:1.0"


def _guid(kind: int, n: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def generated_project(texts: list[str], *, seed: int) -> tuple[bytes, int, int]:
    """The .qdpx bytes, the number of codes and of codings."""
    rng = random.Random(seed)
    codes, leaves = [], []
    for i in range(TOP_CODES):
        children = []
        for j in range(SUB_CODES):
            guid = _guid(2, i * 100 + j)
            leaves.append(guid)
            children.append(f'<Code guid="{guid}" name="Sub-code {i + 1}.{j + 1}" isCodable="true" '
                            f'color="#{rng.randrange(1 << 24):06x}"><Description>Sub-theme {j + 1} of theme '
                            f"{i + 1}.</Description></Code>")
        guid = _guid(1, i)
        leaves.append(guid)
        codes.append(f'<Code guid="{guid}" name="Theme {i + 1}" isCodable="true" color="#{rng.randrange(1 << 24):06x}">'
                     f"<Description>Theme {i + 1}: what respondents say about it.</Description>"
                     f'{"".join(children)}</Code>')
    users = [_guid(9, 1), _guid(9, 2)]
    variables = "".join(f'<Variable guid="{_guid(7, k)}" name="{name}" typeOfVariable="{kind}"/>'
                        for k, (name, kind) in enumerate([("Age", "Integer"), ("Sector", "Text"),
                                                          ("Senior", "Boolean")]))
    cases, sources, members, codings = [], [], {}, 0
    for n, text in enumerate(texts[:SOURCES]):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        guid = _guid(3, n)
        members[f"Sources/{guid}.txt"] = text.encode("utf-8")
        words = [m.span() for m in re.finditer(r"\w+", text)]
        selections = []
        for k in range(SELECTIONS):
            first = rng.randrange(len(words) - 1)
            last = min(len(words) - 1, first + rng.randrange(3, 40))
            user = users[k % 2]
            selections.append(
                f'<PlainTextSelection guid="{_guid(4, n * 1000 + k)}" startPosition="{words[first][0]}" '
                f'endPosition="{words[last][1]}" creatingUser="{user}"><Coding guid="{_guid(5, n * 1000 + k)}" '
                f'creatingUser="{user}"><CodeRef targetGUID="{rng.choice(leaves)}"/></Coding></PlainTextSelection>')
            codings += 1
        sources.append(f'<TextSource guid="{guid}" name="Interview {n + 1:02d}" '
                       f'plainTextPath="internal://{guid}.txt">{"".join(selections)}</TextSource>')
        cases.append(f'<Case guid="{_guid(6, n)}" name="Expert {n + 1:02d}">'
                     f'<VariableValue><VariableRef targetGUID="{_guid(7, 0)}"/><IntegerValue>{30 + n}</IntegerValue>'
                     f'</VariableValue><VariableValue><VariableRef targetGUID="{_guid(7, 1)}"/><TextValue>'
                     f'{"Ministry" if n % 2 else "Akimat"}</TextValue></VariableValue><VariableValue><VariableRef '
                     f'targetGUID="{_guid(7, 2)}"/><BooleanValue>{"true" if n % 3 else "false"}</BooleanValue>'
                     f'</VariableValue><SourceRef targetGUID="{guid}"/></Case>')
    qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="Benchmark" origin="MAXQDA 24">'
           f'<Users><User guid="{users[0]}" name="Anna"/><User guid="{users[1]}" name="Boris"/></Users>'
           f'<CodeBook><Codes>{"".join(codes)}</Codes></CodeBook><Variables>{variables}</Variables>'
           f'<Cases>{"".join(cases)}</Cases><Sources>{"".join(sources)}</Sources></Project>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde.encode("utf-8"))
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue(), TOP_CODES * (SUB_CODES + 1), codings


def cases(ctx: Context) -> Iterator[Case]:
    from coding import service
    from coding.database.engine import make_engine
    from coding.refiqda import import_qdpx

    files = corpus.interviews(SOURCES, seed=ctx.seed)  # = ctx.files()[:SOURCES] at every size but tiny (3)
    texts = [data.decode("utf-8") for _, data in files]
    data, n_codes, n_codings = generated_project(texts, seed=ctx.seed)

    def fresh_db():
        url = ctx.new_sqlite_url("refiqda")
        return make_engine(url), url

    def drop_db(state):
        drop_sqlite(*state)

    def ours(state):
        bundle, report = import_qdpx(data, name="benchmark.qdpx")
        service.import_bundle(state[0], "default", bundle, report)
        if report.mapped.get("spans kept exactly (original span stored beside its segment codings)") != n_codings:
            raise AssertionError(f"not every span was kept: {report.summary()}")

    def baseline(state):
        service.create_project(state[0], "default")
        service.import_transcripts(state[0], "default", files, language="en", allow_same_content=True)

    def warm():
        service.parse_transcripts(files[:2], language="en")

    yield Case(
        STAGE, f"import a {SOURCES}-source, {n_codes}-code .qdpx",
        Runner("refiqda.import_qdpx + service.import_bundle", ours, setup=fresh_db, teardown=drop_db, warmup=warm),
        Runner("service.import_transcripts of the same texts (no codebook, no codings)", baseline,
               setup=fresh_db, teardown=drop_db, warmup=warm),
        rates={"codings/s": n_codings},
        notes=[f"{SOURCES} sources ({sum(len(t) for t in texts)} characters, CRLF), {n_codes} codes, "
               f"{n_codings} selections by 2 coders, 3 case variables"],
    )
