"""The embedded setup's file broker (panel/broker.py): a worker listing the queue folder finds a
message only once it is whole. kombu's own transport creates the file before writing it, and a
worker that took the empty file died on it ("Unrecoverable error: JSONDecodeError")."""

import os
from pathlib import Path

import pytest
from kombu import Connection

import panel.broker
from panel.broker import Transport


def test_a_message_appears_in_the_queue_folder_only_when_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_folder = tmp_path / "queue"
    for folder in ("queue", "processed", "control"):
        (tmp_path / folder).mkdir()
    before_rename: list[list[str]] = []
    real_replace = os.replace

    def watching(source: str, target: str) -> None:
        before_rename.append([name for name in os.listdir(queue_folder) if name.endswith(".msg")])
        real_replace(source, target)

    monkeypatch.setattr(panel.broker.os, "replace", watching)
    options = {
        "data_folder_in": str(queue_folder),
        "data_folder_out": str(queue_folder),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    with Connection("filesystem://", transport=Transport, transport_options=options) as conn:
        queue = conn.SimpleQueue("tasks")
        queue.put({"order": 1})

        assert before_rename == [[]]  # while it was written, no worker could see it
        message = queue.get(timeout=5)
        assert message.payload == {"order": 1}
        message.ack()
        queue.close()


def test_the_settings_use_it_for_a_file_system_broker() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CELERY_BROKER_TRANSPORT)",
        ],
        env={**os.environ, "CELERY_BROKER_URL": "filesystem://"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.stdout.strip() == "panel.broker:Transport", result.stderr
