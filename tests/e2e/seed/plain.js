// Seed 000_16a6fbdf987519b6.txt, "JavaScript/TypeScript Example", unchanged
// except for the `?token=` query parameter that points it at Herald (the
// seed relied on a cookie set by its own login). The functions it calls are
// the page's own (defined below it, as the seed leaves them to the reader).
const params = new URLSearchParams(location.search);
const auditId = params.get('audit');
const token = params.get('token');

const eventSource = new EventSource(
  `/api/v1/sse/audits/${auditId}/progress?token=${token}`,
  {
    withCredentials: true // Include auth cookies
  }
);

eventSource.onmessage = (event) => {
  const progress = JSON.parse(event.data);
  console.log('Audit progress:', progress);

  // Update UI
  updateProgressBar(progress.progress);
  updateStatus(progress.status);

  // Close on completion
  if (progress.status === 'completed' || progress.status === 'failed') {
    eventSource.close();
  }
};

eventSource.onerror = (error) => {
  console.error('SSE error:', error);
  eventSource.close();
  // Fallback to polling
  startPolling(auditId);
};

function updateProgressBar(value) {
  document.getElementById('bar').value = value;
}
function updateStatus(status) {
  document.getElementById('status').textContent = status;
}
function startPolling(id) {
  document.getElementById('status').textContent = 'polling ' + id;
}
