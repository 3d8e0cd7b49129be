export type {
  CloseReason,
  ConnectionState,
  EventSourceConstructorLike,
  EventSourceLike,
  FetchLike,
  JobKind,
  JobStatus,
  ProgressMeta,
  ProgressPayload,
  ResponseLike,
  StreamAuth,
  TokenSource,
} from './types.js';
export { HeraldError } from './errors.js';
export { backoffDelay, DEFAULT_RETRY_MS, type BackoffOptions } from './backoff.js';
export { requestStreamTicket, type TicketAnswer, type TicketTarget } from './tickets.js';
export { buildStatusUrl, buildStreamUrl, buildNotifyUrl, type StreamUrlOptions } from './urls.js';
export {
  watchJob,
  watchAudit,
  isTerminalStatus,
  POLL_MIN_MS,
  POLL_MAX_MS,
  type WatchJobOptions,
  type JobListener,
  type JobSubscription,
} from './watch.js';
export {
  watchNotifications,
  type Notice,
  type NotificationListener,
  type NotificationSubscription,
  type WatchNotificationsOptions,
} from './notifications.js';
