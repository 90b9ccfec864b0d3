"""Reading a citizen's text: a survey answer only when the whole message is one."""
import pytest

from workflows import sms_intake


@pytest.mark.parametrize("text, answer", [
    ("1", "1"), ("１", "1"), (" 2 ", "2"), ("3。", "3"), ("回复1", "1"), ("【2】", "2"),
    ("满意", "1"), ("基本满意", "2"), ("不满意", "3"), ("非常不满意！", "3"),
    ("1号楼漏水", None), ("12", None), ("4", None), ("", None), ("我不满意你们的处理，路灯还是不亮", None),
])
def test_survey_answers(text, answer):
    assert sms_intake.survey_answer(text) == answer


def test_an_order_number_named_in_a_message_is_found_even_in_full_width_digits():
    assert sms_intake.mentioned_number("关于工单20260615000012的补充") == "20260615000012"
    assert sms_intake.mentioned_number("工单２０２６０６１５０００００３还没人管") == "20260615000003"
    assert sms_intake.mentioned_number("电话13812345678") is None
    assert sms_intake.mentioned_number("320260615000012123") is None


def test_a_subject_is_the_first_line_shortened():
    assert sms_intake.subject_of("路灯坏了\n在幸福路8号") == "路灯坏了"
    assert sms_intake.subject_of("长" * 50) == "长" * 39 + "…"
