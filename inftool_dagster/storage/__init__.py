"""Where artifacts live beyond the local disk."""

from .s3_mirror import S3Mirror

__all__ = ["S3Mirror"]
