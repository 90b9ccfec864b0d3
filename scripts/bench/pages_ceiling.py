"""The ceiling for scripts/bench/pages: a bare Flask hello page and a compiled 50-row template."""
from flask import Flask

app = Flask(__name__)

ROWS = [{"number": f"B{i:012d}", "subject": f"幸福路占道经营 {i}", "status": "办理中",
         "department": "东城区城管局", "due": "2026-12-05 18:00"} for i in range(50)]

PAGE = """<!doctype html><html><head><title>工单</title></head><body><table>
{% for r in rows %}<tr><td><a href="/tickets/{{ r.number }}">{{ r.number }}</a></td><td>{{ r.subject }}</td>
<td>{{ r.status }}</td><td>{{ r.department }}</td><td>{{ r.due }}</td></tr>
{% endfor %}</table></body></html>"""


#: Compiled once, as the app's file templates are (render_template_string would compile it on every call).
TEMPLATE = app.jinja_env.from_string(PAGE)


@app.get("/hello")
def hello():
    return "hello"


@app.get("/rows")
def rows():
    return TEMPLATE.render(rows=ROWS)
