"""Entry script of the bundled ``skintrack-gui`` executable: opens the GUI unless given a subcommand."""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from skintrack.cli import gui_main

    raise SystemExit(gui_main())
