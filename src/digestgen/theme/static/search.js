/* digestgen search page, on Pagefind's JS API.

   - Queries get the rules the index was built with (digestgen/pipeline/korean.py): particles are stripped
     from each Hangul word (the list comes from the build, so index and query agree), mixed words
     are split (`Qwen2.5-7B를` -> `qwen2.5-7b`), English words lose an inflection (`models` ->
     `model`; Pagefind then matches word prefixes), and an arXiv id in any form (`arXiv:2507.16075v2`)
     becomes the one token the paper's id was indexed as. A long Korean word is also searched split
     in two (`미세조정` -> `미세 조정`), which finds the spelling with a space.
   - Relevance order is Pagefind's. For 최신순 the same results are ordered by their names: a base
     page is named by its place in date order (`ko_qxz1234`, see digestgen/pipeline/pfindex.py), and
     the build gives each page of the delta (below) its place among them. The index carries no
     sort table, and no result's data is loaded to learn its date.
   - Filters are fetched only when the reader opens the filter panel (or a link names one):
     Pagefind's bundled UIs fetch every filter file before the first search.
   - Words in the index are NFD (see digestgen/pipeline/search.py); everything shown is turned to NFC,
     and excerpts are cut from the `text` metadata (the readable text; the indexed body is tokens).
   - /search/?q=QUERY&tag=agents&sort=date is a shareable deep link; the URL follows the form.
   - After an incremental build the bundle has a delta (pages changed since the base was indexed,
     see digestgen/pipeline/search.py): it is merged in, and the base's results for those pages are
     dropped. */
(function () {
  "use strict";
  var root = document.getElementById("search");
  if (!root) return;
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-q");
  var sortSelect = document.getElementById("search-sort");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-list");
  var more = document.getElementById("search-more");
  var panel = document.getElementById("search-filters");
  var filterBody = document.getElementById("search-filter-body");

  var PARTICLES = JSON.parse(root.dataset.particles || "[]");
  var MIN_STEM = Number(root.dataset.minStem || 2);
  var HANGUL = /^[\uac00-\ud7a3]+$/;
  var PAGE_SIZE = 5;
  var EXCERPT_WORDS = 32;
  var FILTER_NAMES = { tag: "태그", week: "호", year: "연도", code: "코드" };
  var FILTER_ORDER = ["tag", "year", "week", "code"];
  var VALUE_NAMES = { code: { yes: "코드 공개" }, tag: JSON.parse(root.dataset.tagLabels || "{}") };
  var KIND_NAMES = { paper: "논문", issue: "호 소개" };
  var DELTA = root.dataset.delta || "";
  var ARXIV = /(?:arxiv:\s*|arxiv\.org\/(?:abs|pdf)\/)?\b([0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[a-z]{2})?\/[0-9]{7})(?:v[0-9]+)?\b/gi;
  var TRIM = /^[\s"'()[\]{}<>.,!?;:`*_~#|=\u201c\u201d\u2018\u2019\u00b7\u2026]+|[\s"'()[\]{}<>.,!?;:`*_~#|=\u201c\u201d\u2018\u2019\u00b7\u2026]+$/g;
  var EN_SUFFIXES = ["ations", "ation", "ings", "ing", "ed", "es", "s"];
  var DELTA_RANKS = JSON.parse(root.dataset.deltaRanks || "{}");
  var SUPERSEDED = {};
  JSON.parse(root.dataset.superseded || "[]").forEach(function (id) { SUPERSEDED[id] = true; });

  var pagefind = null;
  var queue = null;
  var terms = [];
  var selected = {};
  var searchId = 0;
  var filtersLoaded = false;
  var lastCounts = null;
  var timer = null;

  function nfc(text) { return (text || "").normalize("NFC"); }

  function stem(word) {
    if (!HANGUL.test(word)) return word;
    for (var i = 0; i < PARTICLES.length; i++) {
      var p = PARTICLES[i];
      if (word.length - p.length >= MIN_STEM && word.slice(-p.length) === p) return word.slice(0, -p.length);
    }
    return word;
  }

  function englishStem(word) {
    if (!/^[a-z]+$/.test(word) || word.length < 5) return word;
    for (var i = 0; i < EN_SUFFIXES.length; i++) {
      var suffix = EN_SUFFIXES[i];
      if (word.slice(-suffix.length) === suffix && word.length - suffix.length >= 4 &&
          !(suffix === "s" && /(ss|us|is)$/.test(word))) return word.slice(0, -suffix.length);
    }
    return word;
  }

  /* The words of one query word, as korean.py's `_words` makes them for the index. */
  function words(chunk) {
    var out = [];
    (chunk.match(/[\uac00-\ud7a3]+|[^\uac00-\ud7a3]+/g) || []).forEach(function (run) {
      if (HANGUL.test(run)) {
        if (out.length && PARTICLES.indexOf(run) >= 0) return;
        out.push(stem(run));
      } else {
        run = run.replace(TRIM, "").toLowerCase();
        if (/[0-9a-z\u00c0-\uffff]/.test(run)) out.push(englishStem(run));
      }
    });
    return out;
  }

  /* The query as Pagefind terms: [the query, and spellings with a long Korean word split in two]. */
  function processTerm(query) {
    var text = nfc(query).replace(/https?:\/\/(?:www\.|export\.)?(?=arxiv\.org\/)/gi, "").replace(ARXIV, function (match, id) {
      return " arxiv" + id.toLowerCase().replace(/[0-9]/g, function (d) { return "abcdefghij"[d]; })
        .replace(/[^a-z]/g, "") + " ";
    });
    var list = [];
    text.split(/\s+/).forEach(function (chunk) {
      if (/^arxiv[a-j]{6,}$/.test(chunk)) list.push(chunk);
      else list = list.concat(words(chunk));
    });
    terms = list.filter(function (w) { return !/^arxiv[a-j]{6,}$/.test(w); });
    var ids = list.filter(function (w) { return /^arxiv[a-j]{6,}$/.test(w); });
    // An id is searched on its own and exactly: Pagefind answers a word it does not have with
    // words that share a shorter prefix (`a`), which would bring other papers.
    if (ids.length) return [{ term: '"' + ids[0] + '"', parts: [] }];
    var variants = [{ term: list.join(" "), parts: [] }];
    list.forEach(function (word, at) {
      if (!HANGUL.test(word) || word.length < 4 || word.length > 6) return;
      for (var cut = 2; cut <= word.length - 2; cut++) {
        var parts = [word.slice(0, cut), word.slice(cut)];
        variants.push({ term: list.slice(0, at).concat(parts, list.slice(at + 1)).join(" "), parts: parts });
      }
    });
    return variants.filter(function (v) { return v.term; });
  }

  /* The spellings worth searching, each with the bundles (the base, the delta) it may search:
     Pagefind drops a word that matches nothing in a bundle and searches that bundle for the other
     words alone, so a split spelling is searched only in bundles that have both parts. */
  function spellings(pf, variants) {
    return Promise.all(variants.map(function (v) {
      if (!v.parts.length) return { term: v.term, bundles: null };
      return Promise.all(v.parts.map(function (part) { return pf.search(part); })).then(function (found) {
        var shared = BUNDLES.filter(function (b) {
          return found.every(function (s) { return s && s.results.some(function (r) { return bundleOf(r) === b; }); });
        });
        return shared.length ? { term: v.term, bundles: shared } : null;
      });
    })).then(function (list) { return list.filter(Boolean); });
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function termAt(word) {
    var lower = word.toLowerCase();
    for (var i = 0; i < terms.length; i++) {
      var at = lower.indexOf(terms[i]);
      if (terms[i] && at >= 0) return [at, at + terms[i].length];
    }
    return null;
  }

  function excerpt(content, title) {
    var text = nfc(content).replace(/\s+/g, " ");
    if (title && text.indexOf(title) === 0) text = text.slice(title.length).replace(/^[.\s]+/, "");
    var words = text.split(/\s+/).filter(Boolean);
    var hit = -1;
    for (var i = 0; i < words.length && hit < 0; i++) if (termAt(words[i])) hit = i;
    var start = Math.max(0, Math.min(hit - Math.floor(EXCERPT_WORDS / 3), words.length - EXCERPT_WORDS));
    var html = words.slice(start, start + EXCERPT_WORDS).map(function (word) {
      var span = termAt(word);
      if (!span) return escapeHtml(word);
      return escapeHtml(word.slice(0, span[0])) + "<mark>" + escapeHtml(word.slice(span[0], span[1])) +
        "</mark>" + escapeHtml(word.slice(span[1]));
    }).join(" ");
    return (start > 0 ? "… " : "") + html + (start + EXCERPT_WORDS < words.length ? " …" : "");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text) node.textContent = text;
    return node;
  }

  function renderResult(data) {
    var meta = data.meta || {};
    var item = el("li", { "class": "result" });
    var heading = el("h2", { "class": "result-title" });
    var link = el("a", { href: data.url });
    var titles = [["ko", meta.title_ko], ["en", meta.title_en]].filter(function (t) { return t[1]; });
    var plainTitle;
    if (titles.length) {
      titles.forEach(function (t, i) {
        if (i) link.appendChild(el("span", { "class": "sep", "aria-hidden": "true" }, " / "));
        link.appendChild(el("span", { lang: t[0] }, nfc(t[1])));
      });
      plainTitle = titles.map(function (t) { return nfc(t[1]); }).join(" / ");
    } else {
      plainTitle = nfc(meta.title);
      link.textContent = plainTitle;
    }
    heading.appendChild(link);
    item.appendChild(heading);
    var info = el("p", { "class": "result-meta muted" });
    if (meta.week) info.appendChild(el("span", { "class": "result-week" }, meta.week));
    if (meta.kind) info.appendChild(el("span", { "class": "result-kind" }, KIND_NAMES[meta.kind] || meta.kind));
    item.appendChild(info);
    var text = el("p", { "class": "result-excerpt" });
    text.innerHTML = excerpt(meta.text || data.content, meta.text ? "" : plainTitle); // built from escaped text and <mark> only
    item.appendChild(text);
    return item;
  }

  function activeFilters() {
    var out = {};
    Object.keys(selected).forEach(function (name) { if (selected[name].length) out[name] = { any: selected[name] }; });
    return out;
  }

  function hasFilters() { return Object.keys(activeFilters()).length > 0; }

  function syncUrl() {
    var params = new URLSearchParams();
    if (input.value.trim()) params.set("q", input.value.trim());
    if (sortSelect.value) params.set("sort", sortSelect.value);
    FILTER_ORDER.forEach(function (name) { (selected[name] || []).forEach(function (v) { params.append(name, v); }); });
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }

  function load() {
    if (!pagefind) {
      pagefind = import(root.dataset.bundle + "pagefind.js").then(function (pf) {
        return pf.options({ baseUrl: root.dataset.base, excerptLength: EXCERPT_WORDS }).then(function () {
          pf.init();
          return DELTA ? pf.mergeIndex(DELTA, { baseUrl: root.dataset.base }) : null;
        }).then(function () { return pf; });
      });
    }
    return pagefind;
  }

  /* The bundles searched: the base, and the delta if there is one. A result's bundle shows in its
     name: a delta page's is `d` and a hash (see digestgen/pipeline/pfindex.py). */
  var BUNDLES = ["base"].concat(DELTA ? ["delta"] : []);

  function bundleOf(r) { return r.id.charAt(r.id.lastIndexOf("_") + 1) === "d" ? "delta" : "base"; }

  function run() {
    var id = ++searchId;
    var query = input.value.trim();
    syncUrl();
    if (!query && !hasFilters()) {
      list.textContent = "";
      status.textContent = "";
      more.hidden = true;
      return Promise.resolve();
    }
    status.textContent = "검색 중…";
    var byDate = sortSelect.value === "date";
    var engine;
    return load().then(function (pf) {
      engine = pf;
      return query ? spellings(pf, processTerm(query)) : [{ term: null, bundles: null }];
    }).then(function (variants) {
      var filters = activeFilters();
      return Promise.all(variants.map(function (v) {
        return engine.search(v.term, { filters: filters }).then(function (s) {
          if (!s || !v.bundles) return s;  // a split spelling: only the results of the bundles it may search
          return { results: s.results.filter(function (r) { return v.bundles.indexOf(bundleOf(r)) >= 0; }), filters: s.filters };
        });
      }));
    }).then(function (found) {
      if (id !== searchId || !found || !found[0]) return;
      queue = resultQueue(found, byDate);
      list.textContent = "";
      var count = queue.count;
      var subject = query ? "‘" + query + "’에 대한 " : "";
      lastCounts = found[0].filters;
      if (filtersLoaded) renderFilters(lastCounts);
      // Announce the count once the first results are on the page, not before.
      return showMore(id).then(function () {
        if (id === searchId) status.textContent = count ? subject + "결과 " + count + "건" : subject + "결과가 없습니다";
      });
    }).catch(function (error) {
      status.textContent = "검색을 불러오지 못했습니다.";
      if (window.console) console.error(error);
    });
  }

  function dataOf(r) { return r.loaded || (r.loaded = r.data()); }

  /* The results of every spelling of the query, each page once (its best score), without the
     base's pages that the delta supersedes: by score, or newest first (by their place in date
     order, see the top). */
  function resultQueue(found, byDate) {
    var best = {};
    found.forEach(function (search) {
      (search ? search.results : []).forEach(function (r) {
        if (SUPERSEDED[r.id]) return;
        if (!best[r.id] || r.score > best[r.id].score) best[r.id] = r;
      });
    });
    var order = Object.keys(best).map(function (key) { return best[key]; });
    if (byDate) order.sort(function (a, b) { return rank(b) - rank(a) || b.score - a.score; });
    else order.sort(function (a, b) { return b.score - a.score; });
    return {
      count: order.length,
      done: function () { return !order.length; },
      next: function () { return Promise.all(order.splice(0, PAGE_SIZE).map(dataOf)); }
    };
  }

  /* A page's place in date order: a base page's name is a tag of letters and its number
     (`ko_qxz123`); a delta page's place among them comes from the build (-1 if it did not say). */
  function rank(r) {
    if (bundleOf(r) === "delta") return r.id in DELTA_RANKS ? DELTA_RANKS[r.id] : -1;
    return parseInt(r.id.slice(r.id.lastIndexOf("_") + 1).replace(/^[a-z]+/, ""), 10);
  }

  function showMore(id) {
    return queue.next().then(function (datas) {
      if (id !== searchId) return;
      datas.forEach(function (data) { list.appendChild(renderResult(data)); });
      more.hidden = queue.done();
    });
  }

  function renderFilters(counts) {
    filterBody.textContent = "";
    FILTER_ORDER.forEach(function (name) {
      var values = counts && counts[name];
      if (!values) return;
      var group = el("fieldset", { "class": "filter-group" });
      group.appendChild(el("legend", null, FILTER_NAMES[name] || name));
      var keys = Object.keys(values).sort(function (a, b) {
        return name === "tag" ? (values[b] - values[a]) || a.localeCompare(b) : b.localeCompare(a);
      });
      keys.forEach(function (value, index) {
        var id = "f-" + name + "-" + index;
        var row = el("div", { "class": "filter-option" });
        var box = el("input", { type: "checkbox", id: id, value: value });
        box.checked = (selected[name] || []).indexOf(value) >= 0;
        box.addEventListener("change", function () {
          var chosen = selected[name] || (selected[name] = []);
          if (box.checked) chosen.push(value); else chosen.splice(chosen.indexOf(value), 1);
          run();
        });
        var shown = (VALUE_NAMES[name] || {})[value.normalize("NFC")] || value;  // the index holds NFD
        var label = el("label", { "for": id, lang: name === "tag" && !/[\uac00-\ud7a3]/.test(shown) ? "en" : "ko" }, shown);
        label.appendChild(el("span", { "class": "count" }, " " + values[value]));
        row.appendChild(box);
        row.appendChild(label);
        group.appendChild(row);
      });
      filterBody.appendChild(group);
    });
    if (!filterBody.childNodes.length) filterBody.appendChild(el("p", { "class": "muted" }, "사용할 수 있는 필터가 없습니다."));
  }

  function openFilters() {
    if (filtersLoaded) return Promise.resolve();
    return load().then(function (pf) { return pf.filters(); }).then(function (all) {
      filtersLoaded = true;
      // A search run before the filter files arrived has no counts: run it again.
      if (input.value.trim() || hasFilters()) return run();
      renderFilters(all);
    });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
  sortSelect.addEventListener("change", run);
  more.addEventListener("click", function () { showMore(searchId); });
  panel.addEventListener("toggle", function () { if (panel.open) openFilters(); });

  var params = new URLSearchParams(window.location.search);
  input.value = params.get("q") || "";
  sortSelect.value = params.get("sort") === "date" ? "date" : "";
  FILTER_ORDER.forEach(function (name) { if (params.getAll(name).length) selected[name] = params.getAll(name); });
  if (hasFilters()) panel.open = true;
  if (input.value || hasFilters()) run(); else input.focus();
})();
