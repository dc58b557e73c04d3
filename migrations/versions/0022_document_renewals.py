"""document renewals: where the renewal of each document on file stands (lifecycle rules 5)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models


revision: str = "0022"
down_revision: str | None = "0018"


def upgrade() -> None:
    op.create_table(
        "document_renewal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("valid_until", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["seller_id"], ["seller.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seller_id", "kind", "round"),
    )
    with op.batch_alter_table("document_renewal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_renewal_seller_id"), ["seller_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("document_renewal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_renewal_seller_id"))
    op.drop_table("document_renewal")
