// dialog.js - one modal <dialog> reused by every confirmation and form.
import { h } from './dom.js';
import { ApiError } from './api.js';

const dlg = () => document.getElementById('dlg');

/* confirmDialog({title, body, ok, danger, onConfirm}) resolves true when
 * onConfirm(form) succeeded, false when cancelled. An error thrown by
 * onConfirm stays in the dialog as a readable message, so a form can be
 * corrected and sent again. */
export function confirmDialog({ title, body, ok = 'Confirm', danger = false, onConfirm }) {
  const d = dlg();
  const form = d.querySelector('form');
  const okBtn = d.querySelector('#dlg-ok');
  const err = d.querySelector('#dlg-error');
  d.querySelector('#dlg-title').textContent = title;
  d.querySelector('#dlg-body').replaceChildren(...[body].flat().filter(Boolean));
  okBtn.textContent = ok;
  okBtn.classList.toggle('danger', danger);
  okBtn.disabled = false;
  err.hidden = true;
  err.textContent = '';
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let busy = false;
    const done = (v) => {
      form.removeEventListener('submit', onSubmit);
      d.removeEventListener('cancel', onCancel);
      d.querySelector('#dlg-cancel').onclick = null;
      d.close();
      // Focus goes back to the control that opened the dialog when it is
      // still on the page (the cards are patched in place, so it usually is).
      if (opener && opener.isConnected) opener.focus();
      resolve(v);
    };
    const onCancel = (ev) => { ev.preventDefault(); if (!busy) done(false); };
    const onSubmit = async (ev) => {
      ev.preventDefault();
      if (busy) return;
      busy = true;
      okBtn.disabled = true;
      d.setAttribute('aria-busy', 'true');
      err.hidden = true;
      try {
        await onConfirm(form);
        done(true);
      } catch (e) {
        err.textContent = e instanceof ApiError ? e.describe() : String(e.message || e);
        err.hidden = false;
      } finally {
        busy = false;
        okBtn.disabled = false;
        d.removeAttribute('aria-busy');
      }
    };
    form.addEventListener('submit', onSubmit);
    d.addEventListener('cancel', onCancel);
    d.querySelector('#dlg-cancel').onclick = () => { if (!busy) done(false); };
    d.showModal();
  });
}

/* A labelled form field. */
export function field(label, input, hint) {
  const id = input.id || (input.id = `f-${Math.random().toString(36).slice(2, 8)}`);
  return h('div', { class: 'field' },
    h('label', { for: id }, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}
