// stygaze viewer: the procedural head (head.glb) driven by motion frames, with the speech played in sync.
//
// Live mode: a speech file is decoded, resampled to 16 kHz and streamed to `stygaze serve` at real-time
// pace over the WebSocket protocol (docs/serve.md, binary frames); playback starts once the model's latency
// has passed, so every frame is shown at the moment of the speech it belongs to.
// File mode: a motion .npz (stygaze's layout) and its speech are played together; no server needed.
//
// The rig constants (lid follow, jaw range) come from the glb's scene extras, written by stygaze.render.gltf.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const NUM_CHANNELS = 7;
const SEND_RATE = 16000;
const CHUNK_MS = 100;
const START_MARGIN_S = 0.3; // extra wait on top of the model's latency before playback starts
const DEG = Math.PI / 180;

const $ = (id) => document.getElementById(id);
const state = {
  ready: false, mode: 'idle', error: null, framesReceived: 0, framesShown: 0, lateFrames: 0,
  playing: false, finished: false, currentFrame: -1, latencyMs: null, head: [0, 0, 0], fps: 0, times: {},
};
const mark = (name) => { state.times[name] = Math.round(performance.now()); };
window.stygazeViewer = { state };

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.className = isError ? 'error' : '';
  if (isError) state.error = text;
}

// ---------------------------------------------------------------------------------------------
// scene
// ---------------------------------------------------------------------------------------------
const canvas = $('view');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
renderer.outputColorSpace = THREE.SRGBColorSpace;
const scene = new THREE.Scene();
scene.background = new THREE.Color(0xe6e8ec);
const camera = new THREE.PerspectiveCamera(24, 1, 0.01, 10);
camera.position.set(-0.1, 0.1, 0.8);
const controls = new OrbitControls(camera, canvas);
controls.target.set(-0.05, 0.065, 0);
controls.update();
scene.add(new THREE.HemisphereLight(0xffffff, 0x8a7f78, 1.6));
const key = new THREE.DirectionalLight(0xffffff, 2.2);
key.position.set(0.6, 0.8, 1.2);
scene.add(key);
const rim = new THREE.DirectionalLight(0xffffff, 0.8);
rim.position.set(-0.8, 0.4, -0.6);
scene.add(rim);

function resize() {
  const w = window.innerWidth, h = window.innerHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / h;
  camera.updateProjectionMatrix();
}
window.addEventListener('resize', resize);
resize();

const rig = { nodes: {}, morph: {}, consts: null };

function findMorph(meshNode, name) {
  // a glTF mesh with one primitive loads as a Mesh; with several, as a Group of Meshes
  const targets = [];
  meshNode.traverse((o) => {
    if (o.isMesh && o.morphTargetDictionary && name in o.morphTargetDictionary) {
      targets.push([o, o.morphTargetDictionary[name]]);
    }
  });
  return targets;
}

async function loadHead() {
  const gltf = await new GLTFLoader().loadAsync('head.glb');
  scene.add(gltf.scene);
  rig.consts = (gltf.scene.userData || {}).stygaze || { upper_lid_follow: 0.6, lower_lid_follow: 0.25,
    lower_lid_blink_deg: 4, jaw_full_open_rad: 0.35, eye_pitch_clip_deg: 30, fps: 25 };
  for (const name of ['Head', 'LeftEye', 'RightEye', 'LeftUpperLid', 'RightUpperLid', 'LeftLowerLid', 'RightLowerLid', 'Face']) {
    rig.nodes[name] = gltf.scene.getObjectByName(name);
    if (!rig.nodes[name]) throw new Error(`head.glb has no node ${name}`);
  }
  for (const [node, names] of [['LeftUpperLid', ['eyeBlinkLeft', 'eyeBlinkLeft_mid']],
    ['RightUpperLid', ['eyeBlinkRight', 'eyeBlinkRight_mid']], ['Face', ['jawOpen']]]) {
    for (const n of names) rig.morph[n] = findMorph(rig.nodes[node], n);
  }
}

const euler = new THREE.Euler(0, 0, 0, 'YXZ');
function setRot(node, pitchDeg, yawDeg, rollDeg) {
  // stygaze: R = Ry(yaw) Rx(-pitch) Rz(-roll); three's 'YXZ' Euler is Ry * Rx * Rz
  euler.set(-pitchDeg * DEG, yawDeg * DEG, -rollDeg * DEG, 'YXZ');
  node.quaternion.setFromEuler(euler);
}
function setMorph(name, w) {
  for (const [mesh, i] of rig.morph[name] || []) mesh.morphTargetInfluences[i] = w;
}
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

// one frame: m = 7 degrees, blink 0..1 or null, jaw opening (radians) or null
function pose(m, blink, jaw) {
  const c = rig.consts;
  const b = blink == null ? 0 : clamp(blink, 0, 1);
  setRot(rig.nodes.Head, m[0], m[1], m[2]);
  setRot(rig.nodes.LeftEye, m[3], m[4], 0);
  setRot(rig.nodes.RightEye, m[5], m[6], 0);
  for (const [side, p] of [['Left', m[3]], ['Right', m[5]]]) {
    const up = (1 - b) * c.upper_lid_follow * clamp(p, -c.eye_pitch_clip_deg, c.eye_pitch_clip_deg);
    rig.nodes[side + 'UpperLid'].rotation.set(-up * DEG, 0, 0);
    const low = c.lower_lid_follow * clamp(p, -c.eye_pitch_clip_deg, 0) + c.lower_lid_blink_deg * b;
    rig.nodes[side + 'LowerLid'].rotation.set(-low * DEG, 0, 0);
    setMorph(`eyeBlink${side}`, b);
    setMorph(`eyeBlink${side}_mid`, 4 * b * (1 - b));
  }
  setMorph('jawOpen', jaw == null ? 0 : clamp(jaw / c.jaw_full_open_rad, 0, 1));
  state.head = [m[0], m[1], m[2]];
  state.blink = blink;
  state.jaw = jaw;
}

// ---------------------------------------------------------------------------------------------
// motion track: frames appended as they arrive, sampled at any time with linear interpolation
// ---------------------------------------------------------------------------------------------
class Track {
  constructor(fps) { this.fps = fps; this.n = 0; this.m = new Float32Array(1024 * NUM_CHANNELS); this.blink = null; this.jaw = null; }
  _grow(need) {
    if (need * NUM_CHANNELS <= this.m.length) return;
    const cap = Math.max(need, this.m.length / NUM_CHANNELS * 2);
    const m = new Float32Array(cap * NUM_CHANNELS); m.set(this.m); this.m = m;
    if (this.blink) { const b = new Float32Array(cap); b.set(this.blink); this.blink = b; }
    if (this.jaw) { const j = new Float32Array(cap); j.set(this.jaw); this.jaw = j; }
  }
  append(start, count, motion, blink, jaw) {
    if (start !== this.n) throw new Error(`frame ${start} arrived, expected ${this.n}`);
    this._grow(start + count);
    this.m.set(motion, start * NUM_CHANNELS);
    if (blink) { if (!this.blink) this.blink = new Float32Array(this.m.length / NUM_CHANNELS); this.blink.set(blink, start); }
    if (jaw) { if (!this.jaw) this.jaw = new Float32Array(this.m.length / NUM_CHANNELS); this.jaw.set(jaw, start); }
    this.n += count;
  }
  sample(t) {
    const f = clamp(t * this.fps, 0, Math.max(this.n - 1, 0));
    const i = Math.floor(f), k = Math.min(i + 1, this.n - 1), w = f - i;
    const m = new Array(NUM_CHANNELS);
    for (let c = 0; c < NUM_CHANNELS; c++) {
      const a = this.m[i * NUM_CHANNELS + c], b = this.m[k * NUM_CHANNELS + c];
      m[c] = Number.isFinite(a) && Number.isFinite(b) ? a + w * (b - a) : (Number.isFinite(a) ? a : (Number.isFinite(b) ? b : 0));
    }
    const lerp = (arr) => (arr ? arr[i] + w * (arr[k] - arr[i]) : null);
    return { frame: i, m, blink: lerp(this.blink), jaw: lerp(this.jaw) };
  }
}

// ---------------------------------------------------------------------------------------------
// audio: decode, resample to 16 kHz, play; a clock that falls back to wall time without a sink
// ---------------------------------------------------------------------------------------------
let audioCtx = null;
function ctx() {
  if (!audioCtx) audioCtx = new (window.AudioContext || window.webkitAudioContext)();
  return audioCtx;
}
async function decodeAudio(file) {
  const data = await file.arrayBuffer();
  return await ctx().decodeAudioData(data);
}
async function to16k(buffer) {
  const length = Math.max(1, Math.round(buffer.duration * SEND_RATE));
  const off = new OfflineAudioContext(1, length, SEND_RATE);
  const src = off.createBufferSource();
  src.buffer = buffer;
  src.connect(off.destination);
  src.start();
  const out = await off.startRendering();
  return out.getChannelData(0);
}

const player = { source: null, ctxStart: 0, wallStart: 0, duration: 0, useWall: false };
function playAt(buffer, delayS) {
  stopAudio();
  const c = ctx();
  if (c.state === 'suspended') c.resume();
  const src = c.createBufferSource();
  src.buffer = buffer;
  src.connect(c.destination);
  player.ctxStart = c.currentTime + delayS;
  player.wallStart = performance.now() / 1000 + delayS;
  player.duration = buffer.duration;
  player.useWall = false;
  player.ctxAtWall = [c.currentTime, performance.now() / 1000];
  src.start(player.ctxStart);
  player.source = src;
  state.playing = true;
  state.finished = false;
}
function stopAudio() {
  if (player.source) { try { player.source.stop(); } catch (e) { /* already stopped */ } }
  player.source = null;
  state.playing = false;
}
function playbackTime() {
  const c = audioCtx;
  // an AudioContext without an output device may not advance: use the wall clock then
  if (!player.useWall && c && player.ctxAtWall && performance.now() / 1000 - player.ctxAtWall[1] > 0.5 &&
      c.currentTime === player.ctxAtWall[0]) player.useWall = true;
  return player.useWall || !c ? performance.now() / 1000 - player.wallStart : c.currentTime - player.ctxStart;
}

// ---------------------------------------------------------------------------------------------
// live mode: stream speech to the server
// ---------------------------------------------------------------------------------------------
let track = null;
let live = null;

function serverUrl() {
  const q = new URLSearchParams(location.search).get('server');
  if (q) return q;
  if (location.protocol === 'file:') return 'ws://127.0.0.1:8765/';
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
}

function parseBinary(buf) {
  const dv = new DataView(buf);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic !== 'SGM1') throw new Error('bad binary frame message');
  const start = dv.getUint32(4, true), count = dv.getUint16(8, true), width = dv.getUint16(10, true);
  const flags = dv.getUint16(12, true), jawDim = dv.getUint16(14, true);
  const body = new Float32Array(buf, 16, count * width);
  const motion = new Float32Array(count * NUM_CHANNELS);
  const blink = flags & 1 ? new Float32Array(count) : null;
  const jaw = flags & 2 ? new Float32Array(count) : null;
  for (let r = 0; r < count; r++) {
    motion.set(body.subarray(r * width, r * width + NUM_CHANNELS), r * NUM_CHANNELS);
    let k = NUM_CHANNELS;
    if (blink) blink[r] = body[r * width + k++];
    if (jaw) jaw[r] = body[r * width + k]; // jaw column 0: the opening (radians)
  }
  void jawDim;
  return { start, count, motion, blink, jaw };
}

function stopLive() {
  if (live) {
    clearInterval(live.timer);
    if (live.ws && live.ws.readyState <= 1) live.ws.close();
  }
  live = null;
}

async function startLive(buffer) {
  stopLive();
  stopAudio();
  const pcm = await to16k(buffer);
  mark('resampled');
  track = new Track(25);
  state.mode = 'live'; state.framesReceived = 0; state.lateFrames = 0; state.error = null; state.finished = false;
  const start = { type: 'start', sample_rate: SEND_RATE, format: 'float32', output: 'binary' };
  const seed = parseInt($('seed').value, 10);
  if (Number.isFinite(seed) && seed >= 0) start.seed = seed;
  if ($('style').value) start.style = { name: $('style').value };
  const ws = new WebSocket(serverUrl());
  ws.binaryType = 'arraybuffer';
  live = { ws, timer: null, sent: 0, pcm };
  const me = live;
  setStatus(`connecting to ${serverUrl()} …`);
  ws.onopen = () => ws.send(JSON.stringify(start));
  ws.onerror = () => { if (live === me) setStatus(`cannot reach the server at ${serverUrl()}`, true); };
  ws.onclose = (ev) => {
    if (live === me && ev.code !== 1000 && !state.error) setStatus(`the server closed the stream (${ev.code} ${ev.reason})`, true);
  };
  ws.onmessage = (ev) => {
    if (live !== me) return;
    if (typeof ev.data !== 'string') {
      const b = parseBinary(ev.data);
      if (track.n === 0) mark('first_frames');
      track.append(b.start, b.count, b.motion, b.blink, b.jaw);
      state.framesReceived = track.n;
      return;
    }
    const msg = JSON.parse(ev.data);
    if (msg.type === 'ready') {
      mark('ready');
      state.latencyMs = msg.latency_ms;
      // speech goes out now at real-time pace; frames come back about latency_ms later
      playAt(buffer, msg.latency_ms / 1000 + START_MARGIN_S);
      const t0 = performance.now();
      const chunk = Math.round(SEND_RATE * CHUNK_MS / 1000);
      const pump = () => {
        const due = Math.min(pcm.length, Math.floor((performance.now() - t0) / CHUNK_MS + 1) * chunk);
        while (me.sent < due && ws.readyState === 1) {
          const end = Math.min(me.sent + chunk, pcm.length);
          ws.send(pcm.slice(me.sent, end).buffer);
          me.sent = end;
        }
        if (me.sent >= pcm.length) {
          clearInterval(me.timer);
          if (ws.readyState === 1) ws.send(JSON.stringify({ type: 'end' }));
        }
      };
      me.timer = setInterval(pump, 20);
      pump();
      setStatus(`streaming (model latency ${msg.latency_ms.toFixed(0)} ms; playback waits for it)`);
    } else if (msg.type === 'done') {
      setStatus(`stream done: ${msg.frames} frames`);
    } else if (msg.type === 'error') {
      setStatus(`server error ${msg.code}: ${msg.message}`, true);
    }
  };
  $('play').disabled = false; $('stop').disabled = false;
}

// ---------------------------------------------------------------------------------------------
// file mode: a motion .npz (zip of .npy) + its speech
// ---------------------------------------------------------------------------------------------
async function inflateRaw(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function readZip(buf) {
  const dv = new DataView(buf), u8 = new Uint8Array(buf);
  let eocd = -1;
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 65557); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not an .npz (zip) file');
  const entries = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const files = {};
  for (let e = 0; e < entries; e++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new Error('corrupt .npz directory');
    const method = dv.getUint16(p + 10, true), csize = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(u8.subarray(p + 46, p + 46 + nameLen));
    const dataAt = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    const raw = u8.subarray(dataAt, dataAt + csize);
    files[name] = method === 0 ? raw : method === 8 ? await inflateRaw(raw) : null;
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

function readNpy(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error('not a .npy array');
  const major = bytes[6];
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('fortran-ordered arrays are not supported');
  const n = shape.reduce((a, b) => a * b, 1);
  const body = bytes.slice(hstart + hlen);
  let data;
  if (descr === '<f4') data = new Float32Array(body.buffer, 0, n);
  else if (descr === '<f8') data = Float32Array.from(new Float64Array(body.buffer, 0, n));
  else throw new Error(`unsupported dtype ${descr}`);
  return { shape, data };
}

async function loadMotionFile(file) {
  const files = await readZip(await file.arrayBuffer());
  if (!files['motion.npy']) throw new Error(`${file.name} has no 'motion' array`);
  const m = readNpy(files['motion.npy']);
  if (m.shape.length !== 2 || m.shape[1] !== NUM_CHANNELS) throw new Error(`motion has shape (${m.shape}), expected (T, 7)`);
  const fps = files['fps.npy'] ? readNpy(files['fps.npy']).data[0] : 25;
  const t = new Track(fps);
  const blink = files['blink.npy'] ? readNpy(files['blink.npy']).data : null;
  let jaw = null;
  if (files['jaw.npy']) {
    const j = readNpy(files['jaw.npy']);
    const w = j.shape.length > 1 ? j.shape[1] : 1;
    jaw = new Float32Array(m.shape[0]);
    for (let i = 0; i < m.shape[0]; i++) jaw[i] = j.data[i * w];
  }
  t.append(0, m.shape[0], m.data, blink, jaw);
  return t;
}

async function startFile(motionTrack, buffer) {
  stopLive();
  track = motionTrack;
  state.mode = 'file'; state.framesReceived = track.n; state.error = null;
  playAt(buffer, 0.1);
  setStatus(`playing ${track.n} frames with the speech`);
  $('play').disabled = false; $('stop').disabled = false;
}

// ---------------------------------------------------------------------------------------------
// UI
// ---------------------------------------------------------------------------------------------
const chosen = { audio: null, motion: null, buffer: null };

async function go() {
  mark('chosen');
  try {
    if (!chosen.audio) { setStatus(chosen.motion ? 'now choose the speech that goes with the motion' : 'choose a speech file'); return; }
    chosen.buffer = chosen.buffer || await decodeAudio(chosen.audio);
    mark('decoded');
    if (chosen.motion) await startFile(await loadMotionFile(chosen.motion), chosen.buffer);
    else await startLive(chosen.buffer);
  } catch (e) {
    setStatus(String(e.message || e), true);
  }
}

$('audio').addEventListener('change', () => { chosen.audio = $('audio').files[0] || null; chosen.buffer = null; go(); });
$('motion').addEventListener('change', () => { chosen.motion = $('motion').files[0] || null; if (chosen.audio) go(); else setStatus('now choose the speech that goes with the motion'); });
$('play').addEventListener('click', go);
$('stop').addEventListener('click', () => { stopLive(); stopAudio(); setStatus('stopped'); });

window.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
window.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  for (const f of e.dataTransfer.files) {
    if (f.name.toLowerCase().endsWith('.npz')) chosen.motion = f;
    else { chosen.audio = f; chosen.buffer = null; }
  }
  go();
});

async function loadStyles() {
  try {
    const r = await fetch('config.json');
    if (!r.ok) return;
    const cfg = await r.json();
    for (const name of cfg.styles || []) {
      const o = document.createElement('option');
      o.value = o.textContent = name;
      $('style').appendChild(o);
    }
  } catch (e) { /* static hosting: no server config */ }
}

let fpsCount = 0, fpsT0 = performance.now();
function frame() {
  requestAnimationFrame(frame);
  fpsCount++;
  if (performance.now() - fpsT0 > 1000) { state.fps = fpsCount * 1000 / (performance.now() - fpsT0); fpsCount = 0; fpsT0 = performance.now(); }
  if (track && track.n > 0 && state.playing) {
    const t = playbackTime();
    if (t >= 0) {
      const s = track.sample(t);
      const wanted = Math.floor(t * track.fps);
      if (state.mode === 'live' && wanted > track.n - 1 && t < player.duration) state.lateFrames++;
      pose(s.m, s.blink, s.jaw);
      state.currentFrame = s.frame;
      state.framesShown++;
      $('readout').textContent =
        `frame ${String(s.frame).padStart(5)}  t ${t.toFixed(2)} s  received ${track.n}\n` +
        `head  pitch ${s.m[0].toFixed(1).padStart(6)}  yaw ${s.m[1].toFixed(1).padStart(6)}  roll ${s.m[2].toFixed(1).padStart(6)}\n` +
        `eyes  L ${s.m[3].toFixed(1)}/${s.m[4].toFixed(1)}  R ${s.m[5].toFixed(1)}/${s.m[6].toFixed(1)}` +
        (s.blink != null ? `  blink ${s.blink.toFixed(2)}` : '') + (s.jaw != null ? `  jaw ${s.jaw.toFixed(3)}` : '');
    }
    if (t > player.duration + 0.2) { state.playing = false; state.finished = true; }
  }
  controls.update();
  renderer.render(scene, camera);
}

loadHead().then(() => {
  pose([0, 0, 0, 0, 0, 0, 0], 0, 0);
  state.ready = true;
  setStatus('Choose or drop a speech file to stream it live, or a motion .npz + its speech to play them.');
  loadStyles();
  frame();
}).catch((e) => setStatus(`cannot load the head: ${e.message || e}`, true));
