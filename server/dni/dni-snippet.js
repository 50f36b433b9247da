/* calltrack dynamic number insertion. <script src="https://…/dni.js" data-site-key="…" async></script>
 * Swaps the site's default number (text in any formatting, and tel: links) for a tracking number.
 * Elements with data-dni-skip (or data-no-swap) keep their numbers. window.CallTrackDNI.rerun()
 * re-scans the page; DOM added later is scanned automatically. Any error or an answer slower than
 * TIMEOUT_MS leaves the default number in place.
 * Forms marked data-ct-form are reported as leads when submitted (name, phone, e-mail only: never
 * passwords or card fields), with the visitor's session; the site's own submission goes on unchanged. */
(() => {
  
  var TIMEOUT_MS = 1000;
  var script = document.currentScript;
  if (!script || window.CallTrackDNI) return;
  var siteKey = script.getAttribute('data-site-key');
  if (!siteKey) return;
  var api = new URL(script.src, location.href).origin;
  var storeKey = 'calltrack-dni:' + siteKey;
  var SKIP = '[data-dni-skip],[data-no-swap],script,style,noscript,textarea,input,select,[contenteditable="true"]';
  var state = { sessionId: null, from: null, to: null, display: null, keepAliveSeconds: 60 };
  var timer = null;
  var observer = null;

  function digits(s) { return String(s).replace(/\D/g, ''); }
  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : undefined;
  }
  function gaClientId() {
    var ga = cookie('_ga'); // GA1.1.1234567890.1700000000 → 1234567890.1700000000
    if (!ga) return undefined;
    var p = ga.split('.');
    return p.length >= 4 ? p.slice(-2).join('.') : undefined;
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey) || 'null'); } catch (e) { return null; }
  }
  function save(v) {
    try { localStorage.setItem(storeKey, JSON.stringify(v)); } catch (e) { /* private mode */ }
  }

  function post(path, body) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var t = setTimeout(() => { if (ctl) ctl.abort(); }, TIMEOUT_MS);
    // text/plain keeps it a simple CORS request (no preflight); the server sets the visitor cookie.
    return fetch(api + path, {
      method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(body || {}), signal: ctl ? ctl.signal : undefined, keepalive: true,
    }).then((r) => {
      clearTimeout(t);
      if (!r.ok) throw new Error('dni ' + r.status);
      return r.json();
    }, (e) => { clearTimeout(t); throw e; });
  }

  /* A pattern for the national digits of `e164` with any separators, optionally preceded by the
   * country code (+7, 7, 8 for Russia's trunk prefix) — "+7 (495) 123-45-67", "84951234567", … */
  function patternFor(e164) {
    var d = digits(e164);
    var nsnLen = d.length >= 11 ? 10 : d.length - 1; // national significant number: good for +7/+1 and most 10-digit plans
    var cc = d.slice(0, d.length - nsnLen);
    var nsn = d.slice(cc.length);
    var sep = '[\\s\\u00a0().\\-\\u2010-\\u2015]*';
    var prefix = '(?:\\+?' + cc + sep + (cc === '7' ? '|8' + sep : '') + ')?';
    return { re: new RegExp('(^|[^\\d])(' + prefix + nsn.split('').join(sep) + ')(?!\\d)', 'g'), nsn: nsn, cc: cc };
  }

  /* Keeps the page's own formatting: the last digits of the match are replaced one by one. */
  function reformat(matched, from, to, display) {
    var nsnTo = digits(to).slice(from.cc.length);
    if (digits(to).slice(0, from.cc.length) !== from.cc || nsnTo.length !== from.nsn.length) return display;
    var out = matched.split('');
    var j = nsnTo.length - 1;
    for (var i = out.length - 1; i >= 0 && j >= 0; i--) {
      if (/\d/.test(out[i])) { out[i] = nsnTo[j]; j--; }
    }
    return out.join('');
  }

  function swapIn(root, fromE164, toE164, display) {
    if (!root || !fromE164 || !toE164 || fromE164 === toE164) return;
    var p = patternFor(fromE164);
    var el = root.nodeType === 1 ? root : root.parentElement;
    if (el && el.closest && el.closest(SKIP)) return;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, {
      acceptNode: (n) => {
        if (n.nodeType === 1) return n.matches && n.matches(SKIP) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    var texts = [];
    if (root.nodeType === 3) texts.push(root);
    while (walker.nextNode()) texts.push(walker.currentNode);
    for (var i = 0; i < texts.length; i++) {
      var node = texts[i];
      p.re.lastIndex = 0;
      if (!p.re.test(node.nodeValue)) continue;
      p.re.lastIndex = 0;
      node.nodeValue = node.nodeValue.replace(p.re, (_m, lead, num) => lead + reformat(num, p, toE164, display));
    }
    var links = root.nodeType === 1 ? [].slice.call(root.querySelectorAll('a[href^="tel:"]')) : [];
    if (root.nodeType === 1 && root.matches('a[href^="tel:"]')) links.push(root);
    var fromNsn = p.nsn;
    for (var k = 0; k < links.length; k++) {
      var a = links[k];
      if (a.closest(SKIP)) continue;
      var href = digits(a.getAttribute('href'));
      if (href.slice(-fromNsn.length) === fromNsn) a.setAttribute('href', 'tel:' + toE164);
    }
  }

  function apply(root) {
    if (state.to && state.from) swapIn(root || document.body, state.from, state.to, state.display);
  }

  function show(res, defaultNumber) {
    // A keep-alive may move the visitor to another number (or back to the default): swap what is shown now.
    var shown = state.to || defaultNumber;
    state.from = defaultNumber;
    if (shown && shown !== defaultNumber && shown !== res.number) swapIn(document.body, shown, res.number, res.displayNumber);
    state.to = res.number;
    state.display = res.displayNumber;
    state.keepAliveSeconds = res.keepAliveSeconds || 60;
    apply();
    window.CallTrackDNI.number = res.number;
  }

  function watch() {
    if (observer || typeof MutationObserver !== 'function') return;
    var queued = [];
    observer = new MutationObserver((records) => {
      for (var i = 0; i < records.length; i++) {
        var r = records[i];
        if (r.type === 'characterData') queued.push(r.target);
        for (var j = 0; j < r.addedNodes.length; j++) queued.push(r.addedNodes[j]);
      }
      var batch = queued; queued = [];
      for (var k = 0; k < batch.length; k++) if (batch[k].isConnected) apply(batch[k]);
    });
    observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  }

  function keepAlive() {
    if (!state.sessionId || document.visibilityState !== 'visible') return;
    post('/v1/dni/sessions/' + state.sessionId + '/keepalive').then((res) => {
      show(res, state.from);
      remember();
    }, () => { /* next beat retries; the number stays */ });
  }

  function schedule() {
    clearInterval(timer);
    timer = setInterval(keepAlive, state.keepAliveSeconds * 1000);
  }

  function remember() {
    save({ sessionId: state.sessionId, number: state.to, displayNumber: state.display, defaultNumber: state.from, keepAliveSeconds: state.keepAliveSeconds, at: Date.now() });
  }

  /* The lead fields of a form, each recognised by type, autocomplete or name. Passwords, hidden
   * fields and anything that looks like a card, CVC or secret are never read. */
  var NEVER = /pass|card|cc-|cvc|cvv|csc|secret|token|iban|account/i;
  function formFields(form) {
    var out = {};
    var els = form.elements || [];
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var type = (el.type || '').toLowerCase();
      var auto = (el.getAttribute('autocomplete') || '').toLowerCase();
      var name = (el.name || el.id || '').toLowerCase();
      if (!el.value || type === 'password' || type === 'hidden' || type === 'file' || NEVER.test(name) || NEVER.test(auto)) continue;
      var value = String(el.value).slice(0, 500);
      if (!out.phone && (type === 'tel' || auto === 'tel' || /phone|tel/.test(name))) out.phone = value.slice(0, 40);
      else if (!out.email && (type === 'email' || auto === 'email' || /mail/.test(name))) out.email = value;
      else if (!out.name && (auto === 'name' || /(^|[^a-z])name|fio|имя/.test(name))) out.name = value;
    }
    return out;
  }

  function captureForms() {
    document.addEventListener('submit', (event) => {
      var form = event.target;
      if (!form || !form.closest || !form.closest('form[data-ct-form]')) return;
      var fields = formFields(form);
      if (!fields.name && !fields.phone && !fields.email) return;
      var body = JSON.stringify({ siteKey: siteKey, sessionId: state.sessionId || undefined, fields: fields, url: location.href });
      // sendBeacon survives the navigation the submission starts; text/plain keeps it a simple CORS request.
      try {
        if (navigator.sendBeacon && navigator.sendBeacon(api + '/v1/leads/forms', new Blob([body], { type: 'text/plain' }))) return;
      } catch (e) { /* fall back to fetch */ }
      fetch(api + '/v1/leads/forms', { method: 'POST', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: body, keepalive: true })
        .catch(() => { /* a lost lead report must never break the site's form */ });
    }, true);
  }

  window.CallTrackDNI = { rerun: () => { apply(document.body); }, number: null, sessionId: null };

  function start() {
    var prev = load();
    var body = {
      siteKey: siteKey, url: location.href, referrer: document.referrer || undefined,
      gaClientId: gaClientId(), ymClientId: cookie('_ym_uid'),
      sessionId: prev && prev.sessionId ? prev.sessionId : undefined,
    };
    post('/v1/dni/sessions', body).then((res) => {
      state.sessionId = res.sessionId;
      window.CallTrackDNI.sessionId = res.sessionId;
      show(res, res.defaultNumber);
      watch();
      if (res.sessionId) {
        remember();
        schedule();
      }
    }, () => { /* the default number stays: never a blank */ });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') keepAlive();
    });
  }

  captureForms();
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
