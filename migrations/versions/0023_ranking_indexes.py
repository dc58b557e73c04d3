"""ranking indexes: the seller ranking read in its order from an index, unfiltered or within one
status, category, SSM or standing; the sellers under an offboarding notice from an index alone
(bench/README.md, "The seller ranking")"""

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"

# (name, leading column or None), as sellerflow/models.py declares them (RANKING_INDEXES): each
# goes on with the negated score and the id, the ranking's order (`sellerflow.models.seller_rank`),
# and ends with the score, so that a page's ids are read from the index alone.
INDEXES = [
    ("ix_seller_rank", None),
    ("ix_seller_status_rank", "status"),
    ("ix_seller_category_rank", "seller_category"),
    ("ix_seller_ssm_rank", "ssm_username"),
    ("ix_seller_standing_rank", "standing"),
]
# The counts per status within one category, SSM or standing (COUNT_INDEXES).
COUNTS = [
    ("ix_seller_category_status", ["seller_category", "status"]),
    ("ix_seller_ssm_status", ["ssm_username", "status"]),
    ("ix_seller_standing_status", ["standing", "status"]),
]
NOTICES = (
    "ix_notification_template_seller",
    "notification",
    ["template", "seller_id", "created_at"],
)


def upgrade() -> None:
    for name, leading in INDEXES:
        columns = [sa.column(leading)] if leading else []
        ranked = [-sa.column("score"), sa.column("id"), sa.column("score")]
        op.create_index(name, "seller", [*columns, *ranked])
    for name, columns in COUNTS:
        op.create_index(name, "seller", columns)
    op.create_index(*NOTICES)


def downgrade() -> None:
    op.drop_index(NOTICES[0], table_name=NOTICES[1])
    for name, _ in reversed(COUNTS):
        op.drop_index(name, table_name="seller")
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name="seller")
