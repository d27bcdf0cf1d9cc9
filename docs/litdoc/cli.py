# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""The `litdoc` command: parse the arguments, load the config, call build / serve / check.

Flags override `[tool.litdoc]` in `pyproject.toml`, which overrides litdoc's defaults.
Exit codes: 0 success, 1 a user's mistake or a failed page/check (one `path:line: reason` line each,
never a traceback unless `--traceback`), 2 bad command-line usage (argparse's own), 130 interrupted
(Ctrl-C: one line; the next build repairs the output, see litdoc.store).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from litdoc import __version__
from litdoc.config import MATH_MODES, Config, load_config, read_table
from litdoc.model import LitdocError, forget_interrupt_in_string_code


def _config_flags() -> argparse.ArgumentParser:
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("site configuration (overrides [tool.litdoc] in pyproject.toml)")
    group.add_argument(
        "--project",
        type=Path,
        default=Path("."),
        help="folder holding pyproject.toml; relative paths are taken from it (default: .)",
    )
    group.add_argument("--source", help="the annotated source tree")
    group.add_argument("--output", help="the folder to write the site into")
    group.add_argument("--title", help="the site's name")
    group.add_argument("--base-url", dest="base_url", help="the site's absolute URL (canonical links, sitemap)")
    group.add_argument("--repo-url", dest="repo_url", help="URL prefix of source files in the repository")
    group.add_argument("--templates", help="folder of templates overriding litdoc's theme")
    group.add_argument("--math", choices=MATH_MODES, help="render math to MathML at build time, or with MathJax")
    group.add_argument("--mathjax-url", dest="mathjax_url", help="where pages load MathJax from (math = mathjax)")
    group.add_argument(
        "--cache", help="folder where builds keep what saves work next time (hashes, formulas); '' for none"
    )
    group.add_argument("--traceback", action="store_true", help="show tracebacks of litdoc's own errors")
    return flags


def _build_flags() -> argparse.ArgumentParser:
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder that litdoc did not make (its files are still never overwritten)",
    )
    flags.add_argument("-j", "--jobs", type=int, default=0, help="worker processes (default: one per CPU)")
    return flags


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litdoc",
        description="Build a side-by-side literate-programming site from an annotated Python source tree.",
    )
    parser.add_argument("--version", action="version", version=f"litdoc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{build,serve,check}")
    config, build = _config_flags(), _build_flags()
    commands.add_parser("build", parents=[config, build], help="build the site")
    serve = commands.add_parser(
        "serve", parents=[config, build], help="serve the site on 127.0.0.1, rebuilding and reloading pages on change"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    serve.add_argument(
        "--interval", type=float, default=0.5, help="seconds between checks for changed files (0.01 to 3600)"
    )
    commands.add_parser("check", parents=[config], help="check every internal link, anchor and asset of the output")
    return parser


def config_from(args: argparse.Namespace) -> Config:
    keys = ("source", "output", "title", "base_url", "repo_url", "templates", "math", "mathjax_url", "cache")
    return load_config(args.project, {key: getattr(args, key) for key in keys})


def _run(args: argparse.Namespace) -> int:
    from litdoc.build import BuildOptions, build_site

    if args.command == "check":
        from litdoc.check import check_site

        # Checking needs only the output folder, so a missing source folder is no error here.
        project = args.project.resolve()
        output_name = args.output or read_table(project / "pyproject.toml").get("output")
        if not output_name:
            raise LitdocError("litdoc check", 0, "no 'output' given: set it in [tool.litdoc] or pass --output")
        output = (project / output_name).resolve()
        problems = check_site(output, project)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"litdoc check: {len(problems)} problems in {output}", file=sys.stderr)
        return 1 if problems else 0

    options = BuildOptions(force=args.force, jobs=args.jobs, traceback=args.traceback)
    if args.command == "serve":
        from litdoc.serve import serve

        serve(lambda: config_from(args), options, port=args.port, interval=args.interval)
        return 0
    report = build_site(config_from(args), options)
    for line in report.warnings:
        print(line, file=sys.stderr)
    for line in report.failed:
        print(line, file=sys.stderr)
    for rel in report.kept:
        print(f"{rel}: edited since litdoc wrote it, so it was left in place (no longer managed)", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


def _check_numbers(args: argparse.Namespace) -> None:
    """Values argparse's types let through but no command can use: one line each, exit 1."""
    if getattr(args, "jobs", 0) < 0:
        raise LitdocError("command line", 0, f"-j/--jobs must be 0 (one per CPU) or more, not {args.jobs}")
    if args.command == "serve":
        if not 0 <= args.port <= 65535:
            raise LitdocError("command line", 0, f"--port must be 0 (any free port) to 65535, not {args.port}")
        from litdoc.serve import check_interval

        check_interval(args.interval)


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        _check_numbers(args)
        return _run(args)
    except LitdocError as error:
        from litdoc.build import message

        print(message(error), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        forget_interrupt_in_string_code()
        # The store's journal covers whatever this build had written (see litdoc.store).
        print("litdoc: interrupted; the next build repairs the output", file=sys.stderr)
        return 130
    except Exception as error:  # litdoc's own bug: one line, the traceback only when asked for
        if args.traceback:
            raise
        print(
            f"litdoc: internal error: {type(error).__name__}: {error} (please report; --traceback shows where)",
            file=sys.stderr,
        )
        return 1
