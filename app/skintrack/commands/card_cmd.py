"""``skintrack card --out card.pdf``: write the printable calibration card."""

from __future__ import annotations

import argparse
from pathlib import Path

from skintrack.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``card`` subcommand."""
    parser = sub.add_parser(
        "card",
        help="write the printable calibration card (PDF at true size, or PNG)",
        description=(
            "Write the Skintrack calibration card: 85.6 x 54 mm (credit-card size) with four ArUco "
            "markers, white / 18 %% grey / black and six skin-tone patches and a mm ruler. Print it at "
            "100 %% (actual size), cut it out and tape it beside the skin you photograph."
        ),
    )
    parser.add_argument("--out", required=True, metavar="PATH", help="output file: .pdf (vector) or .png")
    parser.add_argument("--dpi", type=int, default=300, help="resolution for a .png (default 300)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from skintrack.core import card
    from skintrack.export.card_pdf import write_card_pdf

    out = Path(args.out).expanduser()
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        write_card_pdf(out)
    elif suffix == ".png":
        if not 50 <= args.dpi <= 2400:
            raise UsageError("--dpi must be between 50 and 2400")
        from skintrack.core.images import save_rgb

        save_rgb(out, card.render_card_rgb(args.dpi))
    else:
        raise UsageError(f"{out.name}: the card can be written as .pdf or .png")
    w, h = card.CARD_SIZE_MM
    print(f"Wrote {out} ({w:g} x {h:g} mm).")
    print("Print at 100 % (actual size, no 'fit to page'), then check the ruler against a real one.")
    return 0
