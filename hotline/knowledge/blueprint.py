"""The knowledge base's pages: search and read (all staff), write and review (administrators and
the owning departments), synonyms (administrators)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from hotline.categories.models import Category
from hotline.core import files
from hotline.core.errors import Invalid, NotFound, OperationError
from hotline.core.fields import MAX_INT
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.core.base import utcnow
from hotline.knowledge import attachments, operations, permissions, queries, usage
from hotline.knowledge.models import Article, ArticleState, KnowledgeAttachment, Synonym
from hotline.tickets.panels import register_panel
from hotline.web.pages import run_operation

bp = Blueprint("knowledge", __name__, url_prefix="/knowledge")
PER_PAGE = 20
FORM_FIELDS = ("title", "body", "category", "owner_department", "source_document", "source_office", "valid_from",
               "valid_until", "note")


@bp.before_request
@login_required
def _staff_only():
    if not permissions.can_read_knowledge(current_user):
        abort(403)


#: Files one save of the article form may carry at their largest (more are added in further saves).
FILES_PER_SAVE = 5


def _batch_limit() -> int:
    return FILES_PER_SAVE * current_app.config["ATTACHMENT_MAX_BYTES"] + 1024 * 1024


def _allow_several_files():
    """The article form (and the API's upload) carries several files: the request may be larger than one
    upload (set before the CSRF check reads the form; each file is still held to the one-file limit)."""
    if request.method == "POST" and request.endpoint in ("knowledge.new", "knowledge.edit",
                                                         "api.knowledge_attachments_add"):
        request.max_content_length = max(_batch_limit(), current_app.config.get("MAX_CONTENT_LENGTH") or 0)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    mb = _batch_limit() // (1024 * 1024)
    return render_template("knowledge/too_large.html", mb=mb), 413


def _user():
    return current_user._get_current_object()


def _article(article_id: int) -> Article:
    """The article if this user may see it; 404 otherwise."""
    article = db.session.get(Article, article_id) if 0 < article_id <= MAX_INT else None
    if article is None or not permissions.can_view(_user(), article, operations.today()):
        abort(404)
    return article


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 1000) if raw.isdigit() and int(raw) > 0 else 1


@bp.get("")
def index():
    user, today = _user(), operations.today()
    q, page = request.args.get("q", ""), _page_number()
    tab = request.args.get("tab", "")
    error, results = None, None
    try:
        results = queries.search(q, today=today, page=page, per_page=PER_PAGE)
    except Invalid as err:
        error = err
    editor = permissions.can_write_knowledge(user)
    lists = {}
    if editor:
        lists = {"review": queries.editor_articles(user, state=ArticleState.IN_REVIEW, today=today),
                 "drafts": queries.editor_articles(user, state=ArticleState.DRAFT, today=today),
                 "care": queries.editor_articles(user, needs_care=True, today=today)}
        now = utcnow()
        lists["hot"] = usage.hot_articles(now)
        lists["repeats"] = usage.repeat_articles(now, current_app.config["CALL_REPEAT_DAYS"])
    pages = max(1, -(-results.total // PER_PAGE)) if results else 1
    return render_template("knowledge/index.html", q=q, results=results, error=error, page=page, pages=pages,
                           page_url=lambda n: url_for("knowledge.index", q=q, page=n), editor=editor, lists=lists,
                           tab=tab if tab in lists else "", today=today, hot_days=usage.HOT_DAYS,
                           repeat_days=current_app.config["CALL_REPEAT_DAYS"],
                           repeat_window=usage.REPEAT_WINDOW_DAYS), 422 if error else 200


@bp.get("/<int(max=2147483647):article_id>")
def article(article_id: int):
    user, today = _user(), operations.today()
    item = _article(article_id)
    editable = permissions.can_edit(user, item)
    return render_template("knowledge/article.html", article=item, today=today, editable=editable,
                           reviewer=permissions.can_review(user, item),
                           in_force=permissions.answers_callers(item, today),
                           versions=queries.versions_of(item) if editable else [])


def _form_choices(user) -> dict:
    departments = db.session.scalars(sa.select(Department).where(Department.is_active).order_by(Department.path))
    return {"categories": [(c.code, f"{c.code} {c.name}") for c in db.session.scalars(
                sa.select(Category).where(Category.is_active).order_by(Category.code))],
            "departments": [d for d in departments if permissions.may_own(user, d)]}


def _render_form(article: Article | None, values: dict, error: OperationError | None, status: int = 200):
    return render_template("knowledge/edit.html", article=article, values=values, error=error,
                           errors=error.fields if error else {}, max_files=attachments.MAX_FILES,
                           max_mb=current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024),
                           **_form_choices(_user())), status


def _posted_values() -> dict:
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    values["is_public"] = request.form.get("is_public") == "on"
    values["remove"] = request.form.getlist("remove")
    return values


@bp.route("/new", methods=["GET", "POST"])
def new():
    user = _user()
    if not permissions.can_write_knowledge(user):
        abort(403)
    if request.method == "GET":
        return _render_form(None, {"owner_department": user.department_id or ""}, None)
    values = _posted_values()
    created, error = run_operation(operations.create_article, user, values, uploads=request.files.getlist("files"))
    if error:
        return _render_form(None, values, error, error.status)
    flash(_("The article is saved as a draft. Submit it for review when it is ready."))
    return redirect(url_for("knowledge.article", article_id=created.id))


@bp.route("/<int(max=2147483647):article_id>/edit", methods=["GET", "POST"])
def edit(article_id: int):
    user, item = _user(), _article(article_id)
    if not permissions.can_edit(user, item):
        abort(403)
    if request.method == "GET":
        values = {"title": item.title, "body": item.body, "category": item.category.code if item.category else "",
                  "owner_department": item.owner_department_id, "source_document": item.source_document,
                  "source_office": item.source_office, "valid_from": item.valid_from or "",
                  "valid_until": item.valid_until or "", "is_public": item.is_public, "note": "", "remove": []}
        return _render_form(item, values, None)
    values = _posted_values()
    _a, error = run_operation(operations.update_article, item, user, values, uploads=request.files.getlist("files"),
                              remove=values["remove"])
    if error:
        db.session.refresh(item)
        return _render_form(item, values, error, error.status)
    flash(_("Saved as version %(n)d.", n=item.version) + (" " + _("It waits for review before callers see it again.")
                                                          if item.state is ArticleState.IN_REVIEW else ""))
    return redirect(url_for("knowledge.article", article_id=item.id))


@bp.get("/<int(max=2147483647):article_id>/files/<int(max=2147483647):file_id>")
def download(article_id: int, file_id: int):
    """A file of an article, to whoever may read the article (drafts: its editors and reviewers)."""
    item = _article(article_id)
    row = db.session.get(KnowledgeAttachment, file_id)
    if row is None or row.article_id != item.id:
        abort(404)
    try:
        return files.download(row.sha256, row.filename, row.content_type)
    except NotFound:
        abort(404)


_STEPS = {
    "submit": (lambda a, u, note: operations.submit_article(a, u), _l("Submitted for review.")),
    "publish": (operations.publish_article, _l("Published: callers' searches find it now.")),
    "send-back": (operations.send_back_article, _l("Sent back to its editors.")),
    "withdraw": (lambda a, u, note: operations.withdraw_article(a, u), _l("Withdrawn: it answers no one now.")),
    "use": (lambda a, u, note: operations.record_use(a, u), _l("Counted: this article answered a caller.")),
}


@bp.post("/<int(max=2147483647):article_id>/<any(submit, publish, 'send-back', withdraw, use):step>")
def step(article_id: int, step: str):
    user, item = _user(), _article(article_id)
    operation, done = _STEPS[step]
    _r, error = run_operation(operation, item, user, request.form.get("note"))
    flash(error.message if error else str(done))
    return redirect(url_for("knowledge.article", article_id=article_id))


# -- synonyms (administrators) --------------------------------------------------------------------

@bp.route("/synonyms", methods=["GET", "POST"])
def synonyms():
    user = _user()
    if not permissions.can_manage_synonyms(user):
        abort(403)
    error, words = None, ""
    if request.method == "POST":
        words = request.form.get("words", "")
        _s, error = run_operation(operations.add_synonyms, user, words)
        if error is None:
            flash(_("Synonyms added: searches use them at once."))
            return redirect(url_for("knowledge.synonyms"))
    return render_template("knowledge/synonyms.html", rows=queries.synonyms(), error=error, words=words,
                           errors=error.fields if error else {}), 422 if error else 200


@bp.post("/synonyms/<int(max=2147483647):synonym_id>/delete")
def synonym_delete(synonym_id: int):
    synonym = db.session.get(Synonym, synonym_id)
    if synonym is None:
        abort(404)
    _r, error = run_operation(operations.delete_synonyms, synonym, _user())
    flash(error.message if error else _("Synonyms removed."))
    return redirect(url_for("knowledge.synonyms"))


# -- on the order page ------------------------------------------------------------------------------

def order_articles_context(ticket, viewer) -> dict:
    """The articles the order was answered with (依据知识), for staff who read the knowledge base."""
    if not permissions.can_read_knowledge(viewer):
        return {}
    articles = queries.articles_used_on(ticket.id)
    return {"articles": articles} if articles else {}


@bp.record_once
def _install(state) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _allow_several_files)
    register_panel(state.app, "knowledge", "knowledge/_order_articles.html", order_articles_context)
