// giupdo's service worker (issue #27): the pages a field user opens online are kept, so they open
// again without signal; the forms recorded offline wait in IndexedDB (static/offline.js), never
// here. Served at /sw.js so that its scope is the whole app.
'use strict';

const STATIC = 'giupdo-tinh-v1';
// Pages hold personal data: static/offline.js deletes this cache on sign-out and whenever a
// signed-out page is shown, so the next user of the phone never gets them.
const PAGES = 'giupdo-trang';

self.addEventListener('install', (event) => {
  self.skipWaiting();
  event.waitUntil(
    caches.open(STATIC).then((c) =>
      c.addAll(['/static/vendor/pico-2.1.1.min.css', '/static/vendor/htmx-2.0.11.min.js', '/static/offline.js'])
    )
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('giupdo-tinh') && k !== STATIC).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function signedOutPage(response) {
  return new URL(response.url).pathname.startsWith('/dang-nhap');
}

async function networkFirst(request, keep) {
  try {
    const response = await fetch(request);
    const type = response.headers.get('content-type') || '';
    if (keep && response.ok && !signedOutPage(response) && (type.startsWith('text/html') || type.startsWith('image/'))) {
      const copy = response.clone();
      caches.open(PAGES).then((c) => c.put(request, copy));
    }
    return response;
  } catch (offline) {
    const pages = await caches.open(PAGES);
    const kept = await pages.match(request);
    if (kept) return kept;
    if (request.mode === 'navigate') {
      const list = await pages.match('/ngoai-tuyen');
      if (list) return list;
      return new Response(
        '<!doctype html><html lang="vi"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
          '<title>Không có mạng</title><body><h1>Không có mạng</h1><p>Trang này chưa được mở lần nào khi có mạng nên chưa có trên máy. ' +
          'Hãy mở lại khi có mạng.</p><p><a href="/bang-dieu-khien">Về bảng điều khiển</a></p></body></html>',
        { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' } }
      );
    }
    throw offline;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/static/')) {
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              caches.open(STATIC).then((c) => c.put(request, copy));
            }
            return response;
          })
      )
    );
    return;
  }
  // Downloads (reports, spreadsheets) are never kept; pages and photo thumbnails are.
  const keep = request.mode === 'navigate' || /^\/anh\/[^/]+\/nho$/.test(url.pathname);
  if (keep) event.respondWith(networkFirst(request, true));
});
