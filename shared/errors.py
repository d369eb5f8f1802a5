"""Errors the platform understands across services."""


class PermanentError(Exception):
    """A message that can never succeed (bad payload, broken invariant): park it, do not retry."""


class ConcurrencyError(Exception):
    """An optimistic write lost the race: reload and decide again."""


class DependencyUnavailable(Exception):
    """Another service or server did not answer: the request may succeed later (HTTP 503)."""


class DomainError(Exception):
    """A business rule said no. ``status`` and ``code`` are what HTTP answers with (one handler,
    shared.http), ``fields`` names the offending inputs; each service's errors subclass this and
    set the two as class attributes. Not-found errors use the code ``not_found``."""

    status: int = 409
    code: str = "refused"

    def __init__(
        self, message: str, fields: dict[str, str] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code is not None:
            self.code = code
