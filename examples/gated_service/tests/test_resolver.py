from gated_service import resolver


async def test_relay_address():
    assert await resolver.relay_address("localhost") in {"127.0.0.1", "::1"}


async def test_relay_address_blocking():
    assert await resolver.relay_address_blocking("localhost") == "127.0.0.1"
