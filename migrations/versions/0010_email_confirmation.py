"""email confirmation: when an application's contact e-mail address was confirmed"""

import sqlalchemy as sa
from alembic import op

import sellerflow.models

revision: str = '0010'
down_revision: str | None = '0009'


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'email_confirmed_at', sellerflow.models.UTCDateTime(timezone=True), nullable=True
            )
        )
    # Applications opened before confirmation existed got no link: they count as confirmed, so
    # their applicants can go on uploading.
    op.execute("UPDATE application SET email_confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
