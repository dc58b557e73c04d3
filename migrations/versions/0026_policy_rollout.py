"""policy rollouts: the rollout record, the version each seller runs under, and the version
each scorecard, notice and status change was decided under (policy changes)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models


revision: str = "0026"
down_revision: str | None = "0025"

VERSION = sqlmodel.sql.sqltypes.AutoString(length=64)


def upgrade() -> None:
    op.create_table(
        "policy_rollout",
        sa.Column("version", VERSION, nullable=False),
        sa.Column("replaces", VERSION, nullable=False),
        sa.Column("effective_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", VERSION, nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("sellers_notified", sa.Integer(), nullable=False),
        sa.Column("after_seller_id", sa.Uuid(), nullable=True),
        sa.Column("sellers_switched", sa.Integer(), nullable=False),
        sa.Column("created_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["replaces"], ["policy_version.version"]),
        sa.ForeignKeyConstraint(["version"], ["policy_version.version"]),
        sa.PrimaryKeyConstraint("version"),
    )
    # Plain ALTERs, not a batch: SQLite's copy of the table would lose the ranking's
    # expression indexes (migration 0023), which it cannot reflect.
    op.add_column("seller", sa.Column("policy_version", VERSION, nullable=True))
    op.create_index(op.f("ix_seller_policy_version"), "seller", ["policy_version"], unique=False)
    # A seller workflow runs under the version its application was created under until a
    # rollout switches it.
    op.execute(
        "UPDATE seller SET policy_version = (SELECT application.policy_version FROM application"
        " WHERE application.id = seller.application_id)"
    )
    for table in ("scorecard", "seller_notice", "seller_action"):
        op.add_column(table, sa.Column("policy_version", VERSION, nullable=True))


def downgrade() -> None:
    for table in ("seller_action", "seller_notice", "scorecard", "seller"):
        if table == "seller":
            op.drop_index(op.f("ix_seller_policy_version"), table_name="seller")
        op.drop_column(table, "policy_version")
    op.drop_table("policy_rollout")
