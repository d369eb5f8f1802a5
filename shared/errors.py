"""Errors the platform understands across services."""


class PermanentError(Exception):
    """A message that can never succeed (bad payload, broken invariant): park it, do not retry."""


class ConcurrencyError(Exception):
    """An optimistic write lost the race: reload and decide again."""


class DependencyUnavailable(Exception):
    """Another service or server did not answer: the request may succeed later (HTTP 503)."""
