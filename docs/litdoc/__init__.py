# To run this file, first install the code it imports:  pip install 'litdoc @ git+https://github.com/labml-nn/annotated#subdirectory=litdoc'
"""
---
title: litdoc, annotated
summary: The source of litdoc, the literate-programming site generator, rendered by itself: one page per stage of its pipeline.
---

# litdoc, annotated

litdoc turns an annotated Python source tree into a static site of side-by-side pages: the notes
(comments and docstrings, in Markdown with TeX math) beside the code they explain. These pages are
litdoc's own source, rendered by litdoc; [its README](https://github.com/labml-nn/annotated/tree/main/litdoc)
says how to install, configure and use it.

```
litdoc build      # render [tool.litdoc] source into output
litdoc serve      # serve the output on 127.0.0.1, rebuilding and reloading on change
litdoc check      # verify every internal link, anchor and asset of the output
```

## The pipeline

Data flows one way, through small typed objects ([`model`](model.py)):

```
file.py --parse--> [Section] --markup (notes) / highlight (code)--> Page --theme--> file.html
source tree --site--> [Page] + index pages, breadcrumbs, sitemap --build--> store --> output folder
```

1. [**parse**](parse.py) cuts a Python file into sections of notes and code with Python's own
   `tokenize` and `ast`, keeping every line's number, so the code column shows every line Python runs.
2. [**delimiters**](delimiters.py) finds the math in the notes with MathJax's own rules, in linear
   time, and [**markup**](markup.py) renders the notes: CommonMark by markdown-it-py, with math cut out
   before Markdown can touch it and turned into MathML at build time by Temml
   ([**math_assets**](math_assets.py) holds the Temml and font files the wheel ships).
3. [**highlight**](highlight.py) lexes each file once with Pygments and splits the tokens back into
   the sections.
4. [**pages**](pages.py) puts a page together and renders the theme's Jinja2 templates;
   [**site**](site.py) knows the tree: output paths, titles, breadcrumbs, links, the sitemap.
5. [**build**](build.py) plans which outputs are stale and renders them in parallel; the output
   folder itself belongs to [**store**](store.py), which makes any interrupted build repairable by
   the next one.
6. [**check**](check.py) verifies every link of a built site, [**serve**](serve.py) serves it and
   rebuilds on change, [**config**](config.py) reads `[tool.litdoc]`, and [**cli**](cli.py) is the
   thin command on top.

Nothing runs on import, and no stage reaches back into an earlier one.
"""

__version__ = "0.2.0"
