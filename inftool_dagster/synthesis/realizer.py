"""A natural realizer for the User Simulator: requests that state values in context, as people
and BFCL's questions do ("What's the forecast in Tokyo for the next 11 days?"), instead of the
grammar's "get the forecast using city Tokyo and days 11".

Each value is phrased by its parameter's name, format and type, without putting the name in
front of it: places as "in Tokyo", dates in words ("on March 3, 2026"), counts as "the first
20", pages as ordinals, ranges as "from … until …", booleans as intent ("including archived
ones"), lists as enumerations ("cat, dog and bird"), other values before their role ("'cedar'
as the type"). Requests vary in form — questions, commands, needs, context first, several
sentences — and in register (openers, casual endings, the odd typo outside the values).

Every scalar value the calls need appears in the request, literally or in the surface form
recorded in ``Realization.surfaces`` (a date in words), so a leak check can hold an LLM's
rewrite to the same surfaces.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from inftool_dagster.llm.tool_calls import ToolCall

OPENERS = [
    "", "", "", "", "", "Hi! ", "Hey, ", "Hello. ", "Quick question: ", "Morning! ", "hey ", "So, ", "Okay, ",
    "Hi there, ", "Good afternoon. ", "Hey team, ", "Hello! Small request: ", "Right, ", "Um, ", "Yo, ",
    "Sorry to bother you, ", "When you get a chance, ", "Hopefully an easy one: ", "Urgent: ", "FYI, ",
]  # fmt: skip
ENDINGS = [
    "", "", "", "", " Thanks!", " Thank you.", " Thanks in advance.", " Cheers.", " thx", " Much appreciated.",
    " Ty!", " That would help a lot.", " Appreciate it!", " No rush.", " ASAP if possible.", " Let me know.",
    " Thanks so much!", " Many thanks.",
]  # fmt: skip
QUESTION = [
    "Can you {a}{v}?", "Could you {a}{v}?", "Would you {a}{v}?", "Can you please {a}{v}?",
    "Any chance you could {a}{v}?", "Is it possible to {a}{v}?", "Mind helping me {a}{v}?",
]  # fmt: skip
COMMAND = ["{A}{v}.", "Please {a}{v}.", "{A}{v}, please.", "Go ahead and {a}{v}.", "Let's {a}{v}.", "{A}{v} for me."]
NEED = [
    "I need to {a}{v}.", "I want to {a}{v}.", "I'm trying to {a}{v}.", "Help me {a}{v}.", "I'd like to {a}{v}.",
    "We have to {a}{v}.", "My manager asked me to {a}{v}.", "I was hoping to {a}{v}.", "Need to {a}{v} real quick.",
    "Our team wants to {a}{v}.", "I'm looking to {a}{v}.",
]  # fmt: skip
CONTEXT_FIRST = [
    "This is about {v}. Can you {a}?", "It's for {v}. Please {a}.", "Regarding {v}: could you {a}?",
    "So I've got {v}. Could you {a}?", "Working with {v} here. I need to {a}.", "Given {v}, please {a}.",
]  # fmt: skip
# the values in a sentence of their own, after the ask (when the action ends on a parameter's noun,
# "… for a city", so that "… for a city in Tokyo" does not read as name-then-value)
# the same request again with other values, in the same sentence ("… for Paris, and again for Rome?")
SAME_AGAIN = [", and again {v}", ", and also {v}", "; then {v}", ", and one more time {v}", ", and then {v}",
              "; and {v}"]  # fmt: skip
AFTER = ["It's {v}.", "That's {v}.", "I mean {v}.", "Details: {v}.", "Use {v}.", "Go with {v}.", "Specifically {v}."]
JOINERS = [
    " Also, ", " And then ", " After that, ", " Oh, and ", " Once that's done, ", " Plus, ", " Next, ",
    " While you're at it, ", " Separately, ", " On top of that, ", " Then ", " And ",
]  # fmt: skip
# other ways to say an action's verb ("get the forecast" → "pull up the forecast")
SYNONYMS = {
    "get": ["get", "fetch", "pull up", "look up", "find", "grab", "check", "retrieve", "bring up"],
    "list": ["list", "show", "list out", "pull up", "enumerate", "give me"],
    "retrieve": ["retrieve", "get", "fetch", "look up"],
    "return": ["return", "give me", "show", "get"],
    "create": ["create", "set up", "make", "add", "open", "start"],
    "add": ["add", "create", "put in", "register"],
    "delete": ["delete", "remove", "get rid of", "drop", "erase"],
    "remove": ["remove", "delete", "take out", "get rid of"],
    "update": ["update", "change", "modify", "edit", "revise"],
    "search": ["search", "look for", "search for", "hunt for"],
    "find": ["find", "look for", "locate", "track down"],
    "check": ["check", "verify", "look at", "inspect"],
    "send": ["send", "shoot over", "dispatch", "deliver"],
}
# phrasing of a value before its role ("'cedar' as the type")
ROLE = ["{v} as the {n}", "{v} for the {n}", "{v} as its {n}", "{v} as {n}", "{v} for {n}", "“{v}” as the {n}"]
LOCATION = ("city", "location", "country", "region", "place", "address", "area", "town", "destination")
COUNT = ("limit", "count", "size", "max", "top", "number_of", "num", "per_page", "pagesize", "page_size", "results")
UNITS = ("days", "hours", "minutes", "seconds", "weeks", "months", "years", "nights", "people", "guests", "items")
SEARCH = ("query", "q", "search", "keyword", "keywords", "term", "text", "filter")
NAMED = ("name", "title", "label", "username", "nickname")
START = ("start", "from", "since", "begin", "after", "min")
END = ("end", "to", "until", "before", "max")


def words(name: str) -> str:
    """``petId`` / ``from_currency`` → ``pet id`` / ``from currency``."""
    return re.sub(r"[_\-.]+", " ", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)).strip().lower()


def _has(name: str, keys: tuple[str, ...]) -> bool:
    parts = words(name).split()
    joined = "_".join(parts)
    return any(k in parts or joined == k or joined.endswith("_" + k) for k in keys)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _date_words(value: str) -> str | None:
    """``2026-03-03`` → ``March 3, 2026``; a date-time keeps its clock time; else None."""
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return f"{d:%B} {d.day}, {d.year}"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    zone = " UTC" if moment.tzinfo is not None and moment.utcoffset().total_seconds() == 0 else ""
    return f"{moment:%B} {moment.day}, {moment.year} at {moment:%H:%M}{zone}"


def _enumerate(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class Realization:
    text: str
    form: str  # which phrasing family produced it (for per-template caps)
    surfaces: list[str] = field(default_factory=list)  # each value as it appears in the text


class NaturalRealizer:
    """Requests from calls, values in context. Deterministic for a given ``rng``."""

    def __init__(self, descriptions: dict[str, str], parameters: dict[str, dict] | None = None) -> None:
        self.descriptions = descriptions
        self.parameters = parameters or {}  # tool name → its parameters' JSON Schema (for their descriptions)

    def role(self, tool: str, name: str) -> str:
        """What a parameter is, in words: its description as a short noun phrase ("the market the
        results come from") when it has one, else its name in words ("set lang")."""
        schema = (self.parameters.get(tool) or {}).get("properties", {}).get(name)
        text = schema.get("description") if isinstance(schema, dict) else None
        phrase = _noun_phrase(text) if isinstance(text, str) else None
        return phrase or words(name)

    # -- values ------------------------------------------------------------------------------
    def phrase(self, name: str, value: Any, rng: random.Random, surfaces: list[str], tool: str = "") -> str:
        """One argument as people would say it, without its parameter's name in front."""
        spoken = words(name)
        if isinstance(value, bool):
            thing = re.sub(r"^(is|has|include|includes|with|enable|enabled|show|use|allow)\s+", "", spoken) or spoken
            if spoken.startswith("include"):
                return f"{'including' if value else 'excluding'} {thing}"
            return f"with {thing} {'on' if value else 'off'}"
        if isinstance(value, list):
            items = [self._scalar_text(name, v, surfaces) for v in value if not isinstance(v, (dict, list))]
            return _enumerate(items) if items else rng.choice(["with none of those", "with an empty list", "with none"])
        if isinstance(value, dict):
            inner = [re.sub(r"^with ", "", self.phrase(k, v, rng, surfaces)) for k, v in value.items()]
            return ("with " + _enumerate(inner)) if inner else "with nothing else set"
        text = self._scalar_text(name, value, surfaces)
        if isinstance(value, (int, float)):
            if _has(name, ("page",)) and isinstance(value, int) and value > 0:
                surfaces[-1] = _ordinal(value)
                return f"the {_ordinal(value)} page"
            if _has(name, COUNT):
                return rng.choice([f"just the first {text}", f"up to {text} of them", f"no more than {text}"])
            unit = next((u for u in UNITS if u in spoken.split()), None)
            if unit in ("days", "weeks", "months", "years", "nights"):
                return rng.choice([f"for {text} {unit}", f"over the next {text} {unit}", f"{text} {unit}"])
            if unit:
                return rng.choice([f"{text} {unit}", f"for {text} {unit}"])
            if _has(name, START):
                return f"from {text} upwards"
            if _has(name, END):
                return f"up to {text}"
            return _in_role(rng.choice(ROLE), text, self.role(tool, name))
        if text != str(value):  # a date or time in words
            if _has(name, START):
                return f"from {text}"
            if _has(name, END):
                return f"until {text}"
            return rng.choice([f"on {text}", f"for {text}"])
        if _has(name, LOCATION):
            return rng.choice([f"in {text}", f"for {text}", f"around {text}"])
        if _has(name, ("email",)) or "@" in text:
            return rng.choice([f"to {text}", f"for {text}"])
        if _has(name, SEARCH):
            return rng.choice([f"matching “{text}”", f"for “{text}”", f"about {text}"])
        if _has(name, NAMED):
            return rng.choice([f"called {text}", f"named {text}", f"“{text}”"])
        if spoken.endswith(" id") or spoken == "id" or _has(name, ("key", "code", "number", "slug", "uuid")):
            entity = re.sub(r"\s*\b(id|key|code|number|slug|uuid)$", "", spoken).strip()
            return rng.choice([f"{entity} #{text}" if entity else f"#{text}", f"{text}"])
        if _has(name, START):
            return f"from {text}"
        if _has(name, END):
            return f"to {text}"
        return (
            rng.choice([*ROLE, "with {v} as {n}"]).format(v=text, n=self.role(tool, name)).replace(" the the ", " the ")
        )

    def _scalar_text(self, name: str, value: Any, surfaces: list[str]) -> str:
        text = str(value)
        if isinstance(value, str):
            text = _date_words(value) or value
        surfaces.append(text)
        return text

    # -- requests ----------------------------------------------------------------------------
    def action(self, call: ToolCall) -> str:
        """What the call does, as a verb phrase from its description ("get the daily forecast")."""
        desc = (self.descriptions.get(call.name) or "").strip()
        first = re.split(r"(?<=[.!?])\s", desc, maxsplit=1)[0].rstrip(".!? ").strip() if desc else ""
        if not first or len(first) > 120 or _HTTP_LINE.match(first):  # "GET /v1/items/{id}" says nothing
            first = words(call.name.rsplit("_", 1)[0] if re.search(r"_[0-9a-f]{8}$", call.name) else call.name)
        first = first[0].lower() + first[1:]
        verb = first.split(" ", 1)[0]
        if verb.endswith("s") and not verb.endswith("ss") and len(verb) > 3:  # "Returns the …" → "return the …"
            first = verb[:-1] + first[len(verb) :]
        elif verb not in _VERBS:
            first = f"get {first}" if first.startswith(("the ", "a ", "an ")) else f"get the {first}"
        return first

    def call_text(
        self,
        call: ToolCall,
        rng: random.Random,
        skip: str | None,
        surfaces: list[str],
        phrases: list[str] | None = None,
    ) -> tuple[str, str]:
        """(sentence, form) for one call (``phrases``: its arguments already phrased)."""
        action = _reword(self.action(call), rng)
        if phrases is None:
            phrases = [self.phrase(k, v, rng, surfaces, call.name) for k, v in call.arguments.items() if k != skip]
        values = _enumerate(phrases) if phrases else ""
        forms = [("question", QUESTION), ("command", COMMAND), ("need", NEED)]
        if phrases and not any(p.split(" ", 1)[0] in _LEADING for p in phrases):  # "Given called X" reads wrong
            forms.append(("context", CONTEXT_FIRST))
        form, templates = rng.choice(forms)
        template = rng.choice(templates)
        tail = set(words(action).split()[-3:])
        nouns = {w for k in call.arguments if k != skip for w in words(k).split()}
        if phrases and form != "context" and tail & nouns:  # "… for a city" + "in Tokyo": say it apart
            ask = template.format(a=action, A=action[:1].upper() + action[1:], v="")
            return f"{ask} {rng.choice(AFTER).format(v=values)}", form + "-after"
        if form == "context":
            text = template.format(a=action, v=values)
        else:
            text = template.format(a=action, A=action[:1].upper() + action[1:], v=(" " + values) if values else "")
        return text, form

    def merged_text(self, calls: list[ToolCall], rng: random.Random, skip: str | None, surfaces: list[str]):
        """(sentence, form) asking for one action several times in one sentence, as people ask for
        parallel calls: "Get the forecast for Paris, and again for Rome and 5 days?"."""
        text, form = self.call_text(calls[0], rng, skip, surfaces)
        end = len(text.rstrip("?.!"))
        body, stop = text[:end], text[end:]
        for call in calls[1:]:
            phrases = [self.phrase(k, v, rng, surfaces, call.name) for k, v in call.arguments.items()]
            body += rng.choice(SAME_AGAIN).format(v=_enumerate(phrases)) if phrases else ", and once more"
        return body + stop, f"merged-{form}"

    def factored_text(
        self, calls: list[ToolCall], varying: str, rng: random.Random, skip: str | None, surfaces: list[str]
    ) -> tuple[str, str] | None:
        """(sentence, form) asking for one action on several values of one parameter, the others
        said once, as BFCL's parallel questions ask: "Get the forecast in celsius for Paris, Rome
        and Oslo". None when the calls differ elsewhere or the value cannot be spliced in."""
        first = calls[0]
        shared = {k: v for k, v in first.arguments.items() if k != varying}
        if varying == skip or any({k: v for k, v in c.arguments.items() if k != varying} != shared for c in calls):
            return None
        start = said = len(surfaces)
        phrases = []
        for name, value in first.arguments.items():
            if name == skip:
                continue
            phrase = self.phrase(name, value, rng, surfaces, first.name)
            if name == varying:
                if len(surfaces) != said + 1 or phrase.count(surfaces[-1]) != 1:
                    del surfaces[start:]
                    return None
                one = surfaces[-1]
                rest = [self._scalar_text(name, c.arguments[name], surfaces) for c in calls[1:]]
                quoted = f"“{one}”" in phrase  # each value in its own quotes, not the list in one pair
                mark = (lambda v: f"“{v}”") if quoted else (lambda v: v)
                phrase = phrase.replace(mark(one), _enumerate([mark(v) for v in (one, *rest)]))
            said = len(surfaces)
            phrases.append(phrase)
        text, form = self.call_text(first, rng, skip, surfaces, phrases)
        return text, f"factored-{form}"

    def realize(
        self,
        calls: list[ToolCall],
        rng: random.Random,
        skip: str | None = None,
        then: str = "",
        merged: bool = False,
        varying: str | None = None,
    ) -> Realization:
        """The request for ``calls`` (``skip``: a parameter of the first withheld; ``then``: a
        sentence said after the calls, before any sign-off; ``merged``: calls of one tool asked
        for in one sentence; ``varying``: the one parameter they differ in, its values listed in
        one phrase, else as ``merged``)."""
        surfaces: list[str] = []
        sentences, forms = [], []
        one_tool = len(calls) > 1 and len({c.name for c in calls}) == 1
        factored = self.factored_text(calls, varying, rng, skip, surfaces) if varying and one_tool else None
        if factored is not None:
            sentences.append(factored[0])
            forms.append(factored[1])
            calls = []
        elif (merged or varying) and one_tool:
            text, form = self.merged_text(calls, rng, skip, surfaces)
            sentences.append(text)
            forms.append(form)
            calls = []
        for i, call in enumerate(calls):
            text, form = self.call_text(call, rng, skip if i == 0 else None, surfaces)
            sentences.append(text)
            forms.append(form)
        opener = rng.choice(OPENERS)
        first = sentences[0]
        casual = opener.endswith(("hey ", ", ")) and not first.startswith(("I ", "I'"))
        text = opener + (first[:1].lower() + first[1:] if casual else first)
        for sentence in sentences[1:]:
            text += rng.choice(JOINERS) + sentence[:1].lower() + sentence[1:]
        text += then + rng.choice(ENDINGS)
        if rng.random() < 0.1:
            text = _typo(text, surfaces, rng)
        return Realization(text, "n-" + ".".join(forms), surfaces)


_DESCRIBING = re.compile(
    r"^(?:specifies|specify|indicates|indicate|defines|define|sets|set|is|denotes|represents|contains|"
    r"the value of|value of|optional[:,.]?|required[:,.]?)\s+",
    re.I,
)
NOUN_PHRASE_WORDS = 9  # longer descriptions are explanations, not names


def _in_role(template: str, value: str, role: str) -> str:
    """``"{v} as the {n}"`` with a role that has its own article ("the market …") reads once."""
    if role.split(" ", 1)[0] in ("the", "a", "an", "your", "its", "their"):
        template = re.sub(r"\b(the|its) \{n\}", "{n}", template)
    return template.format(v=value, n=role)


def _noun_phrase(description: str) -> str | None:
    """``"The market where the results come from."`` → ``"the market where the results come from"``;
    ``"Specifies the sort order"`` → ``"the sort order"``; None when it does not read as a short
    noun phrase (too long, a sentence of its own, markup, a list of values)."""
    first = re.split(r"(?<=[.!?])\s|\n", description.strip(), maxsplit=1)[0].rstrip(".!? ").strip()
    first = _DESCRIBING.sub("", first)
    if not first or len(first.split()) > NOUN_PHRASE_WORDS or re.search(r"[<>`{}\[\]|=*:;()\"]", first):
        return None
    if re.search(r"\b(is|are|was|were|must|should|can|will|may|if|e\.g|i\.e)\b", first, re.I):  # a sentence
        return None
    lower = first[0].lower() + first[1:]
    if lower.split(" ", 1)[0] in ("the", "a", "an", "your", "its", "their"):
        return lower
    return None


_HTTP_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b", re.I)
# verbs the grammar realizer (user_simulator) recognises at the start of a description
VERBS = {
    "add",
    "book",
    "cancel",
    "convert",
    "count",
    "create",
    "delete",
    "find",
    "get",
    "list",
    "place",
    "read",
    "remove",
    "scale",
    "search",
    "subscribe",
    "update",
    "upload",
    "fetch",
    "show",
    "send",
    "set",
    "check",
    "compute",
    "calculate",
    "look",
    "retrieve",
    "post",
    "put",
    "patch",
    "return",
    "returns",
    "lists",
}

# words a phrase can start with that do not read as a thing in "This is about …"
_LEADING = frozenset(
    "called named from until on for to in around matching about with including excluding just up no the".split()
)


def _reword(action: str, rng: random.Random) -> str:
    """The action's leading verb said another way, now and then."""
    verb, _, rest = action.partition(" ")
    options = SYNONYMS.get(verb)
    if not options or rng.random() < 0.3:
        return action
    return f"{rng.choice(options)} {rest}".strip()


def _typo(text: str, keep: list[str], rng: random.Random) -> str:
    """Swap two letters of one longer word that is not part of a value."""
    protected = " ".join(keep).lower()
    words = [m for m in re.finditer(r"[A-Za-z]{6,}", text) if m.group().lower() not in protected]
    if not words:
        return text
    m = rng.choice(words)
    i = rng.randrange(1, len(m.group()) - 2)
    w = m.group()
    return text[: m.start()] + w[:i] + w[i + 1] + w[i] + w[i + 2 :] + text[m.end() :]


# verbs a tool's description may start with: the grammar's (``VERBS``) and more
_VERBS = VERBS | {
    "start", "stop", "run", "make", "generate", "download", "register", "reset", "validate", "verify", "assign",
    "approve", "publish", "view", "browse", "edit", "modify", "replace", "submit", "invite", "share", "copy", "move",
    "rename", "archive", "restore", "enable", "disable", "activate", "deactivate", "import", "export", "sync",
    "query", "lookup", "open", "close", "accept", "reject", "attach", "detach", "link", "unlink", "tag", "track",
    "schedule", "refund", "charge", "pay", "transfer", "translate", "analyze", "detect", "recognize", "predict",
    "estimate", "describe", "login", "logout", "authenticate", "authorize", "revoke", "grant", "retrieves", "invoke",
    "execute", "trigger", "apply", "resolve", "render", "print", "notify", "mark", "flag", "lock", "unlock", "pause",
    "resume", "summarise", "summarize", "work", "quote", "project", "split", "plan", "suggest", "recommend", "rank",
    "sort", "filter", "merge", "parse", "format", "measure", "simulate", "forecast", "score", "compare", "evaluate",
}  # fmt: skip
