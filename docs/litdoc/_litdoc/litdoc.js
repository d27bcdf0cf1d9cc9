/* litdoc's page script. The page works without it; it adds: the theme toggle, the outline opened on
   wide screens, folded answers opened for print, search (`/` focuses the box), copy buttons and highlighting of an identifier's uses.
   No network: the search index is script files of the site, loaded as a query needs them, so it works
   from file:// as well as from any static host. */
(function () {
  "use strict";
  var script = document.currentScript;
  // The site's root, from the page's folder ("" on the 404 page without a base URL: the host's root).
  var root = script && script.hasAttribute("data-root") ? script.getAttribute("data-root") : ".";
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
  var wide = window.matchMedia("(min-width: 1400px)");
  // The sidebar's lists (the chapter tree, the outline): open beside the page on wide screens; below
  // that they float as buttons, one list open at a time, folded again when a link in it is chosen.
  var lists = [document.getElementById("chapters"), outline].filter(Boolean);
  lists.forEach(function (list) {
    if (wide.matches) { list.open = true; }
    list.addEventListener("toggle", function () {
      if (list.open && !wide.matches) { lists.forEach(function (other) { if (other !== list) { other.open = false; } }); }
    });
    list.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("a") && !wide.matches) { list.open = false; }
    });
  });

  // -- outline: the entry of the section in view is aria-current="location" ----------------------
  // The section in view is the last one whose start is above a line near the window's top (15% down).
  // An IntersectionObserver whose box is everything above that line (the window's top, grown far
  // upwards) sees each start cross it, however far a jump goes, so the check runs then and never on
  // every scroll event.
  if (outline) {
    var entries = Array.prototype.slice.call(outline.querySelectorAll("a[href^='#']")).map(function (link) {
      return {link: link, target: document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)))};
    }).filter(function (entry) { return entry.target; });
    var currentLink = null;
    var markCurrent = function () {
      // At the end of the page the last sections may never reach that line: there, the last start in the window.
      var end = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      var line = end ? window.innerHeight : window.innerHeight * 0.15, found = null;
      entries.forEach(function (entry) { if (entry.target.getBoundingClientRect().top <= line) { found = entry.link; } });
      if (found === currentLink) { return; }
      if (currentLink) { currentLink.removeAttribute("aria-current"); }
      if (found) { found.setAttribute("aria-current", "location"); }
      currentLink = found;
    };
    if (window.IntersectionObserver) {
      var crossings = new IntersectionObserver(markCurrent, {rootMargin: "1000000px 0px -85% 0px"});
      entries.forEach(function (entry) { crossings.observe(entry.target); });
      var last = document.querySelector("body > .layout > #container > :last-child");
      if (last) { new IntersectionObserver(markCurrent, {threshold: [0, 1]}).observe(last); }
    } else {
      window.addEventListener("scroll", markCurrent, {passive: true});
    }
    window.addEventListener("hashchange", markCurrent);
    markCurrent();
  }

  // -- boxes that may scroll: a Tab stop only while they do ------------------------------------
  // The HTML gives every box that may scroll sideways (a code region, a fenced block, a table, long
  // math, the citation) tabindex=0, so that without the script the keyboard reaches each one. Here a
  // box is a Tab stop only while its content overflows it (checked at load, when fonts arrive, and
  // whenever its size changes: a resized window, an opened <details>); the others get tabindex=-1
  // (still focusable by a script or a link, skipped by Tab), so Tab goes from link to link.
  var scrollers = Array.prototype.slice.call(document.querySelectorAll(
    ".code[tabindex], .docs pre[tabindex], .table-wrap[tabindex], .math[tabindex]"));
  function overflows(el) {
    var style = getComputedStyle(el);
    return (/auto|scroll/.test(style.overflowX) && el.scrollWidth > el.clientWidth) ||
      (/auto|scroll/.test(style.overflowY) && el.scrollHeight > el.clientHeight);
  }
  // A box inside a folded <details> keeps what it has (it is not laid out: its sizes mean nothing) until
  // the details opens.
  function folded(el) { return !!el.closest("details:not([open])"); }
  function updateTabStops(boxes) {
    boxes.forEach(function (el) {
      if (folded(el)) { return; }
      var stop = overflows(el) ? 0 : -1;
      if (el.tabIndex !== stop) { el.tabIndex = stop; }
    });
  }
  updateTabStops(scrollers);
  if (window.ResizeObserver) {
    var sizes = new ResizeObserver(function (entries) { updateTabStops(entries.map(function (e) { return e.target; })); });
    scrollers.forEach(function (el) { sizes.observe(el); });
  }
  window.addEventListener("resize", function () { updateTabStops(scrollers); });
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(function () { updateTabStops(scrollers); }); }
  window.addEventListener("load", function () { updateTabStops(scrollers); });
  document.addEventListener("toggle", function (event) {
    if (event.target.open) { updateTabStops(scrollers.filter(function (el) { return event.target.contains(el); })); }
  }, true);

  // -- math typography as TeX sets it (build-time MathML, laid out by the browser) ----------------
  // 1. In a script (a subscript, a superscript: math-depth above 0), TeX puts no space around binary
  //    operators and relations (t−1, not t − 1); the browser's operator dictionary spaces them as on the
  //    main line. An operator there that the formula gave no spacing of its own gets none.
  // 2. Chromium sizes a radical for the widest of its font's surd glyphs and draws the one that fits,
  //    leaving the difference as a gap after it (a third of an em for a small one); a negative end
  //    margin of that gap, in ems, closes it.
  // Math in a folded <details> is left alone until it opens (it is not laid out).
  function mathTypography(root) {
    var scripted = [], gaps = [];
    Array.prototype.forEach.call(root.querySelectorAll("math mo"), function (mo) {
      if (mo.hasAttribute("lspace") || mo.hasAttribute("rspace") || mo.hasAttribute("largeop") ||
          mo.hasAttribute("movablelimits") || folded(mo) || !(parseInt(getComputedStyle(mo).mathDepth, 10) > 0)) { return; }
      scripted.push(mo);
    });
    Array.prototype.forEach.call(root.querySelectorAll("math msqrt, math mroot"), function (radical) {
      if (radical.style.marginInlineEnd || folded(radical)) { return; }  // done, or not laid out
      var base = radical.tagName.toLowerCase() === "mroot" ? [radical.firstElementChild] : Array.prototype.slice.call(radical.children);
      var right = Math.max.apply(null, base.filter(Boolean).map(function (el) { return el.getBoundingClientRect().right; }));
      var gap = radical.getBoundingClientRect().right - right, size = parseFloat(getComputedStyle(radical).fontSize);
      if (base.length && gap > 0.5 && size && gap / size < 0.5) { gaps.push([radical, gap / size]); }
    });
    scripted.forEach(function (mo) { mo.setAttribute("lspace", "0em"); mo.setAttribute("rspace", "0em"); });
    gaps.forEach(function (pair) { pair[0].style.marginInlineEnd = (-pair[1]).toFixed(3) + "em"; });
  }
  if (document.querySelector("math")) {
    var typeset = function () {
      mathTypography(document);
      document.addEventListener("toggle", function (event) { if (event.target.open) { mathTypography(event.target); } }, true);
    };
    if (document.fonts && document.fonts.ready) { document.fonts.ready.then(typeset); } else { typeset(); }
  }

  // -- print: folded answers, appendices and the citation open on paper (the browser's print, or print media
  //    emulated), and close again after -------------------------------------------------------------
  var openedForPrint = [];
  function printOpen(printing) {
    if (printing) {
      Array.prototype.forEach.call(document.querySelectorAll("details.exercise-answer:not([open]), details.appendix:not([open]), details.cite:not([open])"), function (d) {
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
  // The index is split (litdoc/search.py): a manifest, postings shards by word range and text chunks
  // by entry range; a query loads the manifest, the shards its words fall in and the chunks of the
  // results it shows. Every string from the index reaches the page as text (textContent), never as HTML.
  var box = document.getElementById("search-box");
  var panel = document.getElementById("search-panel");
  var list = document.getElementById("search-results");
  var count = document.getElementById("search-count");
  var status = document.getElementById("search-status");
  if (!box || !panel || !list || !count) { return; }
  var PAGE = 30;               // results shown at once; "Show more" adds as many
  var SHARDS_PER_WORD = 6;     // a query word loads at most this many postings shards
  // A page's title, its summary (which says what the whole page is about), a heading or a definition,
  // then text; a word only in the title of the entry's page counts a little.
  var WEIGHT = {page: 100, summary: 25, heading: 20, text: 2, inherited: 0.5};
  var QUALITY = {exact: 1, prefix: 0.5, fuzzy: 0.3};
  var WORD = /[\p{L}\p{N}_]+/gu; // as search.py's tokens()
  function words(text) { return text.normalize("NFKC").toLowerCase().match(WORD) || []; }

  var files = {};  // name -> {done, failed, data, waiters}
  var manifest = null;
  window.litdocSearchData = function (name, data) {
    var file = files[name] || (files[name] = {waiters: []});
    file.data = data; file.done = true;
    file.waiters.splice(0).forEach(function (waiter) { waiter(); });
  };
  function fileUrl(name) {
    if (name === "index") { return root + "/_litdoc/search-index.js"; }
    return root + "/_litdoc/search/" + name + ".js?v=" + encodeURIComponent(manifest.version);
  }
  // Loads the named files (each once, all at the same time), then calls `then`, or `failed` if one is missing.
  function need(names, then, failed) {
    var left = names.length, broken = false;
    if (!left) { then(); return; }
    function one() { if (--left === 0 && !broken) { then(); } }
    names.forEach(function (name) {
      var file = files[name];
      if (file && file.done) { one(); return; }
      if (file && file.failed) { broken = true; failed(); return; }
      if (!file) {
        file = files[name] = {waiters: []};
        var tag = document.createElement("script");
        tag.src = fileUrl(name);
        tag.onerror = function () { file.failed = true; file.waiters.splice(0).forEach(function (w) { w(true); }); };
        document.head.appendChild(tag);
      }
      file.waiters.push(function (error) { if (error) { if (!broken) { broken = true; failed(); } } else { one(); } });
    });
  }
  function sums(deltas) { var out = [], at = 0; for (var i = 0; i < deltas.length; i++) { at += deltas[i]; out.push(at); } return out; }
  function loadManifest(then, failed) {
    if (manifest) { then(); return; }
    need(["index"], function () {
      var data = files.index.data;
      manifest = {version: data.version, pages: sums(data.pages), chunks: sums(data.chunks), shards: data.shards};
      then();
    }, failed);
  }
  // The last start <= value in a sorted list (numbers or words), or 0.
  function lastAtOrBefore(sorted, value) {
    var lo = 0, hi = sorted.length - 1;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (sorted[mid] <= value) { lo = mid; } else { hi = mid - 1; } }
    return lo;
  }
  function shardRange(low, high) {
    var out = [];
    for (var i = lastAtOrBefore(manifest.shards, low); i <= lastAtOrBefore(manifest.shards, high); i++) { out.push(i); }
    return out;
  }
  // The shards a word needs: those holding the words it starts (capped), and for a word of 3 letters or
  // more, those holding every word with its first two letters (its typos), when that is few enough.
  function shardsOf(word) {
    var own = shardRange(word, word + "\uffff").slice(0, SHARDS_PER_WORD);
    if (word.length >= 3) {
      var near = shardRange(word.slice(0, 2), word.slice(0, 2) + "\uffff");
      if (near.length <= SHARDS_PER_WORD) { return near; }
    }
    return own;
  }
  // One edit (insert, delete, replace, or swap two neighbours) turns a into b.
  function oneEdit(a, b) {
    if (a === b || Math.abs(a.length - b.length) > 1) { return false; }
    var i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) { i++; }
    if (a.length === b.length) {
      return a.slice(i + 1) === b.slice(i + 1) ||
        (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
    }
    return a.length < b.length ? a.slice(i) === b.slice(i + 1) : a.slice(i + 1) === b.slice(i);
  }
  function quality(query, term) {
    if (term === query) { return QUALITY.exact; }
    if (term.lastIndexOf(query, 0) === 0) { return QUALITY.prefix; }
    if (query.length >= 3 && term.slice(0, 2) === query.slice(0, 2) && oneEdit(query, term)) { return QUALITY.fuzzy; }
    return 0;
  }
  function pageOf(entry) { return lastAtOrBefore(manifest.pages, entry); }
  function chunkOf(entry) { return lastAtOrBefore(manifest.chunks, entry); }
  // Every entry that has each query word (or whose page's title has it), best first:
  // [[score, entry], ...] and the words matched (for the snippets' marks).
  function rank(query) {
    var perWord = query.map(function (word) {
      var scores = new Map(), pages = new Set(), terms = [];
      shardsOf(word).forEach(function (shard) {
        files["t" + shard].data.forEach(function (posting) {
          var q = quality(word, posting[0]);
          if (!q) { return; }
          terms.push(posting[0]);
          sums(posting[1]).forEach(function (entry) {
            var page = pageOf(entry), isPage = manifest.pages[page] === entry;
            if (isPage) { pages.add(page); }
            var score = (isPage ? WEIGHT.page : WEIGHT.heading) * q;
            if (!(scores.get(entry) >= score)) { scores.set(entry, score); }
          });
          sums(posting[2]).forEach(function (entry) {
            var score = (manifest.pages[pageOf(entry)] === entry ? WEIGHT.summary : WEIGHT.text) * q;
            if (!(scores.get(entry) >= score)) { scores.set(entry, score); }
          });
        });
      });
      return {scores: scores, pages: pages, terms: terms};
    });
    var candidates = new Set();
    perWord.forEach(function (w) { w.scores.forEach(function (_, entry) { candidates.add(entry); }); });
    var found = [];
    candidates.forEach(function (entry) {
      var total = 0;
      for (var i = 0; i < perWord.length; i++) {
        var score = perWord[i].scores.get(entry);
        if (score === undefined) {
          if (!perWord[i].pages.has(pageOf(entry))) { return; }
          score = WEIGHT.inherited;  // the word is in the title of the entry's page
        }
        total += score;
      }
      found.push([total, entry]);
    });
    found.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    var matched = [];
    perWord.forEach(function (w) { matched = matched.concat(w.terms); });
    return {found: found, terms: new Set(matched), words: query};
  }
  // The snippet: about 160 characters of the text around the first matched word, matched words marked.
  function snippet(text, ranked) {
    var out = document.createDocumentFragment(), marks = [], match;
    var pattern = new RegExp(WORD.source, "gu");
    while ((match = pattern.exec(text)) !== null) {
      var word = words(match[0])[0] || "";
      var hit = ranked.terms.has(word) || word.split("_").some(function (part) { return ranked.terms.has(part); });
      if (hit) { marks.push([match.index, match.index + match[0].length]); }
    }
    var start = marks.length ? Math.max(0, marks[0][0] - 50) : 0;
    if (start > 0) { var space = text.indexOf(" ", start); start = space >= 0 && space < marks[0][0] ? space + 1 : start; }
    var end = Math.min(text.length, start + 160), at = start;
    if (start > 0) { out.appendChild(document.createTextNode("\u2026")); }
    marks.forEach(function (mark) {
      if (mark[0] < at || mark[1] > end) { return; }
      out.appendChild(document.createTextNode(text.slice(at, mark[0])));
      var tag = document.createElement("mark");
      tag.textContent = text.slice(mark[0], mark[1]);
      out.appendChild(tag);
      at = mark[1];
    });
    out.appendChild(document.createTextNode(text.slice(at, end) + (end < text.length ? "\u2026" : "")));
    return out;
  }
  function span(className, content) {
    var el = document.createElement("span");
    el.className = className;
    if (typeof content === "string") { el.textContent = content; } else { el.appendChild(content); }
    return el;
  }

  var asked = 0, shown = PAGE, active = -1, last = null, more = null;
  function setActive(index) {
    var options = list.querySelectorAll("[role=option]");
    if (active >= 0 && options[active]) { options[active].setAttribute("aria-selected", "false"); }
    active = options.length ? Math.max(-1, Math.min(index, options.length - 1)) : -1;
    if (active >= 0) {
      options[active].setAttribute("aria-selected", "true");
      box.setAttribute("aria-activedescendant", options[active].id);
      if (options[active].scrollIntoView) { options[active].scrollIntoView({block: "nearest"}); }
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }
  // Beside the box, but always inside the window: right-aligned to the box where that fits.
  function place() {
    if (panel.hidden) { return; }
    var width = Math.min(512, doc.clientWidth - 16);
    var boxRect = box.getBoundingClientRect();
    var parent = (panel.offsetParent || document.body).getBoundingClientRect();
    var left = Math.max(8, Math.min(boxRect.right - width, doc.clientWidth - 8 - width));
    panel.style.width = width + "px";
    panel.style.left = (left - parent.left) + "px";
    panel.style.top = (boxRect.bottom - parent.top + 4) + "px";
  }
  function open(isOpen) {
    panel.hidden = !isOpen;
    box.setAttribute("aria-expanded", isOpen && !list.hidden ? "true" : "false");
    if (isOpen) { place(); } else { setActive(-1); }
  }
  function say(text, announce) {
    count.textContent = text;
    if (status) { status.textContent = announce === undefined ? text : announce; }
  }
  function missing() { list.hidden = true; list.textContent = ""; say("The search index is missing."); open(true); }
  function render(ranked) {
    var top = ranked.found.slice(0, shown);
    need(top.map(function (r) { return "d" + chunkOf(r[1]); }).filter(function (n, i, all) { return all.indexOf(n) === i; }), function () {
      list.textContent = "";
      top.forEach(function (r, number) {
        var entry = r[1], chunk = chunkOf(entry), data = files["d" + chunk].data;
        var row = data.e[entry - manifest.chunks[chunk]], page = data.p[String(pageOf(entry))];
        var item = document.createElement("li");
        item.setAttribute("role", "presentation");
        var link = document.createElement("a");
        link.id = "search-option-" + number;
        link.setAttribute("role", "option");
        link.setAttribute("aria-selected", "false");
        link.tabIndex = -1;
        // Each segment of the page's path encoded whole: encodeURI would leave a "#" or "?" in a file name
        // to end the path there.
        link.href = root + "/" + page[0].split("/").map(encodeURIComponent).join("/") + (row[0] ? "#" + encodeURIComponent(row[0]) : "");
        if (row[0]) {
          link.appendChild(span("result-page", page[1]));
          link.appendChild(span("result-title", row[1]));
          if (row[2]) { link.appendChild(span("result-text", snippet(row[2], ranked))); }
        } else {
          link.appendChild(span("result-title", page[1]));
          if (row[2]) { link.appendChild(span("result-text", snippet(row[2], ranked))); }
        }
        item.appendChild(link);
        list.appendChild(item);
      });
      var total = ranked.found.length;
      list.hidden = total === 0;
      var noun = total === 1 ? " result" : " results";
      say(total === 0 ? "No results" : top.length < total ? "Showing " + top.length + " of " + total + noun : total + noun);
      if (top.length < total) {
        if (!more) {
          more = document.createElement("button");
          more.type = "button";
          more.className = "search-more";
          more.addEventListener("click", function () { shown += PAGE; render(last); box.focus(); });
        }
        more.textContent = "Show " + Math.min(PAGE, total - top.length) + " more";
        panel.appendChild(more);
      } else if (more && more.parentNode) {
        more.remove();
      }
      setActive(-1);
      open(true);
    }, missing);
  }
  function show(keepShown) {
    var query = words(box.value);
    var ticket = ++asked;
    if (!keepShown) { shown = PAGE; }
    if (!query.length) { list.textContent = ""; say("", ""); open(false); return; }
    loadManifest(function () {
      var needed = [];
      query.forEach(function (word) { shardsOf(word).forEach(function (s) { if (needed.indexOf("t" + s) < 0) { needed.push("t" + s); } }); });
      need(needed, function () {
        if (ticket !== asked) { return; }  // a later query is on its way
        last = rank(query);
        render(last);
      }, missing);
    }, missing);
  }
  box.addEventListener("input", function () { show(false); });
  box.addEventListener("focus", function () {
    loadManifest(function () {}, function () {});
    if (box.value.trim() && panel.hidden) { show(true); }
  });
  box.addEventListener("keydown", function (event) {
    var options = list.querySelectorAll("[role=option]");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (panel.hidden) { show(true); return; }
      var next = event.key === "ArrowDown" ? active + 1 : active - 1;
      setActive(next >= options.length ? 0 : next < -1 ? options.length - 1 : next);
    } else if (event.key === "Enter") {
      var chosen = options[active >= 0 ? active : 0];
      if (chosen) { event.preventDefault(); chosen.click(); }
    } else if (event.key === "Escape") {
      if (!panel.hidden) { open(false); } else { box.value = ""; show(false); }
    }
  });
  document.addEventListener("keydown", function (event) {
    var focused = document.activeElement;
    var typing = focused && (focused.tagName === "INPUT" || focused.tagName === "TEXTAREA" || focused.isContentEditable);
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!panel.contains(event.target) && event.target !== box) { open(false); }
  });
  window.addEventListener("resize", place);
})();
