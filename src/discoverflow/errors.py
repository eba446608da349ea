"""Errors that reach the user as one readable line."""


class DiscoverflowError(Exception):
    """A problem with the user's input; the CLI prints it and exits with code 2."""


class ConfigError(DiscoverflowError):
    """The campaign file or its inputs are invalid."""


class NotStarted(DiscoverflowError):
    """The store holds nothing of this campaign yet."""
