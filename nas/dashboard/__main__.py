"""``python -m nas.dashboard RUN_DIR_OR_STORAGE_URL``: serve optuna-dashboard on a search's study."""

from __future__ import annotations

from nas.dashboard import main

if __name__ == "__main__":
    main()
