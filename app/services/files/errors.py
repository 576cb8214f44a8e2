"""Dify's file error catalog (service_api/app/error.py, controllers/common/errors.py)."""

from app.core.errors import DifyError


class NoFileUploaded(DifyError):
    code, status, default_message = "no_file_uploaded", 400, "Please upload your file."


class TooManyFiles(DifyError):
    code, status, default_message = "too_many_files", 400, "Only one file is allowed."


class FileTooLarge(DifyError):
    # Dify raises it without a message, so its unformatted placeholder reaches clients.
    code, status, default_message = "file_too_large", 413, "File size exceeded. {message}"


class UnsupportedFileType(DifyError):
    code, status, default_message = "unsupported_file_type", 415, "File type not allowed."


class FilenameNotExists(DifyError):
    code, status = "filename_not_exists_error", 400
    default_message = "The specified filename does not exist."


class FileNotFound(DifyError):
    code, status, default_message = "file_not_found", 404, "The requested file was not found."


class FileAccessDenied(DifyError):
    code, status = "file_access_denied", 403
    default_message = "Access to the requested file is denied."
