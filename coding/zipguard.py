"""Zip containers (.docx, .xlsx) checked from their central directory before anything is inflated (pure).

A zip states each member's compressed and uncompressed size up front; Python's ``zipfile`` never inflates a
member past its stated size. So checking the stated sizes bounds the memory of every later read: member
count, each member's size, the total and the compression ratio (:mod:`coding.limits`). The refusal names
the file, the member and the limit.

>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
...     z.writestr("word/document.xml", b"\\0" * (4 * 1024 * 1024))
>>> try:
...     check_zip(buffer.getvalue(), "bomb.docx")
... except CodeframeError as exc:
...     print(str(exc).splitlines()[0])
bomb.docx was refused before unpacking: it looks like a zip bomb
"""

from __future__ import annotations

import io
import zipfile

from coding import limits
from coding.errors import CodeframeError, Problem


def _mb(size: float) -> str:
    return f"{size / limits.MB:,.0f} MB"


def check_zip(data: bytes, name: str, *, error: type[CodeframeError] = CodeframeError) -> None:
    """Refuse ``data`` (a zip named ``name``) whose stated layout breaks a limit; read nothing inflated.

    A file that is not a readable zip passes: the format's own reader refuses it with its own words."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return
    if len(infos) > limits.ZIP_MAX_MEMBERS:
        raise error(f"{name} was refused before unpacking: too many members", [Problem(
            f"{len(infos):,} members; at most {limits.ZIP_MAX_MEMBERS:,} (CODEFRAME_LIMIT_ZIP_MAX_MEMBERS)",
            file=name)])
    problems, total = [], 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.ZIP_MAX_MEMBER_BYTES:
            problems.append(Problem(f"unpacks to {_mb(info.file_size)}; a member may have at most "
                                    f"{_mb(limits.ZIP_MAX_MEMBER_BYTES)} (CODEFRAME_LIMIT_ZIP_MAX_MEMBER_BYTES)",
                                    file=name, field=info.filename))
        elif info.file_size > limits.ZIP_RATIO_CHECK_ABOVE and (
                info.compress_size == 0 or info.file_size / info.compress_size > limits.ZIP_MAX_RATIO):
            ratio = info.file_size / max(info.compress_size, 1)
            problems.append(Problem(f"compression ratio {ratio:.0f}:1 exceeds {limits.ZIP_MAX_RATIO:g}:1, a zip bomb? "
                                    "(CODEFRAME_LIMIT_ZIP_MAX_RATIO)", file=name, field=info.filename))
        if len(problems) >= limits.MAX_LISTED_ERRORS:
            break
    if problems:
        raise error(f"{name} was refused before unpacking: it looks like a zip bomb", problems)
    if total > limits.ZIP_MAX_TOTAL_BYTES:
        raise error(f"{name} was refused before unpacking: too large when unpacked", [Problem(
            f"unpacks to {_mb(total)}; at most {_mb(limits.ZIP_MAX_TOTAL_BYTES)} (CODEFRAME_LIMIT_ZIP_MAX_TOTAL_BYTES)",
            file=name)])
