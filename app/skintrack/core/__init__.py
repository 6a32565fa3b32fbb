"""skintrack.core."""
