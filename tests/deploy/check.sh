#!/usr/bin/env bash
# Static checks of the deploy recipes (deploy/kubernetes, deploy/compose.yaml, monitoring) against the gateway, so they
# fail when the recipes drift from the code. No Docker, no cluster, no network; a few seconds.
#
#   tests/deploy/check.sh [BIN_DIR]    (default build/bin; e.g. `tests/deploy/check.sh build`)
#
# 1. every file is well-formed YAML (PyYAML);
# 2. every SWITCHBOARD_* variable named in deploy/ and every --flag given to a gateway container is an
#    option of `switchboard --help`;
# 3. probes and health checks use the gateway's real endpoints (gateway/server/routes.cpp): readiness
#    /health/ready, liveness one of the alive routes; the container port is the --listen port; the
#    balancer's check (deploy/haproxy.cfg) is the readiness route;
# 4. terminationGracePeriodSeconds exceeds the preStop sleep + --shutdown-timeout (as set, else its
#    --help default) + 5 s, and Compose's stop_grace_period exceeds --shutdown-timeout + 5 s;
# 5. the Kubernetes gateways take the access key and the Redis URL (it may hold a password) from a
#    Secret, never from a ConfigMap or a literal; Compose's build contexts, Dockerfiles and bind mounts
#    exist (relative to deploy/);
# 6. every metric the alert rules (deploy/prometheus) and the Grafana dashboard (deploy/grafana) query is
#    one the gateway serves; with promtool (Debian's prometheus), the rules pass `promtool check rules`
#    and their unit tests (tests/deploy/alerts_test.yaml).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build}
[ -x "$dir/switchboard" ] || dir=$dir/bin
[ -x "$dir/switchboard" ] || { echo "deploy: no switchboard binary in ${1:-build}" >&2; exit 1; }
# The first python3 with PyYAML: Debian's (python3-yaml, scripts/setup.sh) or one on PATH.
py=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import yaml' 2>/dev/null; then py=$candidate; break; fi
done
[[ -n $py ]] || { echo "deploy: python3 with PyYAML (python3-yaml) needed" >&2; exit 1; }
exec "$py" tests/deploy/check.py "$PWD" "$dir"
