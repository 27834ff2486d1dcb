"""Business logic. Services speak in parsed dataclasses, never in provider JSON."""
