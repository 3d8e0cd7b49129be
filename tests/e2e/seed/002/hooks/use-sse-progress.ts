// Seed 002_4bfaabb4dfc63301.txt, "SSE Hook" (hooks/use-sse-progress.ts):
// everything below this comment is the seed's text byte for byte, unchanged.
// `getGatewayToken()` is left to the app by the seed; the page defines it
// (002/page.tsx). The endpoint it is given is Herald's progress stream.
// hooks/use-sse-progress.ts
"use client";

import { useState, useEffect, useCallback } from "react";

interface ProgressUpdate {
  status: "processing" | "completed" | "error";
  progress: number;
  message: string;
  step?: string;
  data?: any;
}

export function useSSEProgress(endpoint: string) {
  const [progress, setProgress] = useState<ProgressUpdate | null>(null);
  const [isConnected, setIsConnected] = useState(false);

  const start = useCallback(async () => {
    const token = await getGatewayToken();

    const eventSource = new EventSource(
      `${endpoint}?token=${token}`,
      { withCredentials: true }
    );

    setIsConnected(true);

    eventSource.onmessage = (event) => {
      const update = JSON.parse(event.data) as ProgressUpdate;
      setProgress(update);

      if (update.status === "completed" || update.status === "error") {
        eventSource.close();
        setIsConnected(false);
      }
    };

    eventSource.onerror = () => {
      eventSource.close();
      setIsConnected(false);
      setProgress({ status: "error", progress: 0, message: "Connection lost" });
    };

    return () => {
      eventSource.close();
      setIsConnected(false);
    };
  }, [endpoint]);

  return { progress, isConnected, start };
}
