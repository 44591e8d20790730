"""BFCL's AST checking rules, written out rule by rule.

Verdicts and error types follow ``bfcl_eval.eval_checker.ast_eval.ast_checker`` of the pinned
version; ``tests/test_bfcl.py`` runs both on the same outputs and requires identical
verdicts. The rules:

1. ``simple``: exactly one call. ``multiple``: one call, checked against the gold's function.
   ``parallel*``: as many calls as gold entries, matched order-insensitively (each output
   used once).
2. The function name must match the gold's.
3. Every required parameter must be present; a parameter absent from the doc or from the
   possible answers is unexpected.
4. Types per the doc (``float`` accepts an int; ``tuple`` accepts a list; nested list item
   types one level deep). A value whose type equals the possible answers' type is a
   *variable* and is compared as is.
5. Values: strings after ``standardize_string``; lists element-wise with strings
   standardized; dicts key-wise against any possible dict; lists of dicts in order;
   everything else by membership in the possible answers.
6. A gold parameter missing from the output must have ``""`` among its possible answers.
7. Java and JavaScript: every value must be a string (the model writes Java/JS source text);
   it is converted by BFCL's own type converters (loaded from the wheel: they are BFCL's
   definition of what ``new ArrayList<>(Arrays.asList(...))`` or ``12n`` mean), then checked
   by rules 4-6 against the converted type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PYTHON_TYPES = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
NESTED = ("array", "tuple")
CONVERTED_NESTED = ("Array", "ArrayList", "array")  # Java/JS types whose items are converted too
_STRIP = re.compile(r"[ \,\.\/\-\_\*\^]")


@dataclass
class Verdict:
    valid: bool
    error_type: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def fail(cls, error_type: str, message: str) -> Verdict:
        return cls(False, error_type, [message])


OK = Verdict(True)


def standardize_string(value: str) -> str:
    return _STRIP.sub("", value).lower().replace("'", '"')


def _std(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def _answer_type(possible: list) -> type | None:
    return next((type(a) for a in possible if a != ""), None)


def _type_check(
    param: str, value: Any, possible: list, described: str, expected: type, nested: type | None
) -> tuple[Verdict, bool]:
    """(verdict, is_variable), including BFCL's quirk: a nested-type failure on a value whose
    type equals the possible answers' type stays a failure (``type_error:nested``)."""
    answer_type = _answer_type(possible)
    is_variable = answer_type is not None and answer_type != expected
    nested_failure = None
    if type(value) is expected:
        if nested is None:
            return OK, is_variable
        for item in possible:
            if type(item) is list and not all(
                _type_check(param, v, item, str(nested), nested, None)[0].valid for v in value
            ):
                continue
            return OK, is_variable
        nested_failure = Verdict.fail("type_error:nested", f"Nested type checking failed for parameter {param!r}.")
    if answer_type is not None and type(value) is answer_type:
        return (nested_failure or OK), True
    return Verdict.fail(
        "type_error:simple",
        f"Incorrect type for parameter {param!r}. Expected type {described}, got "
        f"{type(value).__name__}. Parameter value: {value!r}.",
    ), False


def _string(param: str, value: str, possible: list) -> Verdict:
    if standardize_string(value) not in [standardize_string(a) for a in possible if type(a) is str]:
        return Verdict.fail("value_error:string", f"Invalid value for parameter {param!r}: {value!r}.")
    return OK


def _list(param: str, value: list, possible: list) -> Verdict:
    if [_std(v) for v in value] not in [[_std(v) for v in answer] for answer in possible]:
        return Verdict.fail("value_error:list/tuple", f"Invalid value for parameter {param!r}: {value!r}.")
    return OK


def _dict(param: str, value: dict, possible: list) -> Verdict:
    result = Verdict.fail("dict_checker:unclear", "")
    for answer in possible:
        if answer == "":
            continue
        result = None
        for key, item in value.items():
            if key not in answer:
                result = Verdict.fail("value_error:dict_key", f"Unexpected dict key parameter: '{key}'.")
                break
            if _std(item) not in [_std(a) for a in answer[key]]:
                result = Verdict.fail("value_error:dict_value", f"Invalid value for parameter {key!r}: {item!r}.")
                break
        for key, item in answer.items():
            if key not in value and "" not in item:
                result = Verdict.fail("value_error:dict_key", f"Missing dict key parameter: '{key}'.")
                break
        if result is None:
            return OK
    return result


def _list_of_dicts(param: str, value: list, possible: list) -> Verdict:
    result = Verdict.fail("list_dict_checker:unclear", "")
    for answer in possible:
        if len(value) != len(answer):
            result = Verdict.fail("value_error:list_dict_count", "Wrong number of dictionaries in the list.")
            continue
        for item, expected in zip(value, answer):
            result = _dict(param, item, [expected])
            if not result.valid:
                break
        else:
            return OK
    return result


def _converter(language: str):
    """(converter, type table) of BFCL's Java or JavaScript value conversion."""
    from .official import bfcl_module

    tables = bfcl_module("constants.type_mappings")
    if language == "java":
        module = bfcl_module("eval_checker.ast_eval.type_convertor.java_type_converter")
        return module.java_type_converter, tables.JAVA_TYPE_CONVERSION
    module = bfcl_module("eval_checker.ast_eval.type_convertor.js_type_converter")
    return module.js_type_converter, tables.JS_TYPE_CONVERSION


def _typed(param: str, value: Any, details: dict, language: str) -> tuple[Any, type, type | None] | Verdict:
    """(value, expected type, nested type) for the type check, after conversion for Java/JS."""
    described = details["type"]
    if language == "python":
        expected = PYTHON_TYPES[described]
        return value, expected, PYTHON_TYPES[details["items"]["type"]] if described in NESTED else None
    convert, table = _converter(language)
    expected = table[described]
    if type(value) is not str:
        short = "java" if language == "java" else "js"
        return Verdict.fail(
            f"type_error:{short}",
            f"Incorrect type for parameter {param!r}. Expected type String, "
            f"got {type(value).__name__}. Parameter value: {value!r}.",
        )
    if described in CONVERTED_NESTED:
        nested_type = details["items"]["type"]
        return convert(value, described, nested_type), expected, table[nested_type]
    return convert(value, described), expected, None


def check_call(doc: dict, output: dict, gold: dict, language: str = "python") -> Verdict:
    """One output call ``{name: {param: value}}`` against one gold ``{name: {param: [possible values]}}``."""
    possible_params = next(iter(gold.values()))
    name = doc["name"]
    properties = doc["parameters"]["properties"]
    if name not in output:
        return Verdict.fail(
            "simple_function_checker:wrong_func_name", f"Function name {name!r} not found in model output."
        )
    params = output[name]
    for required in doc["parameters"]["required"]:
        if required not in params:
            return Verdict.fail(
                "simple_function_checker:missing_required", f"Missing required parameter: {required!r}."
            )
    for param, value in params.items():
        if param not in properties or param not in possible_params:
            return Verdict.fail("simple_function_checker:unexpected_param", f"Unexpected parameter: {param!r}.")
        described = properties[param]["type"]
        typed = _typed(param, value, properties[param], language)
        if isinstance(typed, Verdict):
            return typed
        value, expected, nested = typed
        possible = possible_params[param]
        if described == "tuple" and type(value) is tuple:
            value = list(value)
        if language == "python" and described == "float" and type(value) is int:
            value = float(value)
        verdict, is_variable = _type_check(param, value, possible, described, expected, nested)
        if not verdict.valid:
            return verdict
        if not is_variable:
            special = (
                _dict
                if expected is dict
                else _list_of_dicts
                if expected is list and nested is dict
                else _string
                if expected is str
                else _list
                if expected is list
                else None
            )
            if special is not None:
                verdict = special(param, value, possible)
                if not verdict.valid:
                    return verdict
                continue
        if value not in possible:
            return Verdict.fail("value_error:others", f"Invalid value for parameter {param!r}: {value!r}.")
    for param, possible in possible_params.items():
        if param not in params and "" not in possible:
            return Verdict.fail(
                "simple_function_checker:missing_optional",
                f"Optional parameter {param!r} not provided and not marked as optional.",
            )
    return OK


def _doc(docs: list[dict], name: str) -> dict | None:
    return next((d for d in docs if d["name"] == name), None)


def check_ast(
    docs: list[dict], output: list[dict], gold: list[dict], category: str, language: str = "python"
) -> Verdict:
    """BFCL's ``ast_checker`` dispatch for a decoded output."""
    if "parallel" in category:
        if len(output) != len(gold):
            return Verdict.fail("parallel_function_checker_no_order:wrong_count", "Wrong number of functions.")
        matched: list[int] = []
        for expected in gold:
            doc = _doc(docs, next(iter(expected)))
            verdict = None
            for index, call in enumerate(output):
                if index in matched:
                    continue
                verdict = check_call(doc, call, expected, language)
                if verdict.valid:
                    matched.append(index)
                    break
            if verdict is None or not verdict.valid:
                return Verdict.fail(
                    "parallel_function_checker_no_order:cannot_find_match",
                    "Could not find a matching function for a possible answer.",
                )
        return OK
    if "multiple" in category:
        if len(output) != len(gold):
            return Verdict.fail("multiple_function_checker:wrong_count", "Wrong number of functions.")
        return check_call(_doc(docs, next(iter(gold[0]))), output[0], gold[0], language)
    if len(output) != 1:
        return Verdict.fail("simple_function_checker:wrong_count", "Wrong number of functions.")
    return check_call(docs[0], output[0], gold[0], language)
