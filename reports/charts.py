"""Charts for the dashboard, drawn server-side as SVG by pygal from the presented (suppressed) rows.

No JavaScript and no external resources: the SVG is embedded as a data URI, and
every chart has the same figures in an accessible table beside it.
"""

from __future__ import annotations

import base64

import pygal
from pygal.style import Style

from reports.dashboard import Table

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    colors=("#1d70b8", "#f47738", "#00703c", "#4c2c92"),
    font_family="Liberation Sans, DejaVu Sans, Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    legend_font_size=13,
)


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _config(title: str) -> dict:
    return {
        "title": title,
        "style": STYLE,
        "js": [],  # never fetch pygal's tooltip script
        "disable_xml_declaration": True,
        "width": 720,
        "height": 320,
        "show_legend": False,
        "print_values": True,
        "x_label_rotation": 30,
        "truncate_label": 28,
        "no_data_text": "Too few to show",
    }


def draw(table: Table) -> str:
    """A data URI of the table's chart, or "" if it has none."""
    if table.chart == "bar":
        chart = pygal.Bar(**_config(table.title))
        chart.x_labels = [str(row[0]) for row in table.rows]
        chart.add(table.columns[-1], [_number(row[-1]) for row in table.rows])
    elif table.chart == "grouped":
        config = _config(table.title)
        config["show_legend"] = True
        chart = pygal.Bar(**config)
        chart.x_labels = [str(row[0]) for row in table.rows]
        for index, name in enumerate(table.columns[1:], start=1):
            chart.add(name, [_number(row[index]) for row in table.rows])
    else:
        return ""
    svg = chart.render()
    data = svg if isinstance(svg, bytes) else svg.encode()
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode()


def with_charts(tables: list[Table]) -> list[Table]:
    for table in tables:
        table.svg = draw(table)
    return tables
