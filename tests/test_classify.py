from __future__ import annotations

from fractions import Fraction

import pytest

from covgate.classify import Classifier, explain, pattern_usage, validate_pattern
from covgate.model import PathClass, Thresholds


def one_class(*patterns: str) -> Classifier:
    return Classifier([PathClass("c", patterns, Thresholds(min=Fraction(90)))])


# The glob semantics the README documents, as a table.
@pytest.mark.parametrize(
    ("patterns", "path", "matches"),
    [
        # ** matches any number of folders, zero included
        (["**/auth/**"], "app/auth/tokens.py", True),
        (["**/auth/**"], "auth/tokens.py", True),
        (["**/auth/**"], "app/deep/er/auth/x/y.py", True),
        (["**/auth/**"], "app/oauth/tokens.py", False),
        (["**/auth/**"], "app/auth.py", False),
        (["**/auth.py"], "auth.py", True),
        (["**/auth.py"], "app/auth.py", True),
        (["src/**/models.py"], "src/models.py", True),
        (["src/**/models.py"], "src/a/b/models.py", True),
        # * and ? never cross /
        (["app/*"], "app/main.py", True),
        (["app/*"], "app/auth/tokens.py", False),
        (["app/*.py"], "app/main.py", True),
        (["app/?.py"], "app/a.py", True),
        (["app/?.py"], "app/ab.py", False),
        (["app/?.py"], "app//.py", False),
        # character sets
        (["app/[ab].py"], "app/b.py", True),
        (["app/[ab].py"], "app/c.py", False),
        (["app/[!ab].py"], "app/c.py", True),
        # a pattern without / matches a file or folder name at any depth
        (["migrations"], "app/migrations/0001.py", True),
        (["migrations"], "migrations/0001.py", True),
        (["tokens.py"], "app/auth/tokens.py", True),
        (["*.py"], "app/auth/tokens.py", True),
        (["test_*.py"], "app/test_x.py", True),
        (["test_*.py"], "app/x_test.py", False),
        # a leading ! removes matches
        (["**/auth/**", "!**/migrations/**"], "app/auth/migrations/0001.py", False),
        (["**/auth/**", "!**/migrations/**"], "app/auth/tokens.py", True),
        (["**/auth/**", "!migrations"], "app/auth/migrations/0001.py", False),
        (["**/auth/**", "!**/legacy.py"], "app/auth/legacy.py", False),
        # only negations: everything but those
        (["!**/vendor/**"], "app/x.py", True),
        (["!**/vendor/**"], "app/vendor/x.py", False),
        # hidden folders are files like any other
        (["app/**"], "app/.generated/x.py", True),
        # matching is case-sensitive and exact
        (["**/Auth/**"], "app/auth/x.py", False),
    ],
)
def test_glob_semantics(patterns: list[str], path: str, matches: bool) -> None:
    assert (one_class(*patterns).classify(path).class_name == "c") is matches


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "empty"),
        ("!", "empty"),
        ("   ", "empty"),
        ("app\\auth\\**", "use '/'"),
        ("/app/auth/**", "relative to the project root"),
        ("C:/app/**", "relative to the project root"),
        ("app/auth**", "'**' must be a whole path segment"),
        ("**foo/x.py", "'**' must be a whole path segment"),
        ("app//auth.py", "empty folder"),
        ("app/[ab.py", "never closed"),
    ],
)
def test_malformed_patterns(pattern: str, problem: str) -> None:
    message = validate_pattern(pattern)
    assert message is not None
    assert problem in message


@pytest.mark.parametrize(
    "pattern", ["**/auth/**", "auth", "!**/migrations/**", "src/[ab]*.py", "a/?/b", "**"]
)
def test_valid_patterns(pattern: str) -> None:
    assert validate_pattern(pattern) is None


def test_first_matching_class_wins() -> None:
    classifier = Classifier(
        [
            PathClass("critical", ("**/auth/**",), Thresholds()),
            PathClass("business", ("**/models/**", "**/auth/**"), Thresholds()),
        ]
    )
    assert classifier.classify("app/auth/models/user.py").class_name == "critical"
    membership = classifier.classify("app/models/user.py")
    assert (membership.class_name, membership.pattern) == ("business", "**/models/**")
    assert classifier.classify("app/main.py").class_name is None


def test_negation_lets_a_later_class_claim_the_file() -> None:
    classifier = Classifier(
        [
            PathClass("critical", ("**/auth/**", "!**/migrations/**"), Thresholds()),
            PathClass("migrations", ("migrations",), Thresholds()),
        ]
    )
    assert classifier.classify("app/auth/migrations/1.py").class_name == "migrations"


def test_explain_names_the_pattern_and_the_losers() -> None:
    classifier = Classifier(
        [
            PathClass("critical", ("**/auth/**", "!**/legacy/**"), Thresholds()),
            PathClass("business", ("**/models/**",), Thresholds()),
            PathClass("everything", ("**",), Thresholds()),
        ]
    )
    result = explain(classifier, "app/auth/legacy/models/x.py")
    assert result.claimed_by.class_name == "business"
    critical, business, everything = result.candidates
    assert (critical.matched_by, critical.excluded_by) == ("**/auth/**", "!**/legacy/**")
    assert business.matched_by == "**/models/**"
    assert everything.matched_by == "**"


def test_pattern_usage_finds_unused_and_shadowed_patterns() -> None:
    classifier = Classifier(
        [
            PathClass("critical", ("**/auth/**", "**/payments/**"), Thresholds()),
            PathClass("business", ("**/auth/models/**", "**/services/**"), Thresholds()),
        ]
    )
    paths = ["app/auth/models/user.py", "app/auth/tokens.py", "app/services/post.py"]
    uses = {(u.class_name, u.pattern): u for u in pattern_usage(classifier, paths)}
    assert uses[("critical", "**/auth/**")].claimed == 2
    assert uses[("critical", "**/payments/**")].unused
    assert uses[("business", "**/auth/models/**")].shadowed
    assert not uses[("business", "**/services/**")].shadowed
