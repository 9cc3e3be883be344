"""Text that people outside the office write, made safe to put into the Markdown we produce.

Case titles, descriptions, enterprise names, resolutions, notes and reasons end up in agendas,
minutes and supervision sheets (Markdown files that others open) and in the WeCom and DingTalk
robot messages posted into official group chats. Put there verbatim, ``[查看详情](http://phish)``
becomes a clickable link in a government chat, ``<img src=x onerror=…>`` raw HTML in a Markdown
viewer, ``| a | b |`` a broken table, and a line break followed by ``# …`` a heading of its own.
:func:`markdown_text` is the one escaper for all of them: what it returns renders as the same
characters, as plain text, in any CommonMark / GFM renderer.

Only Markdown needs it: the HTML renders escape with ``html.escape``, python-docx writes XML text,
and plain-text outputs (e-mail, a message's ``text``) are shown as written.

Robot messages get :func:`chat_text` instead: WeCom's and DingTalk's Markdown are their own
subsets, and whether they honour a backslash escape is not documented — a reader could see the
backslashes. There the characters that make syntax become their full-width forms (［］（）＊＿＃｜…),
which a Chinese reader reads as the same punctuation and no renderer takes for syntax.

What remains: a chat client may still turn a bare address into a link in its own renderer
(``www.example.com``; or ``http://…`` if it resolves the backslash we put into ``\\://`` before
looking for addresses). The Markdown link syntax is always broken, so the only ``[…](…)`` links in
a message are the ones our templates build from the public URL.
"""

from __future__ import annotations

import re

# HTML's three as entities (a backslash does not stop raw HTML); Markdown's punctuation that makes
# links, images, emphasis, code, headings, tables and strikethrough, backslash-escaped.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                          **{c: "\\" + c for c in "\\`*_[]()!#|~"}})
# what opens a list item at the start of a line ('-' also a thematic break); '>' is an entity by now
_LIST_START = re.compile(r"^([-+]|\d+\.)")


def markdown_text(text: str) -> str:
    """``text`` as Markdown that renders literally, on one line (line breaks fold into a space, so
    the text cannot start a block of its own)."""
    text = " ".join(str(text).split()).translate(_ESCAPES).replace("://", "\\://")
    return _LIST_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], text)


# every ASCII character that makes Markdown or HTML syntax, as its full-width form (U+FF01..)
_FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "&<>\\`*_[]()!#|~"})


def chat_text(text: str) -> str:
    """``text`` for a chat robot's Markdown: on one line, the syntax characters full-width, and
    ``://`` broken so that no address in it is taken for a link."""
    text = " ".join(str(text).split()).translate(_FULL_WIDTH).replace("://", "：//")
    return _LIST_START.sub(lambda m: m.group(1)[:-1] + chr(ord(m.group(1)[-1]) + 0xFEE0), text)
