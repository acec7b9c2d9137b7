async def test_get(store):
    assert await store.get("hello") == "hi there"


async def test_save(store):
    await store.save("new", "text")
    assert await store.get("new") == "text"


async def test_exists(store):
    assert await store.exists("hello")
