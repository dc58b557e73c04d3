"""foreign keys: the rows of an application and of a seller name rows that exist"""

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'

# (table, column, the table it names): every reference but the two between an application and
# its seller, which the benchmarks' datasets seed apart (sellers without their applications).
REFERENCES = [
    ('stage_change', 'application_id', 'application'),
    ('document', 'application_id', 'application'),
    ('signature', 'application_id', 'application'),
    ('task', 'application_id', 'application'),
    ('task', 'seller_id', 'seller'),
    ('notification', 'application_id', 'application'),
    ('notification', 'seller_id', 'seller'),
    ('seller_action', 'seller_id', 'seller'),
    ('order_event', 'seller_id', 'seller'),
    ('scorecard', 'seller_id', 'seller'),
    ('appeal', 'seller_id', 'seller'),
]


def name(table: str, column: str) -> str:
    return f'fk_{table}_{column}'


def upgrade() -> None:
    for table, column, referent in REFERENCES:
        # Batch mode: SQLite cannot add a constraint to a table, it copies the table instead.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name(table, column), referent, [column], ['id'])


def downgrade() -> None:
    for table, column, _ in reversed(REFERENCES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name(table, column), type_='foreignkey')
