/** Login with an API key and secret: checked with a signed GET /v1/balances before it counts. */
import { byId, el } from '../dom.ts';
import type { Actions } from '../actions.ts';
import type { Store } from '../store.ts';

export function mountLogin(store: Store, actions: Actions): void {
  const root = byId('login');
  const key = el('input', {
    id: 'api-key',
    name: 'api-key',
    autocomplete: 'username',
    spellcheck: 'false',
    placeholder: 'xk_…',
    'data-testid': 'api-key',
  });
  const secret = el('input', {
    id: 'api-secret',
    name: 'api-secret',
    type: 'password',
    autocomplete: 'current-password',
    placeholder: 'secret',
    'data-testid': 'api-secret',
  });
  const error = el('p', { class: 'error', 'data-testid': 'login-error', role: 'alert' });
  const submit = el('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Log in');
  const form = el(
    'form',
    { class: 'login-form', autocomplete: 'on' },
    el('h2', {}, 'Log in to trade'),
    el('label', { for: 'api-key' }, 'API key'),
    key,
    el('label', { for: 'api-secret' }, 'API secret'),
    secret,
    submit,
    error,
    el(
      'p',
      { class: 'hint' },
      'Requests are signed in this browser; the secret stays in this tab only and is forgotten on reload. `npm run demo` prints a demo key.',
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    actions
      .login(key.value.trim(), secret.value.trim())
      .then(() => {
        secret.value = '';
      })
      .catch((failure: unknown) => {
        error.textContent = failure instanceof Error ? failure.message : 'Login failed.';
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  root.append(form);
  store.watch(['session'], () => {
    root.hidden = store.state.session !== undefined;
  });
}
