/* compare.html: the problems where two runs disagree (filters, sortable paged table, a dialog with
   both runs' samples side by side). */
(function () {
  const status = TG.status;
  const D = TG.readData("tg-data");
  const loading = TG.el("p", { cls: "note", text: "loading the problems…" });
  document.getElementById("tg-compare").replaceChildren(loading);
  TG.loadChunks(D.chunks, (f) => { loading.textContent = "loading the problems… " + Math.round(f * 100) + " %"; })
    .then(start);

  function start(items) {
    const ctx = { envs: D.envs, problems: D.problems, reasons: D.reasons };
    const root = document.getElementById("tg-compare");
    const delta = (it, key) => (it.b[key] === null || it.a[key] === null ? null : it.b[key] - it.a[key]);
    const share = (side) => side.c + " / " + side.n;
    const signed = (x) => (typeof x === "number" ? (x > 0 ? "+" : "") + x.toFixed(3) : "–");

    const envCounts = new Array(D.envs.length).fill(0);
    for (const it of items) envCounts[it.e]++;
    const env = TG.select("env", [["", "all envs (" + items.length + ")"], ...D.envs.map((name, j) => [String(j), name + " (" + envCounts[j] + ")"])], () => apply());
    const direction = TG.select("which run does better", [
      ["", "either"],
      ["b", "B better"],
      ["a", "A better"],
      ["reward", "same correctness, reward differs"],
    ], () => apply());
    const search = TG.el("input", { type: "search", placeholder: "text: problem id, prompt, completions", "aria-label": "search" });
    search.addEventListener("input", TG.debounce(() => apply(), 200));
    const count = TG.el("span", { cls: "count" });

    const itemText = TG.searcher(items.length, (i) => {
      const it = items[i];
      const p = D.problems[it.q] || {};
      return [it.p, p.prompt, TG.asText(p.answer), ...it.sa.map((s) => s.x), ...it.sb.map((s) => s.x)].join("\n");
    });

    function better(it) {
      const da = delta(it, "acc");
      if (it.kind === "reward") return "reward";
      return da > 0 ? "b" : "a";
    }

    function apply() {
      const e = env.node.value === "" ? -1 : Number(env.node.value);
      const dir = direction.node.value;
      const needle = search.value.trim().toLowerCase();
      const keep = (it) => (e < 0 || it.e === e) && (!dir || better(it) === dir);
      itemText.cancel();
      if (!needle) {
        status.searching = false;
        return table.setFilter(e < 0 && !dir ? null : (i) => keep(items[i]));
      }
      status.searching = true;
      itemText.find(needle, (marks) => {
        status.searching = false;
        table.setFilter((i) => marks[i] === 1 && keep(items[i]));
      }, (f) => { count.textContent = "searching… " + Math.round(f * 100) + " %"; });
    }

    const columns = [
      { id: "env", label: "env", value: (i) => D.envs[items[i].e] },
      { id: "problem", label: "problem", value: (i) => items[i].p },
      { id: "a", label: "A correct", num: true, value: (i) => items[i].a.acc, cell: (i) => share(items[i].a) },
      { id: "b", label: "B correct", num: true, value: (i) => items[i].b.acc, cell: (i) => share(items[i].b) },
      { id: "dacc", label: "Δ accuracy", num: true, value: (i) => delta(items[i], "acc"), cell: (i) => signed(delta(items[i], "acc")) },
      { id: "ra", label: "A reward", num: true, value: (i) => items[i].a.r, cell: (i) => TG.num(items[i].a.r) },
      { id: "rb", label: "B reward", num: true, value: (i) => items[i].b.r, cell: (i) => TG.num(items[i].b.r) },
      { id: "dr", label: "Δ reward", num: true, value: (i) => delta(items[i], "r"), cell: (i) => signed(delta(items[i], "r")) },
    ];
    const table = TG.countedTable({ count: items.length, columns, countEl: count, noun: "problems", onOpen: (i) => open(i) });

    const dlg = TG.rowDialog(table, (i) => open(i));
    function sideView(label, run, samples) {
      const blocks = samples.map((s) => TG.el("div", { cls: "sample-block" }, [TG.el("h3", { text: "sample " + s.s }), ...TG.renderSample(s, ctx, { problem: false })]));
      return TG.el("div", { cls: "side" }, [TG.el("h2", { text: label + ": " + (run.policy || "") }), TG.el("p", { cls: "muted", text: run.dir || "" }), ...blocks]);
    }
    function open(i) {
      const it = items[i];
      if (!it) return;
      const p = D.problems[it.q] || {};
      dlg.title.textContent = D.envs[it.e] + " · problem " + it.p + " · A " + share(it.a) + " correct, B " + share(it.b);
      dlg.body.replaceChildren(
        TG.el("h3", { text: "Gold answer" }), TG.textBlock(TG.asText(p.answer) || "(none recorded)", null, "gold"),
        TG.el("h3", { text: "Prompt" }), TG.textBlock(p.prompt || "", null, "prompt"),
        TG.el("div", { cls: "sides" }, [sideView("A", D.runs.a, it.sa), sideView("B", D.runs.b, it.sb)]),
      );
      dlg.shown(i);
    }

    root.replaceChildren(
      TG.el("div", { cls: "controls" }, [env.wrap, direction.wrap, TG.el("label", null, ["search ", search]), count]),
      table.root,
    );
    table.refresh();
    itemText.warm();
    status.api = { table, open, apply, controls: { env: env.node, direction: direction.node, search } };
    status.openMs = performance.now();
    status.ready = true;
    document.body.dataset.ready = "1";
  }
})();
