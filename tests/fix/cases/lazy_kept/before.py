from pathlib import Path


async def first_json(root: Path):
    found = root.glob("*.json")
    for path in found:
        return path.name
    return None
