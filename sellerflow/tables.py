"""The Core table handles of the business records, for plain statements that skip the ORM's rows
(hot reads and writes in the API and the activities)."""

import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import (
    Application,
    ApplicationCheck,
    Document,
    IntegrationKey,
    OffboardingRequest,
    SanctionsAlias,
    SanctionsEntry,
    Seller,
    SellerAccount,
    SellerAction,
    SellerDay,
    SellerNotice,
    Signature,
    Task,
)

APPLICATIONS: sa.Table = table_of(Application)
APPLICATION_CHECKS: sa.Table = table_of(ApplicationCheck)
DOCUMENTS: sa.Table = table_of(Document)
INTEGRATION_KEYS: sa.Table = table_of(IntegrationKey)
OFFBOARDING_REQUESTS: sa.Table = table_of(OffboardingRequest)
SANCTIONS_ALIASES: sa.Table = table_of(SanctionsAlias)
SANCTIONS_ENTRIES: sa.Table = table_of(SanctionsEntry)
SELLERS: sa.Table = table_of(Seller)
SELLER_ACCOUNTS: sa.Table = table_of(SellerAccount)
SELLER_DAYS: sa.Table = table_of(SellerDay)
SELLER_ACTIONS: sa.Table = table_of(SellerAction)
SELLER_NOTICES: sa.Table = table_of(SellerNotice)
SIGNATURES: sa.Table = table_of(Signature)
TASKS: sa.Table = table_of(Task)
