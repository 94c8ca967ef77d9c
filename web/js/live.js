// Live results (SPEC F5): a campaign's new events as they are recorded.
// EventSource on GET /campaigns/{id}/live (server-sent events; the browser
// reconnects by itself and resumes with Last-Event-ID); when the stream
// cannot be used (a proxy that buffers, an old browser) it falls back to
// polling GET /campaigns/{id}/events?after=<last id> every few seconds.

import { api, apiUrl } from './api.js';

const POLL_MS = 3000;
const FAILURES_BEFORE_POLLING = 2;

/**
 * liveEvents(campaignId, onEvents) → {mode(), close()}. onEvents(list) gets
 * each batch of new events (oldest first, each once, by id). mode() is
 * 'stream', 'polling' or 'connecting'.
 */
export function liveEvents(campaignId, onEvents) {
  let lastId = null;
  let closed = false;
  let source = null;
  let timer = null;
  let failures = 0;
  let mode = 'connecting';

  const deliver = (list) => {
    const fresh = list.filter((e) => lastId === null || e.id > lastId);
    if (!fresh.length) return;
    lastId = fresh[fresh.length - 1].id;
    onEvents(fresh);
  };

  async function poll() {
    if (closed) return;
    try {
      if (lastId === null) {
        // start from now: only the position, nothing shown
        let page = await api.get(`/campaigns/${campaignId}/events`, { after: 0, limit: 1000 });
        while (page.more) page = await api.get(`/campaigns/${campaignId}/events`, { after: page.last_id, limit: 1000 });
        lastId = page.last_id;
      } else {
        const page = await api.get(`/campaigns/${campaignId}/events`, { after: lastId });
        deliver(page.items || []);
      }
    } catch {
      /* the next tick tries again */
    }
    if (!closed) timer = setTimeout(poll, POLL_MS);
  }

  function startPolling() {
    mode = 'polling';
    if (source) source.close();
    source = null;
    poll();
  }

  if (typeof EventSource === 'function') {
    source = new EventSource(apiUrl(`/campaigns/${campaignId}/live`));
    source.onopen = () => { mode = 'stream'; failures = 0; };
    source.onmessage = (m) => {
      try {
        const ev = JSON.parse(m.data);
        deliver([ev]);
      } catch {
        /* not ours: ignored */
      }
    };
    source.onerror = () => {
      failures += 1;
      if (!closed && (source.readyState === EventSource.CLOSED || failures >= FAILURES_BEFORE_POLLING)) startPolling();
    };
  } else {
    startPolling();
  }

  return {
    mode: () => mode,
    close() {
      closed = true;
      if (source) source.close();
      clearTimeout(timer);
    },
  };
}
