"""/openapi.json and a small self-contained page at / (no CDN assets: clusters may be offline)."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from .openapi import build_spec

docs = Blueprint("docs", __name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ spec.info.title }} API</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .2rem}h2{margin-top:1.6rem}li{margin:.2rem 0}</style></head>
<body><h1>{{ spec.info.title }} <small>{{ spec.info.version }}</small></h1>
<p>{{ spec.info.description }}</p>
<p>Machine-readable description: <a href="openapi.json"><code>/openapi.json</code></a> (OpenAPI {{ spec.openapi }}).</p>
{% for path, item in spec.paths.items() %}{% for method, op in item.items() if method != "parameters" %}
<h2><code>{{ method.upper() }} {{ path }}</code></h2><p>{{ op.summary }}{% if op.description %}. {{ op.description }}{% endif %}</p>
<ul>{% for code, response in op.responses.items() %}<li><code>{{ code }}</code> {{ response.description }}</li>{% endfor %}</ul>
{% endfor %}{% endfor %}
</body></html>
"""


@docs.get("/openapi.json")
def openapi_json():
    return build_spec()


@docs.get("/")
def index():
    return render_template_string(_PAGE, spec=build_spec())
