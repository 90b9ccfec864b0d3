"""Administration of telephony: IVR flows that are never saved broken, prompts from text or an
uploaded recording, queues and their agents, and users' extensions."""
import io
import json
import math
import re
import struct
import wave

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.extensions import db
from hotline.telephony.operations.configuration import FLOW
from hotline.telephony.models import Agent, CallQueue, IvrFlow, Prompt, QueueMember
from integrations.telephony.prompts import audio_key, text_key
from workflows.acd import AgentState, Strategy


def _flow():
    db.session.expire_all()
    return db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == "12345"))


def test_a_bad_flow_is_refused_with_every_problem_and_the_old_version_stays(browser, phones):
    flow = _flow()
    flow_id, before = flow.id, flow.definition
    bad = json.loads(before)
    bad["nodes"]["main"]["options"]["9"] = "nowhere"
    bad["nodes"]["agent"]["queue"] = "night_shift"
    text = json.dumps(bad, ensure_ascii=False, indent=2)
    for lang, messages in (("zh", ["节点“main”指向不存在的节点“nowhere”",
                                   "节点“agent”使用了不存在的队列“night_shift”"]),
                           ("en", ["Node “main” leads to a missing node “nowhere”",
                                   "Node “agent” uses a missing queue “night_shift”"])):
        client = browser("admin", lang=lang)
        client.get(f"/admin/telephony/flows/{flow_id}")
        resp = client.post(f"/admin/telephony/flows/{flow_id}", {"name": "12345 主流程", "definition": text})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, lang
        problems = re.search(r'<div class="field-error" id="e-definition">(.*?)</div>', html, re.S).group(1)
        for message in messages:
            assert message in problems, (lang, message)
        assert "nowhere" in html and "night_shift" in html and 'aria-invalid="true"' in html  # the text is kept
    broken = browser("admin").post(f"/admin/telephony/flows/{flow_id}", {"name": "", "definition": "{\"start\": "})
    html = broken.get_data(as_text=True)
    assert broken.status_code == 422 and "Not valid JSON" in html and 'id="e-name"' in html  # everything at once
    flow = _flow()
    assert flow.version == 1 and flow.definition == before


def test_a_good_flow_is_saved_as_a_new_version_and_another_number_gets_its_own(browser, phones):
    flow_id = _flow().id
    client = browser("admin")
    client.get(f"/admin/telephony/flows/{flow_id}")
    good = json.loads(_flow().definition)
    good["nodes"]["main"]["timeout"] = 8
    resp = client.post(f"/admin/telephony/flows/{flow_id}", {"name": "主流程", "definition": json.dumps(good)})
    assert resp.status_code == 302
    flow = _flow()
    assert flow.version == 2 and json.loads(flow.definition)["nodes"]["main"]["timeout"] == 8
    assert flow.updated_by_id == phones.users["admin"].id
    assert 'name="version" value="2"' in client.get(f"/admin/telephony/flows/{flow_id}").get_data(as_text=True)
    # an edit of version 1 made while version 2 was saved overwrites nothing, and keeps the text
    stale = client.post(f"/admin/telephony/flows/{flow_id}", {"name": "旧", "version": "1",
                                                              "definition": json.dumps(FLOW) + " "})
    assert stale.status_code == 409 and "Someone saved version 2" in stale.get_data(as_text=True)
    assert 'name="version" value="1"' in stale.get_data(as_text=True)
    assert _flow().version == 2
    page = client.get("/admin/telephony/flows").get_data(as_text=True)
    assert "12345" in page and "主流程" in page
    new = client.get("/admin/telephony/flows/new").get_data(as_text=True)
    assert "&#34;welcome&#34;" in new  # a starting point to edit
    taken = client.post("/admin/telephony/flows/new", {"number": "12345", "name": "x", "definition": json.dumps(FLOW)})
    assert taken.status_code == 422 and "already has a flow" in taken.get_data(as_text=True)
    ok = client.post("/admin/telephony/flows/new",
                     {"number": "96345", "name": "企业专线", "definition": json.dumps(FLOW)})
    assert ok.status_code == 302
    assert db.session.scalar(sa.select(IvrFlow).where(IvrFlow.number == "96345")).version == 1


def _wav(rate=44100, channels=2, seconds=0.5) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
                          for i in range(int(rate * seconds)))
        w.writeframes(frames)
    return out.getvalue()


def test_prompt_upload_is_converted_to_8_khz_and_previewed(browser, phones):
    client = browser("admin")
    client.get("/admin/telephony/prompts")
    resp = client.post("/admin/telephony/prompts", {
        "code": "holiday_notice", "name": "节日提示", "voice": "cmn", "text": "",
        "audio": (io.BytesIO(_wav()), "notice.wav")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    prompt = db.session.scalar(sa.select(Prompt).where(Prompt.code == "holiday_notice"))
    with wave.open(io.BytesIO(prompt.audio)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert abs(w.getnframes() - 4000) < 100  # still half a second
    assert prompt.sha256 == audio_key(prompt.audio)
    preview = client.get(f"/admin/telephony/prompts/{prompt.id}/preview.wav")
    assert preview.status_code == 200 and preview.mimetype == "audio/wav" and preview.data == prompt.audio
    garbage = client.post("/admin/telephony/prompts", {
        "code": "broken", "name": "坏文件", "audio": (io.BytesIO(b"not audio at all"), "x.wav")},
        content_type="multipart/form-data")
    html = garbage.get_data(as_text=True)
    assert garbage.status_code == 422 and 'id="e-audio"' in html and "could not be converted" in html
    assert db.session.scalar(sa.select(Prompt).where(Prompt.code == "broken")) is None


def test_a_text_prompt_is_spoken_on_demand_and_edited(browser, phones):
    client = browser("admin")
    prompt = db.session.scalar(sa.select(Prompt).where(Prompt.code == "goodbye"))
    prompt_id = prompt.id
    page = client.get("/admin/telephony/prompts").get_data(as_text=True)
    assert f'src="/admin/telephony/prompts/{prompt_id}/preview.wav"' in page
    spoken = client.get(f"/admin/telephony/prompts/{prompt_id}/preview.wav")
    assert spoken.status_code == 200
    with wave.open(io.BytesIO(spoken.data)) as w:
        assert w.getframerate() == 8000 and w.getnframes() > 4000  # more than half a second of speech
    resp = client.post(f"/admin/telephony/prompts/{prompt_id}", {"name": "结束语", "voice": "en",
                                                                 "text": "Thank you for calling."})
    assert resp.status_code == 302
    db.session.expire_all()
    prompt = db.session.get(Prompt, prompt_id)
    assert prompt.voice == "en" and prompt.sha256 == text_key("Thank you for calling.", "en")
    empty = client.post(f"/admin/telephony/prompts/{prompt_id}", {"name": "结束语", "voice": "cmn", "text": ""})
    assert empty.status_code == 422 and "Give the text to speak, or upload a recording." in empty.get_data(as_text=True)
    bad = client.post("/admin/telephony/prompts", {"code": "Bad Code", "name": "", "voice": "fr", "text": "x"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="e-code"' in html and 'id="e-name"' in html and 'id="e-voice"' in html


def test_queue_settings_have_bounds_and_members_need_an_extension(browser, phones):
    client = browser("admin")
    queue_id = db.session.scalar(sa.select(CallQueue.id).where(CallQueue.code == "general"))
    page = client.get(f"/admin/telephony/queues/{queue_id}").get_data(as_text=True)
    assert "call_taker (8001)" in page and "reviewer (" not in page  # only users with an extension
    form = {"name": "综合服务", "strategy": "ring_all", "ring_seconds": "2", "max_wait_seconds": "600",
            "wrap_up_seconds": "45", "announce_seconds": "30", "service_level_seconds": "15",
            "hold_prompt": "queue_hold", "is_active": "1"}
    bad = client.post(f"/admin/telephony/queues/{queue_id}", form)
    assert bad.status_code == 422
    assert re.search(r'id="e-ring_seconds">Must be between 5 and 120', bad.get_data(as_text=True))
    assert client.post(f"/admin/telephony/queues/{queue_id}", {**form, "ring_seconds": "20"}).status_code == 302
    db.session.expire_all()
    queue = db.session.get(CallQueue, queue_id)
    assert (queue.strategy, queue.ring_seconds, queue.wrap_up_seconds, queue.service_level_seconds) == (
        Strategy.RING_ALL, 20, 45, 15)
    taker, expert, reviewer = (phones.users[k].id for k in ("call_taker", "expert", "reviewer"))
    members_url = f"/admin/telephony/queues/{queue_id}/members"
    assert client.post(members_url, {"user": str(taker), "level": "1"}).status_code == 302
    assert client.post(members_url, {"user": str(expert), "level": "2"}).status_code == 302
    no_phone = client.post(members_url, {"user": str(reviewer), "level": "1"})
    assert no_phone.status_code == 422 and "Choose an active user with an extension." in no_phone.get_data(as_text=True)
    too_high = client.post(members_url, {"user": str(taker), "level": "10"})
    assert too_high.status_code == 422
    assert client.post(members_url, {"user": str(taker), "level": "3"}).status_code == 302
    members = {m.user_id: m for m in db.session.scalars(sa.select(QueueMember).where(QueueMember.queue_id == queue_id))}
    assert {k: m.level for k, m in members.items()} == {taker: 3, expert: 2}
    client.post(f"/admin/telephony/queues/{queue_id}/members/{members[expert].id}/delete")
    assert db.session.scalar(sa.select(sa.func.count(QueueMember.id)).where(QueueMember.queue_id == queue_id)) == 1
    added = client.post("/admin/telephony/queues", {"code": "night", "name": "夜间"})
    assert added.status_code == 302
    assert db.session.scalar(sa.select(CallQueue).where(CallQueue.code == "night")).ring_seconds == 15


def test_extensions_are_unique_among_active_users(browser, phones):
    client = browser("admin")
    client.get("/admin/users")
    reviewer, handler, taker = (phones.users[k].id for k in ("reviewer", "handler", "call_taker"))
    taken = client.post(f"/admin/users/{reviewer}", {"extension": "8001"}, follow_redirects=True)
    assert "Extension 8001 belongs to call_taker." in taken.get_data(as_text=True)
    bad = client.post(f"/admin/users/{reviewer}", {"extension": "80a"}, follow_redirects=True)
    assert "2 to 20 digits" in bad.get_data(as_text=True)
    dept = client.post(f"/admin/users/{handler}", {"extension": "8300"}, follow_redirects=True)
    assert "Department staff do not take calls here." in dept.get_data(as_text=True)
    assert client.post(f"/admin/users/{reviewer}", {"extension": "8201"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, reviewer).extension == "8201"
    # a switched-off user's extension may go to someone else; switching them on again then waits
    db.session.add(Agent(user_id=taker, state=AgentState.READY))
    db.session.commit()
    client.post(f"/admin/users/{taker}", {"active": "0"})
    assert client.post(f"/admin/users/{reviewer}", {"extension": "8001"}).status_code == 302
    back = client.post(f"/admin/users/{taker}", {"active": "1"}, follow_redirects=True)
    assert "Extension 8001 now belongs to someone else" in back.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, taker).is_active is False
    # taking the extension away sends the agent offline
    client.post(f"/admin/users/{taker}", {"extension": ""})
    db.session.expire_all()
    assert db.session.get(User, taker).extension is None and db.session.get(Agent, taker).state == AgentState.OFFLINE
    # a new call taker gets an extension with the account, or no account at all
    made = client.post("/admin/users", {"username": "wang", "role": "call_taker", "password": "long-enough",
                                        "extension": "8001"})
    assert made.status_code == 422 and "belongs to reviewer" in made.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.username == "wang")) is None
    assert client.post("/admin/users", {"username": "wang", "role": "call_taker", "password": "long-enough",
                                        "extension": "8003"}).status_code == 302
    assert db.session.scalar(sa.select(User.extension).where(User.username == "wang")) == "8003"
