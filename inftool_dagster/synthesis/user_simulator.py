"""The User Simulator: turns a blueprint into what a user would say, and answers questions.

It knows the gold intent; the assistant does not. An LLM writes the request when it can; a
request that leaves out a value the gold calls need is rejected (counted) and a grammar
realization takes its place, so a weak model still yields data. Each request records which
path produced it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.tool_calls import ToolCall
from inftool_dagster.llm.types import SamplingParams

from .blueprints import Blueprint
from .realizer import VERBS, NaturalRealizer, words

OPENERS = ["", "Hi! ", "Hello, ", "Hey there. ", "Quick one: ", "Good morning! "]
ASKS = [
    "Could you {action}?",
    "Please {action}.",
    "I need you to {action}.",
    "Can you {action} for me?",
    "{Action}, please.",
    "I'd like to {action}.",
]
JOINERS = [" Also, ", " And then ", " Additionally, ", " After that, "]


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{words(k)} {value_text(v)}" for k, v in value.items())
    return str(value)


def required_mentions(call: ToolCall, skip: str | None = None) -> list[str]:
    """Strings a faithful request must contain for ``call`` (scalars, and names of booleans)."""
    out: list[str] = []

    def walk(key: str, value: Any) -> None:
        if isinstance(value, bool):
            out.append(words(key))
        elif isinstance(value, (int, float, str)):
            out.append(str(value))
        elif isinstance(value, list):
            for v in value:
                walk(key, v)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k, v)

    for key, value in call.arguments.items():
        if key != skip:
            walk(key, value)
    return [m for m in out if m]


def leaks_all(request: str, calls: list[ToolCall], skip: str | None = None) -> list[str]:
    """The values missing from ``request`` (empty: the request carries everything)."""
    lower = request.lower()
    return [m for c in calls for m in required_mentions(c, skip) if m.lower() not in lower]


REALIZERS = ("grammar", "natural")


@dataclass
class UserSimulator:
    descriptions: dict[str, str]
    backend: LLMBackend | None = None
    seed: int = 0
    stats: Counter = field(default_factory=Counter)
    templates: dict[str, str] = field(default_factory=dict)  # blueprint id → template id
    # "natural": values in context (realizer.py); "grammar": "<opener> <ask> using <param> <value> …"
    realizer: str = "natural"
    surfaces: dict[str, list[str]] = field(default_factory=dict)  # blueprint id → values as phrased
    parameters: dict[str, dict] = field(default_factory=dict)  # tool name → parameters schema (their descriptions)
    _asks: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.realizer not in REALIZERS:
            raise ValueError(f"unknown realizer {self.realizer!r}; expected one of {REALIZERS}")
        self._natural = NaturalRealizer(self.descriptions, self.parameters) if self.realizer == "natural" else None

    @classmethod
    def for_tools(
        cls, tools: Iterable[Any], backend: LLMBackend | None = None, seed: int = 0, realizer: str = "natural"
    ) -> UserSimulator:
        """The User Simulator for catalog ``tools`` (their descriptions and parameter schemas)."""
        tools = list(tools)
        return cls(
            {t.name: t.description for t in tools},
            backend,
            seed,
            realizer=realizer,
            parameters={t.name: t.parameters for t in tools},
        )

    # -- grammar realization ---------------------------------------------------------------
    def describe(self, call: ToolCall, rng: random.Random, skip: str | None = None) -> str:
        desc = self.descriptions.get(call.name, "") or words(call.name)
        action = desc.split(". ")[0].rstrip(".").strip()
        action = action[0].lower() + action[1:] if action else words(call.name)
        if action.split(" ", 1)[0] not in VERBS:  # "Latest price quote …" → "get the latest price quote …"
            action = f"get the {action}" if not action.startswith(("the ", "a ", "an ")) else f"get {action}"
        parts = [
            f"{words(k)} {value_text(v)}" if not isinstance(v, bool) else f"{words(k)} {'enabled' if v else 'disabled'}"
            for k, v in call.arguments.items()
            if k != skip
        ]
        if parts:
            action += " using " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
        ask = rng.randrange(len(ASKS))
        self._asks.append(ask)
        return ASKS[ask].format(action=action, Action=action[0].upper() + action[1:])

    def template_request(self, blueprint: Blueprint, rng: random.Random) -> str:
        return self.template_realization(blueprint, rng)[0]

    def template_realization(self, blueprint: Blueprint, rng: random.Random) -> tuple[str, str]:
        """(request, template id): the id names the opener and phrasings used, for per-template caps."""
        if self._natural is not None:
            return self._natural_realization(blueprint, rng)
        self._asks = []
        kind = blueprint.scenario_type
        if kind == "irrelevance":
            call = blueprint.notes["request_call"]
            opener = rng.randrange(len(OPENERS))
            text = OPENERS[opener] + self.describe(ToolCall(call["name"], call["arguments"]), rng)
            return text, f"o{opener}-a{self._asks[0]}"
        calls = blueprint.gold_calls[:1] if kind in ("multi_turn", "multi_step") else blueprint.gold_calls
        opener_index = rng.randrange(len(OPENERS))
        opener = OPENERS[opener_index]
        first = self.describe(calls[0], rng, blueprint.missing_parameter)
        text = opener + (_lower_first(first) if opener.endswith(", ") else first)
        for call in calls[1:]:
            text += rng.choice(JOINERS) + _lower_first(self.describe(call, rng))
        if kind == "multi_step":
            text += f" Then look it up again by the id you get back ({words(blueprint.gold_calls[1].name)})."
        return text, f"o{opener_index}-a" + ".".join(map(str, self._asks))

    def _natural_realization(self, blueprint: Blueprint, rng: random.Random) -> tuple[str, str]:
        kind = blueprint.scenario_type
        if kind == "irrelevance":
            call = blueprint.notes["request_call"]
            calls = [ToolCall(call["name"], call["arguments"])]
        else:
            calls = blueprint.gold_calls[:1] if kind in ("multi_turn", "multi_step") else blueprint.gold_calls
        then = ""
        if kind == "multi_step":
            then = rng.choice(
                [" Then look it up again with the id it gives back.", " After that, fetch it again by its new id."]
            )
        merged = blueprint.notes.get("phrasing") == "merged"
        varying = blueprint.notes.get("varying") if blueprint.notes.get("phrasing") == "factored" else None
        done = self._natural.realize(calls, rng, blueprint.missing_parameter, then, merged=merged, varying=varying)
        self.surfaces[blueprint.blueprint_id] = done.surfaces
        return done.text, done.form

    # -- requests --------------------------------------------------------------------------
    def requests(self, blueprints: list[Blueprint]) -> list[tuple[str, str]]:
        """(request, source) per blueprint: source is "llm" or "template" (``templates`` has the ids)."""
        rngs = [random.Random(f"{self.seed}:{b.blueprint_id}:user") for b in blueprints]
        realized = [self.template_realization(b, r) for b, r in zip(blueprints, rngs)]
        out = [(text, "template") for text, _ in realized]
        self.templates.update({b.blueprint_id: t for b, (_, t) in zip(blueprints, realized)})
        if self.backend is None:
            self.stats["template"] += len(blueprints)
            return out
        prompts = []
        for _blueprint, (template, _) in zip(blueprints, out):
            prompts.append(
                [
                    {
                        "role": "user",
                        "content": (
                            "Rewrite this request to an assistant in your own words, as a real user would write it. "
                            "Keep every name, number and value exactly as written. Reply with the request only.\n\n"
                            f"Request: {template}"
                        ),
                    }
                ]
            )
        generations = self.backend.generate(prompts, SamplingParams(max_new_tokens=96, temperature=0.7, seed=self.seed))
        for i, (b, gens) in enumerate(zip(blueprints, generations)):
            text = _unwrap(gens[0].text) if gens[0].ok else ""
            problem = rewrite_problem(text, out[i][0]) or self._missing_value(b, text)
            if problem:
                self.stats[f"llm_rejected_{problem}"] += 1
                self.stats["template"] += 1
            else:
                self.stats["llm"] += 1
                out[i] = (text, "llm")
                self.templates[b.blueprint_id] = "llm"
        return out

    def _missing_value(self, b: Blueprint, text: str) -> str | None:
        """``"missing_values"`` when the rewrite dropped a value the calls need (or said the
        withheld one), else None: the leak check."""
        if b.blueprint_id in self.surfaces:  # natural: the rewrite keeps every value as phrased
            kept = text.lower()
            return "missing_values" if any(v.lower() not in kept for v in self.surfaces[b.blueprint_id]) else None
        if b.scenario_type == "irrelevance":
            call = b.notes["request_call"]
            return "missing_values" if leaks_all(text, [ToolCall(call["name"], call["arguments"])]) else None
        calls = b.gold_calls[:1] if b.scenario_type in ("multi_turn", "multi_step") else b.gold_calls
        if leaks_all(text, calls, b.missing_parameter):
            return "missing_values"
        withheld = b.gold_calls[0].arguments.get(b.missing_parameter) if b.missing_parameter else None
        if withheld is not None and str(withheld).lower() in text.lower():
            return "missing_values"  # leaked the withheld parameter
        return None

    def answer_clarification(self, blueprint: Blueprint) -> str:
        name = blueprint.missing_parameter or ""
        value = blueprint.gold_calls[0].arguments.get(name)
        if self._natural is not None:
            rng = random.Random(f"{self.seed}:{blueprint.blueprint_id}:clarify")
            return f"Oh, sorry: {self._natural.phrase(name, value, rng, [], blueprint.gold_calls[0].name)}."
        return f"Sorry, the {words(name)} is {value_text(value)}."

    def next_turn(self, blueprint: Blueprint, turn: int) -> str | None:
        if blueprint.scenario_type != "multi_turn" or turn >= len(blueprint.gold_calls):
            return None
        rng = random.Random(f"{self.seed}:{blueprint.blueprint_id}:turn{turn}")
        if self._natural is not None:
            done = self._natural.realize([blueprint.gold_calls[turn]], rng)
            return rng.choice(["Thanks. ", "Great, thanks! ", "Perfect. ", "Got it. "]) + done.text
        return "Thanks. Now " + _lower_first(self.describe(blueprint.gold_calls[turn], rng))


_LABEL = re.compile(
    r"^\s*(?:here(?:'s| is) (?:the|my|a|your) (?:rewritten )?request[^\n:]*:|request:|rewritten:)\s*", re.I
)
_ASSISTANT_VOICE = re.compile(
    r"^(?:dear |sure|certainly|of course|i'm here to|i am here to|as an ai|i'd be happy|i can help|"
    r"here(?:'s| is) how|to do this|you can )",
    re.I,
)
_STOP = frozenset("a an the to of for and or in on at by with from as is are be it this that you me my i".split())


def _unwrap(text: str) -> str:
    """A rewrite without the labels small models put in front ("Here's the request: …",
    "Request: …") or the quotes around it."""
    text = text.strip()
    for _ in range(2):
        text = _LABEL.sub("", text).strip().strip('"“”').strip()
    return text


def rewrite_problem(text: str, template: str) -> str | None:
    """Why an LLM rewrite of ``template`` is not a user's request, or None: ``empty``,
    ``prompt_echo`` (it repeats the instruction), ``assistant_voice`` (it answers instead of
    asking), ``shape`` (far longer or shorter than the request, or many lines), ``off_topic``
    (it keeps under a quarter of the request's content words)."""
    if not text:
        return "empty"
    lower = text.lower()
    if lower.startswith("rewrit") or any(x in lower for x in ("rewrite this", "own words", "reply with the request")):
        return "prompt_echo"
    if _ASSISTANT_VOICE.match(text):
        return "assistant_voice"
    if len(text) > 2.5 * len(template) + 40 or len(text) < 0.3 * len(template) or text.count("\n") > 2:
        return "shape"
    # content words compared by their first three letters ("pets" ~ "pet", "listing" ~ "list")
    content = {w[:3] for w in re.findall(r"[a-z0-9]+", template.lower()) if w not in _STOP and len(w) > 2}
    said = {w[:3] for w in re.findall(r"[a-z0-9]+", lower) if len(w) > 2}
    if content and len(content & said) < len(content) / 4:
        return "off_topic"
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
