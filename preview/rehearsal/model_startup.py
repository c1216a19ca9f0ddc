"""The per-pod start-up estimates now live in config/startup.py, where the autoscaler's windows read them too."""

from ...config.startup import (
    DEFAULT_IMAGE_BYTES,
    DEVICE_PLUGIN_READY_SECONDS,
    DOWNLOAD_BYTES_PER_SECOND,
    GB,
    IMAGE_BYTES,
    LOAD_FROM_DISK_BYTES_PER_SECOND,
    LOAD_FROM_EFS_BYTES_PER_SECOND,
    MB,
    POD_IP_SECONDS,
    PULL_BYTES_PER_SECOND,
    ModelStartup,
    describe,
    image_repository,
    minutes,
    model_startup,
)

__all__ = [
    "DEFAULT_IMAGE_BYTES", "DEVICE_PLUGIN_READY_SECONDS", "DOWNLOAD_BYTES_PER_SECOND", "GB", "IMAGE_BYTES",
    "LOAD_FROM_DISK_BYTES_PER_SECOND", "LOAD_FROM_EFS_BYTES_PER_SECOND", "MB", "POD_IP_SECONDS", "PULL_BYTES_PER_SECOND",
    "ModelStartup", "describe", "image_repository", "minutes", "model_startup",
]
