"""Writes jinja_cases.json: small templates rendered by Jinja2 in transformers' chat environment (the oracle for
ChatTemplateSemanticsTest). Run with any Python that has jinja2 (3.1.6 made the committed file):
    python3 make_jinja_cases.py > jinja_cases.json
The environment is set up as transformers' _compile_jinja_template does: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks and loopcontrols, its tojson filter and raise_exception global."""
import json
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

M = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"},
     {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!"}, {"role": "user", "content": "Bye"}]
D = {"b": 2, "a": [1, 2.5, None, True, "x\"y"], "c": {"nested": "é\n"}}

CASES = [
    # whitespace control
    ("  {% if true %}\n  x\n  {% endif %}\n  y {% if true %} z {% endif %}\n", {}),
    ("a  {%- if true -%}  b  {%- endif -%}  c", {}),
    ("a\n  {%+ if true %}b{% endif %}\nc", {}),
    ("{% if true +%}\nkept{% endif %}", {}),
    ("{{ 'v' }}\n{{ 'w' }}\n", {}),
    ("x {# a comment #}\ny\n  {# own line #}\nz", {}),
    ("a {{- ' b ' -}} c", {}),
    ("{% raw %}{{ not rendered }}{% endraw %}!", {}),
    ("line\n\n", {}),
    ("{% for m in messages %}\n    {{ m.role }}\n{% endfor %}\n", {"messages": M}),
    ("{%- for m in messages %}\n    {{- m.role }}\n{%- endfor %}", {"messages": M}),
    # scoping
    ("{% set x = 'a' %}{% for i in [1,2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("{% if true %}{% set y = 3 %}{% endif %}{{ y }}", {}),
    ("{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}", {}),
    ("{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", {"messages": M}),
    # loops
    ("{% for m in messages %}{{ loop.index0 }}{{ loop.index }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {"messages": M}),
    ("{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}", {"messages": M}),
    ("{% for x in [] %}a{% else %}empty{% endfor %}", {}),
    ("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": D}),
    ("{% for i in [1,2,3] %}{{ loop.cycle('odd', 'even') }}{{ loop.previtem }}{{ loop.nextitem }} {% endfor %}", {}),
    ("{% for m in messages[::-1] %}{{ m.role }} {% endfor %}|{% for m in messages[1:] %}{{ m.role }} {% endfor %}|{{ messages[-1].content }}", {"messages": M}),
    ("{% for c in 'héllo' %}[{{ c }}]{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": D}),
    ("{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}", {}),
    # expressions and printing
    ("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 / 2 }} {{ 4 / 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", {}),
    ("{{ none }} {{ true }} {{ false }} {{ 1.0 }} {{ 1e-5 }} {{ 1e16 }} {{ 0.1 + 0.2 }} {{ 123456789.125 }} {{ -0.5 }} {{ 100.0 }}", {}),
    ("{{ [1, 'a', none, true, 1.5, [2], {'k': 'v'}] }} {{ {'a': 1, 'b': \"it's\"} }} {{ (1, 2) }}", {}),
    ("{{ 'a' ~ 1 ~ none ~ undefined_name ~ [1] }}", {}),
    ("{{ 'ab' * 3 }} {{ [1] * 2 }} {{ 'a' + 'b' }} {{ [1] + [2] }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 'b' >= 'a' }} {{ [1, 2] < [1, 3] }}", {}),
    ("{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 'z' not in 'abc' }}", {}),
    ("{{ 0 or 'x' }} {{ 'y' and 0 }} {{ none or [] or 'z' }} {{ 1 and 2 }} {{ not 0 }} {{ not 'a' }}", {}),
    ("{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'only' if false }}] {{ 'a' if false else 'b' if true else 'c' }}", {}),
    ("{{ -3 }} {{ -(1 + 2) }} {{ - 2 ** 2 }} {{ +4 }}", {}),
    ("{{ 'a\\tb\\n\\u00e9\\x41\\\\' }} {{ \"q'uote\" }} {{ 'con' 'cat' }}", {}),
    ("{{ messages[0]['role'] }} {{ messages[0].role }} {{ messages.0.content }} {{ d['c']['nested'] }} [{{ d.missing }}] [{{ messages[99] }}]", {"messages": M, "d": D}),
    ("{{ d.items is defined }} {{ d.items is callable }}", {"d": {"items": 3}}),
    ("{{ d['items'] }}", {"d": {"items": 3}}),
    ("{{ 'hello'[1] }} {{ 'hello'[-1] }} {{ 'hello'[1:3] }} {{ 'hello'[::2] }} {{ 'héllo'[::-1] }} {{ [1, 2, 3, 4][-2:] }} {{ [1, 2, 3][5:] }}", {}),
    ("{{ messages|length - 1 }} {{ messages|length > 2 }} {{ (messages|length) * 2 }}", {"messages": M}),
    # tests
    ("{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ x is not none }} {{ n is none }} {{ x is string }} {{ 3 is number }} {{ 3 is integer }} {{ 3.0 is float }} {{ true is boolean }}", {"x": "v", "n": None}),
    ("{{ 4 is divisibleby 2 }} {{ 5 is divisibleby(2) }} {{ 3 is odd }} {{ 3 is even }} {{ x is mapping }} {{ l is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ l is sequence }}", {"x": {}, "l": [1]}),
    ("{{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 2 is lt 1 }} {{ 'a' is in 'abc' }} {{ x is sameas none }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ x is true }} {{ false is false }}", {"x": None}),
    ("{{ not x is defined }} {{ not (x is defined) }}", {}),
    # filters
    ("{{ '  pad  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hello world-wide (yes)'|title }}|{{ 'hELLO'|capitalize }}", {}),
    ("{{ messages|length }} {{ 'héllo'|length }} {{ d|length }} {{ u|length }} {{ [1,2,2]|count }}", {"messages": M, "d": D}),
    ("{{ u|default('dflt') }} {{ ''|default('dflt') }} {{ ''|default('dflt', true) }} {{ none|d('n') }} {{ 0|default(5, boolean=true) }}", {}),
    ("{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ messages|sort(attribute='role')|map(attribute='role')|join(',') }}", {"messages": M}),
    ("{{ [1, 2, 3]|join('-') }} {{ messages|map(attribute='role')|join }} {{ messages|join('|', attribute='role') }} {{ ['a', 'b']|map('upper')|list }}", {"messages": M}),
    ("{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ messages|rejectattr('role', 'eq', 'user')|list|length }} {{ [1, 0, 2, none]|select|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ messages|selectattr('role')|list|length }}", {"messages": M}),
    ("{{ [1, 2]|first }} {{ [1, 2]|last }} {{ 'abc'|first }} {{ [1, 2, 2, 3, 1]|unique|list }} {{ [1, 2]|reverse|list }} {{ 'abc'|reverse }} {{ [3, 1]|max }} {{ [3, 1]|min }} {{ [1, 2.5]|sum }}", {}),
    ("{{ 'a-b-c'|replace('-', '+') }} {{ 'a-b-c'|replace('-', '+', 1) }} {{ '3'|int + 1 }} {{ 'x'|int }} {{ '2.5'|float }} {{ 3|float }} {{ 2.7|int }} {{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.1|round(method='ceil') }}", {}),
    ("{{ d|dictsort }} {{ d|items|list }} {{ 5|string ~ 'x' }} {{ '<a & \"b\">'|e }} {{ 'one two  three'|wordcount }} {{ d|tojson }}", {"d": {"b": 1, "a": 2}}),
    ("{{ 'line1\\nline2\\n\\nline4'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}", {}),
    ("{{ '%s and %s'|format('a', 1) }} {{ '%d%%'|format(5) }} {{ 'x=%s' % 'y' }} {{ '%s-%s' % (1, 2) }}", {}),
    ("{% set t %}inner {{ 1 + 1 }}{% endset %}[{{ t }}]{% set u | upper %}shout{% endset %}{{ u }}{% filter upper %}up {{ 'me' }}{% endfilter %}", {}),
    # tojson
    ("{{ d|tojson }}", {"d": D}),
    ("{{ d|tojson(indent=2) }}", {"d": D}),
    ("{{ d|tojson(indent=4, sort_keys=true) }}", {"d": D}),
    ("{{ {'é': 'ü\U0001F680'}|tojson(true) }}", {}),
    ("{{ [[], {}, 'tab\\tnew\\nline\\u0001', 1e-7, -0.0, 12.0]|tojson }}", {}),
    ("{{ {'k': [1, {'x': []}]}|tojson(indent=2) }}", {}),
    # string and dict methods
    ("{{ 'a,b,,c'.split(',') }} {{ '  a  b \\n c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a/b/c'.rsplit('/', 1) }} {{ ''.split() }} {{ 'x'.split(',') }}", {}),
    ("[{{ '\\n\\n x \\n'.strip() }}] [{{ '\\nx\\n'.lstrip('\\n') }}] [{{ '\\nx\\n'.rstrip('\\n') }}] [{{ 'xyxay'.strip('xy') }}]", {}),
    ("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.upper() }} {{ 'HeLLo'.lower() }} {{ 'hello world'.title() }} {{ 'hello'.capitalize() }} {{ 'a-a-a'.replace('a', 'b', 2) }}", {}),
    ("{{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ ', '.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc\\n'.splitlines() }} {{ '42'.isdigit() }} {{ ' '.isspace() }}", {}),
    ("{{ d.get('b') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list|length }} {{ [1, 2, 1].count(1) }} {{ [1, 2].index(2) }}", {"d": D}),
    ("{% set content = messages[2].content %}{{ content.split('</think>')[-1].lstrip('\\n') }}|{{ content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", {"messages": M}),
    # macros
    ("{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }}", {}),
    ("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    # errors (the message type is the oracle)
    ("{{ u.x }}", {}),
    ("{{ u + 'a' }}", {}),
    ("{{ raise_exception('bad roles') }}", {}),
    ("{{ [1, 2].append(3) }}", {}),
    ("{{ x|nosuchfilter }}", {}),
    ("{% if true %}unclosed", {}),
    ("{{ 1 + 'a' }}", {}),
    ("{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("{{ 1 / 0 }}", {}),
]


def main():
    out = []
    for template, variables in CASES:
        case = {"template": template, "vars": variables}
        try:
            case["output"] = env.from_string(template).render(**variables)
        except Exception as e:  # the oracle for errors is only that Jinja2 refused
            case["error"] = type(e).__name__
        out.append(case)
    json.dump({"jinja2": jinja2.__version__, "cases": out}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


main()
