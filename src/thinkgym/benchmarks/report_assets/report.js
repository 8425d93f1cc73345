/* report.html: the sample browser (filters, sortable paged table, the sample dialog). */
(function () {
  const status = TG.status;
  status.phases = { scriptStart: performance.now() }; // ms from navigation start
  const D = TG.readData("tg-data");
  const root = document.getElementById("tg-samples");
  const loading = TG.el("p", { cls: "note", text: "loading the samples…" });
  root.replaceChildren(loading);
  TG.loadChunks(D.chunks, (f) => { loading.textContent = "loading the samples… " + Math.round(f * 100) + " %"; })
    .then((samples) => {
      status.phases.dataParsed = performance.now();
      start(samples);
    });

  function start(S) {
    const ctx = { envs: D.envs, problems: D.problems, reasons: D.reasons };

    /* ---- filters ------------------------------------------------------------------------------ */
    const envCounts = new Array(D.envs.length).fill(0);
    const reasonCounts = new Array(D.reasons.length).fill(0);
    const outcomeCounts = { "1": 0, "0": 0, "-1": 0 };
    for (const s of S) {
      envCounts[s.e]++;
      if (s.w >= 0) reasonCounts[s.w]++;
      outcomeCounts[String(s.c)]++;
    }
    const reasonOrder = D.reasons.map((_, j) => j).sort((a, b) => reasonCounts[b] - reasonCounts[a] || a - b);
    const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

    const env = TG.select("env", [["", "all envs (" + S.length + ")"], ...D.envs.map((name, j) => [String(j), name + " (" + envCounts[j] + ")"])], () => apply());
    const outcome = TG.select("outcome", [
      ["", "all outcomes"],
      ["1", "correct (" + outcomeCounts["1"] + ")"],
      ["0", "not correct (" + outcomeCounts["0"] + ")"],
      ["-1", "failed (" + outcomeCounts["-1"] + ")"],
    ], () => apply());
    const reason = TG.select("reason", [["", "any reason"], ...reasonOrder.map((j) => [String(j), clip(D.reasons[j], 90) + " (" + reasonCounts[j] + ")"])], () => apply());
    const search = TG.el("input", { type: "search", placeholder: "text: completion, prompt, answer, id, reason", "aria-label": "search" });
    search.addEventListener("input", TG.debounce(() => apply(), 200));
    const pageSize = TG.select("rows per page", [["100", "100"], ["50", "50"], ["250", "250"], ["1000", "1000"]], () => table.setPageSize(Number(pageSize.node.value)));
    const count = TG.el("span", { cls: "count" });

    /* Text search: the prompts (shared by the samples of a problem) are searched once each. */
    const sampleText = TG.searcher(S.length, (i) => {
      const s = S[i];
      return [s.x, s.p, TG.asText(s.a), s.w >= 0 ? D.reasons[s.w] : "", s.why || ""].join("\n");
    });
    const problemText = TG.searcher(D.problems.length, (q) => [D.problems[q].prompt, TG.asText(D.problems[q].answer)].join("\n"));

    function apply() {
      const e = env.node.value === "" ? -1 : Number(env.node.value);
      const c = outcome.node.value === "" ? null : Number(outcome.node.value);
      const w = reason.node.value === "" ? -1 : Number(reason.node.value);
      const needle = search.value.trim().toLowerCase();
      const keep = (s) => (e < 0 || s.e === e) && (c === null || s.c === c) && (w < 0 || s.w === w);
      sampleText.cancel();
      problemText.cancel();
      if (!needle) {
        status.searching = false;
        return table.setFilter(e < 0 && c === null && w < 0 ? null : (i) => keep(S[i]));
      }
      status.searching = true;
      const started = performance.now();
      const progress = (f) => { count.textContent = "searching… " + Math.round(f * 100) + " %"; };
      problemText.find(needle, (inProblem) => {
        sampleText.find(needle, (inSample) => {
          status.searching = false;
          table.setFilter((i) => {
            const s = S[i];
            return keep(s) && (inSample[i] === 1 || inProblem[s.q] === 1);
          });
          status.lastSearchMs = performance.now() - started;
        }, progress);
      }, progress);
    }

    /* ---- the table ---------------------------------------------------------------------------- */
    const columns = [
      { id: "env", label: "env", value: (i) => D.envs[S[i].e] },
      { id: "problem", label: "problem", value: (i) => S[i].p, title: (i) => "problem index " + S[i].i },
      { id: "sample", label: "sample", num: true, value: (i) => S[i].s },
      { id: "reward", label: "reward", num: true, value: (i) => S[i].r, cell: (i) => TG.num(S[i].r) },
      { id: "components", label: "components", cls: "comp", value: (i) => TG.componentsText(S[i].k) },
      { id: "correct", label: "correct", value: (i) => S[i].c, cell: (i) => TG.badge(S[i].c) },
      { id: "reason", label: "reason", cls: "reason", value: (i) => (S[i].w >= 0 ? D.reasons[S[i].w] : ""), title: (i) => S[i].why || (S[i].w >= 0 ? D.reasons[S[i].w] : "") },
      { id: "length", label: "length (chars)", num: true, value: (i) => S[i].n, title: (i) => (S[i].t === null || S[i].t === undefined ? "" : S[i].t + " tokens") },
    ];
    const table = TG.countedTable({ count: S.length, columns, countEl: count, noun: "samples", onOpen: (i) => open(i) });

    /* ---- the sample dialog -------------------------------------------------------------------- */
    const dlg = TG.rowDialog(table, (i) => open(i), () => history.replaceState(null, "", "#samples"));
    function open(i) {
      const s = S[i];
      if (!s) return;
      dlg.title.textContent = D.envs[s.e] + " · problem " + s.p + " · sample " + s.s;
      dlg.body.replaceChildren(...TG.renderSample(s, ctx));
      dlg.shown(i);
      dlg.body.scrollTop = 0;
      history.replaceState(null, "", "#sample=" + encodeURIComponent(s.key));
    }

    /* ---- the summary's reason table filters the samples --------------------------------------- */
    for (const tr of document.querySelectorAll("table.reasons tbody tr")) {
      tr.classList.add("clickable");
      tr.addEventListener("click", () => {
        const cells = tr.querySelectorAll("td");
        const e = D.envs.indexOf(cells[0].textContent);
        const w = D.reasons.indexOf(cells[1].textContent);
        env.node.value = e >= 0 ? String(e) : "";
        reason.node.value = w >= 0 ? String(w) : "";
        outcome.node.value = "";
        search.value = "";
        apply();
        document.getElementById("samples").scrollIntoView();
      });
    }

    root.replaceChildren(
      TG.el("div", { cls: "controls" }, [env.wrap, outcome.wrap, reason.wrap, TG.el("label", null, ["search ", search]), pageSize.wrap, count]),
      table.root,
    );
    table.refresh();

    const hash = decodeURIComponent(location.hash || "");
    if (hash.startsWith("#sample=")) {
      const key = hash.slice("#sample=".length);
      const i = S.findIndex((s) => s.key === key);
      if (i >= 0) open(i);
    }
    status.api = { table, open, apply, controls: { env: env.node, outcome: outcome.node, reason: reason.node, search } };
    status.openMs = status.phases.firstPage = performance.now();
    sampleText.warm();
    problemText.warm();
    status.searchReady = () => sampleText.ready() && problemText.ready();
    /* ms from navigation start to the search index being complete (null while it is built) */
    status.searchReadyMs = () => (status.searchReady() ? Math.max(sampleText.readyAt(), problemText.readyAt()) : null);
    status.ready = true;
    document.body.dataset.ready = "1";
  }
})();
