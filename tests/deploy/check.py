#!/usr/bin/env python3
"""Static checks of deploy/ against the gateway: see check.sh. Prints each problem; exits 1 if any."""
import glob, json, os, re, shutil, subprocess, sys

import yaml

repo, bin_dir = sys.argv[1], sys.argv[2]
problems = []
def problem(message): problems.append(message)

# ---- the gateway's truth: --help and its routes -----------------------------------------------------
help_text = subprocess.run([os.path.join(bin_dir, "switchboard"), "--help"], capture_output=True, text=True,
                           check=True, timeout=10).stdout
flags = set(re.findall(r"^  (--[a-z0-9-]+)", help_text, re.M))
envs = set(re.findall(r"env: (SWITCHBOARD_[A-Z0-9_]+)", help_text))
def default_of(flag):
    m = re.search(r"^  " + re.escape(flag) + r"\b.*?\n.*?\n\s+default: ([^;]+);", help_text, re.M)
    if not m: sys.exit(f"deploy: no default of {flag} in --help")
    return m.group(1).strip()

def seconds(text):
    text = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        if re.fullmatch(r"\d+", text): return float(text)
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[u] for n, u in parts)

default_timeout = seconds(default_of("--shutdown-timeout"))
default_port = int(default_of("--listen").rsplit(":", 1)[1])
drain_extra = 5  # "then at most 5s more for their disconnected events"
if "at most 5s more" not in help_text: problem("--help no longer says the drain waits 'at most 5s more': update check.py")

routes = open(os.path.join(repo, "gateway/server/routes.cpp")).read()
m = re.search(r"for \(const char\* path : \{([^}]*)\}\) router\.add\(path, Match::exact, alive\)", routes)
alive_paths = set(re.findall(r'"([^"]+)"', m.group(1))) if m else set()
ready_paths = set(re.findall(r'router\.add\("([^"]+)"[^\n]*\n[^\n]*is_ready', routes))
if not alive_paths or not ready_paths: problem("routes.cpp: liveness/readiness routes not found: update check.py")

# ---- the recipes -------------------------------------------------------------------------------------
docs = {}
for path in sorted(glob.glob(os.path.join(repo, "deploy/**/*.y*ml"), recursive=True)):
    rel = os.path.relpath(path, repo)
    try:
        docs[rel] = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except yaml.YAMLError as e:
        problem(f"{rel}: not well-formed YAML: {e}")
if not any(r.startswith("deploy/kubernetes/") for r in docs) or "deploy/compose.yaml" not in docs:
    problem("deploy/: the Kubernetes manifests or deploy/compose.yaml are missing")

# Every SWITCHBOARD_* named anywhere in the recipes is an option of the gateway.
for path in sorted(glob.glob(os.path.join(repo, "deploy/**/*"), recursive=True)):
    if os.path.isfile(path):
        for name in sorted(set(re.findall(r"SWITCHBOARD_[A-Z0-9_]+", open(path).read()))):
            if name not in envs: problem(f"{os.path.relpath(path, repo)}: {name} is not an option in --help")

def is_gateway_image(image):
    return bool(re.fullmatch(r"(.*/)?switchboard(:[^/]*)?", str(image or "")))

def check_flags(where, argv):
    for arg in argv or []:
        flag = str(arg).split("=", 1)[0]
        if flag.startswith("--") and flag not in flags: problem(f"{where}: {flag} is not an option in --help")

def timeout_of(where, env, argv):
    value = env.get("SWITCHBOARD_SHUTDOWN_TIMEOUT")
    argv = [str(a) for a in argv or []]
    for i, a in enumerate(argv):
        if a == "--shutdown-timeout" and i + 1 < len(argv): value = argv[i + 1]
        elif a.startswith("--shutdown-timeout="): value = a.split("=", 1)[1]
    return default_timeout if value is None else seconds(value)

def check_path(where, kind, path):
    allowed = ready_paths if kind == "readiness" else alive_paths
    if path not in allowed: problem(f"{where}: {kind} probe {path!r} is not one of the gateway's {sorted(allowed)}")

# Kubernetes
k8s = [d for r, ds in docs.items() if r.startswith("deploy/kubernetes/") for d in ds]
configmaps = {d["metadata"]["name"]: d.get("data") or {} for d in k8s if d.get("kind") == "ConfigMap"}
gateways = 0
for d in k8s:
    if d.get("kind") != "Deployment": continue
    pod = d["spec"]["template"]["spec"]
    for c in pod.get("containers", []):
        if not is_gateway_image(c.get("image")): continue
        gateways += 1
        where = f"Deployment {d['metadata']['name']}, container {c['name']}"
        env = {}
        for source in c.get("envFrom", []):
            ref = (source.get("configMapRef") or {}).get("name")
            if ref is not None:
                if ref not in configmaps: problem(f"{where}: ConfigMap {ref} is not in deploy/kubernetes/")
                env.update(configmaps.get(ref, {}))
        for e in c.get("env", []): env[e["name"]] = e.get("value", "(from " + ",".join(e.get("valueFrom", {})) + ")")
        if "SWITCHBOARD_ACCESS_KEY" not in env and "--access-key" not in (c.get("args") or []):
            problem(f"{where}: no SWITCHBOARD_ACCESS_KEY")
        # Secrets come from a Secret: the access key always, the Redis URL since it may carry a password.
        secret_env = {e["name"] for e in c.get("env", []) if "secretKeyRef" in (e.get("valueFrom") or {})}
        for name in ("SWITCHBOARD_ACCESS_KEY", "SWITCHBOARD_REDIS"):
            if name in env and name not in secret_env:
                problem(f"{where}: {name} is not taken from a Secret (env valueFrom.secretKeyRef)")
        if any(str(a).startswith(("--access-key", "--redis=", "--connection-string")) or a == "--redis"
               for a in (c.get("command") or []) + (c.get("args") or [])):
            problem(f"{where}: a key or the Redis URL on the command line; use a Secret")
        argv = (c.get("command") or [])[1:] + (c.get("args") or [])
        check_flags(where, argv)
        for kind, key in (("readiness", "readinessProbe"), ("liveness", "livenessProbe")):
            probe = (c.get(key) or {}).get("httpGet")
            if not probe: problem(f"{where}: no {key}.httpGet"); continue
            check_path(where, kind, probe.get("path"))
        listen = env.get("SWITCHBOARD_LISTEN")
        port = int(listen.rsplit(":", 1)[1]) if listen else default_port
        if port not in [p.get("containerPort") for p in c.get("ports", [])]:
            problem(f"{where}: containerPort is not the gateway's listen port {port}")
        pre = (((c.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
        pre_stop = seconds(pre[-1]) if pre and "sleep" in pre[0] else 0
        grace = pod.get("terminationGracePeriodSeconds", 30)
        need = pre_stop + timeout_of(where, env, argv) + drain_extra
        if not grace > need:
            problem(f"{where}: terminationGracePeriodSeconds {grace} is not above preStop {pre_stop:g} s"
                    f" + --shutdown-timeout + {drain_extra} s = {need:g} s")
if gateways == 0: problem("deploy/kubernetes/: no Deployment runs the switchboard image")

# Compose
compose = (docs.get("deploy/compose.yaml") or [{}])[0]
gateways = 0
for name, s in (compose.get("services") or {}).items():
    if not is_gateway_image(s.get("image")): continue
    gateways += 1
    where = f"compose service {name}"
    env = s.get("environment") or {}
    if isinstance(env, list): env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    command = s.get("command") or []
    if isinstance(command, str): command = command.split()
    check_flags(where, command)
    test = " ".join((s.get("healthcheck") or {}).get("test") or [])
    m = re.search(r"http://[^/\s]+(/[^\s\"']*)", test)
    if not m: problem(f"{where}: no HTTP healthcheck")
    else: check_path(where, "readiness", m.group(1))
    grace = seconds(s.get("stop_grace_period", "10s"))
    need = timeout_of(where, env, command) + drain_extra
    if not grace > need:
        problem(f"{where}: stop_grace_period {grace:g} s is not above --shutdown-timeout + {drain_extra} s = {need:g} s")
if gateways < 2: problem("deploy/compose.yaml: fewer than two gateway services")

# Compose's relative paths (build contexts, Dockerfiles, bind mounts) are relative to the file's directory.
base = os.path.join(repo, "deploy")
for name, s in (compose.get("services") or {}).items():
    build = s.get("build")
    if isinstance(build, str): build = {"context": build}
    if build:
        context = os.path.normpath(os.path.join(base, build.get("context", ".")))
        if not os.path.isdir(context): problem(f"compose service {name}: build context {build.get('context')} is not a directory")
        dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile): problem(f"compose service {name}: no {os.path.relpath(dockerfile, repo)}")
    for volume in s.get("volumes") or []:
        source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":", 1)[0]
        if source and source.startswith((".", "/")) and not os.path.exists(os.path.join(base, source)):
            problem(f"compose service {name}: volume source {source} does not exist")

# The balancer's health check is the gateway's readiness route.
balancer = os.path.join(repo, "deploy/haproxy.cfg")
if os.path.isfile(balancer):
    checks = re.findall(r"^\s*option httpchk (?:GET )?(\S+)", open(balancer).read(), re.M)
    if not checks: problem("deploy/haproxy.cfg: no `option httpchk`")
    for path in checks: check_path("deploy/haproxy.cfg", "readiness", path)

# ---- monitoring: deploy/prometheus (alert rules) and deploy/grafana (dashboards) ---------------------
# Every metric they query is one the gateway serves (--help --format markdown lists them); promtool,
# when installed (scripts/setup.sh installs Debian's prometheus), checks the rules and runs their unit
# tests (tests/deploy/alerts_test.yaml).
markdown = subprocess.run([os.path.join(bin_dir, "switchboard"), "--help", "--format", "markdown"], capture_output=True,
                          text=True, check=True, timeout=10).stdout
served = {}
for name, kind in re.findall(r"^\| `(switchboard_[a-z0-9_]+)` \| (\w+) \|", markdown, re.M): served[name] = kind
if not served: problem("switchboard --help --format markdown lists no metric")
def check_metrics(where, expr):
    for name in set(re.findall(r"\b(switchboard_[a-z0-9_]+)", expr)):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in served or (base != name and served.get(base) == "histogram"): continue
        problem(f"{where}: queries {name}, which the gateway does not serve")
rules_files = sorted(glob.glob(os.path.join(repo, "deploy/prometheus/*.yaml")))
alert_count = panel_count = 0
for path in rules_files:
    rel = os.path.relpath(path, repo)
    for group in (yaml.safe_load(open(path)) or {}).get("groups", []):
        for rule in group.get("rules", []):
            alert_count += 1
            check_metrics(f"{rel} {rule.get('alert') or rule.get('record')}", str(rule.get("expr", "")))
def walk_panels(panels):
    for panel in panels or []:
        yield panel
        yield from walk_panels(panel.get("panels"))
for path in sorted(glob.glob(os.path.join(repo, "deploy/grafana/*.json"))):
    rel = os.path.relpath(path, repo)
    dashboard = json.load(open(path))
    for panel in walk_panels(dashboard.get("panels")):
        for target in panel.get("targets", []):
            panel_count += 1
            check_metrics(f"{rel} panel {panel.get('title')!r}", target.get("expr", ""))
promtool = shutil.which("promtool")
if promtool and rules_files:
    for args in (["check", "rules", *rules_files], ["test", "rules", os.path.join(repo, "tests/deploy/alerts_test.yaml")]):
        run = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60, cwd=repo)
        if run.returncode != 0: problem(f"promtool {' '.join(args[:2])}:\n{run.stdout}{run.stderr}")
print(f"deploy: {alert_count} alert rules and {panel_count} dashboard queries checked against {len(served)} metrics"
      f"{'' if promtool else ' (no promtool: rules not evaluated)'}")

for p in problems: print("deploy: " + p)
print(f"deploy: {len(docs)} YAML files, {len(problems)} problems "
      f"(--shutdown-timeout default {default_timeout:g} s; readiness {sorted(ready_paths)}, liveness {sorted(alive_paths)})")
sys.exit(1 if problems else 0)
