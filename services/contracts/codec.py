"""One reusable decoder for the event contract, with errors that name the offending field."""

from __future__ import annotations

import re

import msgspec

from services.contracts.events import EVENT_TYPES, IDENTIFIER_PATTERN, PRINTABLE_PATTERN, Event

_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)
_array_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_encoder = msgspec.json.Encoder()
_NAMED_FIELD = re.compile(r"^`(\w+)`")
_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)


# msgspec names a failed pattern by its regex; say what it means instead.
_READABLE_PATTERNS = {
    repr(IDENTIFIER_PATTERN): "Expected 1 to 64 letters, digits, `_` or `-`",
    repr(PRINTABLE_PATTERN): "Expected text without control characters (NUL, line breaks)",
}


class InvalidEventError(ValueError):
    """An event that breaks the contract; `field` is a JSON path such as `$.data.kind`."""

    def __init__(self, message: str, field: str = "$") -> None:
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


def decode_event(raw: bytes | str) -> Event:
    """Decode one CloudEvent, raising InvalidEventError that names the bad field."""
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _invalid(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidEventError(f"not valid JSON: {exc}") from None


def _invalid(text: str) -> InvalidEventError:
    match = _AT_PATH.match(text)
    assert match is not None
    message, path = match["message"], match["path"] or "$"
    named = _NAMED_FIELD.match(message)
    if named:  # a cross-field check names its field in backticks first
        path = f"{path}.{named[1]}"
    for pattern, readable in _READABLE_PATTERNS.items():
        if pattern in message:
            message = readable
    if path == "$.type" and message.startswith("Invalid value"):
        message = f"{message}: unknown event type; expected one of {', '.join(EVENT_TYPES)}"
    return InvalidEventError(message, path)


def split_batch(raw: bytes) -> list[bytes]:
    """Split a body holding one event object or a JSON array of them into raw events."""
    if not raw.lstrip().startswith(b"["):
        return [raw]  # one event; decoding it reports what is wrong with it
    try:
        return [bytes(item) for item in _array_decoder.decode(raw)]
    except msgspec.DecodeError as exc:
        raise InvalidEventError(f"not valid JSON: {exc}") from None


def encode(value: object) -> bytes:
    """Encode a contract value as JSON."""
    return _encoder.encode(value)
