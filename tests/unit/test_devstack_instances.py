"""Several registry and configs instances in devstack: their ports, names and nginx's in-chain
listeners, which give each tier one address as a Kubernetes Service does."""

from __future__ import annotations

from step_platform.devstack.nginx import render_http
from step_platform.devstack.ports import PortMap
from step_platform.devstack.stack import Stack, StackConfig, base_of


def scaled() -> Stack:
    ports = PortMap.free(step_instances=2, registry_instances=2, configs_instances=2)
    return Stack(StackConfig(ports=ports))


def test_free_ports_for_every_instance_are_distinct() -> None:
    ports = PortMap.free(step_instances=2, registry_instances=2, configs_instances=3)
    named = ports.named()
    assert len({port for _, port in named}) == len(named) == 5 + 2 + 2 + 3


def test_instance_names_and_urls() -> None:
    stack = scaled()
    p = stack.ports
    assert stack.instance_names("registry") == ["registry-1", "registry-2"]
    assert stack.instance_names("configs") == ["configs-1", "configs-2"]
    assert stack.url("registry").endswith(f":{p.registry}")  # nginx's in-chain listener
    assert stack.url("registry-2").endswith(f":{p.registry_instances[1]}")
    assert stack.url("configs-1").endswith(f":{p.configs_instances[0]}")
    assert stack.url("step-2").endswith(f":{p.step[1]}")


def test_one_instance_keeps_the_plain_names_and_no_in_chain_listener() -> None:
    stack = Stack(StackConfig(ports=PortMap.free()))
    assert stack.instance_names("registry") == ["registry"]
    assert stack.internal_proxies() == ()
    assert "_instances" not in render_http(stack.nginx_site())


def test_base_of_an_instance_name() -> None:
    assert [base_of(n) for n in ("step-2", "registry-10", "raida-mock", "user-center-mock")] == [
        "step",
        "registry",
        "raida-mock",
        "user-center-mock",
    ]


def test_nginx_balances_each_tier_behind_one_listener() -> None:
    stack = scaled()
    p = stack.ports
    http = render_http(stack.nginx_site())
    for service, port, instances in (
        ("registry", p.registry, p.registry_instances),
        ("configs", p.configs, p.configs_instances),
    ):
        servers = "".join(f"    server 127.0.0.1:{i};\n" for i in instances)
        assert f"upstream {service}_instances {{\n{servers}" in http
        assert f"listen 127.0.0.1:{port};" in http
    # the edge's configs host goes to the instances too
    servers = "".join(f"    server 127.0.0.1:{i};\n" for i in p.configs_instances)
    by_key = "    hash $http_idempotency_key consistent;\n"  # replays reach their instance
    assert f"upstream configs_backend {{\n{by_key}{servers}" in http
