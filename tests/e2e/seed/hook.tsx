// Seed 000_16a6fbdf987519b6.txt, "React Hook Example", unchanged except for
// the `?token=` query parameter that points it at Herald.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

const token = new URLSearchParams(location.search).get('token');

interface AuditProgress {
  audit_id: number;
  status: string;
  progress: number;
  geo_score?: number;
  total_pages?: number;
}

function useAuditProgress(auditId: number) {
  const [progress, setProgress] = useState<AuditProgress | null>(null);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    const eventSource = new EventSource(
      `/api/v1/sse/audits/${auditId}/progress?token=${token}`
    );

    eventSource.onmessage = (event) => {
      const data = JSON.parse(event.data);
      setProgress(data);

      // Auto-close on terminal status
      if (data.status === 'completed' || data.status === 'failed') {
        eventSource.close();
      }
    };

    eventSource.onerror = (err) => {
      setError(new Error('SSE connection failed'));
      eventSource.close();
    };

    return () => {
      eventSource.close();
    };
  }, [auditId]);

  return { progress, error };
}

// Usage
function AuditDashboard({ auditId }: { auditId: number }) {
  const { progress, error } = useAuditProgress(auditId);

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
    </div>
  );
}

const auditId = Number(new URLSearchParams(location.search).get('audit'));
createRoot(document.getElementById('root')!).render(<AuditDashboard auditId={auditId} />);
