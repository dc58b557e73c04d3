"""personal data erasure: when an ended application's personal data and files were erased"""

import sqlalchemy as sa
from alembic import op

import sellerflow.models

revision: str = '0011'
down_revision: str | None = '0010'


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'personal_data_erased_at',
                sellerflow.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('personal_data_erased_at')
