"""seller erasure requests: ops ask to erase a departed seller's personal data and files; the
daily retention run carries it out"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models

revision: str = "0018"
down_revision: str | None = "0017"


def upgrade() -> None:
    with op.batch_alter_table("seller", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "erasure_requested_at", sellerflow.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "erasure_requested_by",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("seller", schema=None) as batch_op:
        batch_op.drop_column("erasure_requested_by")
        batch_op.drop_column("erasure_requested_at")
