"""The front door for request bodies and strings: bytes → Python value, within the limits the rest of
the platform (Python, PostgreSQL, the serializers' recursion) can hold.

Every entry point that takes JSON (the API's parser, the heartbeat fast path, the Shelly websocket,
ThingSet's JSON lines) decodes through `decode_json`; every text body (ThingSet, candump logs)
through `decode_text`; every string from elsewhere (query strings, path segments) is checked by
`text_problem`. A value they return can be stored: what they refuse raises `BadInput` naming the
field (a JSON path such as `readings[0].values.state`) and the reason, which the API answers as a
400 before anything is written.

What each case becomes (orjson does the decoding in C):
- bytes that are not UTF-8, a lone surrogate (`\\ud800`), NaN/Infinity, a number beyond a double
  (`1e400`, a 400-digit integer), nesting beyond orjson's 1,024 levels: orjson refuses them;
- integers beyond PostgreSQL's bigint (orjson keeps up to 2**64 - 1), nesting beyond MAX_DEPTH, NUL
  characters in strings or object keys (PostgreSQL text and jsonb cannot hold them), strings longer
  than MAX_STRING: refused here, by one walk over the decoded value.
"""

import orjson
from django.utils.translation import gettext as _

MAX_DEPTH = 32  # the deepest legitimate body (a Shelly status) nests 4 levels
MAX_STRING = 64 * 1024
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
ROOT = "body"


class BadInput(ValueError):
    """Input that cannot be taken: `field` is where, `reason` what is wrong. `code` is
    "malformed_request" when the bytes are not what they claim to be, "invalid" when a value is
    beyond a limit."""

    def __init__(self, field: str, reason: str, *, code: str = "invalid"):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code


class _Refused(Exception):
    """Raised at the bad node; each level on the way up prepends its key or index."""

    def __init__(self, reason: str):
        self.reason = reason
        self.path: list = []


def decode_json(body: bytes | str, *, field: str = ROOT):
    """The JSON value of `body`, or BadInput naming the field at fault."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson's words for these name its internals ("str is not valid UTF-8: surrogates not allowed").
        if "UTF-8" in exc.msg:
            raise BadInput(field, _("Is not valid UTF-8."), code="malformed_request") from None
        if "surrogate" in exc.msg:
            reason = _("A lone surrogate escape (\\ud800–\\udfff) at character %(pos)s: not valid Unicode.")
            raise BadInput(field, reason % {"pos": exc.pos}, code="malformed_request") from None
        raise BadInput(field, _("Malformed JSON: %(reason)s.") % {"reason": exc}, code="malformed_request") from None
    check_value(value, field=field)
    return value


def check_value(value, *, field: str = ROOT) -> None:
    """BadInput if a decoded value nests too deep or holds a string or number nothing can store."""
    try:
        _check(value, 0)
    except _Refused as refused:
        raise BadInput(_path(field, refused.path), refused.reason) from None


def _check(value, depth: int) -> None:
    kind = type(value)
    if kind is str:
        if "\x00" in value or len(value) > MAX_STRING:
            raise _Refused(text_problem(value))
    elif kind is dict:
        if depth >= MAX_DEPTH:
            raise _Refused(_too_deep())
        for key, item in value.items():
            if "\x00" in key or len(key) > MAX_STRING:
                refused = _Refused(_("In a key: %(reason)s") % {"reason": text_problem(key)})
                refused.path.append(key)
                raise refused
            try:
                _check(item, depth + 1)
            except _Refused as refused:
                refused.path.append(key)
                raise
    elif kind is list:
        if depth >= MAX_DEPTH:
            raise _Refused(_too_deep())
        for index, item in enumerate(value):
            try:
                _check(item, depth + 1)
            except _Refused as refused:
                refused.path.append(index)
                raise
    elif kind is int and not BIGINT_MIN <= value <= BIGINT_MAX:
        raise _Refused(_("Out of range: integers go from %(min)s to %(max)s.") % {"min": BIGINT_MIN, "max": BIGINT_MAX})


def _too_deep() -> str:
    return _("Nested deeper than %(depth)s levels.") % {"depth": MAX_DEPTH}


def _path(root: str, steps: list) -> str:
    path = "" if root == ROOT and steps else root
    for step in reversed(steps):
        if type(step) is int:
            path += f"[{step}]"
        else:
            shown = step.replace("\x00", "\\u0000")
            path += f".{shown}" if path else shown
    return path


def text_problem(text: str) -> str:
    """Why a string cannot be taken ("" when it can): a NUL, a lone surrogate, or its length.
    (orjson never yields a lone surrogate: the walk over its values checks only the other two.)"""
    if "\x00" in text:
        return _("Contains a NUL character (\\u0000).")
    if len(text) > MAX_STRING:
        return _("Longer than %(limit)s characters.") % {"limit": MAX_STRING}
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _("Contains a lone surrogate: not valid Unicode.")
    return ""


def decode_text(body: bytes, *, field: str = ROOT) -> str:
    """A text body as str: strict UTF-8, no NUL (never silently replaced)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = _("Not UTF-8 text: byte %(position)s is invalid.") % {"position": exc.start}
        raise BadInput(field, reason, code="malformed_request") from None
    if "\x00" in text:
        raise BadInput(field, _("Contains a NUL character."), code="malformed_request")
    return text
