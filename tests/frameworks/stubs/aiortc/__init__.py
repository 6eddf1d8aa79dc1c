"""Stub of aiortc for syft 0.2.9's import of its WebRTC grid code (never used for numerics).

The real aiortc 0.9.28 needs native av/pylibsrtp, which do not build from PyPI alone
(../shared/research/frameworks.md §2.8)."""


class RTCPeerConnection:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("aiortc stub: WebRTC is not available in the reference environment")


class RTCSessionDescription:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("aiortc stub: WebRTC is not available in the reference environment")
