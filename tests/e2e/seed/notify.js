// Seed 004 (004_ba89f4149790dc4f.txt, "Example Usage"), unchanged.
// Frontend SSE connection
const eventSource = new EventSource('/notify/events');
eventSource.onmessage = function(event) {
    const data = JSON.parse(event.data);
    console.log('Received:', data);
};
