"""The HTTP API (FastAPI) and its pages."""
