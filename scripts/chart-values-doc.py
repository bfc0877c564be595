"""Writes the table of every chart value into helm/newswire/README.md, from values.yaml.

Each key in values.yaml carries a comment `# <dotted.key> -- <description>` (continued on the
following comment lines). The table lands between the README's `<!-- values:start -->` and
`<!-- values:end -->` markers. With `--check` nothing is written: it fails when a value has no
description, a description names no value, or the README's table is stale (CI runs this).
"""

import json
import pathlib
import re
import sys

import yaml

chart = pathlib.Path(__file__).resolve().parent.parent / "helm/newswire"
values_path = chart / "values.yaml"
readme_path = chart / "README.md"

lines = values_path.read_text().splitlines()
values = yaml.safe_load(values_path.read_text())
docs = {}
order = []
current = None
for line in lines:
    match = re.match(r"^\s*# ([A-Za-z0-9_.]+) -- (.*)$", line)
    if match:
        current = match.group(1)
        docs[current] = match.group(2).strip()
        order.append(current)
        continue
    cont = re.match(r"^\s*# ?(.*)$", line)
    if cont and current:
        docs[current] += " " + cont.group(1).strip()
        continue
    current = None

errors = []


def lookup(path):
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return KeyError
        node = node[part]
    return node


def walk(node, prefix):
    """Every value that needs a description: leaves, and maps whose keys are not documented."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        documented_children = any(d.startswith(path + ".") for d in docs)
        if isinstance(value, dict) and value and documented_children:
            if path not in docs and not prefix:
                pass
            walk(value, path + ".")
        elif path not in docs:
            errors.append(f"values.yaml: {path} has no `# {path} -- ...` description")


walk(values, "")
for path in docs:
    if lookup(path) is KeyError:
        errors.append(f"values.yaml: the description of {path} names no value")


def default(path):
    value = lookup(path)
    if isinstance(value, dict) and value and any(d.startswith(path + ".") for d in docs):
        return ""
    if isinstance(value, str) and "\n" in value:
        value = value.splitlines()[0] + " …"
    text = json.dumps(value, ensure_ascii=False)
    return "`" + text.replace("|", "\\|") + "`"


rows = ["| Key | Default | Description |", "|---|---|---|"]
for path in order:
    if lookup(path) is KeyError:
        continue
    description = docs[path].replace("|", "\\|")
    rows.append(f"| `{path}` | {default(path)} | {description} |")
table = "\n".join(rows)

readme = readme_path.read_text()
start, end = "<!-- values:start -->", "<!-- values:end -->"
if start not in readme or end not in readme:
    errors.append(f"{readme_path.name}: the {start} / {end} markers are missing")
else:
    before, rest = readme.split(start, 1)
    _, after = rest.split(end, 1)
    updated = f"{before}{start}\n{table}\n{end}{after}"
    if "--check" in sys.argv:
        if updated != readme:
            errors.append("helm/newswire/README.md: the values table is stale; run python3 scripts/chart-values-doc.py")
    elif updated != readme:
        readme_path.write_text(updated)

for error in errors:
    print(f"chart-values-doc: {error}", file=sys.stderr)
sys.exit(1 if errors else 0)
