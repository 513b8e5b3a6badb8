"""The API's JSON parser: every JSON body of the API goes through the front door (`core.decoding`),
so every endpoint refuses the same bad input the same way. orjson is several times faster than the
stdlib on batches of thousands of readings, and says where a body is malformed."""

from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.utils.mediatypes import media_type_matches

from core.decoding import check_value, decode_json


class FastJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return decode_json(stream.read() if stream is not None else b"")


class CheckedMultiPartParser(MultiPartParser):
    """multipart/form-data for the endpoints that take a file: the form's text fields pass the same
    string checks as a JSON body's (NUL, length), so a form cannot store what JSON cannot."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        for name, values in parsed.data.lists():
            for value in values:
                check_value(value, field=name)
        return parsed


def json_body(request) -> bytes:
    """The raw body of a request that must be JSON, for views that decode it themselves (the
    readings fast path): a body of another content type is refused as the parser would (415)."""
    content_type = request.content_type or ""
    if not media_type_matches(FastJSONParser.media_type, content_type):
        raise UnsupportedMediaType(content_type)
    return request.body
