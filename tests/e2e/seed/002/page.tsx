// The app page around seed 002's component (002/components/progress-indicator.tsx
// and 002/hooks/use-sse-progress.ts, both the seed's text unchanged): it
// supplies what the seed leaves to the app, `getGatewayToken()` (here: the
// token in this page's URL) and the endpoint, Herald's progress stream of
// the job in the URL (`?job=`).
import { createRoot } from "react-dom/client";
import { ProcessingProgress } from "@/components/progress-indicator";

const params = new URLSearchParams(location.search);

(globalThis as any).getGatewayToken = async () => params.get("token");

createRoot(document.getElementById("root")!).render(
  <ProcessingProgress endpoint={`/api/v1/sse/jobs/${params.get("job")}/progress`} />
);
