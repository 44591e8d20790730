"""A Jinja chat template that renders tools the way the project's models are trained.

``compact_chat_template(base)`` wraps a base chat template (one with no tool support of its own,
such as SmolLM2-135M-Instruct's ChatML template) so that a checkpoint exported with it renders
``tokenizer.apply_chat_template(messages, tools=tools, ...)`` byte for byte like
``prompts.render_prompt(base_tokenizer, messages, tools, "prompt")``: the template first rewrites
the conversation the way ``prompts.prompt_mode_messages`` does (the compact function documents
of ``prompts.compact_function_docs`` in the system turn, assistant tool calls as the Python call
list of ``tool_calls.render_python``, tool results as user turns), then runs the base template,
unchanged, over the rewritten messages.

Written for transformers' sandboxed Jinja environment (``chat_template_utils``: its ``tojson``
is ``json.dumps`` with ``ensure_ascii=False`` and the default separators). Tool-call arguments
may be dicts or JSON strings; JSON strings are parsed by the template itself (invalid JSON, or
JSON that is not an object, renders as no arguments, as ``prompts.call_arguments`` does). Known gaps,
all outside what JSON-shaped inputs produce: duplicate keys inside a JSON-string ``arguments``
are all rendered (``json.loads`` keeps the last); tuples among dict arguments render as lists;
a message whose ``name``/``content`` is ``None`` is seen by the template without that key,
because transformers drops ``None``-valued message keys before rendering.
``\\uXXXX`` escapes in JSON-string arguments are decoded with ``str.encode``/``bytes.decode``,
which transformers' sandbox allows but other Jinja engines (minijinja, minja) may not.
"""

from __future__ import annotations

import json

from .prompts import COMPACT_SYSTEM_PROMPT

MARKER = "{#- inftool compact tool-calling format (inftool_dagster/llm/chat_template.py) -#}"
_SENTINEL = "\x00functions\x00"

# Every literal is emitted from an expression and every tag trims its whitespace, so the
# environment's trim_blocks/lstrip_blocks never touch the output. Names carry an ``ift`` prefix
# so they do not collide with the base template's own.
_PRELUDE = r"""
{#- _py_literal: a Python literal for a JSON-like value -#}
{%- macro ift_py(v) -%}
  {%- if v is string -%}{{- v|tojson -}}
  {%- elif v is boolean or v is none -%}{{- v -}}
  {%- elif v is number -%}
    {%- if v != v or (v is float and (v|string) in ['inf', '-inf']) -%}{{- (v|string)|tojson -}}
    {%- else -%}{{- v -}}{%- endif -%}
  {%- elif v is mapping -%}
    {{- '{' -}}
    {%- for k, x in v.items() -%}
      {{- (', ' if not loop.first else '') ~ ift_py(k|string) ~ ': ' ~ ift_py(x) -}}
    {%- endfor -%}
    {{- '}' -}}
  {%- elif v is iterable -%}
    {{- '[' -}}
    {%- for x in v -%}{{- (', ' if not loop.first else '') ~ ift_py(x) -}}{%- endfor -%}
    {{- ']' -}}
  {%- else -%}{{- (v|string)|tojson -}}
  {%- endif -%}
{%- endmacro -%}

{#- json.loads of a tool call's JSON-string arguments, rendered as `k=literal, ...`;
    nothing when the text is not valid JSON or not an object -#}
{%- macro ift_json_args(src) -%}
  {%- set st = namespace(out='', stack='', expect='value', mode='', tok='', ok=true, esc=false, u='', ubuf='',
                         key=false) -%}
  {%- set simple = {'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'} -%}
  {%- for ch in src ~ ' ' if st.ok -%}
    {#- a number or a word ends at the first character that cannot continue it -#}
    {%- if st.mode == 'num' and ch not in '0123456789+-.eE' and not (st.tok == '-' and ch == 'I') -%}
      {%- set num = namespace(state=0) -%}
      {%- for d in st.tok -%}
        {%- set s = num.state -%}
        {%- if d in '0123456789' -%}
          {%- set num.state = (2 if d == '0' else 3) if s in [0, 1] else
                              (3 if s == 3 else (5 if s in [4, 5] else (8 if s in [6, 7, 8] else -1))) -%}
        {%- elif d == '-' -%}{%- set num.state = 1 if s == 0 else (7 if s == 6 else -1) -%}
        {%- elif d == '+' -%}{%- set num.state = 7 if s == 6 else -1 -%}
        {%- elif d == '.' -%}{%- set num.state = 4 if s in [2, 3] else -1 -%}
        {%- else -%}{%- set num.state = 6 if s in [2, 3, 5] else -1 -%}
        {%- endif -%}
      {%- endfor -%}
      {%- if num.state in [2, 3] -%}{%- set st.out = st.out ~ ift_py(st.tok|int) -%}
      {%- elif num.state in [5, 8] -%}{%- set st.out = st.out ~ ift_py(st.tok|float) -%}
      {%- else -%}{%- set st.ok = false -%}
      {%- endif -%}
      {%- set st.mode = '' -%}{%- set st.expect = 'sep' -%}
    {%- elif st.mode == 'word' and ch not in 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' -%}
      {%- set words = {'true': 'True', 'false': 'False', 'null': 'None',
                       'NaN': '"nan"', 'Infinity': '"inf"', '-Infinity': '"-inf"'} -%}
      {%- if st.tok in words -%}{%- set st.out = st.out ~ words[st.tok] -%}
      {%- else -%}{%- set st.ok = false -%}
      {%- endif -%}
      {%- set st.mode = '' -%}{%- set st.expect = 'sep' -%}
    {%- endif -%}

    {%- if not st.ok -%}
    {%- elif st.mode == 'num' -%}
      {%- if ch == 'I' -%}{%- set st.mode = 'word' -%}{%- endif -%}
      {%- set st.tok = st.tok ~ ch -%}
    {%- elif st.mode == 'word' -%}{%- set st.tok = st.tok ~ ch -%}
    {%- elif st.mode == 'str' -%}
      {%- if st.u -%}
        {%- if ch in '0123456789abcdefABCDEF' -%}
          {%- set st.u = st.u ~ ch -%}
          {%- if st.u|length == 5 -%}{%- set st.ubuf = st.ubuf ~ '\\' ~ st.u -%}{%- set st.u = '' -%}{%- endif -%}
        {%- else -%}{%- set st.ok = false -%}
        {%- endif -%}
      {%- elif st.esc and ch == 'u' -%}{%- set st.esc = false -%}{%- set st.u = 'u' -%}
      {%- elif ch == '\\' and not st.esc -%}{%- set st.esc = true -%}
      {%- else -%}
        {#- anything else ends a run of \uXXXX escapes: decode it, surrogate pairs joined -#}
        {%- if st.ubuf -%}
          {%- set st.tok = st.tok ~ st.ubuf.encode('ascii').decode('unicode_escape')
                                     .encode('utf-16-le', 'surrogatepass').decode('utf-16-le', 'surrogatepass') -%}
          {%- set st.ubuf = '' -%}
        {%- endif -%}
        {%- if st.esc -%}
          {%- if ch in simple -%}{%- set st.tok = st.tok ~ simple[ch] -%}
          {%- else -%}{%- set st.ok = false -%}
          {%- endif -%}
          {%- set st.esc = false -%}
        {%- elif ch == '"' -%}
          {%- if st.key and st.stack|length == 1 -%}{%- set st.out = st.out ~ st.tok ~ '=' -%}
          {%- else -%}{%- set st.out = st.out ~ st.tok|tojson -%}
          {%- endif -%}
          {%- set st.expect = 'colon' if st.key else 'sep' -%}{%- set st.mode = '' -%}
        {%- elif ch < ' ' -%}{%- set st.ok = false -%}
        {%- else -%}{%- set st.tok = st.tok ~ ch -%}
        {%- endif -%}
      {%- endif -%}
    {%- elif ch in ' \t\n\r' -%}
    {%- elif ch == '{' and st.expect in ['value', 'value_or_close'] -%}
      {%- if st.stack -%}{%- set st.out = st.out ~ '{' -%}{%- endif -%}
      {%- set st.stack = st.stack ~ '{' -%}{%- set st.expect = 'key_or_close' -%}
    {%- elif ch == '[' and st.expect in ['value', 'value_or_close'] and st.stack -%}
      {%- set st.out = st.out ~ '[' -%}{%- set st.stack = st.stack ~ '[' -%}{%- set st.expect = 'value_or_close' -%}
    {%- elif ch == '}' and st.stack[-1:] == '{' and st.expect in ['key_or_close', 'sep'] -%}
      {%- set st.stack = st.stack[:-1] -%}
      {%- if st.stack -%}{%- set st.out = st.out ~ '}' -%}{%- endif -%}
      {%- set st.expect = 'sep' if st.stack else 'end' -%}
    {%- elif ch == ']' and st.stack[-1:] == '[' and st.expect in ['value_or_close', 'sep'] -%}
      {%- set st.stack = st.stack[:-1] -%}{%- set st.out = st.out ~ ']' -%}{%- set st.expect = 'sep' -%}
    {%- elif ch == ',' and st.expect == 'sep' and st.stack -%}
      {%- set st.out = st.out ~ ', ' -%}{%- set st.expect = 'key' if st.stack[-1:] == '{' else 'value' -%}
    {%- elif ch == ':' and st.expect == 'colon' -%}
      {%- if st.stack|length > 1 -%}{%- set st.out = st.out ~ ': ' -%}{%- endif -%}
      {%- set st.expect = 'value' -%}
    {%- elif ch == '"' and st.expect in ['key', 'key_or_close', 'value', 'value_or_close'] and st.stack -%}
      {%- set st.mode = 'str' -%}{%- set st.tok = '' -%}{%- set st.key = st.expect.startswith('key') -%}
    {%- elif ch in '-0123456789' and st.expect in ['value', 'value_or_close'] and st.stack -%}
      {%- set st.mode = 'num' -%}{%- set st.tok = ch -%}
    {%- elif ch in 'tfnNI' and st.expect in ['value', 'value_or_close'] and st.stack -%}
      {%- set st.mode = 'word' -%}{%- set st.tok = ch -%}
    {%- else -%}{%- set st.ok = false -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if st.ok and st.expect == 'end' -%}{{- st.out -}}{%- endif -%}
{%- endmacro -%}

{#- compact_function_docs: the type, one parameter, and the description lines -#}
{%- macro ift_type(s) -%}
  {%- if s is not mapping -%}{{- 'any' -}}
  {%- elif s.get('enum') -%}
    {%- for v in s.get('enum') -%}{{- ('|' if not loop.first else '') ~ v|tojson -}}{%- endfor -%}
  {%- else -%}
    {%- set kind = s.get('type', 'any') -%}
    {%- set kind = kind|map('string')|join('|') if kind is iterable and kind is not string and kind is not mapping
                   else kind|string -%}
    {%- if kind == 'array' and s.get('items') is mapping -%}{{- 'array[' ~ ift_type(s.get('items')) ~ ']' -}}
    {%- elif kind in ['object', 'dict'] and s.get('properties') is mapping and s.get('properties') -%}
      {%- set required = s.get('required') or [] -%}
      {{- 'dict{' -}}
      {%- for k, v in s.get('properties').items() -%}
        {{- (', ' if not loop.first else '') ~ ift_param(k, v, k in required) -}}
      {%- endfor -%}
      {{- '}' -}}
    {%- else -%}{{- kind -}}
    {%- endif -%}
  {%- endif -%}
{%- endmacro -%}

{%- macro ift_param(name, s, required) -%}
  {{- name ~ ('' if required else '?') ~ ': ' ~ ift_type(s) -}}
  {%- if s is mapping and 'default' in s -%}{{- ' = ' ~ s.get('default')|tojson -}}{%- endif -%}
{%- endmacro -%}

{%- macro ift_descriptions(properties, path) -%}
  {%- for name, s in properties.items() if s is mapping -%}
    {%- set extra -%}
      {%- for k, v in s.items()
            if k in ['format', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength'] -%}
        {{- (', ' if not loop.first else '') ~ k|tojson ~ ': ' ~ v|tojson -}}
      {%- endfor -%}
    {%- endset -%}
    {%- set description = (s.get('description') or '')|trim -%}
    {%- if extra -%}{%- set description = (description ~ ' {' ~ extra ~ '}')|trim -%}{%- endif -%}
    {%- if description -%}{{- '\n  ' ~ path ~ name ~ ': ' ~ description -}}{%- endif -%}
    {%- set nested = s.get('items') if s.get('type') == 'array' else s -%}
    {%- if nested is mapping and nested.get('properties') is mapping -%}
      {{- ift_descriptions(nested.get('properties'), path ~ name ~ '.') -}}
    {%- endif -%}
  {%- endfor -%}
{%- endmacro -%}

{%- macro ift_docs(tools) -%}
  {%- for tool in tools -%}
    {%- set fn = tool.get('function') if tool.get('function') is mapping else tool -%}
    {%- set params = fn.get('parameters') or {} -%}
    {%- set properties = params.get('properties') or {} -%}
    {%- set required = params.get('required') or [] -%}
    {%- set description = (fn.get('description') or '')|trim -%}
    {{- ('\n' if not loop.first else '') ~ fn.get('name') ~ '(' -}}
    {%- for k, v in properties.items() -%}
      {{- (', ' if not loop.first else '') ~ ift_param(k, v, k in required) -}}
    {%- endfor -%}
    {{- ')' ~ (' - ' ~ description if description else '') -}}
    {{- ift_descriptions(properties, '') -}}
  {%- endfor -%}
{%- endmacro -%}

{#- prompt_mode_messages -#}
{%- if tools -%}
  {%- set ift_system = @@PREFIX@@ ~ ift_docs(tools) ~ @@SUFFIX@@ -%}
  {%- if messages and messages[0].get('role') == 'system' and messages[0].get('content') -%}
    {%- set ift_system = messages[0].get('content') ~ '\n\n' ~ ift_system -%}
    {%- set ift_rest = messages[1:] -%}
  {%- else -%}
    {%- set ift_rest = messages -%}
  {%- endif -%}
  {%- set ift = namespace(out=[{'role': 'system', 'content': ift_system}]) -%}
{%- else -%}
  {%- set ift_rest = messages -%}
  {%- set ift = namespace(out=[]) -%}
{%- endif -%}
{%- for message in ift_rest -%}
  {%- if message.get('role') == 'assistant' and message.get('tool_calls') -%}
    {%- set calls -%}
      {{- '[' -}}
      {%- for call in message.get('tool_calls') -%}
        {%- set fn = call.get('function') if call.get('function') is mapping else call -%}
        {%- set arguments = fn.get('arguments') -%}
        {{- (', ' if not loop.first else '') ~ fn.get('name') ~ '(' -}}
        {%- if arguments is mapping -%}
          {%- for k, v in arguments.items() -%}
            {{- (', ' if not loop.first else '') ~ k ~ '=' ~ ift_py(v) -}}
          {%- endfor -%}
        {%- elif arguments is string -%}{{- ift_json_args(arguments or '{}') -}}
        {%- endif -%}
        {{- ')' -}}
      {%- endfor -%}
      {{- ']' -}}
    {%- endset -%}
    {%- set ift.out = ift.out + [{'role': 'assistant', 'content': calls}] -%}
  {%- elif message.get('role') == 'tool' -%}
    {%- set content = 'Tool result (' ~ message.get('name', 'tool') ~ '): ' ~ message.get('content', '') -%}
    {%- set ift.out = ift.out + [{'role': 'user', 'content': content}] -%}
  {%- else -%}
    {%- set ift.out = ift.out + [{'role': message.get('role'), 'content': message.get('content') or ''}] -%}
  {%- endif -%}
{%- endfor -%}
{#- the base template follows, unchanged; trim_blocks drops the one newline after this tag, and
    the base template starts a line, as it did when it began the file (lstrip_blocks) -#}
{%- set messages = ift.out %}
"""


def compact_chat_template(base_template: str) -> str:
    """``base_template`` wrapped to render tools in the project's compact prompt format.

    Raises ValueError for a base template that already renders tools itself (export that one
    as it is: such models are trained in their native format) or that is not a chat template.
    Wrapping a template this function made returns it unchanged.
    """
    if not isinstance(base_template, str) or "messages" not in base_template:
        raise ValueError("compact_chat_template needs a base chat template string that iterates `messages`")
    if base_template.startswith(MARKER):
        return base_template
    if "tools" in base_template or "tool_calls" in base_template:
        raise ValueError(
            "the base chat template renders tools itself; the compact format is for templates without tool "
            "support (models trained with tool_format='prompt'), so export this template unchanged"
        )
    prefix, suffix = COMPACT_SYSTEM_PROMPT.format(functions=_SENTINEL).split(_SENTINEL)
    # JSON string literals (ASCII, \n, \", \\, \uXXXX escapes) are valid Jinja string literals.
    prelude = _PRELUDE.replace("@@PREFIX@@", json.dumps(prefix)).replace("@@SUFFIX@@", json.dumps(suffix))
    return MARKER + prelude + base_template
