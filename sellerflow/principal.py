"""Who is acting: a staff member with roles, an applicant scoped to one application, a seller
(its own account, scoped to that seller), or an integration (a service account with an API
key, for order ingestion only)."""

import uuid
from dataclasses import dataclass

from sellerflow.vocabulary import Role


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = frozenset()
    application_id: uuid.UUID | None = None
    email: str | None = None
    integration: str | None = None
    seller_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None

    @property
    def is_staff(self) -> bool:
        return self.application_id is None and self.integration is None and self.seller_id is None

    def has(self, *roles: Role) -> bool:
        return any(r.value in self.roles for r in roles)
