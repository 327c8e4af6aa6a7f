from __future__ import annotations

from driftcheck.cli import main

if __name__ == "__main__":
    main()
