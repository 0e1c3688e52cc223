"""One exception type for mistakes a user can fix; the CLI prints its message as one line."""


class LogosError(Exception):
    """A user-facing error: the message says what happened and what to do."""
