"""The reference for bench.read_latency: a bare FastAPI app with the route of
`GET /v1/applications/{id}` that answers a constant, the JSON body the real endpoint gave.

    BENCH_BODY_FILE=body.json uvicorn bench.bare_api:app
"""

import json
import os
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI

BODY: dict[str, Any] = json.loads(Path(os.environ["BENCH_BODY_FILE"]).read_text())

app = FastAPI()


@app.get("/v1/applications/{application_id}")
def get_application(application_id: uuid.UUID) -> dict[str, Any]:
    return BODY
