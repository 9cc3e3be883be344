"""Charts drawn on the server as SVG (图表): no chart library to ship or script to allow, every bar
a link to the cases behind it, and readable with the stylesheet off."""

from __future__ import annotations

from markupsafe import Markup, escape


def bars(items: list[tuple[str, float | None, str, str | None]], scale: float | None = None,
         title: str = "") -> Markup:
    """Horizontal bars: (label, value, shown text, link) per row; ``scale`` the value of a full bar
    (default: the largest value)."""
    top = scale or max((v for _, v, _, _ in items if v), default=1) or 1
    row, label_w, bar_w = 26, 190, 360
    height = row * len(items) + 8
    # with links inside, the chart is a group of them (an "img" may hold nothing interactive)
    role = "group" if any(href for *_, href in items) else "img"
    out = [f'<svg class="chart" role="{role}" aria-label="{escape(title)}" viewBox="0 0 {label_w + bar_w + 90} {height}" '
           f'width="100%" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    for i, (label, value, shown, href) in enumerate(items):
        y = 4 + i * row
        width = 0 if not value else max(2, round(bar_w * value / top))
        bar = (f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>'
               f'<rect x="{label_w}" y="{y + 4}" width="{width}" height="{row - 8}" fill="#b3261e"></rect>'
               f'<text x="{label_w + width + 6}" y="{y + 17}" font-size="13">{escape(shown)}</text>')
        out.append(f'<a href="{escape(href)}" aria-label="{escape(label)} {escape(shown)}">{bar}</a>' if href else bar)
    out.append("</svg>")
    return Markup("".join(out))


def columns(points: list[tuple[str, float | None]], title: str = "") -> Markup:
    """Vertical bars of rates (0–1) over time: one per month, the month under it."""
    col, gap, height = 38, 10, 160
    width = len(points) * (col + gap) + gap
    out = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height + 40}" '
           f'width="100%" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
           f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#d1d9e0"></line>']
    for i, (label, value) in enumerate(points):
        x = gap + i * (col + gap)
        h = 0 if value is None else round(height * value)
        out.append(f'<rect x="{x}" y="{height - h}" width="{col}" height="{h}" fill="#b3261e"></rect>'
                   f'<text x="{x + col / 2}" y="{height + 16}" text-anchor="middle" font-size="11">{escape(label[5:])}月</text>'
                   f'<text x="{x + col / 2}" y="{max(12, height - h - 4)}" text-anchor="middle" font-size="11">'
                   f'{"—" if value is None else f"{value * 100:.0f}%"}</text>')
    out.append("</svg>")
    return Markup("".join(out))
