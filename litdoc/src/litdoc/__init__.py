"""litdoc: turn an annotated Python source tree into a static side-by-side site.

    litdoc build      # render [tool.litdoc] source into output
    litdoc serve      # serve the output on 127.0.0.1, rebuilding and reloading on change
    litdoc check      # verify every internal link, anchor and asset of the output

The pipeline (see each module): parse -> markup / highlight -> pages (theme) -> build.
"""

__version__ = "0.2.0"
