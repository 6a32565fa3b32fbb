"""The printable calibration card as a PDF, for the app's Library ▸ Print calibration card.

The one place the app asks for the card PDF: ``skintrack card`` (commands/card_cmd.py) calls
the same renderer.
"""

from __future__ import annotations

from pathlib import Path

CARD_FILE_NAME = "skintrack-calibration-card.pdf"


def write_calibration_card(out: Path) -> Path:
    """Write the card at true size (85.6 × 54 mm) to ``out``; returns the file written."""
    from skintrack.export.card_pdf import write_card_pdf

    return write_card_pdf(out)
