// Seed 002_4bfaabb4dfc63301.txt, "Progress Component"
// (components/progress-indicator.tsx): everything below this comment is the
// seed's text byte for byte, unchanged. Its "@/hooks/..." import resolves
// through 002/tsconfig.json ("@/*" -> "./*"), as in the Next.js app it is from.
// components/progress-indicator.tsx
"use client";

import { useSSEProgress } from "@/hooks/use-sse-progress";

export function ProcessingProgress({ endpoint }: { endpoint: string }) {
  const { progress, isConnected, start } = useSSEProgress(endpoint);

  return (
    <div className="space-y-4">
      <button onClick={start} disabled={isConnected}>
        {isConnected ? "Processing..." : "Start Processing"}
      </button>

      {progress && (
        <div>
          <div className="h-2 bg-gray-200 rounded">
            <div
              className="h-2 bg-blue-500 rounded transition-all"
              style={{ width: `${progress.progress}%` }}
            />
          </div>
          <p className="text-sm text-gray-600">
            {progress.step}: {progress.message}
          </p>
        </div>
      )}
    </div>
  );
}
