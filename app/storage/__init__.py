"""File storage: one interface (`base.Storage`), a local and an S3-compatible backend,
chosen by `KILN_STORAGE_TYPE`."""

from app.core.config import Settings
from app.storage.base import ObjectNotFound, Storage, StorageError, load_bytes

__all__ = ["ObjectNotFound", "Storage", "StorageError", "get_storage", "load_bytes"]

_cache: dict[tuple[object, ...], Storage] = {}


def get_storage(settings: Settings) -> Storage:
    """The backend the settings name (one instance per distinct configuration)."""
    key: tuple[object, ...] = (
        settings.storage_type,
        settings.storage_path,
        settings.s3_endpoint,
        settings.s3_bucket,
        settings.s3_access_key,
        settings.s3_region,
    )
    storage = _cache.get(key)
    if storage is None:
        storage = _build(settings)
        _cache[key] = storage
    return storage


def _build(settings: Settings) -> Storage:
    if settings.storage_type == "s3":
        from app.storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    from app.storage.local import LocalStorage

    return LocalStorage(settings.storage_path)
