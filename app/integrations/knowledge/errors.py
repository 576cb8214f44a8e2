"""Why a retrieval did not happen: the dataset is not mapped, or its service failed.
Messages are shown to clients and stored with runs, so they name the dataset and the
setting to fix, never the service's key."""

MAPPING_HINT = "add it to the integrations file's `knowledge` section"


class KnowledgeError(Exception):
    """A retrieval failed; the message is fit for a client."""


class KnowledgeNotMapped(KnowledgeError):
    def __init__(self, dataset_id: str) -> None:
        super().__init__(f"Knowledge base {dataset_id} is not mapped: {MAPPING_HINT}")
        self.dataset_id = dataset_id


class KnowledgeServiceError(KnowledgeError):
    """The retrieval service could not be reached, refused the request or answered
    something that is not the External Knowledge API's answer."""

    def __init__(
        self, message: str, status: int | None = None, error_code: int | str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
