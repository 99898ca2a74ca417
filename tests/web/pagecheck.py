"""`assert_stride_page`: what every HTML page of Stride's must have (`bot.web.pages`)."""

from __future__ import annotations


def assert_stride_page(page: str, title: str) -> None:
    """Stride's layout: its wordmark, the title, nothing loaded from elsewhere."""
    assert f"<title>{title} · Stride</title>" in page
    body = page.split("<body>", 1)[1]
    assert '<header class="brand"><svg class="mark"' in body
    assert '<span class="name">Stride</span></header>' in body
    assert "http" not in body and '="//' not in body  # no external link or asset
