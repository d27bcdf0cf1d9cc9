/* litdoc's page script. The page works without it; it adds: the theme toggle, the outline opened on
   wide screens, folded answers opened for print, search (`/` focuses the box), copy buttons and highlighting of an identifier's uses.
   No network: the search index is a script file of the site, loaded on first use, so it works from
   file:// as well as from any static host. */
(function () {
  "use strict";
  var script = document.currentScript;
  var root = (script && script.getAttribute("data-root")) || ".";
  var doc = document.documentElement;

  // -- theme: system -> light -> dark -> system ------------------------------------------------
  var THEMES = ["system", "light", "dark"];
  var SYMBOLS = {system: "\u25D0", light: "\u2600", dark: "\u263E"};
  function storedTheme() {
    try { return localStorage.getItem("litdoc-theme") || "system"; } catch (e) { return "system"; }
  }
  function applyTheme(theme, button) {
    if (theme === "system") { delete doc.dataset.theme; } else { doc.dataset.theme = theme; }
    if (button) {
      button.setAttribute("aria-label", "Colour theme: " + theme + " (change theme)");
      button.title = "Colour theme: " + theme;
      button.textContent = SYMBOLS[theme];
    }
  }
  var toggle = document.getElementById("theme-toggle");
  if (toggle) {
    applyTheme(storedTheme(), toggle);
    toggle.addEventListener("click", function () {
      var next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
      try { localStorage.setItem("litdoc-theme", next); } catch (e) { /* private mode: this page only */ }
      applyTheme(next, toggle);
    });
  }

  // -- outline: open beside the page on wide screens ------------------------------------------
  var outline = document.getElementById("outline");
  if (outline && window.matchMedia("(min-width: 1400px)").matches) { outline.open = true; }

  // -- print: folded answers and appendices open on paper (the browser's print, or print media
  //    emulated), and close again after -------------------------------------------------------------
  var openedForPrint = [];
  function printOpen(printing) {
    if (printing) {
      Array.prototype.forEach.call(document.querySelectorAll("details.exercise-answer:not([open]), details.appendix:not([open])"), function (d) {
        d.open = true;
        openedForPrint.push(d);
      });
    } else {
      openedForPrint.forEach(function (d) { d.open = false; });
      openedForPrint = [];
    }
  }
  window.addEventListener("beforeprint", function () { printOpen(true); });
  window.addEventListener("afterprint", function () { printOpen(false); });
  var printMedia = window.matchMedia("print");
  if (printMedia.addEventListener) { printMedia.addEventListener("change", function (e) { printOpen(e.matches); }); }

  // -- copy buttons: the code without its line numbers -----------------------------------------
  function codeText(pre) {
    var copy = pre.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll(".lineno"), function (n) { n.remove(); });
    return copy.textContent;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".code .highlight pre, .docs pre.highlight"), function (pre) {
    var box = pre.closest(".code") || pre;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy this code");
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      var text = codeText(pre);
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
      } else { fallbackCopy(text); done(); }
    });
    if (box === pre) { pre.parentNode.insertBefore(button, pre); pre.parentNode.style.position = "relative"; }
    else { box.appendChild(button); }
  });
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text; area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  // -- identifiers: a click marks every use of the name on the page -----------------------------
  var NAME_CLASSES = ["n", "nf", "nc", "nb", "bp", "nv", "nn"];
  function isName(el) {
    return el && el.tagName === "SPAN" && NAME_CLASSES.indexOf(el.className) >= 0 && el.closest(".highlight");
  }
  var marked = [];
  document.addEventListener("click", function (event) {
    var target = event.target;
    marked.forEach(function (el) { el.classList.remove("ident-mark"); });
    marked = [];
    if (!isName(target)) { return; }
    var name = target.textContent;
    Array.prototype.forEach.call(document.querySelectorAll(".highlight span"), function (el) {
      if (el.textContent === name && isName(el)) { el.classList.add("ident-mark"); marked.push(el); }
    });
  });

  // -- "Cite this page": the URL names the section the reader is on ----------------------------
  function citeAnchor() {
    Array.prototype.forEach.call(document.querySelectorAll(".cite .bibtex code"), function (code, index) {
      if (index > 0) { return; }
      code.textContent = code.textContent.replace(/(url\s*= \{[^#}]*)(#[^}]*)?\}/, function (all, url) {
        return url + (location.hash || "") + "}";
      });
    });
  }
  window.addEventListener("hashchange", citeAnchor);
  citeAnchor();

  // -- search --------------------------------------------------------------------------------
  var box = document.getElementById("search-box");
  var list = document.getElementById("search-results");
  if (!box || !list) { return; }
  var index = null, waiting = null;
  // Loads the index once, on first use; what asks while it loads runs when it arrives (the last ask wins).
  function load(then) {
    if (index) { then(); return; }
    if (window.litdocSearchIndex) { index = prepare(window.litdocSearchIndex); then(); return; }
    var first = waiting === null;
    waiting = then;
    if (!first) { return; }
    var tag = document.createElement("script");
    tag.src = root + "/_litdoc/search-index.js";
    tag.onload = function () { index = prepare(window.litdocSearchIndex || {pages: []}); waiting(); };
    tag.onerror = function () { list.innerHTML = "<li>The search index is missing.</li>"; list.hidden = false; };
    document.head.appendChild(tag);
  }
  // Each entry: [page number, anchor, title, text]; searched in lower case, title matches first.
  function prepare(data) {
    var entries = [];
    data.pages.forEach(function (page, number) {
      entries.push({page: number, anchor: "", title: page[1], text: page[1], hay: page[1].toLowerCase(), rank: 0});
      page[2].forEach(function (s) {
        entries.push({page: number, anchor: s[0], title: s[1], text: s[2],
                      hay: (s[1] + " " + s[2]).toLowerCase(), rank: 1});
      });
    });
    return {pages: data.pages, entries: entries};
  }
  function escapeHtml(text) {
    return text.replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]; });
  }
  function search(query) {
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) { return []; }
    var found = [];
    for (var i = 0; i < index.entries.length; i++) {
      var entry = index.entries[i];
      var ok = true;
      for (var w = 0; w < words.length; w++) { if (entry.hay.indexOf(words[w]) < 0) { ok = false; break; } }
      if (!ok) { continue; }
      var inTitle = entry.title.toLowerCase().indexOf(words[0]) >= 0 ? 0 : 1;
      found.push([entry.rank + 2 * inTitle, i]);
      if (found.length > 400) { break; }
    }
    found.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    return found.slice(0, 30).map(function (f) { return index.entries[f[1]]; });
  }
  function snippet(text, word) {
    var at = Math.max(0, text.toLowerCase().indexOf(word) - 40);
    return (at ? "\u2026" : "") + text.slice(at, at + 140);
  }
  function show() {
    var query = box.value.trim();
    if (!query) { list.hidden = true; list.innerHTML = ""; return; }
    load(function () {
      var results = search(query);
      var first = query.toLowerCase().split(/\s+/)[0];
      list.innerHTML = results.length ? results.map(function (entry) {
        var page = index.pages[entry.page];
        var href = root + "/" + page[0] + (entry.anchor ? "#" + entry.anchor : "");
        return "<li><a href=\"" + escapeHtml(href) + "\"><span class=\"result-page\">" + escapeHtml(page[1]) + "</span>" +
          escapeHtml(entry.title) + (entry.rank ? "<span class=\"result-text\">" + escapeHtml(snippet(entry.text, first)) + "</span>" : "") +
          "</a></li>";
      }).join("") : "<li><span class=\"result-text\" style=\"padding:6px 12px;display:block\">No results</span></li>";
      list.hidden = false;
    });
  }
  box.addEventListener("input", show);
  box.addEventListener("focus", function () { load(function () {}); });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { box.value = ""; show(); }
    if (event.key === "Enter" || event.key === "ArrowDown") {
      var link = list.querySelector("a");
      if (link) { event.preventDefault(); if (event.key === "Enter") { link.click(); } else { link.focus(); } }
    }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at >= 0 && at + 1 < links.length) { event.preventDefault(); links[at + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); if (at > 0) { links[at - 1].focus(); } else { box.focus(); } }
    if (event.key === "Escape") { box.focus(); }
  });
  document.addEventListener("keydown", function (event) {
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.isContentEditable);
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!list.contains(event.target) && event.target !== box) { list.hidden = true; }
  });
})();
