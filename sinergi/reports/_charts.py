"""The meeting page's charts, drawn as inline SVG: no script, no font or file from elsewhere, printable as is.

Each function takes rows already counted and the words already translated, and returns escaped markup.
Colours are the Okabe–Ito palette, told apart by people with colour-blindness and in greyscale print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
GREY = "#9a9a9a"
WIDTH = 760
LABEL_WIDTH = 190
FONT = 'font-family="sans-serif" font-size="11"'

Number = Callable[[float], str]


def nice_scale(maximum: float, ticks: int = 5) -> tuple[float, float]:
    """(top, step): a round top at or above `maximum` and a round step (1, 2 or 5 times a power of ten)."""
    if maximum <= 0:
        return 1.0, 0.2
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return math.ceil(maximum / step) * step, step


def _svg(height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg role="img" viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} {extra}>{escape(text)}</text>'


def _legend(items: Sequence[tuple[str, str]], y: float, dashed: Collection[str] = ()) -> tuple[list[str], float]:
    """Legend entries (colour, words), wrapped over lines; the markup and the height it took."""
    out, x, line = [], 10.0, y
    for colour, words in items:
        width = 26 + 6.2 * len(words)
        if x + width > WIDTH - 10:
            x, line = 10.0, line + 16
        if words in dashed:
            out.append(f'<line x1="{x:.1f}" y1="{line - 4:.1f}" x2="{x + 14:.1f}" y2="{line - 4:.1f}" '
                       f'stroke="{colour}" stroke-width="2" stroke-dasharray="4 2"/>')
        else:
            out.append(f'<rect x="{x:.1f}" y="{line - 10:.1f}" width="14" height="10" fill="{colour}"/>')
        out.append(_text(x + 19, line, words))
        x += width
    return out, line - y + 18


def _axis(top: float, step: float, x0: float, width: float, y0: float, y1: float, number: Number,
          unit: str) -> list[str]:
    """Vertical grid lines and their labels for a horizontal scale 0..top."""
    out = []
    count = round(top / step)
    for i in range(count + 1):
        x = x0 + width * i / count
        out.append(f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="#ddd"/>')
        out.append(_text(x, y1 + 13, number(step * i), "middle"))
    out.append(_text(x0 + width, y1 + 26, unit, "end", 'fill="#555"'))
    return out


def offices_chart(rows: Sequence[dict], title: str, words: dict[str, str], number: Number) -> Markup:
    """Per office, two bars — median hours to acknowledge, to answer — and a dashed mark at its committed time.

    `rows`: dicts with `office`, `ack_hours_p50`, `answer_hours_p50`, `committed_hours`; `words`: `ack`,
    `answer`, `committed`, `hours`.
    """
    legend, legend_height = _legend([(PALETTE[0], words["ack"]), (PALETTE[1], words["answer"]),
                                     ("#000", words["committed"])], 16, {words["committed"]})
    values = [v for r in rows for v in (r["ack_hours_p50"], r["answer_hours_p50"], r["committed_hours"]) if v]
    top, step = nice_scale(max(values, default=0))
    x0, width, bar, gap = LABEL_WIDTH, WIDTH - LABEL_WIDTH - 60, 11, 12
    y = legend_height + 14
    body = [*legend]
    first = y
    for r in rows:
        body.append(_text(x0 - 8, y + bar + 3, r["office"], "end"))
        for offset, (key, colour) in enumerate((("ack_hours_p50", PALETTE[0]), ("answer_hours_p50", PALETTE[1]))):
            value = r[key]
            top_y = y + offset * (bar + 1)
            if value is None:
                body.append(_text(x0 + 4, top_y + bar - 2, "–", extra='fill="#777"'))
                continue
            length = width * value / top
            body.append(f'<rect x="{x0}" y="{top_y:.1f}" width="{length:.1f}" height="{bar}" fill="{colour}"/>')
            body.append(_text(x0 + length + 4, top_y + bar - 2, number(value)))
        if r["committed_hours"]:
            x = x0 + width * r["committed_hours"] / top
            body.append(f'<line x1="{x:.1f}" y1="{y - 3:.1f}" x2="{x:.1f}" y2="{y + 2 * bar + 4:.1f}" stroke="#000" '
                        'stroke-width="2" stroke-dasharray="4 2"/>')
        y += 2 * bar + 1 + gap
    body += _axis(top, step, x0, width, first - 6, y - gap + 4, number, words["hours"])
    return _svg(int(y + 24), title, body)


def breaches_chart(by_month: Sequence[dict], months: Sequence[tuple[str, str]], title: str,
                   rules: Sequence[tuple[str, str]]) -> Markup:
    """Stacked columns: for each month (key, label), the deadlines missed, one colour per rule.

    `by_month`: dicts with `month`, `clock`, `breaches`; `rules`: (rule, its legend words with the law cited).
    """
    colours = {rule: PALETTE[i % len(PALETTE)] for i, (rule, _) in enumerate(rules)}
    legend, legend_height = _legend([(colours[rule], words) for rule, words in rules], 16)
    totals: dict[str, dict[str, int]] = {}
    for r in by_month:
        totals.setdefault(r["month"], {}).setdefault(r["clock"], 0)
        totals[r["month"]][r["clock"]] += r["breaches"]
    top, step = nice_scale(max((sum(m.values()) for m in totals.values()), default=0), 4)
    step = max(step, 1.0)
    top = max(top, step)
    x0, plot_width, plot_top, plot_height = 40, WIDTH - 60, legend_height + 16, 170
    base = plot_top + plot_height
    body = [*legend]
    for i in range(round(top / step) + 1):
        y = base - plot_height * i * step / top
        body.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + plot_width}" y2="{y:.1f}" stroke="#ddd"/>')
        body.append(_text(x0 - 6, y + 4, f"{int(step * i)}", "end"))
    slot = plot_width / max(len(months), 1)
    column = min(48.0, slot * 0.7)
    for n, (key, label) in enumerate(months):
        x = x0 + slot * n + (slot - column) / 2
        y = base
        for rule, _ in rules:
            count = totals.get(key, {}).get(rule, 0)
            if not count:
                continue
            height = plot_height * count / top
            y -= height
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{column:.1f}" height="{height:.1f}" '
                        f'fill="{colours[rule]}"><title>{escape(rule)}: {count}</title></rect>')
        total = sum(totals.get(key, {}).values())
        if total:
            body.append(_text(x + column / 2, y - 4, str(total), "middle"))
        body.append(_text(x + column / 2, base + 14, label, "middle"))
    return _svg(int(base + 26), title, body)


def cases_chart(regencies: Sequence[tuple[str, dict[str, int]]], stages: Sequence[tuple[str, str]], title: str,
                number: Number) -> Markup:
    """One stacked bar per regency: its cases by stage (`stages`: key and words, the last is the closed ones)."""
    colours = {key: (GREY if n == len(stages) - 1 else PALETTE[n % len(PALETTE)]) for n, (key, _) in
               enumerate(stages)}
    legend, legend_height = _legend([(colours[key], words) for key, words in stages], 16)
    top, step = nice_scale(max((sum(counts.values()) for _, counts in regencies), default=0))
    step = max(step, 1.0)
    top = max(top, step)
    x0, width, bar, gap = LABEL_WIDTH, WIDTH - LABEL_WIDTH - 60, 16, 8
    y = legend_height + 14
    first = y
    body = [*legend]
    for regency, counts in regencies:
        body.append(_text(x0 - 8, y + bar - 4, regency, "end"))
        x = float(x0)
        for key, _ in stages:
            count = counts.get(key, 0)
            if not count:
                continue
            length = width * count / top
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar}" fill="{colours[key]}">'
                        f"<title>{escape(key)}: {count}</title></rect>")
            x += length
        body.append(_text(x + 4, y + bar - 4, str(sum(counts.values()))))
        y += bar + gap
    body += _axis(top, step, x0, width, first - 4, y - gap + 4, number, "")
    return _svg(int(y + 24), title, body)
