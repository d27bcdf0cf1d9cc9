# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The theme's templates (the project's `templates` folder first, then litdoc's own `theme/`), and the one
place where a template's failure becomes a `path:line: reason` for the user.

Templates are the trusted part of a site (configuration, not content): nothing from a source is ever
rendered as a template; a page's text reaches them as data, autoescaped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2

from litdoc.config import Config
from litdoc.model import LitdocError, Page

__all__ = [
    "LISTING_TEMPLATE",
    "PAGE_TEMPLATE",
    "THEME_SOURCE",
    "Theme",
    "make_environment",
    "template_dirs",
    "templates_fingerprint",
]

THEME_SOURCE = Path(__file__).parent / "theme"  # litdoc's own templates and static files
PAGE_TEMPLATE, LISTING_TEMPLATE = "page.html", "listing.html"


def template_dirs(config: Config) -> list[Path]:
    """The template search path: the project's overrides first, then litdoc's theme."""
    dirs = [config.templates] if config.templates else []
    return dirs + [THEME_SOURCE]


def make_environment(config: Config) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs(config)])
    # StrictUndefined: a misspelt variable in a template is an error, not a silently empty string.
    return jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=False
    )


def templates_fingerprint(config: Config) -> str:
    """A hash of every file that can shape a page's HTML through the theme (templates and static files)."""
    digest = hashlib.sha256()
    for position, folder in enumerate(template_dirs(config)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{position}:{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _template_frame(tb: object) -> tuple[str, int] | None:
    """(file, line) of the innermost template frame of a traceback: jinja2 rewrites the frames of
    template code to carry the template's file name and line."""
    found = None
    while tb is not None:
        frame = tb.tb_frame  # type: ignore[attr-defined]
        if "__jinja_exception__" in frame.f_globals or "__jinja_template__" in frame.f_globals:
            found = (frame.f_code.co_filename, tb.tb_lineno)  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


def _failing_template(tb: object) -> str | None:
    """The template file a loader was reading when it failed (the `filename` local of jinja2's loader)."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_locals.get("filename")  # type: ignore[attr-defined]
        if isinstance(filename, str):
            found = filename
        tb = tb.tb_next  # type: ignore[attr-defined]
    return found


class Theme:
    """The templates of one site, loaded once per process."""

    def __init__(self, config: Config):
        self.config = config
        self.environment = make_environment(config)

    def compile_all(self) -> None:
        """Compile every template of the theme now, so that processes forked from this one (a build's
        workers) start with them compiled. A template that does not compile is left for `render`, which
        reports it as it always does, on the page that uses it."""
        names = self.environment.list_templates(
            filter_func=lambda name: name.endswith(".html") and not name.startswith("static/")
        )
        for name in names:
            try:
                self.environment.get_template(name)
            except Exception:  # reported by render, where the page that uses it is known
                continue

    def render(self, name: str, page: Page, path: str, **context: object) -> str:
        """Template `name` with `page` (and `site`, and whatever else the caller passes); any failure is
        a `LitdocError` naming the template's file and line, or the page (`path`) being rendered."""
        try:
            template = self.environment.get_template(name)
            return template.render(page=page, site=self.config, **context)
        except jinja2.TemplateSyntaxError as error:
            raise LitdocError(
                error.filename or error.name or name, error.lineno or 1, f"template error: {error.message}"
            ) from None
        except jinja2.TemplateNotFound as error:
            searched = ", ".join(str(d) for d in template_dirs(self.config))
            raise LitdocError(path, 1, f"template '{error.name}' not found (searched {searched})") from None
        except jinja2.TemplateError as error:
            raise LitdocError(path, 1, f"template error in {name}: {error}") from None
        except UnicodeDecodeError as error:  # the loader reads templates as UTF-8
            raise LitdocError(
                _failing_template(error.__traceback__) or name,
                1,
                f"template is not UTF-8 (byte 0x{error.object[error.start]:02x})",
            ) from None
        except Exception as error:  # `{{ 1/0 }}`: an error while the template runs is the template's
            where = _template_frame(error.__traceback__)
            raise LitdocError(
                where[0] if where else name,
                where[1] if where else 1,
                f"template error: {type(error).__name__}: {error} (rendering {path})",
            ) from None
