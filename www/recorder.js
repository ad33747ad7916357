// Records the microphone as 16-bit mono WAV, a format the service decodes (a MediaRecorder
// gives WebM/Opus or MP4/AAC, which it does not). The samples are tapped by an AudioWorklet
// and written out when the recording stops.

const TAP = `registerProcessor('pcm-tap', class extends AudioWorkletProcessor {
  process([input]) {
    if (input[0]) this.port.postMessage(input[0].slice());
    return true;
  }
});`;

/** Starts recording; resolves to `{ stop(): Promise<Blob> }` once the microphone is on. */
export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const context = new AudioContext();
  const module = URL.createObjectURL(new Blob([TAP], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(module);
  } finally {
    URL.revokeObjectURL(module);
  }
  const source = context.createMediaStreamSource(stream);
  const tap = new AudioWorkletNode(context, 'pcm-tap');
  const chunks = [];
  tap.port.onmessage = (event) => chunks.push(event.data);
  // Pulled by the destination through a silent gain, so that it runs without an echo.
  const silent = context.createGain();
  silent.gain.value = 0;
  source.connect(tap).connect(silent).connect(context.destination);
  return {
    async stop() {
      for (const track of stream.getTracks()) track.stop();
      source.disconnect();
      const rate = context.sampleRate;
      await context.close();
      return wav(chunks, rate);
    },
  };
}

/** 16-bit PCM mono WAV of float sample chunks. */
function wav(chunks, rate) {
  const count = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const view = new DataView(new ArrayBuffer(44 + count * 2));
  const text = (at, s) => {
    for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + count * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, count * 2, true);
  let at = 44;
  for (const chunk of chunks) {
    for (const sample of chunk) {
      view.setInt16(at, Math.max(-1, Math.min(1, sample)) * 0x7fff, true);
      at += 2;
    }
  }
  return new Blob([view.buffer], { type: 'audio/wav' });
}
