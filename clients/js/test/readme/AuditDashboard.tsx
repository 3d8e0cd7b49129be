import { useAuditProgress } from 'herald-client/react';

export function AuditDashboard({ auditId }: { auditId: number }) {
  const { progress, error, state } = useAuditProgress(auditId);

  if (error) {
    return <div>Error: {error.message}</div>;
  }

  if (!progress) {
    return <div>Connecting...</div>;
  }

  return (
    <div>
      <h2>Audit Progress</h2>
      <div>Status: {progress.status}</div>
      <div>Progress: {progress.progress}%</div>
      <progress value={progress.progress} max={100} />
      {state !== 'live' && state !== 'closed' && <div>Connection: {state}</div>}
    </div>
  );
}
