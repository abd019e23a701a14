"""The browser SDK's unit tests (sdk/js/test, Node's built-in runner) as part of the test command: this fails
when any of them fails, and shows their report."""

from __future__ import annotations

from tests.sdk_js.test_sdk_js_live import SDK_DIR
from tests.support.node import run_node


async def test_the_sdk_unit_tests_pass() -> None:
    report, _ = await run_node(SDK_DIR, "fake-indexeddb", "--test", "--test-timeout=60000", "test/", timeout=300)
    assert "# fail 0" in report and "# pass 0" not in report, report
