"""Geometry of the ops dashboard's bar charts, drawn as inline SVG by the template (pure)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sellerflow.models import ScorecardRow, SellerDay

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


# --- the seller's KPI trends: one small line chart per KPI over the last 90 days -------------

TREND_WIDTH, TREND_HEIGHT, TREND_PAD = 180, 40, 4


@dataclass(frozen=True)
class Trend:
    """A KPI's daily values as polyline segments (a day without data breaks the line), with
    the warn and limit thresholds as horizontal lines, in a TREND_WIDTH x TREND_HEIGHT box."""

    kpi: str
    segments: list[str]
    # Days with data between two days without: drawn as dots.
    dots: list[tuple[float, float]]
    warn_y: float
    limit_y: float
    label: str
    width: int = TREND_WIDTH
    height: int = TREND_HEIGHT


def kpi_trend(
    kpi: str,
    days: list[tuple[date, float | None]],
    warn: float,
    limit: float,
    *,
    span_days: int = 90,
) -> Trend:
    """`days` oldest first; the chart ends at the last day and spans `span_days` before it."""
    end = days[-1][0] if days else date.today()
    days = [(day, value) for day, value in days if (end - day).days < span_days]
    values = [v for _, v in days if v is not None]
    low, high = min([*values, warn, limit]), max([*values, warn, limit])
    if high == low:
        high = low + 1.0
    inner = TREND_HEIGHT - 2 * TREND_PAD

    def x(day: date) -> float:
        offset = span_days - 1 - (end - day).days
        return round(TREND_WIDTH * offset / max(1, span_days - 1), 1)

    def y(value: float) -> float:
        return round(TREND_PAD + inner * (high - value) / (high - low), 1)

    segments: list[str] = []
    current: list[str] = []
    for day, value in days:
        if value is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        current.append(f"{x(day)},{y(value)}")
    if current:
        segments.append(" ".join(current))
    latest = next((v for _, v in reversed(days) if v is not None), None)
    shown = "no data" if latest is None else f"{latest:.4g}"
    label = f"{kpi.replace('_', ' ')} over {span_days} days, latest {shown}"
    dots = [_point(seg) for seg in segments if " " not in seg]
    lines = [seg for seg in segments if " " in seg]
    return Trend(kpi, lines, dots, y(warn), y(limit), label)


def _point(segment: str) -> tuple[float, float]:
    x, y = segment.split(",")
    return float(x), float(y)


def seller_trends(history: Sequence[SellerDay], card: Sequence[ScorecardRow]) -> dict[str, Trend]:
    """A trend per KPI of the scorecard, from the seller's daily history (oldest first)."""
    return {
        row.kpi.value: kpi_trend(
            row.kpi.value,
            [(day.day, day.kpis.get(row.kpi.value)) for day in history],
            row.warn,
            row.limit,
        )
        for row in card
    }
