"""seller accounts: the seller's own sign-in, one per seller, for the contact person's e-mail

Sellers set up before this migration get their account here, from their application's contact
e-mail (none when it was erased); they ask for an activation link on the seller sign-in page.
"""

import uuid

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models

revision: str = '0012'
down_revision: str | None = '0011'


def upgrade() -> None:
    op.create_table(
        'seller_account',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('seller_id', sa.Uuid(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('link_nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('activated_at', sellerflow.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('token_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sellerflow.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['seller_id'], ['seller.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seller_id'),
    )
    with op.batch_alter_table('seller_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seller_account_email'), ['email'], unique=False)
    _accounts_for_existing_sellers()


def _accounts_for_existing_sellers() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT seller.id, application.contact_email FROM seller"
            " JOIN application ON application.id = seller.application_id"
            " WHERE application.contact_email IS NOT NULL AND application.contact_email <> ''"
        )
    ).all()
    accounts = sa.table(
        'seller_account',
        sa.column('id', sa.Uuid()),
        sa.column('seller_id', sa.Uuid()),
        sa.column('email', sa.String()),
        sa.column('disabled', sa.Boolean()),
        sa.column('token_version', sa.Integer()),
        sa.column('created_at', sellerflow.models.UTCDateTime(timezone=True)),
    )
    now = sellerflow.models.utcnow()
    values = [
        {
            'id': uuid.uuid4(),
            'seller_id': seller_id,
            'email': email.strip().casefold(),
            'disabled': False,
            'token_version': 0,
            'created_at': now,
        }
        for seller_id, email in rows
    ]
    if values:
        op.bulk_insert(accounts, values)


def downgrade() -> None:
    with op.batch_alter_table('seller_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seller_account_email'))
    op.drop_table('seller_account')
