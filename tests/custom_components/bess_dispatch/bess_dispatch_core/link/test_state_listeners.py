"""Link state listeners: every listener hears a change, a failing one does not stop the rest."""

from __future__ import annotations

import pytest

from bess_dispatch_core.link.state_listeners import StateListeners


def test_a_failing_listener_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    listeners = StateListeners[bool]()
    heard: list[bool] = []

    def broken(_status: bool) -> None:
        raise RuntimeError("listener bug")

    listeners.add(broken)
    remove = listeners.add(heard.append)
    listeners.notify(True)
    assert heard == [True]
    assert "link state listener failed" in caplog.text

    remove()
    remove()  # a second call is harmless
    listeners.notify(False)
    assert heard == [True]
