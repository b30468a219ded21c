/* Run the book's models in the reader's browser (explainer.panels, explainer.onnx_export).
 *
 * Each panel is a <form class="explainer-run" data-panel="reasoner">. Nothing is downloaded
 * until the reader presses the form's button: then this script loads onnxruntime-web
 * (WebAssembly, one thread, so no cross-origin-isolation headers are needed) and the chosen
 * model from the site's own _static/, runs it, and writes the result into the form's
 * <output>. Text from the model or the reader only ever enters the page as text nodes.
 */
(function () {
  'use strict';
  const me = document.currentScript;
  const STATIC = me ? me.src.replace(/[^/]*$/, '') : '_static/';
  let ortPromise = null;
  let manifestPromise = null;
  const sessions = {};

  function loadOrt() {
    if (!ortPromise) {
      ortPromise = new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = STATIC + 'ort/ort.wasm.min.js';
        s.onload = () => {
          /* global ort */
          ort.env.wasm.numThreads = 1;
          ort.env.wasm.proxy = false;
          ort.env.wasm.wasmPaths = STATIC + 'ort/';
          ort.env.logLevel = 'error';
          resolve(ort);
        };
        s.onerror = () => { ortPromise = null; reject(new Error('the model runtime could not be loaded')); };
        document.head.appendChild(s);
      });
    }
    return ortPromise;
  }

  function manifest() {
    if (!manifestPromise) {
      manifestPromise = fetch(STATIC + 'models/models.json').then(r => {
        if (!r.ok) throw new Error('the list of models could not be loaded');
        return r.json();
      });
    }
    return manifestPromise;
  }

  async function session(file) {
    const ort = await loadOrt();
    if (!sessions[file]) {
      sessions[file] = ort.InferenceSession.create(STATIC + 'models/' + file,
        {executionProviders: ['wasm'], graphOptimizationLevel: 'all'});
    }
    return sessions[file];
  }

  /* A small seeded generator (mulberry32), so a reader's "seed" gives the same samples. */
  function rng(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function pick(logits, off, V, temperature, rand) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[off + j] > logits[off + best]) best = j;
    if (!(temperature > 0)) return best; /* greedy: the first maximum, as torch.argmax */
    const w = new Float64Array(V);
    let total = 0;
    for (let j = 0; j < V; j++) {
      w[j] = Math.exp((logits[off + j] - logits[off + best]) / temperature);
      total += w[j];
    }
    let u = rand() * total;
    for (let j = 0; j < V; j++) { u -= w[j]; if (u <= 0) return j; }
    return V - 1;
  }

  /* Decode `rows` prompts together (full recompute each step: the models are tiny). */
  async function generate(sess, vocab, prompts, steps, temperature, rand, stopChar) {
    const ort = await loadOrt();
    const V = vocab.length;
    const stop = vocab.indexOf(stopChar);
    const rows = prompts.map(p => Array.from(p, c => vocab.indexOf(c)));
    const done = rows.map(() => false);
    for (let s = 0; s < steps && !done.every(Boolean); s++) {
      const T = rows[0].length;
      const ids = new BigInt64Array(rows.length * T);
      rows.forEach((r, i) => r.forEach((t, j) => { ids[i * T + j] = BigInt(t); }));
      const out = await sess.run({idx: new ort.Tensor('int64', ids, [rows.length, T])});
      const logits = out.logits.data;
      rows.forEach((r, i) => {
        const next = done[i] ? stop : pick(logits, (i * T + T - 1) * V, V, temperature, rand);
        r.push(next);
        if (next === stop) done[i] = true;
      });
    }
    return rows.map(r => {
      const text = r.map(t => vocab[t]).join('');
      const end = text.indexOf(stopChar, prompts[0].length);
      return end >= 0 ? text.slice(0, end + 1) : text;
    });
  }

  /* ------------------------------------------------------------------ the reasoner */
  const PROBLEM = /^(\d+)\+(\d+)$/;

  function parseAnswer(text, fmt) { /* explainer.reasoning.parse_answer */
    const eq = text.indexOf('=');
    if (eq < 0) return null;
    let body = text.slice(eq + 1);
    if (fmt === 'cot' || (fmt === 'mixed' && body.includes('>'))) {
      const gt = body.indexOf('>');
      if (gt < 0) return null;
      body = body.slice(gt + 1);
    }
    const dot = body.indexOf('.');
    if (dot < 0) return null;
    const answer = body.slice(0, dot);
    return /^\d+$/.test(answer) ? BigInt(answer) : null;
  }

  function checkProblem(text, maxDigits) {
    const clean = text.replace(/\s+/g, '');
    const m = PROBLEM.exec(clean);
    if (!m) {
      const odd = [...new Set(clean.replace(/[0-9+]/g, ''))];
      return {error: odd.length
        ? 'The model reads only digits and one "+"; it cannot read ' + odd.map(c => '"' + c + '"').join(', ') + '.'
        : 'Type an addition such as 123+456.'};
    }
    if (m[1].length > maxDigits || m[2].length > maxDigits) {
      return {error: 'Each number may have 1 to ' + maxDigits + ' digits: the models were trained on that range.'};
    }
    const pad = s => s.padStart(maxDigits, '0').slice(-maxDigits);
    return {a: BigInt(m[1]), b: BigInt(m[2]), prompt: pad(m[1]) + '+' + pad(m[2]) + '='};
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function runReasoner(form, out, status) {
    const m = await manifest();
    const name = form.elements.model.value;
    const info = m.reasoners[name];
    if (!info) throw new Error('unknown model ' + name);
    const problem = checkProblem(form.elements.problem.value, info.max_digits);
    if (problem.error) { status.textContent = problem.error; form.elements.problem.setAttribute('aria-invalid', 'true'); return; }
    form.elements.problem.removeAttribute('aria-invalid');
    const n = Number(form.elements.samples.value);
    const temperature = Number(form.elements.temperature.value);
    if (!Number.isInteger(n) || n < 1 || n > 16) { status.textContent = 'Samples must be a whole number from 1 to 16.'; return; }
    if (!(temperature >= 0 && temperature <= 2)) { status.textContent = 'Temperature must be between 0 and 2.'; return; }
    /* each press draws fresh samples; the sequence of presses is the same on every visit */
    const seed = Number(form.elements.seed ? form.elements.seed.value : 0) + Number(form.dataset.runs || 0);
    status.textContent = sessions[info.file] ? 'Thinking…' : 'Loading the model (' + Math.round(info.bytes / 1024) + ' KB) and the runtime…';
    const t0 = performance.now();
    const sess = await session(info.file);
    const tLoaded = performance.now();
    status.textContent = 'Thinking…';
    const prompts = Array(n).fill(problem.prompt);
    const texts = await generate(sess, info.vocab, prompts, info.completion_len, temperature, rng(seed), '.');
    const t1 = performance.now();
    const truth = problem.a + problem.b;
    const answers = texts.map(t => parseAnswer(t, info.fmt));
    out.replaceChildren();
    const list = el('ol', 'explainer-run-samples');
    texts.forEach((t, i) => {
      const li = el('li');
      const ok = answers[i] !== null && answers[i] === truth;
      li.appendChild(el('code', 'explainer-run-text', t.slice(problem.prompt.length)));
      li.appendChild(el('span', ok ? 'explainer-run-right' : 'explainer-run-wrong',
        ok ? ' right' : (answers[i] === null ? ' no answer' : ' wrong')));
      li.dataset.text = t;
      list.appendChild(li);
    });
    out.appendChild(list);
    const counts = new Map();
    answers.forEach(a => { if (a !== null) counts.set(a, (counts.get(a) || 0) + 1); });
    let vote = null, best = 0;
    for (const [a, c] of counts) if (c > best) { vote = a; best = c; } /* ties: first seen */
    const right = answers.filter(a => a !== null && a === truth).length;
    const chars = texts.reduce((s, t) => s + t.length - problem.prompt.length, 0);
    out.appendChild(el('p', 'explainer-run-summary',
      right + ' of ' + n + ' right (' + problem.a + ' + ' + problem.b + ' = ' + truth + ')' +
      (n > 1 ? '; majority vote: ' + (vote === null ? 'none' : vote + (vote === truth ? ', right' : ', wrong')) : '') +
      '. ' + chars + ' characters in ' + Math.round(t1 - tLoaded) + ' ms.'));
    form.dataset.msToFirst = String(Math.round(t1 - t0));
    form.dataset.charsPerSecond = String(Math.round(chars / Math.max(1e-3, (t1 - tLoaded) / 1000)));
    status.textContent = 'Done.';
  }

  function randomProblem(form) {
    const d = Number(form.dataset.maxDigits || 5);
    const r = () => String(Math.floor(Math.random() * 10 ** (1 + Math.floor(Math.random() * d))));
    if (form.elements.problems) form.elements.problems.value = [1, 2, 3, 4].map(() => r() + '+' + r()).join(', ');
    else form.elements.problem.value = r() + '+' + r();
  }

  /* ------------------------------------------- learning to think: the GRPO run's steps */
  async function sampleStep(m, step, problems, n, temperature, seed) {
    const base = m.reasoners.base, ck = m.run.checkpoints[String(step)];
    const sess = await session(ck.file);
    const prompts = problems.flatMap(p => Array(n).fill(p.prompt));
    /* the same seed at every step, so that steps differ only by their weights */
    const texts = await generate(sess, base.vocab, prompts, base.completion_len, temperature, rng(seed), '.');
    return texts.map((t, i) => {
      const p = problems[Math.floor(i / n)], ans = parseAnswer(t, base.fmt);
      return {problem: p, text: t.slice(p.prompt.length), right: ans !== null && ans === p.a + p.b,
              scratchpad: t.slice(t.indexOf('=') + 1).includes('>')};
    });
  }

  function stepTable(results, steps) {
    const table = el('table', 'explainer-run-steps');
    table.appendChild(el('caption', null, 'What the model wrote at each step you sampled'));
    const head = el('tr');
    ['training step', 'answers with a scratchpad', 'right answers'].forEach(h => {
      const th = el('th', null, h); th.scope = 'col'; head.appendChild(th);
    });
    table.appendChild(head);
    steps.filter(s => results[s]).forEach(s => {
      const r = results[s], tr = el('tr');
      const th = el('th', null, String(s)); th.scope = 'row'; tr.appendChild(th);
      const pct = k => Math.round(100 * r.filter(x => x[k]).length / r.length) + '% (' +
        r.filter(x => x[k]).length + ' of ' + r.length + ')';
      tr.appendChild(el('td', null, pct('scratchpad')));
      tr.appendChild(el('td', null, pct('right')));
      tr.dataset.step = String(s);
      table.appendChild(tr);
    });
    return table;
  }

  async function runRun(form, out, status, sweep) {
    const m = await manifest();
    const info = m.reasoners.base, box = form.elements.problems;
    const fail = msg => { status.textContent = msg; box.setAttribute('aria-invalid', 'true'); };
    const parts = box.value.split(/[,;\n]+/).map(x => x.trim()).filter(Boolean);
    if (!parts.length) return fail('Type one or more additions, separated by commas.');
    if (parts.length > 8) return fail('At most 8 additions at once (there are ' + parts.length + ').');
    const problems = [];
    for (const part of parts) {
      const p = checkProblem(part, info.max_digits);
      if (p.error) return fail('"' + part + '": ' + p.error);
      problems.push(p);
    }
    const n = Number(form.elements.samples.value);
    const temperature = Number(form.elements.temperature.value);
    if (!Number.isInteger(n) || n < 1 || n > 8) return fail('Samples each must be a whole number from 1 to 8.');
    if (!(temperature >= 0 && temperature <= 2)) return fail('Temperature must be between 0 and 2.');
    box.removeAttribute('aria-invalid');
    const key = box.value + '|' + n + '|' + temperature;
    if (form._runKey !== key) { form._runKey = key; form._runResults = {}; }  /* new question: new table */
    const results = form._runResults;
    const steps = m.run.steps;
    const todo = sweep ? steps : [Number(form.elements.step.value)];
    const seed = Number(form.elements.seed.value || 0);
    const t0 = performance.now();
    for (const step of todo) {
      const ck = m.run.checkpoints[String(step)];
      status.textContent = (sessions[ck.file] ? 'Sampling' : 'Loading (' + Math.round(ck.bytes / 1024) +
        ' KB) and sampling') + ' step ' + step + '…';
      results[step] = await sampleStep(m, step, problems, n, temperature, seed);
      if (sweep) form.elements.step.value = String(step);
      out.replaceChildren(stepTable(results, steps));
    }
    const last = todo[todo.length - 1];
    const list = el('ol', 'explainer-run-samples');
    list.setAttribute('aria-label', 'answers at step ' + last);
    results[last].forEach(r => {
      const li = el('li');
      li.appendChild(el('code', 'explainer-run-text', r.problem.prompt + r.text));
      li.appendChild(el('span', r.right ? 'explainer-run-right' : 'explainer-run-wrong', r.right ? ' right' : ' wrong'));
      li.dataset.text = r.problem.prompt + r.text;
      list.appendChild(li);
    });
    out.appendChild(el('p', 'explainer-run-summary', 'The answers at step ' + last +
      ' (a scratchpad is the working between "=" and ">"):'));
    out.appendChild(list);
    form.dataset.msToFirst = String(Math.round(performance.now() - t0));
    status.textContent = 'Done.';
  }

  /* ---------------------------------------------- predicting two tokens at once (MTP) */
  function argmaxAt(data, off, V) {
    let best = 0;
    for (let j = 1; j < V; j++) if (data[off + j] > data[off + best]) best = j;
    return best;
  }

  function idsTensor(ort, ids) {
    return new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  }

  /* Greedy decoding, one main-model pass per character (no cache: the model is tiny). */
  async function plainGreedy(ort, main, ids, n, V) {
    const toks = ids.slice();
    for (let i = 0; i < n; i++) {
      const r = await main.run({idx: idsTensor(ort, toks)});
      toks.push(argmaxAt(r.logits.data, (toks.length - 1) * V, V));
    }
    return {out: toks.slice(ids.length), passes: n};
  }

  /* Greedy self-speculative decoding with MTP module 1 (V3 §2.2 and §5.4.3): the module
     drafts the character after next from the main model's hidden state; the next main pass
     checks the draft and, if it agrees, also yields one more character. Lossless: the text
     equals plain greedy decoding. */
  async function speculativeGreedy(ort, main, draft, ids, n, V, d) {
    const toks = ids.slice();
    let r = await main.run({idx: idsTensor(ort, toks)});
    let passes = 1, drafted = 0, accepted = 0, draftPasses = 0;
    toks.push(argmaxAt(r.logits.data, (toks.length - 1) * V, V));
    const marks = [false];
    let H = r.hidden.data.slice(0, (toks.length - 1) * d); /* final hidden states 0..N-1 */
    while (toks.length - ids.length < n) {
      const N = toks.length - 1;
      const dr = await draft.run({
        hidden: new ort.Tensor('float32', H, [1, N, d]),
        next_ids: idsTensor(ort, toks.slice(1, N + 1))});
      draftPasses++;
      const guess = argmaxAt(dr.logits.data, (N - 1) * V, V);
      r = await main.run({idx: idsTensor(ort, toks.concat([guess]))});
      passes++; drafted++;
      const check = argmaxAt(r.logits.data, N * V, V);
      if (check === guess) {
        accepted++;
        toks.push(guess); marks.push(true);
        if (toks.length - ids.length < n) {
          toks.push(argmaxAt(r.logits.data, (N + 1) * V, V)); marks.push(false);
        }
        H = r.hidden.data.slice(0, (N + 2) * d);
      } else {
        toks.push(check); marks.push(false);
        H = r.hidden.data.slice(0, (N + 1) * d);
      }
    }
    return {out: toks.slice(ids.length, ids.length + n), marks: marks.slice(0, n), passes,
            drafted, accepted, draftPasses};
  }

  async function runMTP(form, out, status) {
    const m = await manifest();
    const info = m.mtp[form.elements.model ? form.elements.model.value : 'mtp'];
    const prompt = form.elements.prompt.value;
    const n = Number(form.elements.chars.value);
    const box = form.elements.prompt;
    const fail = msg => { status.textContent = msg; box.setAttribute('aria-invalid', 'true'); };
    if (!prompt.length) return fail('Type a few words to continue.');
    const odd = [...new Set([...prompt].filter(c => !info.vocab.includes(c)))];
    if (odd.length) return fail('The model has never seen ' + odd.map(c => '"' + c + '"').join(', ') +
      ': it knows plain English letters, digits and punctuation.');
    if (!Number.isInteger(n) || n < 1) return fail('Characters to write must be a whole number of at least 1.');
    const room = info.block_size - 1 - n;
    if (prompt.length > room) return fail('The model reads at most ' + info.block_size +
      ' characters: with ' + n + ' to write, the prompt may have at most ' + Math.max(room, 0) +
      ' (it has ' + prompt.length + ').');
    box.removeAttribute('aria-invalid');
    status.textContent = sessions[info.main] ? 'Writing…' : 'Loading the model (' +
      Math.round(info.bytes / 1024) + ' KB) and the runtime…';
    const t0 = performance.now();
    const ort = await loadOrt();
    const main = await session(info.main), draft = await session(info.draft);
    status.textContent = 'Writing…';
    const ids = Array.from(prompt, c => info.vocab.indexOf(c));
    const V = info.vocab.length;
    const tA = performance.now();
    const plain = await plainGreedy(ort, main, ids, n, V);
    const tB = performance.now();
    const spec = await speculativeGreedy(ort, main, draft, ids, n, V, info.n_embd);
    const tC = performance.now();
    out.replaceChildren();
    const p = el('p', 'explainer-run-passage');
    p.appendChild(el('span', 'explainer-run-prompt', prompt));
    spec.out.forEach((t, i) => {
      const ch = info.vocab[t];
      p.appendChild(spec.marks[i] ? el('mark', 'explainer-run-accepted', ch) : document.createTextNode(ch));
    });
    out.appendChild(p);
    const same = plain.out.join(',') === spec.out.join(',');
    const rate = spec.drafted ? spec.accepted / spec.drafted : 0;
    out.appendChild(el('p', 'explainer-run-summary',
      'Highlighted: drafts the main model accepted. ' + spec.accepted + ' of ' + spec.drafted +
      ' drafts accepted (' + Math.round(100 * rate) + '%), ' + (n / spec.passes).toFixed(2) +
      ' characters per main-model pass. ' + (same ? 'Same text as plain decoding, character for character.'
        : 'The text differs from plain decoding (it should not).') + ' Time here: plain ' +
      Math.round(tB - tA) + ' ms, speculative ' + Math.round(tC - tB) + ' ms.'));
    form.dataset.plain = plain.out.map(t => info.vocab[t]).join('');
    form.dataset.speculative = spec.out.map(t => info.vocab[t]).join('');
    form.dataset.acceptance = String(rate);
    form.dataset.msToFirst = String(Math.round(tB - t0));
    form.dataset.charsPerSecond = String(Math.round(n / Math.max(1e-3, (tB - tA) / 1000)));
    status.textContent = 'Done.';
  }

  /* ------------------------------------------------------------ experts on call (MoE) */
  async function runMoE(form, out, status) {
    const m = await manifest();
    const runs = ['none', 'aux_loss', 'bias'].filter(r => m.moe[r]);  /* the chapter's order */
    const text = form.elements.sentence.value;
    const box = form.elements.sentence;
    const fail = msg => { status.textContent = msg; box.setAttribute('aria-invalid', 'true'); };
    const first = m.moe[runs[0]];
    if (text.length < 2) return fail('Type at least two characters.');
    const odd = [...new Set([...text].filter(c => !first.vocab.includes(c)))];
    if (odd.length) return fail('These models never saw ' + odd.map(c => '"' + c + '"').join(', ') +
      ' in training: leave ' + (odd.length > 1 ? 'them' : 'it') + ' out.');
    if (text.length > first.block_size) return fail('The models read at most ' + first.block_size +
      ' characters at once (this has ' + text.length + ').');
    box.removeAttribute('aria-invalid');
    const total = runs.reduce((s, r) => s + m.moe[r].bytes, 0);
    status.textContent = sessions[first.file] ? 'Routing…' : 'Loading three models (' +
      Math.round(total / 1024) + ' KB) and the runtime…';
    const ort = await loadOrt();
    out.replaceChildren();
    for (const run of runs) {
      const info = m.moe[run];
      const sess = await session(info.file);
      const ids = Array.from(text, c => info.vocab.indexOf(c));
      const r = await sess.run({idx: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length])});
      const ex = r.experts.data, T = ids.length, k = info.top_k;
      const fig = el('figure', 'explainer-run-routing');
      fig.appendChild(el('figcaption', null, info.label));
      const wrap = el('div', 'explainer-run-scroll');
      wrap.tabIndex = 0;
      wrap.setAttribute('aria-label', info.label + ': top expert per character, scrolls sideways');
      const table = el('table', 'explainer-run-experts');
      const head = el('tr');
      head.appendChild(el('th', null, 'layer'));
      [...text].forEach(c => head.appendChild(el('th', null, c === ' ' ? '␣' : c)));
      table.appendChild(head);
      const load = new Array(info.n_experts).fill(0);
      for (let l = 0; l < info.n_layer; l++) {
        const row = el('tr');
        row.appendChild(el('th', null, String(l + 1)));
        for (let t = 0; t < T; t++) {
          const e = Number(ex[(l * T + t) * k]);
          for (let j = 0; j < k; j++) load[Number(ex[(l * T + t) * k + j])]++;
          const td = el('td', 'explainer-expert-' + e, String(e));
          td.title = 'layer ' + (l + 1) + ', "' + text[t] + '": experts ' +
            Array.from({length: k}, (_, j) => Number(ex[(l * T + t) * k + j])).join(' and ');
          row.appendChild(td);
        }
        table.appendChild(row);
      }
      wrap.appendChild(table);
      fig.appendChild(wrap);
      const busiest = Math.max(...load), mean = load.reduce((a, b) => a + b, 0) / load.length;
      fig.appendChild(el('p', 'explainer-run-summary', 'Choices per expert (both layers, top ' + k +
        '): ' + load.join(', ') + '. The busiest expert gets ' + (busiest / mean).toFixed(2) +
        '× the average.'));
      fig.dataset.run = run;
      fig.dataset.experts = Array.from(ex, Number).join(',');
      out.appendChild(fig);
    }
    form.dataset.charsPerSecond = '';
    status.textContent = 'Done.';
  }

  const RUNNERS = {reasoner: runReasoner, run: runRun, mtp: runMTP, moe: runMoE};

  function wire(form) {
    const out = form.querySelector('output');
    const status = form.querySelector('.explainer-run-status');
    const rnd = form.querySelector('button[data-action=random]');
    if (rnd) rnd.addEventListener('click', () => randomProblem(form));
    const buttons = form.querySelectorAll('button[type=submit], button[data-action=sweep]');
    function start(sweep) {
      const run = RUNNERS[form.dataset.panel];
      if (!run || form.getAttribute('aria-busy') === 'true') return;
      buttons.forEach(b => { b.disabled = true; });
      form.setAttribute('aria-busy', 'true');
      run(form, out, status, sweep).catch(err => {
        status.textContent = 'Something went wrong: ' + (err && err.message ? err.message : err);
      }).finally(() => {
        buttons.forEach(b => { b.disabled = false; });
        form.removeAttribute('aria-busy');
        form.dataset.runs = String(Number(form.dataset.runs || 0) + 1);
      });
    }
    const sweepButton = form.querySelector('button[data-action=sweep]');
    if (sweepButton) sweepButton.addEventListener('click', () => start(true));
    form.addEventListener('submit', ev => { ev.preventDefault(); start(false); });
  }

  function init() { document.querySelectorAll('form.explainer-run').forEach(wire); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
