"""The domain error hierarchy. Services raise these when a rule would break."""


class DomainError(Exception):
    """A rule of the service would be broken. The message is shown to the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The actor may not do this."""


class InvalidTransition(DomainError):
    """A record cannot move from its current state to the one asked for."""


class ConcurrentEdit(DomainError):
    """Someone else changed the record since it was read."""


class HandOffRefused(DomainError):
    """No hand-offs: leaving a case or a risk's last ownership needs a forum decision."""
