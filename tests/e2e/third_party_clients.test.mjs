// Third-party SSE clients, used as an app developer would use them, in Node
// against the real `herald serve` (SQLite in a temp dir, loopback only):
//
// - npm `eventsource` 2.x with the `headers` option exactly as seed
//   001_5d49b9928aee9526.txt writes it (`Authorization: Bearer …`);
// - npm `@microsoft/fetch-event-source` (fetch with headers, its own retry,
//   Last-Event-ID handled by the library).
//
// Each follows a generic job whose progress the test posts itself as a
// worker, so the cut is always mid-job: Herald stops and starts again on the
// same port and database, the test keeps posting, the client reconnects by
// itself and resumes with Last-Event-ID. What each must see: event ids
// exactly 1..N (no gap, no duplicate), every payload's status and progress
// as posted, through to `completed`, and then the end (a reconnect after the
// terminal event gets 204, so the client stops). And with heartbeats every
// second, fetch-event-source's onmessage gets only the events, never an
// empty message for a heartbeat comment or a `retry:` line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, connect } from 'node:net';
import EventSource from 'eventsource';
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { Herald, token } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `promise`, or a failure after `ms` (the timer does not outlive it).
async function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, no) => (timer = setTimeout(() => no(new Error(`timed out (${ms} ms): ${what}`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what, check, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await sleep(25);
  }
}

async function call(herald, method, path, who, body) {
  const res = await fetch(herald.url(path), {
    method,
    headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// A generic job owned by `user`, and a worker that reports its progress.
// `expected` maps each event id to the status and progress that event must
// carry: id 1 is the creation (pending, 0); each update's id is the one
// Herald answered with (202 {"id": n}), and must be the next one.
async function jobWithWorker(herald, user, title) {
  const job = await call(herald, 'POST', '/api/v1/jobs', token(user), { type: 'translation', title });
  assert.equal(job.seq, 1);
  const worker = token('worker-1', 'worker');
  const expected = new Map([[1, { status: 'pending', progress: 0 }]]);
  let state = { status: 'pending', progress: 0 };
  const post = async (body) => {
    const reply = await call(herald, 'POST', `/api/v1/jobs/${job.id}/progress`, worker, body);
    state = { status: body.status ?? state.status, progress: body.progress ?? state.progress };
    assert.equal(reply.id, expected.size + 1, `event ids are consecutive: ${JSON.stringify(reply)}`);
    expected.set(reply.id, { ...state });
    return reply.id;
  };
  return { job, post, expected, last: () => expected.size };
}

// What every client must have received: ids 1..N once each, in order, the
// payloads as posted, of this job.
function assertFollowed(name, received, expected, jobId) {
  const ids = received.map((e) => e.id);
  assert.deepEqual(ids, [...expected.keys()], `${name}: ids exactly 1..${expected.size}, got ${ids}`);
  for (const { id, data } of received) {
    assert.equal(data.job_id, jobId, `${name}: event ${id} is of job ${jobId}`);
    assert.equal(data.seq, id, `${name}: payload seq of event ${id}`);
    assert.deepEqual(
      { status: data.status, progress: data.progress },
      expected.get(id),
      `${name}: payload of event ${id}: ${JSON.stringify(data)}`,
    );
  }
}

// A TCP relay in front of Herald (127.0.0.1, its own port) that keeps the
// head of every request passing through, to see the Last-Event-ID a client
// sends. While Herald is down it drops the client's connection, as a
// refused connection would.
async function headRecorder(herald) {
  const heads = [];
  const sockets = new Set();
  const server = createTcpServer((client) => {
    const upstream = connect(herald.port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending = '';
    client.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end; (end = pending.indexOf('\r\n\r\n')) >= 0; pending = pending.slice(end + 4)) {
        heads.push(pending.slice(0, end));
      }
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) s.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const port = server.address().port;
  return {
    heads,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    // The Last-Event-ID of each request for `path`, in order (null: none).
    lastEventIds: (path) =>
      heads
        .filter((h) => h.startsWith(`GET ${path} `))
        .map((h) => /^last-event-id:[ \t]*(.*?)[ \t]*$/im.exec(h)?.[1] ?? null),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test(
  'npm eventsource 2.x (seed 001 headers option) resumes across a Herald restart with Last-Event-ID, ids 1..N, stops on 204',
  { timeout: 90000 },
  async () => {
    const herald = await new Herald().start();
    const relay = await headRecorder(herald);
    const sources = [];
    try {
      const user = 'e2e-eventsource';
      const { job, post, expected, last } = await jobWithWorker(herald, user, 'eventsource 2.x');
      const path = `/api/v1/sse/jobs/${job.id}/progress`;
      const url = relay.url(path);

      // Two clients on the same job. `seed`: seed 001's snippet, its
      // onmessage body as written (console.log replaced by recording what
      // arrived); its onerror is not used, since it closes the EventSource
      // and so would give up at the restart instead of reconnecting.
      // `open`: no close() of its own, to see the server end it (the 204).
      function watch(name, closeOnTerminal) {
        const w = { name, received: [], opens: 0, errors: [], bad: [] };
        const eventSource = new EventSource(url, {
          headers: {
            'Authorization': 'Bearer ' + token(user),
          },
        });
        w.eventSource = eventSource;
        eventSource.onopen = () => w.opens++;
        eventSource.onmessage = (event) => {
          let data;
          try {
            data = JSON.parse(event.data);
          } catch {
            w.bad.push(event.data);
            return;
          }
          w.received.push({ id: Number(event.lastEventId), data });

          if (closeOnTerminal && (data.status === 'completed' || data.status === 'failed')) {
            eventSource.close();
          }
        };
        eventSource.onerror = (error) => w.errors.push({ ...error });
        sources.push(eventSource);
        return w;
      }
      const clients = [watch('seed', true), watch('open', false)];
      const upTo = (id) => () => clients.every((c) => c.received.at(-1)?.id >= id);

      await until('both clients at the current state (event 1)', upTo(1));
      await post({ status: 'running', progress: 10 });
      await post({ progress: 20 });
      await until('both clients at event 3', upTo(last()));

      // The cut: Herald stops mid-job and comes back on the same port and
      // database; updates are posted at once, while the clients are still
      // away or reconnecting (eventsource retries every `retry:` ms).
      await herald.stop('SIGTERM');
      await herald.start();
      await post({ progress: 30 });
      await post({ progress: 40 });
      await until('both clients back, at event 5', upTo(last()), 20000);
      await post({ progress: 60 });
      await post({ progress: 80 });
      await until('both clients at event 7 (live)', upTo(last()));
      await post({ status: 'completed', progress: 100 });
      await until('both clients at completed', upTo(last()));

      // `open` did not close: the response ended after `completed`, it
      // reconnected with Last-Event-ID = the terminal event, got 204 and
      // stopped for good (eventsource closes on any status but 200 and 5xx).
      const open = clients[1];
      await until('the open client closed by a 204', () => open.eventSource.readyState === EventSource.CLOSED, 10000);
      assert.ok(open.errors.some((e) => e.status === 204), `errors: ${JSON.stringify(open.errors)}`);
      assert.equal(clients[0].eventSource.readyState, EventSource.CLOSED);
      await sleep(1500); // more than `retry:`: nothing more arrives
      for (const c of clients) {
        assertFollowed(c.name, c.received, expected, job.id);
        assert.deepEqual(c.bad, [], `${c.name}: every message is JSON`);
        assert.ok(c.opens >= 2, `${c.name}: reconnected by itself (${c.opens} opens)`);
        assert.ok(!c.errors.some((e) => e.status && e.status !== 204), `${c.name}: ${JSON.stringify(c.errors)}`);
      }
      // What the clients sent: two first requests without Last-Event-ID,
      // then every reconnect after the cut (refused ones too) with 3, the
      // last event they had, and one more, from `open`, with 8, the terminal
      // event (answered 204). Nothing else.
      const sent = relay.lastEventIds(path);
      const final = String(last());
      assert.deepEqual(sent.slice(0, 2), [null, null], JSON.stringify(sent));
      assert.equal(sent.at(-1), final, JSON.stringify(sent));
      const middle = sent.slice(2, -1);
      assert.ok(middle.length >= 2 && middle.every((id) => id === '3'), `reconnects resumed after 3: ${JSON.stringify(sent)}`);
    } finally {
      for (const s of sources) s.close();
      relay.close();
      await herald.dispose();
    }
  },
);

// @microsoft/fetch-event-source is written for browsers: it calls
// window.fetch, window.setTimeout/clearTimeout and
// document.add/removeEventListener('visibilitychange'). In Node an app
// provides those: `window` is the global object (Node has fetch and timers)
// and a document that is never hidden; openWhenHidden: true, as a server-side
// consumer has no page visibility.
globalThis.window ??= globalThis;
globalThis.document ??= Object.assign(new EventTarget(), { hidden: false });

class RetriableError extends Error {}
class FatalError extends Error {}

// fetchEventSource as its README recommends using it: onopen accepts only
// 200 text/event-stream, 204 and other 4xx are fatal, an end of the stream
// before the job ended is retried (onclose throws), onerror returns a delay
// instead of throwing. `fetch` is wrapped only to record the Last-Event-ID
// the library sends on each attempt.
function follow(url, bearer, { lastEventId, onTerminal } = {}) {
  const w = { received: [], bad: [], statuses: [], sentLastIds: [], errors: [], terminal: false };
  w.controller = new AbortController();
  const headers = { Authorization: `Bearer ${bearer}` };
  if (lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
  w.done = fetchEventSource(url, {
    headers,
    signal: w.controller.signal,
    openWhenHidden: true,
    fetch: (input, init) => {
      const h = init.headers ?? {};
      w.sentLastIds.push(h['last-event-id'] ?? h['Last-Event-ID'] ?? null);
      return fetch(input, init);
    },
    async onopen(response) {
      w.statuses.push(response.status);
      const type = response.headers.get('content-type') ?? '';
      if (response.status === 200 && type.startsWith('text/event-stream')) return;
      if (response.status === 204) throw new FatalError('204: nothing more to send');
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        throw new FatalError(`${response.status} ${await response.text()}`);
      }
      throw new RetriableError(`${response.status}`);
    },
    onmessage(ev) {
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        w.bad.push({ id: ev.id, event: ev.event, data: ev.data, retry: ev.retry });
        return;
      }
      w.received.push({ id: Number(ev.id), event: ev.event, data });
      if (data.status === 'completed' || data.status === 'failed') {
        w.terminal = true;
        onTerminal?.(w);
      }
    },
    onclose() {
      if (!w.terminal) throw new RetriableError('the stream ended before the job did');
    },
    onerror(err) {
      w.errors.push(String(err?.message ?? err));
      if (err instanceof FatalError) throw err;
      return 300;
    },
  });
  return w;
}

test(
  '@microsoft/fetch-event-source resumes across a Herald restart: ids 1..N, only JSON messages, ends at completed, then 204',
  { timeout: 90000 },
  async () => {
    const herald = await new Herald().start();
    let w;
    try {
      const user = 'e2e-fetch-event-source';
      const { job, post, expected, last } = await jobWithWorker(herald, user, 'fetch-event-source');
      const url = herald.url(`/api/v1/sse/jobs/${job.id}/progress`);
      w = follow(url, token(user), { onTerminal: (c) => c.controller.abort() });
      const upTo = (id) => () => w.received.at(-1)?.id >= id;

      await until('the current state (event 1)', upTo(1));
      await post({ status: 'running', progress: 10 });
      await post({ progress: 20 });
      await until('event 3', upTo(last()));
      const requestsBeforeCut = w.sentLastIds.length;

      await herald.stop('SIGTERM');
      await herald.start();
      await post({ progress: 30 });
      await post({ progress: 40 });
      await until('back, at event 5', upTo(last()), 20000);
      await post({ progress: 60 });
      await sleep(1200); // idle a little: nothing but the next event may reach onmessage
      await post({ progress: 80 });
      await until('event 7 (live)', upTo(last()));
      await post({ status: 'completed', progress: 100 });

      // Ends at completed: the controller is aborted from onmessage and the
      // library's promise settles.
      await within(w.done, 15000, 'fetchEventSource did not end');
      assertFollowed('fetch-event-source', w.received, expected, job.id);
      assert.ok(w.received.every((e) => e.event === 'message'), JSON.stringify(w.received.map((e) => e.event)));
      assert.deepEqual(w.bad, [], 'no empty or non-JSON message reached onmessage');

      // It reconnected by itself, and every retry carried Last-Event-ID:
      // the first ones the last id before the cut.
      assert.equal(w.sentLastIds[0], null, 'the first request has no Last-Event-ID');
      const retries = w.sentLastIds.slice(requestsBeforeCut);
      assert.ok(retries.length >= 1, `retried: ${JSON.stringify(w.sentLastIds)}`);
      assert.equal(retries[0], '3', `resumed after event 3: ${JSON.stringify(w.sentLastIds)}`);
      assert.ok(retries.every((id) => /^\d+$/.test(id)), JSON.stringify(w.sentLastIds));
      assert.ok(w.statuses.filter((s) => s === 200).length >= 2, `opens: ${w.statuses}`);

      // The terminal reconnect: the same library, resuming from the
      // `completed` event, gets 204 and stops (fatal in onopen), no message.
      const again = follow(url, token(user), { lastEventId: last() });
      await assert.rejects(
        within(again.done, 10000, 'no answer to the terminal reconnect'),
        FatalError,
      );
      assert.deepEqual(again.statuses, [204]);
      assert.deepEqual(again.received, []);
      assert.deepEqual(again.bad, []);
    } finally {
      w?.controller.abort();
      await herald.dispose();
    }
  },
);

test(
  "@microsoft/fetch-event-source: heartbeat comments and retry: reach onmessage as no message at all",
  { timeout: 60000 },
  async () => {
    // Heartbeats every second, so that a stream idle for a few seconds
    // carries several of them, on a first connection and on a resume that
    // has nothing to replay (only `retry:` is sent before the heartbeats).
    // The library hands every blank line to onmessage, even one ending a
    // block that held only comments or `retry:`, so such a block reaches the
    // app as a message with empty data, which JSON.parse throws on.
    const herald = await new Herald({ env: { SSE_HEARTBEAT_SECONDS: '1' } }).start();
    const watchers = [];
    try {
      const user = 'e2e-heartbeats';
      const { job, post, expected, last } = await jobWithWorker(herald, user, 'heartbeats');
      const url = herald.url(`/api/v1/sse/jobs/${job.id}/progress`);
      await post({ status: 'running', progress: 10 });
      const fresh = follow(url, token(user), { onTerminal: (c) => c.controller.abort() });
      const resumed = follow(url, token(user), { lastEventId: last(), onTerminal: (c) => c.controller.abort() });
      watchers.push(fresh, resumed);
      await until('the fresh client at event 2', () => fresh.received.at(-1)?.id === 2);
      await sleep(3500);
      await post({ progress: 50 });
      await sleep(2500);
      await post({ status: 'completed', progress: 100 });
      for (const w of watchers) {
        await within(w.done, 15000, 'fetchEventSource did not end');
      }
      const heartbeats = Number(/^herald_heartbeats_total (\d+)/m.exec(await (await fetch(herald.url('/metrics'))).text())?.[1]);
      assert.ok(heartbeats >= 4, `heartbeats were sent (${heartbeats})`);
      // `fresh` connected after event 2: the current state (2) first.
      assertFollowed('fresh', fresh.received, new Map([...expected].filter(([id]) => id > 1)), job.id);
      assertFollowed('resumed', resumed.received, new Map([...expected].filter(([id]) => id > 2)), job.id);
      const bad = Object.entries({ fresh, resumed })
        .filter(([, w]) => w.bad.length)
        .map(([name, w]) => `${name}: ${w.bad.length} (${JSON.stringify(w.bad.slice(0, 2))}${w.bad.length > 2 ? ', …' : ''})`);
      assert.deepEqual(bad, [], `empty or non-JSON messages reached onmessage (${heartbeats} heartbeats sent)`);
    } finally {
      for (const w of watchers) w.controller.abort();
      await herald.dispose();
    }
  },
);
