"""ops read models: the ops figures read from tables the writes keep, not from every record

`stage_duration` (one row per stage change left, with its duration), `stage_duration_bucket`
(durations per stage and bucket), `stage_reach` (applications per stage entered),
`application_stage_count` and `seller_status_count`: filled from the records already written,
set-based (the durations by one INSERT ... SELECT with LEAD), and from then on kept by triggers
in the writing transaction (sellerflow.ops_read_models); and two indexes on `task` for the
figures read from it.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models
from sellerflow import ops_read_models

revision: str = "0017"
down_revision: str | None = "0016"

# (table, key column, its length, count column) of the counters of one key.
COUNTERS = [
    ("application_stage_count", "stage", 32, "applications"),
    ("seller_status_count", "status", 16, "sellers"),
]
# The ops figures' other reads from an index alone (at 300,000 tasks: 64 ms to 2 ms for the
# throughput, 9 ms to 3 ms for the open tasks).
INDEXES = [
    ("ix_task_open_per_role", "task", ["status", "role", "due_at"]),
    ("ix_task_completed", "task", ["completed_at", "completed_by"]),
]


def text_column(name: str, length: int = 32) -> sa.Column[str]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "stage_duration",
        sa.Column("stage_change_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        text_column("stage"),
        sa.Column("entered_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("microseconds", sa.BigInteger(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stage_change_id"),
    )
    op.create_index("ix_stage_duration_application_id", "stage_duration", ["application_id"])
    op.create_index("ix_stage_duration_rank", "stage_duration", ["stage", "bucket", "microseconds"])
    op.create_index(
        "ix_stage_duration_first", "stage_duration", ["stage", "application_id", "entered_at"]
    )
    op.create_table(
        "stage_duration_bucket",
        text_column("stage"),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("durations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stage", "bucket"),
    )
    op.create_table(
        "stage_reach",
        text_column("stage"),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stage"),
    )
    for name, key, length, counted in COUNTERS:
        op.create_table(
            name,
            text_column(key, length),
            sa.Column(counted, sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(key),
        )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    ops_read_models.rebuild(op.get_bind())


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    ops_read_models.drop_triggers(op.get_bind())
    for name, *_ in reversed(COUNTERS):
        op.drop_table(name)
    op.drop_table("stage_reach")
    op.drop_table("stage_duration_bucket")
    op.drop_index("ix_stage_duration_first", table_name="stage_duration")
    op.drop_index("ix_stage_duration_rank", table_name="stage_duration")
    op.drop_index("ix_stage_duration_application_id", table_name="stage_duration")
    op.drop_table("stage_duration")
