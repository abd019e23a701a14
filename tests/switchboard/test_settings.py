"""Settings come from SWITCHBOARD_* variables, typed, with clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from switchboard.settings import CommonSettings, load


@dataclasses.dataclass(frozen=True, kw_only=True)
class Example(CommonSettings):
    port: int = 1
    ratio: float = 0.5
    enabled: bool = False
    optional_limit: int | None = None


def test_defaults_apply_without_environment() -> None:
    settings = load(Example, environ={})
    assert settings.port == 1 and settings.nats_prefix == "switchboard"


def test_values_are_read_and_converted() -> None:
    settings = load(Example, environ={
        "SWITCHBOARD_PORT": "9000", "SWITCHBOARD_RATIO": "1.5", "SWITCHBOARD_ENABLED": "yes",
        "SWITCHBOARD_OPTIONAL_LIMIT": "7", "SWITCHBOARD_NATS_PREFIX": "staging",
    })
    assert (settings.port, settings.ratio, settings.enabled, settings.optional_limit) == (9000, 1.5, True, 7)
    assert settings.nats_prefix == "staging"


def test_empty_optional_is_none() -> None:
    assert load(Example, environ={"SWITCHBOARD_OPTIONAL_LIMIT": ""}).optional_limit is None


def test_overrides_win_over_environment() -> None:
    assert load(Example, environ={"SWITCHBOARD_PORT": "9000"}, port=5).port == 5


@pytest.mark.parametrize(("name", "value"), [("PORT", "eighty"), ("ENABLED", "maybe")])
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"SWITCHBOARD_{name}"):
        load(Example, environ={f"SWITCHBOARD_{name}": value})
