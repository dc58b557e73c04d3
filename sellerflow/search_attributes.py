"""The search attributes the workflows write and the API, the sweeper and the tools filter on.

Each is registered on the Temporal namespace as a Keyword (`sellerflow.devstack`, the
`temporal-setup` service of docker-compose.yml); a workflow that writes one not registered fails
its workflow task.
"""

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("SellerflowStage")
CATEGORY = SearchAttributeKey.for_keyword("SellerflowCategory")
COUNTRY = SearchAttributeKey.for_keyword("SellerflowCountry")
SELLER_STATUS = SearchAttributeKey.for_keyword("SellerflowSellerStatus")

KEYWORDS: tuple[SearchAttributeKey[str], ...] = (STAGE, CATEGORY, COUNTRY, SELLER_STATUS)
