"""token version: a staff user's tokens carry it and are refused once it has been bumped"""

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'


def upgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('token_version')
