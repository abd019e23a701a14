"""The deployment files are what the code generates (the loopback cluster the other tests drive runs the same
generators), and the cluster's NATS configuration is one nats-server accepts with the users of the single-host
layout and the passwords compose gives its containers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from switchboard import nats_cluster, nginx
from switchboard.runner import nats_server_binary

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_the_nginx_configurations_are_generated() -> None:
    assert (DEPLOY / "nginx.conf").read_text() == nginx.compose_config(), (
        "regenerate: python -m switchboard.nginx compose > deploy/nginx.conf")
    assert (DEPLOY / "cluster" / "nginx.conf").read_text() == nginx.cluster_config(), (
        "regenerate: python -m switchboard.nginx cluster > deploy/cluster/nginx.conf")


def test_the_cluster_nats_configuration_is_generated_and_valid(tmp_path: Path) -> None:
    config = DEPLOY / "cluster" / "nats.conf"
    assert config.read_text() == nats_cluster.compose_config(), (
        "regenerate: python -m switchboard.nats_cluster > deploy/cluster/nats.conf")
    # As compose mounts them: the cluster's file, and the single-host users beside it.
    shutil.copy(config, tmp_path / "nats.conf")
    shutil.copy(DEPLOY / "nats.conf", tmp_path / nats_cluster.COMPOSE_USERS_FILE)
    compose = (DEPLOY / "cluster" / "compose.yaml").read_text()
    both = (DEPLOY / "nats.conf").read_text() + config.read_text()
    variables = set(re.findall(r"\$(SWITCHBOARD_\w+_PASSWORD)", both))
    missing = {name for name in variables if f"{name}: ${{{name}:?" not in compose}
    assert not missing, f"the NATS containers of deploy/cluster/compose.yaml need {sorted(missing)}"
    env = {**os.environ, **dict.fromkeys(variables, "x")}
    check = subprocess.run([nats_server_binary(), "-t", "-c", str(tmp_path / "nats.conf")], env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
