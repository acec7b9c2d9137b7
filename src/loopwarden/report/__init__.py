"""Report writers: text (default), summary, json, sarif. Each takes a ScanResult."""

FORMATS = ("text", "summary", "json", "sarif")


def render(result, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        from loopwarden.report.json import render_json

        return render_json(result)
    if fmt == "sarif":
        from loopwarden.report.sarif import render_sarif

        return render_sarif(result)
    if fmt == "summary":
        from loopwarden.report.summary import render_summary

        return render_summary(result)
    from loopwarden.report.text import render_text

    return render_text(result, color=color)
