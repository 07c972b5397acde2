"""`make images` without a registry: the Debian mirror apt uses, the bases, the CA bundle."""

from __future__ import annotations

from pathlib import Path

from step_platform.devstack import images


def test_the_mirror_is_read_from_a_deb822_sources_file(tmp_path: Path) -> None:
    vendor = tmp_path / "nodesource.list"
    vendor.write_text("deb [signed-by=/k.gpg] https://deb.nodesource.com/node_20.x nodistro main\n")
    debian = tmp_path / "debian.sources"
    debian.write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert images.apt_mirror([vendor, debian]) == "http://mirror.example/debian"


def test_the_mirror_is_read_from_a_one_line_sources_list(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("# comment\ndeb [arch=amd64] http://ftp.example.org/debian/ bookworm main\n")
    assert images.apt_mirror([listing]) == "http://ftp.example.org/debian"


def test_without_a_debian_source_the_mirror_is_debians_own(tmp_path: Path) -> None:
    assert images.apt_mirror([tmp_path / "missing.list"]) == images.DEFAULT_MIRROR


def test_the_three_images_have_stable_names() -> None:
    assert [image.name for image in images.IMAGES] == [
        "step-platform:latest",
        "step-platform-postgres:15",
        "step-platform-nginx:latest",
    ]
    assert [image.public_base for image in images.IMAGES] == [
        "python:3.11-slim",
        "debian:bookworm-slim",
        "debian:bookworm-slim",
    ]


def test_the_ca_bundle_named_by_pip_cert_wins(tmp_path: Path) -> None:
    bundle = tmp_path / "corp.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert images.host_ca_bundle({"PIP_CERT": str(bundle)}) == bundle
    assert images.host_ca_bundle({"PIP_CERT": str(tmp_path / "none.pem")}) != bundle


def test_the_production_image_installs_no_test_packages() -> None:
    import tomllib

    project = tomllib.loads((images.ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for name in ("pgserver", "testcontainers", "pytest", "hypothesis", "ruff"):
        assert name not in runtime
    dockerfile = images.SERVICE.dockerfile.read_text()
    assert "['project']['dependencies']" in dockerfile and "pip install --no-deps ." in dockerfile
