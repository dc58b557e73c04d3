"""Geometry of the ops dashboard's bar charts, drawn as inline SVG by the template (pure)."""

from dataclasses import dataclass

WIDTH = 520
LABEL_WIDTH = 170
VALUE_WIDTH = 50
ROW = 28
BAR = 18
PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    series: str = "main"


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    label_x: int = LABEL_WIDTH - 8
    legend: tuple[str, ...] = ()


def _length(value: int, largest: int) -> float:
    """Bar length; a non-zero value stays visible, zero draws nothing."""
    if value <= 0 or largest <= 0:
        return 0.0
    return max(2.0, PLOT * value / largest)


def bar_chart(title: str, values: dict[str, int], *, centered: bool = False) -> Chart:
    """One horizontal bar per entry; `centered` draws a funnel."""
    largest = max(values.values(), default=0)
    bars = []
    for row, (label, value) in enumerate(values.items()):
        length = _length(value, largest)
        x = LABEL_WIDTH + ((PLOT - length) / 2 if centered else 0)
        bars.append(
            Bar(label.replace("_", " "), value, x, row * ROW + (ROW - BAR) / 2, length, BAR)
        )
    return Chart(title, bars, height=max(1, len(values)) * ROW)


def grouped_bar_chart(title: str, values: dict[str, dict[str, int]], series: list[str]) -> Chart:
    """Per group (row), one thinner bar per series, e.g. open and overdue tasks per role."""
    largest = max((v.get(s, 0) for v in values.values() for s in series), default=0)
    thickness = BAR
    row_height = thickness * len(series) + 12
    bars = []
    for row, (label, counts) in enumerate(values.items()):
        for index, name in enumerate(series):
            value = counts.get(name, 0)
            y = row * row_height + 3 + index * thickness
            bars.append(
                Bar(label, value, LABEL_WIDTH, y, _length(value, largest), thickness - 1, name)
            )
    height = max(1, len(values)) * row_height
    return Chart(title, bars, height=height, legend=tuple(series))
