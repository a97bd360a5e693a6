// The token a protected server asks for (LEUKOGRAPH_READ_TOKEN for a screen that only watches, or
// LEUKOGRAPH_TOKEN), asked for once in a small form, kept in this browser's localStorage and sent as an
// Authorization header (HTTP) or in graphql-ws connectionParams, never in a URL. Images are fetched with
// the header and shown from blob: URLs. On a server without tokens nothing here is ever shown.
const KEY = 'leukograph:token';

export function storedToken() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function authHeaders() {
  const t = storedToken();
  return t ? { authorization: `Bearer ${t}` } : {};
}

let asking = null;

/** Shows the token form (once, however many requests were refused); resolves when a token is entered. */
export function askForToken(reason) {
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.id = 'token-dialog';
    dialog.style.cssText = 'border:1px solid #ccc;border-radius:8px;padding:1.2em;max-width:26em;font:inherit';
    const form = document.createElement('form');
    form.method = 'dialog';
    const p = document.createElement('p');
    p.style.marginTop = '0';
    p.textContent = `${reason}. Enter the read-only token (LEUKOGRAPH_READ_TOKEN) to watch, or the read-write token to run jobs. It is kept in this browser only.`;
    const input = document.createElement('input');
    input.type = 'password';
    input.name = 'token';
    input.autocomplete = 'current-password';
    input.required = true;
    input.style.cssText = 'width:100%;box-sizing:border-box;margin:.3em 0 .8em';
    input.setAttribute('aria-label', 'token');
    const button = document.createElement('button');
    button.type = 'submit';
    button.textContent = 'Use token';
    form.append(p, input, button);
    dialog.append(form);
    // A dashboard without its token can do nothing: the form stays until one is given.
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    form.addEventListener('submit', () => {
      const t = input.value.trim();
      if (!t) return;
      try {
        localStorage.setItem(KEY, t);
      } catch {
        // storage refused (private mode): the token lives as long as the page
      }
      memoryToken = t;
      dialog.remove();
      asking = null;
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

// Where localStorage is refused, the token entered is kept for the page's life only.
let memoryToken = null;
const currentHeaders = () => {
  const h = authHeaders();
  return h.authorization || !memoryToken ? h : { authorization: `Bearer ${memoryToken}` };
};

/**
 * fetch with the token; a 401 asks for one (again, when the stored one was refused) and retries. A request
 * that brings its own Authorization header (the playground's headers editor) is sent as it is.
 */
export async function authFetch(url, init = {}) {
  const own = new Headers(init.headers ?? {});
  if (own.has('authorization')) return fetch(url, init);
  for (;;) {
    const headers = new Headers(own);
    const mine = currentHeaders();
    if (mine.authorization) headers.set('authorization', mine.authorization);
    const res = await fetch(url, { ...init, headers });
    if (res.status !== 401) return res;
    await askForToken(mine.authorization ? 'The server refused the token' : 'This server needs a token');
  }
}

/** graphql-ws connectionParams: the token, read at each (re)connection. */
export function connectionParams() {
  return currentHeaders();
}

/** The socket was closed as forbidden (4403): ask for a token; the client's retry then sends it. */
export function onSocketClosed(event) {
  if (event?.code === 4403) void askForToken(currentHeaders().authorization ? 'The server refused the token' : 'This server needs a token');
}

/**
 * Shows `path` (an image route on this server) in `img`: straight from the URL on a server without tokens,
 * else fetched with the header into a blob: URL. A failure fires the image's 'error' event as a broken
 * URL would. `img.dataset.path` keeps the route, since `src` may be a blob.
 */
export function setImageSource(img, path) {
  img.dataset.path = path;
  if (!currentHeaders().authorization) {
    img.src = path;
    return;
  }
  authFetch(path)
    .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(`HTTP ${res.status}`))))
    .then((blob) => {
      if (img.dataset.path !== path) return; // replaced meanwhile
      const url = URL.createObjectURL(blob);
      img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
      img.src = url;
    })
    .catch(() => img.dispatchEvent(new Event('error')));
}
