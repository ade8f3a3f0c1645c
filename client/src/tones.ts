/** A ringtone made with Web Audio (no sound files): two-tone bursts, repeated until stopped. */
export interface Ringtone {
  start(): void;
  stop(): void;
  readonly playing: boolean;
}

export function createRingtone(getContext: () => AudioContext | undefined): Ringtone {
  let timer: ReturnType<typeof setInterval> | undefined;
  const burst = () => {
    const ctx = getContext();
    if (!ctx) return;
    void ctx.resume().catch(() => undefined);
    const gain = ctx.createGain();
    gain.gain.value = 0.0001;
    gain.connect(ctx.destination);
    const t = ctx.currentTime;
    for (const [freq, start] of [
      [440, 0],
      [480, 0],
      [440, 0.5],
      [480, 0.5],
    ] as const) {
      const osc = ctx.createOscillator();
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.start(t + start);
      osc.stop(t + start + 0.4);
    }
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.15, t + 0.05);
    gain.gain.setValueAtTime(0.15, t + 0.85);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.9);
  };
  return {
    start() {
      if (timer) return;
      burst();
      timer = setInterval(burst, 3000);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    get playing() {
      return timer !== undefined;
    },
  };
}
