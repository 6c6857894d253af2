# TEST DOUBLE of Immich v3.2.0 machine-learning/immich_ml/config.py (upstream commit
# 042e5d5bda11f667d8832400db01eb8dfa84163c; docs/upstream/immich-runtime.md §8).
# Simplified: standard library only. pydantic-settings is replaced by a case-insensitive environment
# lookup with the same names and defaults; CustomUvicornWorker and CustomRichHandler are plain
# stand-ins (no uvicorn, no rich); the `ml.log` logger gets a handler here so the parent process's
# "Initializing Immich ML" line is visible (upstream it only shows once log_conf.json is applied).
import logging
import os
import sys
from pathlib import Path


def _env(name: str, default: str) -> str:
    wanted = name.lower()
    for key, value in os.environ.items():
        if key.lower() == wanted:
            return value
    return default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _bool(name: str, default: bool) -> bool:
    value = _env(name, "true" if default else "false").strip().lower()
    if value in ("1", "true", "t", "yes", "y", "on"):
        return True
    if value in ("0", "false", "f", "no", "n", "off"):
        return False
    raise ValueError(f"{name}: Input should be a valid boolean, unable to interpret input {value!r}")


class Settings:
    """Settings with prefix MACHINE_LEARNING_ (only the fields the double reads or prints)."""

    def __init__(self) -> None:
        p = "MACHINE_LEARNING_"
        self.cache_folder = Path(_env(p + "CACHE_FOLDER", str(Path.home() / ".cache" / "immich_ml"))).resolve()
        self.model_ttl = _int(p + "MODEL_TTL", 300)
        self.model_ttl_poll_s = _int(p + "MODEL_TTL_POLL_S", 10)
        self.workers = _int(p + "WORKERS", 1)
        self.worker_timeout = _int(p + "WORKER_TIMEOUT", 900 if os.environ.get("DEVICE") == "rocm" else 300)
        self.http_keepalive_timeout_s = _int(p + "HTTP_KEEPALIVE_TIMEOUT_S", 2)
        self.test_full = _bool(p + "TEST_FULL", False)
        self.request_threads = _int(p + "REQUEST_THREADS", os.cpu_count() or 4)
        self.model_revision = _env(p + "MODEL_REVISION", "main")

    @property
    def device_id(self) -> str:
        return os.environ.get("MACHINE_LEARNING_DEVICE_ID", "0")


class NonPrefixedSettings:
    """IMMICH_HOST (default "[::]", which __main__'s ip_address() rejects: pass an IP literal),
    IMMICH_PORT, IMMICH_LOG_LEVEL, NO_COLOR."""

    def __init__(self) -> None:
        self.immich_host = _env("IMMICH_HOST", "[::]")
        self.immich_port = _int("IMMICH_PORT", 3003)
        self.immich_log_level = _env("IMMICH_LOG_LEVEL", "info")
        self.no_color = _bool("NO_COLOR", False)


LOG_LEVELS: dict[str, int] = {
    "critical": logging.ERROR,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "log": logging.INFO,
    "debug": logging.DEBUG,
    "verbose": logging.DEBUG,
}

settings = Settings()
non_prefixed_settings = NonPrefixedSettings()

LOG_LEVEL = LOG_LEVELS.get(non_prefixed_settings.immich_log_level.lower(), logging.INFO)


class CustomRichHandler(logging.StreamHandler):
    """Stand-in for the rich handler named by log_conf.json: plain lines on stderr."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s", "%m/%d/%y %H:%M:%S"))


log = logging.getLogger("ml.log")
log.setLevel(LOG_LEVEL)
if not log.handlers:
    log.addHandler(CustomRichHandler())
    log.propagate = False


class CustomUvicornWorker:
    """Stand-in for the uvicorn worker class passed to gunicorn with -k (must be importable)."""
