"""seller days: the daily KPI history the evaluation writes, one row per seller per day

Sellers evaluated before this migration have no history: their trend starts with the next
evaluation.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"


def upgrade() -> None:
    op.create_table(
        "seller_day",
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("standing", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["seller_id"], ["seller.id"]),
        sa.PrimaryKeyConstraint("seller_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("seller_day")
