from app.platform.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_expires_after_its_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(ttl=10, clock=clock)
    cache.put("h", "caller")
    clock.now += 9.9
    assert cache.get("h") == (True, "caller")
    clock.now += 0.2
    assert cache.get("h") == (False, None)


def test_none_is_remembered_as_known_absent() -> None:
    cache: TtlCache[str, str | None] = TtlCache(ttl=10)
    cache.put("nobody", None)
    assert cache.get("nobody") == (True, None)
    assert cache.get("unknown") == (False, None)


def test_zero_ttl_caches_nothing() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=0)
    cache.put("h", "caller")
    assert cache.get("h") == (False, None)
