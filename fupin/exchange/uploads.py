"""Uploaded files: held in memory only, and generated files written 0600 and swept.

Django's default handlers spool any upload over 2.5 MB to a temporary file while the request
is parsed, that is before the view has asked whether the user may upload at all. The one
handler configured in settings (FILE_UPLOAD_HANDLERS) keeps every file in memory, up to
IMPORT_MAX_BYTES for the whole request; past that it stops keeping bytes and hands the view an
empty file marked `too_large` with its real size, so the view can state the real limit.
Nothing of an upload touches the disk unless a service saves it after its permission check.
"""
from __future__ import annotations

import io
import os
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from fupin.core.errors import FupinError


class MemoryOnlyUploadHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        used = getattr(self, "used", 0) + len(raw_data)  # all files of this request together
        self.used = used
        if used > settings.IMPORT_MAX_BYTES:
            self.too_large = True
            self.buffer = io.BytesIO()  # drop what was kept; keep counting
        elif not self.too_large:
            self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.buffer.seek(0)
        cls = TooLargeUpload if self.too_large else InMemoryUploadedFile
        return cls(file=self.buffer, field_name=self.field_name, name=self.file_name,
                   content_type=self.content_type, size=self.size,
                   charset=self.charset, content_type_extra=self.content_type_extra)


class TooLargeUpload(InMemoryUploadedFile):
    """An upload over the limit: its bytes were not kept. Reading it refuses with the real limit,
    so every upload view (not only the import page) answers in Chinese instead of "empty file"."""

    too_large = True

    def read(self, *args, **kwargs):
        raise FupinError(too_large_message(self))

    def chunks(self, chunk_size=None):
        raise FupinError(too_large_message(self))


def too_large_message(upload) -> str | None:
    """The refusal for an upload over the limit, stating the real size and the real limit."""
    if not getattr(upload, "too_large", False) and upload.size <= settings.IMPORT_MAX_BYTES:
        return None
    return (f"文件“{upload.name}”过大（{upload.size / 1048576:.1f} MB），单个文件不能超过 "
            f"{settings.IMPORT_MAX_BYTES / 1048576:g} MB；请按乡镇或村拆分后分批上传")


# ---- generated files ------------------------------------------------------------------------

def private_dir(name: str) -> Path:
    """A directory under VAR_DIR that only the service account can enter (0700)."""
    d = Path(settings.VAR_DIR) / name
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(d, 0o700)
    return d


def write_private(path: Path, data: bytes) -> Path:
    """Write a file readable by the service account only (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(data)
    finally:
        os.close(fd)
    return path


def save_error_workbook(user, data: bytes) -> str:
    """The marked workbook of a refused import, private to its owner (the token starts with the
    user's id) and swept after FILE_RETENTION_HOURS; returns its token."""
    sweep()
    token = f"{user.pk}-{secrets.token_hex(8)}"
    write_private(private_dir("import-errors") / f"{token}.xlsx", data)
    return token


def saved_error_workbook(user, token: str) -> Path | None:
    """The file `save_error_workbook` gave `user` this token for, while it is kept; None otherwise
    (another user's token, a made-up one, or one past its retention)."""
    if not token.startswith(f"{user.pk}-") or not all(c.isalnum() or c == "-" for c in token):
        return None
    path = private_dir("import-errors") / f"{token}.xlsx"
    if not path.exists() or time.time() - path.stat().st_mtime > settings.FILE_RETENTION_HOURS * 3600:
        return None
    return path


# Only files the system made for one moment are swept. Uploaded imports never reach the disk;
# visit photos and workflow evidence under MEDIA_ROOT belong to their records and are kept.
SWEPT_DIRS = ("import-errors",)


def sweep(*, now: float | None = None, hours: float | None = None) -> list[Path]:
    """Delete generated files older than FILE_RETENTION_HOURS; returns what was deleted."""
    hours = settings.FILE_RETENTION_HOURS if hours is None else hours
    cutoff = (time.time() if now is None else now) - hours * 3600
    removed = []
    for name in SWEPT_DIRS:
        root = Path(settings.VAR_DIR) / name
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:  # another worker swept it first
                continue
    return removed
