# One image for every sellerflow process: the API (default command), the worker
# (`python worker.py`) and the schema migration (`alembic upgrade head`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, so code changes reuse this layer. The project itself is
# installed below, so a line for it in the lock (e.g. `-e ...`) is dropped.
COPY requirements.lock ./
RUN grep -viE '^(-e |sellerflow[ =@])' requirements.lock > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY pyproject.toml ./
COPY sellerflow/ sellerflow/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# PROJECT_ROOT is the parent of the sellerflow package, and templates/ and
# migrations/ live there: PYTHONPATH=/app makes the /app copy win over site-packages.
COPY worker.py alembic.ini ./
COPY templates/ templates/
COPY migrations/ migrations/
# Bytecode built here, since the worker's user cannot write it: a faster start.
RUN python -m compileall -q workflows activities sellerflow api

RUN useradd --system --uid 10001 --home-dir /app --no-create-home sellerflow
USER 10001

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
