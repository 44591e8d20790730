"""`inftool serve`'s OpenAI-compatible API, driven by the official `openai` client on loopback,
and the `openai` backend against it and against faulty servers."""

import asyncio
import json
import socket
import threading
import time

import openai
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inftool_dagster.llm.backend import LLMBackend, OpenAIConfig
from inftool_dagster.llm.openai_backend import OpenAIBackend
from inftool_dagster.llm.serve import create_app
from inftool_dagster.llm.types import Generation, SamplingParams

from .tiny_model import tiny_backend

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A uvicorn server in a background thread, stopped at exit."""

    def __init__(self, app):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started and time.time() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


class FixedOutput(LLMBackend):
    """A model stand-in whose output is chosen by the test (to exercise the tool_calls translation)."""

    def __init__(self, text):
        self.text = text

    def generate(self, conversations, params, tools=None):
        return [[Generation(self.text, prompt_tokens=7, completion_tokens=3)] * params.n for _ in conversations]


@pytest.fixture(scope="module")
def tiny():
    return tiny_backend(batch_size=4)


def test_models_and_chat_with_official_client(tiny):
    with Served(create_app(tiny, "tiny")) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="x")
        assert [m.id for m in client.models.list().data] == ["tiny"]
        response = client.chat.completions.create(
            model="tiny",
            messages=[{"role": "user", "content": "Weather in Berlin?"}],
            tools=TOOLS,
            max_tokens=10,
            temperature=0,
        )
        choice = response.choices[0]
        assert choice.finish_reason in {"stop", "length", "tool_calls"}
        assert response.usage.prompt_tokens > 50 and 0 < response.usage.completion_tokens <= 10
        direct = tiny.generate(
            [[{"role": "user", "content": "Weather in Berlin?"}]], SamplingParams(max_new_tokens=10), [TOOLS]
        )
        if choice.message.tool_calls is None:
            assert choice.message.content == direct[0][0].text
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="tiny", messages=[])


def test_tool_calls_come_back_in_openai_shape():
    with Served(create_app(FixedOutput('[get_weather(city="Berlin"), get_weather(city="Paris")]'), "m")) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="x")
        response = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "?"}], tools=TOOLS)
        calls = response.choices[0].message.tool_calls
        assert response.choices[0].finish_reason == "tool_calls"
        assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
            ("get_weather", {"city": "Berlin"}),
            ("get_weather", {"city": "Paris"}),
        ]
        plain = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "?"}])
        assert plain.choices[0].message.content.startswith("[get_weather") and not plain.choices[0].message.tool_calls


def test_openai_backend_against_inftool_serve_matches_direct_generation(tiny):
    conversations = [[{"role": "user", "content": t}] for t in ("Hi", "Weather in Berlin?", "Add 2 and 3")]
    params = SamplingParams(max_new_tokens=8)
    with Served(create_app(tiny, "tiny")) as base_url:
        remote = OpenAIBackend(OpenAIConfig(model="tiny", base_url=base_url, max_concurrency=2)).generate(
            conversations, params
        )
    direct = tiny.generate(conversations, params)
    assert [g[0].text for g in remote] == [g[0].text for g in direct]
    assert all(g[0].ok and g[0].completion_tokens > 0 for g in remote)


def test_openai_backend_faults_are_retried_or_recorded_per_item():
    state = {"flaky": 0}

    async def chat(request):
        body = await request.json()
        prompt = body["messages"][-1]["content"]
        if prompt == "flaky":
            state["flaky"] += 1
            if state["flaky"] == 1:
                return Response("boom", status_code=500)
            if state["flaky"] == 2:
                return Response("slow down", status_code=429, headers={"retry-after": "0.1"})
        if prompt == "hang":
            await asyncio.sleep(3)
        if prompt == "empty":
            return JSONResponse(
                {"choices": [{"message": {"role": "assistant", "content": ""}, "finish_reason": "stop"}]}
            )
        if prompt == "garbage":
            return Response("<html>", status_code=200)
        if prompt == "bad":
            return JSONResponse({"error": "no"}, status_code=400)
        finish = "length" if prompt == "truncated" else "stop"
        return JSONResponse(
            {
                "choices": [{"message": {"role": "assistant", "content": f"ok:{prompt}"}, "finish_reason": finish}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2},
            }
        )

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    prompts = ["fine", "flaky", "hang", "empty", "garbage", "bad", "truncated"]
    with Served(app) as base_url:
        backend = OpenAIBackend(
            OpenAIConfig(model="m", base_url=base_url, timeout_s=0.5, max_retries=2, backoff_s=0.01)
        )
        out = backend.generate([[{"role": "user", "content": p}] for p in prompts], SamplingParams())
    result = dict(zip(prompts, (g[0] for g in out)))
    assert result["fine"].text == "ok:fine" and result["fine"].attempts == 1
    assert result["flaky"].text == "ok:flaky" and result["flaky"].attempts == 3
    assert not result["hang"].ok and "timed out" in result["hang"].error and result["hang"].attempts == 3
    assert not result["empty"].ok and "empty output" in result["empty"].error
    assert not result["garbage"].ok and "malformed" in result["garbage"].error
    assert not result["bad"].ok and "HTTP 400" in result["bad"].error and result["bad"].attempts == 1
    assert result["truncated"].ok and result["truncated"].finish_reason == "length"


class Recording(LLMBackend):
    """The tiny model behind a recorder: each generate call's size; the first call is slow, so
    requests sent meanwhile queue up behind it."""

    def __init__(self, inner):
        self.inner, self.sizes = inner, []

    def generate(self, conversations, params, tools=None):
        self.sizes.append(len(conversations))
        if len(self.sizes) == 1:
            time.sleep(1.0)
        return self.inner.generate(conversations, params, tools)


def test_concurrent_requests_are_batched_and_answer_like_direct_generation(tiny):
    from concurrent.futures import ThreadPoolExecutor

    questions = ["Hi", "Weather in Berlin?", "Add 2 and 3", "Weather in Oslo?", "Why?", "Book a table"]
    backend = Recording(tiny)
    with Served(create_app(backend, "tiny")) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="x")

        def ask(question):
            response = client.chat.completions.create(
                model="tiny", messages=[{"role": "user", "content": question}], max_tokens=8, temperature=0
            )
            return response.choices[0].message.content

        first = ThreadPoolExecutor(1).submit(ask, questions[0])
        time.sleep(0.3)  # the first request is generating; the rest arrive while it runs
        with ThreadPoolExecutor(5) as pool:
            rest = list(pool.map(ask, questions[1:]))
        answers = [first.result()] + rest
    direct = tiny.generate([[{"role": "user", "content": q}] for q in questions], SamplingParams(max_new_tokens=8))
    assert answers == [g[0].text for g in direct]
    assert backend.sizes[0] == 1 and max(backend.sizes) > 1 and len(backend.sizes) < len(questions)
