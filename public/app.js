// ticketbridge dashboard: progressive enhancements only; every page works without this file.
// Served from /static (the CSP allows scripts from this origin only, never inline).
(function () {
  'use strict';
  var COOKIE = 'tb_sidebar';

  function setSidebarCookie(collapsed) {
    // One year; read by the server so the next page renders in the same state without a flash.
    document.cookie = COOKIE + '=' + (collapsed ? 'collapsed' : 'expanded') + '; path=/; max-age=31536000; SameSite=Lax';
  }

  document.addEventListener('click', function (event) {
    var toggle = event.target instanceof Element ? event.target.closest('[data-sidebar-toggle]') : null;
    if (!toggle) return;
    var collapsed = document.body.classList.toggle('sidebar-collapsed');
    toggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
    setSidebarCookie(collapsed);
  });

  // Buttons that undo nothing easily ask first (data-confirm); without JS they just submit.
  document.addEventListener('submit', function (event) {
    var button = event.submitter || (event.target instanceof HTMLFormElement ? event.target.querySelector('[data-confirm]') : null);
    var question = button && button.getAttribute ? button.getAttribute('data-confirm') : null;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Rows that open a ticket: a click anywhere on the row follows its link.
  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target || target.closest('a, button, input, select, textarea, label')) return;
    var row = target.closest('tr[data-href]');
    if (row) window.location.assign(row.getAttribute('data-href'));
  });

  // Tickets list filters (views/tickets.ejs): on phones they fold behind one "Filters" button.
  // Without this script the button stays hidden and the filters show, so nothing is out of reach.
  function setupFilters() {
    var toggle = document.querySelector('[data-filters-toggle]');
    var form = toggle ? document.getElementById(toggle.getAttribute('aria-controls')) : null;
    if (!toggle || !form) return;
    var open = toggle.getAttribute('aria-expanded') === 'true';
    form.classList.add('filters-collapsible');
    form.classList.toggle('is-open', open);
    toggle.hidden = false;
    toggle.addEventListener('click', function () {
      open = !open;
      form.classList.toggle('is-open', open);
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open) {
        var first = form.querySelector('select, input:not([type=hidden])');
        if (first && window.matchMedia('(max-width: 640px)').matches) first.focus();
      }
    });
  }
  setupFilters();

  // The saved-reply picker on a staff reply form (views/ticket.ejs): choosing one puts its text,
  // already filled for this ticket, in the message box to edit and send; nothing is sent by itself.
  document.addEventListener('change', function (event) {
    var select = event.target instanceof HTMLSelectElement && event.target.hasAttribute('data-saved-reply') ? event.target : null;
    var option = select ? select.selectedOptions[0] : null;
    var target = select ? document.getElementById(select.getAttribute('aria-controls')) : null;
    if (!option || !option.hasAttribute('data-text') || !(target instanceof HTMLTextAreaElement)) return;
    target.value = option.getAttribute('data-text');
    target.focus();
  });
  // --- drafts (issue #16): typed text survives an expired session, a stale form or a closed ticket ---
  // Every `textarea[data-draft]` / `input[data-draft]` is kept in localStorage under
  // `draft:<data-draft>:<name>` (e.g. draft:ticket:12:message, draft:create:subject) while typed,
  // put back when a page shows the field empty, and forgotten only when the page after sending the
  // form shows a success flash (data-flash, kind info). Nothing leaves the browser.
  var DRAFT_PENDING = 'draft:pending';
  var store = (function () {
    try {
      var probe = 'draft:probe';
      window.localStorage.setItem(probe, '1');
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch {
      return null;
    }
  })();

  function draftKey(field) {
    return 'draft:' + field.getAttribute('data-draft') + ':' + field.name;
  }

  function draftFields(root) {
    return Array.prototype.slice.call(root.querySelectorAll('textarea[data-draft][name], input[data-draft][name]'));
  }

  if (store) {
    // The page after a send: a success flash means the drafts of the sent form are done with.
    var pending = null;
    try {
      pending = JSON.parse(store.getItem(DRAFT_PENDING) || 'null');
    } catch {
      pending = null;
    }
    store.removeItem(DRAFT_PENDING);
    // (The sign-in page is never the page after a send: a session that ended sends the form there.)
    var signIn = document.body.getAttribute('data-view') === 'login';
    if (pending && pending.length && !signIn && document.querySelector('[data-flash].flash-info')) {
      pending.forEach(function (key) { store.removeItem(key); });
    }
    draftFields(document).forEach(function (field) {
      var saved = store.getItem(draftKey(field));
      if (saved && field.value.trim() === '') field.value = saved;
    });
    document.addEventListener('input', function (event) {
      var field = event.target;
      if (!(field instanceof HTMLTextAreaElement || field instanceof HTMLInputElement) || !field.hasAttribute('data-draft') || !field.name) return;
      if (field.value.trim() === '') store.removeItem(draftKey(field));
      else store.setItem(draftKey(field), field.value);
    });
    document.addEventListener('submit', function (event) {
      if (event.defaultPrevented || !(event.target instanceof HTMLFormElement)) return;
      var fields = draftFields(event.target);
      fields.forEach(function (field) {
        if (field.value.trim() !== '') store.setItem(draftKey(field), field.value);
      });
      store.setItem(DRAFT_PENDING, JSON.stringify(fields.map(draftKey)));
    });
    // "Open a new ticket with this text" (a reply kept after its ticket was closed): the new
    // ticket's form is filled from these drafts.
    document.addEventListener('click', function (event) {
      var link = event.target instanceof Element ? event.target.closest('a[data-draft-carry]') : null;
      if (!link) return;
      var prefix = 'draft:' + link.getAttribute('data-draft-carry') + ':';
      var source = document.getElementById(link.getAttribute('data-draft-from') || '');
      if (source && 'value' in source && source.value.trim() !== '') store.setItem(prefix + 'message', source.value);
      var subject = link.getAttribute('data-draft-subject');
      if (subject) store.setItem(prefix + 'subject', subject);
      var done = link.getAttribute('data-draft-clear');
      if (done) ['message', 'note'].forEach(function (name) { store.removeItem('draft:' + done + ':' + name); });
    });
  }
})();
