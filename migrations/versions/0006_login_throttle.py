"""login throttle: failed sign-ins per username and per client address, keyed by an HMAC"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models

revision: str = '0006'
down_revision: str | None = '0005'


def upgrade() -> None:
    op.create_table(
        'login_throttle',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column(
            'window_started_at', sellerflow.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
