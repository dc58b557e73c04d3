"""sanctions lists: the loads of a list file, their entries and the entries' names (issue 21)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models


revision: str = "0028"
down_revision: str | None = "0027"


def upgrade() -> None:
    op.create_table(
        "sanctions_list_load",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("generated", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sanctions_list_load", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sanctions_list_load_loaded_at"), ["loaded_at"], unique=False
        )
    op.create_table(
        "sanctions_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("load_id", sa.Uuid(), nullable=False),
        sa.Column("logical_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("subject_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["load_id"], ["sanctions_list_load.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sanctions_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sanctions_entry_load_id"), ["load_id"], unique=False)
    op.create_table(
        "sanctions_alias",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("whole_name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("normalised", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["sanctions_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sanctions_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sanctions_alias_entry_id"), ["entry_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sanctions_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanctions_alias_entry_id"))
    op.drop_table("sanctions_alias")
    with op.batch_alter_table("sanctions_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanctions_entry_load_id"))
    op.drop_table("sanctions_entry")
    with op.batch_alter_table("sanctions_list_load", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sanctions_list_load_loaded_at"))
    op.drop_table("sanctions_list_load")
