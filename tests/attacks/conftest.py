"""The whole app served over real HTTP (uvicorn in a thread) with an in-process worker, for the
attacks that need a live server: schemathesis reads `/openapi.json` from it and calls it from a
thread of its own, while the worker keeps running on the test's event loop."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import make_settings
from tests.serve import Site, serving


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def live(
    tmp_path_factory: pytest.TempPathFactory, temporal_address: str, s3_endpoint: str
) -> AsyncIterator[Site]:
    """Database, worker and the whole app on 127.0.0.1, on the session's Temporal and S3; shared
    by this folder's tests, each of which makes applications of its own."""
    settings = make_settings(tmp_path_factory.mktemp("live"), temporal_address, s3_endpoint)
    async with serving(settings) as site:
        yield site
