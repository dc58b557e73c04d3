"""integration keys: service accounts' API keys, stored as their SHA-256"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models

revision: str = '0009'
down_revision: str | None = '0008'


def upgrade() -> None:
    op.create_table(
        'integration_key',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('key_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_sha256'),
        sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('integration_key')
