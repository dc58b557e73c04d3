"""The EU consolidated financial sanctions list's XML (`xmlFullSanctionsList_1_1`): each
`sanctionEntity` with its `subjectType` and the `wholeName` of each `nameAlias`."""

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

NS = "{http://eu.europa.ec/fpi/fsd/export}"


@dataclass(frozen=True)
class ListedEntity:
    logical_id: str
    reference: str | None  # euReferenceNumber
    subject_type: str  # "person", "enterprise"
    names: tuple[str, ...]  # the first is the entity's name as the reviewer reads it


class NotASanctionsList(ValueError):
    pass


def generation_date(source: IO[bytes]) -> str | None:
    """The `generationDate` of the file's root (`export`)."""
    for _, element in ET.iterparse(source, events=("start",)):
        if element.tag != f"{NS}export":
            raise NotASanctionsList(f"root element {element.tag}, not the EU list's export")
        generated: str | None = element.get("generationDate")
        return generated
    return None


def entities(source: IO[bytes]) -> Iterator[ListedEntity]:
    """The file's entities in order, read as a stream (the real list is some 20 MB)."""
    for _, element in ET.iterparse(source, events=("end",)):
        if element.tag != f"{NS}sanctionEntity":
            continue
        subject = element.find(f"{NS}subjectType")
        names = [alias.get("wholeName", "").strip() for alias in element.iter(f"{NS}nameAlias")]
        unique = tuple(dict.fromkeys(name for name in names if name))
        if unique:
            yield ListedEntity(
                logical_id=element.get("logicalId", ""),
                reference=element.get("euReferenceNumber") or None,
                subject_type=subject.get("code", "") if subject is not None else "",
                names=unique,
            )
        element.clear()
