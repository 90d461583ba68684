"""The yardstick for benchmarks/stack_ratio.py: one FastAPI route rendering a small Jinja2
template, with the same compression as Phonlap, served by the same uvicorn.

    uvicorn --factory benchmarks.trivial_app:create_app
"""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import DictLoader, Environment, select_autoescape
from starlette.middleware.gzip import GZipMiddleware

PAGE = """<!doctype html>
<html lang="th"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul></body>
</html>"""

env = Environment(loader=DictLoader({"page.html": PAGE}), autoescape=select_autoescape())


def create_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.get("/")
    def page() -> HTMLResponse:
        items = ["ภูเก็ต", "กระบี่", "แม่ฮ่องสอน"]
        return HTMLResponse(env.get_template("page.html").render(title="ผลลัพธ์", items=items))

    return app


def main() -> None:
    print(__doc__)


if __name__ == "__main__":
    main()
