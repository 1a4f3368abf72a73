"""Errors the user sees. Every message is Chinese and says what to do."""
from __future__ import annotations


class FupinError(Exception):
    """Base class: `message` is shown to the user as is."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class AccessDenied(FupinError):
    status = 403


class NotFound(FupinError):
    status = 404


class InvalidInput(FupinError):
    """One or more fields are wrong; `errors` maps field → Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(f"{k}：{v}" for k, v in errors.items()))
