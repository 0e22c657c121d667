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
})();
