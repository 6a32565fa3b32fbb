"""Skintrack: private, objective tracking of slow skin colour change from dated photos."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skintrack")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"

APP_NAME = "Skintrack"
ORG_NAME = "Skintrack"
ORG_DOMAIN = "skintrack.github.io"
DESKTOP_FILE_NAME = "io.github.skintrack.Skintrack"

NOT_A_DIAGNOSIS = (
    "Skintrack is not a medical device and does not diagnose anything. It shows colour "
    "measurements of your photos and how reliable they are. Talk to a clinician about any "
    "change in your skin."
)
