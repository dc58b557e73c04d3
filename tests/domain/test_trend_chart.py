"""The KPI trend's geometry: the last day at the right edge, a day without data breaking the
line, a lone day drawn as a dot, the thresholds inside the box, days past the span left out."""

from datetime import date, timedelta

from api.pages.charts import TREND_HEIGHT, TREND_PAD, TREND_WIDTH, kpi_trend

END = date(2026, 6, 30)


def day(n: int) -> date:
    """`n` days before END."""
    return END - timedelta(days=n)


def xs(segment: str) -> list[float]:
    return [float(point.split(",")[0]) for point in segment.split()]


def test_the_line_ends_at_the_right_edge_and_breaks_where_a_day_has_no_data() -> None:
    days = [(day(100), 0.5), (day(89), 0.01), (day(88), 0.02), (day(50), None), (day(3), 0.04)]
    days += [(day(2), 0.03), (day(0), 0.05)]
    trend = kpi_trend("late_shipment_rate", days, warn=0.04, limit=0.08)

    first, second = trend.segments
    assert xs(first) == [0.0, round(TREND_WIDTH / 89, 1)]  # day 89 is the left edge: 90 days shown
    assert xs(second)[-1] == TREND_WIDTH
    assert trend.dots == []
    ys = [float(p.split(",")[1]) for seg in trend.segments for p in seg.split()]
    assert all(TREND_PAD <= y <= TREND_HEIGHT - TREND_PAD for y in ys)
    # Lower values sit lower; the limit (0.08, the highest value) at the top of the box.
    assert trend.limit_y == TREND_PAD
    assert trend.warn_y > trend.limit_y
    assert trend.label == "late shipment rate over 90 days, latest 0.05"


def test_a_lone_day_is_a_dot_and_no_data_at_all_says_so() -> None:
    lone = kpi_trend("refund_rate", [(day(5), None), (day(4), 0.02), (day(3), None)], 0.03, 0.05)
    assert lone.segments == []
    assert len(lone.dots) == 1
    empty = kpi_trend("refund_rate", [(day(0), None)], 0.03, 0.05)
    assert (empty.segments, empty.dots) == ([], [])
    assert empty.label.endswith("latest no data")
