"""The prompt a BFCL entry is asked with: BFCL's prompting handler for models without native
function calling (the v4 default system prompt with the function docs as indented JSON and a
language hint on each description), or the project's compact prompt (what inftool-trained
models see in training)."""

from __future__ import annotations

import copy
import json

from inftool_dagster.llm.prompts import prompt_mode_messages

from .data import language_of

BFCL_V4_SYSTEM_PROMPT = (
    "You are an expert in composing functions. You are given a question and a set of possible functions. Based on "
    "the question, you will need to make one or more function/tool calls to achieve the purpose.\n"
    "If none of the functions can be used, point it out. If the given question lacks the parameters required by the "
    "function, also point it out.\nYou should only return the function calls in your response.\n\n"
    "If you decide to invoke any of the function(s), you MUST put it in the format of [func_name1(params_name1="
    "params_value1, params_name2=params_value2...), func_name2(params)]\nYou SHOULD NOT include any other text in "
    "the response.\n\nAt each turn, you should try your best to complete the tasks requested by the user within the "
    "current turn. Continue to output functions to call until you have fulfilled the user's request to the best of "
    "your ability. Once you have no more functions to call, the system will consider the current turn complete and "
    "proceed to the next turn or task.\n\nHere is a list of functions in JSON format that you can invoke.\n"
    "{functions}\n"
)
LANGUAGE_HINT = {
    "python": " Note that the provided function is in Python 3 syntax.",
    "java": " Note that the provided function is in Java 8 SDK syntax.",
    "javascript": " Note that the provided function is in JavaScript syntax.",
}
LANGUAGE_NAME = {"java": "Java", "javascript": "JavaScript"}


def prompt_functions(functions: list[dict], language: str = "python") -> list[dict]:
    """BFCL's ``_func_doc_language_specific_pre_processing``: a syntax hint on every description;
    for Java/JS every parameter becomes a string whose description names the source type."""
    functions = copy.deepcopy(functions)
    for function in functions:
        function["description"] = function.get("description", "") + LANGUAGE_HINT[language]
        if language == "python":
            continue
        name = LANGUAGE_NAME[language]
        for value in function["parameters"]["properties"].values():
            if value["type"] == "any":
                value["description"] += f" This parameter can be of any type of {name} object in string representation."
            else:
                value["description"] += f" This is {name} {value['type']} type parameter in string representation."
            if value["type"] in (("ArrayList", "Array") if language == "java" else ("array",)):
                value["description"] += (
                    f" The list elements are of type {value['items']['type']}; they are not in string representation."
                )
                del value["items"]
            if language == "javascript" and value["type"] == "dict" and "properties" in value:
                value["description"] += (
                    " The dictionary entries have the following schema; they are not in string "
                    f"representation. {json.dumps(value['properties'])}"
                )
                del value["properties"]
            value["type"] = "string"
    return functions


def system_prompt(functions: list[dict]) -> str:
    return BFCL_V4_SYSTEM_PROMPT.format(functions=json.dumps(functions, indent=4))


def prompt_messages(entry: dict, prompt_format: str = "bfcl", category: str | None = None) -> list[dict]:
    functions = prompt_functions(entry["function"], language_of(category or entry["id"].rsplit("_", 1)[0]))
    turn = [dict(m) for m in entry["question"][0]]
    if prompt_format == "compact":
        return prompt_mode_messages(turn, [{"type": "function", "function": f} for f in functions])
    system = system_prompt(functions)
    if turn and turn[0]["role"] == "system":
        turn[0]["content"] = system + "\n\n" + turn[0]["content"]
        return turn
    return [{"role": "system", "content": system}] + turn
