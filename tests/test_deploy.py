"""deploy/: the Dockerfile (hadolint), the Kubernetes manifests (schemas, references, the Jobs' scripts run with a
stand-in `logeval`), the Prometheus rules (promtool) and the Grafana dashboard's queries."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from external_tools import require_tool

from dspy_logeval.core.config import validate_config
from dspy_logeval.runs.prometheus import GAUGES

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
PROMETHEUS = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
LLAMA_SERVICE = "http://llama-cpp.llm.svc:8080"
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version() + ".0")
# Series the project exports: run metrics (prometheus.py), the API's own (api.py), and what Prometheus adds.
RUN_METRICS = {name for name, _, _ in GAUGES} | {
    "logeval_run_timestamp_seconds", "logeval_tokens", "logeval_category_accuracy_ratio", "logeval_latency_seconds"}
API_METRICS = {"logeval_analyze_requests_total", "logeval_analyze_errors_total", "logeval_analyze_latency_seconds",
               "logeval_analyze_parse_failures_total", "logeval_analyze_tokens_total"}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _manifests() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def _resources() -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for path in _manifests() for doc in _documents(path)}


def _pod_specs() -> dict[str, dict[str, Any]]:
    """Every pod template: CronJob → Job → pod, Job → pod, Deployment → pod."""
    specs = {}
    for (kind, name), doc in _resources().items():
        if kind == "CronJob":
            specs[name] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind in ("Job", "Deployment"):
            specs[name] = doc["spec"]["template"]["spec"]
    return specs


def _experiments() -> dict[str, str]:
    return dict(_resources()[("ConfigMap", "logeval-experiments")]["data"])


def _script(name: str) -> str:
    return str(_resources()[("ConfigMap", "logeval-scripts")]["data"][name])


# --- Dockerfile -------------------------------------------------------------------------------------------------

def test_hadolint_passes_the_dockerfile() -> None:
    hadolint = require_tool("hadolint")
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_really_lints(tmp_path: Path) -> None:
    """The linter in use flags the classic mistakes, so a clean result above means something."""
    hadolint = require_tool("hadolint")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install dspy\n", encoding="utf-8")
    result = subprocess.run([hadolint, "--no-color", "-f", "json", str(bad)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert {"DL3007", "DL3013", "DL3042"} <= {finding["code"] for finding in json.loads(result.stdout)}


def test_dockerfile_runs_logeval_as_non_root() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    base = next(line for line in instructions if line.startswith("FROM "))
    assert re.fullmatch(r"FROM python:3\.\d+\.\d+-slim-\w+", base), base      # a pinned slim Python
    user = next(i for i, line in enumerate(instructions) if line.startswith("USER "))
    assert instructions[user].split()[1].split(":")[0] not in ("root", "0")
    assert instructions.index('ENTRYPOINT ["logeval"]') > user
    assert re.search(r'^logeval = "', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.MULTILINE)
    assert any("/home/logeval/.cache/dspy-logeval/models" in line for line in instructions if line.startswith("VOLUME"))


def test_dockerignore_keeps_what_the_image_runs_from() -> None:
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "artifacts/runs", "*.gguf"} <= patterns
    for needed in ("pyproject.toml", "README.md", "dspy_logeval", "signatures", "programs", "configs", "datasets",
                   "artifacts", "artifacts/prompts", "artifacts/compiled"):
        assert needed not in patterns and (ROOT / needed).exists(), needed


# --- Kubernetes manifests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", _manifests(), ids=lambda p: str(p.relative_to(K8S)))
def test_manifest_matches_the_kubernetes_schema(path: Path, version: str) -> None:
    documents = _documents(path)
    assert documents, f"{path} holds no resource"
    for doc in documents:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name}: {doc['kind']}/{doc['metadata']['name']} is not valid for Kubernetes "
                        f"{version}: {'.'.join(str(p) for p in exc.path)}: {exc.message}")


def test_kustomizations_list_every_manifest() -> None:
    listed = []
    for kustomization in sorted(K8S.rglob("kustomization.yaml")):
        config = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
        assert config["namespace"] == "logeval"
        listed += [kustomization.parent / name for name in config["resources"]]
    assert sorted(listed) == _manifests()


def test_references_resolve() -> None:
    """Every ConfigMap, PVC and volume a pod names exists, and the Service selects the API's pods."""
    resources = _resources()
    for name, spec in _pod_specs().items():
        volumes = {v["name"]: v for v in spec["volumes"]}
        for volume in volumes.values():
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in resources, (name, volume)
            if "persistentVolumeClaim" in volume:
                assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in resources
        for container in spec["containers"]:
            for mount in container["volumeMounts"]:
                assert mount["name"] in volumes, (name, mount)
            command = " ".join(container.get("command", []))
            for script in re.findall(r"/etc/logeval/scripts/(\S+)", command):
                assert script in resources[("ConfigMap", "logeval-scripts")]["data"], (name, script)
    deployment, service = resources[("Deployment", "logeval-api")], resources[("Service", "logeval-api")]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    ports = {p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


@pytest.mark.parametrize("name", sorted(_pod_specs()))
def test_pods_run_non_root_on_a_read_only_root(name: str) -> None:
    spec = _pod_specs()[name]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["image"] == "dspy-logeval"              # the name kustomize's `images:` rewrites
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts                                    # the one writable place besides the volumes
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["DSPY_CACHEDIR"].startswith("/tmp/")            # dspy's disk cache, else under $HOME


def test_api_deployment_serves_with_probes_and_secret_token() -> None:
    container = _resources()[("Deployment", "logeval-api")]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "serve" and f"--endpoint={LLAMA_SERVICE}" in container["args"]
    assert "--host=0.0.0.0" in container["args"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"   # an LM outage must not restart the API
    token = next(e for e in container["env"] if e["name"] == "LOGEVAL_API_TOKEN")
    assert token["valueFrom"]["secretKeyRef"] == {"name": "logeval-api", "key": "token"} and "value" not in token


@pytest.mark.parametrize("key", sorted(_experiments()))
def test_experiment_configs_are_valid_and_use_the_cluster_llm(key: str) -> None:
    config = validate_config(yaml.safe_load(_experiments()[key]), source=f"logeval-experiments/{key}")
    assert key == f"{config.experiment_id}.yaml"                 # experiment.sh finds run folders by this name
    assert config.model.endpoint == LLAMA_SERVICE


def test_indexed_job_has_one_completion_per_config() -> None:
    job = _resources()[("Job", "logeval-sweep")]["spec"]
    assert job["completionMode"] == "Indexed" and job["completions"] == len(_experiments())
    assert job["parallelism"] <= job["completions"]


def test_nightly_cronjob_fails_fast_on_a_failed_gate() -> None:
    cron = _resources()[("CronJob", "logeval-nightly")]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    job = cron["jobTemplate"]["spec"]
    [rule] = job["podFailurePolicy"]["rules"]
    container = job["template"]["spec"]["containers"][0]
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["values"] == [3]
    assert rule["onExitCodes"]["containerName"] == container["name"]
    assert job["template"]["spec"]["restartPolicy"] == "Never"    # required by podFailurePolicy
    assert container["command"][-1] == "/etc/logeval/scripts/nightly.sh"


# --- the Jobs' scripts, run with a stand-in `logeval` -----------------------------------------------------------

FAKE_LOGEVAL = """#!/bin/sh
# Stand-in for the CLI: logs its arguments; sweep/evaluate write run folders; gate exits $FAKE_GATE_RC for
# runs matching $FAKE_GATE_RUN.
echo "$*" >> "$FAKE_LOG"
case "$1" in
  sweep)
    for id in $FAKE_SWEEP_IDS; do mkdir -p "$LOGEVAL_ARTIFACTS/runs/20260101-020000-$id"; done
    exit "${FAKE_SWEEP_RC:-0}" ;;
  evaluate) mkdir -p "$LOGEVAL_ARTIFACTS/runs/20260101-020000-$(basename "$2" .yaml)" ;;
  gate) case "$2" in *"${FAKE_GATE_RUN:-none}"*) exit "${FAKE_GATE_RC:-0}" ;; esac ;;
esac
exit 0
"""


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    """A pod's environment in TMP_PATH: configs from the ConfigMap, an image artifacts folder, a fake logeval."""
    bin_dir, configs, image = tmp_path / "bin", tmp_path / "configs", tmp_path / "image-artifacts"
    for folder in (bin_dir, configs, image / "prompts", tmp_path / "data" / "artifacts" / "runs"):
        folder.mkdir(parents=True)
    fake = bin_dir / "logeval"
    fake.write_text(FAKE_LOGEVAL, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    for key, text in _experiments().items():
        (configs / key).write_text(text, encoding="utf-8")
    (image / "prompts" / "production.json").write_text("{}", encoding="utf-8")
    (tmp_path / "data" / "artifacts" / "runs" / "20251231-020000-nightly-cot").mkdir()   # last night's run
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_LOG": str(tmp_path / "calls.log"),
            "LOGEVAL_ARTIFACTS": str(tmp_path / "data" / "artifacts"), "LOGEVAL_CONFIGS": str(configs),
            "LOGEVAL_IMAGE_ARTIFACTS": str(image), "TMPDIR": str(tmp_path),
            "FAKE_SWEEP_IDS": " ".join(Path(k).stem for k in sorted(_experiments()))}


def _run(script: str, env: dict[str, str], *args: str) -> tuple[int, list[str], str]:
    result = subprocess.run(["/bin/sh", "-c", _script(script), script, *args], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    log = Path(env["FAKE_LOG"])
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return result.returncode, calls, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["nightly.sh", "experiment.sh"])
def test_shellcheck_passes_the_scripts(name: str, tmp_path: Path) -> None:
    shellcheck = require_tool("shellcheck")
    script = tmp_path / name
    script.write_text(_script(name), encoding="utf-8")
    result = subprocess.run([shellcheck, "--shell=sh", "--color=never", str(script)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nightly_sweeps_pushes_and_gates_each_new_run(job_env: dict[str, str]) -> None:
    job_env["PUSHGATEWAY_URL"] = "http://127.0.0.1:9"
    code, calls, output = _run("nightly.sh", job_env)
    assert code == 0, output
    ids = sorted(Path(k).stem for k in _experiments())
    assert calls[0] == f"sweep --glob {job_env['LOGEVAL_CONFIGS']}/*.yaml"
    assert calls[1:] == [line for run_id in ids for line in (
        f"export-metrics 20260101-020000-{run_id} --push-gateway http://127.0.0.1:9",
        f"gate 20260101-020000-{run_id} --against production")]       # last night's run is not gated again
    assert (Path(job_env["LOGEVAL_ARTIFACTS"]) / "prompts" / "production.json").is_file()


@pytest.mark.parametrize(("gate_rc", "sweep_rc", "expected"), [
    (3, 0, 3),      # a gate failed: 3, so the podFailurePolicy fails the Job without a retry
    (1, 0, 1),      # the gate itself could not run
    (0, 1, 1),      # an experiment failed: the runs that finished are still gated
    (3, 1, 3),      # a failed gate wins over an error
])
def test_nightly_exit_codes(job_env: dict[str, str], gate_rc: int, sweep_rc: int, expected: int) -> None:
    job_env.update(FAKE_GATE_RUN="nightly-cot", FAKE_GATE_RC=str(gate_rc), FAKE_SWEEP_RC=str(sweep_rc))
    code, calls, output = _run("nightly.sh", job_env)
    assert code == expected, output
    assert len([c for c in calls if c.startswith("gate ")]) == len(_experiments())
    assert not any(c.startswith("export-metrics") for c in calls)      # no PUSHGATEWAY_URL, no push


def test_nightly_without_any_new_run_is_an_error(job_env: dict[str, str]) -> None:
    job_env.update(FAKE_SWEEP_IDS="", FAKE_SWEEP_RC="1")
    code, calls, output = _run("nightly.sh", job_env)
    assert code == 1 and "wrote no run folder" in output and not any(c.startswith("gate") for c in calls)


@pytest.mark.parametrize("index", range(len(_experiments())))
def test_indexed_experiment_takes_the_config_at_its_index(job_env: dict[str, str], index: int) -> None:
    job_env.update(JOB_COMPLETION_INDEX=str(index), PUSHGATEWAY_URL="http://127.0.0.1:9")
    code, calls, output = _run("experiment.sh", job_env)
    key = sorted(_experiments())[index]
    assert code == 0, output
    assert calls == [f"evaluate {job_env['LOGEVAL_CONFIGS']}/{key}",
                     f"export-metrics 20260101-020000-{Path(key).stem} --push-gateway http://127.0.0.1:9"]


def test_experiment_by_name_and_out_of_range(job_env: dict[str, str]) -> None:
    code, calls, output = _run("experiment.sh", job_env, "nightly-predict.yaml")
    assert code == 0 and calls == [f"evaluate {job_env['LOGEVAL_CONFIGS']}/nightly-predict.yaml"], output
    job_env["JOB_COMPLETION_INDEX"] = str(len(_experiments()))
    code, _, output = _run("experiment.sh", job_env)
    assert code == 1 and "no config at index" in output


# --- Prometheus rules and the Grafana dashboard -----------------------------------------------------------------

def test_promtool_checks_the_alert_rules() -> None:
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "check", "rules", str(PROMETHEUS / "logeval-alerts.yaml")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_alert_rules() -> None:
    promtool = require_tool("promtool")
    result = subprocess.run([promtool, "test", "rules", "logeval-alerts.test.yaml"], cwd=PROMETHEUS,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def _metric_names(expr: str) -> set[str]:
    """The logeval_* series an expression reads (recorded logeval:* series excluded)."""
    names = set(re.findall(r"\blogeval_[a-z_]+", expr))
    return {re.sub(r"_(bucket|sum|count)$", "", n) if "latency" in n else n for n in names}


def test_rules_read_only_exported_metrics() -> None:
    groups = yaml.safe_load((PROMETHEUS / "logeval-alerts.yaml").read_text(encoding="utf-8"))["groups"]
    used = set().union(*(_metric_names(rule["expr"]) for group in groups for rule in group["rules"]))
    assert used and used <= RUN_METRICS | API_METRICS, used - RUN_METRICS - API_METRICS
    assert {"logeval_composite_score", "logeval_accuracy_ratio", "logeval_analyze_requests_total",
            "logeval_analyze_latency_seconds"} <= used


def _dashboard_exprs() -> list[str]:
    exprs = []
    for path in sorted(GRAFANA.glob("*.json")):
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            exprs += [t["expr"] for t in panel.get("targets", []) if "expr" in t]
    return exprs


def test_dashboard_queries_parse_and_read_exported_metrics(tmp_path: Path) -> None:
    """Each Prometheus query of the dashboards, with Grafana's variables filled in, passes promtool as a rule."""
    exprs = _dashboard_exprs()
    used = set().union(*(_metric_names(e) for e in exprs))
    assert used <= RUN_METRICS | API_METRICS, used - RUN_METRICS - API_METRICS
    assert {"logeval_analyze_requests_total", "logeval_analyze_errors_total",
            "logeval_analyze_latency_seconds"} <= used                     # the production analyzer's panels
    promtool = require_tool("promtool")
    filled = [re.sub(r"\$__rate_interval|\$__interval", "5m", e).replace("$experiment", ".*")
              .replace("$prompt", ".*") for e in exprs]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(filled)]}]}
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
