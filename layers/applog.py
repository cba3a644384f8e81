"""Lantern's log file: what went wrong where no dialog was open to say so.

One rotating file in the user's log folder (platformdirs; ``LANTERN_LOG_DIR`` overrides it), kept small:
three files of 1 MB. It records warnings, errors and unexpected exceptions with their tracebacks. It never
records workspace contents: messages name files and what failed, as the dialogs do.
"""
from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER = "lantern"
#: bytes per file, and how many older files are kept
MAX_BYTES, BACKUPS = 1_000_000, 2


def log_file() -> Path:
    """Where the log is written."""
    folder = os.environ.get("LANTERN_LOG_DIR")
    if not folder:
        from platformdirs import user_log_dir

        folder = user_log_dir("lantern", appauthor=False)
    return Path(folder) / "lantern.log"


def start_logging() -> Path | None:
    """Send Lantern's warnings and errors to the log file (once); its path, or None when it cannot be written
    (a read-only home): then nothing is logged, and nothing else changes."""
    logger = logging.getLogger(LOGGER)
    for handler in logger.handlers:
        if isinstance(handler, RotatingFileHandler):
            return Path(handler.baseFilename)
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path


def log_exception(exc_type, exc, tb, where: str = "") -> None:
    """Record an unexpected exception with its traceback."""
    logging.getLogger(LOGGER).error("unexpected error%s", f" in {where}" if where else "", exc_info=(exc_type, exc, tb))


def stop_logging() -> None:
    """Close the log file (the next start_logging opens it again, wherever log_file() then says)."""
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, RotatingFileHandler)]:
        logger.removeHandler(handler)
        handler.close()
