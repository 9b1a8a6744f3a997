"""REFI-QDA exchange: Codebook (.qdc) and Project (.qdpx) files, QDA-XML 1.0.

The Rotterdam Exchange Format Initiative (https://www.qdasoftware.org) format
is what MAXQDA, ATLAS.ti, NVivo, QualCoder and others read and write. The
official schemas ship in ``coding/schemas`` (see ``SOURCES.md`` there).

Modules: :mod:`.reader` (:class:`ProjectReader`, ``import_qdpx``), :mod:`.codes`
(``<Code>`` trees, ``import_qdc``), :mod:`.writer` (:class:`ProjectWriter`,
``export_qdpx``, ``export_qdc``), :mod:`.offsets` (how a tool counted positions),
:mod:`.safe` (untrusted XML and zips), :mod:`.common` (names, GUIDs, the report).

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
  That frame exists only because of the import (its description says so): the
  export writes its codes at the top level again, so a round trip keeps every
  code path (and a code's description as it was, with the id line below it).
* **Codes.** ``<Code guid name=label isCodable color>``; the ``<Description>``
  is readable text: the definition, then ``Include:``, ``Exclude:`` and
  ``Examples:`` lists (``- item``, continuation lines indented by two spaces),
  then ``Codeframe code: <id>``. Codes from other tools keep their description
  as the definition, or ``(imported without description)``. A nested
  non-codable category is a parent code listed in ``Bundle.non_codable`` and
  written back with ``isCodable="false"``; ``color`` is kept in ``Bundle.colors``.
* **GUIDs** are UUID5 of the object's key (code id, frame id, coder name,
  respondent, document name), so re-exporting gives the same GUIDs.
* **Project.** Users = coders; Variables = respondent attributes (typed:
  Boolean, Integer, Float, Date, DateTime, else Text); Cases = respondents
  with their VariableValues and a SourceRef per document (an attribute whose
  value differs between one respondent's documents is written on the sources,
  as MAXQDA does, and read back from there); each document is a ``TextSource``
  whose plain text is ``Sources/<guid>.txt`` in the zip
  (``plainTextPath="internal://<guid>.txt"``, UTF-8); each coding is a
  ``PlainTextSelection`` (``startPosition``/``endPosition`` in code points of
  that plain text, end exclusive, like a Python slice; ``name`` = the start of
  the selected text) holding one ``<Coding creatingUser><CodeRef/></Coding>``;
  the memo is a project ``<Note>`` (inline ``PlainTextContent``, by the coder)
  that the selection references with ``<NoteRef>``; on import, notes referenced
  from a selection or coding, and a selection's ``<Description>``, become its memo. ``Sets`` are
  groups of codes and documents (``Bundle.sets``). The codebook title goes in
  the project ``<Description>`` as ``Codeframe codebook: <title>``; a
  document's language and format in its source description.
* **Positions** of other tools are read per source as :mod:`.offsets` decides
  (code points or UTF-16 units, CRLF as one or two characters); the decision is
  in ``ImportReport.offsets``. A span that fits no convention is reported with
  its source and position and dropped, never shifted.

Import never fails on parts it does not understand: picture, audio and video
sources, PDF sources without a text representation, codings with bad positions
or unknown codes, notes not attached to codings, links and graphs are counted
and named in the :class:`ImportReport` (``carried``, ``mapped``, ``skipped``).
It does fail (``ExchangeError``) on unsafe input: XML with a DTD, entities or
external references; zip members with ``..``, absolute paths or backslashes;
too many members, too many bytes, or a suspicious compression ratio.
"""

from coding.bundle import ImportReport
from coding.refiqda.codes import CodeReader, import_qdc
from coding.refiqda.common import (
    CODE_MARKER,
    CODEBOOK_MARKER,
    CODEBOOK_NS,
    DEFAULT_FRAME_ID,
    DOCUMENT_MARKER,
    FRAME_MARKER,
    NO_DESCRIPTION,
    PROJECT_NS,
    code_description,
    frame_description,
    slug_id,
    stable_guid,
)
from coding.refiqda.reader import ProjectReader, import_qdpx
from coding.refiqda.safe import MAX_MEMBERS, MAX_RATIO, MAX_TOTAL_BYTES, MAX_XML_BYTES
from coding.refiqda.writer import ProjectWriter, export_qdc, export_qdpx

__all__ = [
    "CODE_MARKER", "CODEBOOK_MARKER", "CODEBOOK_NS", "DEFAULT_FRAME_ID", "DOCUMENT_MARKER", "FRAME_MARKER",
    "MAX_MEMBERS", "MAX_RATIO", "MAX_TOTAL_BYTES", "MAX_XML_BYTES", "NO_DESCRIPTION", "PROJECT_NS",
    "CodeReader", "ImportReport", "ProjectReader", "ProjectWriter", "code_description", "export_qdc",
    "export_qdpx", "frame_description", "import_qdc", "import_qdpx", "slug_id", "stable_guid",
]
