"""The MCP tree: embeddings, near-duplicate groups, domains, the tree build and its CLI.

Uses the real embedding model (all-MiniLM-L6-v2, fetched once from its pinned wheel)."""

import json

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from inftool_dagster.catalog.domains import build_domains, domain_count, purity
from inftool_dagster.catalog.duplicates import (
    DEFAULT_THRESHOLD,
    choose_threshold,
    find_duplicates,
    load_labels,
    make_signature,
    nearest_pairs,
    params_compatible,
    signature,
    threshold_table,
)
from inftool_dagster.catalog.embeddings import (
    MAX_TEXT_CHARS,
    EmbeddingCache,
    ToolEmbedder,
    embed_texts,
    tool_text,
)
from inftool_dagster.catalog.records import ToolFunction, functions_frame
from inftool_dagster.catalog.tree import EmptyCatalogError, TreePlace, build_tool_tree, load_tool_tree
from inftool_dagster.cli import main


@pytest.fixture(scope="module")
def embedder():
    return ToolEmbedder()


def tool(name, description, params=None, required=(), *, method="GET", path=None, spec="demo", domain="misc", op=None):
    props = {p: ({"type": "string", "description": d} if d else {"type": "string"}) for p, d in (params or {}).items()}
    schema = {"type": "object", "properties": props, "required": list(required)}
    return ToolFunction(
        name=name,
        description=description,
        parameters=json.dumps(schema),
        response_schema=None,
        spec_id=spec,
        spec_title=spec,
        domain=domain,
        source_format="openapi-3.0",
        method=method,
        path=path or f"/{name}",
        operation_id=op or name,
        param_locations=json.dumps({p: {"in": "query", "name": p} for p in props}),
        stable_key=f"{spec}\x1f{name}",
    )


def write_catalog(root, tools):
    root.mkdir(parents=True, exist_ok=True)
    functions_frame(tools).write_parquet(root / "catalog.parquet")
    return root


# --- embeddings ------------------------------------------------------------------------------


def test_embeddings_are_unit_length_and_repeatable(embedder):
    texts = ["get the weather forecast for a city", "refund a card payment", "get the weather forecast for a city"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    alone = embedder.embed(texts[:1])[0]  # batched with others (padding) or alone: the same vector
    assert float(alone @ vectors[0]) > 0.999
    assert float(vectors[0] @ vectors[1]) < 0.5


def test_tool_text_orders_parameters_and_drops_headers():
    row = tool("users_get", "Get a <b>user</b>.", {"verbose": "More fields", "user_id": "", "X-Trace": "trace id"})
    row = row.__dict__ | {
        "parameters": json.dumps(
            {
                "properties": {
                    "verbose": {"description": "More fields"},
                    "user_id": {"allOf": [{"type": "string"}, {"description": "The user"}]},
                    "X-Trace": {"description": "trace id"},
                },
                "required": ["user_id"],
            }
        ),
        "param_locations": json.dumps({"user_id": {"in": "path"}, "X-Trace": {"in": "header"}}),
    }
    text = tool_text(row)
    assert text == "users get. Get a user. parameters: user_id: The user; verbose: More fields"


def test_bad_rows_still_give_text():
    assert tool_text({"name": "no_description"}) == "no description"
    huge = tool_text({"name": "big", "description": "word " * 200_000, "parameters": "{not json"})
    assert len(huge) <= MAX_TEXT_CHARS
    assert tool_text({"name": "x", "parameters": '{"properties": [1, 2]}', "param_locations": "[]"}) == "x"


def test_cache_embeds_only_new_texts(embedder, tmp_path):
    texts = [f"look up the population of city number {i}" for i in range(5)]
    first = embed_texts(texts + texts[:2], embedder, tmp_path)  # repeats are embedded once
    assert (first.embedded, first.cached) == (5, 0)
    again = embed_texts(texts, embedder, tmp_path)
    assert (again.embedded, again.cached) == (0, 5)
    np.testing.assert_array_equal(again.vectors, first.vectors[:5])
    more = embed_texts(texts + ["a", "b", "c"], embedder, tmp_path)
    assert (more.embedded, more.cached) == (3, 5)
    # another model id never reads these vectors
    assert EmbeddingCache(tmp_path, "other-model").load() == {}


# --- near-duplicates -------------------------------------------------------------------------


def test_nearest_pairs_match_brute_force():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 16)).astype(np.float32)
    vectors = np.concatenate([base, base[:10] + 0.05 * rng.normal(size=(10, 16)), np.repeat(base[:1], 6, 0)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    i, j, s = nearest_pairs(vectors, min_similarity=0.9, k=50, block=7)
    sims = vectors @ vectors.T
    want = {(a, b) for a in range(len(vectors)) for b in range(a + 1, len(vectors)) if sims[a, b] >= 0.9}
    assert set(zip(i.tolist(), j.tolist())) == want
    np.testing.assert_allclose(s, sims[i, j], atol=1e-5)
    # with k=2 every row keeps at most its 2 nearest: the 7 copies of row 0 still form pairs
    i2, j2, _ = nearest_pairs(vectors, min_similarity=0.9, k=2, block=7)
    assert len(i2) < len(i) and all(sims[a, b] >= 0.9 for a, b in zip(i2, j2))


def test_parameter_rule():
    list_users = signature({"method": "GET", "parameters": json.dumps({"properties": {"page": {}}})})
    get_user = signature(
        {"method": "GET", "parameters": json.dumps({"properties": {"userId": {}}, "required": ["userId"]})}
    )
    get_user_v2 = signature(
        {"method": "GET", "parameters": json.dumps({"properties": {"user_id": {}}, "required": ["user_id"]})}
    )
    delete_user = signature(
        {"method": "DELETE", "parameters": json.dumps({"properties": {"user_id": {}}, "required": ["user_id"]})}
    )
    assert params_compatible(get_user, get_user_v2)
    assert not params_compatible(list_users, get_user)
    assert not params_compatible(get_user_v2, delete_user)
    assert params_compatible(list_users, signature({"method": "GET", "parameters": "{}"}))


def twins_catalog():
    """Two GHES versions of one operation (identical text), a renamed pet-store version (same
    op, other parameter wording), and three user operations that read alike but are called
    differently."""
    repo = {"owner": "The account owner", "repo": "The repository name", "deployment_id": "deployment id"}
    required = ["owner", "repo", "deployment_id"]
    ghes = {"domain": "collaboration", "op": "repos/get-deployment", "path": "/repos/{owner}/{repo}/deployments/{id}"}
    deploy = "Get a deployment of a repository."
    pets = "List all pets in the store."
    user = {"user_id": "The user"}
    by_id = {"path": "/users/{user_id}"}
    return [
        tool("ghes_3_3_repos_get_deployment", deploy, repo, required, spec="github.com/ghes-3.3", **ghes),
        tool("ghes_3_8_repos_get_deployment", deploy, repo, required, spec="github.com/ghes-3.8", **ghes),
        tool("pets_v1_list_pets", pets, {"limit": "How many"}, path="/v1/pets", spec="pet/v1", op="listPets"),
        tool("pets_v2_list_pets", pets, {"limit": "Max items"}, path="/v2/pets", spec="pet/v2", op="listPets"),
        tool("users_list_users", "List the users of an organization.", {"page": "Page number"}, path="/users"),
        tool("users_get_user", "Get a user of an organization.", user, ["user_id"], **by_id),
        tool("users_delete_user", "Delete a user of an organization.", user, ["user_id"], method="DELETE", **by_id),
    ]


def test_near_twins_merge_and_look_alikes_do_not(embedder):
    frame = functions_frame(twins_catalog())
    vectors = embed_texts([tool_text(r) for r in frame.to_dicts()], embedder, None).vectors
    names = frame["name"].to_list()
    for threshold in (DEFAULT_THRESHOLD, 0.5):  # even at 0.5 the parameter rule keeps look-alikes apart
        dups = find_duplicates(frame, vectors, threshold=threshold)
        canonical = {n: names[c] for n, c in zip(names, dups.canonical)}
        assert canonical["ghes_3_3_repos_get_deployment"] == "ghes_3_8_repos_get_deployment"  # newest version
        assert canonical["pets_v1_list_pets"] == canonical["pets_v2_list_pets"] == "pets_v2_list_pets"
        users = {canonical[n] for n in ("users_list_users", "users_get_user", "users_delete_user")}
        assert users == {"users_list_users", "users_get_user", "users_delete_user"}
        assert dups.groups == 5
    sims = vectors @ vectors.T
    assert sims[names.index("users_get_user"), names.index("users_delete_user")] > 0.5  # close in words


def test_labelled_sample_gives_the_default_threshold():
    labels = load_labels()
    assert len(labels) >= 200
    assert {"a_name", "b_name", "a_text", "b_text", "similarity", "params_compatible", "label", "reason"} <= set(
        labels[0]
    )
    assert 0 < sum(x["label"] for x in labels) < len(labels)
    for x in labels:  # the stored rule outcome is the current rule's
        a = make_signature(x["a_method"], x["a_path"], x["a_required"])
        b = make_signature(x["b_method"], x["b_path"], x["b_required"])
        assert params_compatible(a, b) == x["params_compatible"], (x["a_name"], x["b_name"])
    table = threshold_table(labels)
    chosen = choose_threshold(table)
    assert chosen["threshold"] == DEFAULT_THRESHOLD
    assert chosen["precision"] >= 0.9
    assert [r["recall"] for r in table] == sorted((r["recall"] for r in table), reverse=True)


# --- domains ---------------------------------------------------------------------------------


def test_domain_count_scales_with_catalog():
    assert [domain_count(n) for n in (0, 1, 2, 8, 3059, 60_000)] == [0, 1, 1, 2, 15, 30]


TOPICS = {
    "weather": [
        ("weather_current", "Current weather conditions (temperature, wind, humidity) for a city."),
        ("weather_forecast", "Seven-day weather forecast with rain probability and temperatures."),
        ("weather_alerts", "Severe weather alerts such as storms, floods and heat warnings for a region."),
        ("weather_uv_index", "Ultraviolet index and sunshine hours forecast for a location."),
        ("weather_air_quality", "Air quality and pollen levels for a city today."),
    ],
    "payments": [
        ("payments_charge_card", "Charge a customer's credit card for an amount in a currency."),
        ("payments_refund", "Refund a previous card payment, fully or partially."),
        ("payments_invoice", "Create an invoice for a customer with line items and a due date."),
        ("payments_payout", "Send a payout from the merchant balance to a bank account."),
        ("payments_subscription", "Start a monthly billing subscription plan for a customer."),
    ],
    "music": [
        ("music_search_songs", "Search songs by title, artist or album."),
        ("music_playlist_add", "Add a track to a user's playlist."),
        ("music_artist_top_tracks", "Top tracks of a music artist by popularity."),
        ("music_album_tracks", "List the tracks of an album with their durations."),
        ("music_lyrics", "Get the lyrics of a song."),
    ],
}


def test_clear_topics_become_pure_domains(embedder, tmp_path):
    tools = [tool(n, d, {"q": ""}, spec=topic, domain=topic) for topic, items in TOPICS.items() for n, d in items]
    catalog = write_catalog(tmp_path / "catalog", tools)
    summary = build_tool_tree(catalog, tmp_path / "tree", cache_dir=tmp_path / "cache", domains=3, embedder=embedder)
    assert summary["purity"] == 1.0 and summary["nmi"] == pytest.approx(1.0)
    assert (summary["functions"], summary["canonical_tools"], summary["domains"]) == (15, 15, 3)
    table = load_tool_tree(tmp_path / "tree")
    for topic in TOPICS:  # each topic is one domain, named after its category
        names = set(table.filter(pl.col("category") == topic)["domain_name"])
        assert len(names) == 1 and names.pop().startswith(f"{topic}:")
    doc = json.loads((tmp_path / "tree" / "domains.json").read_text())
    assert sorted(d["tools"] for d in doc["domains"]) == [5, 5, 5]
    assert (tmp_path / "tree" / "tree.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # determinism: the same seed gives the same tree
    vectors = np.random.default_rng(1).normal(size=(60, 8)).astype(np.float32)
    cats = ["a"] * 60
    docs = ["x"] * 60
    one, two = build_domains(vectors, cats, docs, seed=3), build_domains(vectors, cats, docs, seed=3)
    np.testing.assert_array_equal(one.domain, two.domain)
    np.testing.assert_array_equal(one.subdomain, two.subdomain)
    assert purity(np.array([0, 0, 1, 1]), ["a", "b", "c", "c"]) == 0.75


# --- the tree --------------------------------------------------------------------------------


def test_tree_reuses_cache_and_groups_twins(embedder, tmp_path):
    tools = twins_catalog()
    catalog = write_catalog(tmp_path / "catalog", tools)
    kwargs = {"cache_dir": tmp_path / "cache", "embedder": embedder}
    cold = build_tool_tree(catalog, tmp_path / "tree", **kwargs)
    assert (cold["embedded"], cold["cached"]) == (6, 0)  # the GHES twins share one text
    assert (cold["functions"], cold["canonical_tools"], cold["duplicate_groups"]) == (7, 5, 2)
    assert cold["reduction_ratio"] == pytest.approx(2 / 7, abs=1e-4)
    warm = build_tool_tree(catalog, tmp_path / "tree", **kwargs)
    assert (warm["embedded"], warm["cached"]) == (0, 6)
    extra = [tool(f"notes_{v}_note", f"{v.title()} a note in a notebook.", spec="notes") for v in ("add", "pin", "tag")]
    write_catalog(tmp_path / "catalog", tools + extra)
    grown = build_tool_tree(catalog, tmp_path / "tree", **kwargs)
    assert (grown["embedded"], grown["cached"]) == (3, 6)
    table = load_tool_tree(tmp_path / "tree")
    row = table.filter(pl.col("name") == "ghes_3_3_repos_get_deployment").row(0, named=True)
    assert row["canonical"] == "ghes_3_8_repos_get_deployment" and not row["is_canonical"]
    assert row["aliases"] == []
    twin = table.filter(pl.col("name") == "ghes_3_8_repos_get_deployment").row(0, named=True)
    assert twin["is_canonical"] and twin["aliases"] == ["ghes_3_3_repos_get_deployment"]
    assert table["name"].to_list() == [t.name for t in tools + extra]  # catalog order kept
    assert (twin["group_id"], twin["domain_id"], twin["subdomain_id"], twin["split_key"]) == (
        row["group_id"],
        row["domain_id"],
        row["subdomain_id"],
        row["split_key"],
    )


def test_bad_inputs(embedder, tmp_path):
    odd = [
        tool("no_description", ""),
        tool("wetter_vorhersage", "Wettervorhersage für eine Stadt: Temperatur und Niederschlag.", {"stadt": "Stadt"}),
        tool("tianqi_yubao", "查询城市的天气预报，包括温度和降水概率。", {"城市": "城市名称"}),
        tool("huge", "Upload a document. " + "x" * (1 << 20), {"file": "y" * 100_000}),
    ]
    summary = build_tool_tree(
        write_catalog(tmp_path / "odd", odd), tmp_path / "odd_tree", cache_dir=tmp_path / "c", embedder=embedder
    )
    assert summary["functions"] == 4 and summary["domains"] == domain_count(4) == 2
    assert load_tool_tree(tmp_path / "odd_tree").height == 4

    one = build_tool_tree(
        write_catalog(tmp_path / "one", odd[1:2]), tmp_path / "one_tree", cache_dir=tmp_path / "c", embedder=embedder
    )
    assert (one["functions"], one["canonical_tools"], one["domains"], one["subdomains"]) == (1, 1, 1, 1)
    assert (one["embedded"], one["cached"]) == (0, 1)

    with pytest.raises(EmptyCatalogError, match="no functions"):
        build_tool_tree(write_catalog(tmp_path / "empty", []), tmp_path / "t", embedder=embedder)
    with pytest.raises(EmptyCatalogError, match="no catalog.parquet"):
        build_tool_tree(tmp_path / "nothing", tmp_path / "t", embedder=embedder)


def test_cli_prints_the_summary(sample_build, tmp_path):
    sample_build.write(tmp_path / "catalog")
    args = ["catalog", "tree", "--catalog", str(tmp_path / "catalog"), "--out", str(tmp_path / "tree")]
    result = CliRunner().invoke(main, args + ["--cache", str(tmp_path / "cache"), "--seed", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    keys = {"functions", "canonical_tools", "reduction_ratio", "duplicate_groups", "domains", "subdomains"}
    keys |= {"purity", "nmi", "embedded", "cached", "seconds", "embed_texts_per_s", "peak_rss_mib"}
    assert keys <= set(summary)
    assert summary["functions"] == sample_build.functions.height and summary["embedded"] == summary["functions"]
    assert load_tool_tree(tmp_path / "tree").height == summary["functions"]
    (tmp_path / "empty").mkdir()
    functions_frame([]).write_parquet(tmp_path / "empty" / "catalog.parquet")
    failed = CliRunner().invoke(main, ["catalog", "tree", "--catalog", str(tmp_path / "empty"), "--out", "x"])
    assert failed.exit_code != 0 and "no functions" in failed.output


# --- the loop reads the tree -------------------------------------------------------------------


def _planner_tools():
    from inftool_dagster.mcp_server.simulator import CatalogTool

    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    tools, places = [], {}
    # one big domain (40 tools in 2 clusters, with an alias each for the first 10) and two small ones
    for d, n in (("big", 40), ("small_a", 3), ("small_b", 3)):
        for i in range(n):
            name = f"{d}_{i}"
            tools.append(CatalogTool(name, f"{d} tool {i}", schema, None, "GET", f"/{d}/{i}", domain="spec"))
            places[name] = TreePlace(d, f"{d}.c{i % 2}", name, len(places))
            if d == "big" and i < 10:
                alias = f"{name}_v2"
                tools.append(CatalogTool(alias, f"{d} tool {i}", schema, None, "GET", f"/v2/{d}/{i}", domain="spec"))
                places[alias] = TreePlace(d, f"{d}.c{i % 2}", name, places[name].group)
    return tools, places


def test_planner_draws_domains_evenly_canonical_tools_only_and_hard_distractors():
    from inftool_dagster.synthesis.blueprints import Planner, ScenarioMix

    tools, places = _planner_tools()
    only = lambda kind: ScenarioMix(**{k: (1.0 if k == kind else 0.0) for k in ScenarioMix.model_fields})
    planner = Planner(tools, seed=3, mix=only("simple"), places=places)
    assert not any(n.endswith("_v2") for n in planner.names)  # aliases are the same operation again
    plan = planner.plan(0, 300)
    counts = {d: sum(b.domain == d for b in plan) for d in ("big", "small_a", "small_b")}
    assert all(c >= 70 for c in counts.values()), counts  # ~100 each, though "big" has 40 of 46 tools
    flat = Planner(tools, seed=3, mix=only("simple"))  # without the tree: by tool, the big spec dominates
    assert sum(b.targets[0].startswith("big") for b in flat.plan(0, 300)) > 200
    multiple = Planner(tools, seed=5, mix=only("multiple"), places=places, distractors=3).plan(0, 60)
    for b in multiple:
        target = b.targets[0]
        others = [n for n in b.tools if n != target]
        same = [n for n in others if places[n].cluster == places[target].cluster]
        assert len(same) >= 1 or places[target].domain != "big", b  # the big clusters always have twins to offer
    weighted = Planner(
        tools, seed=3, mix=only("simple"), places=places, tool_weights={f"small_a_{i}": 5.0 for i in range(3)}
    )
    heavy = sum(b.domain == "small_a" for b in weighted.plan(0, 300))
    assert heavy > 150  # gap weights on tools act on their domain


def test_heldout_split_by_cluster_keeps_twins_on_one_side(tmp_path):
    from inftool_dagster.evaluation.probe import ProbeConfig, heldout_split, heldout_twins

    tree = pl.DataFrame(
        {
            "name": ["a", "a2", "b", "c", "d", "e"],
            "group_id": [0, 0, 1, 2, 3, 4],
            "split_key": ["k0", "k0", "k1", "k2", "k3", "k4"],
        }
    )
    catalog = pl.DataFrame({"name": tree["name"], "spec_id": ["s0", "s1", "s1", "s2", "s3", "s4"]})
    for seed in range(10):
        split = heldout_split(catalog, ProbeConfig(heldout_fraction=0.3, seed=seed), tree)
        assert split["by"] == "cluster" and split["keys"]
        held = set(split["tools"])
        assert ("a" in held) == ("a2" in held)  # a near-duplicate group never straddles the split
        assert not heldout_twins(tree, sorted(held), [n for n in tree["name"] if n not in held])
    # a later catalog's new twin of a held-out tool, placed in another cluster, is caught
    later = tree.vstack(pl.DataFrame({"name": ["a3"], "group_id": [0], "split_key": ["k4"]}))
    assert heldout_twins(later, ["a", "a2"], ["a3", "b"]) == ["a3"]
    by_spec = heldout_split(catalog, ProbeConfig(heldout_fraction=0.3), None)
    assert by_spec["by"] == "spec"
