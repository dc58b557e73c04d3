"""Jinja2 environments for agreements, notifications and pages (strict undefined)."""

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, meta, select_autoescape

from sellerflow.config import PROJECT_ROOT
from sellerflow.errors import NotFound

TEMPLATES = PROJECT_ROOT / "templates"


@lru_cache
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class Agreement:
    kind: str
    version: str
    text: str
    sha256: str


_AGREEMENT_FILE = re.compile(r"^(?P<kind>[a-z_]+)\.v(?P<version>\d+)\.txt\.j2$")


@lru_cache
def current_agreement(kind: str) -> Agreement:
    """The newest version of an agreement, rendered, with the SHA-256 a signature must carry."""
    versions = [
        int(m.group("version"))
        for path in (TEMPLATES / "agreements").iterdir()
        if (m := _AGREEMENT_FILE.match(path.name)) and m.group("kind") == kind
    ]
    if not versions:
        raise NotFound(f"no agreement {kind!r}")
    version = str(max(versions))
    text = (
        environment().get_template(f"agreements/{kind}.v{version}.txt.j2").render(version=version)
    )
    return Agreement(kind, version, text, hashlib.sha256(text.encode()).hexdigest())


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


@lru_cache
def notification_variables(template: str) -> frozenset[str]:
    """The names a notification's text and HTML templates read from their context."""
    env = environment()
    loader = env.loader
    assert loader is not None
    names: set[str] = set()
    for suffix in ("txt", "html"):
        source, _, _ = loader.get_source(env, f"notifications/{template}.{suffix}.j2")
        names |= meta.find_undeclared_variables(env.parse(source))
    return frozenset(names)


def render_notification(template: str, context: dict[str, object]) -> RenderedMessage:
    env = environment()
    text = env.get_template(f"notifications/{template}.txt.j2").render(**context)
    html = env.get_template(f"notifications/{template}.html.j2").render(**context)
    subject, _, body = text.partition("\n")
    return RenderedMessage(subject.removeprefix("Subject: ").strip(), body.lstrip("\n"), html)
