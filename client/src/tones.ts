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

/**
 * "Test my setup"'s speaker sound: three short beeps (660 Hz) as a 16-bit mono WAV file, played through an audio
 * element so it goes to the speaker chosen in Audio settings (`setSinkId`). Made here: the page loads no sound files.
 */
export function testSoundWav(sampleRate = 24_000): Uint8Array<ArrayBuffer> {
  const beep = 0.25;
  const gap = 0.15;
  const seconds = 3 * beep + 2 * gap;
  const samples = Math.round(seconds * sampleRate);
  const bytes = new Uint8Array(44 + samples * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // PCM header size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, samples * 2, true);
  const fade = 0.01 * sampleRate;
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    const inBeep = t % (beep + gap);
    let amplitude = 0;
    if (inBeep < beep) {
      const pos = inBeep * sampleRate;
      const end = beep * sampleRate - pos;
      amplitude = 0.3 * Math.min(1, pos / fade, end / fade);
    }
    view.setInt16(44 + i * 2, Math.round(amplitude * 32767 * Math.sin(2 * Math.PI * 660 * t)), true);
  }
  return bytes;
}
