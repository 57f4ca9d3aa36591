"""The add-on folder as the Supervisor and the builder read it (no Docker engine here).

config.yaml is validated against a JSON schema of the documented keys
(resources/addon_config.schema.json); the default options must pass the same validation
the add-on runs at start; every option has a translation; the s6-overlay v3 services are
wired up; the Dockerfile installs this repository's wheel with addon/install.sh.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from PIL import Image

from optimizer.settings.options import parse_options

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"
S6 = ADDON / "rootfs" / "etc" / "s6-overlay"
RESOURCES = Path(__file__).parent / "resources"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(ADDON / "config.yaml")
    return data


def test_config_yaml_matches_the_documented_keys(config: dict[str, Any]) -> None:
    schema = json.loads((RESOURCES / "addon_config.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)

    jsonschema.Draft202012Validator(schema).validate(config)


def test_the_schema_resource_rejects_what_the_supervisor_rejects(config: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads((RESOURCES / "addon_config.schema.json").read_text(encoding="utf-8"))
    )
    broken = [
        {**config, "ingres": True},  # typo of a key
        {**config, "arch": ["x86"]},
        {**config, "services": ["mqtt:maybe"]},
        {**config, "schema": {**config["schema"], "log_level": "string"}},
        {**config, "schema": {**config["schema"], "nested": [["str"]]}},
        {k: v for k, v in config.items() if k != "slug"},
    ]
    for candidate in broken:
        assert not validator.is_valid(candidate)


def test_addon_identity_and_runtime_keys(config: dict[str, Any]) -> None:
    assert (config["slug"], config["version"]) == ("bess_dispatch", "0.2.0")
    assert config["arch"] == ["aarch64", "amd64"]
    assert config["init"] is False  # s6-overlay v3 is the init
    assert config["services"] == ["mqtt:want"]
    assert config["ingress"] is True
    assert config["ingress_port"] == 8099
    assert set(config["ports"]) == {"1883/tcp", "8883/tcp"}


def test_default_options_pass_the_start_validation(config: dict[str, Any]) -> None:
    options = parse_options(config["options"])

    assert options.sites[0].site_id == "home"
    assert options.broker.mode.value == "own"


def _schema_keys(schema: dict[str, Any], options: dict[str, Any], path: str) -> list[str]:
    """Options the Supervisor would reject: a required key without a default."""
    missing = []
    for key, element in schema.items():
        if isinstance(element, dict):
            missing += _schema_keys(element, options.get(key) or {}, f"{path}{key}.")
        elif isinstance(element, list) and isinstance(element[0], dict):
            for index, item in enumerate(options.get(key) or []):
                missing += _schema_keys(element[0], item, f"{path}{key}[{index}].")
        elif isinstance(element, str) and not element.endswith("?") and key not in options:
            missing.append(f"{path}{key}")
    return missing


def test_every_required_option_has_a_default_and_every_default_a_schema(
    config: dict[str, Any],
) -> None:
    assert _schema_keys(config["schema"], config["options"], "") == []
    assert set(config["options"]) == set(config["schema"])
    for section in ("tariff", "broker"):
        assert set(config["options"][section]) <= set(config["schema"][section])
    assert set(config["options"]["sites"][0]) <= set(config["schema"]["sites"][0])


def test_list_choices_match_the_python_enums(config: dict[str, Any]) -> None:
    schema = config["schema"]
    choices = {
        "site use_case": (schema["sites"][0]["use_case"], {"ac_link", "dc_link", "standalone"}),
        "tariff kind": (schema["tariff"]["kind"], {"spot_file", "tou", "entity"}),
        "broker mode": (schema["broker"]["mode"], {"own", "ha"}),
    }
    for name, (element, expected) in choices.items():
        match = re.fullmatch(r"list\((.+)\)\??", element)
        assert match is not None, name
        assert set(match[1].split("|")) == expected, name


def test_every_option_and_port_is_translated(config: dict[str, Any]) -> None:
    translations = load_yaml(ADDON / "translations" / "en.yaml")
    configuration = translations["configuration"]

    def check(schema: dict[str, Any], names: dict[str, Any], path: str) -> None:
        assert set(names) == set(schema), path
        for key, element in schema.items():
            entry = names[key]
            assert entry.get("name"), f"{path}{key}"
            assert entry.get("description"), f"{path}{key}"
            nested = element[0] if isinstance(element, list) else element
            if isinstance(nested, dict):
                check(nested, entry.get("fields", {}), f"{path}{key}.")

    check(config["schema"], configuration, "")
    assert {key.lower() for key in translations["network"]} == set(config["ports"])


def test_build_parameters_live_in_the_dockerfile_not_build_yaml() -> None:
    assert not (ADDON / "build.yaml").exists()  # deprecated by the Supervisor (2026)
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]

    assert lines[0] == "ARG BUILD_FROM=ghcr.io/home-assistant/base-debian:trixie"
    assert lines[1] == "FROM ${BUILD_FROM}"
    assert 'io.hass.arch="${BUILD_ARCH}"' in dockerfile
    assert 'io.hass.version="${BUILD_VERSION}"' in dockerfile


def test_dockerfile_installs_the_repositorys_wheel_with_the_one_install_script() -> None:
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]

    # The build context is the repository: its wheel, the script CI replays, the pins.
    assert "COPY addon/install.sh addon/constraints.txt /tmp/bess-dispatch/" in instructions
    assert "COPY dist/ /tmp/bess-dispatch/dist/" in instructions
    assert "COPY addon/rootfs /" in instructions
    run = dockerfile[dockerfile.index("RUN") :]
    assert "bash /tmp/bess-dispatch/install.sh /tmp/bess-dispatch/dist/" in run
    # Nothing of this project comes from a URL at build time.
    code = "\n".join(instructions)
    assert "git+" not in code
    assert "pip install" not in code
    install = (ADDON / "install.sh").read_text(encoding="utf-8")
    assert "--only-binary=:all:" in install
    assert "--constraint" in install


def test_s6_overlay_services_are_wired_up() -> None:
    rc = S6 / "s6-rc.d"
    services = {path.name for path in rc.iterdir()} - {"user"}

    assert services == {"init-config", "mosquitto", "optimizer"}
    assert {path.name for path in (rc / "user" / "contents.d").iterdir()} == services
    kinds = {name: (rc / name / "type").read_text().strip() for name in services}
    assert kinds == {"init-config": "oneshot", "mosquitto": "longrun", "optimizer": "longrun"}
    dependencies = {
        name: {path.name for path in (rc / name / "dependencies.d").iterdir()} for name in services
    }
    assert dependencies == {
        "init-config": {"base"},
        "mosquitto": {"init-config"},
        "optimizer": {"init-config", "mosquitto"},
    }
    up = (rc / "init-config" / "up").read_text().strip()
    assert up == "/etc/s6-overlay/scripts/init-config.sh"
    assert (ADDON / "rootfs" / up.lstrip("/")).is_file()


@pytest.mark.parametrize(
    "script",
    [
        "scripts/init-config.sh",
        "s6-rc.d/mosquitto/run",
        "s6-rc.d/mosquitto/finish",
        "s6-rc.d/optimizer/run",
        "s6-rc.d/optimizer/finish",
    ],
)
def test_scripts_are_executable_bash_with_valid_syntax(script: str) -> None:
    path = S6 / script
    text = path.read_text(encoding="utf-8")

    assert os.access(path, os.X_OK), f"{script} is not executable"
    # Services run with the container's environment; finish scripts need none of it.
    expected = "#!/usr/bin/env bash\n" if "finish" in script else "#!/usr/bin/with-contenv bash\n"
    assert text.startswith(expected)
    assert "bashio::" not in text  # the logic is Python; CI replays these without bashio
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=10)


def test_scripts_start_what_the_generator_writes() -> None:
    init = (S6 / "scripts" / "init-config.sh").read_text(encoding="utf-8")
    mosquitto = (S6 / "s6-rc.d" / "mosquitto" / "run").read_text(encoding="utf-8")
    optimizer = (S6 / "s6-rc.d" / "optimizer" / "run").read_text(encoding="utf-8")

    assert "/opt/bess-dispatch/bin/python3 -m optimizer.addon generate" in init
    assert '--supervisor "${BESS_SUPERVISOR_URL:-http://supervisor}"' in init
    assert "--out /run/bess_dispatch" in init
    assert "--broker-user mosquitto" in init
    assert "/run/bess_dispatch/mosquitto/mosquitto.conf" in mosquitto
    assert "exec mosquitto -c" in mosquitto
    assert (
        "exec /opt/bess-dispatch/bin/python3 -m optimizer serve"
        " --config /run/bess_dispatch/service.json"
    ) in optimizer


def test_icon_and_logo_have_the_store_sizes() -> None:
    with Image.open(ADDON / "icon.png") as icon:
        assert icon.size == (256, 256)
    with Image.open(ADDON / "logo.png") as logo:
        width, height = logo.size
        assert 200 <= width <= 300
        assert 80 <= height <= 120


def test_docs_cover_every_top_level_option(config: dict[str, Any]) -> None:
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")

    for key in config["schema"]:
        assert f"`{key}`" in docs, key
    for section in ("tariff", "broker"):
        for key in config["schema"][section]:
            assert f"`{key}`" in docs, f"{section}.{key}"
    for key in config["schema"]["sites"][0]:
        assert f"`{key}`" in docs, f"sites.{key}"
