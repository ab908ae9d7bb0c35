"""``python -m nas.report RUN_DIR``: regenerate a search's ``report.html`` and ``report.png``."""

from __future__ import annotations

from nas.report import main

if __name__ == "__main__":
    main()
