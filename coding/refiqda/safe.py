"""Reading untrusted REFI-QDA files: XML without DTDs or entities, zips checked before any read."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

from coding import limits
from coding.errors import ExchangeError, Problem

#: Limits for reading a .qdpx zip (all can be tightened per call); set in :mod:`coding.limits`.
MAX_MEMBERS = limits.ZIP_MAX_MEMBERS
MAX_TOTAL_BYTES = limits.ZIP_MAX_TOTAL_BYTES
MAX_RATIO = limits.ZIP_MAX_RATIO
RATIO_CHECK_ABOVE = limits.ZIP_RATIO_CHECK_ABOVE  # tiny members may compress extremely well; only check larger ones
MAX_XML_BYTES = 100 * 1024 * 1024


def parse_xml(data: bytes, where: str):
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


class SafeZip:
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

