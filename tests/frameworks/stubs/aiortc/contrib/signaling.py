"""Stub: the names syft 0.2.9's grid/rtc imports (see ../__init__.py)."""

BYE = object()


class CopyAndPasteSignaling:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("aiortc stub: WebRTC is not available in the reference environment")


def object_to_string(obj):
    raise RuntimeError("aiortc stub")


def object_from_string(s):
    raise RuntimeError("aiortc stub")
