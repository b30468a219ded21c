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
    const seed = Number(form.elements.seed ? form.elements.seed.value : 0) || 0;
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
    form.elements.problem.value = r() + '+' + r();
  }

  const RUNNERS = {reasoner: runReasoner};

  function wire(form) {
    const out = form.querySelector('output');
    const status = form.querySelector('.explainer-run-status');
    const rnd = form.querySelector('button[data-action=random]');
    if (rnd) rnd.addEventListener('click', () => randomProblem(form));
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      const run = RUNNERS[form.dataset.panel];
      if (!run) return;
      const button = form.querySelector('button[type=submit]');
      button.disabled = true;
      form.setAttribute('aria-busy', 'true');
      run(form, out, status).catch(err => {
        status.textContent = 'Something went wrong: ' + (err && err.message ? err.message : err);
      }).finally(() => {
        button.disabled = false;
        form.removeAttribute('aria-busy');
        form.dataset.runs = String(Number(form.dataset.runs || 0) + 1);
      });
    });
  }

  function init() { document.querySelectorAll('form.explainer-run').forEach(wire); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
