"""Values drawn from JSON Schemas for simulated calls and results: plausible first, valid always.

A value starts as what a person would write: one of the schema's examples or its default,
else a guess from the property name and format. When that candidate breaks the schema, a
schema-driven draw replaces it: strings from the ``pattern`` (rstr's regex generator),
exact numeric bounds and ``multipleOf``, lengths, item and property counts, uniqueness,
``allOf`` merged, ``oneOf``/``anyOf`` branches tried until one fits. A value drawn at the
root is validated and redrawn a few times when a cross-branch rule still fails.
``unsatisfiable`` names the contradictions (min > max, an enum no value of which fits)
that no draw can get past, so a check can report them instead of counting them as misses.
"""

from __future__ import annotations

import base64
import math
import random
import re
import string
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from typing import Any

import orjson
import regex
from rstr.xeger import Xeger
from rstr.xeger import sre_parse as re_parser  # Python's regex parser, the one rstr generates from

from .ecma import PATTERN_ERRORS, compile_pattern, pattern_matches, schema_validator
from .plausible import plausible_string

MAX_DEPTH = 12  # required structure is followed this deep; below it a minimal value of the right type
OPTIONAL_DEPTH = 3  # optional properties (and a non-empty array) only this close to the root
RETRIES = 3  # root redraws when a drawn value still fails its schema
PATTERN_TRIES = 12  # random draws of a pattern, before repeat counts are swept
ALL_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
INT_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
BASE_DATE = date(2026, 1, 15)
# (shortest, longest) valid string in an asserted format: a length range outside it is a contradiction
FORMAT_LENGTHS: dict[Any, tuple[int, int | None]] = {
    "uuid": (36, 36),
    "date": (10, 10),
    "date-time": (20, None),
    "time": (9, None),
    "ipv4": (7, 15),
    "ipv6": (2, 45),
    "email": (3, None),
}
WORDS = ["alpha", "beacon", "cedar", "delta", "ember", "falcon", "garnet", "harbor", "indigo", "juniper"]


def checker(schema: Any) -> Callable[[Any], bool]:
    """Whether a value satisfies ``schema`` (ECMA patterns, formats asserted), compiled once."""
    validator = schema_validator(schema)

    def check(value: Any) -> bool:
        try:
            return validator.is_valid(value)
        except Exception:  # a schema the validator cannot evaluate (bad pattern, dangling $ref): no value fits
            return False

    return check


def fits(schema: Any, value: Any) -> bool:
    return checker(schema)(value)


def generate(schema: Any, rng: random.Random, hint: str = "", depth: int = 0) -> Any:
    """A value for ``schema``, named ``hint``; at the root it is validated and redrawn when it fails."""
    value = _draw(schema, rng, hint, depth)
    if depth == 0 and isinstance(schema, dict) and schema:
        for _ in range(RETRIES):
            if fits(schema, value):
                break
            value = _draw(schema, rng, hint, depth)
    return value


def _draw(schema: Any, rng: random.Random, hint: str, depth: int) -> Any:
    if schema is False:
        return None
    if not isinstance(schema, dict):
        return plausible_string(hint, rng)
    schema = normalize(schema)
    if depth > MAX_DEPTH:
        return _minimal(schema, hint, rng)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        rest = {k: v for k, v in schema.items() if k != "enum"}
        options = list(filter(checker(rest), schema["enum"])) or schema["enum"]
        return rng.choice(options)
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        check = checker(schema)
        for candidate in rng.sample(examples, len(examples)):
            if check(candidate):
                return candidate
    if "default" in schema and rng.random() < 0.5 and fits(schema, schema["default"]):
        return schema["default"]
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _branch(schema, key, rng, hint, depth)
    kinds = _kinds(schema)
    value: Any = None
    for kind in kinds:  # the declared types in order, null last: the next when a draw cannot fit
        value = _typed(schema, kind, rng, hint, depth)
        if len(kinds) == 1 or fits(schema, value):
            return value
    return value


def _typed(schema: dict, kind: str | None, rng: random.Random, hint: str, depth: int) -> Any:
    if kind == "object":
        return _object(schema, rng, hint, depth)
    if kind == "array":
        return _array(schema, rng, hint, depth)
    if kind in ("integer", "number"):
        return _number(schema, kind, hint, rng)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    candidate = _string(schema, hint, rng)
    if kind is None or not _STRING_RULES & schema.keys() or fits(schema, candidate):
        return candidate
    return _schema_string(schema, hint, rng)


_STRING_RULES = frozenset({"pattern", "format", "minLength", "maxLength", "not", "if"})


# -- schema shape ---------------------------------------------------------------------
def normalize(schema: dict) -> dict:
    """``allOf`` merged into one schema, OpenAPI's ``nullable`` as a ``null`` type."""
    if isinstance(schema.get("allOf"), list):
        own = {k: v for k, v in schema.items() if k != "allOf"}
        members = [own, *(normalize(b) for b in schema["allOf"] if isinstance(b, dict))]
        merged = own
        for member in members[1:]:
            merged = merge(merged, member)
        if any(b is False for b in schema["allOf"]):
            merged["type"] = []
        for member in members:  # a member's additionalProperties also rules the names only others declare
            extra, declared = member.get("additionalProperties"), member.get("properties") or {}
            if (
                extra in (None, True)
                or member.get("patternProperties")
                or not isinstance(merged.get("properties"), dict)
            ):
                continue
            merged["properties"] = {
                k: v if k in declared else {"allOf": [v, extra]}
                for k, v in merged["properties"].items()
                if k in declared or extra is not False
            }
        schema = merged
    if schema.get("nullable") is True and "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema = {**schema, "type": [*types, "null"] if "null" not in types else types}
    return schema


_LOWER = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
_UPPER = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})


def merge(a: dict, b: dict) -> dict:
    """Both schemas at once, as far as keywords combine (tighter bounds, more required, shared types)."""
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(out[key], dict) and isinstance(value, dict):
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            out[key] = props
        elif key == "required" and isinstance(out[key], list) and isinstance(value, list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type":
            out[key] = _type_meet(out[key], value)
        elif key in _LOWER | _UPPER and _num(out[key]) is not None and _num(value) is not None:
            out[key] = max(out[key], value) if key in _LOWER else min(out[key], value)
        elif key == "enum" and isinstance(out[key], list) and isinstance(value, list):
            out[key] = [v for v in out[key] if v in value]
        elif key == "items" and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = {"allOf": [out[key], value]}
    return out


def _type_meet(a: Any, b: Any) -> list[str]:
    def widen(t: Any) -> set[str]:
        names = set(t) if isinstance(t, list) else {t}
        return names | {"integer"} if "number" in names else names

    meet = widen(a) & widen(b)
    if "number" in meet:
        meet.discard("integer")
    return [t for t in (a if isinstance(a, list) else [a]) if t in meet] + sorted(
        meet - set(a if isinstance(a, list) else [a])
    )


_KIND_KEYS = (
    ("object", ("properties", "required", "additionalProperties", "patternProperties", "minProperties")),
    ("array", ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")),
    ("number", ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")),
    ("string", ("pattern", "minLength", "maxLength", "format")),
)


def _kinds(schema: dict) -> list[str | None]:
    """The JSON types a value may be drawn as: declared ones (null last), else one inferred from keywords."""
    declared = schema.get("type")
    if isinstance(declared, list) and declared:
        return [k for k in declared if k != "null"] + (["null"] if "null" in declared else [])
    if isinstance(declared, str):
        return [declared]
    if schema.get("format") in INT_FORMATS:
        return ["integer"]
    return [next((name for name, keys in _KIND_KEYS if any(k in schema for k in keys)), None)]


def _minimal(schema: dict, hint: str, rng: random.Random) -> Any:
    kind = _kinds(schema)[-1]
    return {"object": {}, "array": [], "integer": 0, "number": 0, "boolean": False, "null": None}.get(
        kind or "", plausible_string(hint, rng)
    )


# -- combinators, objects, arrays --------------------------------------------------------
def _branch(schema: dict, key: str, rng: random.Random, hint: str, depth: int) -> Any:
    """Try the branches (non-null first, in order) merged with the parent until a value fits the whole."""
    branches = schema[key]
    base = {k: v for k, v in schema.items() if k != key}
    order = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
    order += [b for b in branches if b not in order]
    value: Any = None
    for branch in order:
        if branch is False:
            continue
        value = _draw(merge(base, branch) if isinstance(branch, dict) else base, rng, hint, depth)
        if fits(schema, value):
            return value
    return value


def _object(schema: dict, rng: random.Random, hint: str, depth: int) -> dict:
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = (
        [r for r in schema.get("required", []) if isinstance(r, str)]
        if isinstance(schema.get("required"), list)
        else []
    )
    extra = schema.get("additionalProperties", True)
    patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
    low, high = _count(schema.get("minProperties")) or 0, _count(schema.get("maxProperties"))
    out: dict[str, Any] = {}
    for name in required:
        out[name] = _draw(_property_schema(name, props, patterns, extra), rng, name, depth + 1)
    for name, sub in props.items():
        if name in out or sub is False or (high is not None and len(out) >= high):
            continue
        if depth < OPTIONAL_DEPTH or len(out) < low:
            value = _draw(sub, rng, name, depth + 1)
            if fits(sub, value):  # an optional property that cannot be drawn is left out
                out[name] = value
    want = low
    if not props and isinstance(extra, dict):  # a map: a few entries
        want = max(low, rng.randint(1, 3))
    if high is not None:
        want = min(want, high)
    names = schema.get("propertyNames")
    for i in range(3 * want + 3):
        if len(out) >= want:
            break
        if patterns:
            pattern = list(patterns)[i % len(patterns)]
            key, sub = pattern_string(pattern, rng), patterns[pattern]
        elif extra is not False:
            key = f"{hint or 'key'}_{len(out) + 1}"
            if isinstance(names, dict):
                key = str(_draw(names, rng, hint or "key", depth + 1))
            sub = extra if isinstance(extra, dict) else {}
        else:
            break
        if key not in out:
            out[key] = _draw(sub, rng, key, depth + 1)
    return out


def _property_schema(name: str, props: dict, patterns: dict, extra: Any) -> Any:
    if name in props:
        return props[name]
    for pattern, sub in patterns.items():
        try:
            if pattern_matches(pattern, name):
                return sub
        except PATTERN_ERRORS:
            continue
    return extra if isinstance(extra, dict) else True


def _array(schema: dict, rng: random.Random, hint: str, depth: int) -> list:
    items = schema.get("items", {})
    prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
    low, high = _count(schema.get("minItems")) or 0, _count(schema.get("maxItems"))
    floor = max(low, 1 if depth < OPTIONAL_DEPTH else 0)
    if high is not None:
        floor = min(floor, high)
    size = rng.randint(floor, max(floor, min(3 if high is None else high, 3)))
    if items is False:
        size = min(size, len(prefix))
    unique = schema.get("uniqueItems") is True
    singular = hint[:-1] if hint.endswith("s") else hint
    out: list = []
    seen: set[bytes] = set()
    for _ in range(8 * size + 8):
        if len(out) >= size:
            break
        sub = prefix[len(out)] if len(out) < len(prefix) else items
        value = _draw(sub, rng, singular, depth + 1)
        if len(out) >= low and not fits(sub, value):  # an item beyond minItems that cannot be drawn is left out
            break
        if unique:
            key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                continue
            seen.add(key)
        out.append(value)
    contains = schema.get("contains")
    if isinstance(contains, dict) and not any(fits(contains, v) for v in out):
        value = _draw(contains, rng, singular, depth + 1)
        if high is not None and out and len(out) >= high:
            out[-1] = value
        else:
            out.append(value)
    return out


# -- numbers -----------------------------------------------------------------------------
def _num(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _count(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None and number >= 0 else None


def _bound(schema: dict, key: str, exclusive_key: str, lower: bool) -> tuple[int | float | None, bool]:
    """A bound and whether it is exclusive: draft-4 boolean and draft-6+ numeric exclusive forms."""
    value, exclusive = _num(schema.get(key)), schema.get(exclusive_key)
    if exclusive is True:
        return value, value is not None
    other = _num(exclusive)
    if other is not None and (value is None or (other >= value if lower else other <= value)):
        return other, True
    return value, False


def _bounds(schema: dict) -> tuple[int | float | None, bool, int | float | None, bool]:
    lo, lo_ex = _bound(schema, "minimum", "exclusiveMinimum", True)
    hi, hi_ex = _bound(schema, "maximum", "exclusiveMaximum", False)
    limits = INT_FORMATS.get(schema.get("format", ""))
    if limits is not None:
        if lo is None or lo < limits[0]:
            lo, lo_ex = limits[0], False
        if hi is None or hi > limits[1]:
            hi, hi_ex = limits[1], False
    return lo, lo_ex, hi, hi_ex


def _number(schema: dict, kind: str, hint: str, rng: random.Random) -> int | float:
    """Inside the bounds (exclusive ones too) and a multiple of ``multipleOf``; a small, plausible
    window near zero or the lower bound first, the whole range when the window holds no value."""
    lo, lo_ex, hi, hi_ex = _bounds(schema)
    span = 1000 if "price" in hint or "amount" in hint else 100
    if lo is None and hi is None:
        a, b = 0, span
    elif hi is None:
        a, b = lo, lo + span
    elif lo is None:
        a, b = (0 if hi > 0 else hi - span), hi
    else:
        start = lo if lo >= 0 else (0 if hi >= 0 else max(lo, hi - span))
        a, b = start, min(hi, start + span)

    def inside(v: int | float) -> bool:
        above = lo is None or (v > lo if lo_ex else v >= lo)
        return above and (hi is None or (v < hi if hi_ex else v <= hi))

    multiple = _num(schema.get("multipleOf"))
    whole = (a - span if lo is None else lo, b + span if hi is None else hi)
    for left, right in ((a, b), whole):
        if kind == "integer" or (multiple is not None and multiple > 0):
            value = _multiple(multiple if multiple and multiple > 0 else 1, left, right, kind, inside, rng)
            if value is not None:
                return value
            continue
        value = round(rng.uniform(left, right), 2)
        for candidate in (value, (left + right) / 2):
            if inside(candidate):
                return candidate
    return a


def _multiple(
    multiple: int | float, left: float, right: float, kind: str, inside: Any, rng: random.Random
) -> int | float | None:
    """A multiple of ``multiple`` in [left, right], exact in decimal and passing jsonschema's float check."""
    unit = Fraction(str(multiple))
    if kind == "integer":
        unit = Fraction(unit.numerator)  # the smallest whole multiple of p/q is p
    first, last = math.ceil(Fraction(left) / unit), math.floor(Fraction(right) / unit)
    if first > last:
        return None
    for _ in range(16):
        exact = rng.randint(first, last) * unit
        value: int | float = int(exact) if exact.denominator == 1 else float(exact)
        if inside(value) and _is_multiple(value, multiple):
            return value
    for k in (first, first + 1, last - 1, last):  # the bounds' own neighbours
        exact = k * unit
        value = int(exact) if exact.denominator == 1 else float(exact)
        if first <= k <= last and inside(value) and _is_multiple(value, multiple):
            return value
    return None


def _is_multiple(value: int | float, multiple: int | float) -> bool:
    """jsonschema's own test: a float divisor divides into a whole float, an int one leaves no rest."""
    if isinstance(multiple, float):
        quotient = value / multiple
        return math.isfinite(quotient) and int(quotient) == quotient
    return value % multiple == 0


# -- strings -----------------------------------------------------------------------------
def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def format_value(fmt: Any, rng: random.Random) -> str | None:
    """A plausible string in a named format (JSON Schema's and OpenAPI's), None for unknown ones."""
    word = rng.choice(WORDS)
    if fmt == "date-time":
        moment = datetime(2026, 1, 15, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        return moment.isoformat().replace("+00:00", "Z")
    if fmt == "date":
        return (BASE_DATE + timedelta(days=rng.randint(0, 180))).isoformat()
    if fmt == "time":
        return f"{rng.randint(0, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}:00Z"
    if fmt in ("email", "idn-email"):
        return plausible_string("email", rng)
    if fmt == "uuid":
        return _uuid(rng)
    if fmt in ("uri", "url", "uri-reference", "iri", "iri-reference"):
        return plausible_string("url", rng)
    if fmt in ("hostname", "idn-hostname"):
        return f"{word}.example.com"
    if fmt == "ipv4":
        return f"192.0.2.{rng.randint(1, 254)}"
    if fmt == "ipv6":
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}"
    if fmt == "binary":
        return "aGVsbG8gd29ybGQ="
    if fmt in ("byte", "base64"):
        return base64.b64encode(f"{word} {rng.randint(1, 999)}".encode()).decode()
    if fmt == "password":
        return f"{word.title()}-{rng.randint(1000, 9999)}!"
    if fmt == "duration":
        return f"P{rng.randint(1, 30)}D"
    if fmt == "json-pointer":
        return f"/{word}/{rng.randint(0, 9)}"
    if fmt == "relative-json-pointer":
        return f"{rng.randint(0, 3)}/{word}"
    if fmt == "uri-template":
        return f"https://example.com/{word}/{{id}}"
    if fmt == "regex":
        return "^[a-z]+$"
    if fmt in ("int32", "int64", "integer"):
        return str(rng.randint(1, 1000))
    if fmt in ("float", "double", "decimal", "number"):
        return f"{rng.uniform(1, 100):.2f}"
    return None


def _fit_length(value: str, low: int, high: int | None) -> str:
    if high is not None and len(value) > high:
        value = value[:high]
    if len(value) < low:
        value = value + "x" * (low - len(value))
    return value


def _string(schema: dict, hint: str, rng: random.Random) -> str:
    """The plausible candidate: the format's usual shape, else a guess from the name, fitted to the lengths."""
    value = format_value(schema.get("format"), rng) or plausible_string(hint, rng)
    if schema.get("format") in ("date-time", "date", "time", "email", "uuid", "uri", "url", "uri-reference"):
        return value
    return _fit_length(value, _count(schema.get("minLength")) or 0, _count(schema.get("maxLength")))


def _schema_string(schema: dict, hint: str, rng: random.Random) -> str:
    """A string drawn from the pattern (or the format's other spellings, or fitted to the lengths)
    until it satisfies the schema: random repeat counts first, then counts swept to hit the lengths."""
    pattern = schema.get("pattern")
    low, high = _count(schema.get("minLength")) or 0, _count(schema.get("maxLength"))
    if not isinstance(pattern, str):
        spellings = _spellings(format_value(schema.get("format"), rng) or "")
        for value in [*spellings, *(_fit_length(plausible_string(hint, rng), low, high) for _ in range(3))]:
            if fits(schema, value):
                return value
        return value
    top = (max(low, 1) if high is None else max(low, min(high, 8))) - 1  # one repeat alone would fill the length
    sweep = range(top, -1, -1) if top <= 64 else [top, top - 1, top - 2, 0, 1, 2, top // 2, top // 3, top // 4]
    value = ""
    for exact in [None] * PATTERN_TRIES + list(sweep):
        value = pattern_string(pattern, rng, low, high, exact)
        if fits(schema, value):
            return value
    return value


def _spellings(value: str) -> list[str]:
    """Other valid spellings of a date-time or time (fractions, offsets) for schemas that fix a length."""
    if not value.endswith("Z"):
        return [value] if value else []
    stem = value[:-1]
    return [value, f"{stem}.000Z", f"{stem}+00:00", f"{stem}.000+00:00", f"{stem}.000000Z", f"{stem}.000000+00:00"]


# Patterns: rstr's generator parses with Python's ``re`` parser, so ECMA-only syntax is rewritten
# for generation only (the result is still checked with the ECMA engine in ``ecma``).
PLAIN = string.ascii_letters + string.digits + "-_."
_PROPERTY = re.compile(r"\\[pP](?:\{[^}]*\}|[A-Za-z])")
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
_NAMED_REF = re.compile(r"\\k<(\w+)>")
_PROPERTY_POOL = (
    string.ascii_letters + string.digits + string.punctuation + " \t\n" + "éñüßçøÄÖÜÉ·–—€£\u0301\u3042\u4e2d"
)


class _Xeger(Xeger):
    """rstr's regex generator with repeat counts under control (short, plausible strings; or every
    repeat at ``start + cap`` to sweep lengths), a budget against nested repeats, and draws that do
    not depend on hash order (rstr builds negated alphabets from sets, whose order varies by process)."""

    BUDGET = 20_000  # repeat iterations per string

    def __init__(self, rng: random.Random, cap: int, exact: bool = False) -> None:
        super().__init__(rng, nonword=string.punctuation + " ", whitespace=" ")
        self.cap, self.exact, self.spent = cap, exact, 0
        self._cases = {**self._cases, "any": lambda _: self._random.choice(PLAIN)}

    def _handle_in(self, value: Any) -> Any:
        candidates = list(chain(*(self._handle_state(i) for i in value)))
        if candidates and candidates[0] is False:
            banned = set(candidates[1:])
            candidates = [c for c in PLAIN + string.punctuation + " " if c not in banned]
        return self._random.choice(candidates)

    def _handle_repeat(self, start: int, end: int, value: Any) -> str:
        top = max(start, min(end, start + self.cap))
        times = top if self.exact else self._random.randint(start, top)
        self.spent += times
        if self.spent > self.BUDGET:
            raise OverflowError("pattern repeats exceed the generation budget")
        return "".join("".join(self._handle_state(i) for i in value) for _ in range(times))


@lru_cache(maxsize=256)
def _property_chars(token: str) -> str:
    """A few characters in a Unicode property class such as ``\\p{L}``, found with the ECMA engine."""
    try:
        probe = regex.compile(token)
    except regex.error:
        return "a"
    chars = [c for c in _PROPERTY_POOL if probe.fullmatch(c)]
    if not chars:
        chars = [chr(i) for i in range(0x20, 0x3000) if probe.fullmatch(chr(i))][:32]
    return "".join(chars) or "a"


@lru_cache(maxsize=4096)
def _for_generation(pattern: str) -> str:
    """``pattern`` in the syntax Python's parser reads: property classes listed, named groups renamed."""
    parts: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            match = _PROPERTY.match(pattern, i)
            escape = pattern[i : i + 2]
            if match:
                chars = "".join(re.escape(c) for c in _property_chars(match.group()))
                parts.append(chars if in_class else f"[{chars}]")
                i = match.end()
            else:
                parts.append("\\Z" if escape == "\\z" else escape)  # Python spells \z "\Z"
                i += 2
            is_set = bool(match) or escape[1:] in ("w", "W", "d", "D", "s", "S")
            if in_class and is_set and pattern[i : i + 1] == "-" and pattern[i + 1 : i + 2] != "]":
                parts.append("\\-")  # ECMA reads "[\\w-.]" as a literal "-"; Python calls it a bad range
                i += 1
            continue
        in_class = True if char == "[" else False if char == "]" else in_class
        parts.append(char)
        i += 1
    return _NAMED_REF.sub(r"(?P=\1)", _NAMED_GROUP.sub("(?P<", "".join(parts)))


def pattern_string(
    pattern: str, rng: random.Random, low: int = 0, high: int | None = None, exact: int | None = None
) -> str:
    """A string the pattern matches (checked by the caller): repeat counts random and sized for the
    length bounds, or, with ``exact``, every repeat taken ``exact`` times past its minimum."""
    base = 8 if high is None else max(1, min(8, high // 3))
    cap = exact if exact is not None else rng.choice([base, base, 1, 2 * base, min(max(base, low), 64)])
    try:
        with warnings.catch_warnings():  # Python's parser warns on ECMA classes such as "[[a]"
            warnings.simplefilter("ignore", FutureWarning)
            value = _Xeger(rng, cap, exact is not None).xeger(_for_generation(pattern))
    except Exception:  # syntax rstr cannot generate from (atomic groups, ...), or a runaway: the caller falls back
        return plausible_string("", rng)
    if len(value) < low and not pattern.endswith("$"):
        value += "x" * (low - len(value))
    elif len(value) < low and not pattern.startswith("^"):
        value = "x" * (low - len(value)) + value
    return value


# -- contradictions ----------------------------------------------------------------------
def unsatisfiable(schema: Any, depth: int = 0) -> str | None:
    """Why no value can satisfy ``schema`` (a contradiction at its root or in a required part), else None."""
    if schema is False:
        return "the schema is false"
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    schema = normalize(schema)
    for pattern in [schema.get("pattern"), *(schema.get("patternProperties") or {})]:
        if isinstance(pattern, str):
            try:
                compile_pattern(pattern)
            except PATTERN_ERRORS as exc:
                return f"pattern {pattern!r} does not compile ({exc})"
    declared = schema.get("type")
    if declared == []:
        return "no type satisfies every allOf branch"
    types = set(declared if isinstance(declared, list) else [declared]) if declared is not None else set(ALL_TYPES)
    if "number" in types:
        types.add("integer")
    dead: dict[str, str] = {}
    low, high = _count(schema.get("minLength")), _count(schema.get("maxLength"))
    if low is not None and high is not None and low > high:
        dead["string"] = f"minLength {low} > maxLength {high}"
    widths = _pattern_widths(schema["pattern"]) if isinstance(schema.get("pattern"), str) else None
    if widths and high is not None and widths[0] > high:
        dead["string"] = f"pattern needs {widths[0]} characters, maxLength is {high}"
    if widths and widths[2] and low is not None and widths[1] < low:
        dead["string"] = f"pattern allows at most {widths[1]} characters, minLength is {low}"
    if widths and widths[3]:
        dead["string"] = f"pattern {schema['pattern']!r} has an anchor where it can never hold"
    shortest, longest = FORMAT_LENGTHS.get(schema.get("format"), (0, None))
    if (high is not None and shortest > high) or (longest is not None and low is not None and longest < low):
        dead["string"] = f"format {schema['format']} does not fit minLength {low} / maxLength {high}"
    lo, lo_ex, hi, hi_ex = _bounds(schema)
    if lo is not None and hi is not None:

        def inside(v: int | float) -> bool:
            return (v > lo if lo_ex else v >= lo) and (v < hi if hi_ex else v <= hi)

        step = _num(schema.get("multipleOf"))
        step = step if step and step > 0 else None
        if lo > hi or (lo == hi and (lo_ex or hi_ex)):
            dead["number"] = dead["integer"] = f"no number between {lo} and {hi}"
        else:
            if _multiple(step or 1, lo, hi, "integer", inside, random.Random(0)) is None:
                dead["integer"] = f"no integer{f' multiple of {step}' if step else ''} between {lo} and {hi}"
            if step and _multiple(step, lo, hi, "number", inside, random.Random(0)) is None:
                dead["number"] = f"no multiple of {step} between {lo} and {hi}"
    reason = _array_contradiction(schema, depth)
    if reason:
        dead["array"] = reason
    reason = _object_contradiction(schema, depth)
    if reason:
        dead["object"] = reason
    if not types - set(dead):
        return next(iter(dead.values()), "no type is allowed")
    rest = {k: v for k, v in schema.items() if k not in ("enum", "const")}
    if "const" in schema and not fits(rest, schema["const"]):
        return f"const {schema['const']!r} breaks the rest of the schema"
    if isinstance(schema.get("enum"), list) and not any(map(checker(rest), schema["enum"])):
        return "no enum value satisfies the rest of the schema"
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            base = {k: v for k, v in schema.items() if k != key}
            reasons = [unsatisfiable(merge(base, b) if isinstance(b, dict) else b, depth + 1) for b in branches]
            if all(reasons):
                return f"every {key} branch is unsatisfiable ({reasons[0]})"
    return None


@lru_cache(maxsize=4096)
def _pattern_widths(pattern: str) -> tuple[int, int, bool, bool] | None:
    """From Python's regex parser: the shortest and longest match of ``pattern``, whether it is
    anchored at both ends (the longest match then bounds the whole string), and whether an anchor
    sits where it can never hold (``/^[a-z]+$/``: a JavaScript regex literal pasted as a pattern)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            parsed = re_parser.parse(_for_generation(pattern))
    except Exception:
        return None
    items = list(parsed)
    kinds = [(str(op), str(arg) if str(op) == "AT" else "") for op, arg in items]
    anchored = len(items) >= 2 and kinds[0] == ("AT", "AT_BEGINNING") and kinds[-1] == ("AT", "AT_END")
    widths = [re_parser.SubPattern(parsed.state, [item]).getwidth()[0] for item in items]
    misplaced = not parsed.state.flags & re.MULTILINE and any(
        (kind == ("AT", "AT_BEGINNING") and sum(widths[:k]) > 0)
        or (kind == ("AT", "AT_END") and sum(widths[k + 1 :]) > 0)
        for k, kind in enumerate(kinds)
    )
    low, high = parsed.getwidth()
    return low, high, anchored and ("BRANCH", "") not in kinds, misplaced


def _array_contradiction(schema: dict, depth: int) -> str | None:
    low, high = _count(schema.get("minItems")) or 0, _count(schema.get("maxItems"))
    if high is not None and low > high:
        return f"minItems {low} > maxItems {high}"
    if low == 0:
        return None
    items = schema.get("items", {})
    prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
    if items is False and low > len(prefix):
        return f"minItems {low} but only {len(prefix)} items allowed"
    reason = unsatisfiable(items, depth + 1) if low > len(prefix) else None
    if reason:
        return f"items: {reason}"
    distinct = _distinct_values(items) if schema.get("uniqueItems") is True else None
    if distinct is not None and distinct + len(prefix) < low:
        return f"uniqueItems with minItems {low} but only {distinct} distinct values"
    return None


def _distinct_values(schema: Any) -> int | None:
    """How many distinct values a small, finite schema allows; None when many or not known."""
    if not isinstance(schema, dict):
        return None
    schema = normalize(schema)
    if "const" in schema:
        return 1
    if isinstance(schema.get("enum"), list):
        return len({orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for v in schema["enum"]})
    kinds = _kinds(schema)
    if kinds in (["boolean"], ["null"]):
        return 2 if kinds == ["boolean"] else 1
    if kinds == ["string"] and _count(schema.get("maxLength")) == 0:
        return 1
    lo, lo_ex, hi, hi_ex = _bounds(schema)
    if kinds != ["integer"] or lo is None or hi is None:
        return None
    first = math.floor(lo) + 1 if lo_ex else math.ceil(lo)
    last = math.ceil(hi) - 1 if hi_ex else math.floor(hi)
    multiple = _num(schema.get("multipleOf"))
    step = Fraction(str(multiple)).numerator if multiple and multiple > 0 else 1
    return max(0, last // step - -(-first // step) + 1)


def _object_contradiction(schema: dict, depth: int) -> str | None:
    low, high = _count(schema.get("minProperties")) or 0, _count(schema.get("maxProperties"))
    if high is not None and low > high:
        return f"minProperties {low} > maxProperties {high}"
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    if high is not None and len(set(required)) > high:
        return f"{len(set(required))} required properties but maxProperties {high}"
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    patterns = schema.get("patternProperties") if isinstance(schema.get("patternProperties"), dict) else {}
    extra = schema.get("additionalProperties", True)
    if extra is False and not props and not patterns and low > 0:
        return f"minProperties {low} but no property is allowed"
    for name in required:
        if not isinstance(name, str):
            continue
        if name not in props and extra is False and not any(_safe_match(p, name) for p in patterns):
            return f"required property {name!r} is not allowed (additionalProperties: false)"
        reason = unsatisfiable(_property_schema(name, props, patterns, extra), depth + 1)
        if reason:
            return f"required property {name!r}: {reason}"
    return None


def _safe_match(pattern: str, text: str) -> bool:
    try:
        return pattern_matches(pattern, text)
    except PATTERN_ERRORS:
        return False
