from __future__ import annotations

from harness.records import JsonlLog, RunRecord, read_jsonl


def _record(i: int) -> RunRecord:
    return RunRecord(
        "s", "1", "test", f"id{i}", "c", "L1", "e", "fp", "m", "mfp", True, 0.0, "ok", value=i / 10
    )


def test_torn_last_line_is_repaired_and_appending_continues(tmp_path):
    path = tmp_path / "records.jsonl"
    with JsonlLog(path) as log:
        for i in range(3):
            log.append(_record(i))
    with open(path, "ab") as handle:
        handle.write(b'{"suite": "s", "sample_id": "id3", "val')  # a write cut by kill -9
    log = JsonlLog(path)
    assert log.repaired_bytes > 0
    log.append(_record(3))
    log.close()
    rows = list(read_jsonl(path, RunRecord))
    assert [r.sample_id for r in rows] == ["id0", "id1", "id2", "id3"]
    assert rows[3].value == 0.3


def test_complete_file_is_left_alone(tmp_path):
    path = tmp_path / "records.jsonl"
    with JsonlLog(path) as log:
        log.append(_record(0))
    size = path.stat().st_size
    assert JsonlLog(path).repaired_bytes == 0
    assert path.stat().st_size == size
