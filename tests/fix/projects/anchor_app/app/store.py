from pathlib import Path


def names(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(child.name for child in root.iterdir())
