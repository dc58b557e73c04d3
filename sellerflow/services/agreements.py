"""Agreements: the applicant signs the current version's text, and the evidence is archived."""

import asyncio
import json
import uuid

from sqlmodel import Session

from sellerflow.errors import Conflict, InvalidRequest
from sellerflow.models import Application, Signature
from sellerflow.policy.onboarding import APPLICANT_STAGES
from sellerflow.storage import ObjectStore
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import AgreementKind, Stage


async def sign(
    session: Session,
    store: ObjectStore,
    app: Application,
    *,
    kind: AgreementKind,
    version: str,
    sha256: str,
    signer_name: str,
    signer_title: str,
    ip: str | None,
    user_agent: str,
) -> Signature:
    """A signature of the version shown, whose text and evidence are kept in S3."""
    if Stage(app.stage) not in APPLICANT_STAGES:
        raise Conflict(f"agreements cannot be signed in stage {app.stage}")
    agreement = current_agreement(kind.value)
    if version != agreement.version:
        raise Conflict(f"version {version} is outdated; sign version {agreement.version}")
    if sha256 != agreement.sha256:
        raise InvalidRequest("the sha256 does not match the text of this version")
    signature_id = uuid.uuid4()
    signature = Signature(
        id=signature_id,
        application_id=app.id,
        kind=agreement.kind,
        version=agreement.version,
        sha256=agreement.sha256,
        signer_name=signer_name,
        signer_title=signer_title,
        ip=ip,
        user_agent=user_agent[:500],
        archive_key=f"applications/{app.id}/agreements/{signature_id}.json",
    )
    evidence = {
        "text": agreement.text,
        **signature.model_dump(mode="json", exclude={"archive_key"}),
    }
    await asyncio.to_thread(
        store.put,
        signature.archive_key,
        json.dumps(evidence, indent=2).encode(),
        "application/json",
    )
    session.add(signature)
    session.commit()
    return signature
