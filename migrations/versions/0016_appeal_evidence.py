"""appeal evidence: files a seller uploads to S3 for an appeal, taken by the appeal by id"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models


revision: str = "0016"
down_revision: str | None = "0015"


def upgrade() -> None:
    op.create_table(
        "appeal_evidence",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("declared_size", sa.Integer(), nullable=False),
        sa.Column("object_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("stored_size", sa.Integer(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"],
            ["appeal.id"],
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"],
            ["seller.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appeal_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appeal_evidence_seller_id"), ["seller_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appeal_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_evidence_seller_id"))

    op.drop_table("appeal_evidence")
