"""What a round's gold calls ask for, as planned by default and with the data-hygiene switches
(``Planner.max_optional_args``, ``Planner.skip_boilerplate``): optional arguments per call, the
share of calls naming an API's boilerplate parameters (``catalog.boilerplate``), and how long the
User Simulator's requests are. Planning and realizing only, no model; the same blueprints (seed,
catalog, mix) under each setting.

    .venv/bin/python experiments/gold_arguments.py --home .experiments/headline/loop --round r0002 \
        [--record docs/bench/gold_arguments.json]
"""

from __future__ import annotations

import statistics

from round_records import print_and_record, round_arguments  # this directory is on sys.path as a script

SETTINGS = {
    "as_drawn": {},
    "max_optional_2": {"max_optional_args": 2},
    "skip_boilerplate": {"skip_boilerplate": True},
    "clean": {"max_optional_args": 2, "skip_boilerplate": True},
}
BLUEPRINTS = 600


def figures(tools, settings: dict) -> dict:
    from inftool_dagster.catalog.boilerplate import boilerplate_parameters
    from inftool_dagster.synthesis import Planner
    from inftool_dagster.synthesis.user_simulator import UserSimulator

    boilerplate = boilerplate_parameters(tools)
    planner = Planner(tools, seed=0, **settings)
    blueprints = planner.plan(0, BLUEPRINTS)
    optional, with_boilerplate, calls = [], 0, 0
    for blueprint in blueprints:
        for call in blueprint.gold_calls:
            required = set(planner.tools[call.name].parameters.get("required", []))
            optional.append(sum(1 for p in call.arguments if p not in required))
            with_boilerplate += bool(set(call.arguments) & boilerplate.get(call.name, frozenset()))
            calls += 1
    texts = [text for text, _ in UserSimulator.for_tools(tools).requests(blueprints)]
    words = [len(t.split()) for t in texts]
    return {
        "blueprints": len(blueprints),
        "calls": calls,
        "optional_args_mean": round(statistics.mean(optional), 3),
        "optional_args_p90": statistics.quantiles(optional, n=10)[-1],
        "calls_with_boilerplate": with_boilerplate,
        "calls_with_boilerplate_share": round(with_boilerplate / max(1, calls), 3),
        "request_words_median": statistics.median(words),
        "request_words_p90": statistics.quantiles(words, n=10)[-1],
    }


def main() -> None:
    from inftool_dagster.mcp_server.simulator import load_tools

    args = round_arguments(__doc__.splitlines()[0])
    tools = load_tools(args.home / "rounds" / args.round / "catalog")
    print_and_record(args, {name: figures(tools, settings) for name, settings in SETTINGS.items()})


if __name__ == "__main__":
    main()
