"""The text layer of ``model.summary()``: styled strings and the table ``rich`` would draw.

Keras 3 lays its summary out with ``rich``; this module reproduces that layout without it:
column widths (including how ``rich`` shrinks fixed-width columns that do not fit), word
wrapping and ``…`` truncation inside cells, cell alignment, and the ANSI codes of a terminal.
lamina.utils.summary fills the table.
"""

import math
import os
import re

# Styles: None, or (bold, color) with color an xterm-256 index or None.
_BOLD = (True, None)
_NUMBER = (False, 34)
_NONE = (False, 45)
_SYMBOL = (False, 33)


# ------------------------------------------------------------ styled text
class _Text:
    """A string with one style per character."""

    __slots__ = ("chars", "styles")

    def __init__(self, chars="", styles=None):
        self.chars = chars
        self.styles = styles if styles is not None else [None] * len(chars)

    def add(self, text, style=None):
        self.chars += text
        self.styles = self.styles + [style] * len(text)
        return self

    def __len__(self):
        return len(self.chars)

    def slice(self, start, end=None):
        return _Text(self.chars[start:end], self.styles[start:end])

    def pad_right(self, n, style=None):
        if n > 0:
            self.add(" " * n, style)

    def pad_left(self, n, style=None):
        if n > 0:
            self.chars = " " * n + self.chars
            self.styles = [style] * n + self.styles

    def rstrip(self):
        keep = len(self.chars.rstrip())
        self.chars, self.styles = self.chars[:keep], self.styles[:keep]

    def truncate(self, width, pad=False):
        # rich's "ellipsis" overflow
        if len(self.chars) > width:
            self.chars = self.chars[: width - 1] + "\u2026"
            self.styles = self.styles[:width]
        elif pad:
            self.pad_right(width - len(self.chars))


_WORD = re.compile(r"\s*\S+\s*")


def _break_offsets(text, width):
    """Where rich breaks a line to fit ``width`` (words are not folded)."""
    offsets = []
    cell_offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        word_length = len(word.rstrip())
        if width - cell_offset >= word_length:
            cell_offset += len(word)
        elif word_length > width:
            if start:
                offsets.append(start)
            cell_offset = len(word)
        elif cell_offset and start:
            offsets.append(start)
            cell_offset = len(word)
    return offsets


def _wrap(text, width, justify):
    """Lay ``text`` out in lines of exactly ``width`` characters."""
    lines = []
    start = 0
    for part in text.chars.split("\n"):
        end = start + len(part)
        line = text.slice(start, end)
        start = end + 1
        bounds = [0] + _break_offsets(line.chars, width) + [len(line)]
        for a, b in zip(bounds, bounds[1:]):
            piece = line.slice(a, b)
            excess = len(piece) - width
            if excess > 0:
                trailing = len(piece.chars) - len(piece.chars.rstrip())
                cut = min(trailing, excess)
                if cut:
                    piece = piece.slice(0, len(piece) - cut)
            if justify == "left":
                piece.truncate(width, pad=True)
            else:
                piece.rstrip()
                piece.truncate(width)
                room = width - len(piece)
                if justify == "right":
                    piece.pad_left(room)
                else:  # center
                    piece.pad_left(room // 2)
                    piece.pad_right(width - len(piece))
            lines.append(piece)
    return lines


# ---------------------------------------------------------- column widths
def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining = total
    out = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def _table_widths(column_widths, table_width):
    """Widths (padding included) rich gives fixed-width columns in a table
    of ``table_width`` characters, borders included."""
    max_width = table_width - (len(column_widths) + 1)
    widths = [min(w + 2, max_width) if max_width >= 1 else 0
              for w in column_widths]
    if max_width < 1:
        return widths
    if sum(widths) > max_width:
        excess = sum(widths) - max_width
        widths = _ratio_reduce(excess, [1] * len(widths), widths, widths)
        widths = [min(w + 2, width) if width >= 1 else 0
                  for w, width in zip(column_widths, widths)]
    if 0 < sum(widths) < max_width:  # a table narrower than its width grows (rich's expand)
        widths = [w + pad for w, pad in zip(widths, _ratio_distribute(max_width - sum(widths), widths))]
    return widths


def _ratio_distribute(total, ratios):
    """``total`` split in proportion to ``ratios``, each part rounded up (rich's rule)."""
    total_ratio, remaining, parts = sum(ratios), total, []
    for ratio in ratios:
        part = math.ceil(ratio * remaining / total_ratio) if total_ratio > 0 else remaining
        parts.append(part)
        total_ratio -= ratio
        remaining -= part
    return parts


# -------------------------------------------------------------- rendering
def _render_table(header, alignment, column_widths, table_width, rows):
    widths = _table_widths(column_widths, table_width)

    def render_row(cells, header_row):
        blocks = []
        for cell, width, justify in zip(cells, widths, alignment):
            inner = max(width - 2, 0)
            lines = _wrap(cell, inner, justify) if inner else [_Text()]
            blocks.append(lines)
        height = max(len(b) for b in blocks)
        out = []
        for block, width in zip(blocks, widths):
            inner = max(width - 2, 0)
            blank = [_Text(" " * inner)] * (height - len(block))
            block = blank + block if header_row else block + blank
            out.append(block)
        vertical = "\u2503" if header_row else "\u2502"
        lines = []
        for i in range(height):
            line = _Text(vertical)
            for block, width in zip(out, widths):
                if width >= 2:
                    piece = block[i]
                    line.add(" ")
                    line.chars += piece.chars
                    line.styles = line.styles + piece.styles
                    line.add(" ")
                else:
                    line.add(" " * width)
                line.add(vertical)
            lines.append(line)
        return lines

    def rule(left, fill, mid, right):
        return _Text(left + mid.join(fill * w for w in widths) + right)

    lines = [rule("\u250f", "\u2501", "\u2533", "\u2513")]
    header_cells = [_Text(h, [_BOLD] * len(h)) for h in header]
    lines += render_row(header_cells, True)
    lines.append(rule("\u2521", "\u2501", "\u2547", "\u2529"))
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("\u251c", "\u2500", "\u253c", "\u2524"))
        lines += render_row(row, False)
    lines.append(rule("\u2514", "\u2500", "\u2534", "\u2518"))
    return lines


def _ansi(text, color_ok):
    out = []
    i, n = 0, len(text.chars)
    while i < n:
        style = text.styles[i]
        j = i + 1
        while j < n and text.styles[j] == style:
            j += 1
        chunk = text.chars[i:j]
        if style is None:
            out.append(chunk)
        else:
            bold, color = style
            codes = []
            if bold:
                codes.append("1")
            if color is not None and color_ok:
                if color < 8:
                    codes.append(str(30 + color))
                elif color < 16:
                    codes.append(str(90 + color - 8))
                else:
                    codes.append(f"38;5;{color}")
            if codes:
                out.append(f"\x1b[{';'.join(codes)}m{chunk}\x1b[0m")
            else:
                out.append(chunk)
        i = j
    return "".join(out)


def _console_width():
    """The width rich's Console would use (it crops longer lines)."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80


def _is_tty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
