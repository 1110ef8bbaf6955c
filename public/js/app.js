// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';
  document.documentElement.classList.add('has-js');
  var body = document.body;

  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (_, k) { return values[k] !== undefined ? values[k] : ''; });
  }

  // Countdown to each task's due time; the server already rendered the same text once.
  function span(ms) {
    var total = Math.floor(Math.abs(ms) / 60000);
    var h = Math.floor(total / 60);
    var m = total % 60;
    return h > 0 ? fill(body.dataset.tHoursMinutes, { h: h, m: m }) : fill(body.dataset.tMinutes, { m: m });
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-countdown]').forEach(function (el) {
      var due = Date.parse(el.getAttribute('data-countdown'));
      if (isNaN(due)) return;
      var diff = due - now;
      el.textContent = diff >= 0 ? fill(body.dataset.tDueIn, { span: span(diff) }) : fill(body.dataset.tOverdueBy, { span: span(diff) });
      if (diff < 0) el.classList.add('overdue-text');
    });
  }
  if (document.querySelector('[data-countdown]')) { tick(); setInterval(tick, 15000); }

  // "Add a row": clone the last row of a repeating group and renumber its field names (transfers.3.amount).
  function renumber(row, index) {
    row.querySelectorAll('[name],[id],[for]').forEach(function (el) {
      ['name', 'id', 'for'].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) el.setAttribute(attr, v.replace(/\.(\d+)\./, '.' + index + '.').replace(/-(\d+)-/, '-' + index + '-'));
      });
      if (el.matches('input,textarea')) el.value = el.type === 'hidden' ? el.value : '';
      if (el.matches('select')) el.selectedIndex = 0;
      el.removeAttribute('aria-invalid');
    });
    row.querySelectorAll('.field-error').forEach(function (e) { e.remove(); });
  }
  document.querySelectorAll('[data-add-row]').forEach(function (button) {
    // Without this file the button submits the form and the server adds the row.
    button.addEventListener('click', function (event) {
      var group = document.getElementById(button.getAttribute('data-add-row'));
      if (!group) return;
      event.preventDefault();
      var rows = group.querySelectorAll('[data-row]');
      var last = rows[rows.length - 1];
      if (!last) return;
      var copy = last.cloneNode(true);
      renumber(copy, rows.length);
      group.appendChild(copy);
      var first = copy.querySelector('input,select');
      if (first) first.focus();
    });
  });

  // The victim's receipt: a print button where a script can print (the browser's own print works anyway).
  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () { window.print(); });
  });

  // Live task status on the report page: refetch this page and swap the tasks section.
  var live = document.querySelector('[data-live]');
  if (live && window.fetch && window.DOMParser) {
    setInterval(function () {
      fetch(window.location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('[data-live]');
          // Never under someone's hands: a form being filled in (a cancel reason) stays as typed.
          var busy = live.contains(document.activeElement) && document.activeElement !== live
            || Array.prototype.some.call(live.querySelectorAll('input:not([type=hidden]),textarea'), function (el) { return el.value !== ''; });
          if (fresh && !busy) { live.innerHTML = fresh.innerHTML; tick(); }
        })
        .catch(function () { /* the next round tries again */ });
    }, 20000);
  }
  // A form kept across a new sign-in goes on by itself; without JavaScript its button sends it.
  var kept = document.querySelector('form[data-autosubmit]');
  if (kept) kept.submit();
})();
