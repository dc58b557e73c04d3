"""read indexes: the ops figures read stage changes from indexes alone"""

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'

# (name, table, columns), as sellerflow/models.py declares them (bench/README.md, "Ops figures").
INDEXES = [
    # Each application's changes in the order the time in stage walks them (an index-only scan).
    ('ix_stage_change_journey', 'stage_change', ['application_id', 'entered_at', 'stage']),
    # The applications that reached each stage (the funnel), counted without a sort.
    ('ix_stage_change_reached', 'stage_change', ['stage', 'application_id']),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
