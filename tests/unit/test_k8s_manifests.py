"""deploy/k8s renders, validates and holds the issue's rules, offline.

Both overlays are rendered with kubectl's kustomize; every object is validated against the
Kubernetes schemas (kubernetes-validate, strict) or, for the CloudNativePG Cluster, against
deploy/k8s/schemas; checkov passes with the waivers deploy/k8s/checkov.yaml explains. The rest
checks what a schema cannot: who may reach whom, probes, seed env names, images.
"""

from __future__ import annotations

import copy
import importlib
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from tests.k8s import (
    K8S,
    OVERLAYS,
    ROOT,
    RenderError,
    checkov,
    containers,
    kind,
    objects,
    render,
    validate,
)

SERVICES = {"registry": 8002, "configs": 8001, "step": 8080}
SIMULATORS = {"raida-mock": 8090, "user-center-mock": 8091}
# The seed's environment names each service must get (deploy/env/*.env.example).
SEED_ENV = {
    "registry": {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DB_NAME", "DB_USER", "DB_PASSWORD",
                 "DB_HOST", "DB_PORT"},
    "configs": {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "REGISTRY_URL", "REGISTRY_PORT",
                "ACCESS_TOKEN_PUBLIC_KEY", "JWT_ALGORITHM"},
    "step": {"SECRET_KEY", "DEBUG", "DJANGO_ALLOWED_HOSTS", "DJANGO_CORS_ALLOWED_ORIGINS",
             "BASE_URL", "USER_RAIDA", "PASSWD_RAIDA", "ACCESS_TOKEN_PUBLIC_KEY",
             "JWT_ALGORITHM", "CONFIGS_SERVICE_URL", "LANGUAGE_CODE", "TIME_ZONE"},
}  # fmt: skip
# Images that are not ours: dev's Postgres (prod's comes from the CloudNativePG operator); the
# alpine image's fixed uid 70 lets the pod declare runAsUser, as runAsNonRoot needs.
THIRD_PARTY_IMAGES = {"postgres:16-alpine"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("k8s")
    files = {}
    for overlay in OVERLAYS:
        files[overlay] = out / f"{overlay}.yaml"
        files[overlay].write_text(render(K8S / "overlays" / overlay), encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def docs(rendered: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    return {name: objects(path.read_text(encoding="utf-8")) for name, path in rendered.items()}


def env_names(container: dict[str, Any], docs: list[dict[str, Any]]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    maps = kind(docs, "ConfigMap")
    for source in container.get("envFrom", []):
        names |= set(maps[source["configMapRef"]["name"]]["data"])
    return names


def secret_refs(container: dict[str, Any]) -> dict[str, str]:
    """env name -> secret name, for env taken from secrets."""
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def ingress_sources(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [peer for rule in policy["spec"].get("ingress", []) for peer in rule.get("from", [])]


# --- rendering and schemas --------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_its_schema(docs, overlay) -> None:
    assert docs[overlay]
    for obj in docs[overlay]:
        validate(obj)


def test_a_broken_object_fails_schema_validation(docs) -> None:
    deployment = copy.deepcopy(kind(docs["dev"], "Deployment")["registry"])
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    misspelt = copy.deepcopy(kind(docs["dev"], "Deployment")["registry"])
    misspelt["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(misspelt)


def test_a_broken_cluster_fails_its_crd_schema(docs) -> None:
    cluster = copy.deepcopy(kind(docs["prod"], "Cluster")["registry-postgres"])
    cluster["spec"]["instances"] = "three"
    with pytest.raises(jsonschema.ValidationError):
        validate(cluster)
    cluster = copy.deepcopy(kind(docs["prod"], "Cluster")["registry-postgres"])
    cluster["spec"]["storage"]["sise"] = cluster["spec"]["storage"].pop("size")
    with pytest.raises(jsonschema.ValidationError):
        validate(cluster)


def test_a_broken_kustomization_fails_to_render(tmp_path) -> None:
    overlay = tmp_path / "overlays" / "broken"
    shutil.copytree(K8S / "base", tmp_path / "base")
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\n  - missing.yaml\n", encoding="utf-8"
    )
    with pytest.raises(RenderError, match=r"missing\.yaml"):
        render(overlay)


def test_checkov_passes_with_only_the_explained_waivers(rendered) -> None:
    result = checkov(list(rendered.values()))
    summaries = [r["summary"] for r in result["reports"] if r.get("check_type") == "kubernetes"]
    assert summaries, result["stderr"][-2000:]
    failed = [
        (c["check_id"], c["resource"])
        for r in result["reports"]
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []
    assert summaries[0]["parsing_errors"] == 0
    assert summaries[0]["passed"] > 0
    assert result["returncode"] == 0


def test_every_checkov_waiver_is_explained() -> None:
    lines = (K8S / "checkov.yaml").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*- CKV_", line):
            assert lines[i - 1].strip().startswith("#"), f"waiver {line.strip()} has no reason"


# --- the rules -------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_is_a_deployment_with_hpa_and_pdb(docs, overlay) -> None:
    d = docs[overlay]
    for name in SERVICES:
        assert name in kind(d, "Deployment")
        hpa = kind(d, "HorizontalPodAutoscaler")[name]
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        pdb = kind(d, "PodDisruptionBudget")[name]
        labels = kind(d, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_probe_readyz_and_healthz_and_are_scraped(docs, overlay) -> None:
    for name, port in SERVICES.items():
        deployment = kind(docs[overlay], "Deployment")[name]
        (container,) = containers(deployment)
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert annotations["prometheus.io/port"] == str(port)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_non_root_read_only_with_limits(docs, overlay) -> None:
    workloads = [
        *kind(docs[overlay], "Deployment").values(),
        *kind(docs[overlay], "StatefulSet").values(),
        *kind(docs[overlay], "Job").values(),
    ]
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for c in containers(workload):
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, c["name"]
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, c["name"]
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], c["name"]
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), c["name"]
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), c["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_get_the_seed_env_names(docs, overlay) -> None:
    for name, names in SEED_ENV.items():
        (container,) = containers(kind(docs[overlay], "Deployment")[name])
        assert names <= env_names(container, docs[overlay]), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_registry_api_token_is_one_secret_shared_by_registry_and_configs(docs, overlay) -> None:
    refs = {
        name: secret_refs(containers(kind(docs[overlay], "Deployment")[name])[0])
        for name in ("registry", "configs")
    }
    assert refs["registry"]["REGISTRY_API_TOKEN"] == refs["configs"]["REGISTRY_API_TOKEN"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migration_job_runs_migrate_with_the_registry_database(docs, overlay) -> None:
    job = kind(docs[overlay], "Job")["registry-migrate"]
    (container,) = containers(job)
    assert container["command"] == ["step-platform", "migrate"]
    registry = containers(kind(docs[overlay], "Deployment")["registry"])[0]
    db = {k: v for k, v in secret_refs(registry).items() if k.startswith("DB_")}
    assert db and secret_refs(container) == db


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_configs_reaches_the_registry(docs, overlay) -> None:
    policies = kind(docs[overlay], "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
    }
    registry_labels = kind(docs[overlay], "Deployment")["registry"]["spec"]["template"]
    selecting = [
        p
        for p in policies.values()
        if p["spec"]["podSelector"].get("matchLabels")
        and p["spec"]["podSelector"]["matchLabels"].items()
        <= registry_labels["metadata"]["labels"].items()
    ]
    pods = [s["podSelector"] for p in selecting for s in ingress_sources(p) if "podSelector" in s]
    namespaces = [
        s["namespaceSelector"]["matchLabels"]
        for p in selecting
        for s in ingress_sources(p)
        if "namespaceSelector" in s
    ]
    assert pods == [{"matchLabels": {"app.kubernetes.io/name": "configs"}}]
    assert namespaces == [{"kubernetes.io/metadata.name": "monitoring"}]  # scrapes only


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_registry_reaches_postgres(docs, overlay) -> None:
    policy = kind(docs[overlay], "NetworkPolicy")["registry-postgres-from-registry"]
    apps = [s["podSelector"]["matchLabels"] for s in ingress_sources(policy) if "podSelector" in s]
    # the registry's pods (API and migrate Job) and, under CloudNativePG, its own instances
    allowed = {"app.kubernetes.io/name": "registry"}
    assert allowed in apps
    assert all(a == allowed or set(a) == {"cnpg.io/cluster"} for a in apps)
    namespaces = [s for s in ingress_sources(policy) if "namespaceSelector" in s]
    assert all(
        n["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "cnpg-system"}
        for n in namespaces
    )


@pytest.mark.parametrize(
    ("overlay", "domain"), [("dev", "step.localhost"), ("prod", "step.skroy.ru")]
)
def test_ingress_has_the_seed_host_rules(docs, overlay, domain) -> None:
    ingress = kind(docs[overlay], "Ingress")["step-platform"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    routes = {
        rule["host"]: rule["http"]["paths"][0]["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
    }
    assert routes == {
        f"cfg.{domain}": "configs",
        f"*.cfg.{domain}": "configs",
        domain: "step",
        f"*.{domain}": "step",
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_are_refused_on_every_public_host(docs, overlay) -> None:
    ingresses = kind(docs[overlay], "Ingress")
    public = {rule["host"] for rule in ingresses["step-platform"]["spec"]["rules"]}
    closed = ingresses["step-platform-metrics-not-public"]
    deny = closed["metadata"]["annotations"]["nginx.ingress.kubernetes.io/denylist-source-range"]
    assert set(deny.split(",")) == {"0.0.0.0/0", "::/0"}
    assert {rule["host"] for rule in closed["spec"]["rules"]} == public
    for rule in closed["spec"]["rules"]:
        assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [
            ("/metrics", "Exact")
        ]


def test_dev_runs_simulators_and_a_postgres_statefulset(docs) -> None:
    dev = docs["dev"]
    assert set(SIMULATORS) <= set(kind(dev, "Deployment"))
    assert "registry-postgres" in kind(dev, "StatefulSet")
    assert not kind(dev, "Cluster")
    for name in SERVICES:
        assert kind(dev, "Deployment")[name]["spec"]["replicas"] == 1


def test_prod_runs_a_three_instance_cloudnativepg_cluster_and_no_simulators(docs) -> None:
    prod = docs["prod"]
    assert kind(prod, "Cluster")["registry-postgres"]["spec"]["instances"] == 3
    assert not kind(prod, "StatefulSet")
    assert not set(SIMULATORS) & set(kind(prod, "Deployment"))
    assert not kind(prod, "Secret")  # created out of band, never committed
    step = containers(kind(prod, "Deployment")["step"])[0]
    assert secret_refs(step)["BASE_URL"] == "raida"
    assert secret_refs(step)["ACCESS_TOKEN_PUBLIC_KEY"] == "user-center"


def test_prod_autoscalers_also_use_the_request_rate_metric(docs) -> None:
    for hpa in kind(docs["prod"], "HorizontalPodAutoscaler").values():
        pods = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
        assert pods == ["http_requests_per_second"]


def test_prod_postgres_max_connections_cover_every_registry_pool(docs) -> None:
    prod = docs["prod"]
    max_connections = int(
        kind(prod, "Cluster")["registry-postgres"]["spec"]["postgresql"]["parameters"][
            "max_connections"
        ]
    )
    pool = int(kind(prod, "ConfigMap")["registry-env"]["data"]["DB_POOL_SIZE"])
    replicas = kind(prod, "HorizontalPodAutoscaler")["registry"]["spec"]["maxReplicas"]
    reserved = 3 + 1 + 5  # superuser_reserved_connections, the migrate Job, replication
    assert replicas * pool + reserved <= max_connections


def make_images() -> set[str]:
    """The images `make images` builds: `-t NAME` in its recipe, or the `IMAGES` of the module
    it runs."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^images:.*\n((?:\t.*\n?)+)", makefile, re.MULTILINE)
    assert recipe is not None, "the Makefile has no `images` target"
    tags = set(re.findall(r"(?:-t|--tag)[ =](\S+)", recipe.group(1)))
    module = re.search(r"-m (step_platform\.[\w.]+)", recipe.group(1))
    if not tags and module:
        images = importlib.import_module(module.group(1)).IMAGES
        tags = {image.name for image in images}
    assert tags, f"cannot tell which images `make images` builds from: {recipe.group(1)!r}"
    return tags


def test_images_are_ones_make_images_builds(docs) -> None:
    named = {
        c["image"]
        for overlay in OVERLAYS
        for obj in docs[overlay]
        if obj["kind"] in ("Deployment", "StatefulSet", "Job")
        for c in containers(obj)
    }
    ours = named - THIRD_PARTY_IMAGES
    assert ours == {"step-platform:latest"}  # one image, every service; the command picks
    assert ours <= make_images()
