"""A tiny async request layer: routes JSON-like requests to the services.

``handle(app, method, path, body, headers)`` is what an ASGI adapter or a test calls. Domain
errors become HTTP status codes through one table (``ERROR_STATUS``); anything else is a bug
and propagates, so a crash never looks like a handled error.

Routes::

    POST  /users                        register (mails a verification link)      201
    POST  /sessions                     log in, returns a bearer token            201
    GET   /me                           the current user                          200
    POST  /email-verifications          mail a new verification link              202
    POST  /email-verifications/confirm  verify an email address with its token    200
    GET   /posts?page=&per_page=        published posts, newest first             200
    POST  /posts                        create a draft                            201
    GET   /posts/{id}                   a published post, or the viewer's draft   200
    PATCH /posts/{id}                   edit one's own post                       200
    POST  /posts/{id}/publish           publish one's own draft                   200
    POST  /charges                      charge (Idempotency-Key header required)  201
    GET   /charges/{id}                 one's own charge and its refunds          200
    POST  /charges/{id}/refunds         refund all or part of one's own charge    201
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from blogshop.auth.errors import PasswordPolicyError
from blogshop.auth.passwords import PasswordHasher
from blogshop.auth.tokens import TokenSigner
from blogshop.db import Database
from blogshop.errors import (
    AuthenticationError,
    BlogshopError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from blogshop.models import Charge, Post, Refund, User
from blogshop.payments.charges import PaymentService
from blogshop.payments.money import Money
from blogshop.services.accounts import AccountService
from blogshop.services.email_verification import EmailVerificationService
from blogshop.services.errors import InvalidInputError
from blogshop.services.mailer import Mailer, OutboxMailer
from blogshop.services.posts import PostService
from blogshop.utils.clock import Clock, format_iso, utc_now
from blogshop.utils.pagination import PageRequest

JSON = dict[str, object]


class BadRequestError(BlogshopError):
    """The request itself is malformed: wrong body type, missing field or header."""

    code = "bad_request"


# First match wins, so more specific classes come first.
ERROR_STATUS: tuple[tuple[type[BlogshopError], int], ...] = (
    (BadRequestError, 400),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (GoneError, 410),
    (ValidationError, 422),
)


def status_for(error: BlogshopError) -> int:
    """The HTTP status for a domain error; 500 for one no family claims."""
    for error_type, status in ERROR_STATUS:
        if isinstance(error, error_type):
            return status
    return 500


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Request:
    params: dict[str, int]
    query: dict[str, str]
    body: Mapping[str, object]
    headers: Mapping[str, str]


@dataclass
class App:
    """The wired-up service; build it with ``create_app`` and ``close`` it when done::

    app = create_app(await Database.connect("blogshop.sqlite3"), secret=secret)
    """

    database: Database
    mailer: Mailer
    accounts: AccountService
    verifications: EmailVerificationService
    posts: PostService
    payments: PaymentService

    async def close(self) -> None:
        await self.database.close()


def create_app(
    database: Database,
    *,
    secret: bytes,
    hasher: PasswordHasher | None = None,
    mailer: Mailer | None = None,
    clock: Clock = utc_now,
) -> App:
    """Wire the services around an open ``database``; ``App.close`` closes it."""
    outbox = OutboxMailer() if mailer is None else mailer
    verifications = EmailVerificationService(database, outbox, clock=clock)
    accounts = AccountService(
        database,
        hasher=PasswordHasher() if hasher is None else hasher,
        signer=TokenSigner(secret, clock=clock),
        verifications=verifications,
        clock=clock,
    )
    return App(
        database=database,
        mailer=outbox,
        accounts=accounts,
        verifications=verifications,
        posts=PostService(database, clock=clock),
        payments=PaymentService(database, clock=clock),
    )


# --- serialisation -------------------------------------------------------------------------


def user_json(user: User) -> JSON:
    """The public view of a user: never the password hash."""
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "email_verified": user.email_verified,
        "created_at": format_iso(user.created_at),
    }


def post_json(post: Post) -> JSON:
    return {
        "id": post.id,
        "author_id": post.author_id,
        "title": post.title,
        "slug": post.slug,
        "body": post.body,
        "status": post.status.value,
        "created_at": format_iso(post.created_at),
        "updated_at": format_iso(post.updated_at),
        "published_at": None if post.published_at is None else format_iso(post.published_at),
    }


def charge_json(charge: Charge) -> JSON:
    return {
        "id": charge.id,
        "amount": str(charge.amount.amount),
        "currency": charge.currency,
        "refunded": str(charge.refunded.amount),
        "status": charge.status.value,
        "description": charge.description,
        "created_at": format_iso(charge.created_at),
    }


def refund_json(refund: Refund) -> JSON:
    return {
        "id": refund.id,
        "charge_id": refund.charge_id,
        "amount": str(refund.amount.amount),
        "currency": refund.amount.currency,
        "created_at": format_iso(refund.created_at),
    }


def error_response(error: BlogshopError) -> Response:
    detail: JSON = {"code": error.code, "message": str(error)}
    if isinstance(error, PasswordPolicyError):
        detail["problems"] = list(error.problems)
    if isinstance(error, InvalidInputError):
        detail["field"] = error.field
    return Response(status_for(error), {"error": detail})


# --- request helpers -----------------------------------------------------------------------


def _string(body: Mapping[str, object], name: str) -> str:
    value = _optional_string(body, name)
    if value is None:
        raise BadRequestError(f"missing field {name!r}")
    return value


def _optional_string(body: Mapping[str, object], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequestError(f"field {name!r} must be a string")
    return value


async def _current_user(app: App, request: Request) -> User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("an 'Authorization: Bearer <token>' header is required")
    return await app.accounts.user_for_token(token.strip())


# --- handlers ------------------------------------------------------------------------------


async def _register(app: App, request: Request) -> Response:
    user = await app.accounts.register(
        email=_string(request.body, "email"),
        password=_string(request.body, "password"),
        display_name=_string(request.body, "display_name"),
    )
    return Response(201, {"user": user_json(user)})


async def _login(app: App, request: Request) -> Response:
    token = await app.accounts.authenticate(
        email=_string(request.body, "email"), password=_string(request.body, "password")
    )
    return Response(201, {"token": token, "token_type": "Bearer"})


async def _me(app: App, request: Request) -> Response:
    return Response(200, {"user": user_json(await _current_user(app, request))})


async def _resend_verification(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    await app.verifications.issue(user.id)
    return Response(202, {"status": "sent"})


async def _confirm_verification(app: App, request: Request) -> Response:
    user = await app.verifications.verify(_string(request.body, "token"))
    return Response(200, {"user": user_json(user)})


async def _list_posts(app: App, request: Request) -> Response:
    page_request = PageRequest.from_query(request.query.get("page"), request.query.get("per_page"))
    page = await app.posts.list_published(page_request)
    return Response(
        200,
        {
            "items": [post_json(post) for post in page.items],
            "page": page_request.page,
            "per_page": page_request.per_page,
            "total": page.total,
            "total_pages": page.total_pages,
        },
    )


async def _create_post(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    post = await app.posts.create(
        author_id=user.id,
        title=_string(request.body, "title"),
        body=_string(request.body, "body"),
    )
    return Response(201, {"post": post_json(post)})


async def _get_post(app: App, request: Request) -> Response:
    viewer = await _current_user(app, request) if "authorization" in request.headers else None
    post = await app.posts.get(
        request.params["post_id"], viewer_id=None if viewer is None else viewer.id
    )
    return Response(200, {"post": post_json(post)})


async def _edit_post(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    post = await app.posts.edit(
        post_id=request.params["post_id"],
        actor_id=user.id,
        title=_optional_string(request.body, "title"),
        body=_optional_string(request.body, "body"),
    )
    return Response(200, {"post": post_json(post)})


async def _publish_post(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    post = await app.posts.publish(post_id=request.params["post_id"], actor_id=user.id)
    return Response(200, {"post": post_json(post)})


async def _create_charge(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    key = request.headers.get("idempotency-key")
    if key is None:
        raise BadRequestError("an 'Idempotency-Key' header is required")
    if "amount" not in request.body:
        raise BadRequestError("missing field 'amount'")
    charge = await app.payments.charge(
        customer_id=user.id,
        amount=Money.of(request.body["amount"], _string(request.body, "currency")),
        idempotency_key=key,
        description=_optional_string(request.body, "description") or "",
    )
    return Response(201, {"charge": charge_json(charge)})


async def _get_charge(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    charge_id = request.params["charge_id"]
    charge = await app.payments.get_charge(charge_id=charge_id, customer_id=user.id)
    refunds = await app.payments.list_refunds(charge_id=charge_id, customer_id=user.id)
    return Response(
        200, {"charge": charge_json(charge), "refunds": [refund_json(r) for r in refunds]}
    )


async def _refund_charge(app: App, request: Request) -> Response:
    user = await _current_user(app, request)
    charge_id = request.params["charge_id"]
    amount: Money | None = None
    if request.body.get("amount") is not None:
        currency = _optional_string(request.body, "currency")
        if currency is None:
            charge = await app.payments.get_charge(charge_id=charge_id, customer_id=user.id)
            currency = charge.currency
        amount = Money.of(request.body["amount"], currency)
    refund = await app.payments.refund(charge_id=charge_id, customer_id=user.id, amount=amount)
    return Response(201, {"refund": refund_json(refund)})


# --- routing -------------------------------------------------------------------------------

Handler = Callable[[App, Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _route(method: str, template: str, handler: Handler) -> Route:
    """``/posts/{post_id}`` matches ``/posts/42``: every path parameter is a positive id."""
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[1-9][0-9]{0,17})", template)
    return Route(method, re.compile(pattern), handler)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/users", _register),
    _route("POST", "/sessions", _login),
    _route("GET", "/me", _me),
    _route("POST", "/email-verifications", _resend_verification),
    _route("POST", "/email-verifications/confirm", _confirm_verification),
    _route("GET", "/posts", _list_posts),
    _route("POST", "/posts", _create_post),
    _route("GET", "/posts/{post_id}", _get_post),
    _route("PATCH", "/posts/{post_id}", _edit_post),
    _route("POST", "/posts/{post_id}/publish", _publish_post),
    _route("POST", "/charges", _create_charge),
    _route("GET", "/charges/{charge_id}", _get_charge),
    _route("POST", "/charges/{charge_id}/refunds", _refund_charge),
)


async def handle(
    app: App,
    method: str,
    path: str,
    body: object = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Route one request and turn domain errors into error responses.

    ``body`` is the decoded JSON body (an object, or ``None`` for no body); ``path`` may carry
    a query string. Header names are case-insensitive.
    """
    url = urlsplit(path)
    allowed: list[str] = []
    for route in ROUTES:
        match = route.pattern.fullmatch(url.path)
        if match is None:
            continue
        if route.method != method.upper():
            allowed.append(route.method)
            continue
        if body is not None and not isinstance(body, Mapping):
            return error_response(BadRequestError("the request body must be a JSON object"))
        request = Request(
            params={name: int(value) for name, value in match.groupdict().items()},
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            body={} if body is None else body,
            headers={name.lower(): value for name, value in (headers or {}).items()},
        )
        try:
            return await route.handler(app, request)
        except BlogshopError as error:
            return error_response(error)
    if allowed:
        return Response(
            405,
            {"error": {"code": "method_not_allowed", "message": f"{method} {url.path}"}},
            {"Allow": ", ".join(sorted(allowed))},
        )
    return Response(404, {"error": {"code": "no_route", "message": f"no route for {url.path}"}})
