"""The document extractor's failures; their text is the node's error, as Dify words it."""


class DocumentExtractorError(ValueError):
    """Any failure of one file's extraction."""


class FileDownloadError(DocumentExtractorError):
    """The file's bytes could not be read (storage, a remote URL)."""


class UnsupportedFileTypeError(DocumentExtractorError):
    """No extractor for the file's extension or MIME type."""


class TextExtractionError(DocumentExtractorError):
    """The parser failed on the file's content (corrupt, encrypted, not what it claims)."""


class LimitExceeded(DocumentExtractorError):
    """The file is larger than an operator's limit allows (size, pages, rows, time)."""
