/* thinkgym report pages (report.html, compare.html): what both pages share — building DOM, reading
   the data block, a paged / sortable / filterable table, and the view of one sample.
   Model text is untrusted. It reaches the page only as text nodes (textContent, createTextNode);
   no string is ever parsed as markup (no innerHTML), and `el` refuses event-handler, URL and
   style attributes, so no value can become code or a link. */
"use strict";
const TG = (function () {
  const FORBIDDEN_ATTR = /^(on|href$|src$|srcdoc$|style$|action$|formaction$|xlink:href$)/i;

  function append(node, children) {
    if (children === undefined || children === null) return node;
    const list = Array.isArray(children) ? children : [children];
    for (const child of list) {
      if (child === undefined || child === null || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* el("td", {cls: "num", title: text, text: "1.0"}, [children]) — values are set as text or as
     plain attribute values, never parsed. */
  function el(tagName, props, children) {
    const node = document.createElement(tagName);
    if (props) {
      for (const key of Object.keys(props)) {
        const value = props[key];
        if (value === undefined || value === null) continue;
        if (key === "text") node.textContent = String(value);
        else if (key === "cls") node.className = String(value);
        else if (key === "on") for (const ev of Object.keys(value)) node.addEventListener(ev, value[ev]);
        else if (key === "data") for (const dk of Object.keys(value)) node.dataset[dk] = String(value[dk]);
        else if (FORBIDDEN_ATTR.test(key)) throw new Error("el(): refusing attribute " + key);
        else node.setAttribute(key, String(value));
      }
    }
    return append(node, children);
  }

  function readData(id) {
    const node = document.getElementById(id);
    if (!node) throw new Error("the page has no data block #" + id);
    return JSON.parse(node.textContent);
  }

  /* The bulk data, in blocks tg-chunk-0 … tg-chunk-(count-1): parsed a few per task (about 12 ms
     of work each), so a page of 100,000 samples keeps painting and answering while it loads.
     Each block is removed once read (its text is no longer needed). Resolves to the items. */
  function loadChunks(count, onProgress) {
    return new Promise((resolve, reject) => {
      const out = [];
      let i = 0;
      function next() {
        try {
          const stop = performance.now() + 12;
          while (i < count) {
            const node = document.getElementById("tg-chunk-" + i);
            if (!node) throw new Error("the page has no data block #tg-chunk-" + i);
            for (const item of JSON.parse(node.textContent)) out.push(item);
            node.remove();
            i++;
            if (performance.now() >= stop) break;
          }
          if (i >= count) return resolve(out);
          if (onProgress) onProgress(i / count);
          setTimeout(next, 0);
        } catch (err) {
          reject(err);
        }
      }
      next();
    });
  }

  function num(x, digits) {
    if (typeof x !== "number" || !isFinite(x)) return "–";
    return x.toFixed(digits === undefined ? 3 : digits);
  }

  function shortNum(x) {
    if (typeof x !== "number" || !isFinite(x)) return String(x);
    return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(3)));
  }

  function asText(value) {
    if (value === null || value === undefined) return null;
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function componentsText(components) {
    return Object.keys(components || {}).map((name) => name + " " + shortNum(components[name])).join(" · ");
  }

  const OUTCOME = { "1": ["correct", "ok"], "0": ["not correct", "bad"], "-1": ["failed", "failed"] };

  function badge(outcome) {
    const [label, cls] = OUTCOME[String(outcome)] || ["?", "failed"];
    return el("span", { cls: "badge " + cls, text: label });
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  /* Where the extracted answer sits in the completion: inside the last \boxed{…} or <answer> that
     starts with it, else its last occurrence (the final answer comes last). */
  function answerSpan(text, answer) {
    const wanted = asText(answer);
    if (!wanted || typeof text !== "string") return null;
    const needle = wanted.trim();
    if (!needle || needle.length > text.length) return null;
    for (const opener of ["\\boxed{", "<answer>"]) {
      const at = text.lastIndexOf(opener + needle);
      if (at >= 0) return [at + opener.length, at + opener.length + needle.length];
    }
    const pos = text.lastIndexOf(needle);
    return pos >= 0 ? [pos, pos + needle.length] : null;
  }

  function textBlock(text, span, cls) {
    const pre = el("pre", { cls: cls || null });
    const value = typeof text === "string" ? text : asText(text) || "";
    if (span) {
      pre.appendChild(document.createTextNode(value.slice(0, span[0])));
      pre.appendChild(el("mark", { text: value.slice(span[0], span[1]), title: "the extracted answer" }));
      pre.appendChild(document.createTextNode(value.slice(span[1])));
    } else {
      pre.textContent = value;
    }
    return pre;
  }

  function jsonBlock(value) {
    return el("pre", { cls: "json", text: JSON.stringify(value, null, 2) });
  }

  function kvTable(pairs) {
    const rows = [];
    for (const [key, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      const text = typeof value === "string" ? value : typeof value === "number" ? shortNum(value) : JSON.stringify(value);
      rows.push(el("tr", null, [el("th", { text: key }), el("td", null, el("code", { text: text }))]));
    }
    return el("table", { cls: "kv" }, el("tbody", null, rows));
  }

  /* An action sent as an OpenAI assistant message (JSON with tool_calls): its calls, readable. */
  function toolCalls(action) {
    if (typeof action !== "string" || action.trimStart()[0] !== "{" || action.indexOf("tool_calls") < 0) return null;
    let message;
    try {
      message = JSON.parse(action);
    } catch (err) {
      return null;
    }
    const calls = message && Array.isArray(message.tool_calls) ? message.tool_calls : [];
    if (!calls.length) return null;
    return el("div", { cls: "muted" }, calls.map((call) => {
      const fn = call && call.function ? call.function : {};
      let args = fn.arguments;
      try {
        args = JSON.stringify(typeof args === "string" ? JSON.parse(args) : args);
      } catch (err) { /* arguments that are not JSON: shown as sent */ }
      return el("div", null, ["tool call: ", el("code", { text: String(fn.name) + "(" + String(args) + ")" })]);
    }));
  }

  function turnsView(turns) {
    const out = [];
    const actions = turns.actions || [];
    if (actions.length > 1 && actions.every((a) => typeof a === "string" && a.length <= 24 && a.indexOf("\n") < 0)) {
      out.push(el("p", null, [el("span", { cls: "muted", text: "moves in order: " }), el("span", { cls: "moves", text: actions.join(" → ") })]));
    }
    for (let t = 0; t < actions.length; t++) {
      const reward = (turns.rewards || [])[t];
      out.push(el("div", { cls: "turn action" }, [
        el("div", { cls: "who", text: "turn " + (t + 1) + " · policy" + (reward === undefined ? "" : " · step reward " + shortNum(reward)) }),
        textBlock(actions[t]),
        toolCalls(actions[t]),
      ]));
      const obs = (turns.observations || [])[t];
      if (obs !== undefined && obs !== null && obs !== "") {
        out.push(el("div", { cls: "turn observation" }, [el("div", { cls: "who", text: "env" }), textBlock(obs)]));
      }
    }
    return out;
  }

  /* One sample: outcome, reward, reason, the problem (unless opts.problem === false), the
     completion with the extracted answer marked (or every turn), components, reward_info. */
  function renderSample(s, ctx, opts) {
    opts = opts || {};
    const problem = ctx.problems[s.q] || {};
    const reason = s.why || (s.w >= 0 ? ctx.reasons[s.w] : "");
    const out = [];
    out.push(el("p", null, [
      badge(s.c), " reward ", el("b", { text: num(s.r) }),
      s.k && Object.keys(s.k).length ? " · " + componentsText(s.k) : "",
      s.n !== undefined ? " · " + s.n + " chars" : "",
    ]));
    if (reason) out.push(el("p", null, [el("span", { cls: "muted", text: "reason: " }), el("code", { text: reason })]));
    if (opts.problem !== false) {
      out.push(el("h3", { text: "Gold answer" }), textBlock(asText(problem.answer) || "(none recorded)", null, "gold"));
      out.push(el("h3", { text: "Prompt" }), textBlock(problem.prompt || "", null, "prompt"));
    }
    const extracted = asText(s.a);
    if (extracted !== null) {
      out.push(el("h3", { text: "Extracted answer" }), textBlock(extracted, null, "extracted"));
    }
    if (s.turns) {
      out.push(el("h3", { text: "Turns (" + (s.turns.actions || []).length + ")" }), el("div", { cls: "turns" }, turnsView(s.turns)));
    } else {
      const span = answerSpan(s.x, s.a);
      const note = extracted === null ? "" : span ? " — the extracted answer is marked" : " — the extracted answer is not in the text verbatim";
      out.push(el("h3", { text: "Completion" + note }), textBlock(s.x || "", span, "completion"));
    }
    out.push(el("h3", { text: "Reward components" }), kvTable(Object.entries(s.k || {})));
    out.push(el("h3", { text: "reward_info" }), jsonBlock(s.f || {}));
    out.push(el("h3", { text: "Details" }), kvTable([["key", s.key], ...Object.entries(s.meta || {})]));
    return out;
  }

  /* A modal dialog with a title, previous / next buttons and a body. */
  function makeDialog() {
    const title = el("span", { cls: "title" });
    const prev = el("button", { type: "button", text: "← previous", title: "previous (←)" });
    const next = el("button", { type: "button", text: "next →", title: "next (→)" });
    const close = el("button", { type: "button", text: "close", title: "close (Esc)" });
    const body = el("div", { cls: "body" });
    const dialog = el("dialog", { cls: "detail" }, [
      el("div", { cls: "head" }, [title, el("span", { cls: "spacer" }), prev, next, close]), body,
    ]);
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (ev) => { if (ev.target === dialog) dialog.close(); });
    document.body.appendChild(dialog);
    return { dialog, title, prev, next, body };
  }

  /* A `makeDialog` over `table`'s rows: previous/next (the buttons, ← and →) follow the table's
     filtered, sorted order through `open(i)`, the page's function that fills the dialog and then
     calls `shown(i)`; `onClose` runs when the dialog closes. */
  function rowDialog(table, open, onClose) {
    const dlg = makeDialog();
    let current = null;
    dlg.shown = (i) => {
      current = i;
      dlg.prev.disabled = table.neighbour(i, -1) === null;
      dlg.next.disabled = table.neighbour(i, 1) === null;
      if (!dlg.dialog.open) dlg.dialog.showModal();
    };
    function step(delta) {
      if (current === null) return;
      const j = table.neighbour(current, delta);
      if (j !== null) {
        table.reveal(j);
        open(j);
      }
    }
    dlg.prev.addEventListener("click", () => step(-1));
    dlg.next.addEventListener("click", () => step(1));
    dlg.dialog.addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowLeft") step(-1);
      else if (ev.key === "ArrowRight") step(1);
    });
    dlg.dialog.addEventListener("close", () => {
      current = null;
      if (onClose) onClose();
    });
    return dlg;
  }

  /* The paged, sortable, filterable table over `count` rows (row i = item i of the page's data).
     Filtering scans plain arrays and builds an index list; only one page of rows is in the DOM,
     so 100,000 items cost the DOM what 100 do. */
  class Table {
    constructor(opts) {
      this.o = opts;
      this.count = opts.count;
      this.pred = null;
      this.sort = opts.sort || null;
      this.page = 0;
      this.pageSize = opts.pageSize || 100;
      this.keys = {};
      this.view = new Int32Array(0);
      this.stats = null;
      this.heads = {};
      const headRow = el("tr");
      for (const col of opts.columns) {
        const th = el("th", { cls: col.num ? "num" : null, text: col.label, title: "sort by " + col.label, data: { col: col.id } });
        th.addEventListener("click", () => this.sortBy(col.id));
        this.heads[col.id] = th;
        headRow.appendChild(th);
      }
      this.tbody = el("tbody");
      this.tbody.addEventListener("click", (ev) => this.activate(ev));
      this.tbody.addEventListener("keydown", (ev) => { if (ev.key === "Enter") this.activate(ev); });
      this.table = el("table", { cls: "samples " + (opts.cls || "") }, [el("thead", null, headRow), this.tbody]);
      this.pagers = [this.makePager(), this.makePager()];
      this.root = el("div", { cls: "tg-table" }, [this.pagers[0].node, this.table, this.pagers[1].node]);
    }

    makePager() {
      const first = el("button", { type: "button", text: "«", title: "first page" });
      const prev = el("button", { type: "button", text: "‹ prev" });
      const next = el("button", { type: "button", text: "next ›" });
      const last = el("button", { type: "button", text: "»", title: "last page" });
      const label = el("span", { cls: "muted" });
      first.addEventListener("click", () => this.goto(0));
      prev.addEventListener("click", () => this.goto(this.page - 1));
      next.addEventListener("click", () => this.goto(this.page + 1));
      last.addEventListener("click", () => this.goto(Infinity));
      return { node: el("div", { cls: "pager" }, [first, prev, label, next, last]), first, prev, next, last, label };
    }

    activate(ev) {
      const tr = ev.target.closest("tr");
      if (tr && tr.dataset.i !== undefined) this.o.onOpen(Number(tr.dataset.i));
    }

    setFilter(pred) {
      this.pred = pred;
      this.page = 0;
      this.refresh();
    }

    sortBy(id) {
      const col = this.o.columns.find((c) => c.id === id);
      if (!col) return;
      if (this.sort && this.sort.id === id) this.sort = { id, dir: -this.sort.dir };
      else this.sort = { id, dir: col.num ? -1 : 1 };
      this.page = 0;
      this.refresh();
    }

    sortKeys(id) {
      if (!this.keys[id]) {
        const col = this.o.columns.find((c) => c.id === id);
        const keys = new Array(this.count);
        for (let i = 0; i < this.count; i++) {
          const v = col.value(i);
          keys[i] = v === null || v === undefined || (typeof v === "number" && isNaN(v)) ? (col.num ? -Infinity : "") : v;
        }
        this.keys[id] = keys;
      }
      return this.keys[id];
    }

    refresh() {
      const t0 = performance.now();
      const pred = this.pred;
      const all = new Int32Array(this.count);
      let m = 0;
      for (let i = 0; i < this.count; i++) if (!pred || pred(i)) all[m++] = i;
      const view = all.subarray(0, m);
      const t1 = performance.now();
      if (this.sort) {
        const keys = this.sortKeys(this.sort.id);
        const dir = this.sort.dir;
        view.sort((a, b) => {
          const x = keys[a];
          const y = keys[b];
          return x < y ? -dir : x > y ? dir : a - b;
        });
      }
      const t2 = performance.now();
      this.view = view;
      this.renderPage();
      const t3 = performance.now();
      this.stats = { matched: m, filterMs: t1 - t0, sortMs: t2 - t1, renderMs: t3 - t2, totalMs: t3 - t0 };
      if (this.o.onRender) this.o.onRender(this.stats);
    }

    pages() {
      return Math.max(1, Math.ceil(this.view.length / this.pageSize));
    }

    goto(page) {
      this.page = Math.max(0, Math.min(this.pages() - 1, page));
      this.renderPage();
      if (this.o.onRender && this.stats) this.o.onRender(this.stats);
    }

    setPageSize(size) {
      this.pageSize = size;
      this.page = 0;
      this.renderPage();
      if (this.o.onRender && this.stats) this.o.onRender(this.stats);
    }

    renderPage() {
      const pages = this.pages();
      this.page = Math.max(0, Math.min(pages - 1, this.page));
      const start = this.page * this.pageSize;
      const end = Math.min(this.view.length, start + this.pageSize);
      const frag = document.createDocumentFragment();
      for (let pos = start; pos < end; pos++) {
        const i = this.view[pos];
        const tr = el("tr", { cls: "clickable", tabindex: "0", data: { i } });
        for (const col of this.o.columns) {
          const cell = col.cell ? col.cell(i) : col.value(i);
          const td = el("td", { cls: (col.num ? "num " : "") + (col.cls || "") });
          if (cell instanceof Node) td.appendChild(cell);
          else td.textContent = cell === null || cell === undefined ? "–" : String(cell);
          if (col.title) td.title = col.title(i);
          tr.appendChild(td);
        }
        frag.appendChild(tr);
      }
      this.tbody.replaceChildren(frag);
      const text = this.view.length
        ? "rows " + (start + 1) + "–" + end + " of " + this.view.length + " · page " + (this.page + 1) + " of " + pages
        : "no rows match";
      for (const p of this.pagers) {
        p.label.textContent = text;
        p.first.disabled = p.prev.disabled = this.page === 0;
        p.next.disabled = p.last.disabled = this.page >= pages - 1;
      }
      for (const id of Object.keys(this.heads)) {
        const th = this.heads[id];
        th.classList.remove("sorted-asc", "sorted-desc");
        if (this.sort && this.sort.id === id) th.classList.add(this.sort.dir > 0 ? "sorted-asc" : "sorted-desc");
      }
    }

    /* The item shown before / after item i in the current order (for the dialog's arrows). */
    neighbour(i, step) {
      const pos = this.view.indexOf(i);
      if (pos < 0) return null;
      const next = pos + step;
      return next >= 0 && next < this.view.length ? this.view[next] : null;
    }

    /* Show the page that holds item i (after the dialog moved past the visible page). */
    reveal(i) {
      const pos = this.view.indexOf(i);
      if (pos >= 0 && Math.floor(pos / this.pageSize) !== this.page) this.goto(Math.floor(pos / this.pageSize));
    }
  }

  function select(label, options, onChange) {
    const node = el("select", { "aria-label": label });
    for (const [value, text] of options) node.appendChild(el("option", { value, text }));
    node.addEventListener("change", onChange);
    return { node, wrap: el("label", null, [label + " ", node]) };
  }

  /* Case-insensitive search over a lower-case copy of each item's text. The copies are made in
     idle time after the page opens (`warm`). A search (`find`) runs in slices of about 12 ms,
     yielding to the browser between them, so typing, scrolling and clicking never wait for a scan
     of 100,000 completions; a newer search (or `cancel`) abandons an older one. */
  const SLICE_MS = 12;
  const idle = window.requestIdleCallback || ((fn) => setTimeout(() => fn({ timeRemaining: () => 8 }), 16));

  function searcher(count, textOf) {
    const cache = new Array(count);
    let built = 0; // cache[0 .. built) are all made
    let doneAt = count ? null : performance.now();
    let job = 0;
    function text(i) {
      let hay = cache[i];
      if (hay === undefined) hay = cache[i] = textOf(i).toLowerCase();
      return hay;
    }
    function advance(upto) {
      while (built < upto && cache[built] !== undefined) built++;
      if (built >= count && doneAt === null) doneAt = performance.now();
    }
    function warm() {
      idle(function slice(deadline) {
        while (built < count && deadline.timeRemaining() > 2) {
          const end = Math.min(count, built + 200);
          for (let i = built; i < end; i++) text(i);
          advance(end);
        }
        if (built < count) idle(slice);
      });
    }
    /* onDone(marks) gets a Uint8Array (1 = the item matches); onProgress(fraction) in between. */
    function find(needle, onDone, onProgress) {
      const mine = ++job;
      const marks = new Uint8Array(count);
      let i = 0;
      let longest = 0;
      function slice() {
        if (mine !== job) return;
        const start = performance.now();
        const stop = start + SLICE_MS;
        while (i < count) {
          const end = Math.min(count, i + 256);
          for (; i < end; i++) if (text(i).indexOf(needle) >= 0) marks[i] = 1;
          if (performance.now() >= stop) break;
        }
        advance(i);
        if (i < count) {
          if (onProgress) onProgress(i / count);
          setTimeout(slice, 0);
        } else {
          onDone(marks);
        }
        longest = Math.max(longest, performance.now() - start); // with the table's refresh
        status.longestSliceMs = Math.max(status.longestSliceMs || 0, longest);
      }
      slice();
    }
    return {
      warm, find,
      cancel: () => { job++; },
      ready: () => built >= count,
      readyAt: () => doneAt,
    };
  }

  /* A `Table` (100 rows a page) whose count line (`countEl`) says how many of the `noun` match and
     how long filtering took; each refresh is recorded in the page's status (for people and tests). */
  function countedTable(opts) {
    return new Table({
      ...opts,
      pageSize: 100,
      onRender: (stats) => {
        opts.countEl.textContent = stats.matched + " of " + opts.count + " " + opts.noun + " · filtered in " + stats.totalMs.toFixed(0) + " ms";
        status.last = stats;
        status.refreshes++;
      },
    });
  }

  /* The page's status object for people and tests: ready, timings of the last refresh. */
  const status = (window.thinkgymReport = { ready: false, openMs: null, last: null, refreshes: 0, errors: [] });
  window.addEventListener("error", (ev) => status.errors.push(String(ev.message)));
  window.addEventListener("unhandledrejection", (ev) => status.errors.push(String(ev.reason)));

  return {
    el, append, readData, loadChunks, num, shortNum, asText, componentsText, badge, debounce, answerSpan,
    textBlock, jsonBlock, kvTable, renderSample, rowDialog, Table, countedTable, select, searcher, status,
  };
})();
