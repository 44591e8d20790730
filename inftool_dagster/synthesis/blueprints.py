"""Scenario plan: blueprints sampled from the catalog, each with a known correct outcome.

A blueprint fixes the tools the assistant sees (targets plus distractors), the scenario type
and the gold calls, whose arguments are drawn from the schemas and validated. The scenario
mix is a weight vector that the next round's capability gaps can set.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, Field

from inftool_dagster.catalog.boilerplate import boilerplate_parameters
from inftool_dagster.llm.tool_calls import ToolCall
from inftool_dagster.mcp_server.simulator import CatalogTool, Simulator, ToolCallError, validate_arguments

if TYPE_CHECKING:
    from inftool_dagster.catalog.tree import TreePlace

SCENARIO_TYPES = (
    "simple",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "missing_parameter",
    "multi_step",
    "multi_turn",
)


class ScenarioMix(BaseModel):
    """Relative weights of scenario types (normalized when sampling).

    Irrelevance weighs as much as a calling type: abstaining is two of BFCL's eight headline
    categories, its training answer is a few tokens against a call's tens (a token-averaged loss
    hears it less), and at half this weight a first round took BFCL irrelevance from 40/40 to
    12/40 (docs/evolution.md, the headline pilot)."""

    simple: float = Field(2.0, ge=0)
    multiple: float = Field(2.0, ge=0)
    parallel: float = Field(1.0, ge=0)
    parallel_multiple: float = Field(1.0, ge=0)
    irrelevance: float = Field(2.0, ge=0)
    missing_parameter: float = Field(0.5, ge=0)
    multi_step: float = Field(0.5, ge=0)
    multi_turn: float = Field(0.5, ge=0)

    def weights(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in SCENARIO_TYPES}


@dataclass
class Blueprint:
    blueprint_id: str
    scenario_type: str
    tools: list[str]  # every tool the assistant is offered (targets + distractors, shuffled)
    targets: list[str]
    gold_calls: list[ToolCall]  # for multi_turn: one per turn; for multi_step: in order
    domain: str
    missing_parameter: str | None = None  # withheld from the first request
    notes: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict:
        row = asdict(self)
        row["gold_calls"] = orjson.dumps([asdict(c) for c in self.gold_calls]).decode()
        row["notes"] = orjson.dumps(self.notes).decode()
        return row

    @classmethod
    def from_row(cls, row: dict) -> Blueprint:
        calls = [ToolCall(c["name"], c["arguments"]) for c in orjson.loads(row["gold_calls"])]
        return cls(
            row["blueprint_id"],
            row["scenario_type"],
            list(row["tools"]),
            list(row["targets"]),
            calls,
            row["domain"],
            row.get("missing_parameter"),
            orjson.loads(row.get("notes") or "{}"),
        )


class Planner:
    """Draws blueprints; deterministic for (seed, index), so shard i always plans the same work.

    With the MCP tree (``places``: tool name → its place, ``catalog.tree.tree_places``) only
    canonical tools are planned (an alias is the same operation again), each tool's domain is
    its tree domain, a target is drawn domain-first (domains evenly, or by ``domain_weights``;
    weights that gaps set per tool act on their domains), and distractors come from the
    target's own cluster first: similar but wrong tools (hard negatives), those sharing the most
    parameter names with the target preferred.

    Irrelevance blueprints offer, in ``near_miss_share`` of them, a near-miss tool: one from the
    wanted tool's cluster or domain that almost serves the request but not quite — the same kind
    of action on another resource (``wrong_entity``: "get an invoice" offered for "get an order")
    or another action on the same resource (``missing_capability``: "list orders" offered for
    "cancel an order"). Every offered tool's kind is recorded in ``notes["negatives"]``.

    ``merged_share`` of the parallel blueprints are marked ``notes["phrasing"] = "merged"``: the
    User Simulator asks for their calls in one sentence ("… for Paris, and again for Rome"),
    the way BFCL's parallel questions and people ask, instead of one sentence per call. The mark
    is drawn apart from the plan, so the blueprints are otherwise the same at any share.
    ``factored_share`` of them (drawn apart too, and before ``merged_share``) instead call the tool
    on two or three values of one argument, the others shared, marked ``notes["phrasing"] =
    "factored"`` and ``notes["varying"]``: the User Simulator lists the values in one phrase
    ("the weather in Paris, Rome and Oslo"), the shape of BFCL's parallel questions.

    Gold calls take every required parameter and each optional one with probability
    ``optional_share``; ``max_optional_args`` keeps at most that many of the optional ones (a
    person names a few options, not a dozen), and ``skip_boilerplate`` never asks for an API's
    boilerplate parameters (``catalog.boilerplate``: its transport and tracing switches, such as
    Google's ``quotaUser`` or ``$.xgafv``). Both off (the defaults), plans are as before."""

    def __init__(
        self,
        tools: list[CatalogTool],
        *,
        seed: int = 0,
        mix: ScenarioMix | None = None,
        tool_weights: dict[str, float] | None = None,
        distractors: int = 3,
        places: Mapping[str, TreePlace] | None = None,
        domain_weights: dict[str, float] | None = None,
        near_miss_share: float = 0.5,
        merged_share: float = 0.0,
        optional_share: float = 0.35,
        max_optional_args: int | None = None,
        skip_boilerplate: bool = False,
        factored_share: float = 0.0,
    ) -> None:
        self.merged_share = merged_share
        self.factored_share = factored_share
        self.optional_share = optional_share
        self.max_optional_args = max_optional_args
        self.boilerplate = boilerplate_parameters(tools) if skip_boilerplate else {}
        self.places = dict(places or {})
        if self.places:
            tools = [
                replace(t, domain=self.places[t.name].domain)
                for t in tools
                if t.name not in self.places or self.places[t.name].canonical == t.name
            ]
        self.tools = {t.name: t for t in tools}
        self.names = sorted(self.tools)
        self.seed = seed
        self.mix = mix or ScenarioMix()
        self.tool_weights = tool_weights or {}
        self.distractors = distractors
        self.near_miss_share = near_miss_share
        self.simulator = Simulator(seed)
        # Pools and indexes are built once: planning must stay cheap on 100k-tool catalogs.
        self.pools = {
            "all": self.names,
            "with_params": [n for n in self.names if self.tools[n].parameters.get("properties")],
            "with_required": [n for n in self.names if self.tools[n].parameters.get("required")],
        }
        self._cum_weights = {
            key: list(accumulate(self.tool_weights.get(n, 1.0) for n in names)) for key, names in self.pools.items()
        }
        self.by_domain: dict[str, list[str]] = {}
        self.by_cluster: dict[str, list[str]] = {}
        creates: dict[str, list[str]] = {}
        reads: dict[str, list[str]] = {}
        for name in self.names:
            tool = self.tools[name]
            self.by_domain.setdefault(tool.domain, []).append(name)
            self.by_cluster.setdefault(self.cluster(name), []).append(name)
            if tool.action in ("create", "read"):
                (creates if tool.action == "create" else reads).setdefault(tool.resource, []).append(name)
        # domain-first sampling (the tree): per pool, the domains that have tools, and their weights
        self.domain_weights = dict(domain_weights or {})
        if self.places and not self.domain_weights and self.tool_weights:
            for domain, names in self.by_domain.items():  # a domain weighs what its tools weigh on average
                self.domain_weights[domain] = sum(self.tool_weights.get(n, 1.0) for n in names) / len(names)
        self._domain_pools: dict[str, dict[str, tuple[list[str], list[float]]]] = {}
        if self.places:
            for key, names in self.pools.items():
                split: dict[str, list[str]] = {}
                for n in names:
                    split.setdefault(self.tools[n].domain, []).append(n)
                self._domain_pools[key] = {
                    d: (members, list(accumulate(self.tool_weights.get(n, 1.0) for n in members)))
                    for d, members in sorted(split.items())
                }
        # multi_step: a create and a read of the same resource
        self.step_pairs = {res: (creates[res], reads[res]) for res in creates if res in reads}
        self.rejected: Counter[str] = Counter()

    def cluster(self, name: str) -> str:
        """The tool's tree cluster (its domain when there is no tree)."""
        place = self.places.get(name)
        return place.cluster if place is not None else self.tools[name].domain

    def negative_shares(self, blueprints: list[Blueprint]) -> dict[str, dict]:
        """What the plan offers beside (or instead of) the right tool, by kind, with shares:
        ``distractors`` of scenarios with a target by where they sit in the tree (its own cluster,
        its domain, another domain) and their mean parameter-name overlap with the target;
        ``irrelevance`` negatives by kind (near misses: ``wrong_entity``, ``missing_capability``;
        else ``other_domain``) and the share of irrelevance blueprints with a near miss."""
        where = {"same_cluster": 0, "same_domain": 0, "other_domain": 0}
        overlap: list[float] = []
        kinds = {"wrong_entity": 0, "missing_capability": 0, "other_domain": 0}
        irrelevance = with_near_miss = 0
        for b in blueprints:
            if b.scenario_type == "irrelevance":
                irrelevance += 1
                negatives = b.notes.get("negatives", {})
                for kind in negatives.values():
                    kinds[kind] = kinds.get(kind, 0) + 1
                with_near_miss += any(k != "other_domain" for k in negatives.values())
                continue
            if not b.targets:
                continue
            target = b.targets[0]
            cluster, domain = self.cluster(target), self.tools[target].domain
            mine = _param_names(self.tools[target])
            for name in set(b.tools) - set(b.targets):
                if self.cluster(name) == cluster:
                    where["same_cluster"] += 1
                elif self.tools[name].domain == domain:
                    where["same_domain"] += 1
                else:
                    where["other_domain"] += 1
                overlap.append(_jaccard(mine, _param_names(self.tools[name])))

        def shares(counts: dict[str, int]) -> dict:
            total = sum(counts.values())
            return {**counts, **{f"{k}_share": round(v / total, 3) if total else None for k, v in counts.items()}}

        return {
            "distractors": {
                **shares(where),
                "mean_param_overlap": round(sum(overlap) / len(overlap), 3) if overlap else None,
            },
            "irrelevance": {
                **shares(kinds),
                "blueprints": irrelevance,
                "with_near_miss": with_near_miss,
                "with_near_miss_share": round(with_near_miss / irrelevance, 3) if irrelevance else None,
            },
        }

    def plan(self, start: int, count: int) -> list[Blueprint]:
        out = []
        for index in range(start, start + count):
            blueprint = self.blueprint(index)
            if blueprint is not None:
                out.append(blueprint)
        return out

    def blueprint(self, index: int) -> Blueprint | None:
        rng = random.Random(int.from_bytes(hashlib.sha256(f"{self.seed}:{index}".encode()).digest()[:8], "big"))
        weights = self.mix.weights()
        kind = rng.choices(list(weights), weights=list(weights.values()))[0]
        try:
            return getattr(self, f"_{kind}")(rng, f"bp-{self.seed}-{index:07d}")
        except _Skip as exc:
            self.rejected[f"{kind}: {exc}"] += 1
            return None

    # -- helpers -------------------------------------------------------------------------
    def _pick(self, rng: random.Random, exclude: set[str] = frozenset(), pool: str = "all") -> str:
        """A tool from ``pool`` by tool weight, not in ``exclude`` (rejection sampling: O(1) a draw);
        with the tree, a domain first (evenly or by domain weight), then a tool within it."""
        names, cum = self.pools[pool], self._cum_weights[pool]
        domains = self._domain_pools.get(pool)
        for _ in range(32):
            if not names:
                break
            if domains:
                keys = list(domains)
                domain = rng.choices(keys, weights=[self.domain_weights.get(d, 1.0) for d in keys])[0]
                members, member_cum = domains[domain]
                name = rng.choices(members, cum_weights=member_cum)[0]
            else:
                name = rng.choices(names, cum_weights=cum)[0]
            if name not in exclude:
                return name
        left = [n for n in names if n not in exclude]  # tiny pools: exact fallback
        if not left:
            raise _Skip("no tool left to pick")
        return rng.choices(left, weights=[self.tool_weights.get(n, 1.0) for n in left])[0]

    def _gold(self, name: str, rng: random.Random) -> ToolCall:
        """Arguments from the schema: every required parameter and some optional ones (never an
        optional header or cookie: a person asks for what they want, not for transport details);
        validated."""
        tool = self.tools[name]
        props = tool.parameters.get("properties", {})
        required = set(tool.parameters.get("required", []))
        boilerplate = self.boilerplate.get(name, frozenset())
        optional = [
            p
            for p, schema in props.items()
            if p not in required
            and p not in boilerplate
            and not _is_complex(schema)
            and tool.locations.get(p) not in ("header", "cookie")
        ]
        for _ in range(8):
            args = {}
            for pname, schema in props.items():
                if pname in required or (pname in optional and rng.random() < self.optional_share):
                    args[pname] = self.simulator.generate(schema, rng, hint=pname)
            if self.max_optional_args is not None:  # off by default: no extra work per drawn call
                extra = [p for p in args if p not in required]
                if len(extra) > self.max_optional_args:
                    for pname in rng.sample(extra, len(extra) - self.max_optional_args):
                        del args[pname]
            try:
                validate_arguments(tool, args)
            except ToolCallError:
                continue
            return ToolCall(name, args)
        raise _Skip("no valid arguments could be drawn")

    def _distractors(self, rng: random.Random, targets: list[str], k: int | None = None) -> list[str]:
        """Half hard (the first target's tree cluster, then its domain: similar but wrong tools,
        those sharing parameter names with the target first), the rest from other domains;
        topped up from the domain when other domains run short."""
        k = self.distractors if k is None else k
        domain = self.tools[targets[0]].domain
        hard = (k + 1) // 2
        same = self._closest(rng, self.by_cluster.get(self.cluster(targets[0]), []), targets[0], hard, set(targets))
        if len(same) < hard:
            same += self._closest(rng, self.by_domain.get(domain, []), targets[0], hard - len(same), {*targets, *same})
        other = _sample(rng, self.names, k - len(same), lambda n: self.tools[n].domain != domain)
        if len(same) + len(other) < k:  # few other domains: top up from the same one
            taken = set(same)
            same += _sample(
                rng,
                self.by_domain.get(domain, []),
                k - len(same) - len(other),
                lambda n: n not in targets and n not in taken,
            )
        return same + other

    def _closest(self, rng: random.Random, pool: list[str], target: str, k: int, exclude: set[str]) -> list[str]:
        """Up to ``k`` of a few candidates from ``pool``, those sharing the most parameter names
        with ``target`` first (ties in random order)."""
        candidates = _sample(rng, pool, 4 * k, lambda n: n not in exclude)
        mine = _param_names(self.tools[target])
        return sorted(candidates, key=lambda n: -_jaccard(mine, _param_names(self.tools[n])))[:k]

    def near_misses(self, rng: random.Random, wanted: str, k: int = 1) -> dict[str, str]:
        """Up to ``k`` tools near ``wanted`` (its cluster, then its domain) that do not serve a
        request for it: name → ``wrong_entity`` | ``missing_capability`` (see the class doc)."""
        tool = self.tools[wanted]
        action, resource = tool.action, _singular(tool.resource)
        found: dict[str, str] = {}
        for pool in (self.by_cluster.get(self.cluster(wanted), []), self.by_domain.get(tool.domain, [])):
            for name in _sample(rng, pool, 8 * k, lambda n: n != wanted and n not in found):
                other = self.tools[name]
                same_resource = _singular(other.resource) == resource
                if other.action == action and not same_resource and action != "other":
                    found[name] = "wrong_entity"
                elif same_resource and other.action != action:
                    found[name] = "missing_capability"
                if len(found) == k:
                    return found
        return found

    def _make(self, bid, kind, targets, gold, rng, distractors=None, **extra) -> Blueprint:
        offered = list(dict.fromkeys(targets + (distractors or [])))
        rng.shuffle(offered)
        return Blueprint(
            bid,
            kind,
            offered,
            list(dict.fromkeys(targets)),
            gold,
            self.tools[targets[0]].domain if targets else "none",
            **extra,
        )

    # -- scenario types ---------------------------------------------------------------------
    def _simple(self, rng, bid):
        name = self._pick(rng)
        return self._make(bid, "simple", [name], [self._gold(name, rng)], rng)

    def _multiple(self, rng, bid):
        name = self._pick(rng)
        return self._make(bid, "multiple", [name], [self._gold(name, rng)], rng, self._distractors(rng, [name]))

    def _parallel(self, rng, bid):
        name = self._pick(rng, pool="with_params")
        factored = None
        if self.factored_share > 0 and random.Random(f"{bid}:factored").random() < self.factored_share:
            factored = self._factored_calls(name, random.Random(f"{bid}:factored-calls"))  # rng left as is
        if factored is not None:
            calls, varying = factored
        else:
            calls = []
            for _ in range(rng.randint(2, 3)):
                call = self._gold(name, rng)
                if call not in calls:
                    calls.append(call)
        if len(calls) < 2:
            raise _Skip("could not draw distinct parallel calls")
        blueprint = self._make(bid, "parallel", [name], calls, rng)
        if factored is not None:
            blueprint.notes.update(phrasing="factored", varying=varying)
        elif self.merged_share > 0 and random.Random(f"{bid}:phrasing").random() < self.merged_share:
            blueprint.notes["phrasing"] = "merged"
        return blueprint

    def _factored_calls(self, name: str, rng: random.Random) -> tuple[list[ToolCall], str] | None:
        """Two or three calls of ``name`` that differ in one scalar argument (a required one where
        there is one), the rest shared: the shape of BFCL's parallel questions ("the weather in
        Paris, Rome and Oslo"). None when the first call has no such argument."""
        tool = self.tools[name]
        first = self._gold(name, rng)
        required = set(tool.parameters.get("required", []))
        scalar = [p for p, v in first.arguments.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        pool = [p for p in scalar if p in required] or scalar
        if not pool:
            return None
        varying = rng.choice(pool)
        schema = tool.parameters["properties"][varying]
        calls, seen = [first], {first.arguments[varying]}
        for _ in range(rng.randint(1, 2)):
            for _ in range(8):
                value = self.simulator.generate(schema, rng, hint=varying)
                if value not in seen:
                    break
            else:
                continue
            arguments = {**first.arguments, varying: value}
            try:
                validate_arguments(tool, arguments)
            except ToolCallError:
                continue
            calls.append(ToolCall(name, arguments))
            seen.add(value)
        return (calls, varying) if len(calls) > 1 else None

    def _parallel_multiple(self, rng, bid):
        first = self._pick(rng)
        second = self._pick(rng, exclude={first})
        calls = [self._gold(first, rng), self._gold(second, rng)]
        return self._make(
            bid, "parallel_multiple", [first, second], calls, rng, self._distractors(rng, [first, second], 2)
        )

    def _irrelevance(self, rng, bid):
        wanted = self._pick(rng)  # the request is about this tool, which is NOT offered
        domain = self.tools[wanted].domain
        near = self.near_misses(rng, wanted) if rng.random() < self.near_miss_share else {}
        far = _sample(
            rng, self.names, self.distractors - len(near), lambda n: self.tools[n].domain != domain and n not in near
        )
        if not near and not far:
            raise _Skip("catalog has a single domain")
        blueprint = self._make(bid, "irrelevance", [], [], rng, [*near, *far])
        blueprint.domain = domain
        blueprint.notes = {
            "request_call": orjson.loads(orjson.dumps(asdict(self._gold(wanted, rng)))),
            "negatives": {**near, **dict.fromkeys(far, "other_domain")},
        }
        return blueprint

    def _missing_parameter(self, rng, bid):
        name = self._pick(rng, pool="with_required")
        call = self._gold(name, rng)
        missing = rng.choice(sorted(self.tools[name].parameters["required"]))
        return self._make(
            bid, "missing_parameter", [name], [call], rng, self._distractors(rng, [name], 1), missing_parameter=missing
        )

    def _multi_step(self, rng, bid):
        if not self.step_pairs:
            raise _Skip("no create/read pair in the catalog")
        creates, reads = self.step_pairs[rng.choice(sorted(self.step_pairs))]
        create, read = rng.choice(creates), rng.choice(reads)
        first = self._gold(create, rng)
        # The id comes from the first call's result; the gold records where it comes from.
        id_param = next(iter(self.tools[read].path_ids() or self.tools[read].parameters.get("required", [])), None)
        if id_param is None:
            raise _Skip("read tool has no id parameter")
        second = ToolCall(read, {id_param: "$result[0].id"})
        return self._make(
            bid,
            "multi_step",
            [create, read],
            [first, second],
            rng,
            self._distractors(rng, [create, read], 1),
            notes={"id_param": id_param},
        )

    def _multi_turn(self, rng, bid):
        first = self._pick(rng)
        second = self._pick(rng, exclude={first})
        return self._make(
            bid,
            "multi_turn",
            [first, second],
            [self._gold(first, rng), self._gold(second, rng)],
            rng,
            self._distractors(rng, [first, second], 1),
        )


class _Skip(Exception):
    pass


def _sample(rng: random.Random, pool: list[str], k: int, ok) -> list[str]:
    """Up to ``k`` distinct names of ``pool`` satisfying ``ok``, without scanning a large pool."""
    chosen: list[str] = []
    if k <= 0 or not pool:
        return chosen
    if len(pool) <= 8 * k:  # small pool: filter exactly
        left = [n for n in pool if ok(n)]
        return rng.sample(left, min(k, len(left)))
    for _ in range(16 * k):
        name = rng.choice(pool)
        if name not in chosen and ok(name):
            chosen.append(name)
            if len(chosen) == k:
                break
    return chosen


def _param_names(tool: CatalogTool) -> set[str]:
    return {n.lower().replace("_", "") for n in tool.parameters.get("properties", {})}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _singular(resource: str) -> str:
    """``pets`` / ``addresses`` / ``Pet`` → ``pet`` / ``address`` / ``pet``: resources compared
    without their plural."""
    word = resource.lower()
    for plural, single in (("ies", "y"), ("sses", "ss"), ("ses", "s"), ("s", "")):
        if word.endswith(plural) and len(word) > len(plural) + 2:
            return word[: -len(plural)] + single
    return word


def _is_complex(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") in ("object", "array") or "allOf" in schema or "oneOf" in schema or "anyOf" in schema
    )
