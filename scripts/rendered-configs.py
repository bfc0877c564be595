"""Extracts the files the chart renders for the services from `helm template` output.

For every ConfigMap in the given manifests it writes the files the services will read into
OUT_DIR/<kind>/<manifest>-<configmap>.yaml, where <kind> is what `newswire check-config --kind`
expects: a service name (from `<release>-<chart>-<service>-config`), `topics` (the topic Job's
configuration), `feeds` or `taxonomy`. Run by scripts/helm-check.sh.
"""

import pathlib
import re
import sys

import yaml

out_dir = pathlib.Path(sys.argv[1])
count = 0
for manifest in map(pathlib.Path, sys.argv[2:]):
    for doc in yaml.safe_load_all(manifest.read_text()):
        if not doc or doc.get("kind") != "ConfigMap":
            continue
        name = doc["metadata"]["name"]
        component = doc["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")
        for key, text in (doc.get("data") or {}).items():
            if key == "config.yaml" and re.fullmatch(rf".*-{re.escape(component)}-config", name):
                kind = component
            elif key in ("feeds.yaml", "taxonomy.yaml"):
                kind = key.removesuffix(".yaml")
            else:
                continue
            path = out_dir / kind / f"{manifest.stem}-{name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            count += 1
if count == 0:
    sys.exit("rendered-configs: no configuration files found")
print(f"rendered-configs: {count} files", file=sys.stderr)
