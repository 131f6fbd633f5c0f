from app.services.clients import ApiKeyCache
from app.services.declarations import Caller


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cached_key_expires_after_its_ttl() -> None:
    clock = Clock()
    cache = ApiKeyCache(ttl=10, clock=clock)
    caller = Caller(actor="client:1:x", party_id=1, party_identifier="12345678")
    cache.put("h", caller)
    clock.now += 9.9
    assert cache.get("h") == caller
    clock.now += 0.2
    assert cache.get("h") is None


def test_zero_ttl_caches_nothing() -> None:
    cache = ApiKeyCache(ttl=0)
    cache.put("h", Caller(actor="a"))
    assert cache.get("h") is None
