"""Docker's repository as the docker role writes it, rendered without a host.

download.docker.com is out of reach of the tests, so these check what can be
checked offline: the deb822 source file for Debian and Ubuntu on amd64 and
arm64, that it names the key where the role puts it, the order of the apt
tasks, and the rpm repository URLs for the RHEL family.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "docker"
VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _facts(distribution: str, release: str, architecture: str) -> dict:
    return {
        "distribution": distribution,
        "distribution_release": release,
        "architecture": architecture,
    }


def _render(text: str, **extra: object) -> str:
    context = {**VARS, **DEFAULTS, "ansible_managed": "Ansible managed", **extra}
    return ENV.from_string(text).render(context)


def _deb822(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _sep, value = line.partition(":")
        assert key and value.startswith(" "), f"not a deb822 field: {line!r}"
        assert key not in fields, f"field {key} given twice"
        fields[key] = value.strip()
    return fields


def _tasks(name: str) -> list[dict]:
    return yaml.safe_load((ROLE / "tasks" / name).read_text())


@pytest.mark.parametrize(
    ("distribution", "release", "tree"),
    [
        ("Debian", "bookworm", "debian"),
        ("Debian", "trixie", "debian"),
        ("Ubuntu", "noble", "ubuntu"),
    ],
)
@pytest.mark.parametrize(("architecture", "deb_arch"), [("x86_64", "amd64"), ("aarch64", "arm64")])
def test_source_file_names_the_repository_and_the_key(
    distribution: str, release: str, tree: str, architecture: str, deb_arch: str
) -> None:
    text = _render(
        (ROLE / "templates" / "docker.sources.j2").read_text(),
        ansible_facts=_facts(distribution, release, architecture),
    )
    assert _deb822(text) == {
        "Types": "deb",
        "URIs": f"https://download.docker.com/linux/{tree}",
        "Suites": release,
        "Components": "stable",
        "Architectures": deb_arch,
        "Signed-By": "/etc/apt/keyrings/docker.asc",
    }


def test_a_mirror_url_with_a_trailing_slash_gives_one_slash() -> None:
    text = _render(
        (ROLE / "templates" / "docker.sources.j2").read_text(),
        ansible_facts=_facts("Debian", "trixie", "x86_64"),
        docker_repository_url="http://mirror.example.net/docker/",
    )
    assert _deb822(text)["URIs"] == "http://mirror.example.net/docker/debian"


def test_key_is_downloaded_to_the_keyring_the_source_names() -> None:
    tasks = _tasks("repository.yml")
    get_url = next(t["ansible.builtin.get_url"] for t in tasks if "ansible.builtin.get_url" in t)
    facts = _facts("Ubuntu", "noble", "aarch64")
    assert (
        _render(get_url["url"], ansible_facts=facts)
        == "https://download.docker.com/linux/ubuntu/gpg"
    )
    assert _render(get_url["dest"]) == VARS["__docker_keyring"]
    assert VARS["__docker_keyring"].startswith("/etc/apt/keyrings/")
    assert get_url["mode"] == "0644"


def test_stale_sources_go_before_apt_reads_its_sources() -> None:
    tasks = _tasks("repository.yml")
    modules = [next(k for k in t if k.startswith("ansible.builtin.")) for t in tasks]
    assert modules[0] == "ansible.builtin.file"
    assert tasks[0]["ansible.builtin.file"]["state"] == "absent"
    assert modules.index("ansible.builtin.apt") > 0
    assert VARS["__docker_source_file"].endswith(".sources")
    assert VARS["__docker_source_file"] not in VARS["__docker_stale_source_files"]
    assert all(path.endswith(".list") for path in VARS["__docker_stale_source_files"])


@pytest.mark.parametrize("distribution", ["Rocky", "AlmaLinux"])
def test_rhel_family_uses_the_centos_tree(distribution: str) -> None:
    url = _render(VARS["__docker_rpm_repository_url"], ansible_facts=_facts(distribution, "", ""))
    assert url.strip() == "https://download.docker.com/linux/centos"


def test_rhel_family_is_supported_only_from_dockers_repository() -> None:
    supported = VARS["__docker_supported"]
    assert set(supported) == {"distribution", "docker"}
    for family in ("Rocky", "AlmaLinux"):
        assert family in supported["docker"]
        assert family not in supported["distribution"]
        assert family not in VARS["__docker_distribution_packages"]
    assert set(supported["distribution"]) == set(VARS["__docker_distribution_packages"])


def test_debian_13_brings_compose_v2_and_debian_12_does_not() -> None:
    packages = VARS["__docker_distribution_packages"]["Debian"]
    assert {"docker.io", "docker-cli", "docker-compose"} <= set(packages["13"])
    assert "docker-compose" not in packages["12"]
    assert "docker-compose-plugin" in VARS["__docker_repository_packages"]
