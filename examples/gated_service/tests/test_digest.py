from gated_service.digest import digest


async def test_digest():
    assert len(await digest(["a", "b"])) == 64
