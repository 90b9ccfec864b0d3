"""The department inbox on a phone: its own orders, grouped, with the time left in words."""
from datetime import datetime, timedelta, timezone

from tests.hotline.inbox.conftest import section


def test_inbox_lists_exactly_the_departments_orders_to_sign_and_to_handle(browser, dispatched):
    to_sign = dispatched("cgj", subject="井盖缺失")
    in_hand = dispatched("cgj", signed_by="handler", subject="路灯不亮")
    elsewhere = dispatched("scj", subject="过期食品")
    html = browser("handler").get("/m").get_data(as_text=True)
    sign_part, handle_part = section(html, "to-sign"), section(html, "to-handle")
    assert to_sign in sign_part and "井盖缺失" in sign_part and in_hand not in sign_part
    assert in_hand in handle_part and "路灯不亮" in handle_part and to_sign not in handle_part
    assert elsewhere not in html and "过期食品" not in html
    # time left in words, and the colour named in text
    assert "left" in sign_part and "On time" in sign_part
    # the other department sees only its own
    other = browser("handler_b").get("/m").get_data(as_text=True)
    assert elsewhere in other and to_sign not in other and in_hand not in other


def test_group_headings_carry_their_counts_in_the_languages_own_brackets(browser, dispatched):
    dispatched("cgj")
    dispatched("cgj")
    handler = browser("handler")
    assert ">待签收（2）<" in handler.get("/m?lang=zh").get_data(as_text=True)   # full-width in Chinese
    assert "(2)<" in handler.get("/m?lang=en").get_data(as_text=True) and "（" not in handler.get("/m").get_data(
        as_text=True)


def test_inbox_is_sorted_by_deadline_and_says_when_overdue(browser, dispatched, clock):
    first = dispatched("cgj", signed_by="handler", type="consultation")  # 3 working days
    second = dispatched("cgj", signed_by="handler", type="complaint")    # 5 working days
    html = browser("handler").get("/m").get_data(as_text=True)
    part = section(html, "to-handle")
    assert part.index(first) < part.index(second)
    clock.advance(days=9)
    part = section(browser("handler").get("/m").get_data(as_text=True), "to-handle")
    assert "days overdue" in part and "Overdue" in part


def test_centre_users_are_refused_the_department_workspace(browser, dispatched):
    number = dispatched("cgj")
    client = browser("reviewer")
    assert client.get("/m").status_code == 403
    assert client.get(f"/m/tickets/{number}").status_code == 403
    assert browser("call_taker").get("/m").status_code == 403


def test_anonymous_users_are_sent_to_log_in(app, world):
    resp = app.test_client().get("/m")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_department_admin_sees_its_sub_units_orders_separately(browser, dispatched, api, world):
    street = dispatched("dc_s1", subject="楼道堆物")
    own = dispatched("dc", subject="区级事项")
    other = dispatched("cgj", subject="市级事项")
    html = browser("district_admin").get("/m").get_data(as_text=True)
    assert street in section(html, "sub-units") and street not in section(html, "to-sign")
    assert own in section(html, "to-sign") and own not in section(html, "sub-units")
    assert other not in html
    # a handler of the district does not get the sub-units group
    assert 'id="sub-units"' not in browser("district_handler").get("/m").get_data(as_text=True)


def test_time_left_in_words(app, world):
    from hotline.inbox.queries import time_left
    from workflows.deadlines import Unit
    now = datetime(2026, 6, 15, 2, 0, tzinfo=timezone.utc)              # Monday 10:00 in Beijing
    with app.test_request_context("/?lang=en"):
        assert time_left(now + timedelta(hours=3, minutes=5), now) == "3 hours left"
        assert time_left(now - timedelta(days=2, hours=1), now) == "2 calendar days overdue"
        # to Monday 06-22: seven calendar days, four working days (Friday 06-19 is the Dragon Boat Festival)
        assert time_left(now + timedelta(days=7), now, Unit.WORKING_DAYS) == "4 working days left"
        assert time_left(now + timedelta(days=7), now, Unit.MINUTES) == "7 calendar days left"
        assert time_left(now - timedelta(days=3), now, Unit.WORKING_DAYS) == "1 working day overdue"
        assert time_left(now + timedelta(minutes=1), now) == "1 minute left"
        assert time_left(None, now) == "No deadline"
    with app.test_request_context("/?lang=zh"):
        assert time_left(now + timedelta(days=7), now, Unit.WORKING_DAYS) == "还剩 4 个工作日"
        assert time_left(now + timedelta(days=7), now, Unit.MINUTES) == "还剩 7 个自然日"


def test_what_waits_on_the_centre_is_listed_apart(app, api, world, new_ticket):
    from tests.hotline.auth.test_login import _login
    returned, replied = new_ticket(subject="退回中心的工单"), new_ticket(subject="等待审核的工单")
    for number in (returned, replied):
        api("call_taker").action(number, "dispatch", {"department": world.dept("cgj").id})
    api("handler").action(returned, "return", {"reason": "不属于本单位"})
    api("handler").action(replied, "sign")
    api("handler").action(replied, "reply", {"content": "已处理"})
    client = app.test_client()
    _login(client, "handler", "password-123")
    page = client.get("/m").get_data(as_text=True)
    waiting = page[page.index('id="waiting"'):]
    assert returned in waiting and replied in waiting
    assert "退单待中心审核" in waiting or "Return under the centre" in waiting
    other = app.test_client()
    _login(other, "handler_b", "password-123")
    assert returned not in other.get("/m").get_data(as_text=True)


def test_each_group_folds_and_pages_the_nearest_deadline_first(browser, dispatched, monkeypatch):
    from hotline.inbox import queries
    monkeypatch.setattr(queries, "FOLD", 2)
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    orders = [dispatched("cgj", signed_by="handler", type=t) for t in ("suggestion", "consultation", "complaint")]
    nearest = [orders[1], orders[2], orders[0]]                     # 3, 5 and 13 working days
    client = browser("handler")
    part = section(client.get("/m").get_data(as_text=True), "to-handle")
    assert nearest[0] in part and nearest[1] in part and nearest[2] not in part
    assert part.index(nearest[0]) < part.index(nearest[1])
    assert '<a href="/m?group=to_handle">View all (3)</a>' in part
    first = client.get("/m?group=to_handle").get_data(as_text=True)
    second = client.get("/m?group=to_handle&page=2").get_data(as_text=True)
    assert nearest[0] in first and nearest[1] in first and nearest[2] not in first
    assert nearest[2] in second and nearest[0] not in second
    assert 'href="/m?group=to_handle&amp;page=2" rel="next"' in first
    assert client.get("/m?group=sub_units").status_code == 404       # a handler has no sub-units group
    assert client.get("/m?group=nonsense").status_code == 404


def test_sub_units_work_is_merged_across_units_nearest_deadline_first(browser, dispatched, monkeypatch):
    from hotline.inbox import queries
    monkeypatch.setattr(queries, "FOLD", 2)
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    # reply deadlines: consultation 3, complaint 5, suggestion 13 working days; three units of the district
    first = dispatched("dc_s2", type="consultation")
    second = dispatched("dc_s1", type="complaint")
    third = dispatched("dc_s1_c1", type="suggestion")
    fourth = dispatched("dc_s1", type="suggestion")
    client = browser("district_admin")
    part = section(client.get("/m").get_data(as_text=True), "sub-units")
    assert first in part and second in part and third not in part and fourth not in part
    assert part.index(first) < part.index(second)
    assert '<a href="/m?group=sub_units">View all (4)</a>' in part
    page1 = client.get("/m?group=sub_units").get_data(as_text=True)
    page2 = client.get("/m?group=sub_units&page=2").get_data(as_text=True)
    assert first in page1 and second in page1 and third not in page1
    assert third in page2 and fourth in page2 and first not in page2
    assert page2.index(third) < page2.index(fourth)             # the same deadline: the older assignment first
    # the street's admin sees its community's work, not the other street's
    street = section(browser("street_admin").get("/m").get_data(as_text=True), "sub-units")
    assert third in street and first not in street and second not in street


def test_a_group_larger_than_the_count_cap_says_at_least(browser, dispatched, monkeypatch):
    from hotline.core import counts
    from hotline.inbox import queries
    monkeypatch.setattr(counts, "CAP", 2)
    monkeypatch.setattr(queries, "FOLD", 1)
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    orders = [dispatched("cgj", signed_by="handler", type=t) for t in ("suggestion", "consultation", "complaint")]
    client = browser("handler")
    html = client.get("/m").get_data(as_text=True)
    assert "To handle <strong>2+</strong>" in " ".join(html.split())
    assert "View all (2+)" in section(html, "to-handle")
    page1 = client.get("/m?group=to_handle").get_data(as_text=True)
    assert "To handle (2+)" in page1 and 'href="/m?group=to_handle&amp;page=2" rel="next"' in page1
    page2 = client.get("/m?group=to_handle&page=2").get_data(as_text=True)
    assert orders[0] in page2 and orders[1] not in page2 and 'rel="next"' not in page2
    # under the cap the count is exact
    monkeypatch.setattr(counts, "CAP", 3)
    assert "View all (3)" in section(client.get("/m").get_data(as_text=True), "to-handle")
