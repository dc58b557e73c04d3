"""KPI statuses at the threshold edges, minimum samples, standing, score and percentiles."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sellerflow.policy.kpis import (
    KpiCounts,
    ScorecardEntry,
    kpi_status,
    percentiles,
    score,
    scorecard,
    standing,
)
from sellerflow.policy.model import Policy, load_policy
from sellerflow.vocabulary import KPI, KpiStatus, Standing

POLICY = load_policy("default")  # module level, for hypothesis strategies
RATE_KPIS = [k for k in KPI if k != KPI.review_rating]
DEFAULT_MEANS = {
    KPI.order_defect_rate: 0.005,
    KPI.seller_cancellation_rate: 0.01,
    KPI.late_shipment_rate: 0.04,
    KPI.on_time_delivery: 0.95,
    KPI.refund_rate: 0.03,
    KPI.review_rating: 4.0,
}


def entry_for(entries: list[ScorecardEntry], kpi: KPI) -> ScorecardEntry:
    [found] = [e for e in entries if e.kpi == kpi]
    return found


def rated(**values: list[float]) -> list[tuple[float, KpiStatus]]:
    """(value, status) cases from the values a rule rates with each status (`good=[...]`)."""
    return [(value, KpiStatus(status)) for status, rated in values.items() for value in rated]


def counted(**counts: list[tuple[int, int]]) -> list[tuple[int, int, KpiStatus]]:
    """(numerator, denominator, status) cases from the counts a rule rates with each status."""
    return [(n, d, KpiStatus(status)) for status, rated in counts.items() for n, d in rated]


def status_of(policy: Policy, kpi: KPI, numerator: float, denominator: int) -> KpiStatus:
    counts = {kpi: KpiCounts(numerator=numerator, denominator=denominator)}
    return entry_for(scorecard(policy, counts), kpi).status


# --- thresholds --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), rated(good=[0.0, 0.0099], warn=[0.01, 0.0199], limit=[0.02, 0.5])
)
def test_order_defect_rate_edges(policy: Policy, value: float, expected: KpiStatus) -> None:
    rule = policy.kpis[KPI.order_defect_rate]
    assert (rule.warn, rule.limit, rule.higher_is_better) == (0.01, 0.02, False)
    assert kpi_status(rule, value, sample=100, min_sample=25) == expected


@pytest.mark.parametrize(
    ("value", "expected"), rated(good=[1.0, 0.95], warn=[0.9499, 0.90], limit=[0.8999, 0.0])
)
def test_on_time_delivery_edges(policy: Policy, value: float, expected: KpiStatus) -> None:
    rule = policy.kpis[KPI.on_time_delivery]
    assert (rule.warn, rule.limit, rule.higher_is_better) == (0.95, 0.90, True)
    assert kpi_status(rule, value, sample=100, min_sample=30) == expected


@pytest.mark.parametrize(
    ("value", "expected"), rated(good=[5.0, 4.0], warn=[3.99, 3.0], limit=[2.99, 1.0])
)
def test_review_rating_edges(policy: Policy, value: float, expected: KpiStatus) -> None:
    rule = policy.kpis[KPI.review_rating]
    assert kpi_status(rule, value, sample=10, min_sample=10) == expected


# 1 of 101 is 0.99 % (good), 1 of 100 exactly 1 % (warn), 3 of 200 1.5 %, 1 of 50 exactly 2 %.
@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    counted(good=[(0, 100), (1, 101)], warn=[(1, 100), (3, 200)], limit=[(1, 50), (5, 100)]),
)
def test_order_defect_rate_from_counts(
    policy: Policy, numerator: int, denominator: int, expected: KpiStatus
) -> None:
    assert status_of(policy, KPI.order_defect_rate, numerator, denominator) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    counted(good=[(95, 100)], warn=[(94, 100), (90, 100)], limit=[(89, 100)]),
)
def test_on_time_delivery_from_counts(
    policy: Policy, numerator: int, denominator: int, expected: KpiStatus
) -> None:
    assert status_of(policy, KPI.on_time_delivery, numerator, denominator) == expected


def test_review_rating_is_the_mean_of_ratings(policy: Policy) -> None:
    counts = {KPI.review_rating: KpiCounts(numerator=39, denominator=10)}
    e = entry_for(scorecard(policy, counts), KPI.review_rating)
    assert e.value == pytest.approx(3.9)
    assert e.status == KpiStatus.warn
    assert (e.warn, e.limit, e.window_days) == (4.0, 3.0, 90)


def test_cancellation_rate_limit_at_two_and_a_half_percent(policy: Policy) -> None:
    assert status_of(policy, KPI.seller_cancellation_rate, 1, 40) == KpiStatus.limit
    assert status_of(policy, KPI.seller_cancellation_rate, 1, 50) == KpiStatus.warn
    assert status_of(policy, KPI.seller_cancellation_rate, 1, 51) == KpiStatus.good


def test_design_table_is_the_policy(policy: Policy) -> None:
    table = {
        KPI.order_defect_rate: (False, 0.01, 0.02, 60, 25),
        KPI.seller_cancellation_rate: (False, 0.02, 0.025, 30, 10),
        KPI.late_shipment_rate: (False, 0.08, 0.10, 30, 10),
        KPI.on_time_delivery: (True, 0.95, 0.90, 30, 30),
        KPI.refund_rate: (False, 0.06, 0.08, 90, 25),
        KPI.review_rating: (True, 4.0, 3.0, 90, 10),
    }
    actual = {
        kpi: (r.higher_is_better, r.warn, r.limit, r.window_days, r.min_sample)
        for kpi, r in policy.kpis.items()
    }
    assert actual == table


# --- minimum samples ---------------------------------------------------------------------


def test_one_below_the_minimum_is_not_enough_data_even_when_terrible(policy: Policy) -> None:
    # 24 orders, all defective: still no sanction.
    assert status_of(policy, KPI.order_defect_rate, 24, 24) == KpiStatus.not_enough_data
    assert status_of(policy, KPI.on_time_delivery, 0, 29) == KpiStatus.not_enough_data
    assert status_of(policy, KPI.review_rating, 9, 9) == KpiStatus.not_enough_data


def test_exactly_the_minimum_counts(policy: Policy) -> None:
    assert status_of(policy, KPI.order_defect_rate, 25, 25) == KpiStatus.limit
    assert status_of(policy, KPI.on_time_delivery, 30, 30) == KpiStatus.good
    assert status_of(policy, KPI.review_rating, 10, 10) == KpiStatus.limit


def test_no_data_at_all(policy: Policy) -> None:
    entries = scorecard(policy, {})
    assert [e.kpi for e in entries] == list(policy.kpis)
    assert all(e.status == KpiStatus.not_enough_data for e in entries)
    assert all(e.value is None and e.denominator == 0 for e in entries)
    assert kpi_status(policy.kpis[KPI.order_defect_rate], None, 100, 25) == (
        KpiStatus.not_enough_data
    )


def test_in_trial_rate_kpis_wait_for_25_orders(policy: Policy) -> None:
    # late shipment: min sample 10 normally; 24 orders with 12 late are a limit outside the trial.
    counts = {KPI.late_shipment_rate: KpiCounts(numerator=12, denominator=24)}
    assert entry_for(scorecard(policy, counts), KPI.late_shipment_rate).status == KpiStatus.limit
    in_trial = scorecard(policy, counts, in_trial=True)
    assert entry_for(in_trial, KPI.late_shipment_rate).status == KpiStatus.not_enough_data
    counts25 = {KPI.late_shipment_rate: KpiCounts(numerator=12, denominator=25)}
    in_trial25 = scorecard(policy, counts25, in_trial=True)
    assert entry_for(in_trial25, KPI.late_shipment_rate).status == KpiStatus.limit


def test_in_trial_keeps_a_higher_minimum(policy: Policy) -> None:
    # on-time delivery already needs 30: the trial's 25 does not lower it.
    counts = {KPI.on_time_delivery: KpiCounts(numerator=0, denominator=29)}
    assert (
        entry_for(scorecard(policy, counts, in_trial=True), KPI.on_time_delivery).status
        == KpiStatus.not_enough_data
    )


def test_in_trial_review_rating_keeps_its_own_minimum(policy: Policy) -> None:
    counts = {KPI.review_rating: KpiCounts(numerator=20, denominator=10)}
    entries = scorecard(policy, counts, in_trial=True)
    assert entry_for(entries, KPI.review_rating).status == KpiStatus.limit


# --- standing ----------------------------------------------------------------------------


def counts_for(**values: tuple[float, int]) -> dict[KPI, KpiCounts]:
    return {KPI(k): KpiCounts(numerator=n, denominator=d) for k, (n, d) in values.items()}


def test_standing_is_the_worst_status(policy: Policy) -> None:
    good = counts_for(order_defect_rate=(0, 100), on_time_delivery=(100, 100))
    assert standing(scorecard(policy, good)) == Standing.good
    warn = counts_for(order_defect_rate=(1, 100), on_time_delivery=(100, 100))
    assert standing(scorecard(policy, warn)) == Standing.warn
    limit = counts_for(order_defect_rate=(1, 100), on_time_delivery=(80, 100))
    assert standing(scorecard(policy, limit)) == Standing.limit


def test_standing_ignores_kpis_without_enough_data(policy: Policy) -> None:
    few = counts_for(order_defect_rate=(10, 10), on_time_delivery=(0, 5), review_rating=(5, 5))
    assert standing(scorecard(policy, few)) == Standing.good
    mixed = counts_for(order_defect_rate=(10, 10), late_shipment_rate=(1, 20))  # 5 %: good
    assert standing(scorecard(policy, mixed)) == Standing.good
    limited = counts_for(order_defect_rate=(10, 10), late_shipment_rate=(2, 20))  # 10 %
    assert standing(scorecard(policy, limited)) == Standing.limit
    assert standing([]) == Standing.good


# --- score -------------------------------------------------------------------------------


def test_score_with_no_orders_is_the_mean_seller(policy: Policy) -> None:
    # Hand-computed goodness of the default priors, weighted 3,2,1,1,2,1:
    # 0.875*3 + 0.8*2 + 0.8 + 0.75 + 0.8125*2 + 0.75 = 8.15 of 10.
    assert score(policy, {}, {}) == pytest.approx(81.5)
    assert score(policy, {}, DEFAULT_MEANS) == pytest.approx(81.5)


def test_perfect_seller_with_many_orders_scores_near_100(policy: Policy) -> None:
    n = 100_000
    counts = counts_for(
        order_defect_rate=(0, n),
        seller_cancellation_rate=(0, n),
        late_shipment_rate=(0, n),
        on_time_delivery=(n, n),
        refund_rate=(0, n),
        review_rating=(5 * n, n),
    )
    assert score(policy, counts, DEFAULT_MEANS) > 99.9


def terrible(n: int) -> dict[KPI, KpiCounts]:
    return counts_for(
        order_defect_rate=(0.03 * n, n),
        seller_cancellation_rate=(0.04 * n, n),
        late_shipment_rate=(0.15 * n, n),
        on_time_delivery=(0.85 * n, n),
        refund_rate=(0.10 * n, n),
        review_rating=(2.5 * n, n),
    )


def test_smoothing_keeps_a_small_seller_near_the_mean(policy: Policy) -> None:
    mean = score(policy, {}, DEFAULT_MEANS)
    few = score(policy, terrible(3), DEFAULT_MEANS)
    many = score(policy, terrible(3000), DEFAULT_MEANS)
    assert many < few < mean
    assert abs(few - mean) < abs(many - mean)


rate_strategy = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def any_counts(draw: st.DrawFn) -> dict[KPI, KpiCounts]:
    result = {}
    for kpi in KPI:
        if draw(st.booleans()):
            n = draw(st.integers(min_value=0, max_value=100_000))
            if kpi == KPI.review_rating:
                numerator = n * draw(st.floats(min_value=1.0, max_value=5.0))
            else:
                numerator = n * draw(rate_strategy)
            result[kpi] = KpiCounts(numerator=numerator, denominator=n)
    return result


@st.composite
def any_means(draw: st.DrawFn) -> dict[KPI, float]:
    return {
        kpi: draw(
            st.floats(min_value=1.0, max_value=5.0) if kpi == KPI.review_rating else rate_strategy
        )
        for kpi in KPI
        if draw(st.booleans())
    }


@given(counts=any_counts(), means=any_means())
def test_score_is_always_within_0_and_100(
    counts: dict[KPI, KpiCounts], means: dict[KPI, float]
) -> None:
    assert 0.0 <= score(POLICY, counts, means) <= 100.0


@st.composite
def bad_rates(draw: st.DrawFn) -> tuple[dict[KPI, float], dict[KPI, float]]:
    """Category means in the good range and a seller's rates worse than each of them."""
    means: dict[KPI, float] = {}
    rates: dict[KPI, float] = {}
    for kpi, rule in POLICY.kpis.items():
        if kpi == KPI.review_rating:
            means[kpi] = draw(st.floats(min_value=4.0, max_value=5.0))
            rates[kpi] = draw(st.floats(min_value=1.0, max_value=means[kpi]))
        elif rule.higher_is_better:
            means[kpi] = draw(st.floats(min_value=rule.warn, max_value=1.0))
            rates[kpi] = draw(st.floats(min_value=0.0, max_value=means[kpi]))
        else:
            means[kpi] = draw(st.floats(min_value=0.0, max_value=rule.warn))
            rates[kpi] = draw(st.floats(min_value=means[kpi], max_value=1.0))
    return means, rates


@given(
    data=bad_rates(),
    few=st.integers(min_value=0, max_value=20),
    extra=st.integers(min_value=1, max_value=10_000),
)
def test_few_orders_score_closer_to_the_category_mean(
    data: tuple[dict[KPI, float], dict[KPI, float]], few: int, extra: int
) -> None:
    means, rates = data
    many = few + extra

    def at(n: int) -> dict[KPI, KpiCounts]:
        return {kpi: KpiCounts(numerator=rate * n, denominator=n) for kpi, rate in rates.items()}

    mean_score = score(POLICY, {}, means)
    few_score, many_score = score(POLICY, at(few), means), score(POLICY, at(many), means)
    assert many_score <= few_score <= mean_score
    assert abs(few_score - mean_score) <= abs(many_score - mean_score)


# --- percentiles -------------------------------------------------------------------------


def test_percentiles_by_hand() -> None:
    assert percentiles({"a": 10.0, "b": 50.0, "c": 90.0}) == {"a": 0.0, "b": 50.0, "c": 100.0}
    assert percentiles({"only": 42.0}) == {"only": 100.0}
    assert percentiles({}) == {}


scores_strategy = st.dictionaries(
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
    min_size=1,
    max_size=60,
)


@given(scores=scores_strategy)
def test_percentiles_are_within_0_and_100_for_every_key(scores: dict[int, float]) -> None:
    ranks = percentiles(scores)
    assert set(ranks) == set(scores)
    assert all(0.0 <= r <= 100.0 for r in ranks.values())


@given(scores=scores_strategy)
def test_percentiles_are_monotone_in_the_score(scores: dict[int, float]) -> None:
    ranks = percentiles(scores)
    for a, score_a in scores.items():
        for b, score_b in scores.items():
            if score_a < score_b:
                assert ranks[a] < ranks[b]
            elif score_a == score_b:
                assert ranks[a] == ranks[b]


@given(scores=scores_strategy)
def test_the_lowest_score_ranks_0_and_a_unique_best_ranks_100(scores: dict[int, float]) -> None:
    assume(len(scores) > 1)
    ranks = percentiles(scores)
    lowest = min(scores, key=lambda k: scores[k])
    assert ranks[lowest] == 0.0
    best = max(scores.values())
    if list(scores.values()).count(best) == 1:
        assert ranks[max(scores, key=lambda k: scores[k])] == 100.0
