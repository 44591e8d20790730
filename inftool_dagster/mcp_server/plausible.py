"""Plausible strings by parameter name, drawn with Faker: what a person would type for a
``city``, a ``company_name``, a ``search`` or a ``description``.

The simulator's values reach the User Simulator's requests and the assistant's calls, so a
small fixed vocabulary ("ember-16", "indigo-59") teaches a model to copy tokens it has seen
rather than to read values from a request; Faker's providers (people, places, companies,
addresses, products' words, sentences, codes) give thousands of realistic values instead.
Draws are deterministic for the caller's ``random.Random``: each draw seeds one shared Faker
from it. Names are matched on their words (``petName`` → ``pet name``), most specific rule first.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import lru_cache

from faker import Faker

from inftool_dagster.catalog.naming import name_words

LOCALE = "en_US"
ID_NAME = re.compile(r"(^id$|_id$|Id$|ID$|^uuid$|_key$)")
_ID_SUFFIX = re.compile(r"(?:[_-]id|Id|ID)$|^id$")  # the suffix itself (rstrip would strip characters)
PERSON_NAMES = ("first", "last", "full", "user", "customer", "owner", "author", "contact", "display", "person")


@lru_cache(maxsize=1)
def _faker() -> Faker:
    return Faker(LOCALE)


def _slug(fake: Faker) -> str:
    return f"{fake.word()}-{fake.word()}"


def _query(fake: Faker) -> str:
    return " ".join(fake.words(fake.random_int(1, 3)))


def _title(fake: Faker) -> str:
    return fake.sentence(nb_words=fake.random_int(2, 5)).rstrip(".")


def _version(fake: Faker) -> str:
    return fake.random_element([f"v{fake.random_int(1, 4)}", f"{fake.random_int(1, 5)}.{fake.random_int(0, 12)}"])


# (words that must all be in the name, the draw); the first rule that matches wins
RULES: list[tuple[tuple[str, ...], Callable[[Faker], str]]] = [
    (("email",), lambda f: f.safe_email()),
    (("first", "name"), lambda f: f.first_name()),
    (("last", "name"), lambda f: f.last_name()),
    (("user", "name"), lambda f: f.user_name()),
    (("username",), lambda f: f.user_name()),
    (("login",), lambda f: f.user_name()),
    (("company",), lambda f: f.company()),
    (("organization",), lambda f: f.company()),
    (("org",), lambda f: f.company()),
    (("vendor",), lambda f: f.company()),
    (("merchant",), lambda f: f.company()),
    (("brand",), lambda f: f.company()),
    (("city",), lambda f: f.city()),
    (("town",), lambda f: f.city()),
    (("country", "code"), lambda f: f.country_code()),
    (("country",), lambda f: f.country()),
    (("state", "code"), lambda f: f.state_abbr()),
    (("province",), lambda f: f.state()),
    (("region",), lambda f: f.random_element(["us-east-1", "eu-west-1", "ap-southeast-2", "westeurope", f.state()])),
    (("ip",), lambda f: f.ipv4_public()),
    (("street",), lambda f: f.street_address()),
    (("address",), lambda f: f.address().replace("\n", ", ")),
    (("location",), lambda f: f.city()),
    (("zip",), lambda f: f.postcode()),
    (("postal",), lambda f: f.postcode()),
    (("postcode",), lambda f: f.postcode()),
    (("phone",), lambda f: f.phone_number()),
    (("mobile",), lambda f: f.phone_number()),
    (("url",), lambda f: f.url() + f.uri_path()),
    (("link",), lambda f: f.url() + f.uri_path()),
    (("href",), lambda f: f.url() + f.uri_path()),
    (("website",), lambda f: f.url()),
    (("domain",), lambda f: f.domain_name()),
    (("host",), lambda f: f.hostname()),
    (("hostname",), lambda f: f.hostname()),
    (("file", "name"), lambda f: f.file_name()),
    (("filename",), lambda f: f.file_name()),
    (("path",), lambda f: f.file_path(depth=2)),
    (("currency",), lambda f: f.currency_code()),
    (("language",), lambda f: f.language_code()),
    (("lang",), lambda f: f.language_code()),
    (("locale",), lambda f: f.locale().replace("_", "-")),
    (("timezone",), lambda f: f.timezone()),
    (("tz",), lambda f: f.timezone()),
    (("color",), lambda f: f.color_name()),
    (("colour",), lambda f: f.color_name()),
    (("job",), lambda f: f.job()),
    (("occupation",), lambda f: f.job()),
    (("password",), lambda f: f.password(length=12)),
    (("isbn",), lambda f: f.isbn13()),
    (("iban",), lambda f: f.iban()),
    (("sku",), lambda f: f.bothify("??-#####").upper()),
    (("version",), _version),
    (("status",), lambda f: f.random_element(["active", "pending", "completed", "archived", "open"])),
    (("state",), lambda f: f.random_element(["active", "pending", "completed", "archived", "open"])),
    (("title",), _title),
    (("subject",), _title),
    (("headline",), _title),
    (("summary",), lambda f: f.sentence()),
    (("description",), lambda f: f.sentence(nb_words=10)),
    (("body",), lambda f: f.paragraph(nb_sentences=2)),
    (("text",), lambda f: f.sentence()),
    (("message",), lambda f: f.sentence()),
    (("comment",), lambda f: f.sentence()),
    (("note",), lambda f: f.sentence()),
    (("notes",), lambda f: f.sentence()),
    (("content",), lambda f: f.paragraph(nb_sentences=2)),
    (("query",), _query),
    (("q",), _query),
    (("search",), _query),
    (("keyword",), _query),
    (("keywords",), _query),
    (("term",), _query),
    (("tag",), lambda f: f.word()),
    (("tags",), lambda f: f.word()),
    (("label",), lambda f: f.word()),
    (("category",), lambda f: f.word()),
    (("type",), lambda f: f.word()),
    (("kind",), lambda f: f.word()),
]


def _rule(parts: tuple[str, ...]) -> Callable[[Faker], str] | None:
    for needed, draw in RULES:
        if all(w in parts for w in needed):
            return draw
    return None


@lru_cache(maxsize=4096)
def _rule_for(name: str) -> Callable[[Faker], str] | None:
    parts = tuple(name_words(name))
    if not parts:
        return None
    rule = _rule(parts)  # "file name", "company name", "user name" first
    if rule is not None or parts[-1] != "name":
        return rule
    if len(parts) == 1 or parts[-2] in PERSON_NAMES:
        return lambda f: f.name()
    return lambda f: f.random_element([_slug(f), f.word().title(), f"{f.word()} {f.word()}".title()])  # "pet name"


def plausible_string(name: str, rng: random.Random) -> str:
    """A realistic string for a parameter or property called ``name`` (an id for id-like
    names, a word pair for names no rule knows)."""
    fake = _faker()
    fake.seed_instance(rng.getrandbits(32))
    if ID_NAME.search(name):
        stem = (_ID_SUFFIX.sub("", name) or "id")[:6].lower()
        return fake.random_element([f"{stem}_{fake.random_int(10000, 99999)}", f"{stem}_{fake.hexify('^' * 8)}"])
    draw = _rule_for(name)
    return draw(fake) if draw is not None else _slug(fake)
