"""policy versions in the database and what-if simulations of them (policy changes)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models


revision: str = "0025"
down_revision: str | None = "0024"


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("effective_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("approved_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_version_status"), ["status"], unique=False)
    op.create_table(
        "policy_simulation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("baseline", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("as_of", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["baseline"], ["policy_version.version"]),
        sa.ForeignKeyConstraint(["version"], ["policy_version.version"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("policy_simulation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_simulation_version"), ["version"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("policy_simulation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_simulation_version"))
    op.drop_table("policy_simulation")
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_version_status"))
    op.drop_table("policy_version")
