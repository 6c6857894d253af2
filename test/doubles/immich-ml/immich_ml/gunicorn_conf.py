# TEST DOUBLE of Immich v3.2.0 machine-learning/immich_ml/gunicorn_conf.py (upstream commit
# 4c6bbee8f9712e637567199e754dcde75793d1f1): round-robin MACHINE_LEARNING_DEVICE_ID per worker.
# Simplified: no imports from gunicorn (the stand-in gunicorn has no arbiter/workers modules) and
# no macOS fork-safety setting.
import os

device_ids = os.environ.get("MACHINE_LEARNING_DEVICE_IDS", "0").replace(" ", "").split(",")
env = os.environ


def pre_fork(arbiter, _worker) -> None:
    env["MACHINE_LEARNING_DEVICE_ID"] = device_ids[len(arbiter.WORKERS) % len(device_ids)]
