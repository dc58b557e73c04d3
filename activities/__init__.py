"""Temporal activities: the only code that does I/O on behalf of workflows. Each is idempotent."""
