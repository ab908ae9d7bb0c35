"""``python -m nas.scale base=efficientnet_b0 target=2x``: compound scaling of a base (see nas.scale)."""

from __future__ import annotations

from nas.scale import main

if __name__ == "__main__":
    main()
