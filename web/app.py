"""The Starlette application: pages (sessions) and a JSON API (HTTP Basic) over the published file.

Routes: `/login`, `/logout`, `/` (search), `/customers/{id}`, `/review` (analysts), `/reminders`,
`/audit` (admins), `/api/search`, `/api/customers/{id}`, `/healthz` (no personal data).
Endpoints are plain functions; Starlette runs them in its thread pool, each request on a
cursor of one published version (web/published.py).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from warehouse.reminders import reminders_sql
from warehouse.settings import Settings
from web import customers, review
from web.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Authenticator, User, same_token
from web.published import NotPublishedYet, PublishedFile
from web.search import MAX_RESULTS, search
from web.store import SESSION_HOURS, Store

TEMPLATES = Path(__file__).parent / "templates"
# No scripts at all; styles inline in the page; nothing may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value)}")


class Json(JSONResponse):
    def render(self, content) -> bytes:
        return json.dumps(content, default=_json_default, ensure_ascii=False).encode("utf-8")


class WebApp:
    def __init__(self, settings: Settings, store_path: Path, check_seconds: float = 0.5):
        self.settings = settings
        self.published = PublishedFile(settings.published_path, check_seconds=check_seconds)
        self.store = Store(store_path)
        self.auth = Authenticator(self.store)
        self.templates = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
        self._forgotten_for = None
        self._forget_lock = threading.Lock()

    # every request
    @contextlib.contextmanager
    def _cursor(self):
        with self.published.cursor() as cur:
            self._forget_erased(cur)
            yield cur

    def _forget_erased(self, cur) -> None:
        """Once per published version (at the first request on it): drop the audit rows of
        every erased person."""
        identity = self.published.identity
        with self._forget_lock:
            if identity == self._forgotten_for:
                return
            self.store.forget(customers.erased_ids(cur))
            self._forgotten_for = identity

    def page(self, request: Request, template: str, user: User | None, status_code: int = 200, **context) -> HTMLResponse:
        html = self.templates.get_template(template).render(user=user, request=request, **context)
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    def _page_user(self, request: Request) -> User | None:
        return self.auth.from_session(request) or self.auth.from_basic(request)

    def _login_redirect(self, request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303, headers=SECURITY_HEADERS)

    @staticmethod
    def _refused() -> Response:
        return Json({"error": "login required"}, status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="kundenstamm", charset="UTF-8"', **SECURITY_HEADERS})

    @staticmethod
    async def _form(request: Request) -> dict[str, str]:
        # Forms are url-encoded, a few fields: parsed here rather than with a multipart library.
        body = (await request.body())[:10_000].decode("utf-8", errors="replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}

    # login
    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            csrf = secrets.token_urlsafe(24)
            response = self.page(request, "login.html", None, next=request.query_params.get("next", "/"), csrf=csrf)
            response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=600, httponly=True, secure=True, samesite="strict")
            return response
        form = await self._form(request)
        target = form.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        if not same_token(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return self.page(request, "login.html", None, status_code=403, next=target, csrf="",
                             error="The form had expired. Please try again.")
        opened = await run_in_threadpool(self.auth.login, form.get("username", ""), form.get("password", ""))
        if opened is None:
            csrf = secrets.token_urlsafe(24)
            response = self.page(request, "login.html", None, status_code=401, next=target, csrf=csrf,
                                 error="Unknown user or wrong password.")
            response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=600, httponly=True, secure=True, samesite="strict")
            return response
        token, _ = opened
        response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, secure=True,
                            samesite="strict")
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        user = self.auth.from_session(request)
        form = await self._form(request)
        if user and same_token(form.get("csrf"), user.csrf):
            self.store.close_session(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # search
    def search_page(self, request: Request) -> Response:
        user = self._page_user(request)
        if user is None:
            return self._login_redirect(request)
        q, near = request.query_params.get("q", ""), request.query_params.get("near", "")
        results = []
        try:
            with self._cursor() as cur:
                results = search(cur, q, near) if q else []
        except NotPublishedYet:
            return self.page(request, "message.html", user, status_code=503, title="Nothing published yet",
                             message="The pipeline has not published a golden table yet.")
        return self.page(request, "search.html", user, q=q, near=near, results=results, searched=bool(q))

    def api_search(self, request: Request) -> Response:
        user = self.auth.from_basic(request) or self.auth.from_session(request)
        if user is None:
            return self._refused()
        q, near = request.query_params.get("q", ""), request.query_params.get("near")
        try:
            with self._cursor() as cur:
                results = search(cur, q, near)
        except NotPublishedYet:
            return Json({"error": "nothing published yet"}, status_code=503, headers=SECURITY_HEADERS)
        return Json({"results": results[:MAX_RESULTS]}, headers=SECURITY_HEADERS)

    # customer
    def _look_up(self, user: User, golden_id: str, action: str) -> customers.Lookup:
        with self._cursor() as cur:
            found = customers.look_up(cur, golden_id)
        if found.status == "found":
            self.store.audit(user.name, found.golden_id, action)
        return found

    def customer_page(self, request: Request) -> Response:
        user = self._page_user(request)
        if user is None:
            return self._login_redirect(request)
        try:
            found = self._look_up(user, request.path_params["golden_id"], "page")
        except NotPublishedYet:
            return self.page(request, "message.html", user, status_code=503, title="Nothing published yet", message="")
        if found.status == "moved":
            return RedirectResponse(f"/customers/{quote(found.current_id)}", status_code=303, headers=SECURITY_HEADERS)
        if found.status == "erased":
            return self.page(request, "message.html", user, status_code=410, title="Erased",
                             message="This person was erased on their request. Nothing of them is kept.")
        if found.status == "unknown":
            return self.page(request, "message.html", user, status_code=404, title="Not found",
                             message="No customer has this id.")
        return self.page(request, "customer.html", user, c=found.customer, sources=found.sources,
                         changes=found.changes, revenue=customers.revenue_by_account(found))

    def api_customer(self, request: Request) -> Response:
        user = self.auth.from_basic(request) or self.auth.from_session(request)
        if user is None:
            return self._refused()
        try:
            found = self._look_up(user, request.path_params["golden_id"], "api")
        except NotPublishedYet:
            return Json({"error": "nothing published yet"}, status_code=503, headers=SECURITY_HEADERS)
        if found.status == "moved":
            return RedirectResponse(f"/api/customers/{quote(found.current_id)}", status_code=308,
                                    headers=SECURITY_HEADERS)
        if found.status in ("erased", "unknown"):
            return Json({"golden_id": found.golden_id, "status": found.status},
                        status_code=410 if found.status == "erased" else 404, headers=SECURITY_HEADERS)
        return Json({"customer": found.customer, "sources": found.sources, "changes": found.changes},
                    headers=SECURITY_HEADERS)

    # review
    async def review_page(self, request: Request) -> Response:
        user = self.auth.from_session(request)
        if user is None:
            return self._login_redirect(request)
        if not user.may("analyst"):
            return self.page(request, "message.html", user, status_code=403, title="Analysts only",
                             message="Reviewing pairs needs the analyst role.")
        notice = None
        if request.method == "POST":
            form = await self._form(request)
            if not same_token(form.get("csrf"), user.csrf):
                return self.page(request, "message.html", user, status_code=403, title="Form expired",
                                 message="Please reload the review page and decide again.")
            key_l, key_r, decision = form.get("key_l", ""), form.get("key_r", ""), form.get("decision", "")
            notice = await run_in_threadpool(self._decide, user, key_l, key_r, decision)
            if notice is None:
                return self.page(request, "message.html", user, status_code=400, title="Not in the queue",
                                 message="This pair is not awaiting a decision.")
        def load():
            with self._cursor() as cur:
                return review.queue(cur, self.store.sent_pairs())
        pairs = await run_in_threadpool(load)
        return self.page(request, "review.html", user, pairs=pairs, notice=notice)

    def _decide(self, user: User, key_l: str, key_r: str, decision: str) -> str | None:
        if decision not in review.DECISIONS:
            return None
        with self._cursor() as cur:
            if not review.in_queue(cur, key_l, key_r):
                return None
        written = review.write_decision(self.settings.landing_dir, key_l, key_r, decision, user.name)
        self.store.sent_decision(key_l, key_r, decision, user.name, written.name)
        return f"{key_l} / {key_r}: {decision} — written to {written.name}; the next pipeline run applies it."

    def reminders_page(self, request: Request) -> Response:
        """Valuable customers nobody has heard from: the published `reminders`, bounds adjustable."""
        user = self._page_user(request)
        if user is None:
            return self._login_redirect(request)
        with self._cursor() as cur:
            defaults = cur.execute("SELECT min_revenue, days FROM reminder_settings").fetchall()[0]
            try:
                min_revenue = float(request.query_params.get("min_revenue") or defaults[0])
                days = int(request.query_params.get("days") or defaults[1])
            except ValueError:
                min_revenue, days = float(defaults[0]), int(defaults[1])
            columns = ("golden_id", "first_name", "last_name", "postal_code", "city", "phone", "email",
                       "total_revenue", "last_seen_at", "days_without_contact")
            sql = reminders_sql("published", "(SELECT $min_revenue::DECIMAL(12,2) AS min_revenue, $days::INTEGER AS days)")
            total = cur.execute(f"SELECT count(*) FROM ({sql})", {"min_revenue": min_revenue, "days": days}).fetchall()[0][0]
            rows = [dict(zip(columns, r)) for r in cur.execute(
                f"SELECT {', '.join(columns)} FROM ({sql}) LIMIT 200", {"min_revenue": min_revenue, "days": days}).fetchall()]
        return self.page(request, "reminders.html", user, rows=rows, total=total, min_revenue=min_revenue, days=days)

    def audit_page(self, request: Request) -> Response:
        user = self.auth.from_session(request)
        if user is None:
            return self._login_redirect(request)
        if not user.may("admin"):
            return self.page(request, "message.html", user, status_code=403, title="Admins only", message="")
        return self.page(request, "audit.html", user, rows=self.store.audit_rows())

    def healthz(self, request: Request) -> Response:
        try:
            with self._cursor() as cur:
                published_at = cur.execute("SELECT max(published_at) FROM publication").fetchall()[0][0]
        except NotPublishedYet:
            return Json({"status": "nothing published yet"}, status_code=503)
        return Json({"status": "ok", "published_at": published_at, "switches": self.published.switches})

    def close(self) -> None:
        self.published.close()
        self.store.close()


def create_app(settings: Settings, store_path: Path, check_seconds: float = 0.5) -> Starlette:
    web = WebApp(settings, store_path, check_seconds)
    routes = [
        Route("/login", web.login, methods=["GET", "POST"]),
        Route("/logout", web.logout, methods=["POST"]),
        Route("/", web.search_page),
        Route("/customers/{golden_id}", web.customer_page),
        Route("/review", web.review_page, methods=["GET", "POST"]),
        Route("/reminders", web.reminders_page),
        Route("/audit", web.audit_page),
        Route("/api/search", web.api_search),
        Route("/api/customers/{golden_id}", web.api_customer),
        Route("/healthz", web.healthz),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        web.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.web = web
    return app
