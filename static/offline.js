// giupdo in a village without signal (issue #27). No framework, within the app's CSP.
//
// - Registers the service worker (/sw.js), which keeps the pages opened online.
// - A delivery or visit form submitted without a connection is stored in IndexedDB — one database
//   per account, so another user of the same phone never sees or sends it — with a new
//   idempotency key (`phieu`) and the time it was recorded (`ghi_luc`); its photos are downscaled
//   first (a phone does not queue 5 MB images).
// - When the connection returns, on every page load and on "Gửi ngay", the queue is sent oldest
//   first. What the server refuses moves to "Chưa gửi được" with its values and the server's
//   message, to correct and resend or discard (page /ngoai-tuyen). Nothing is dropped silently.
// - Signing out asks first when something is still waiting, then deletes the account's queue and
//   the kept pages.
(() => {
  'use strict';

  const account = (document.querySelector('meta[name="giupdo-account"]') || {}).content || '';
  const PAGES = 'giupdo-trang';

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  }

  async function forgetPages() {
    if (!('caches' in window)) return;
    const keys = await caches.keys();
    await Promise.all(keys.filter((k) => k.startsWith(PAGES)).map((k) => caches.delete(k)));
  }

  // Signed out: the kept pages were the previous user's.
  if (!account) {
    forgetPages();
    return;
  }

  const DB = 'giupdo-hang-doi-' + account;
  const WAITING = 'cho';
  const FAILED = 'loi';

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(WAITING, { keyPath: 'key' });
        req.result.createObjectStore(FAILED, { keyPath: 'key' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function run(store, mode, work) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const result = work(tx.objectStore(store));
        tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
  const all = (store) => run(store, 'readonly', (s) => s.getAll());
  const put = (store, value) => run(store, 'readwrite', (s) => s.put(value));
  const remove = (store, key) => run(store, 'readwrite', (s) => s.delete(key));

  // A random UUID, also where crypto.randomUUID is missing (a plain-HTTP address).
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // A photo at most 1600 px on its longer side, as JPEG: a 12 MP phone photo of 5 MB becomes
  // ~300 KB. What cannot be read as an image is kept as is (the server says what is wrong).
  async function downscale(file) {
    if (!file.type.startsWith('image/')) return file;
    try {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.82));
      return blob && blob.size < file.size ? blob : file;
    } catch (e) {
      return file;
    }
  }

  // What a user reads for each field of a queued form.
  const LABELS = {
    ngay: 'Ngày',
    vat_pham: 'Vật phẩm',
    so_luong: 'Số lượng',
    don_vi_tinh: 'Đơn vị tính',
    don_gia: 'Đơn giá (đồng)',
    nguoi_trao: 'Người trao',
    so_bien_ban: 'Số biên bản',
    ghi_chu: 'Ghi chú',
    nhan_xet: 'Nhận xét',
    nhan: 'Số con nhận',
    sinh: 'Sinh thêm',
    chet: 'Chết',
    ban: 'Đã bán',
    cay_song: 'Cây còn sống',
    huong_dan: 'Hướng dẫn',
    danh_gia: 'Đánh giá',
    tinh_trang: 'Tình trạng quan sát',
    chinh_thuc: 'Ghi làm tình trạng chính thức',
  };
  const HIDDEN = new Set(['phieu', 'ghi_luc']);

  function say(text, near) {
    let note = document.getElementById('offline-note');
    if (!note) {
      note = document.createElement('p');
      note.id = 'offline-note';
      note.className = 'flash flash-ok';
      note.setAttribute('role', 'status');
      const main = document.querySelector('main');
      main.insertBefore(note, main.firstChild);
    }
    note.textContent = text;
    if (near) near.scrollIntoView({ block: 'nearest' });
  }

  async function queue(form) {
    const data = new FormData(form);
    const fields = [];
    const files = [];
    for (const [name, value] of data.entries()) {
      if (value instanceof File) {
        if (value.size > 0) files.push({ name, filename: value.name || 'anh.jpg', blob: await downscale(value) });
      } else if (!HIDDEN.has(name)) {
        fields.push([name, value]);
      }
    }
    const recordedAt = new Date().toISOString();
    // A new key per entry: two deliveries recorded from the same kept page are two entries.
    const key = uuid();
    fields.push(['phieu', key], ['ghi_luc', recordedAt]);
    await put(WAITING, {
      key,
      url: new URL(form.action, location.href).pathname,
      page: location.pathname,
      title: (form.dataset.offline || 'Biểu mẫu') + ' — ' + (document.querySelector('h1') || {}).textContent,
      fields,
      files,
      recordedAt,
    });
    form.reset();
    say('Đã lưu trên máy, sẽ gửi khi có mạng.', form);
    await badge();
  }

  document.querySelectorAll('form[data-offline]').forEach((form) => {
    form.addEventListener('submit', (event) => {
      if (navigator.onLine) return;
      event.preventDefault();
      queue(form).catch((e) => say('Không lưu được trên máy: ' + e));
    });
  });

  // The server's words for a refusal, read from the form page it sent back.
  function reasons(html, status) {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const said = [...doc.querySelectorAll('.field-error, .flash-error, main .errors li')]
      .map((e) => e.textContent.trim())
      .filter(Boolean);
    if (said.length) return [...new Set(said)].join(' ');
    if (status === 403 || status === 404) return 'Tài khoản này không còn được ghi vào lượt giúp đỡ này (mã ' + status + ').';
    return 'Máy chủ không nhận (mã ' + status + ').';
  }

  let sending = false;
  async function send() {
    if (sending || !navigator.onLine) return;
    sending = true;
    let stopped = '';
    let waiting = [];
    try {
      waiting = (await all(WAITING)).sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
      for (const entry of waiting) {
        const body = new FormData();
        for (const [name, value] of entry.fields) body.append(name, value);
        for (const f of entry.files) body.append(f.name, f.blob, f.filename);
        let response;
        try {
          response = await fetch(entry.url, { method: 'POST', body, credentials: 'same-origin' });
        } catch (e) {
          stopped = 'Chưa có mạng: sẽ gửi lại sau.';
          break;
        }
        if (new URL(response.url).pathname.startsWith('/dang-nhap')) {
          stopped = 'Phiên đăng nhập đã hết: hãy đăng nhập lại để gửi các mục đang chờ.';
          break;
        }
        if (response.ok && response.redirected) {
          await remove(WAITING, entry.key);
        } else if (response.status === 422 || response.status === 403 || response.status === 404 || response.status === 409) {
          entry.message = reasons(await response.text(), response.status);
          entry.refusedAt = new Date().toISOString();
          await put(FAILED, entry);
          await remove(WAITING, entry.key);
        } else {
          stopped = 'Máy chủ đang bận (mã ' + response.status + '): sẽ gửi lại sau.';
          break;
        }
      }
    } finally {
      sending = false;
    }
    // Nothing was waiting: nothing to say, and the lists stay as drawn (a user may be editing one).
    if (!waiting.length) return;
    const left = await badge();
    if (stopped) say(stopped);
    else if (left.failed) say('Có ' + left.failed + ' mục chưa gửi được: xem trang “Chờ gửi”.');
    await render();
  }

  async function badge() {
    const waiting = (await all(WAITING)).length;
    const failed = (await all(FAILED)).length;
    document.querySelectorAll('.queue-badge').forEach((a) => {
      a.hidden = waiting + failed === 0;
      const parts = [];
      if (waiting) parts.push('Chờ gửi: ' + waiting);
      if (failed) parts.push('Chưa gửi được: ' + failed);
      a.textContent = parts.join(' · ');
    });
    return { waiting, failed };
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function when(iso) {
    return new Date(iso).toLocaleString('vi-VN');
  }

  // The /ngoai-tuyen page: what waits, and what was refused with its values to correct.
  async function render() {
    const waitingBox = document.getElementById('cho-gui');
    const failedBox = document.getElementById('chua-gui-duoc');
    if (!waitingBox || !failedBox) return;
    waitingBox.replaceChildren();
    failedBox.replaceChildren();
    const waiting = (await all(WAITING)).sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
    const failed = (await all(FAILED)).sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
    if (!waiting.length) waitingBox.append(el('p', { class: 'empty' }, 'Không có mục nào đang chờ gửi.'));
    for (const e of waiting) {
      const item = el('article', { class: 'queued', 'data-key': e.key });
      item.append(el('h3', {}, e.title), el('p', { class: 'muted' }, 'Ghi lúc ' + when(e.recordedAt) + (e.files.length ? ' · ' + e.files.length + ' ảnh' : '')));
      const dl = el('dl');
      for (const [k, v] of e.fields) if (!HIDDEN.has(k) && v) dl.append(el('dt', {}, LABELS[k] || k), el('dd', {}, v));
      item.append(dl);
      waitingBox.append(item);
    }
    if (!failed.length) failedBox.append(el('p', { class: 'empty' }, 'Không có mục nào bị từ chối.'));
    for (const e of failed) {
      const form = el('form', { class: 'refused', 'data-key': e.key });
      form.append(el('h3', {}, e.title));
      form.append(el('p', { class: 'flash flash-error', role: 'alert' }, e.message));
      form.append(el('p', { class: 'muted' }, 'Ghi lúc ' + when(e.recordedAt) + (e.files.length ? ' · ' + e.files.length + ' ảnh' : '')));
      for (const [k, v] of e.fields) {
        if (HIDDEN.has(k)) continue;
        const label = el('label', {}, LABELS[k] || k);
        label.append(el('input', { name: k, value: v }));
        form.append(label);
      }
      const resend = el('button', { type: 'submit' }, 'Gửi lại');
      const drop = el('button', { type: 'button', class: 'secondary outline' }, 'Bỏ mục này');
      form.append(resend, ' ', drop);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const edited = new FormData(form);
        e.fields = e.fields.map(([k, v]) => (HIDDEN.has(k) ? [k, v] : [k, edited.get(k) ?? v]));
        delete e.message;
        await put(WAITING, e);
        await remove(FAILED, e.key);
        await render();
        await badge();
        send();
      });
      drop.addEventListener('click', async () => {
        if (!confirm('Bỏ mục này? Những gì đã ghi trong mục sẽ mất.')) return;
        await remove(FAILED, e.key);
        await render();
        await badge();
      });
      failedBox.append(form);
    }
  }

  document.querySelectorAll('[data-send-now]').forEach((b) => b.addEventListener('click', () => send()));
  window.addEventListener('online', () => send());

  // Signing out: ask when something still waits, then remove this account's data from the phone.
  document.querySelectorAll('form[action="/dang-xuat"]').forEach((form) => {
    form.addEventListener('submit', async (event) => {
      if (form.dataset.cleared) return;
      event.preventDefault();
      const n = (await all(WAITING)).length + (await all(FAILED)).length;
      if (n && !confirm('Còn ' + n + ' mục ghi trên máy chưa gửi được. Đăng xuất sẽ xóa các mục này khỏi máy. Vẫn đăng xuất?')) return;
      await new Promise((resolve) => {
        const req = indexedDB.deleteDatabase(DB);
        req.onsuccess = req.onerror = req.onblocked = () => resolve();
      });
      await forgetPages();
      form.dataset.cleared = '1';
      form.submit();
    });
  });

  badge().then(render).then(send).catch(() => {});
})();
