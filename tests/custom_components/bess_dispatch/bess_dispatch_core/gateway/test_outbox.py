"""The persistent store-and-forward queue: persistence, bounds, drop counts and order."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from bess_dispatch_core.gateway.outbox import DropReason, Outbox, OutboxPolicy


def _payload(value: float) -> bytes:
    return json.dumps({"message_id": str(uuid.uuid4()), "value": value}).encode()


def test_messages_survive_reopening_with_identical_bytes(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as outbox:
        stored = [
            outbox.append(f"dt/s/g/m{i % 3}/lifetime", _payload(i), 1, 1000.0 + i).message
            for i in range(10)
        ]
    with Outbox(path) as reopened:
        assert len(reopened) == 10
        again = reopened.newest(100)
    assert [m.seq for m in again] == [m.seq for m in reversed(stored)]
    # The payload bytes, hence the message_id, are exactly what was stored.
    assert {m.seq: m.payload for m in again} == {m.seq: m.payload for m in stored}
    assert {m.seq: (m.topic, m.qos, m.created_at) for m in again} == {
        m.seq: (m.topic, m.qos, m.created_at) for m in stored
    }


def test_acknowledge_deletes_only_that_message(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        first = outbox.append("a", b"1", 1, 0.0).message
        second = outbox.append("a", b"2", 1, 0.0).message
        assert outbox.acknowledge(first.seq)
        assert not outbox.acknowledge(first.seq)
        assert [m.seq for m in outbox.newest(10)] == [second.seq]
        assert len(outbox) == 1


def test_full_queue_drops_the_oldest_and_counts_it(tmp_path: Path) -> None:
    policy = OutboxPolicy(max_messages=5, max_age=timedelta(days=1))
    path = tmp_path / "o.sqlite"
    with Outbox(path, policy) as outbox:
        results = [outbox.append("t", _payload(i), 1, float(i)) for i in range(8)]
        assert [r.dropped.total for r in results] == [0, 0, 0, 0, 0, 1, 1, 1]
        assert results[5].dropped.by_reason == {DropReason.QUEUE_FULL: 1}
        assert len(outbox) == 5
        kept = [m.seq for m in outbox.newest(10)]
        assert kept == [r.message.seq for r in reversed(results[3:])]
    # The totals are persisted for alerts after a restart.
    with Outbox(path, policy) as reopened:
        assert reopened.drop_totals().by_reason == {DropReason.QUEUE_FULL: 3}
        assert len(reopened) == 5


def test_old_messages_expire_and_are_counted(tmp_path: Path) -> None:
    policy = OutboxPolicy(max_messages=100, max_age=timedelta(hours=1))
    with Outbox(tmp_path / "o.sqlite", policy) as outbox:
        appended = [outbox.append("t", b"x", 1, minute * 60.0) for minute in range(0, 120, 10)]
        # Each append expires what is an hour older: at 110 min, those of 0..40 min.
        assert sum(r.dropped.total for r in appended) == 5
        # At 150 min everything before 90 min is too old.
        dropped = outbox.expire(150 * 60.0)
        assert dropped.by_reason == {DropReason.EXPIRED: 4}
        assert len(outbox) == 3
        # Appending also expires, and reports it.
        result = outbox.append("t", b"y", 1, 200 * 60.0)
        assert result.dropped.by_reason == {DropReason.EXPIRED: 3}
        assert outbox.drop_totals().by_reason == {DropReason.EXPIRED: 12}
        assert outbox.oldest_created_at() == 200 * 60.0


def test_latest_per_topic_is_newest_first(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        seqs: dict[str, int] = {}
        for i in range(12):
            topic = f"t{i % 4}"
            seqs[topic] = outbox.append(topic, _payload(i), 1, float(i)).message.seq
        latest = outbox.latest_per_topic()
        assert [m.topic for m in latest] == ["t3", "t2", "t1", "t0"]
        assert [m.seq for m in latest] == sorted(seqs.values(), reverse=True)
        # Bounded by a watermark: later appends are not part of this snapshot.
        watermark = outbox.max_seq()
        outbox.append("t0", b"later", 1, 99.0)
        assert [m.seq for m in outbox.latest_per_topic(max_seq=watermark)] == [
            m.seq for m in latest
        ]


def test_newest_and_oldest_after_skip_excluded(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        seqs = [outbox.append("t", b"x", 1, 0.0).message.seq for _ in range(6)]
        assert [m.seq for m in outbox.newest(2, exclude={seqs[5]})] == [seqs[4], seqs[3]]
        assert [m.seq for m in outbox.newest(10, max_seq=seqs[2])] == seqs[2::-1]
        assert [m.seq for m in outbox.oldest_after(seqs[2], 2, exclude={seqs[3]})] == [
            seqs[4],
            seqs[5],
        ]


def test_concurrent_appends_from_threads(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:

        def writer(n: int) -> None:
            for i in range(200):
                outbox.append(f"t{n}", _payload(i), 1, float(i))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(outbox) == 800
        assert len({m.seq for m in outbox.newest(1000)}) == 800


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"max_messages": 0}, "max_messages"), ({"max_age": timedelta(0)}, "max_age")],
)
def test_bad_policy_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        OutboxPolicy(**kwargs)  # type: ignore[arg-type]


def test_bad_message_is_refused(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        with pytest.raises(ValueError, match="qos"):
            outbox.append("t", b"x", 3, 0.0)
        with pytest.raises(ValueError, match="topic"):
            outbox.append("", b"x", 1, 0.0)
        with pytest.raises(TypeError, match="payload"):
            outbox.append("t", "text", 1, 0.0)  # type: ignore[arg-type]


def test_oldest_time_and_drop_totals_follow_every_delete_without_a_query(
    tmp_path: Path,
) -> None:
    policy = OutboxPolicy(max_messages=3, max_age=timedelta(hours=1))
    path = tmp_path / "o.sqlite"
    with Outbox(path, policy) as outbox:
        assert outbox.oldest_created_at() is None
        first = outbox.append("t", b"1", 1, 10.0).message
        outbox.append("t", b"2", 1, 20.0)
        outbox.append("t", b"3", 1, 30.0)
        assert outbox.oldest_created_at() == 10.0
        outbox.acknowledge(first.seq)  # acknowledged
        assert outbox.oldest_created_at() == 20.0
        outbox.append("t", b"4", 1, 40.0)
        outbox.append("t", b"5", 1, 50.0)  # the queue is full: 20 goes
        assert outbox.oldest_created_at() == 30.0
        outbox.expire(3_645.0)  # 30 and 40 are over an hour old
        assert outbox.oldest_created_at() == 50.0
        totals = outbox.drop_totals()
        # Read from memory: the figures stay while the database is busy elsewhere.
        with outbox._lock:
            assert outbox.oldest_created_at() == 50.0
            assert outbox.drop_totals() is totals
    assert totals.by_reason == {DropReason.QUEUE_FULL: 1, DropReason.EXPIRED: 2}
    with Outbox(path, policy) as reopened:
        assert reopened.drop_totals() == totals
        assert reopened.oldest_created_at() == 50.0


def test_append_all_stores_a_batch_in_order_in_one_transaction(tmp_path: Path) -> None:
    policy = OutboxPolicy(max_messages=5, max_age=timedelta(days=1))
    with Outbox(tmp_path / "o.sqlite", policy) as outbox:
        outbox.append("t", _payload(0), 1, 0.0)
        batch = [(f"t/{i}", _payload(i), 1) for i in range(3)]
        stored, dropped = outbox.append_all(batch, 10.0)
        assert [(m.topic, m.payload, m.qos, m.created_at) for m in stored] == [
            (topic, payload, qos, 10.0) for topic, payload, qos in batch
        ]
        assert [m.seq for m in stored] == sorted(m.seq for m in stored)
        assert (len(outbox), dropped.total, outbox.oldest_created_at()) == (4, 0, 0.0)
        # Past the bound, the oldest go first (here the earlier message and the batch's first).
        _, dropped = outbox.append_all([(f"u/{i}", _payload(i), 1) for i in range(3)], 20.0)
        assert dropped.by_reason == {DropReason.QUEUE_FULL: 2}
        assert [m.topic for m in outbox.oldest_after(0, 10)] == ["t/1", "t/2", "u/0", "u/1", "u/2"]
        stored, dropped = outbox.append_all([], 30.0)
        assert (stored, dropped.total, len(outbox)) == ([], 0, 5)


def test_a_batch_with_one_bad_message_stores_none(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite") as outbox:
        with pytest.raises(ValueError, match="qos"):
            outbox.append_all([("t", b"x", 1), ("t", b"y", 5)], 0.0)
        assert len(outbox) == 0
