# TEST DOUBLE of Immich v3.2.0 machine-learning/immich_ml/__main__.py (upstream commit
# 0d7be51a1ef51f898f6796fa05205cc012d66f4a; docs/upstream/immich-runtime.md §8), written anew with
# the same behaviour: parse IMMICH_HOST as an IP (bracket IPv6), then re-run the interpreter by the
# LITERAL name "python" (looked up on PATH) as `python -m gunicorn immich_ml.main:app …`, wait for it
# and exit with its code; Ctrl-C forwards SIGINT. Simplified: nothing (the gunicorn it starts is
# the stand-in from site-packages).
import os
import signal
import subprocess
from ipaddress import ip_address
from pathlib import Path

from .config import log, non_prefixed_settings, settings

source_ref = os.getenv("IMMICH_SOURCE_REF")
log.info(f"Initializing Immich ML [{source_ref}]" if source_ref else "Initializing Immich ML")

package_dir = Path(__file__).parent

host = non_prefixed_settings.immich_host
if ip_address(host).version == 6:
    host = f"[{host}]"
bind = f"{host}:{non_prefixed_settings.immich_port}"

command = [
    "python",
    "-m",
    "gunicorn",
    "immich_ml.main:app",
    "-k",
    "immich_ml.config.CustomUvicornWorker",
    "-c",
    str(package_dir / "gunicorn_conf.py"),
    "-b",
    bind,
    "-w",
    str(settings.workers),
    "-t",
    str(settings.worker_timeout),
    "--log-config-json",
    str(package_dir / "log_conf.json"),
    "--keep-alive",
    str(settings.http_keepalive_timeout_s),
    "--graceful-timeout",
    "10",
]

child = subprocess.Popen(command)
try:
    child.wait()
except KeyboardInterrupt:
    child.send_signal(signal.SIGINT)
    child.wait()
raise SystemExit(child.returncode)
