"""The seller ranking's filters: status, category, standing, an SSM's portfolio (`ssm=me`), the
sellers at risk first, paging; bad values are 422."""

from tests.api.test_routes import is_error
from tests.conftest import Stack
from tests.journey import staff_token
from tests.support.builders import ranked_sellers


async def names(stack: Stack, auth: dict[str, str], query: str) -> tuple[list[str], int]:
    answer = await stack.http.get(f"/v1/sellers{query}", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [s["legal_name"].removesuffix(" Refurb") for s in body["data"]], body["count"]


async def test_the_ranking_filters_by_standing_ssm_and_puts_sellers_at_risk_first(
    stack: Stack,
) -> None:
    ranked_sellers(stack.engine)
    ops1 = await staff_token(stack.http, "ops1")
    ssm2 = await staff_token(stack.http, "ssm2")
    everyone = ["Foxtrot", "Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert await names(stack, ops1, "") == (everyone, 6)
    assert await names(stack, ops1, "?standing=warn") == (["Bravo"], 1)
    assert await names(stack, ops1, "?ssm=ssm1") == (["Foxtrot", "Alpha", "Bravo"], 3)
    assert await names(stack, ssm2, "?ssm=me") == (["Charlie", "Delta"], 2)
    assert await names(stack, ops1, "?ssm=me") == ([], 0)
    assert await names(stack, ops1, "?ssm=ssm1&standing=good&status=active") == (["Alpha"], 1)
    at_risk = ["Foxtrot", "Bravo", "Charlie", "Delta", "Alpha", "Echo"]
    assert await names(stack, ops1, "?at_risk=1") == (at_risk, 6)
    assert await names(stack, ops1, "?at_risk=1&category=retailer") == (["Delta", "Echo"], 2)
    assert await names(stack, ops1, "?at_risk=1&limit=2&offset=2") == (["Charlie", "Delta"], 6)


async def test_bad_ranking_filters_are_refused(stack: Stack) -> None:
    ranked_sellers(stack.engine)
    ops1 = await staff_token(stack.http, "ops1")
    for query in ("standing=excellent", "status=gone", "at_risk=maybe", "ssm=", "ssm=" + "x" * 65):
        assert is_error(await stack.http.get(f"/v1/sellers?{query}", headers=ops1), 422), query
