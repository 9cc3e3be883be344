"""A hostile case title, through the API, reaches the agenda as literal text (the render functions
alone are tested in tests/test_render_escaping.py)."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

TITLE = "<script>alert(1)</script><img src=x onerror=alert(2)>[查看详情](http://phish)"
DESCRIPTION = "| a | b |\n# heading\n![x](http://evil/x.png) **bold**"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_hostile_title_reaches_the_agenda_as_text(world, backend):
    c = world.submit(title=TITLE, description=DESCRIPTION)
    world.act(c["id"], "escalate", "admin", {"reason": "[催办](http://phish)"})
    sitting = world.case(c["id"])["sitting_id"]

    md = world.client.get(f"/v1/meetings/{sitting}/agenda", params={"format": "markdown"}, headers=world.h("admin"))
    assert md.status_code == 200, md.text
    assert "<script" not in md.text and "](http://phish)" not in md.text
    rendered = MarkdownIt("commonmark").enable("table").render(md.text)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "<h1>" not in rendered.split("</h1>", 1)[1]  # the agenda's own title is the only h1
    assert rendered.count("<table>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered and "[查看详情](http://phish)" in rendered

    page = world.client.get(f"/v1/meetings/{sitting}/agenda", params={"format": "html"}, headers=world.h("admin"))
    assert "<script" not in page.text and not re.search(r"<img|<a ", page.text)
