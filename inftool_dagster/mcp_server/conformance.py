"""Do the simulator's drawn arguments and results satisfy the tools' own schemas?

For each tool (or a seeded sample) one argument object is drawn from the parameters schema
and checked the way the server checks a call (jsonschema with ECMA patterns and formats,
no unknown parameters), and one result is drawn from the response schema and checked
against it, before any regeneration. A failure counts under the jsonschema keyword that
broke (the best-matching error's ``validator``); a schema that contradicts itself is
counted as unsatisfiable, apart from the rates.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import best_match

from .ecma import PATTERN_ERRORS, schema_validator
from .simulator import CatalogTool, Simulator
from .values import unsatisfiable

MAX_EXAMPLES = 5


@dataclass
class Verdict:
    """One drawn value against its schema."""

    valid: bool
    keyword: str = ""  # the jsonschema keyword that failed ("exception" when drawing crashed)
    message: str = ""
    unsatisfiable: str | None = None  # why no value could pass, when the schema contradicts itself


def judge(schema: Any, value: Any, *, arguments: bool = False) -> Verdict:
    """Validate ``value``; ``arguments`` adds the server's rule that only declared parameters pass."""
    try:
        error = best_match(schema_validator(schema).iter_errors(value))
    except PATTERN_ERRORS as exc:  # no engine evaluates the pattern: no call that reaches it can be validated
        reason = unsatisfiable(schema) or f"a pattern cannot be evaluated ({exc})"
        return Verdict(False, "pattern", f"pattern cannot be evaluated: {exc}", reason)
    if error is None and arguments and isinstance(value, dict):
        unknown = sorted(set(value) - set(schema.get("properties") or {}))
        if unknown:
            return Verdict(False, "additionalProperties", f"unknown parameter {unknown[0]!r}")
    if error is None:
        return Verdict(True)
    where = "/".join(str(p) for p in error.absolute_path)
    return Verdict(False, str(error.validator), f"{where or '(root)'}: {error.message[:200]}", unsatisfiable(schema))


@dataclass
class ToolCheck:
    name: str
    arguments: Verdict
    result: Verdict | None  # None: the tool has no response schema


def check_tool(simulator: Simulator, tool: CatalogTool, rng: random.Random) -> ToolCheck:
    """Draw arguments and a result for ``tool`` as synthesis and the server do, and judge both."""
    try:
        args = simulator.generate(tool.parameters, rng)
    except Exception as exc:  # a crash in the generator is a failure of this tool, not of the check
        args, verdict = None, Verdict(False, "exception", f"{type(exc).__name__}: {exc}"[:200])
    else:
        verdict = judge(tool.parameters, args, arguments=True)
    result = None
    if tool.response_schema is not None:
        try:
            drawn = simulator.generate(
                tool.response_schema, simulator.rng(tool, args if isinstance(args, dict) else {}), hint="result"
            )
        except Exception as exc:
            result = Verdict(False, "exception", f"{type(exc).__name__}: {exc}"[:200])
        else:
            result = judge(tool.response_schema, drawn)
    return ToolCheck(tool.name, verdict, result)


@dataclass
class ConformanceReport:
    tools: int = 0
    args_valid: int = 0
    args_unsatisfiable: int = 0
    results_checked: int = 0  # tools with a response schema
    results_valid: int = 0
    results_unsatisfiable: int = 0
    args_failures: Counter = field(default_factory=Counter)
    results_failures: Counter = field(default_factory=Counter)
    examples: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    _shown: Counter = field(default_factory=Counter, repr=False)  # examples kept per (part, unsatisfiable)

    @property
    def args_valid_rate(self) -> float:
        """Over tools whose parameters schema can be satisfied at all."""
        return self.args_valid / max(1, self.tools - self.args_unsatisfiable)

    @property
    def results_valid_rate(self) -> float:
        """Over tools with a satisfiable response schema."""
        return self.results_valid / max(1, self.results_checked - self.results_unsatisfiable)

    def add(self, check: ToolCheck) -> None:
        self.tools += 1
        self._count("args", check.name, check.arguments)
        if check.result is not None:
            self.results_checked += 1
            self._count("results", check.name, check.result)

    def _count(self, part: str, name: str, verdict: Verdict) -> None:
        if verdict.valid:
            setattr(self, f"{part}_valid", getattr(self, f"{part}_valid") + 1)
            return
        if verdict.unsatisfiable:
            setattr(self, f"{part}_unsatisfiable", getattr(self, f"{part}_unsatisfiable") + 1)
            kind = "unsatisfiable"
        else:
            getattr(self, f"{part}_failures")[verdict.keyword] += 1
            kind = verdict.keyword
        shown = (part, kind == "unsatisfiable")
        if self._shown[shown] < MAX_EXAMPLES:
            self._shown[shown] += 1
            reason = verdict.unsatisfiable or verdict.message
            self.examples.append({"tool": name, "part": part, "keyword": kind, "reason": reason[:300]})

    def as_dict(self) -> dict:
        return {
            "tools": self.tools,
            "args_valid_rate": round(self.args_valid_rate, 5),
            "results_valid_rate": round(self.results_valid_rate, 5),
            "results_checked": self.results_checked,
            "args_valid": self.args_valid,
            "results_valid": self.results_valid,
            "unsatisfiable": {"args": self.args_unsatisfiable, "results": self.results_unsatisfiable},
            "failures_by_keyword": {
                "args": dict(self.args_failures.most_common()),
                "results": dict(self.results_failures.most_common()),
            },
            "examples": self.examples,
            "seconds": round(self.seconds, 2),
        }


def sample_tools(tools: list[CatalogTool], sample: int | None, seed: int) -> list[CatalogTool]:
    """Every tool, or a seeded sample of ``sample`` in catalog order (the same sample for the same seed)."""
    if sample is None or sample >= len(tools):
        return tools
    keep = sorted(random.Random(seed).sample(range(len(tools)), sample))
    return [tools[i] for i in keep]


def check_tools(tools: Iterable[CatalogTool], *, seed: int = 0) -> ConformanceReport:
    """Judge one drawn argument object and one drawn result per tool; each tool's draw is seeded by its name."""
    simulator = Simulator(seed)
    report = ConformanceReport()
    start = time.perf_counter()
    for tool in tools:
        report.add(check_tool(simulator, tool, random.Random(f"{seed}:{tool.name}")))
    report.seconds = time.perf_counter() - start
    return report
