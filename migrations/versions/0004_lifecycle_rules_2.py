"""the standing the seller workflow applied, outbox delivery attempts, one running evaluation"""

import sqlalchemy as sa
from alembic import op

import sellerflow.models


revision: str = '0004'
down_revision: str | None = '0003'


def upgrade() -> None:
    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('applied_standing', sa.String(length=16), nullable=False, server_default='good')
        )
    # What the sellers' workflows acted on so far is the standing the evaluations signalled.
    op.execute("UPDATE seller SET applied_standing = standing")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column('gave_up_at', sellerflow.models.UTCDateTime(timezone=True), nullable=True)
        )
    # Runs left 'running' by an evaluation that died would block the unique index.
    op.execute("UPDATE evaluation_run SET status = 'abandoned' WHERE status = 'running'")
    op.create_index(
        'ux_evaluation_run_running',
        'evaluation_run',
        ['status'],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_index('ux_evaluation_run_running', table_name='evaluation_run')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('gave_up_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
    with op.batch_alter_table('seller', schema=None) as batch_op:
        batch_op.drop_column('applied_standing')
