"""skintrack.export."""
