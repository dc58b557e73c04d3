"""offboarding requests: an offboarding without fraud is carried out once a second ops member
confirms it"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models

revision: str = "0015"
down_revision: str | None = "0014"


def upgrade() -> None:
    op.create_table(
        "offboarding_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("requested_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["seller_id"], ["seller.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("offboarding_request", schema=None) as batch_op:
        batch_op.create_index(
            "ux_offboarding_request_open",
            ["seller_id"],
            unique=True,
            sqlite_where=sa.text("outcome IS NULL"),
            postgresql_where=sa.text("outcome IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("offboarding_request", schema=None) as batch_op:
        batch_op.drop_index("ux_offboarding_request_open")
    op.drop_table("offboarding_request")
