"""skintrack.library."""
