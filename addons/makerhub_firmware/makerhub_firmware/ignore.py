"""``.makerhubignore``: gitignore syntax, matched the way git matches it.

Rules (gitignore(5), with git's wildmatch in ``WM_PATHNAME`` mode):

* blank lines and lines starting with ``#`` are ignored; ``\\#`` and ``\\!`` escape them;
  trailing spaces are dropped unless escaped with ``\\``;
* ``!pattern`` re-includes what an earlier pattern excluded; the last matching pattern wins;
* a trailing ``/`` makes a pattern match directories only;
* a pattern with a ``/`` at the start or in the middle is anchored to the repository root;
  one without matches a name at any depth;
* ``*`` and ``?`` never match ``/``, nor does a bracket expression; ``**`` matches across
  directories in ``**/x``, ``x/**`` and ``x/**/y``, and is a plain ``*`` elsewhere;
* a file whose parent directory is excluded cannot be re-included.

``tests/addons/makerhub_firmware/test_ignore.py`` checks this module against git itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import re
from typing import Final

_CLASSES: Final = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


@dataclass(frozen=True, slots=True)
class IgnorePattern:
    """One compiled line of an ignore file."""

    source: str
    regex: re.Pattern[str] | None
    negated: bool
    directory_only: bool

    def matches(self, path: str, is_dir: bool) -> bool:
        """Return whether this pattern matches ``path`` (relative, ``/``-separated)."""
        if self.regex is None or (self.directory_only and not is_dir):
            return False
        return self.regex.fullmatch(path) is not None


class IgnoreRules:
    """The compiled patterns of one ignore file, in order."""

    def __init__(self, patterns: Iterable[IgnorePattern] = ()) -> None:
        """Keep the patterns in file order (the last match wins)."""
        self.patterns = tuple(patterns)
        self._dir_cache: dict[str, bool] = {}

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        """Compile the lines of an ignore file."""
        return cls(
            pattern for line in text.splitlines() if (pattern := parse_line(line)) is not None
        )

    def _last_match(self, path: str, is_dir: bool) -> bool:
        excluded = False
        for pattern in self.patterns:
            if pattern.matches(path, is_dir):
                excluded = not pattern.negated
        return excluded

    def _dir_excluded(self, directory: str) -> bool:
        cached = self._dir_cache.get(directory)
        if cached is None:
            parent, _, _ = directory.rpartition("/")
            cached = (bool(parent) and self._dir_excluded(parent)) or self._last_match(
                directory, is_dir=True
            )
            self._dir_cache[directory] = cached
        return cached

    def is_excluded(self, path: str) -> bool:
        """Return whether the file at ``path`` is left out (directories checked first)."""
        if not self.patterns:
            return False
        parent, _, _ = path.rpartition("/")
        if parent and self._dir_excluded(parent):
            return True
        return self._last_match(path, is_dir=False)


def parse_line(line: str) -> IgnorePattern | None:
    """Compile one line; return None for blanks and comments."""
    line = _strip_trailing_spaces(line)
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    directory_only = line.endswith("/") and not line.endswith("\\/")
    if directory_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.removeprefix("/")
    body = _translate(line)
    regex = None
    if body is not None:
        regex = re.compile(body if anchored else f"(?:.*/)?{body}", re.DOTALL)
    return IgnorePattern(line, regex, negated, directory_only)


def _strip_trailing_spaces(line: str) -> str:
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        backslashes = 0
        index = end - 2
        while index >= 0 and line[index] == "\\":
            backslashes += 1
            index -= 1
        if backslashes % 2:
            break
        end -= 1
    return line[:end]


def _translate(pattern: str) -> str | None:
    """Return the regex of a wildmatch pattern, or None if it can never match."""
    out: list[str] = []
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if char == "\\":
            index += 1
            if index == length:
                return None  # a trailing backslash never matches in git
            out.append(re.escape(pattern[index]))
            index += 1
        elif char == "*":
            start = index
            while index < length and pattern[index] == "*":
                index += 1
            at_start = start == 0 or pattern[start - 1] == "/"
            at_end = index == length or pattern[index] == "/"
            if index - start >= 2 and at_start and at_end:
                if index == length:
                    out.append(".*")  # "x/**": everything inside x
                elif start == 0:
                    out.append("(?:.*/)?")  # "**/x": x at any depth
                    index += 1
                else:
                    out.append("(?:.*/)?")  # "x/**/y": zero or more directories
                    index += 1
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[":
            bracket = _bracket(pattern, index)
            if bracket is None:
                return None  # an unterminated bracket aborts the match in git
            regex, index = bracket
            out.append(regex)
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def _bracket(pattern: str, start: int) -> tuple[str, int] | None:
    """Translate ``[...]`` starting at ``start``; return the regex and the next index."""
    index = start + 1
    negated = index < len(pattern) and pattern[index] in "!^"
    if negated:
        index += 1
    items: list[str] = []
    first = True
    while index < len(pattern):
        char = pattern[index]
        if char == "]" and not first:
            body = "".join(items)
            if negated:
                return f"[^/{body}]", index + 1
            return f"(?!/)[{body}]" if body else "(?!)", index + 1
        first = False
        if char == "[" and pattern.startswith("[:", index):
            end = pattern.find(":]", index + 2)
            if end == -1:
                return None
            name = pattern[index + 2 : end]
            if name not in _CLASSES:
                return None
            items.append(_CLASSES[name])
            index = end + 2
            continue
        if char == "\\":
            index += 1
            if index >= len(pattern):
                return None
            char = pattern[index]
        literal = _class_char(char)
        if index + 2 < len(pattern) and pattern[index + 1] == "-" and pattern[index + 2] != "]":
            upper = pattern[index + 2]
            if upper == "\\":
                if index + 3 >= len(pattern):
                    return None
                upper = pattern[index + 3]
                index += 1
            if ord(upper) >= ord(char):
                items.append(f"{literal}-{_class_char(upper)}")
            index += 3
            continue
        items.append(literal)
        index += 1
    return None


def _class_char(char: str) -> str:
    return "\\" + char if char in "\\^-[]" else char
