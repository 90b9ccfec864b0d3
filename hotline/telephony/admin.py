"""Administration of telephony: IVR flows, prompts (with a preview) and queues with their members."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hotline.auth.models import User
from hotline.extensions import db
from hotline.telephony.operations import configuration as setup
from hotline.telephony import permissions
from hotline.telephony.models import CallQueue, IvrFlow, Prompt, QueueMember
from hotline.web.pages import enum_options, run_operation
from integrations.telephony import prompts as audio
from workflows.acd import Strategy

bp = Blueprint("telephony_admin", __name__, url_prefix="/admin/telephony")

@bp.before_request
@login_required
def _only_administrators():
    if not permissions.can_manage_telephony(current_user):
        abort(403)


@bp.context_processor
def _helpers():
    return {"voice_options": [("cmn", _("Mandarin (espeak-ng)")), ("en", _("English (espeak-ng)"))]}


def _actor() -> User:
    return current_user._get_current_object()


def _status(error) -> int:
    return error.status if error else 200


# -- IVR flows ----------------------------------------------------------------------------------

@bp.get("/flows")
def flows():
    rows = db.session.scalars(sa.select(IvrFlow).order_by(IvrFlow.number)).all()
    editors = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({f.updated_by_id for f in rows if f.updated_by_id}))).all()) if rows else {}
    return render_template("telephony/admin/flows.html", rows=rows, editors=editors)


def _flow_page(flow: IvrFlow | None, form: dict, error=None):
    return render_template(
        "telephony/admin/flow.html", flow=flow, form=form, error=error, errors=error.fields if error else {},
        problems=getattr(error, "problems", []), prompts=sorted(setup.prompt_codes()),
        queues=sorted(setup.queue_codes())), _status(error)


@bp.route("/flows/new", methods=["GET", "POST"])
def flow_new():
    if request.method == "GET":
        return _flow_page(None, {"definition": json.dumps(setup.FLOW, ensure_ascii=False, indent=2)})
    flow, error = run_operation(setup.save_flow, _actor(), None, request.form.to_dict())
    if error is not None:
        return _flow_page(None, request.form.to_dict(), error)
    flash(_("Flow for %(number)s saved (version %(version)d).", number=flow.number, version=flow.version))
    return redirect(url_for("telephony_admin.flow_edit", flow_id=flow.id))


@bp.route("/flows/<int(max=2147483647):flow_id>", methods=["GET", "POST"])
def flow_edit(flow_id: int):
    flow = db.session.get(IvrFlow, flow_id) or abort(404)
    if request.method == "GET":
        return _flow_page(flow, {"name": flow.name, "definition": flow.definition, "version": flow.version})
    saved, error = run_operation(setup.save_flow, _actor(), flow, request.form.to_dict())
    if error is not None:
        db.session.expire_all()  # the page shows the saved version beside the admin's text
        return _flow_page(db.session.get(IvrFlow, flow_id), request.form.to_dict(), error)
    flash(_("Flow for %(number)s saved (version %(version)d).", number=saved.number, version=saved.version))
    return redirect(url_for("telephony_admin.flow_edit", flow_id=flow_id))


# -- prompts ------------------------------------------------------------------------------------

def _upload() -> tuple[bytes, str] | None:
    file = request.files.get("audio")
    if file is None or not file.filename:
        return None
    return file.read(), file.filename


@bp.route("/prompts", methods=["GET", "POST"])
def prompts():
    error, form = None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        prompt, error = run_operation(setup.save_prompt, _actor(), None, form, _upload())
        if error is None:
            flash(_("Prompt %(code)s saved.", code=prompt.code))
            return redirect(url_for("telephony_admin.prompts"))
    rows = db.session.scalars(sa.select(Prompt).order_by(Prompt.code)).all()
    return render_template("telephony/admin/prompts.html", rows=rows, error=error, form=form,
                           errors=error.fields if error else {}), _status(error)


@bp.route("/prompts/<int(max=2147483647):prompt_id>", methods=["GET", "POST"])
def prompt_edit(prompt_id: int):
    prompt = db.session.get(Prompt, prompt_id) or abort(404)
    error = None
    form = {"name": prompt.name, "text": prompt.text or "", "voice": prompt.voice}
    if request.method == "POST":
        form = request.form.to_dict()
        _p, error = run_operation(setup.save_prompt, _actor(), prompt, form, _upload())
        if error is None:
            flash(_("Prompt %(code)s saved.", code=prompt.code))
            return redirect(url_for("telephony_admin.prompt_edit", prompt_id=prompt_id))
        prompt = db.session.get(Prompt, prompt_id)
    return render_template("telephony/admin/prompt.html", prompt=prompt, form=form, error=error,
                           errors=error.fields if error else {}), _status(error)


@bp.get("/prompts/<int(max=2147483647):prompt_id>/preview.wav")
def prompt_preview(prompt_id: int):
    """The prompt as callers hear it: the uploaded audio, or the text spoken now (cached)."""
    prompt = db.session.get(Prompt, prompt_id) or abort(404)
    if prompt.audio:
        wav = prompt.audio
    else:
        cache = audio.PromptCache(current_app.config.get("PROMPT_CACHE_DIR")
                                  or Path(current_app.instance_path) / "prompts")
        try:
            wav = audio.wav_bytes(cache.spoken(prompt.text or "", prompt.voice))
        except audio.PromptError as err:
            current_app.logger.warning("prompt %s preview failed: %s", prompt.code, err)
            return Response(_("The prompt could not be spoken here: %(why)s", why=str(err)), status=503,
                            mimetype="text/plain")
    return Response(wav, mimetype="audio/wav", headers={"Cache-Control": "no-store"})


# -- queues -------------------------------------------------------------------------------------

@bp.route("/queues", methods=["GET", "POST"])
def queues():
    error, form = None, {}
    if request.method == "POST":
        form = request.form.to_dict()
        queue, error = run_operation(setup.create_queue, _actor(), form)
        if error is None:
            flash(_("Queue %(code)s added.", code=queue.code))
            return redirect(url_for("telephony_admin.queue_edit", queue_id=queue.id))
    rows = db.session.scalars(sa.select(CallQueue).order_by(CallQueue.code)).all()
    counts = dict(db.session.execute(sa.select(QueueMember.queue_id, sa.func.count())
                                     .group_by(QueueMember.queue_id)).all())
    return render_template("telephony/admin/queues.html", rows=rows, counts=counts, error=error, form=form,
                           errors=error.fields if error else {}), _status(error)


def _queue_page(queue: CallQueue, *, form=None, error=None, member_error=None, status=200):
    members = db.session.scalars(sa.select(QueueMember).where(QueueMember.queue_id == queue.id)
                                 .order_by(QueueMember.level, QueueMember.id)).all()
    taken = {m.user_id for m in members}
    candidates = db.session.scalars(sa.select(User).where(User.is_active.is_(True), User.extension.is_not(None))
                                    .order_by(User.display_name)).all()
    return render_template(
        "telephony/admin/queue.html", queue=queue, members=members, form=form or _queue_form(queue),
        error=error, errors=error.fields if error else {}, member_error=member_error,
        member_errors=member_error.fields if member_error else {},
        candidates=[(u.id, f"{u.display_name} ({u.extension})") for u in candidates if u.id not in taken],
        strategies=enum_options(Strategy),
        prompts=[(p.code, p.name) for p in db.session.scalars(sa.select(Prompt).order_by(Prompt.code))],
        bounds=setup.QUEUE_BOUNDS, levels=range(setup.LEVELS[0], setup.LEVELS[1] + 1)), status


def _queue_form(queue: CallQueue) -> dict:
    form = {key: getattr(queue, key) for key in setup.QUEUE_BOUNDS}
    form.update(name=queue.name, strategy=queue.strategy.value, hold_prompt=queue.hold_prompt or "",
                is_active=queue.is_active)
    return form


def _queue(queue_id: int) -> CallQueue:
    return db.session.get(CallQueue, queue_id) or abort(404)


@bp.route("/queues/<int(max=2147483647):queue_id>", methods=["GET", "POST"])
def queue_edit(queue_id: int):
    queue = _queue(queue_id)
    if request.method == "GET":
        return _queue_page(queue)
    form = request.form.to_dict()
    _q, error = run_operation(setup.update_queue, _actor(), queue, form)
    if error is None:
        flash(_("Queue %(code)s saved.", code=queue.code))
        return redirect(url_for("telephony_admin.queue_edit", queue_id=queue_id))
    form["is_active"] = form.get("is_active") in ("1", "on", "true")
    return _queue_page(_queue(queue_id), form=form, error=error, status=error.status)


@bp.post("/queues/<int(max=2147483647):queue_id>/members")
def queue_member(queue_id: int):
    queue = _queue(queue_id)
    _m, error = run_operation(setup.set_queue_member, _actor(), queue, request.form.to_dict())
    if error is not None:
        return _queue_page(_queue(queue_id), member_error=error, status=error.status)
    flash(_("Saved."))
    return redirect(url_for("telephony_admin.queue_edit", queue_id=queue_id) + "#h-members")


@bp.post("/queues/<int(max=2147483647):queue_id>/members/<int(max=2147483647):member_id>/delete")
def queue_member_delete(queue_id: int, member_id: int):
    member = db.session.get(QueueMember, member_id)
    if member is None or member.queue_id != queue_id:
        abort(404)
    _r, error = run_operation(setup.remove_queue_member, _actor(), member)
    flash(error.message if error else _("Removed from the queue."))
    return redirect(url_for("telephony_admin.queue_edit", queue_id=queue_id) + "#h-members")

