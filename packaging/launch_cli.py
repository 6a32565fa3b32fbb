"""Entry script of the bundled ``skintrack`` executable (PyInstaller needs a script, not an entry point)."""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from skintrack.cli import main

    raise SystemExit(main())
