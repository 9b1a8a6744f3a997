"""User text as text: escaping for Markdown and HTML, and characters that could deceive made visible (pure).

Labels, definitions, examples, attributes, memos, names and transcript text come from users and files.
Wherever they go into Markdown (a Streamlit ``st.markdown``/``st.caption``/alert/expander label, a
Markdown export) they pass :func:`md`; into HTML (``st.html``), :func:`html_text`. Both also make
bidirectional controls and zero-width characters visible (:func:`visible`), so text cannot show reversed.

>>> print(md("![x](http://h/x.png) <img src=x> *a_b* (29.2%)"))
\\!\\[x\\](http://h/x.png) \\<img src=x\\> \\*a\\_b\\* (29.2%)
>>> print(md("1. first\\n- second"))
1\\. first
\\- second
>>> html_text("<b>R01</b> & co")
'&lt;b&gt;R01&lt;/b&gt; &amp; co'
>>> visible("abc\\u202edef\\u200b")
'abc⟨U+202E⟩def⟨U+200B⟩'
"""

from __future__ import annotations

import html
import re

#: right-to-left / left-to-right embeddings, overrides and isolates
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: zero-width and invisible joiners, the word joiner and the byte-order mark
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e")
DECEPTIVE = BIDI_CONTROLS | ZERO_WIDTH
_DECEPTIVE = re.compile("[" + "".join(sorted(DECEPTIVE)) + "]")
_MARKUP = re.compile(r"([\\`*_{}\[\]<>!|~$&#])")  # what can open markup anywhere in a line
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])", re.MULTILINE)  # lists, setext headings: only at a line start


def visible(text) -> str:
    """``text`` with every bidirectional control and zero-width character shown as ``⟨U+XXXX⟩``."""
    return _DECEPTIVE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", "" if text is None else str(text))


def md(text) -> str:
    """``text`` for a Markdown body: each character that could open markup is backslash-escaped (CommonMark),
    so no link, image, emphasis, HTML tag or entity, heading, list, quote, table, math or Streamlit directive
    can form; the rest of the prose stays readable in the Markdown source."""
    escaped = _MARKUP.sub(r"\\\1", visible(text))
    return _LINE_START.sub(lambda m: m.group(1) + (m.group(2)[:-1] + "\\" + m.group(2)[-1]), escaped)


def html_text(text) -> str:
    """``text`` for an HTML body or attribute (quotes too), deceptive characters made visible."""
    return html.escape(visible(text), quote=True)


def deceptive_characters(text: str) -> list[str]:
    """The bidirectional controls, zero-width characters and NULs in ``text``, as ``U+XXXX`` (for refusals).

    >>> deceptive_characters("R01\\u202etxt\\x00")
    ['U+202E', 'U+0000']
    """
    return [f"U+{ord(ch):04X}" for ch in str(text) if ch in DECEPTIVE or ch == "\x00"]


def code_span(text) -> str:
    """``text`` as a Markdown code span (an id): backticks and line breaks cannot leave it.

    >>> code_span("rd_x"), code_span("a`b")
    ('`rd_x`', "`a'b`")
    """
    return "`" + visible(text).replace("`", "'").replace("\n", " ") + "`"


def name_problem(value, what: str) -> str | None:
    """Why ``value`` cannot be a label, name or file name (it could deceive a reader), or None.

    >>> name_problem("rd_x", "a code label"), name_problem("ann\u202e", "a coder name")
    (None, 'a coder name may not contain invisible or direction-changing characters (U+202E)')
    """
    found = deceptive_characters(value)
    if found:
        return (f"{what} may not contain invisible or direction-changing characters "
                f"({', '.join(dict.fromkeys(found))})")
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in str(value)):
        return f"{what} may not contain control characters"
    return None


def text_problem(value, what: str) -> str | None:
    """Why free text (a memo, a definition) cannot be stored: a NUL character; else None.

    >>> text_problem("fine", "a memo"), text_problem("a\\x00b", "a memo")
    (None, 'a memo may not contain NUL characters (U+0000)')
    """
    return f"{what} may not contain NUL characters (U+0000)" if "\x00" in str(value) else None


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain_text(text) -> str:
    """``text`` for a Word document (plain runs, no markup): deceptive characters and characters XML cannot hold
    (control characters, lone surrogates) shown as ``⟨U+XXXX⟩`` instead of breaking the file.

    >>> plain_text("a\\x07b\\u202ec")
    'a⟨U+0007⟩b⟨U+202E⟩c'
    """
    return _NOT_XML.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", visible(text))
