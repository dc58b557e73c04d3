"""seller notices: the statement of reasons of every restriction, stored with it; an appeal
names the notice it is against

Restrictions made before this migration keep their reason record (`seller_action`) and their
e-mail; they get no notice row, since the facts a notice names (appeal-by date, scope) were
not recorded with them.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models

revision: str = "0013"
down_revision: str | None = "0012"


def upgrade() -> None:
    op.create_table(
        "seller_notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("issued_at", sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["seller_id"], ["seller.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("seller_notice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seller_notice_seller_issued", ["seller_id", "issued_at"], unique=False
        )
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            "fk_appeal_notice_id_seller_notice", "seller_notice", ["notice_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_constraint("fk_appeal_notice_id_seller_notice", type_="foreignkey")
        batch_op.drop_column("notice_id")
    with op.batch_alter_table("seller_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_seller_notice_seller_issued")
    op.drop_table("seller_notice")
