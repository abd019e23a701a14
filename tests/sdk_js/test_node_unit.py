"""The browser SDK's unit tests (sdk/js/test, Node's built-in runner) as part of the test command: this fails
when any of them fails, and shows their report."""

from __future__ import annotations

import asyncio

from tests.sdk_js.test_sdk_js_live import SDK_DIR, node


async def test_the_sdk_unit_tests_pass() -> None:
    proc = await asyncio.create_subprocess_exec(
        node(), "--test", "--test-timeout=60000", "test/", cwd=SDK_DIR,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=300)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    report = output.decode()
    assert proc.returncode == 0, report
    assert "# fail 0" in report and "# pass 0" not in report, report
