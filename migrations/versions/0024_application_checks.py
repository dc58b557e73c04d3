"""application checks: the automated trust and safety checks' results, the application's IBAN"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models


revision: str = "0024"
down_revision: str | None = "0023"


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("iban", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True)
        )
    op.create_table(
        "application_check",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("checked_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "code"),
    )
    with op.batch_alter_table("application_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_check_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_check_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("application_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_check_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_application_check_application_id"))
    op.drop_table("application_check")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("iban")
