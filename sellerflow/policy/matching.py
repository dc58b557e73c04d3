"""Names and addresses compared as a reviewer would: transliterated (Unidecode), case-folded,
without punctuation and legal-form words, then scored 0-100 by rapidfuzz."""

import re

from rapidfuzz import fuzz
from unidecode import unidecode

# Legal forms and their pieces, after transliteration and case folding: "GmbH", "S.A.S.",
# "Sp. z o.o." say what kind of company it is, not which one.
LEGAL_FORMS = frozenset(
    [
        "ab",
        "ag",
        "aps",
        "as",
        "bv",
        "co",
        "corp",
        "corporation",
        "company",
        "e",
        "eg",
        "ev",
        "eurl",
        "gbr",
        "gmbh",
        "haftungsbeschrankt",
        "inc",
        "k",
        "kft",
        "kg",
        "kgaa",
        "limited",
        "llc",
        "llp",
        "ltd",
        "mbh",
        "nv",
        "o",
        "oy",
        "oyj",
        "ohg",
        "plc",
        "sa",
        "sarl",
        "sas",
        "sasu",
        "se",
        "sl",
        "sp",
        "spa",
        "sro",
        "srl",
        "ug",
        "z",
        "oo",
        "zoo",
        "ooo",
        "zao",
        "oao",
        "pao",
        "ao",
    ]
)
# Street words written out, so "Hauptstr. 5" and "Hauptstraße 5" are the same address.
STREET_WORDS = {"str": "strasse", "st": "street", "rd": "road", "av": "avenue", "ave": "avenue"}
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def words(text: str) -> list[str]:
    """The text transliterated to ASCII, case-folded, split on anything not a letter or digit."""
    # Dots dropped first: "G.m.b.H." is "gmbh", "Str." is "str".
    return [w for w in _NOT_WORD.split(unidecode(text).casefold().replace(".", "")) if w]


def normalised_name(name: str) -> str:
    kept = [w for w in words(name) if w not in LEGAL_FORMS]
    return " ".join(kept or words(name))


def normalised_address(address: str) -> str:
    joined = " ".join(STREET_WORDS.get(w, w) for w in words(address))
    # "Hauptstr", "Hauptstrasse" and "Haupt strasse" alike.
    return re.sub(r"(\w)(?:strasse|str)\b", r"\1 strasse", joined)


def name_score(ours: str, theirs: str) -> float:
    """How alike two company or person names are, word order aside."""
    return round(fuzz.token_sort_ratio(normalised_name(ours), normalised_name(theirs)), 1)


def address_score(ours: str, theirs: str) -> float:
    """How alike two addresses are; words one of them leaves out (a district) cost little."""
    return round(fuzz.token_set_ratio(normalised_address(ours), normalised_address(theirs)), 1)
