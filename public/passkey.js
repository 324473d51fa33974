// Passkey ceremonies in the browser: turns the server's WebAuthn options (JSON) into
// navigator.credentials calls and posts the answers back. Works by event delegation so it
// serves pages rendered later by client-side navigation too.

const b64uToBuf = (s) =>
  Uint8Array.from(
    atob(s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=')),
    (c) => c.charCodeAt(0),
  ).buffer;

const bufToB64u = (b) => {
  let s = '';
  for (const x of new Uint8Array(b)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

function creationOptions(json) {
  const pk = structuredClone(json.publicKey);
  pk.challenge = b64uToBuf(pk.challenge);
  pk.user.id = b64uToBuf(pk.user.id);
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) }));
  return { publicKey: pk };
}

function requestOptions(json, signal, conditional) {
  const pk = structuredClone(json.publicKey);
  pk.challenge = b64uToBuf(pk.challenge);
  pk.allowCredentials = (pk.allowCredentials || []).map((c) => ({ ...c, id: b64uToBuf(c.id) }));
  return conditional ? { publicKey: pk, signal, mediation: 'conditional' } : { publicKey: pk, signal };
}

const registrationJson = (c) => ({
  id: c.id,
  rawId: bufToB64u(c.rawId),
  type: c.type,
  response: {
    attestationObject: bufToB64u(c.response.attestationObject),
    clientDataJSON: bufToB64u(c.response.clientDataJSON),
    transports: c.response.getTransports ? c.response.getTransports() : undefined,
  },
  extensions: c.getClientExtensionResults(),
});

const assertionJson = (c) => ({
  id: c.id,
  rawId: bufToB64u(c.rawId),
  type: c.type,
  response: {
    authenticatorData: bufToB64u(c.response.authenticatorData),
    clientDataJSON: bufToB64u(c.response.clientDataJSON),
    signature: bufToB64u(c.response.signature),
    userHandle: c.response.userHandle ? bufToB64u(c.response.userHandle) : null,
  },
  extensions: c.getClientExtensionResults(),
});

class ApiError extends Error {}

// The API's error JSON, as words.
function describe(error) {
  if (typeof error === 'string') {
    return {
      EmailNotVerified: 'Please verify your email address first. Check your inbox for the link.',
      Unauthorized: 'Please sign in to continue.',
    }[error] || 'Something went wrong. Please try again.';
  }
  if (error.Field) return error.Field.message;
  if (error.Refused) return error.Refused;
  if (error.BadRequest) return 'The request was incomplete or malformed.';
  if (error.Throttled) return `Too many attempts. Try again in ${error.Throttled.minutes} minutes.`;
  return 'Something went wrong. Please try again.';
}

async function call(endpoint, fields = {}) {
  const response = await fetch(`/api/${endpoint}`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  if (!response.ok) {
    let error = 'Internal';
    try { error = JSON.parse(text); } catch { /* not JSON */ }
    throw new ApiError(describe(error));
  }
  return { location: response.headers.get('location'), body: text ? JSON.parse(text) : null };
}

function show(root, message) {
  const box = root.querySelector('[data-passkey-error]');
  if (box) box.textContent = message;
}

function failure(root, e) {
  if (e.name === 'AbortError') return;
  show(root, e instanceof ApiError ? e.message
    : e.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.'
    : e.name === 'InvalidStateError' ? 'This device already has a passkey for your account.'
    : 'Your browser could not use a passkey here.');
}

let pending;

async function signIn(root, conditional) {
  pending?.abort();
  const controller = new AbortController();
  pending = controller;
  const { body } = await call('passkeys/sign-in/start');
  const options = JSON.parse(body);
  const credential = await navigator.credentials.get(requestOptions(options, controller.signal, conditional));
  const done = await call('passkeys/sign-in/finish', { credential: JSON.stringify(assertionJson(credential)) });
  window.location.assign(done.location || '/profile');
}

async function create(root, start, fields, finish) {
  pending?.abort();
  const { body } = await call(start, fields);
  const credential = await navigator.credentials.create(creationOptions(JSON.parse(body)));
  const done = await call(finish, { credential: JSON.stringify(registrationJson(credential)) });
  window.location.assign(done.location || '/');
}

const supported = () => typeof window.PublicKeyCredential === 'function';

document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-passkey-sign-in]');
  if (!button) return;
  event.preventDefault();
  const root = button.closest('[data-passkey-root]') || document;
  show(root, '');
  signIn(root, false).catch((e) => failure(root, e));
});

document.addEventListener('submit', (event) => {
  const form = event.target.closest('form[data-passkey-form]');
  if (!form) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  const root = form.closest('[data-passkey-root]') || form;
  show(root, '');
  const fields = Object.fromEntries(new FormData(form));
  const flow = form.dataset.passkeyForm;
  // The page's answer to the registration's proof of work counts for a passkey sign-up too.
  const proof = document.querySelector('input[name="proof"]')?.value;
  if (flow === 'sign-up' && proof) fields.proof = proof;
  // So do the terms and choices ticked on the registration form.
  if (flow === 'sign-up') {
    for (const box of document.querySelectorAll('input[name^="consent["]:checked')) fields[box.name] = box.value;
  }
  const [start, finish] = flow === 'sign-up'
    ? ['passkeys/sign-up/start', 'passkeys/sign-up/finish']
    : ['passkeys/add/start', 'passkeys/add/finish'];
  create(root, start, fields, finish).catch((e) => failure(root, e));
}, true);

// Autofill: while a field marked `autocomplete="... webauthn"` is on the page, keep a
// conditional request open so the browser can offer passkeys in its suggestions; cancel it
// when the field leaves the page.
let autofillField;

async function offerAutofill() {
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  if (!field || field.dataset.passkeyAutofill) return;
  if (!(await window.PublicKeyCredential?.isConditionalMediationAvailable?.())) return;
  if (!field.isConnected) return;
  field.dataset.passkeyAutofill = 'on';
  autofillField = field;
  const root = field.closest('[data-passkey-root]') || document;
  signIn(root, true).catch((e) => failure(root, e));
}

function reveal() {
  if (autofillField && !autofillField.isConnected) {
    autofillField = undefined;
    pending?.abort();
  }
  if (!supported()) return;
  for (const el of document.querySelectorAll('[data-passkey-only][hidden]')) el.hidden = false;
  offerAutofill();
}

new MutationObserver(reveal).observe(document.documentElement, { childList: true, subtree: true });
reveal();
