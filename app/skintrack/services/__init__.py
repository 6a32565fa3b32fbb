"""skintrack.services."""
