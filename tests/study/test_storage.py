"""Where a study lives: SQLite files written through the write-ahead log, and left whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import optuna

from nas.study import make_storage


def test_a_writer_uses_sqlite_s_write_ahead_log_and_leaves_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    storage = make_storage(f"sqlite:///{path}")
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    study = optuna.create_study(storage=storage, study_name="s")
    for value in range(5):
        study.tell(study.ask(), value)
    storage.engine.dispose()  # the last connection closed: the log is folded back into the file
    assert not (tmp_path / "study.db-wal").exists()
    with sqlite3.connect(path) as raw:  # everything is in the file itself
        assert raw.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone() == (5,)
    reader = make_storage(f"sqlite:///{path}", create=False)
    assert len(optuna.load_study(study_name="s", storage=reader).trials) == 5
