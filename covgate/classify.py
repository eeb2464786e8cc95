"""Pure: which path class claims each file (the first class that matches wins).

Globs are matched by wcmatch against the path relative to the project root, with `/`:
`**` matches any number of folders, `*` and `?` never cross `/`, `[...]` is a set, a leading
`!` removes matches, and a pattern without `/` matches a file or folder name at any depth.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wcmatch import glob

from covgate.model import PathClass

_FLAGS = glob.GLOBSTAR | glob.DOTGLOB | glob.FORCEUNIX


def validate_pattern(pattern: str) -> str | None:
    """Why `pattern` is not a valid class glob, or None when it is."""
    body = pattern[1:] if pattern.startswith("!") else pattern
    if not body.strip():
        return "the pattern is empty"
    if "\\" in body:
        return "use '/' to separate folders (patterns are matched with '/' on every OS)"
    if body.startswith("/") or (len(body) > 1 and body[1] == ":"):
        return "patterns are relative to the project root; remove the leading '/'"
    for segment in body.split("/"):
        if "**" in segment and segment != "**":
            return "'**' must be a whole path segment, as in 'src/**/auth.py'"
    if "" in body.split("/")[:-1]:
        return "the pattern has an empty folder ('//')"
    depth = 0
    for char in body:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
    if depth:
        return "a '[' is never closed"
    return None


def _expand(pattern: str) -> list[str]:
    """A pattern without '/' matches that name at any depth, as a file or as a folder."""
    if "/" in pattern:
        return [pattern]
    return [f"**/{pattern}", f"**/{pattern}/**"]


class ClassMatcher:
    """The compiled globs of one class."""

    def __init__(self, path_class: PathClass) -> None:
        self.path_class = path_class
        positives = [p for p in path_class.paths if not p.startswith("!")]
        negatives = [p[1:] for p in path_class.paths if p.startswith("!")]
        if not positives:
            positives = ["**"]
        self.positives = [(p, glob.compile(_expand(p), flags=_FLAGS)) for p in positives]
        self.negatives = [(f"!{p}", glob.compile(_expand(p), flags=_FLAGS)) for p in negatives]

    def match(self, path: str) -> str | None:
        """The positive pattern that claims `path` for this class, or None."""
        hit = next((pattern for pattern, matcher in self.positives if matcher.match(path)), None)
        if hit is None or self.excluded_by(path):
            return None
        return hit

    def excluded_by(self, path: str) -> str | None:
        for pattern, matcher in self.negatives:
            if matcher.match(path):
                return pattern
        return None

    def pattern_hits(self, path: str) -> list[str]:
        """Every positive pattern that matches `path` (ignoring the negative ones)."""
        return [pattern for pattern, matcher in self.positives if matcher.match(path)]


@dataclass(frozen=True)
class Membership:
    path: str
    class_name: str | None
    pattern: str | None


class Classifier:
    def __init__(self, classes: Sequence[PathClass]) -> None:
        self.matchers = [ClassMatcher(c) for c in classes]

    def classify(self, path: str) -> Membership:
        for matcher in self.matchers:
            pattern = matcher.match(path)
            if pattern is not None:
                return Membership(path, matcher.path_class.name, pattern)
        return Membership(path, None, None)

    def classify_all(self, paths: Iterable[str]) -> list[Membership]:
        return [self.classify(path) for path in paths]


@dataclass(frozen=True)
class ClassCandidate:
    """How one class sees one path, for `covgate explain`."""

    class_name: str
    matched_by: str | None
    excluded_by: str | None


@dataclass(frozen=True)
class Explanation:
    path: str
    claimed_by: Membership
    candidates: tuple[ClassCandidate, ...]


def explain(classifier: Classifier, path: str) -> Explanation:
    candidates = []
    for matcher in classifier.matchers:
        hits = matcher.pattern_hits(path)
        candidates.append(
            ClassCandidate(
                class_name=matcher.path_class.name,
                matched_by=hits[0] if hits else None,
                excluded_by=matcher.excluded_by(path) if hits else None,
            )
        )
    return Explanation(path, classifier.classify(path), tuple(candidates))


@dataclass(frozen=True)
class PatternUse:
    class_name: str
    pattern: str
    matched: int
    """Measured files the pattern matches (before negations and earlier classes)."""
    claimed: int
    """Files the pattern actually claims for its class."""

    @property
    def unused(self) -> bool:
        return self.matched == 0

    @property
    def shadowed(self) -> bool:
        """The pattern matches files, but earlier classes or patterns claim all of them."""
        return self.matched > 0 and self.claimed == 0


def pattern_usage(classifier: Classifier, paths: Sequence[str]) -> list[PatternUse]:
    memberships = {m.path: m for m in classifier.classify_all(paths)}
    uses = []
    for matcher in classifier.matchers:
        name = matcher.path_class.name
        for pattern, compiled in matcher.positives:
            hits = [p for p in paths if compiled.match(p)]
            claimed = sum(
                1
                for p in hits
                if memberships[p].class_name == name and memberships[p].pattern == pattern
            )
            uses.append(PatternUse(name, pattern, len(hits), claimed))
        for pattern, compiled in matcher.negatives:
            hits = [p for p in paths if compiled.match(p)]
            uses.append(PatternUse(name, pattern, len(hits), len(hits)))
    return uses
