"""Generate a large, realistic Python backend project to benchmark `covgate check` on.

    python bench/gen_project.py bench/.work/check/project --modules 840 --seed 1

The project has an `app/` package of backend-like subpackages (auth, payments, services,
domain, models, utils, api, ...), each module 60-200 lines of ordinary code with branches,
loops, exceptions, comprehensions and classes; a pytest suite under `tests/` that imports every
module and exercises a part of each (coverage is partial and varies per module); and a
`pyproject.toml` that measures `app` with branch coverage. The output depends only on the
seed, the module count and this file: the tests' expected values are computed here by running
the generated code once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import shutil
import sys
import textwrap
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from string import Template

GENERATOR_VERSION = 1
MANIFEST = "bench-project.json"
DEFAULT_MODULES = 840
DEFAULT_SEED = 1
MIN_LINES = 60
MAX_LINES = 200

# (package, weight, nouns, module suffixes): module names are noun_suffix.
PACKAGES: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "auth",
        6,
        (
            "token",
            "session",
            "password",
            "credential",
            "login",
            "mfa_code",
            "api_key",
            "grant",
            "scope",
            "device",
            "invite",
        ),
        ("store", "policy", "manager", "validator", "backend", "rules", "codec", "service"),
    ),
    (
        "payments",
        6,
        (
            "charge",
            "refund",
            "payout",
            "invoice",
            "ledger",
            "card",
            "dispute",
            "settlement",
            "mandate",
            "chargeback",
            "balance",
            "fee",
        ),
        ("processor", "gateway", "rules", "store", "calculator", "reconciler", "service"),
    ),
    (
        "payments/providers",
        3,
        ("stripe", "adyen", "paypal", "klarna", "braintree", "mollie", "checkout", "wise"),
        ("client", "adapter", "webhooks", "mapping", "errors"),
    ),
    (
        "services",
        9,
        (
            "order",
            "subscription",
            "notification",
            "email",
            "search",
            "onboarding",
            "billing",
            "account",
            "shipping",
            "catalog",
            "review",
            "referral",
            "support",
            "export",
            "import",
            "audit",
        ),
        ("service", "workflow", "handler", "manager", "coordinator", "sync", "scheduler"),
    ),
    (
        "domain",
        8,
        (
            "order",
            "cart",
            "pricing",
            "discount",
            "tax",
            "customer",
            "catalog",
            "loyalty",
            "inventory",
            "shipment",
            "quote",
            "contract",
            "warranty",
            "bundle",
        ),
        ("rules", "policy", "calculator", "events", "aggregate", "values", "specs"),
    ),
    (
        "models",
        8,
        (
            "user",
            "account",
            "product",
            "order_line",
            "address",
            "merchant",
            "plan",
            "coupon",
            "review",
            "warehouse",
            "supplier",
            "category",
            "price",
            "tenant",
            "team",
            "invoice",
        ),
        ("model", "schema", "record", "fields", "queries", "mixins"),
    ),
    (
        "utils",
        6,
        (
            "text",
            "time",
            "money",
            "pagination",
            "retry",
            "cache",
            "csv",
            "hashing",
            "phone",
            "country",
            "units",
            "ids",
        ),
        ("helpers", "tools", "format", "parse", "checks", "compat"),
    ),
    (
        "api",
        5,
        (
            "user",
            "order",
            "payment",
            "health",
            "webhook",
            "session",
            "product",
            "cart",
            "search",
            "admin",
        ),
        ("routes", "views", "serializers", "handlers", "filters", "errors"),
    ),
    (
        "api/v2",
        4,
        ("user", "order", "invoice", "catalog", "report", "account", "coupon", "refund", "team"),
        ("routes", "views", "serializers", "handlers", "params"),
    ),
    (
        "repositories",
        5,
        (
            "user",
            "order",
            "product",
            "invoice",
            "event",
            "audit",
            "tenant",
            "coupon",
            "review",
            "shipment",
            "payment",
        ),
        ("repository", "queries", "cache", "mapper", "store"),
    ),
    (
        "workers",
        4,
        ("email", "export", "cleanup", "billing", "index", "import", "digest", "retry", "sync"),
        ("worker", "jobs", "queue", "scheduler", "tasks"),
    ),
    (
        "integrations",
        4,
        (
            "crm",
            "erp",
            "shipping",
            "warehouse",
            "analytics",
            "slack",
            "tax_service",
            "fraud",
            "geocoding",
        ),
        ("client", "sync", "mapping", "webhooks", "adapter"),
    ),
    (
        "notifications",
        3,
        ("email", "sms", "push", "digest", "template", "preference", "webhook", "in_app"),
        ("sender", "render", "rules", "queue", "channels"),
    ),
    (
        "reporting",
        3,
        ("revenue", "churn", "cohort", "usage", "funnel", "inventory", "margin", "retention"),
        ("report", "metrics", "export", "aggregates", "charts"),
    ),
    (
        "core",
        3,
        ("config", "event", "feature_flag", "tenant", "clock", "settings", "lock", "audit"),
        ("loader", "registry", "bus", "context", "errors"),
    ),
    (
        "helpers",
        2,
        ("request", "response", "header", "cookie", "locale", "url", "form", "upload"),
        ("helpers", "tools", "utils"),
    ),
    (
        "middleware",
        2,
        ("auth", "cors", "rate_limit", "tracing", "gzip", "request_id", "tenant", "csrf"),
        ("middleware", "filters", "hooks"),
    ),
)

ATTRIBUTES = ("amount", "latency", "risk_score", "age_days", "volume", "retries", "size", "weight")
LABELS = (
    ("low", "medium", "high", "critical"),
    ("tiny", "small", "large", "huge"),
    ("cold", "warm", "hot", "burning"),
    ("bronze", "silver", "gold", "platinum"),
    ("ok", "watch", "warn", "page"),
)
STATES = (
    ("draft", "submitted", "approved", "archived"),
    ("pending", "processing", "shipped", "delivered"),
    ("new", "active", "suspended", "closed"),
    ("created", "authorized", "captured", "settled"),
    ("queued", "running", "finished", "reported"),
)
VERBS = ("create", "update", "delete", "view", "export", "approve", "refund", "share")
KINDS = ("Line", "Item", "Entry", "Record", "Snapshot", "Quote", "Summary")
CURRENCIES = ("EUR", "USD", "GBP")
EXTRA_CURRENCIES = ("CHF", "SEK", "JPY", "PLN")
SEPARATORS = ("-", ":", "#", "/")


@dataclass(frozen=True)
class Case:
    """One call a test makes: setup statements, then the expression whose value is checked."""

    expr: str
    setup: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unit:
    """A top-level function or class of a generated module, with the calls that exercise it."""

    name: str
    code: str
    cases: tuple[Case, ...]


@dataclass
class Context:
    """What a unit generator needs: the module's noun, its random source, the names taken."""

    rng: random.Random
    noun: str
    taken: set[str] = field(default_factory=set)

    @property
    def human(self) -> str:
        return self.noun.replace("_", " ")

    @property
    def camel(self) -> str:
        return "".join(part.capitalize() for part in self.noun.split("_"))

    def claim(self, candidates: Sequence[str]) -> str | None:
        """The first candidate name not yet used in the module (None when all are)."""
        for name in candidates:
            if name not in self.taken:
                self.taken.add(name)
                return name
        return None


def render(template: str, **values: object) -> str:
    return Template(textwrap.dedent(template).strip("\n")).substitute(
        {key: str(value) for key, value in values.items()}
    )


# --- unit generators: each returns None when the module already has every name it could use


def unit_classify(ctx: Context) -> Unit | None:
    attrs = list(ATTRIBUTES)
    ctx.rng.shuffle(attrs)
    name = ctx.claim([f"classify_{ctx.noun}_{attr}" for attr in attrs])
    if name is None:
        return None
    attr = name.removeprefix(f"classify_{ctx.noun}_")
    t1 = ctx.rng.randint(5, 40)
    t2 = t1 + ctx.rng.randint(10, 60)
    t3 = t2 + ctx.rng.randint(10, 200)
    labels = ctx.rng.choice(LABELS)
    code = render(
        '''
        def $name(value: float, *, strict: bool = False) -> str:
            """Bucket a $human $attr for dashboards and alerts."""
            if value < 0:
                raise ValueError(f"negative $attr: {value}")
            if value == 0 and not strict:
                return "none"
            elif value < $t1:
                return "$l1"
            elif value < $t2 or (strict and value < $t3):
                return "$l2"
            elif value < $t3:
                return "$l3"
            else:
                return "$l4"
        ''',
        name=name,
        human=ctx.human,
        attr=attr,
        t1=t1,
        t2=t2,
        t3=t3,
        l1=labels[0],
        l2=labels[1],
        l3=labels[2],
        l4=labels[3],
    )
    cases = [
        Case(f"mod.{name}(0)"),
        Case(f"mod.{name}({t1 // 2})"),
        Case(f"mod.{name}({t1})"),
        Case(f"mod.{name}({t2 + 1})"),
        Case(f"mod.{name}({t2 + 1}, strict=True)"),
        Case(f"mod.{name}({t3 * 2})"),
        Case(f"mod.{name}(-1)"),
        Case(f"mod.{name}(0, strict=True)"),
    ]
    return Unit(name, code, tuple(cases))


def unit_total(ctx: Context) -> Unit | None:
    attrs = list(ATTRIBUTES)
    ctx.rng.shuffle(attrs)
    name = ctx.claim([f"total_{ctx.noun}_{attr}" for attr in attrs])
    if name is None:
        return None
    attr = name.removeprefix(f"total_{ctx.noun}_")
    limit = ctx.rng.randint(3, 12)
    code = render(
        '''
        def $name(items: list[dict[str, Any]], limit: int = $limit) -> Decimal:
            """Sum the $attr of $human items, skipping voided and malformed ones."""
            total = Decimal("0")
            counted = 0
            for item in items:
                if item.get("void"):
                    continue
                try:
                    value = Decimal(str(item["$attr"]))
                except (KeyError, InvalidOperation):
                    logger.warning("skipping malformed $human item: %r", item)
                    continue
                if value < 0 and not item.get("refund", False):
                    raise ValueError("negative $attr without a refund flag")
                total += value
                counted += 1
                if counted >= limit:
                    logger.info("$human total truncated at %d items", limit)
                    break
            return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        ''',
        name=name,
        human=ctx.human,
        attr=attr,
        limit=limit,
    )
    a = repr(attr)
    cases = [
        Case(f"mod.{name}([])"),
        Case(f"mod.{name}([{{{a}: '1.25'}}, {{{a}: 2}}])"),
        Case(f"mod.{name}([{{{a}: 5, 'void': True}}, {{{a}: '0.5'}}])"),
        Case(f"mod.{name}([{{{a}: 'n/a'}}, {{}}, {{{a}: 3}}])"),
        Case(f"mod.{name}([{{{a}: -4, 'refund': True}}, {{{a}: 10}}])"),
        Case(f"mod.{name}([{{{a}: -1}}])"),
        Case(f"mod.{name}([{{{a}: 1}}] * {limit + 2})"),
    ]
    return Unit(name, code, tuple(cases))


def unit_find(ctx: Context) -> Unit | None:
    name = ctx.claim([f"find_{ctx.noun}_index", f"locate_{ctx.noun}", f"position_of_{ctx.noun}"])
    if name is None:
        return None
    key = ctx.rng.choice(("email", "slug", "reference", "external_id", "code"))
    code = render(
        '''
        def $name(records: list[dict[str, Any]], wanted: str, *, start: int = 0) -> int:
            """Index of the first live $human whose $key is `wanted`, or -1."""
            index = max(start, 0)
            while index < len(records):
                record = records[index]
                if record.get("deleted"):
                    index += 1
                    continue
                if record.get("$key") == wanted:
                    break
                index += 1
            else:
                return -1
            return index
        ''',
        name=name,
        human=ctx.human,
        key=key,
    )
    k = repr(key)
    rows = f"[{{{k}: 'a'}}, {{{k}: 'b', 'deleted': True}}, {{{k}: 'b'}}]"
    cases = [
        Case(f"mod.{name}([], 'a')"),
        Case(f"mod.{name}({rows}, 'b')"),
        Case(f"mod.{name}({rows}, 'z')"),
        Case(f"mod.{name}({rows}, 'a', start=1)"),
    ]
    return Unit(name, code, tuple(cases))


def unit_summarize(ctx: Context) -> Unit | None:
    name = ctx.claim([f"summarize_{ctx.noun}s", f"{ctx.noun}_overview"])
    if name is None:
        return None
    top = ctx.rng.randint(2, 5)
    minimum = ctx.rng.randint(0, 2)
    code = render(
        '''
        def $name(records: list[dict[str, Any]]) -> dict[str, Any]:
            """Counts of active ${human}s per owner, for the admin overview."""
            active = [r for r in records if r.get("status") == "active" and not r.get("archived")]
            by_owner: dict[str, int] = {}
            for record in active:
                owner = str(record.get("owner") or "unknown")
                by_owner[owner] = by_owner.get(owner, 0) + 1
            ranked = sorted(by_owner.items(), key=lambda pair: (-pair[1], pair[0]))[:$top]
            return {
                "count": len(active),
                "owners": {owner: count for owner, count in ranked if count > $minimum},
                "ratio": round(len(active) / len(records), 3) if records else 0.0,
            }
        ''',
        name=name,
        human=ctx.human,
        top=top,
        minimum=minimum,
    )
    rows = (
        "[{'status': 'active', 'owner': 'ann'}, {'status': 'active', 'owner': 'ann'}, "
        "{'status': 'active', 'owner': 'bob'}, {'status': 'active', 'owner': 'ann'}, "
        "{'status': 'active'}, {'status': 'active', 'archived': True}, {'status': 'closed'}]"
    )
    cases = [Case(f"mod.{name}([])"), Case(f"mod.{name}({rows})")]
    return Unit(name, code, tuple(cases))


def unit_parse(ctx: Context) -> Unit | None:
    name = ctx.claim([f"parse_{ctx.noun}_ref", f"parse_{ctx.noun}_code"])
    if name is None:
        return None
    sep = ctx.rng.choice(SEPARATORS)
    maximum = ctx.rng.choice((999, 9999, 99999, 1_000_000))
    const = f"_{name.upper()}_MAX"
    code = render(
        '''
        $const = $maximum


        def $name(text: str) -> tuple[str, int]:
            """Split a $human reference such as 'AB${sep}42' into its prefix and number."""
            prefix, sep, number = text.strip().partition("$sep")
            if not sep or not prefix:
                raise ValueError(f"not a $human reference: {text!r}")
            try:
                value = int(number)
            except ValueError:
                logger.debug("bad $human number %r", number)
                raise ValueError(f"bad number in {text!r}") from None
            else:
                if not 0 < value <= $const:
                    raise ValueError(f"$human number out of range: {value}")
            return prefix.upper(), value
        ''',
        name=name,
        human=ctx.human,
        sep=sep,
        maximum=maximum,
        const=const,
    )
    cases = [
        Case(f"mod.{name}({f'ab{sep}12'!r})"),
        Case(f"mod.{name}({f'  Zx{sep}7 '!r})"),
        Case(f"mod.{name}('nothing')"),
        Case(f"mod.{name}({f'ab{sep}zz'!r})"),
        Case(f"mod.{name}({f'ab{sep}0'!r})"),
        Case(f"mod.{name}({f'ab{sep}{maximum + 1}'!r})"),
        Case(f"mod.{name}({f'{sep}5'!r})"),
    ]
    return Unit(name, code, tuple(cases))


def unit_service(ctx: Context) -> Unit | None:
    name = ctx.claim([f"{ctx.camel}Service", f"{ctx.camel}Registry", f"{ctx.camel}Index"])
    if name is None:
        return None
    limit = ctx.rng.randint(2, 6)
    code = render(
        '''
        class $name:
            """Keeps ${human}s in memory and enforces the $human rules."""

            def __init__(self, limit: int = $limit, *, strict: bool = False) -> None:
                if limit <= 0:
                    raise ValueError("limit must be positive")
                self.limit = limit
                self.strict = strict
                self._items: dict[str, dict[str, Any]] = {}

            def add(self, key: str, **fields: Any) -> bool:
                if not key:
                    raise ValueError("empty $human key")
                if key in self._items:
                    if self.strict:
                        raise KeyError(key)
                    self._items[key].update(fields)
                    return False
                if len(self._items) >= self.limit:
                    logger.warning("$human limit reached (%d)", self.limit)
                    return False
                self._items[key] = dict(fields)
                return True

            def remove(self, key: str) -> bool:
                return self._items.pop(key, None) is not None

            def active(self) -> list[str]:
                return sorted(k for k, v in self._items.items() if not v.get("disabled"))

            @property
            def size(self) -> int:
                return len(self._items)
        ''',
        name=name,
        human=ctx.human,
        limit=limit,
    )
    make = f"svc = mod.{name}()"
    cases = [
        Case("svc.add('a', level=1)", (make,)),
        Case("svc.add('a', level=2)", (make, "svc.add('a')")),
        Case("svc.add('a')", (f"svc = mod.{name}(strict=True)", "svc.add('a')")),
        Case("svc.add('')", (make,)),
        Case("svc.add('z')", (f"svc = mod.{name}(limit=1)", "svc.add('a')")),
        Case("svc.active()", (make, "svc.add('b')", "svc.add('a', disabled=True)")),
        Case("(svc.remove('a'), svc.remove('a'), svc.size)", (make, "svc.add('a')")),
        Case(f"mod.{name}(limit=0)"),
    ]
    return Unit(name, code, tuple(cases))


def unit_state(ctx: Context) -> Unit | None:
    name = ctx.claim([f"next_{ctx.noun}_state", f"{ctx.noun}_transition"])
    if name is None:
        return None
    s0, s1, s2, s3 = ctx.rng.choice(STATES)
    table = f"_{name.upper()}_TABLE"
    code = render(
        '''
        $table: dict[str, tuple[str, ...]] = {
            "$s0": ("$s1", "cancelled"),
            "$s1": ("$s2", "cancelled"),
            "$s2": ("$s3",),
            "$s3": (),
            "cancelled": (),
        }


        def $name(current: str, event: str) -> str:
            """The state a $human moves to on `event`; unknown events leave it unchanged."""
            if current not in $table:
                raise ValueError(f"unknown $human state: {current!r}")
            allowed = $table[current]
            if event == "cancel":
                if "cancelled" not in allowed:
                    raise ValueError(f"a $human in state {current!r} cannot be cancelled")
                return "cancelled"
            for candidate in allowed:
                if candidate.startswith(event) and candidate != "cancelled":
                    return candidate
            logger.debug("ignoring %r for $human in state %r", event, current)
            return current
        ''',
        name=name,
        human=ctx.human,
        table=table,
        s0=s0,
        s1=s1,
        s2=s2,
        s3=s3,
    )
    cases = [
        Case(f"mod.{name}({s0!r}, {s1[:3]!r})"),
        Case(f"mod.{name}({s0!r}, 'cancel')"),
        Case(f"mod.{name}({s2!r}, 'cancel')"),
        Case(f"mod.{name}({s1!r}, 'zzz')"),
        Case(f"mod.{name}('bogus', 'go')"),
        Case(f"mod.{name}({s2!r}, {s3[:4]!r})"),
    ]
    return Unit(name, code, tuple(cases))


def unit_normalize(ctx: Context) -> Unit | None:
    attrs = list(ATTRIBUTES)
    ctx.rng.shuffle(attrs)
    name = ctx.claim([f"normalize_{ctx.noun}_{attr}" for attr in attrs])
    if name is None:
        return None
    attr = name.removeprefix(f"normalize_{ctx.noun}_")
    places = ctx.rng.randint(0, 3)
    code = render(
        '''
        def $name(value: object) -> str | None:
            """Turn whatever a client sent as the $human $attr into one canonical string."""
            if value is None:
                return None
            if isinstance(value, bool):
                return "yes" if value else "no"
            if isinstance(value, (int, float)):
                if value != value:
                    return None
                return f"{value:.${places}f}"
            if isinstance(value, str):
                text = " ".join(value.split())
                return text.lower() or None
            if isinstance(value, (list, tuple)):
                parts = [$name(item) for item in value]
                return ",".join(part for part in parts if part) or None
            raise TypeError(f"cannot normalize {type(value).__name__} as a $human $attr")
        ''',
        name=name,
        human=ctx.human,
        attr=attr,
        places=places,
    )
    cases = [
        Case(f"mod.{name}(None)"),
        Case(f"mod.{name}(True)"),
        Case(f"mod.{name}(3)"),
        Case(f"mod.{name}(2.5)"),
        Case(f"mod.{name}('  Hello   World ')"),
        Case(f"mod.{name}('')"),
        Case(f"mod.{name}([1, None, 'A'])"),
        Case(f"mod.{name}({{}})"),
        Case(f"mod.{name}(float('nan'))"),
    ]
    return Unit(name, code, tuple(cases))


def unit_dataclass(ctx: Context) -> Unit | None:
    kinds = list(KINDS)
    ctx.rng.shuffle(kinds)
    name = ctx.claim([f"{ctx.camel}{kind}" for kind in kinds])
    if name is None:
        return None
    kind = name.removeprefix(ctx.camel).lower()
    currency = ctx.rng.choice(CURRENCIES)
    extra = ctx.rng.sample(EXTRA_CURRENCIES, ctx.rng.randint(0, 2))
    currencies = ", ".join(repr(c).replace("'", '"') for c in (*CURRENCIES, *extra))
    big = ctx.rng.choice((100, 500, 1000, 5000))
    const = f"_{name.upper()}_CURRENCIES"
    code = render(
        '''
        $const = ($currencies)


        @dataclass(frozen=True)
        class $name:
            """A $human $kind; amounts are Decimal, never float."""

            name: str
            amount: Decimal
            currency: str = "$currency"
            tags: tuple[str, ...] = field(default_factory=tuple)

            def __post_init__(self) -> None:
                if not self.name.strip():
                    raise ValueError("a $human $kind needs a name")
                if self.currency not in $const:
                    raise ValueError(f"unsupported currency: {self.currency}")

            def with_tax(self, rate: Decimal) -> Decimal:
                if rate < 0 or rate > 1:
                    raise ValueError(f"tax rate out of range: {rate}")
                gross = self.amount * (1 + rate)
                return gross.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

            def is_large(self) -> bool:
                return (self.amount >= $big and self.currency in ("EUR", "USD")) or (
                    "vip" in self.tags
                )
        ''',
        name=name,
        human=ctx.human,
        kind=kind,
        const=const,
        currencies=currencies,
        currency=currency,
        big=big,
    )
    cases = [
        Case(f"mod.{name}('basic', Decimal('19.99')).with_tax(Decimal('0.2'))"),
        Case(f"mod.{name}('  ', Decimal('1'))"),
        Case(f"mod.{name}('x', Decimal('1'), currency='XXX')"),
        Case(f"mod.{name}('x', Decimal('1')).with_tax(Decimal('2'))"),
        Case(f"mod.{name}('x', Decimal('{big}'), currency='EUR').is_large()"),
        Case(f"mod.{name}('x', Decimal('1'), tags=('vip',)).is_large()"),
        Case(f"mod.{name}('x', Decimal('1'), currency='GBP').is_large()"),
    ]
    return Unit(name, code, tuple(cases))


def unit_paginate(ctx: Context) -> Unit | None:
    name = ctx.claim([f"paginate_{ctx.noun}s", f"{ctx.noun}_page"])
    if name is None:
        return None
    per_page = ctx.rng.choice((10, 20, 25, 50))
    code = render(
        '''
        def $name(items: list[Any], page: int, per_page: int = $per_page) -> dict[str, Any]:
            """One page of ${human}s with the navigation flags a client needs."""
            if per_page <= 0:
                raise ValueError("per_page must be positive")
            page = max(page, 1)
            total = len(items)
            pages = max(1, -(-total // per_page))
            if page > pages:
                return {"items": [], "page": page, "pages": pages, "has_next": False}
            start = (page - 1) * per_page
            return {
                "items": items[start : start + per_page],
                "page": page,
                "pages": pages,
                "has_next": page < pages,
                "has_prev": page > 1,
            }
        ''',
        name=name,
        human=ctx.human,
        per_page=per_page,
    )
    cases = [
        Case(f"mod.{name}(list(range(7)), 2, per_page=3)"),
        Case(f"mod.{name}([], 1)"),
        Case(f"mod.{name}(list(range(5)), 9)"),
        Case(f"mod.{name}(list(range(5)), 0, per_page=2)"),
        Case(f"mod.{name}([1], 1, per_page=0)"),
    ]
    return Unit(name, code, tuple(cases))


def unit_permission(ctx: Context) -> Unit | None:
    verbs = list(VERBS)
    ctx.rng.shuffle(verbs)
    name = ctx.claim([f"can_{verb}_{ctx.noun}" for verb in verbs])
    if name is None:
        return None
    verb = name.removeprefix("can_").removesuffix(f"_{ctx.noun}")
    rank = ctx.rng.randint(1, 3)
    const = f"_{name.upper()}_RANKS"
    code = render(
        '''
        $const = {"viewer": 0, "editor": 1, "admin": 2, "owner": 3}


        def $name(user: dict[str, Any], resource: dict[str, Any]) -> bool:
            """Whether `user` may $verb this $human."""
            if user.get("suspended"):
                return False
            role = user.get("role", "viewer")
            if role not in $const:
                logger.warning("unknown role %r", role)
                return False
            if resource.get("owner") == user.get("id"):
                return True
            if resource.get("locked") and $const[role] < $const["admin"]:
                return False
            scopes = set(user.get("scopes", ()))
            wanted = ("$noun:read", "$noun:$verb")
            return $const[role] >= $rank or all(scope in scopes for scope in wanted)
        ''',
        name=name,
        human=ctx.human,
        noun=ctx.noun,
        verb=verb,
        rank=rank,
        const=const,
    )
    cases = [
        Case(f"mod.{name}({{'suspended': True}}, {{}})"),
        Case(f"mod.{name}({{'role': 'guest'}}, {{}})"),
        Case(f"mod.{name}({{'id': 7}}, {{'owner': 7}})"),
        Case(f"mod.{name}({{'id': 1, 'role': 'editor'}}, {{'owner': 2, 'locked': True}})"),
        Case(f"mod.{name}({{'id': 1, 'role': 'owner'}}, {{'owner': 2}})"),
        Case(
            f"mod.{name}({{'id': 1, 'scopes': ['{ctx.noun}:read', '{ctx.noun}:{verb}']}}, "
            "{'owner': 2})"
        ),
    ]
    return Unit(name, code, tuple(cases))


def unit_diff(ctx: Context) -> Unit | None:
    name = ctx.claim([f"diff_{ctx.noun}_fields", f"{ctx.noun}_changes"])
    if name is None:
        return None
    noisy = ctx.rng.randint(2, 5)
    code = render(
        '''
        def $name(
            old: dict[str, Any], new: dict[str, Any], *, ignore: tuple[str, ...] = ("updated_at",)
        ) -> dict[str, tuple[Any, Any]]:
            """The fields of a $human that changed, as (old, new) pairs."""
            keys = sorted((set(old) | set(new)) - set(ignore))
            changes = {k: (old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)}
            if not changes:
                return {}
            if len(changes) > $noisy:
                logger.info("large $human change: %d fields", len(changes))
            return changes
        ''',
        name=name,
        human=ctx.human,
        noisy=noisy,
    )
    cases = [
        Case(f"mod.{name}({{'a': 1}}, {{'a': 1, 'updated_at': 2}})"),
        Case(f"mod.{name}({{'a': 1, 'b': 2}}, {{'a': 3, 'c': 4}})"),
        Case(f"mod.{name}({{}}, {{k: k for k in 'abcdefg'}})"),
    ]
    return Unit(name, code, tuple(cases))


def unit_limiter(ctx: Context) -> Unit | None:
    name = ctx.claim([f"{ctx.camel}RateLimiter", f"{ctx.camel}Throttle"])
    if name is None:
        return None
    capacity = ctx.rng.randint(2, 10)
    refill = ctx.rng.choice(("0.5", "1.0", "2.0", "5.0"))
    code = render(
        '''
        class $name:
            """A token bucket guarding $human operations."""

            def __init__(self, capacity: int = $capacity, refill: float = $refill) -> None:
                self.capacity = capacity
                self.refill = refill
                self._tokens = float(capacity)
                self._last: float | None = None

            def allow(self, now: float, cost: int = 1) -> bool:
                if cost > self.capacity:
                    raise ValueError(f"cost {cost} exceeds capacity {self.capacity}")
                if self._last is not None:
                    elapsed = max(0.0, now - self._last)
                    self._tokens = min(self.capacity, self._tokens + elapsed * self.refill)
                self._last = now
                if self._tokens >= cost:
                    self._tokens -= cost
                    return True
                logger.debug("$human throttled at %s", now)
                return False
        ''',
        name=name,
        human=ctx.human,
        capacity=capacity,
        refill=refill,
    )
    make = f"bucket = mod.{name}(capacity=2, refill=1.0)"
    cases = [
        Case("bucket.allow(0.0)", (make,)),
        Case("bucket.allow(0.1)", (make, "bucket.allow(0.0, cost=2)")),
        Case("bucket.allow(5.0)", (make, "bucket.allow(0.0, cost=2)", "bucket.allow(1.0)")),
        Case("bucket.allow(0.0, cost=3)", (make,)),
    ]
    return Unit(name, code, tuple(cases))


def unit_slugify(ctx: Context) -> Unit | None:
    name = ctx.claim([f"slugify_{ctx.noun}_title", f"{ctx.noun}_slug"])
    if name is None:
        return None
    length = ctx.rng.randint(16, 64)
    code = render(
        '''
        def $name(title: str, max_length: int = $length) -> str:
            """A URL slug for a $human title: lowercase words joined by single dashes."""
            chars: list[str] = []
            previous_dash = True
            for char in title.lower():
                if char.isalnum():
                    chars.append(char)
                    previous_dash = False
                elif not previous_dash:
                    chars.append("-")
                    previous_dash = True
                if len(chars) >= max_length:
                    break
            slug = "".join(chars).strip("-")
            return slug or "$noun"
        ''',
        name=name,
        noun=ctx.noun.replace("_", "-"),
        human=ctx.human,
        length=length,
    )
    cases = [
        Case(f"mod.{name}('Hello, World!')"),
        Case(f"mod.{name}('  --  ')"),
        Case(f"mod.{name}('a b c d e f', max_length=4)"),
    ]
    return Unit(name, code, tuple(cases))


def unit_repository(ctx: Context) -> Unit | None:
    name = ctx.claim([f"{ctx.camel}Repository", f"{ctx.camel}Store", f"{ctx.camel}Table"])
    if name is None:
        return None
    code = render(
        '''
        class $name:
            """An in-memory store of $human rows, keyed by id."""

            def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
                self._rows: dict[int, dict[str, Any]] = {}
                for row in rows or []:
                    self.upsert(row)

            def upsert(self, row: dict[str, Any]) -> bool:
                row_id = row.get("id")
                if not isinstance(row_id, int) or row_id <= 0:
                    raise ValueError(f"bad $human id: {row_id!r}")
                created = row_id not in self._rows
                self._rows[row_id] = {**self._rows.get(row_id, {}), **row}
                return created

            def get(self, row_id: int) -> dict[str, Any] | None:
                return self._rows.get(row_id)

            def filter(self, **criteria: Any) -> list[dict[str, Any]]:
                return [
                    row
                    for _, row in sorted(self._rows.items())
                    if all(row.get(key) == value for key, value in criteria.items())
                ]

            def delete(self, row_id: int) -> bool:
                if row_id not in self._rows:
                    return False
                del self._rows[row_id]
                return True
        ''',
        name=name,
        human=ctx.human,
    )
    rows = "[{'id': 1, 'kind': 'a'}, {'id': 2, 'kind': 'b'}, {'id': 3, 'kind': 'a'}]"
    make = f"repo = mod.{name}({rows})"
    cases = [
        Case("repo.filter(kind='a')", (make,)),
        Case("repo.upsert({'id': 2, 'kind': 'c'})", (make,)),
        Case("repo.upsert({'id': 'x'})", (make,)),
        Case("(repo.delete(1), repo.delete(1), repo.get(1))", (make,)),
        Case("repo.get(3)", (make,)),
    ]
    return Unit(name, code, tuple(cases))


def unit_drain(ctx: Context) -> Unit | None:
    name = ctx.claim([f"drain_{ctx.noun}_queue", f"process_{ctx.noun}_batch"])
    if name is None:
        return None
    budget = ctx.rng.randint(3, 10)
    code = render(
        '''
        def $name(queue: list[dict[str, Any]], budget: int = $budget) -> dict[str, int]:
            """Run queued $human jobs until the budget is spent; failures are counted."""
            stats = {"done": 0, "failed": 0, "skipped": 0}
            while queue and budget > 0:
                job = queue.pop(0)
                if job.get("cancelled"):
                    stats["skipped"] += 1
                    continue
                cost = int(job.get("cost", 1))
                if cost > budget:
                    queue.insert(0, job)
                    break
                try:
                    if not job.get("payload"):
                        raise ValueError("empty payload")
                    budget -= cost
                    stats["done"] += 1
                except ValueError:
                    logger.exception("$human job failed")
                    stats["failed"] += 1
            return stats
        ''',
        name=name,
        human=ctx.human,
        budget=budget,
    )
    cases = [
        Case(f"mod.{name}([])"),
        Case(f"mod.{name}([{{'payload': 1}}, {{'cancelled': True}}, {{}}])"),
        Case(f"mod.{name}([{{'payload': 1, 'cost': 99}}])"),
        Case(f"mod.{name}([{{'payload': 1}}] * 20, budget=2)"),
    ]
    return Unit(name, code, tuple(cases))


def unit_merge(ctx: Context) -> Unit | None:
    name = ctx.claim([f"merge_{ctx.noun}_settings", f"{ctx.noun}_overrides"])
    if name is None:
        return None
    depth = ctx.rng.randint(2, 4)
    code = render(
        '''
        def $name(
            base: dict[str, Any], override: dict[str, Any], depth: int = 0
        ) -> dict[str, Any]:
            """Deep-merge $human settings; a None value removes the key."""
            if depth > $depth:
                raise ValueError("$human settings nested too deeply")
            merged = dict(base)
            for key, value in override.items():
                if value is None:
                    merged.pop(key, None)
                elif isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = $name(merged[key], value, depth + 1)
                else:
                    merged[key] = value
            return merged
        ''',
        name=name,
        human=ctx.human,
        depth=depth,
    )
    deep = "{'a': " * (depth + 3) + "1" + "}" * (depth + 3)
    cases = [
        Case(f"mod.{name}({{'a': 1, 'b': 2}}, {{'b': None, 'c': 3}})"),
        Case(f"mod.{name}({{'db': {{'host': 'x', 'port': 1}}}}, {{'db': {{'port': 2}}}})"),
        Case(f"mod.{name}({deep}, {deep})"),
    ]
    return Unit(name, code, tuple(cases))


def unit_handler(ctx: Context) -> Unit | None:
    verbs = ["create", "update", "get", "list", "cancel"]
    ctx.rng.shuffle(verbs)
    name = ctx.claim([f"handle_{verb}_{ctx.noun}" for verb in verbs])
    if name is None:
        return None
    methods = ctx.rng.choice((("POST",), ("POST", "PUT"), ("PUT", "PATCH")))
    required = ctx.rng.sample(("name", "email", "amount", "currency", "sku", "address"), 2)
    max_quantity = ctx.rng.choice((10, 50, 100))
    ok = ctx.rng.choice((200, 201, 202))
    code = render(
        '''
        def $name(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            """HTTP handler for a $human; returns (status, body)."""
            if request.get("method", "GET") not in ($methods):
                return 405, {"error": "method not allowed"}
            user = request.get("user")
            if user is None:
                return 401, {"error": "authentication required"}
            body = request.get("body") or {}
            missing = [name for name in ($required) if name not in body]
            if missing:
                return 422, {"error": "missing fields", "fields": missing}
            try:
                quantity = int(body.get("quantity", 1))
            except (TypeError, ValueError):
                return 400, {"error": "quantity must be an integer"}
            if quantity <= 0 or quantity > $max_quantity:
                return 422, {"error": "quantity out of range"}
            return $ok, {"$noun": {**body, "quantity": quantity}, "by": user}
        ''',
        name=name,
        human=ctx.human,
        noun=ctx.noun,
        methods=", ".join(f'"{m}"' for m in methods) + ("," if len(methods) == 1 else ""),
        required=", ".join(f'"{r}"' for r in required) + ",",
        max_quantity=max_quantity,
        ok=ok,
    )
    method = repr(methods[0])
    good = ", ".join(f"{r!r}: 'v'" for r in required)
    cases = [
        Case(f"mod.{name}({{}})"),
        Case(f"mod.{name}({{'method': {method}}})"),
        Case(f"mod.{name}({{'method': {method}, 'user': 'u', 'body': {{}}}})"),
        Case(f"mod.{name}({{'method': {method}, 'user': 'u', 'body': {{{good}}}}})"),
        Case(
            f"mod.{name}({{'method': {method}, 'user': 'u', "
            f"'body': {{{good}, 'quantity': 'many'}}}})"
        ),
        Case(
            f"mod.{name}({{'method': {method}, 'user': 'u', "
            f"'body': {{{good}, 'quantity': {max_quantity + 1}}}}})"
        ),
    ]
    return Unit(name, code, tuple(cases))


UnitFactory = Callable[[Context], "Unit | None"]

FACTORIES: tuple[UnitFactory, ...] = (
    unit_classify,
    unit_total,
    unit_find,
    unit_summarize,
    unit_parse,
    unit_service,
    unit_state,
    unit_normalize,
    unit_dataclass,
    unit_paginate,
    unit_permission,
    unit_diff,
    unit_limiter,
    unit_slugify,
    unit_repository,
    unit_drain,
    unit_merge,
    unit_handler,
)

# Packages that lean on some kinds of code, as real ones do.
FAVOURITES: dict[str, tuple[UnitFactory, ...]] = {
    "api": (unit_handler, unit_paginate, unit_permission),
    "api/v2": (unit_handler, unit_paginate, unit_normalize),
    "auth": (unit_permission, unit_limiter, unit_parse, unit_service),
    "payments": (unit_total, unit_dataclass, unit_state, unit_parse),
    "models": (unit_dataclass, unit_repository, unit_normalize),
    "repositories": (unit_repository, unit_find, unit_paginate),
    "workers": (unit_drain, unit_state, unit_limiter),
    "utils": (unit_slugify, unit_normalize, unit_merge, unit_paginate),
    "helpers": (unit_slugify, unit_normalize, unit_merge),
    "domain": (unit_classify, unit_total, unit_state, unit_dataclass),
    "services": (unit_service, unit_drain, unit_diff, unit_state),
}

# One logger per package, not per module: pytest's logging plugin visits every logger around
# every test phase, and 840 module loggers would make the suite several times slower.
HEADER = '''"""$title.

Part of the $package package: $purpose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger("$package")
'''

PURPOSES = (
    "rules that the API and the workers share",
    "kept free of I/O so it is cheap to test",
    "used by the request handlers and the nightly jobs",
    "the single place where these decisions are made",
    "small helpers that grew out of the service layer",
)


@dataclass(frozen=True)
class Module:
    """A generated module: where it goes, its source and its test suite."""

    package: str
    name: str
    source: str
    tests: str


def allocate(modules: int) -> list[int]:
    """How many modules each package gets, proportional to its weight (largest remainder)."""
    total = sum(weight for _, weight, _, _ in PACKAGES)
    exact = [modules * weight / total for _, weight, _, _ in PACKAGES]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: modules - sum(counts)]:
        counts[i] += 1
    return counts


def module_names(
    rng: random.Random, nouns: Sequence[str], suffixes: Sequence[str], count: int
) -> list[tuple[str, str]]:
    """`count` distinct (noun, module name) pairs; numbered once the combinations run out."""
    combos = [(noun, f"{noun}_{suffix}") for noun in nouns for suffix in suffixes]
    rng.shuffle(combos)
    names: list[tuple[str, str]] = []
    round_ = 1
    while len(names) < count:
        for noun, name in combos[: count - len(names)]:
            names.append((noun, name if round_ == 1 else f"{name}_{round_}"))
        round_ += 1
    return names


@contextmanager
def quiet_logging() -> Iterator[None]:
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def build_module(package: str, noun: str, name: str, seed: int) -> Module:
    rng = random.Random(f"{seed}/{package}/{name}")
    ctx = Context(rng=rng, noun=noun)
    title = name.replace("_", " ").capitalize()
    header = render(
        HEADER,
        title=title,
        package=f"app.{package.replace('/', '.')}",
        purpose=rng.choice(PURPOSES),
    )
    target = rng.randint(MIN_LINES, MAX_LINES)
    favourites = FAVOURITES.get(package, ())
    units: list[Unit] = []
    source = assemble(header, units)
    failures = 0
    while source.count("\n") < target and failures < 30:
        factory = rng.choice(favourites) if favourites and rng.random() < 0.4 else None
        unit = (factory or rng.choice(FACTORIES))(ctx)
        if unit is None:
            failures += 1
            continue
        candidate = assemble(header, [*units, unit])
        if candidate.count("\n") > MAX_LINES:
            ctx.taken.discard(unit.name)
            failures += 1
            continue
        units.append(unit)
        source = candidate
    tests = build_tests(package, name, source, units, rng)
    return Module(package=package, name=name, source=source, tests=tests)


def assemble(header: str, units: Sequence[Unit]) -> str:
    """The module's source: header, units, then `__all__` (wrapped when it is long)."""
    public = sorted(unit.name for unit in units)
    source = "\n\n\n".join([header.rstrip("\n"), *(unit.code for unit in units)])
    line = "__all__ = [" + ", ".join(f'"{name}"' for name in public) + "]\n"
    if len(line) > 100:
        line = "__all__ = [\n" + "".join(f'    "{name}",\n' for name in public) + "]\n"
    return source + "\n\n\n" + line


def build_tests(
    package: str, name: str, source: str, units: Sequence[Unit], rng: random.Random
) -> str:
    """A test module that imports the module and runs a part of its units' cases.

    The expected values come from running the generated code here, so the tests pass."""
    dotted = "app." + package.replace("/", ".") + "." + name
    module = types.ModuleType(dotted)
    sys.modules[dotted] = module
    try:
        with quiet_logging():
            exec(compile(source, dotted, "exec"), module.__dict__)
            # How thoroughly this module is tested: it varies, as it does in real projects.
            thoroughness = rng.uniform(0.5, 1.0)
            functions = [f"def test_imports() -> None:\n    assert mod.__name__ == {dotted!r}\n"]
            for unit in units:
                if rng.random() > 0.6 + 0.4 * thoroughness:
                    continue  # never called by any test
                wanted = max(1, round(len(unit.cases) * rng.uniform(0.5, 1.0) * thoroughness))
                chosen = sorted(rng.sample(range(len(unit.cases)), min(wanted, len(unit.cases))))
                body: list[str] = []
                for index in chosen:
                    body.extend(check_case(unit.cases[index], module))
                if body:
                    functions.append(f"def test_{snake(unit.name)}() -> None:\n" + "".join(body))
    finally:
        del sys.modules[dotted]
    package_dotted, _, module_name = dotted.rpartition(".")
    head = (
        f'"""Tests for {dotted}."""\n\n'
        "from __future__ import annotations\n\n"
        "from decimal import Decimal\n\n"
        "import pytest\n\n"
        f"from {package_dotted} import {module_name} as mod\n\n\n"
    )
    return head + "\n\n".join(functions)


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def check_case(case: Case, module: types.ModuleType) -> list[str]:
    """The test lines for one case, asserting what the code does; [] when setup fails."""
    namespace: dict[str, object] = {"mod": module, "Decimal": Decimal}
    try:
        for statement in case.setup:
            exec(statement, namespace)
    except Exception:  # noqa: BLE001 - a case whose setup fails is left out
        return []
    lines = [f"    {statement}\n" for statement in case.setup]
    try:
        value = eval(case.expr, namespace)
    except Exception as exc:  # noqa: BLE001 - the test expects this exception
        kind = type(exc)
        where = "" if kind.__module__ == "builtins" else "mod."
        return [
            *lines,
            f"    with pytest.raises({where}{kind.__name__}):\n",
            f"        {case.expr}\n",
        ]
    if value is None or isinstance(value, bool):
        return [*lines, f"    assert {case.expr} is {value!r}\n"]
    if round_trips(value):
        return [*lines, f"    assert {case.expr} == {value!r}\n"]
    return [*lines, f"    assert type({case.expr}).__name__ == {type(value).__name__!r}\n"]


def round_trips(value: object) -> bool:
    try:
        back = eval(repr(value), {"Decimal": Decimal})
    except Exception:  # noqa: BLE001
        return False
    return type(back) is type(value) and bool(back == value)


def manifest(modules: int, seed: int) -> dict[str, object]:
    """What identifies a generated project: change any of it and the project is rebuilt."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return {
        "generator": "covgate-bench",
        "version": GENERATOR_VERSION,
        "modules": modules,
        "seed": seed,
        "generator_sha256": digest,
    }


def is_current(root: Path, modules: int, seed: int) -> bool:
    """Whether `root` holds a complete project made with these parameters."""
    try:
        found = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(found == manifest(modules, seed))


PYPROJECT = """\
[project]
name = "bench-backend"
version = "0.1.0"
description = "A generated backend service, the workload of covgate's benchmark."
requires-python = ">=3.10"

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]

[tool.coverage.run]
branch = true
source = ["app"]
"""


@dataclass(frozen=True)
class Summary:
    modules: int
    source_lines: int
    test_files: int
    test_functions: int


def generate(root: Path, *, modules: int = DEFAULT_MODULES, seed: int = DEFAULT_SEED) -> Summary:
    """Write the project into `root`, replacing a project generated there before."""
    if modules < 1:
        raise ValueError("modules must be at least 1")
    if root.exists():
        if any(root.iterdir()) and not (root / MANIFEST).exists():
            raise FileExistsError(f"{root} is not empty and holds no generated project")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    write(root / "app/__init__.py", '"""A generated backend service."""\n')
    write(root / "tests/__init__.py", "")
    source_lines = test_functions = 0
    for (package, _, nouns, suffixes), count in zip(PACKAGES, allocate(modules), strict=True):
        rng = random.Random(f"{seed}/{package}")
        parts = package.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            write(root / "app" / sub / "__init__.py", f'"""app.{sub.replace("/", ".")}."""\n')
            write(root / "tests" / sub / "__init__.py", "")
        for noun, name in module_names(rng, nouns, suffixes, count):
            module = build_module(package, noun, name, seed)
            write(root / "app" / package / f"{name}.py", module.source)
            write(root / "tests" / package / f"test_{name}.py", module.tests)
            source_lines += module.source.count("\n")
            test_functions += module.tests.count("\ndef test_")
    (root / MANIFEST).write_text(
        json.dumps(manifest(modules, seed), indent=2) + "\n", encoding="utf-8"
    )
    return Summary(modules, source_lines, modules, test_functions)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(text, encoding="utf-8")


def add_project_arguments(parser: argparse.ArgumentParser, default: Path) -> None:
    """--modules, --seed, --project and --regenerate: the generated project a benchmark uses."""
    parser.add_argument(
        "--modules",
        type=int,
        default=DEFAULT_MODULES,
        help=f"modules of the generated project (default {DEFAULT_MODULES})",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the generator's seed")
    parser.add_argument(
        "--project",
        type=Path,
        default=default,
        help=f"where the project is generated (default {os.path.relpath(default)})",
    )
    parser.add_argument("--regenerate", action="store_true", help="rebuild the project")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("dest", type=Path, help="folder to write the project into")
    parser.add_argument(
        "--modules", type=int, default=DEFAULT_MODULES, help=f"default {DEFAULT_MODULES}"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    parser.add_argument(
        "--force", action="store_true", help="regenerate even when the project is current"
    )
    args = parser.parse_args(argv)
    if not args.force and is_current(args.dest, args.modules, args.seed):
        print(f"{args.dest}: already generated with these parameters")
        return 0
    try:
        summary = generate(args.dest, modules=args.modules, seed=args.seed)
    except (FileExistsError, ValueError) as exc:
        parser.error(str(exc))
    print(
        f"{args.dest}: {summary.modules} modules, {summary.source_lines} lines of code, "
        f"{summary.test_files} test files, {summary.test_functions} tests"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
