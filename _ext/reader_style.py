"""The course's own CSS and accessibility fixes, added to every page of the HTML site.

``_ext/static/rnnbook.css`` keeps pages whole on a 390-px phone (equation numbers
beside or above their equation, never on it; long inline code that breaks; wide
tables that scroll in their own box). ``_ext/static/rnnbook-a11y.js`` gives three
controls of the theme an accessible name that matches what they show. The browser
tests (tests/site/test_phone_and_a11y.py) check both, with axe-core.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict:
    # The static folder is registered by offline_badge (the same _ext/static).
    app.add_css_file("rnnbook.css")
    app.add_js_file("rnnbook-a11y.js", defer="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
