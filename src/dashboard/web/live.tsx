import { useEffect, useRef, useState } from "preact/hooks";

/** The pages' live parts: the event stream they follow, its badge, and a clock for ages. */

export type Live = "connecting" | "live" | "reconnecting";

/** Subscribes to one event stream; EventSource reconnects by itself after a drop. */
export function useStream(url: string, handlers: Record<string, (data: unknown) => void>): Live {
  const [live, setLive] = useState<Live>("connecting");
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    const source = new EventSource(url);
    source.onopen = () => setLive("live");
    source.onerror = () => setLive("reconnecting");
    for (const event of Object.keys(latest.current)) {
      source.addEventListener(event, (message: MessageEvent<string>) => {
        latest.current[event]?.(JSON.parse(message.data) as unknown);
      });
    }
    return () => source.close();
  }, [url]);
  return live;
}

export function LiveBadge({ live }: { live: Live }) {
  return (
    <span class={`live ${live}`} role="status" aria-live="polite">
      {live === "live" ? "● live" : live === "connecting" ? "connecting…" : "reconnecting…"}
    </span>
  );
}

export function age(since: string | undefined, now: number): string {
  if (since === undefined) return "–";
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (!Number.isFinite(seconds)) return "–";
  if (seconds < 120) return `${String(seconds)}s`;
  if (seconds < 7200) return `${String(Math.floor(seconds / 60))}m`;
  if (seconds < 172800) return `${String(Math.floor(seconds / 3600))}h`;
  return `${String(Math.floor(seconds / 86400))}d`;
}

/** A clock for ages: redraws once a second (local only, no request). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
