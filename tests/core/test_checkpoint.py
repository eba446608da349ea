"""The one checkpointed per-item loop."""

import json

from discoverflow.core.checkpoint import JsonCheckpoint, each_checkpointed


def run(items, checkpoint, calls):
    def compute(key, value):
        calls.append(key)
        if value < 0:
            raise ValueError("negative")
        return {"key": key, "square": value * value}

    return each_checkpointed(
        items,
        compute,
        lambda key, error: {"key": key, "failed": str(error)},
        checkpoint,
        encode=dict,
        decode=lambda data: {**data} if "key" in data else data["missing"],
    )


def test_failures_are_records_and_finished_items_are_not_redone(tmp_path):
    checkpoint = JsonCheckpoint(tmp_path, "squares", {"power": 2})
    calls = []
    first = run({"a": 2, "b": -1, "c": 3}, checkpoint, calls)
    assert first == [
        {"key": "a", "square": 4},
        {"key": "b", "failed": "negative"},
        {"key": "c", "square": 9},
    ]
    again = []
    assert run({"a": 2, "b": -1, "c": 3, "d": 4}, checkpoint, again) == [
        *first,
        {"key": "d", "square": 16},
    ]
    assert again == ["d"]


def test_other_settings_and_undecodable_records_are_recomputed(tmp_path):
    calls = []
    run({"a": 2}, JsonCheckpoint(tmp_path, "squares", {"power": 2}), calls)
    run({"a": 2}, JsonCheckpoint(tmp_path, "squares", {"power": 3}), calls)
    assert calls == ["a", "a"]
    checkpoint = JsonCheckpoint(tmp_path, "squares", {"power": 2})
    (checkpoint.folder / "a.json").write_text(json.dumps({"stale": True}))
    assert run({"a": 2}, checkpoint, calls) == [{"key": "a", "square": 4}]
    assert calls == ["a", "a", "a"]
