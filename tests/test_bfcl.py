"""BFCL: data from the pinned wheel, decoding, our AST rules vs the official checker, aggregation, CLI."""

import copy
import gzip
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from inftool_dagster.bfcl import ALL_CATEGORIES, aggregate, check_ast, load_category, score_entry
from inftool_dagster.bfcl.decode import DecodeError, decode_ast, is_empty_output, is_function_calling_format
from inftool_dagster.bfcl.evaluate import aggregate_with_intervals, score_results
from inftool_dagster.bfcl.official import official_checker
from inftool_dagster.bfcl.prompting import prompt_messages
from inftool_dagster.bfcl.splits import select, split_of
from inftool_dagster.cli import main
from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.tool_calls import ToolCall, render_python
from inftool_dagster.llm.types import Generation

AST_CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)


def gold_output(entry: dict, rng: random.Random) -> list[dict]:
    """A correct output: one possible value per parameter (optional ones sometimes left out)."""
    out = []
    for call in entry["possible_answer"]:
        for name, params in call.items():
            args = {}
            for param, possible in params.items():
                choices = [v for v in possible if v != ""]
                if choices and ("" not in possible or rng.random() < 0.5):
                    args[param] = rng.choice(choices)
            out.append({name: args})
    return out


def mutate(output: list[dict], entry: dict, rng: random.Random) -> list[dict]:
    out = copy.deepcopy(output)
    kind = rng.choice(
        [
            "drop",
            "extra",
            "retype",
            "restring",
            "rename",
            "reorder",
            "duplicate",
            "empty",
            "float_int",
            "list_tuple",
            "bool_int",
            "case",
        ]
    )
    if kind == "empty" or not out:
        return []
    call = rng.choice(out)
    name = next(iter(call))
    args = call[name]
    if kind == "drop" and args:
        args.pop(rng.choice(list(args)))
    elif kind == "extra":
        args[rng.choice(["unit", "zzz", next(iter(args), "x")])] = rng.choice([1, "x", None, [1]])
    elif kind == "retype" and args:
        key = rng.choice(list(args))
        value = args[key]
        args[key] = str(value) if not isinstance(value, str) else (len(value) if rng.random() < 0.5 else [value])
    elif kind == "restring" and args:
        key = rng.choice(list(args))
        if isinstance(args[key], str):
            args[key] = args[key].upper().replace(" ", "-") if rng.random() < 0.5 else args[key] + " extra"
    elif kind == "rename":
        call[name + "_v2" if rng.random() < 0.5 else name.split(".")[-1]] = call.pop(name)
    elif kind == "reorder":
        rng.shuffle(out)
    elif kind == "duplicate":
        out.append(copy.deepcopy(call))
    elif kind == "float_int" and args:
        for key, value in args.items():
            if isinstance(value, float) and value.is_integer():
                args[key] = int(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                args[key] = float(value)
    elif kind == "list_tuple" and args:
        for key, value in args.items():
            if isinstance(value, list):
                args[key] = tuple(value) if rng.random() < 0.5 else value[::-1]
    elif kind == "bool_int" and args:
        for key, value in args.items():
            if isinstance(value, bool):
                args[key] = int(value)
            elif isinstance(value, int) and value in (0, 1):
                args[key] = bool(value)
    elif kind == "case" and args:
        for key, value in args.items():
            if isinstance(value, list) and value and isinstance(value[0], str):
                args[key] = [v.title() for v in value]
            elif isinstance(value, dict):
                args[key] = {k: (v.upper() if isinstance(v, str) else v) for k, v in value.items()}
    return out


def _verdict(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # both sides must fail the same way on malformed docs
        return f"raised {type(exc).__name__}"


def _source(value, described: str, items: str | None, language: str) -> str:
    """A Java/JavaScript source rendering of a possible answer (what a model would write)."""

    def literal(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return f'"{v}"' if isinstance(v, str) else str(v)

    if isinstance(value, bool):
        return literal(value)
    if language == "java":
        if described == "long":
            return f"{value}L"
        if described == "ArrayList" and isinstance(value, list):
            return f"new ArrayList<>(Arrays.asList({', '.join(literal(v) for v in value)}))"
        if described == "Array" and isinstance(value, list):
            kind = {"integer": "int", "char": "char"}.get(items, "String")
            return f"new {kind}[]{{{', '.join(literal(v) for v in value)}}}"
        if described == "HashMap" and isinstance(value, dict):
            puts = " ".join(f'put("{k}", {literal(v[0] if isinstance(v, list) else v)});' for k, v in value.items())
            return f"new HashMap<String, String>() {{{{ {puts} }}}}"
    else:
        if described == "Bigint":
            return f"{value}n"
        if isinstance(value, list):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        if isinstance(value, dict):
            return (
                "{" + ", ".join(f"{k}: {literal(v[0] if isinstance(v, list) else v)}" for k, v in value.items()) + "}"
            )
    return str(value)


def _source_text(entry: dict, language: str, rng: random.Random, wrong: bool) -> str:
    """The model's raw text for one Java/JS entry: the gold call in source syntax, or a wrong one."""
    ((name, params),) = entry["possible_answer"][0].items()
    props = entry["function"][0]["parameters"]["properties"]
    args = []
    for param, possible in params.items():
        choices = [v for v in possible if v != ""]
        if not choices or ("" in possible and rng.random() < 0.3):
            continue
        details = props.get(param, {"type": "String"})
        text = _source(rng.choice(choices), details["type"], details.get("items", {}).get("type"), language)
        args.append((param, text))
    if wrong and args:
        kind = rng.choice(["drop", "value", "unquoted", "name", "extra"])
        i = rng.randrange(len(args))
        if kind == "drop":
            args.pop(i)
        elif kind == "value":
            args[i] = (args[i][0], args[i][1] + "1")
        elif kind == "unquoted":
            return f"[{name}({', '.join(f'{k}={v}' for k, v in args)})]"
        elif kind == "name":
            name += "X"
        else:
            args.append(("zzz", "1"))
    return f"[{name}({', '.join(f'{k}={json.dumps(v)}' for k, v in args)})]"


@pytest.mark.parametrize("category", ["simple_java", "simple_javascript"])
def test_java_and_javascript_verdicts_equal_the_official_pipeline(category):
    """Raw model text → BFCL's decoder → BFCL's checker, against ours, on every entry."""
    from inftool_dagster.bfcl.decode import DecodeError
    from inftool_dagster.bfcl.official import bfcl_module

    official, lang = official_checker()
    language = "java" if category == "simple_java" else "javascript"
    parser = (
        bfcl_module("model_handler.parser.java_parser").parse_java_function_call
        if language == "java"
        else bfcl_module("model_handler.parser.js_parser").parse_javascript_function_call
    )
    enum = lang.JAVA if language == "java" else lang.JAVASCRIPT
    rng = random.Random(1)
    compared, valid, disagreements = 0, 0, []
    for entry in load_category(category):
        for wrong in (False, True, True):
            text = _source_text(entry, language, rng, wrong)
            try:
                decoded = parser(text.strip("`\n ")[1:-1])
                theirs = _verdict(
                    lambda: official(entry["function"], decoded, entry["possible_answer"], enum, category, "local")[
                        "valid"
                    ]
                )
            except Exception:
                theirs = "decode failed"
            ours = score_entry(entry, text, category)
            ours = "decode failed" if ours["error_type"] == "ast_decoder:decoder_failed" else ours["valid"]
            compared += 1
            valid += theirs is True
            if theirs != ours:
                disagreements.append((entry["id"], text, theirs, ours))
    assert compared == 3 * len(load_category(category))
    assert valid >= len(load_category(category)) // 3  # the renderer produces correct calls, not only noise
    assert disagreements == [], disagreements[:5]
    with pytest.raises(DecodeError):
        decode_ast("[not java at all(", language)


def test_data_comes_from_the_pinned_wheel():
    assert len(load_category("simple_python")) == 400 and len(load_category("multiple")) == 200
    entry = load_category("simple_python")[0]
    assert entry["id"] == "simple_python_0" and entry["possible_answer"][0]["calculate_triangle_area"]["base"] == [10]
    assert load_category("irrelevance")[0].get("possible_answer") is None


def test_verdicts_equal_the_official_checker_on_correct_and_wrong_outputs():
    """Every AST entry of BFCL (non-live and live): a correct output and 3 mutated ones each."""
    official, language = official_checker()
    rng = random.Random(0)
    compared, disagreements, wrong = 0, [], 0
    for category in AST_CATEGORIES:
        for entry in load_category(category):
            good = gold_output(entry, rng)
            for output in [good] + [mutate(good, entry, rng) for _ in range(3)]:
                theirs = _verdict(
                    lambda: official(
                        entry["function"], output, entry["possible_answer"], language.PYTHON, category, "local"
                    )["valid"]
                )
                ours = _verdict(lambda: check_ast(entry["function"], output, entry["possible_answer"], category).valid)
                compared += 1
                wrong += theirs is False
                if theirs != ours:
                    disagreements.append((entry["id"], output, theirs, ours))
    assert compared > 9000 and wrong > 3000  # the wrong outputs really are wrong, in many ways
    assert disagreements == [], disagreements[:5]


def test_error_types_match_the_official_checker():
    official, language = official_checker()
    rng = random.Random(1)
    for category in ("simple_python", "parallel", "multiple"):
        for entry in list(load_category(category))[:60]:
            output = mutate(gold_output(entry, rng), entry, rng)
            theirs = official(entry["function"], output, entry["possible_answer"], language.PYTHON, category, "local")
            ours = check_ast(entry["function"], output, entry["possible_answer"], category)
            if not theirs["valid"]:
                assert ours.error_type == theirs["error_type"], (entry["id"], output)


def test_decoding_follows_bfcl():
    assert decode_ast("[math.hypot(x=4, y=5)]") == [{"math.hypot": {"x": 4, "y": 5}}]
    assert decode_ast("```\nf(a=-1, b=[1, 2], c={'k': 'v'}, d=(1, 2))\n```") == [
        {"f": {"a": -1, "b": [1, 2], "c": {"k": "v"}, "d": (1, 2)}}
    ]
    assert decode_ast("[f(a=2*3)]") == [{"f": {"a": 6}}]
    with pytest.raises(DecodeError):
        decode_ast("I cannot help with that.")
    with pytest.raises(DecodeError):
        decode_ast("[f(a=__import__('os').system('true') + 1)]")  # no code is evaluated
    assert is_empty_output([]) and is_empty_output([{}]) and not is_empty_output([{"f": {}}])


def test_score_entry_on_raw_text_all_paths():
    entry = load_category("simple_python")[0]
    good = render_python([ToolCall("calculate_triangle_area", {"base": 10, "height": 5})])
    assert score_entry(entry, good, "simple_python")["valid"]
    assert (
        score_entry(entry, good + "\nHope this helps!", "simple_python")["error_type"] == "ast_decoder:decoder_failed"
    )
    assert (
        score_entry(entry, "[calculate_triangle_area(base=10)]", "simple_python")["error_type"]
        == "simple_function_checker:missing_required"
    )
    irrelevant = load_category("irrelevance")[0]
    assert score_entry(irrelevant, "None of the functions can be used.", "irrelevance")["valid"]
    assert not score_entry(irrelevant, "[f(a=1)]", "irrelevance")["valid"]
    relevance = load_category("live_relevance")[0]
    assert score_entry(relevance, "[f(a=1)]", "live_relevance")["valid"]


def test_prompt_is_bfcl_v4_prompting_format():
    entry = load_category("simple_python")[0]
    messages = prompt_messages(entry)
    assert messages[0]["role"] == "system" and "You are an expert in composing functions" in messages[0]["content"]
    assert "Note that the provided function is in Python 3 syntax." in messages[0]["content"]
    assert messages[1] == entry["question"][0][0]
    assert entry["function"][0]["description"].endswith("height.")  # the cached entry is not modified
    compact = prompt_messages(entry, "compact")
    assert len(compact[0]["content"]) < len(messages[0]["content"])


def test_aggregation_matches_the_leaderboard_formulas():
    counts = {
        "simple_python": (200, 400),
        "simple_java": (20, 100),
        "simple_javascript": (10, 50),
        "multiple": (80, 200),
        "parallel": (20, 200),
        "parallel_multiple": (0, 200),
        "live_simple": (50, 100),
        "live_multiple": (75, 300),
    }
    cats = {c: {"accuracy": k / n, "correct_count": k, "total_count": n} for c, (k, n) in counts.items()}
    out = aggregate(cats)
    with_ci = aggregate_with_intervals(cats)
    lo, hi = with_ci["non_live_ast_summary"]["ci95"]
    assert lo < out["non_live_ast_summary"] < hi and with_ci["live_ast_summary"]["total"] == 400
    assert out["non_live_ast_summary"] == pytest.approx(((0.5 + 0.2 + 0.2) / 3 + 0.4 + 0.1 + 0.0) / 4)
    assert out["live_ast_summary"] == pytest.approx((0.5 * 100 + 0.25 * 300) / 400)
    assert aggregate({"simple_python": cats["simple_python"]})["non_live_ast_summary"] is None


def test_cli_eval_with_a_tiny_model_and_score_roundtrip(tmp_path, tiny_dir):
    result = CliRunner().invoke(
        main,
        [
            "bfcl",
            "eval",
            "--model",
            str(tiny_dir),
            "--categories",
            "simple_python,irrelevance",
            "--limit",
            "3",
            "--max-new-tokens",
            "8",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["entries"] == 6 and set(summary["accuracy"]) == {"simple_python", "irrelevance"}
    assert summary["split"] == "test" and summary["sample"] == 3  # reports default to the test split
    assert summary["categories"]["simple_python"]["total"] == 3 and "ci95" in summary["categories"]["simple_python"]
    model_dir = str(tiny_dir).replace("/", "_")
    lines = (tmp_path / "result" / model_dir / "BFCL_v4_simple_python_result.json").read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert ids == [e["id"] for e in select(load_category("simple_python"), "test", 3)]
    assert all(split_of(i) == "test" for i in ids)
    header = json.loads(
        (tmp_path / "score" / model_dir / "BFCL_v4_simple_python_score.json").read_text().splitlines()[0]
    )
    assert header["total_count"] == 3
    rescored = score_results(tmp_path / "result" / model_dir)
    assert rescored["accuracy"] == summary["accuracy"]
    bad = CliRunner().invoke(
        main, ["bfcl", "eval", "--model", str(tiny_dir), "--categories", "nonsense", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code != 0 and "unknown BFCL category" in bad.output


def test_supported_categories_listed():
    assert {"simple_python", "live_simple", "irrelevance", "live_relevance"} <= set(ALL_CATEGORIES)


def test_no_bfcl_leak_into_training_sets(sample_build, tmp_path):
    """A bundled tool shares a BFCL function name (convert_currency): verify drops those rows, and
    the training views are clean; a BFCL entry planted in a set is caught."""
    import polars as pl

    from inftool_dagster.bfcl.leakage import find_leaks
    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.synthesis import Planner
    from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
    from inftool_dagster.synthesis.user_simulator import UserSimulator
    from inftool_dagster.training.views import gold_trajectory_rows
    from inftool_dagster.verification import verify

    sample_build.write(tmp_path / "catalog")
    server = CatalogServer.from_catalog(tmp_path / "catalog")
    rows = gold_trajectory_rows(
        Planner(list(server.tools.values()), seed=0).plan(0, 96),
        server,
        UserSimulator({n: t.description for n, t in server.tools.items()}, None, 0),
    )
    frame = pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA)
    assert find_leaks(frame["tools"].to_list(), []).function_names == ["convert_currency"]
    (tmp_path / "traj").mkdir()
    frame.write_parquet(tmp_path / "traj" / "shard-00000.parquet")
    summary = verify(tmp_path / "traj", tmp_path / "catalog", tmp_path / "out")
    assert summary["views"]["dropped_bfcl_overlap"] > 0
    for name, column in (("grpo_train", "prompt"), ("sft_train", "messages"), ("grpo_heldout", "prompt")):
        view = pl.read_parquet(tmp_path / "out" / f"{name}.parquet")
        assert view.height and find_leaks(view["tools"].to_list(), view[column].to_list()).clean
    entry = load_category("simple_python")[5]
    planted = find_leaks([[{"type": "function", "function": entry["function"][0]}]], [entry["question"][0]])
    assert planted.function_names == [entry["function"][0]["name"]] and len(planted.questions) == 1


def _keyword_form(call: str, classes: list[str]) -> str:
    """A ground-truth call (positional arguments allowed) as a model must write it: keywords only."""
    import ast
    import inspect

    from inftool_dagster.bfcl.official import bfcl_module

    paths = bfcl_module("constants.executable_backend_config").CLASS_FILE_PATH_MAPPING
    node = ast.parse(call, mode="eval").body
    name = node.func.id
    for cls in classes:
        klass = getattr(bfcl_module(paths[cls].removeprefix("bfcl_eval.")), cls)
        if hasattr(klass, name):
            params = [p for p in inspect.signature(getattr(klass, name)).parameters if p != "self"]
            break
    args = [f"{params[i]}={ast.unparse(a)}" for i, a in enumerate(node.args)]
    args += [f"{k.arg}={ast.unparse(k.value)}" for k in node.keywords]
    return f"{name}({', '.join(args)})"


def _gold_turns(entry: dict) -> list[list[str]]:
    return [
        ["[" + ", ".join(_keyword_form(c, entry["involved_classes"]) for c in turn) + "]", "Done."]
        if turn
        else ["I cannot do that."]
        for turn in entry["possible_answer"]
    ]


@pytest.mark.parametrize(
    "category", ["multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context"]
)
def test_multi_turn_state_checker_accepts_gold_and_rejects_wrong_runs(category):
    """BFCL's stateful checker on every entry: the ground truth (as a model writes it) passes;
    a run missing one turn's last call, or with a changed argument, fails with BFCL's error types."""
    from inftool_dagster.bfcl.multi_turn import multi_turn_entries, score_multi_turn

    rng = random.Random(2)
    entries = multi_turn_entries(category)
    assert len(entries) == 200 and all(e["function"] for e in entries)
    if category == "multi_turn_miss_func":
        held = [e for e in entries if e["missed_function"]]
        assert held and all(
            not any(f["name"] == h["name"] for f in e["function"])
            for e in held
            for docs in e["missed_function"].values()
            for h in docs
        )
    gold_valid, wrong_caught, kinds = 0, 0, set()
    for entry in entries:
        gold = _gold_turns(entry)
        gold_valid += score_multi_turn(entry, gold, category)["valid"]
        turns = [i for i, t in enumerate(entry["possible_answer"]) if t]
        broken = copy.deepcopy(gold)
        turn = rng.choice(turns)
        calls = [_keyword_form(c, entry["involved_classes"]) for c in entry["possible_answer"][turn]]
        if rng.random() < 0.5:
            broken[turn] = ["[" + ", ".join(calls[:-1]) + "]"] if len(calls) > 1 else ["No call."]
        else:
            broken[turn] = ["[" + ", ".join(calls).replace("'", "'x", 1) + "]"]
        verdict = score_multi_turn(entry, broken, category)
        wrong_caught += not verdict["valid"]
        kinds.add(verdict["error_type"])
    assert gold_valid == len(entries)
    assert wrong_caught >= 0.7 * len(entries), wrong_caught  # some edits are harmless (e.g. a read-only call)
    assert {"multi_turn:empty_turn_model_response"} & kinds or {"multi_turn:instance_state_mismatch"} & kinds
    assert (
        score_multi_turn(entries[0], _gold_turns(entries[0])[:-1], category)["error_type"]
        == "multi_turn:force_terminated"
    )


class _Replay(LLMBackend):
    """Answers each conversation with its entry's ground truth, turn by turn (drives the loop)."""

    def __init__(self, entries):
        self.entries = entries

    def generate(self, conversations, params, tools=None):
        out = []
        for conversation in conversations:
            entry = next(
                e
                for e in self.entries
                if e["question"][0][0]["content"] in [m["content"] for m in conversation if m["role"] == "user"]
            )
            turn = sum(m["role"] == "user" for m in conversation) - 1
            step = sum(m["role"] == "assistant" for m in conversation[self._turn_start(conversation) :])
            texts = _gold_turns(entry)[turn]
            out.append([Generation(text=texts[min(step, len(texts) - 1)])])
        return out

    @staticmethod
    def _turn_start(conversation):
        return max(i for i, m in enumerate(conversation) if m["role"] == "user")


def test_multi_turn_driver_executes_calls_and_feeds_results_back(tmp_path, tiny_dir):
    from inftool_dagster.bfcl.evaluate import evaluate
    from inftool_dagster.bfcl.multi_turn import multi_turn_entries, run_multi_turn, score_multi_turn

    entries = multi_turn_entries("multi_turn_base")[:3]
    rows = run_multi_turn(_Replay(entries), entries)
    assert [len(r["result"]) for r in rows] == [len(e["question"]) for e in entries]
    assert all(score_multi_turn(e, r["result"], "multi_turn_base")["valid"] for e, r in zip(entries, rows))
    # a real (tiny, untrained) model through the CLI path: garbage is scored, never crashes
    from inftool_dagster.llm.backend import TransformersConfig
    from inftool_dagster.llm.factory import make_backend

    backend = make_backend(TransformersConfig(model=str(tiny_dir), batch_size=2))
    summary = evaluate(backend, ["multi_turn_base"], tmp_path, model_name="tiny", limit=2, max_new_tokens=8)
    assert summary["entries"] == 2 and summary["accuracy"]["multi_turn_base"] == 0.0
    result = tmp_path / "result" / "tiny" / "BFCL_v4_multi_turn_base_result.json"
    rows = [json.loads(line) for line in result.read_text().splitlines()]
    sampled = {e["id"]: e for e in multi_turn_entries("multi_turn_base")}
    assert [len(r["result"]) for r in rows] == [len(sampled[r["id"]]["question"]) for r in rows]
    assert score_results(tmp_path / "result" / "tiny")["accuracy"] == {"multi_turn_base": 0.0}


def test_multi_turn_execution_reaches_only_backend_methods():
    from inftool_dagster.bfcl.decode import BLOCKED_CALL, to_execution_calls
    from inftool_dagster.bfcl.multi_turn import backend_methods, multi_turn_entries, score_multi_turn

    allowed = backend_methods(("GorillaFileSystem",))
    assert {"ls", "cd", "mv"} <= allowed and "open" not in allowed
    calls = to_execution_calls(
        decode_ast("[ls(a=True), inspect.os.system(command='true'), open(file='/etc/passwd')]"), allowed
    )
    assert calls == ["ls(a=True)", BLOCKED_CALL, BLOCKED_CALL]
    entry = multi_turn_entries("multi_turn_base")[0]
    verdict = score_multi_turn(
        entry,
        [["[inspect.os.system(command='touch /tmp/inftool_pwned')]"]] * len(entry["possible_answer"]),
        "multi_turn_base",
    )
    assert not verdict["valid"]
    import os

    assert not os.path.exists("/tmp/inftool_pwned")


REAL_OUTPUTS = Path(__file__).parent / "data" / "trained_outputs"


def test_verdicts_equal_the_official_checker_on_a_trained_checkpoints_real_outputs():
    """A trained checkpoint's raw outputs for a whole BFCL category (recorded with
    ``inftool bfcl eval --split all``; command in the directory's README), decoded once and judged
    by both checkers: identical verdicts on every entry, on outputs no one wrote to be tested."""
    official, language = official_checker()
    files = sorted(REAL_OUTPUTS.glob("BFCL_v4_*_result.json.gz"))
    assert files
    for path in files:
        category = path.name[len("BFCL_v4_") : -len("_result.json.gz")]
        entries = {e["id"]: e for e in load_category(category)}
        rows = [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines()]
        assert {r["id"] for r in rows} == set(entries)  # the whole category
        decoded_count, valid, disagreements = 0, 0, []
        for row in rows:
            entry = entries[row["id"]]
            try:
                decoded = decode_ast(row["result"])
            except DecodeError:
                continue  # both pipelines stop at the decoder for these
            if not is_function_calling_format(decoded):
                continue
            decoded_count += 1
            theirs = _verdict(
                lambda: official(
                    entry["function"], decoded, entry["possible_answer"], language.PYTHON, category, "local"
                )["valid"]
            )
            ours = _verdict(lambda: check_ast(entry["function"], decoded, entry["possible_answer"], category).valid)
            valid += ours is True
            if theirs != ours:
                disagreements.append((row["id"], row["result"], theirs, ours))
        # real call lists, some right and many wrong: the comparison is not vacuous
        assert decoded_count >= len(rows) // 4 and 0 < valid < decoded_count, (decoded_count, valid)
        assert disagreements == [], disagreements[:5]
