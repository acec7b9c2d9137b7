"""Defects found in review, each pinned by the run that showed it."""

from __future__ import annotations

import pytest

from .conftest import add_ini, add_runtime_table


def test_a_stall_between_tests_is_charged_to_no_test(service: pytest.Pytester) -> None:
    # A loop that keeps running in a thread (a server started by a fixture) stalls while a
    # non-gated test runs: the gated test after it is innocent.
    add_ini(service, 'loopwarden_stall = "fail"\nloopwarden_stall_ms = 50')
    service.makepyfile(
        test_server="""
        import asyncio, threading, time
        import pytest
        from app import store

        @pytest.fixture(scope="module")
        def server_loop():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, daemon=True)
            thread.start()
            yield loop
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

        @pytest.mark.loopwarden
        async def test_a_gated(server_loop):
            await asyncio.sleep(0)

        def test_b_not_gated(server_loop):
            server_loop.call_soon_threadsafe(store.crunch, 0.3)
            time.sleep(0.5)

        @pytest.mark.loopwarden
        async def test_c_gated_and_innocent(server_loop):
            await asyncio.sleep(0.05)
        """
    )
    service.runpytest("-p", "no:randomly").assert_outcomes(passed=3)


def test_a_patch_active_when_the_gate_first_ran_is_not_restored_later(service: pytest.Pytester) -> None:
    # The gate must restore what was there when each test started, not what it saw first.
    service.makepyfile(
        test_a_patched="""
        import time
        import pytest

        def fake_sleep(seconds):
            return None

        @pytest.fixture(scope="module", autouse=True)
        def no_sleep():
            real = time.sleep
            time.sleep = fake_sleep
            yield
            time.sleep = real

        def test_0_not_gated():
            assert time.sleep is fake_sleep

        @pytest.mark.loopwarden
        async def test_gated_while_patched():
            time.sleep(0)  # the fake, checked by the gate: allowed (it does not block)
        """,
        test_b_later="""
        import time
        import pytest

        @pytest.mark.loopwarden
        async def test_gated_later():
            pass

        def test_after():
            assert time.sleep.__name__ == "sleep", time.sleep
        """,
    )
    service.runpytest("-p", "no:randomly").assert_outcomes(passed=4)


def test_tests_inside_the_package_still_gate_its_code(service: pytest.Pytester) -> None:
    (service.path / "app" / "test_store.py").write_text(
        "from app import store\n\n"
        "async def test_reads(tmp_path):\n"
        "    (tmp_path / 'n').write_text('x')\n"
        "    assert await store.read_blocking(tmp_path / 'n') == 'x'\n"
    )
    result = service.runpytest("--loopwarden", "app")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*builtins.open at app/store.py:11 in read_blocking*"])


def test_an_extra_rule_on_a_staticmethod_keeps_it_static(service: pytest.Pytester) -> None:
    (service.path / "app" / "codec.py").write_text(
        "class Codec:\n"
        "    @staticmethod\n"
        "    def parse(text):\n"
        "        return text.upper()\n\n"
        "    def decode(self, text):\n"
        "        return self.parse(text)\n"
    )
    add_runtime_table(service, 'extra = ["app.codec:Codec.parse"]')
    service.makepyfile(
        test_codec="""
        import pytest
        from app.codec import Codec

        @pytest.mark.allow_blocking_io(reason="exercises the static method")
        async def test_gated_decode():
            assert Codec().decode("a") == "A"

        def test_after():
            assert Codec().decode("b") == "B"
            assert isinstance(Codec.__dict__["parse"], staticmethod)
        """
    )
    service.runpytest("--loopwarden", "-p", "no:randomly").assert_outcomes(passed=2)


def test_a_blocking_xfail_test_stays_xfail_and_a_skip_after_blocking_fails(service: pytest.Pytester) -> None:
    service.makepyfile(
        test_known="""
        import pytest
        from app import store

        @pytest.mark.xfail(reason="known: reads on the loop")
        async def test_known_issue(tmp_path):
            (tmp_path / "n").write_text("x")
            await store.read_blocking(tmp_path / "n")
            assert False

        async def test_skips_after_blocking(tmp_path):
            (tmp_path / "n").write_text("x")
            await store.read_blocking(tmp_path / "n")
            pytest.skip("not today")
        """
    )
    result = service.runpytest("--loopwarden", "-p", "no:randomly")
    result.assert_outcomes(xfailed=1, failed=1)
