"""skintrack.demo."""
