// Seed 003_f9e685fc13f19a8e.txt, section 3 "Frontend Implementation
// (React)", "Component Logic": the useEffect(...) block below is the seed's
// text byte for byte except one thing, its URL:
//   "/api/v1/scraping/trigger/stream"  ->  "/notify/events?events=named"
// (Herald's stream of named events: a notice a worker posts with type
// "progress" arrives as `event: progress`, type "completed" as
// `event: completed`). The seed shows only the effect; around it is the
// least its reference file (ScrapingProgress.tsx) must have: an `events`
// state and a list rendering it. The page signs in first (POST
// /api/v1/session with the token from its URL: the auth_token cookie that
// the seed's header-less EventSource then carries, as a signed-in app's
// would) and only then mounts the component.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

function ScrapingProgress() {
  const [events, setEvents] = useState<any[]>([]);

useEffect(() => {
    // 1. Open Connection
    const eventSource = new EventSource("/notify/events?events=named");

    // 2. Handle Named Events
    eventSource.addEventListener("progress", (e) => {
        const data = JSON.parse(e.data);
        setEvents((prev) => [...prev, data]);
    });

    eventSource.addEventListener("completed", () => {
        eventSource.close(); // Clean up
    });

    // 3. Handle Errors
    eventSource.onerror = (err) => {
        console.error("Stream failed", err);
        eventSource.close();
    };

    // 4. Cleanup on Unmount
    return () => {
        eventSource.close();
    };
}, []);

  return (
    <ul id="events">
      {events.map((event, i) => (
        <li key={i}>{JSON.stringify(event)}</li>
      ))}
    </ul>
  );
}

async function main() {
  const token = new URLSearchParams(location.search).get("token");
  const res = await fetch("/api/v1/session", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    credentials: "same-origin",
  });
  document.body.dataset.session = String(res.status);
  if (!res.ok) return;
  createRoot(document.getElementById("root")!).render(<ScrapingProgress />);
}

main();
