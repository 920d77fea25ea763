"""The trend charts as inline SVG for the HTML report: grades by month as stacked bars, agreement
with moderators as lines per team and per auditor, overdue actions as bars. No scripts, no outside
links; every label escaped."""

from __future__ import annotations

from html import escape

from qa_tui.services.reports.trends import Series, Trends

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 170, 24, 36  # room for the axis labels and the legend
GRADE_COLOURS = ("#1a7f37", "#4a9fd8", "#d4a72c", "#cf222e", "#8250df")
LINE_COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#d4a72c", "#57606a", "#bf3989")


def _frame(title: str, body: list[str], months: tuple[str, ...], y_labels: list[tuple[float, str]]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
             f"<title>{escape(title)}</title>",
             f'<text x="{LEFT}" y="14" font-weight="bold" font-size="13">{escape(title)}</text>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#888"/>']
    for fraction, label in y_labels:
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    step = plot_w / max(len(months), 1)
    for i, month in enumerate(months):
        parts.append(f'<text x="{LEFT + step * (i + 0.5):.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">'
                     f"{escape(month[2:])}</text>")
    return "\n".join([*parts, *body, "</svg>"])


def _legend(labels: list[tuple[str, str]]) -> list[str]:
    x = WIDTH - RIGHT + 10
    return [f'<rect x="{x}" y="{TOP + i * 16}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{TOP + i * 16 + 9}">{escape(label[:24])}</text>'
            for i, (label, colour) in enumerate(labels)]


def grades_svg(t: Trends) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    largest = max((sum(m) for m in t.grades), default=0) or 1
    step = plot_w / max(len(t.months), 1)
    body = []
    for i, counts in enumerate(t.grades):
        y = TOP + plot_h
        for g, count in enumerate(counts):
            h = plot_h * count / largest
            y -= h
            if count:
                body.append(f'<rect x="{LEFT + step * i + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                            f'height="{h:.1f}" fill="{GRADE_COLOURS[g % len(GRADE_COLOURS)]}">'
                            f"<title>{escape(t.months[i])}: {count} {escape(t.scale[g])}</title></rect>")
    body += _legend([(label, GRADE_COLOURS[g % len(GRADE_COLOURS)]) for g, label in enumerate(t.scale)])
    return _frame("Completed audits by moderated overall grade", body, t.months,
                  [(0.5, f"{largest / 2:g}"), (1.0, f"{largest:g}")])


def agreement_svg(title: str, series: tuple[Series, ...], months: tuple[str, ...]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months), 1)
    body = []
    for n, s in enumerate(series):
        colour = LINE_COLOURS[n % len(LINE_COLOURS)]
        points = [(LEFT + step * (i + 0.5), TOP + plot_h * (1 - v)) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                        + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(s.label)}</title></circle>'
                 for x, y in points]
    body += _legend([(s.label, LINE_COLOURS[n % len(LINE_COLOURS)]) for n, s in enumerate(series)])
    return _frame(title, body, months, [(0.5, "50%"), (1.0, "100%")])


def overdue_svg(t: Trends) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v or 0 for v in t.overdue_actions.values]
    largest = max(values, default=0) or 1
    step = plot_w / max(len(t.months), 1)
    body = [f'<rect x="{LEFT + step * i + step * 0.15:.1f}" y="{TOP + plot_h * (1 - v / largest):.1f}" '
            f'width="{step * 0.7:.1f}" height="{plot_h * v / largest:.1f}" fill="#cf222e">'
            f"<title>{escape(t.months[i])}: {v:g} overdue</title></rect>" for i, v in enumerate(values)]
    return _frame("Actions overdue at each month's end", body, t.months,
                  [(0.5, f"{largest / 2:g}"), (1.0, f"{largest:g}")])


def trends_html(t: Trends) -> str:
    """The Trends section of the HTML report: a heading and the four charts."""
    charts = [grades_svg(t),
              agreement_svg("Agreement with moderators by team", (t.agreement_council, *t.agreement_by_team), t.months),
              agreement_svg("Agreement with moderators by auditor", t.agreement_by_auditor, t.months),
              overdue_svg(t)]
    return "<h2>Trends over twelve months</h2>\n" + "\n".join(f'<figure class="chart">{c}</figure>' for c in charts)
