"""application: the company's address, its legal representative and a phone number, compared
with the registers, the sanctions list and other applications (issue 21)"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0027"
down_revision: str | None = "0026"

COLUMNS = (("company_address", 300), ("legal_representative", 200), ("phone", 32))


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)
            )


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
