"""A response model from a record: the fields they share by name are copied, the rest computed."""

from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def copied(model: type[M], source: object, **computed: object) -> M:
    """`model` with each field not in `computed` read from the attribute of `source` of the same
    name (a row, an ORM object or a record)."""
    shared = model.model_fields.keys() - computed.keys()
    return model(**{name: getattr(source, name) for name in shared}, **computed)
