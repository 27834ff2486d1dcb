"""Admin screens (filled in by the admin work)."""
