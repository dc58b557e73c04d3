"""The Core table handles of the business records, for plain statements that skip the ORM's rows
(hot reads and writes in the API and the activities)."""

import sqlalchemy as sa

from sellerflow.models import Application, Document, Seller, Signature, Task

APPLICATIONS: sa.Table = Application.__table__  # type: ignore[attr-defined]
DOCUMENTS: sa.Table = Document.__table__  # type: ignore[attr-defined]
SELLERS: sa.Table = Seller.__table__  # type: ignore[attr-defined]
SIGNATURES: sa.Table = Signature.__table__  # type: ignore[attr-defined]
TASKS: sa.Table = Task.__table__  # type: ignore[attr-defined]
