"""Temporal workflows: deterministic orchestration; every rule lives in sellerflow.policy.

Imports nothing: the sandbox runs this package's `__init__` again for every workflow run, and a
workflow needs only its own module (`worker.ALL_WORKFLOWS` lists them all).
"""
