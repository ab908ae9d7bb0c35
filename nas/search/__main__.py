"""``python -m nas.search space=mnas budget=300MFLOPs``: search a space under a budget (see nas.search)."""

from __future__ import annotations

from nas.search import main

if __name__ == "__main__":
    main()
