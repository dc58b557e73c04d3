"""audit hash chain: prev_hash and hash on every audit row, and the one-row chain head"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sellerflow.models
from sellerflow.audit import GENESIS_HASH, row_hash
from sellerflow.models import AuditLog

revision: str = '0002'
down_revision: str | None = '0001'

# The columns as they are at this revision (not the live model), to read and backfill rows.
audit_log = sa.table(
    'audit_log',
    sa.column('id', sa.Integer()),
    sa.column('idempotency_key', sa.String()),
    sa.column('at', sellerflow.models.UTCDateTime(timezone=True)),
    sa.column('actor', sa.String()),
    sa.column('action', sa.String()),
    sa.column('subject_type', sa.String()),
    sa.column('subject_id', sa.String()),
    sa.column('before', sa.String()),
    sa.column('after', sa.String()),
    sa.column('reason', sa.String()),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)
chain_head = sa.table(
    'audit_chain_head',
    sa.column('id', sa.Integer()),
    sa.column('last_id', sa.Integer()),
    sa.column('last_hash', sa.String()),
)


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    # Chain the rows written before this revision, oldest first, so `verify` covers them too.
    conn = op.get_bind()
    prev_hash, last_id = GENESIS_HASH, None
    for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all():
        content = AuditLog(**{k: v for k, v in row.items() if k not in ('prev_hash', 'hash')})
        digest = row_hash(content, prev_hash)
        conn.execute(
            audit_log.update()
            .where(audit_log.c.id == row['id'])
            .values(prev_hash=prev_hash, hash=digest)
        )
        prev_hash, last_id = digest, row['id']
    conn.execute(chain_head.insert().values(id=1, last_id=last_id, last_hash=prev_hash))

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_audit_log_prev_hash', ['prev_hash'])


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_log_prev_hash', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    op.drop_table('audit_chain_head')
