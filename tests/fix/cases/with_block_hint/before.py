async def append(path, line):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
