import { useCallback, useEffect, useRef, useState } from 'react';

const COLORS = ['#1d4ed8', '#047857']; // caller (left), agent (right)
const PEAK_BUCKETS = 800;

/** Min/max per bucket for each channel: enough to draw a waveform at any width without keeping the PCM. */
function peaks(buffer: AudioBuffer): Float32Array[] {
  const out: Float32Array[] = [];
  for (let ch = 0; ch < Math.min(buffer.numberOfChannels, 2); ch++) {
    const data = buffer.getChannelData(ch);
    const step = Math.max(1, Math.floor(data.length / PEAK_BUCKETS));
    const p = new Float32Array(PEAK_BUCKETS * 2);
    for (let b = 0; b < PEAK_BUCKETS; b++) {
      let min = 0,
        max = 0;
      for (let i = b * step; i < Math.min((b + 1) * step, data.length); i++) {
        const v = data[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      p[b * 2] = min;
      p[b * 2 + 1] = max;
    }
    out.push(p);
  }
  return out;
}

/**
 * A stereo player: the <audio> element streams the file with Range requests; the waveform is decoded
 * separately (Web Audio) and drawn on a canvas, one lane per channel; clicking or arrow keys seek.
 */
export function WaveformPlayer({
  src,
  fallbackSrc,
  durationSeconds,
  onFirstPlay,
}: {
  src: string;
  fallbackSrc?: string;
  durationSeconds: number;
  onFirstPlay?: () => void;
}) {
  const audioRef = useRef<HTMLAudioElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [wave, setWave] = useState<Float32Array[] | undefined>();
  const [waveState, setWaveState] = useState<'loading' | 'ready' | 'failed'>('loading');
  const [waveError, setWaveError] = useState('');
  const [current, setCurrent] = useState(0);
  const [duration, setDuration] = useState(durationSeconds);
  const [audioSrc, setAudioSrc] = useState(src);
  const played = useRef(false);

  useEffect(() => {
    let live = true;
    setWaveState('loading');
    (async () => {
      const res = await fetch(src, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`recording ${res.status} ${(await res.text()).slice(0, 200)}`);
      const bytes = await res.arrayBuffer();
      // An OfflineAudioContext decodes without a user gesture and without touching the speakers.
      const ctx = new OfflineAudioContext(2, 1, 8000);
      const buffer = await ctx.decodeAudioData(bytes);
      if (live) {
        setWave(peaks(buffer));
        setDuration((d) => d || buffer.duration);
        setWaveState('ready');
      }
    })().catch((err: unknown) => {
      if (live) {
        setWaveError(err instanceof Error ? err.message : String(err));
        setWaveState('failed');
      }
    });
    return () => {
      live = false;
    };
  }, [src]);

  const draw = useCallback(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth,
      height = canvas.clientHeight;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const g = canvas.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const lanes = wave?.length ?? 2;
    const laneH = height / lanes;
    const progressX = duration > 0 ? (current / duration) * width : 0;
    (wave ?? []).forEach((p, lane) => {
      const mid = laneH * lane + laneH / 2;
      for (let x = 0; x < width; x++) {
        const b = Math.floor((x / width) * PEAK_BUCKETS);
        const min = p[b * 2] ?? 0,
          max = p[b * 2 + 1] ?? 0;
        g.fillStyle = x < progressX ? COLORS[lane]! : `${COLORS[lane]!}66`;
        g.fillRect(x, mid - max * (laneH / 2 - 2), 1, Math.max(1, (max - min) * (laneH / 2 - 2)));
      }
    });
    g.fillStyle = '#111827';
    g.fillRect(progressX, 0, 2, height);
  }, [wave, current, duration]);
  useEffect(draw, [draw]);
  useEffect(() => {
    window.addEventListener('resize', draw);
    return () => window.removeEventListener('resize', draw);
  }, [draw]);

  const seekTo = (seconds: number) => {
    const audio = audioRef.current;
    if (!audio) return;
    audio.currentTime = Math.max(0, Math.min(seconds, duration || audio.duration || 0));
    setCurrent(audio.currentTime);
  };

  return (
    <div className="player">
      <audio
        ref={audioRef}
        src={audioSrc}
        controls
        preload="metadata"
        aria-label="Call recording"
        onTimeUpdate={(e) => setCurrent(e.currentTarget.currentTime)}
        onLoadedMetadata={(e) => {
          if (Number.isFinite(e.currentTarget.duration)) setDuration(e.currentTarget.duration);
        }}
        onPlay={() => {
          if (!played.current) {
            played.current = true;
            onFirstPlay?.();
          }
        }}
        onError={() => {
          if (fallbackSrc && audioSrc !== fallbackSrc) setAudioSrc(fallbackSrc);
        }}
      />
      <div className="wave-wrap">
        <canvas
          ref={canvasRef}
          className="wave"
          role="slider"
          tabIndex={0}
          aria-label="Seek in recording (top lane caller, bottom lane agent)"
          aria-valuemin={0}
          aria-valuemax={Math.round(duration)}
          aria-valuenow={Math.round(current)}
          aria-valuetext={`${Math.round(current)} of ${Math.round(duration)} seconds`}
          onClick={(e) => {
            const r = e.currentTarget.getBoundingClientRect();
            seekTo(((e.clientX - r.left) / r.width) * duration);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowRight') {
              e.preventDefault();
              seekTo(current + 5);
            }
            if (e.key === 'ArrowLeft') {
              e.preventDefault();
              seekTo(current - 5);
            }
          }}
        />
        {waveState === 'loading' && (
          <p className="wave-note" role="status">
            Drawing waveform…
          </p>
        )}
        {waveState === 'failed' && <p className="wave-note">Waveform unavailable ({waveError}); the audio still plays.</p>}
      </div>
      <p className="legend">
        <span className="swatch caller" aria-hidden="true" /> caller (left) <span className="swatch agent" aria-hidden="true" /> agent (right)
      </p>
    </div>
  );
}
