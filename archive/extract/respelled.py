"""trafilatura's and htmldate's XPath expressions, respelled so libxml2 picks elements by name.

Both libraries select elements as ``.//*[self::div or self::section][...]``. libxml2 then
evaluates the ``self::`` predicate, in its interpreter, on every element of the page: ~0.5 ms
a page for each such expression, and trafilatura evaluates some twenty. The same selection
spelled as a union of name steps, ``(descendant::div[...]|descendant::section[...])``, is
matched by name as libxml2 walks the tree: bare extraction ~7% faster on the bench site's
pages, the same elements in the same (document) order, so the same output.

The two spellings select the same nodes when no predicate after the names is positional
(``[1]``, ``[last()]``, any number, count within the step, and the union would count per
name): an expression that may have one is left as it is. Neither library has an option for this, and
both are pinned; tests/test_extract_speed_respelled.py checks each respelled expression
selects what its original selects on real pages, and that pages extract the same.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from lxml.etree import XPath

REGEXP_NS = "http://exslt.org/regular-expressions"  # the `re:` of both libraries' expressions
# A step ".//*[self::a or self::b]" (relative) or "//*[...]" (from the root), at the start of
# an expression or after "(", "|", "[" or a space.
NAME_LIST = re.compile(r"(?<![\w.:/)\]])(\.?)//\*\[\s*(self::[\w-]+(?:\s+or\s+self::[\w-]+)*)\s*\]")
# What may make a predicate count positions: a number, last(), position(), or a function that
# returns a number (conservatively, even where it is compared); such expressions are left alone.
POSITIONAL = re.compile(r"\[\s*\d|\b(?:last|position|count|sum|number|string-length|floor|ceiling|round)\(")


def _predicates_end(path: str, start: int) -> int | None:
    """Where the predicates (``[...][...]``) that follow ``start`` end; None if unbalanced.
    Brackets inside quoted strings (``re:test(@class, '[Aa]uthor')``) are text."""
    end = start
    while True:
        opening = end + len(path[end:]) - len(path[end:].lstrip())
        if not path.startswith("[", opening):
            return end
        depth, quote = 0, ""
        for at in range(opening, len(path)):
            char = path[at]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char in "[]":
                depth += 1 if char == "[" else -1
                if depth == 0:
                    end = at + 1
                    break
        else:
            return None


def respell(path: str) -> str:
    """``path`` with each ``.//*[self::a or self::b][p]`` spelled ``(descendant::a[p]|descendant::b[p])``
    (``/descendant::`` for ``//*``, which starts at the root); as it is when a predicate after
    the names is positional or the brackets do not balance."""
    parts, done = [], 0
    for match in NAME_LIST.finditer(path):
        if match.start() < done:  # inside a step already respelled
            continue
        end = _predicates_end(path, match.end())
        if end is None:
            return path
        predicates = path[match.end() : end]
        if POSITIONAL.search(predicates):
            return path
        axis = "descendant::" if match.group(1) else "/descendant::"
        names = re.findall(r"self::([\w-]+)", match.group(2))
        union = "|".join(f"{axis}{name}{predicates}" for name in names)
        parts += [path[done : match.start()], f"({union})"]
        done = end
    return "".join([*parts, path[done:]])


@dataclass(frozen=True)
class Respelling:
    """One expression replaced where a module holds it: ``holder[key]`` (a list and an index)
    or ``holder.key`` (a module attribute)."""

    holder: Any
    key: int | str
    original: XPath
    respelled: XPath

    def put(self, expression: XPath) -> None:
        if isinstance(self.key, int):
            self.holder[self.key] = expression
        else:
            setattr(self.holder, self.key, expression)


def respell_libraries(packages: tuple[str, ...] = ("trafilatura", "htmldate")) -> list[Respelling]:
    """Respell every XPath expression the loaded modules of ``packages`` hold, as a module
    attribute or in a module-level list (where their functions look them up), in place."""
    made: dict[int, XPath | None] = {}  # one respelled object per original, wherever it is held

    def respelled(expression: XPath) -> XPath | None:
        if id(expression) not in made:
            path = respell(expression.path)
            same = path == expression.path
            made[id(expression)] = None if same else XPath(path, namespaces={"re": REGEXP_NS})
        return made[id(expression)]

    done = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in packages:
            continue
        for key, value in list(vars(module).items()):
            slots = list(enumerate(value)) if isinstance(value, list) else [(key, value)]
            holder = value if isinstance(value, list) else module
            for slot, expression in slots:
                if isinstance(expression, XPath) and (new := respelled(expression)) is not None:
                    done.append(Respelling(holder, slot, expression, new))
                    done[-1].put(new)
    return done
