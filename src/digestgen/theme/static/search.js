/* digestgen search page, on Pagefind's JS API.

   - Korean queries: particles are stripped from each Hangul word (the list comes from the
     build, so index and query agree); Pagefind then matches word prefixes.
   - Filters are fetched only when the reader opens the filter panel (or a link names one):
     Pagefind's bundled UIs fetch every filter file before the first search.
   - Search documents are NFD (see digestgen/search.py); everything shown is turned back to NFC,
     and excerpts come from the readable text only (before the index-only sentinel).
   - /search/?q=QUERY&tag=agents&sort=date is a shareable deep link; the URL follows the form.
   - After an incremental build the bundle has a delta (pages changed since the base was indexed,
     see digestgen/search.py): it is merged in, the base's results for those pages are dropped,
     and with date order the delta's results are placed among the base's by date. */
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
  var SENTINEL = root.dataset.sentinel || "\u2042";
  var HANGUL = /^[\uac00-\ud7a3]+$/;
  var PAGE_SIZE = 5;
  var EXCERPT_WORDS = 32;
  var FILTER_NAMES = { tag: "태그", week: "호", year: "연도", code: "코드" };
  var FILTER_ORDER = ["tag", "year", "week", "code"];
  var VALUE_NAMES = { code: { yes: "코드 공개" }, tag: JSON.parse(root.dataset.tagLabels || "{}") };
  var KIND_NAMES = { paper: "논문", issue: "호 소개" };
  var DELTA = root.dataset.delta || "";
  var DELTA_DATES = JSON.parse(root.dataset.deltaDates || "{}");
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

  function processTerm(query) {
    var words = nfc(query).split(/\s+/).map(function (w) {
      return stem(w.replace(/^[.,!?;:"'()[\]{}]+|[.,!?;:"'()[\]{}]+$/g, ""));
    }).filter(Boolean);
    terms = words.map(function (w) { return w.toLowerCase(); });
    return words.join(" ");
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
    var text = nfc(content).split(SENTINEL)[0];
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
    text.innerHTML = excerpt(data.content, plainTitle); // built from escaped text and <mark> only
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
    return load().then(function (pf) {
      var options = { filters: activeFilters() };
      if (sortSelect.value === "date") options.sort = { date: "desc" };
      return pf.search(query ? processTerm(query) : null, options);
    }).then(function (search) {
      if (id !== searchId || !search) return;
      queue = results(search.results, sortSelect.value === "date");
      list.textContent = "";
      var count = queue.count;
      var subject = query ? "‘" + query + "’에 대한 " : "";
      lastCounts = search.filters;
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

  /* The results to show, in batches: without superseded base pages, each page once, and, in date
     order, the delta's pages (dates from the build) merged among the base's (dates from their
     data, loaded for display anyway). */
  function results(found, byDate) {
    var seen = {};
    var base = [];
    var delta = [];
    found.forEach(function (r) {
      if (SUPERSEDED[r.id] || seen[r.id]) return;
      seen[r.id] = true;
      (byDate && r.id in DELTA_DATES ? delta : base).push(r);
    });
    delta.sort(function (a, b) { return DELTA_DATES[b.id].localeCompare(DELTA_DATES[a.id]); });
    return {
      count: base.length + delta.length,
      done: function () { return !base.length && !delta.length; },
      next: function () {
        return Promise.all(base.splice(0, PAGE_SIZE).map(function (r) { return r.data(); })).then(function (datas) {
          var last = datas.length ? (datas[datas.length - 1].meta || {}).date || "" : "";
          var n = 0;
          while (n < delta.length && (!base.length || DELTA_DATES[delta[n].id] >= last)) n++;
          var extra = delta.splice(0, n);
          return Promise.all(extra.map(function (r) { return r.data(); })).then(function (more) {
            if (!byDate) return datas;
            var date = function (d) { return (d.meta || {}).date || ""; };
            return datas.concat(more).map(function (d, i) { return [d, i]; }).sort(function (a, b) {
              return date(b[0]).localeCompare(date(a[0])) || a[1] - b[1];
            }).map(function (pair) { return pair[0]; });
          });
        });
      }
    };
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
