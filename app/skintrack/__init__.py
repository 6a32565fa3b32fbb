"""Skintrack: private, objective tracking of slow skin colour change from dated photos."""

from functools import lru_cache


@lru_cache(maxsize=1)
def package_version() -> str:
    """The installed version, looked up on first use: importlib.metadata costs a command ~0.1 s."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("skintrack")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+source"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


APP_NAME = "Skintrack"
ORG_NAME = "Skintrack"
ORG_DOMAIN = "skintrack.github.io"
DESKTOP_FILE_NAME = "io.github.skintrack.Skintrack"

NOT_A_DIAGNOSIS = (
    "Skintrack is not a medical device and does not diagnose anything. It shows colour "
    "measurements of your photos and how reliable they are. Talk to a clinician about any "
    "change in your skin."
)
