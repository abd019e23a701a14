"""No public secret: tokens are never verified or minted with an empty, short or published HS256 secret; ``up``
keeps a random one per data dir that ``switchboard token`` finds; compose refuses to start without one."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.auth import PUBLISHED_SECRETS, TokenVerifier, WeakSecret, issue_token, require_strong_secret
from switchboard.datadir import DataDir

ROOT = Path(__file__).resolve().parents[2]
STRONG = "s" * 32
WEAK = {"": "is empty", "short-secret": "is shorter than 32 bytes",
        next(iter(PUBLISHED_SECRETS)): "is a published default"}


def switchboard(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "switchboard", *argv], env=env, capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_JWT_SECRET"}
    return {**env, **extra}


@pytest.mark.parametrize("secret", WEAK)
def test_weak_secrets_are_refused_for_verifying_and_minting(secret: str) -> None:
    with pytest.raises(WeakSecret, match=WEAK[secret]):
        require_strong_secret(secret)
    with pytest.raises(WeakSecret):
        TokenVerifier(secret)
    with pytest.raises(WeakSecret):
        issue_token(1, "user", secret)


def test_a_strong_secret_or_a_public_key_is_accepted() -> None:
    require_strong_secret(STRONG)
    require_strong_secret("", public_key="-----BEGIN PUBLIC KEY-----")  # RS256: the edge holds no secret


@pytest.mark.parametrize("secret", WEAK)
def test_the_edge_refuses_to_start_with_a_weak_secret(secret: str) -> None:
    done = switchboard("serve", "connection", env=_env(SWITCHBOARD_JWT_SECRET=secret))
    assert done.returncode != 0
    assert f"switchboard serve connection: SWITCHBOARD_JWT_SECRET {WEAK[secret]}" in done.stderr
    assert "Traceback" not in done.stderr


def test_up_keeps_one_random_secret_per_data_dir(tmp_path: Path) -> None:
    first, other = DataDir(tmp_path / "a"), DataDir(tmp_path / "b")
    secret = first.jwt_secret()
    require_strong_secret(secret)
    assert DataDir(tmp_path / "a").jwt_secret() == secret  # reused
    assert other.jwt_secret() != secret
    assert stat.S_IMODE((tmp_path / "a" / "jwt-secret").stat().st_mode) == 0o600
    assert first.nats_auth("switchboard") == DataDir(tmp_path / "a").nats_auth("switchboard")


def test_token_is_signed_with_the_data_dirs_secret_unless_the_environment_has_one(tmp_path: Path) -> None:
    missing = switchboard("token", "--user-id", "7", "--data-dir", str(tmp_path / "none"), env=_env())
    assert missing.returncode != 0 and "run `switchboard up` first" in missing.stderr

    data = DataDir(tmp_path / "data")
    secret = data.jwt_secret()  # what `up` does first
    minted = switchboard("token", "--user-id", "7", "--role", "agent", "--data-dir", str(data.root), env=_env())
    assert minted.returncode == 0, minted.stderr
    assert TokenVerifier(secret).verify(minted.stdout.strip()).user_id == 7

    from_env = switchboard("token", "--user-id", "7", "--data-dir", str(data.root),
                           env=_env(SWITCHBOARD_JWT_SECRET=STRONG))
    assert TokenVerifier(STRONG).verify(from_env.stdout.strip()).user_id == 7

    weak = switchboard("token", "--user-id", "7", env=_env(SWITCHBOARD_JWT_SECRET="short"))
    assert weak.returncode != 0 and "shorter than 32 bytes" in weak.stderr


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs docker-compose (scripts/check-compose)")
def test_compose_requires_the_secret_and_the_nats_passwords() -> None:
    required = sorted(set(re.findall(r"\$\{(SWITCHBOARD_\w+):\?", (ROOT / "docker-compose.yml").read_text())))
    assert {"SWITCHBOARD_JWT_SECRET", *(f"SWITCHBOARD_NATS_{service}_PASSWORD" for service in
            ("EDGE", "MESSAGING", "DEVICES", "NOTIFICATIONS"))} <= set(required), required
    given = {name: "x" * 40 for name in required}
    base = {k: v for k, v in os.environ.items() if k not in required}
    for name in required:
        done = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT,
                              env={**base, **{k: v for k, v in given.items() if k != name}},
                              capture_output=True, text=True)
        assert done.returncode != 0 and f"set {name}" in done.stderr, (name, done.stderr)
    done = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], cwd=ROOT,
                          env={**base, **given}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
