"""When evolution stops: after ``max_rounds`` rounds, or when the score has not improved for
``patience`` rounds in a row."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class StopRule(BaseModel):
    max_rounds: int = Field(5, ge=1)
    patience: int = Field(2, ge=1, description="Rounds without improvement before stopping.")
    min_improvement: float = 0.0


HEADLINE_SCORE = "non_live_python_ast_summary"  # the BFCL summary the loop steers and stops by


class EvolutionSettings(StopRule):
    """How the loop evolves by itself: when it stops, and how strongly gaps steer the next round."""

    gap_boost: float = Field(2.0, ge=0, description="Next weight = weight × (1 + gap_boost × error rate).")
    score_key: str = Field(HEADLINE_SCORE, description="The headline score in bfcl/summary.json.")
    min_share: dict[str, float] = Field(
        default_factory=dict,
        description="Scenario type → the least share of the next round's mix it keeps whatever the gaps say "
        '(e.g. {"irrelevance": 0.2}): gaps raise what the policy fails, which thins out what it still does '
        "right, and a skill the data stops showing is forgotten. Empty: off.",
    )

    @field_validator("min_share")
    @classmethod
    def _shares(cls, value: dict[str, float]) -> dict[str, float]:
        from inftool_dagster.synthesis.blueprints import SCENARIO_TYPES

        unknown = sorted(set(value) - set(SCENARIO_TYPES))
        if unknown:
            raise ValueError(f"min_share names unknown scenario types {unknown}; known: {list(SCENARIO_TYPES)}")
        if any(v < 0 for v in value.values()) or sum(value.values()) >= 1:
            raise ValueError("min_share values must be >= 0 and sum to less than 1")
        return value


def should_stop(scores: list[float | None], rule: StopRule) -> tuple[bool, str]:
    """``scores``: the headline score of rounds 0..n in order (None where not measured)."""
    if len(scores) >= rule.max_rounds:
        return True, f"reached max_rounds={rule.max_rounds}"
    known = [s for s in scores if s is not None]
    if len(known) > rule.patience:
        best_before = max(known[: -rule.patience])
        if max(known[-rule.patience :]) <= best_before + rule.min_improvement:
            return True, f"no improvement over {best_before:.4f} for {rule.patience} rounds"
    return False, "continue"


def best_round(keys: list[str], scores: list[float | None]) -> str | None:
    """The round whose checkpoint to keep: the highest dev score, the earlier round on a tie
    (a later round must beat it, not match it); None when no round has a score. The scores are
    dev scores (``capability_gaps`` refuses any other split): test never chooses a checkpoint."""
    known = [(s, -i, k) for i, (k, s) in enumerate(zip(keys, scores)) if s is not None]
    return max(known)[2] if known else None
