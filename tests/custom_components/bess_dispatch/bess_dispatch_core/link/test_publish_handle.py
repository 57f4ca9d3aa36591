"""A publish handle settles once; its listeners run once each, a broken one harms nobody."""

from __future__ import annotations

import pytest

from bess_dispatch_core.link.publish_handle import PublishHandle, PublishOutcome


def test_a_handle_settles_once_and_tells_late_listeners_at_once() -> None:
    handle = PublishHandle("dt/s/g/x/lifetime", 1)
    seen: list[str] = []
    handle.add_done_callback(lambda h: seen.append(f"early {h.outcome}"))
    assert not handle.done()
    assert handle.complete(PublishOutcome.FAILED, "not connected")
    assert not handle.complete(PublishOutcome.ACKNOWLEDGED)  # settled already
    handle.add_done_callback(lambda h: seen.append(f"late {h.outcome}"))
    assert seen == ["early failed", "late failed"]
    assert (handle.reason, handle.acknowledged, handle.wait(0)) == ("not connected", False, False)


def test_pending_is_no_outcome() -> None:
    with pytest.raises(ValueError, match="ACKNOWLEDGED or FAILED"):
        PublishHandle("t", 1).complete(PublishOutcome.PENDING)


def test_a_broken_listener_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handle = PublishHandle("dt/s/g/x/lifetime", 1)
    seen: list[bool] = []

    def broken(_: PublishHandle) -> None:
        raise RuntimeError("listener bug")

    handle.add_done_callback(broken)
    handle.add_done_callback(lambda h: seen.append(h.acknowledged))
    assert handle.complete(PublishOutcome.ACKNOWLEDGED)
    assert seen == [True]
    assert "publish callback failed for dt/s/g/x/lifetime" in caplog.text
