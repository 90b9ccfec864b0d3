"""A citizen on a phone submits a request on the portal (answering the security question as a
person would, by reading it) and then checks its progress with the number and their phone."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_horizontal_scroll, check, field, tiny_png, zh

pytestmark = pytest.mark.e2e

PHONE = "13900001111"
QUESTION = re.compile(r"(\d+)\s*([+−-])\s*(\d+)")


def challenge_field(page):
    """The security question's input; its label holds the sum, e.g. "7 + 5 = ?"."""
    return page.get_by_label(QUESTION)


def answer_to(page) -> int:
    label = page.locator("label", has_text=QUESTION).inner_text()
    a, op, b = QUESTION.search(label).groups()
    return int(a) + int(b) if op == "+" else int(a) - int(b)


def citizen_step(page, name: str) -> None:
    check(page, name)
    assert_no_horizontal_scroll(page)


def test_citizen_submits_a_request_and_checks_its_progress(pages):
    page = pages.new(width=375, height=812, mobile=True)
    page.goto("/portal")
    citizen_step(page, "portal-form")

    field(page, "Kind of request").select_option("complaint")
    field(page, "Category").select_option("1001")
    field(page, "Description").fill("和平路菜市场门口每天早上摊贩占道，电动车无法通行，希望尽快处理。")
    field(page, "Address or place").fill("东城区和平路菜市场东门")
    field(page, "Photos (optional)").set_input_files(
        {"name": "street.png", "mimeType": "image/png", "buffer": tiny_png()})
    field(page, "Your name (optional)").fill("李四")
    field(page, "Phone number").fill(PHONE)

    # a wrong answer: the form comes back saying so next to the question, with a new question
    challenge_field(page).fill(str(answer_to(page) + 1))
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Submit request")).click()
    expect(challenge_field(page)).to_have_attribute("aria-invalid", "true")
    expect(field(page, "Description")).to_have_value(re.compile("和平路菜市场"))
    citizen_step(page, "portal-wrong-answer")

    field(page, "Photos (optional)").set_input_files(
        {"name": "street.png", "mimeType": "image/png", "buffer": tiny_png()})
    challenge_field(page).fill(str(answer_to(page)))
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Submit request")).click()
    assert page.url.endswith("/portal/submitted"), page.url
    number = field(page, "Order number, to copy").input_value()
    assert re.fullmatch(r"\d{14}", number), number
    expect(page.get_by_role("status")).to_be_visible()
    citizen_step(page, "portal-submitted")

    # later: check the progress with the number and the phone
    with page.expect_navigation():
        page.get_by_role("link", name=zh("Check progress")).last.click()
    expect(field(page, "Order number")).to_have_value(number)
    field(page, "Phone number").fill(PHONE)
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Check progress")).click()
    order = page.get_by_role("region", name=re.compile(number))
    expect(order).to_be_visible()
    expect(order).to_contain_text("和平路菜市场门口")
    expect(order).to_contain_text(zh("Received"))  # the citizen's word for a registered order
    citizen_step(page, "portal-track")

    # a wrong phone reveals nothing, and says what to check
    field(page, "Phone number").fill("13900002222")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Check progress")).click()
    expect(page.get_by_role("region", name=re.compile(number))).to_have_count(0)
    expect(field(page, "Phone number")).to_have_attribute("aria-invalid", "true")
    citizen_step(page, "portal-track-wrong-phone")
