// The JavaScript client (clients/js) as an application would use it: watch
// a job given a token, show the progress, the state and each event id.
import { watchJob } from '../../../clients/js/src/index.js';

const params = new URLSearchParams(location.search);
const id = Number(params.get('job'));
const token = params.get('token') ?? '';
const $ = (x: string) => document.getElementById(x)!;

(window as unknown as { sub: unknown }).sub = watchJob(
  { id, token, backoff: { initialMs: 500 }, maxFailuresBeforePolling: 6 },
  {
    onProgress: (p, meta) => {
      ($('bar') as HTMLProgressElement).value = Number(p.progress);
      $('status').textContent = String(p.status);
      const li = document.createElement('li');
      li.textContent = String(meta.id);
      $('ids').append(li);
    },
    onState: (s) => {
      $('state').textContent = s;
    },
    onError: (e) => console.warn('herald:', e.message),
  },
);
