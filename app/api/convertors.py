"""Route path convertors. Registered when `app.api` is imported, before any router
declares a path that uses them."""

from starlette.convertors import Convertor, register_url_convertor


class DifyUUID(Convertor[str]):
    """Werkzeug's UUIDConverter as a route convertor (`{name:dify_uuid}`): only the
    hyphenated 8-4-4-4-12 form matches, so a malformed id misses the route (a plain 404,
    before authentication) as in Dify; the id arrives lower-cased."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def convert(self, value: str) -> str:
        return value.lower()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("dify_uuid", DifyUUID())
