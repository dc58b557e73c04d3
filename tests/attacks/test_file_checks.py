"""Property-based fuzzing of what guards uploads: the filename sanitizer, the Content-Disposition
of downloads, the declared content type and the magic-byte check. Arbitrary text and bytes
never crash them, and what they let through is always safe."""

import string
import unicodedata
from urllib.parse import unquote

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sellerflow.policy.model import load_policy
from sellerflow.services.documents import safe_filename
from sellerflow.storage import MAGIC, StoredObject, attachment, magic_matches, upload_error

CONTENT_TYPES = list(MAGIC)
POLICY_TYPES = load_policy("default").documents.content_types
# What an HTML or SVG file starts with, with the byte-order marks and blanks browsers skip.
MARKUP = [
    b"<!DOCTYPE html>",
    b"<html>",
    b"<svg xmlns='http://www.w3.org/2000/svg'>",
    b'<?xml version="1.0"?><svg>',
    b"\xef\xbb\xbf<svg>",
    b"\xff\xfe<\x00s\x00v\x00g\x00",
    b" \n\t<script>",
    b"<!-- -->",
]
# Anything a client may send: every code point, lone surrogates included (JSON allows them).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400)


@settings(max_examples=500)
@given(ANY_TEXT)
@example('..\\../../etc/pass\x00wd\r\n"x".pdf')
@example("a" * 254 + " .pdf")
@example("report\u2028.pdf")
@example("e\x00\u0301.pdf")
@example(" .. ")
@example("\ud800evil\udfff.pdf")
def test_a_sanitized_filename_is_one_plain_name(name: str) -> None:
    safe = safe_filename(name)
    assert 1 <= len(safe) <= 255
    assert not set(safe) & set('/\\"<>;')
    assert all(unicodedata.category(ch)[0] != "C" for ch in safe), "control or invisible"
    assert safe.splitlines() == [safe], "a line break"
    assert safe[0] not in " .", "hidden or relative"
    assert safe[-1] not in " .", "trimmed by some systems"
    assert safe_filename(safe) == safe


@settings(max_examples=500)
@given(ANY_TEXT.map(safe_filename) | st.text(max_size=300))
@example('evil"; filename="x.html\r\nContent-Type: text/html')
def test_a_content_disposition_always_downloads_under_one_name(name: str) -> None:
    header = attachment(name)
    assert header.startswith('attachment; filename="')
    assert header.isascii(), "a header must be ASCII"
    assert header.isprintable(), "a line break in a header starts another one"
    fallback, _, encoded = header.removeprefix('attachment; filename="').partition('"; ')
    assert not set(fallback) & set('"\\')
    assert len(fallback) == len(name)
    assert encoded.startswith("filename*=UTF-8''")
    assert not set(encoded.removeprefix("filename*=UTF-8''")) & set(" ;,\"'")
    if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        assert unquote(encoded.removeprefix("filename*=UTF-8''"), errors="strict") == name


@given(st.sampled_from(CONTENT_TYPES), st.binary(max_size=64))
def test_the_magic_check_accepts_exactly_the_declared_signature(
    content_type: str, head: bytes
) -> None:
    expected = any(head.startswith(magic) for magic in MAGIC[content_type])
    assert magic_matches(content_type, head) is expected


@given(st.sampled_from(CONTENT_TYPES), st.sampled_from(CONTENT_TYPES), st.binary(max_size=64))
def test_the_magic_check_never_accepts_another_type(
    declared: str, actual: str, rest: bytes
) -> None:
    head = (MAGIC[actual][0] + rest)[:16]
    assert magic_matches(declared, head) is (declared == actual)


@given(st.sampled_from(CONTENT_TYPES), st.sampled_from(MARKUP), st.binary(max_size=32))
def test_html_or_svg_is_never_a_document(content_type: str, markup: bytes, rest: bytes) -> None:
    assert not magic_matches(content_type, (markup + rest)[:16])


def test_every_type_the_policy_allows_has_a_signature() -> None:
    assert set(POLICY_TYPES) == set(MAGIC)


@given(ANY_TEXT, st.binary(max_size=64))
@example("text/html", b"<html>")
@example("image/svg+xml", b"<svg>")
@example("application/pdf; charset=x", b"%PDF-1.7")
@example("APPLICATION/PDF", b"%PDF-1.7")
@example(" application/pdf", b"%PDF-1.7")
def test_only_the_policy_types_have_a_signature(content_type: str, head: bytes) -> None:
    """A type outside the policy never passes the magic check, whatever the bytes."""
    if content_type not in POLICY_TYPES:
        assert not magic_matches(content_type, head)


@given(
    st.sampled_from(CONTENT_TYPES) | ANY_TEXT,
    st.integers(min_value=0, max_value=1 << 40),
    st.binary(max_size=32),
    st.integers(min_value=1, max_value=1 << 30),
)
def test_an_upload_error_names_the_first_problem(
    content_type: str, size: int, head: bytes, max_bytes: int
) -> None:
    stored = StoredObject(size=size, sha256="0" * 64, head=head)
    error = upload_error(content_type, stored, max_bytes)
    if size > max_bytes:
        expected: str | None = "document_too_large"
    elif not magic_matches(content_type, head):
        expected = "document_corrupt"
    else:
        expected = None
    assert (error[0] if error else None) == expected
    assert error is None or set(error[1]) <= set(string.printable) | set(content_type)
