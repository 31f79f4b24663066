"""matplotlib with a Japanese font: its default font has no CJK glyphs, so labels would be boxes."""

from __future__ import annotations


def use_japanese_font() -> str:
    """Make IPAex Gothic (bundled by matplotlib-fontja) the default font; its name."""
    import matplotlib
    import matplotlib_fontja

    matplotlib_fontja.japanize()
    return matplotlib.rcParams["font.family"][0]
