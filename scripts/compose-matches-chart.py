"""Fails when deploy/docker-compose.yaml and the Helm chart drift apart.

Both deploy the same services from the same image, scrape the same port and ship the same
rules and dashboard files; this checks the parts a change to one is likely to forget in the
other. Run by scripts/helm-check.sh. `--env SERVICE` prints one service's environment
instead (KEY=VALUE lines), which helm-check.sh loads with `newswire check-config`.
"""

import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
compose = yaml.safe_load((root / "deploy/docker-compose.yaml").read_text())
values = yaml.safe_load((root / "helm/newswire/values.yaml").read_text())
prometheus = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
templates = root / "helm/newswire/templates"

if len(sys.argv) == 3 and sys.argv[1] == "--env":
    # KEY=VALUE lines of one compose service's environment, for `newswire check-config`.
    for key, value in (compose["services"][sys.argv[2]].get("environment") or {}).items():
        print(f"{key}={value}")
    sys.exit(0)

errors = []
chart_components = {d.name for d in templates.iterdir() if (d / "deployment.yaml").is_file()}
services = compose["services"]
newswire_services = {
    name for name, service in services.items() if service.get("image") == "newswire:dev" and name != "topics"
}
if newswire_services != chart_components:
    errors.append(f"compose services {sorted(newswire_services)} != chart components {sorted(chart_components)}")

for name in sorted(newswire_services & chart_components):
    command = services[name].get("command", [])
    if command[:1] != [f"/usr/local/bin/{name}"]:
        errors.append(f"compose service {name} runs {command}, the chart runs /usr/local/bin/{name}")
    if not services[name].get("read_only"):
        errors.append(f"compose service {name} has a writable root filesystem; the chart's is read-only")
    grace = services[name].get("stop_grace_period", "10s")
    if int(re.fullmatch(r"(\d+)s", grace).group(1)) <= values["runtime"]["drainTimeoutSecs"]:
        errors.append(f"compose service {name}: stop_grace_period {grace} is not longer than the drain timeout")

port = values["service"]["port"]
scraped = {
    target
    for job in prometheus["scrape_configs"]
    for static in job.get("static_configs", [])
    for target in static["targets"]
}
for name in sorted(chart_components):
    if f"{name}:{port}" not in scraped:
        errors.append(f"deploy/prometheus/prometheus.yml does not scrape {name}:{port}")

mounts = {
    "prometheus": "./prometheus/newswire.rules.yaml",
    "grafana": "./grafana/newswire.json",
}
for service, source in mounts.items():
    volumes = [v.split(":")[0] for v in services[service].get("volumes", []) if isinstance(v, str)]
    if source not in volumes:
        errors.append(f"compose service {service} does not mount {source} (the file the chart ships)")

topics_command = services["topics"]["command"]
if topics_command[:3] != ["/usr/local/bin/newswire", "topics", "create"]:
    errors.append(f"compose topics service runs {topics_command}")

for error in errors:
    print(f"compose-matches-chart: {error}", file=sys.stderr)
sys.exit(1 if errors else 0)
