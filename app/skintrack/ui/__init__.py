"""skintrack.ui."""
