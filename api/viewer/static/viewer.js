// The results viewer: the task's video with its detections drawn on a canvas in sync, a timeline
// of objects per second, a score filter and analysed-frame steps. Plain script, no build step.
"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("va-config").textContent);
  const token = new URLSearchParams(location.search).get("viewer_token") || "";
  const $ = (id) => document.getElementById(id);
  const video = $("video"), still = $("still"), overlay = $("overlay"), timeline = $("timeline");
  const LINE_PX = 3; // box outline width in CSS pixels
  const TRAIL_FRAMES = 12; // analysed frames of a track's path drawn behind its box
  const state = {
    frames: [], times: [], task: null, minScore: 0, shown: -1, tracks: [],
    mode: "video", stillTime: 0, timer: null,
  };

  /** The label's colour: FNV-1a of its UTF-8 bytes picks a palette entry (as the server does). */
  function colour(label) {
    let h = 2166136261;
    for (const byte of new TextEncoder().encode(label)) h = Math.imul(h ^ byte, 16777619) >>> 0;
    return cfg.palette[h % cfg.palette.length];
  }

  const withToken = (url) => (token ? `${url}${url.includes("?") ? "&" : "?"}viewer_token=${encodeURIComponent(token)}` : url);
  const frameDuration = () => (cfg.fps > 0 ? 1 / cfg.fps : 0.04);
  const visible = (frame) => frame.objects.filter((o) => o.score >= state.minScore);
  const now = () => (state.mode === "video" ? video.currentTime : state.stillTime);

  /** Index (in state.frames) of the last analysed frame at or before time t, or -1. */
  function frameAt(t) {
    let lo = 0, hi = state.times.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (state.times[mid] <= t + 1e-3) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  function duration() {
    if (state.mode === "video" && Number.isFinite(video.duration) && video.duration > 0) return video.duration;
    if (cfg.frames > 0) return cfg.frames * frameDuration();
    return (state.times.at(-1) || 0) + frameDuration();
  }

  /** Where the picture lies inside the stage (letterboxed like object-fit: contain), CSS px. */
  function contentRect() {
    const media = state.mode === "video" ? video : still;
    const w = media.clientWidth, h = media.clientHeight;
    const sw = (state.mode === "video" ? video.videoWidth : still.naturalWidth) || w;
    const sh = (state.mode === "video" ? video.videoHeight : still.naturalHeight) || h;
    const scale = Math.min(w / sw, h / sh);
    return { x: (w - sw * scale) / 2, y: (h - sh * scale) / 2, scale, width: sw * scale, height: sh * scale };
  }

  function drawOverlay(t = now()) {
    const dpr = window.devicePixelRatio || 1;
    const media = state.mode === "video" ? video : still;
    const cw = Math.round(media.clientWidth * dpr), ch = Math.round(media.clientHeight * dpr);
    if (overlay.width !== cw || overlay.height !== ch) { overlay.width = cw; overlay.height = ch; }
    const ctx = overlay.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const index = frameAt(t);
    state.shown = index;
    const frame = state.frames[index];
    overlay.dataset.frame = frame ? String(frame.frame) : "";
    const r = contentRect();
    const objects = frame ? visible(frame) : [];
    ctx.font = "bold 14px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (const o of objects) {
      const [x1, y1, x2, y2] = o.box.map((v, i) => (i % 2 ? r.y + v * r.scale : r.x + v * r.scale));
      ctx.strokeStyle = ctx.fillStyle = colour(o.label);
      ctx.lineWidth = LINE_PX;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const text = `${o.track_id != null ? `#${o.track_id} ` : ""}${o.label} ${o.score.toFixed(2)}`;
      const tw = ctx.measureText(text).width + 8, th = 20;
      const top = y1 - th - LINE_PX / 2 >= r.y ? y1 - th - LINE_PX / 2 : y1 + LINE_PX / 2;
      ctx.fillRect(x1 - LINE_PX / 2, top, tw, th);
      ctx.fillStyle = "#000";
      ctx.fillText(text, x1 + 4 - LINE_PX / 2, top + 3);
    }
    drawTrails(ctx, r, index, objects);
    renderFrameInfo(frame, objects, t);
    drawTimeline();
  }

  /** Each tracked object's path: its box centres over the last TRAIL_FRAMES analysed frames. */
  function drawTrails(ctx, r, index, objects) {
    for (const o of objects) {
      if (o.track_id == null) continue;
      const points = [];
      for (let i = index; i >= 0 && i > index - TRAIL_FRAMES; i--) {
        const same = state.frames[i].objects.find((p) => p.track_id === o.track_id);
        if (same) points.push([r.x + ((same.box[0] + same.box[2]) / 2) * r.scale, r.y + ((same.box[1] + same.box[3]) / 2) * r.scale]);
      }
      if (points.length < 2) continue;
      ctx.strokeStyle = "#fff"; // not the label's colour: the box stays the only one in it
      ctx.lineWidth = 2;
      ctx.beginPath();
      points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
    overlay.dataset.trails = String(objects.filter((o) => o.track_id != null).length);
  }

  /** The task's tracks with their thumbnails; a click seeks to the track's first appearance. */
  async function loadTracks() {
    const tracks = [];
    let cursor = null;
    for (;;) {
      const url = `${cfg.tracks_url}?limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`;
      const resp = await fetch(withToken(url), { referrerPolicy: "no-referrer" });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(`${resp.status}: ${body.detail || resp.statusText}`);
      tracks.push(...body.tracks);
      if (body.next_cursor === null) break;
      cursor = body.next_cursor;
    }
    state.tracks = tracks;
    const list = $("tracks");
    if (!tracks.length) { list.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: "no tracks" })); return; }
    list.replaceChildren(...tracks.map((tr) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button"; button.dataset.track = String(tr.track_id);
      const img = document.createElement("img");
      img.alt = `track ${tr.track_id}`; img.width = 48;
      img.src = withToken(`${cfg.tracks_url}${tr.track_id}/thumbnail.jpg`);
      button.append(img, ` #${tr.track_id} ${tr.label} · ${tr.first_timestamp.toFixed(1)}–${tr.last_timestamp.toFixed(1)} s · ${tr.frames_seen} frames`);
      button.addEventListener("click", () => seekToFrame(tr.first_frame));
      li.append(button);
      return li;
    }));
  }

  function seekToFrame(frameIndex) {
    if (state.mode === "video" && !video.paused) video.pause();
    const i = state.frames.findIndex((f) => f.frame === frameIndex);
    if (i >= 0) showFrame(i);
  }

  function renderFrameInfo(frame, objects, t) {
    $("frameinfo").textContent = frame
      ? `frame ${frame.frame} · ${frame.timestamp.toFixed(3)} s · ${objects.length} shown`
      : `${t.toFixed(3)} s · no analysed frame yet`;
    const list = $("objects");
    list.replaceChildren(...objects.map((o) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = colour(o.label);
      li.append(sw, `${o.label} ${o.score.toFixed(2)} [${o.box.map((v) => Math.round(v)).join(", ")}]`);
      return li;
    }));
  }

  /** Per second and label: the most objects of that label in one analysed frame of that second. */
  function perSecond() {
    const bins = Array.from({ length: Math.max(1, Math.ceil(duration())) }, () => new Map());
    for (const f of state.frames) {
      const counts = new Map();
      for (const o of visible(f)) counts.set(o.label, (counts.get(o.label) || 0) + 1);
      const bin = bins[Math.min(bins.length - 1, Math.floor(f.timestamp))];
      for (const [label, n] of counts) bin.set(label, Math.max(n, bin.get(label) || 0));
    }
    return bins;
  }

  function drawTimeline() {
    const dpr = window.devicePixelRatio || 1;
    const w = timeline.clientWidth, h = timeline.clientHeight;
    if (timeline.width !== Math.round(w * dpr)) { timeline.width = Math.round(w * dpr); timeline.height = Math.round(h * dpr); }
    const ctx = timeline.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const bins = perSecond(), axis = 16, plotH = h - axis;
    const peak = Math.max(1, ...bins.map((b) => [...b.values()].reduce((a, n) => a + n, 0)));
    const bw = w / bins.length;
    bins.forEach((bin, s) => {
      let y = plotH;
      for (const [label, n] of [...bin].sort()) {
        const bh = (n / peak) * (plotH - 4);
        ctx.fillStyle = colour(label);
        ctx.fillRect(s * bw + 1, y - bh, Math.max(1, bw - 2), bh);
        y -= bh;
      }
    });
    ctx.fillStyle = "#9aa4b2"; ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "top";
    const every = Math.max(1, Math.ceil(bins.length / Math.max(1, Math.floor(w / 40))));
    for (let s = 0; s < bins.length; s += every) ctx.fillText(`${s}s`, s * bw + 2, plotH + 3);
    ctx.fillText(`max ${peak}`, w - 44, 2);
    const x = (now() / duration()) * w;
    ctx.fillStyle = "#fff"; ctx.fillRect(x - 1, 0, 2, plotH);
  }

  function renderLegend() {
    const totals = new Map();
    for (const f of state.frames) for (const o of visible(f)) totals.set(o.label, (totals.get(o.label) || 0) + 1);
    const items = [...totals].sort((a, b) => b[1] - a[1]).map(([label, n]) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch"; sw.style.background = colour(label);
      li.append(sw, `${label} — ${n}`);
      return li;
    });
    if (!items.length) { const li = document.createElement("li"); li.className = "muted"; li.textContent = "no detections at this score"; items.push(li); }
    $("legend").replaceChildren(...items);
  }

  function renderStatus() {
    const t = state.task;
    $("title").textContent = cfg.video_name || cfg.task_id;
    $("status").textContent = t.status;
    $("status").dataset.status = t.status;
    const progress = t.frames_total ? ` · ${t.frames_done}/${t.frames_total} frames done` : "";
    $("summary").textContent = `${cfg.model} · ${state.frames.length} analysed frames${progress}` + (t.error ? ` · ${t.error}` : "");
  }

  function notice(text) { $("notice").textContent = text; $("notice").hidden = !text; }

  /** Fetch every detection page (after the frames already held); poll again while the task runs. */
  async function loadDetections() {
    let cursor = state.frames.length ? state.frames.at(-1).frame : null;
    for (;;) {
      const url = `${cfg.result_url}?limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`;
      const resp = await fetch(withToken(url), { referrerPolicy: "no-referrer" });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(`${resp.status}: ${body.detail || resp.statusText}`);
      state.task = body;
      state.frames.push(...body.detections);
      if (body.next_cursor === null) break;
      cursor = body.next_cursor;
    }
    state.times = state.frames.map((f) => f.timestamp);
    renderStatus(); renderLegend(); drawOverlay();
    await loadTracks().catch((e) => notice(`could not load tracks: ${e.message}`));
    document.body.dataset.loaded = "true";
    if (!state.task.ready) setTimeout(() => loadDetections().catch((e) => notice(`could not load detections: ${e.message}`)), 2000);
  }

  /** Show analysed frame `i` (index in state.frames): seek inside its display interval. */
  function showFrame(i) {
    if (i < 0 || i >= state.frames.length) return;
    const t = state.frames[i].timestamp + frameDuration() / 4;
    state.shown = i;
    if (state.mode === "video") video.currentTime = t;
    else { state.stillTime = t; still.src = withToken(`${cfg.frames_url}${state.frames[i].frame}.jpg?boxes=false`); }
    drawOverlay(t);
  }

  function step(delta) {
    if (state.mode === "video" && !video.paused) video.pause();
    const from = state.shown >= 0 ? state.shown : frameAt(now());
    showFrame(Math.max(0, Math.min(state.frames.length - 1, from + delta)));
  }

  function togglePlay() {
    if (state.mode === "video") { if (video.paused) video.play(); else video.pause(); return; }
    if (state.timer) { clearInterval(state.timer); state.timer = null; } else {
      state.timer = setInterval(() => (state.shown + 1 < state.frames.length ? step(1) : togglePlay()), 250);
    }
    $("play").textContent = state.timer ? "❚❚ pause" : "▶ play";
  }

  /** The browser cannot decode this video: show the server's decoded frames as still images. */
  function useStills() {
    if (state.mode === "still") return;
    state.mode = "still"; video.hidden = true; still.hidden = false;
    notice("This browser cannot play this video's format; showing the analysed frames as still images " +
      "decoded by the server. Step with the buttons or the arrow keys; play steps through them.");
    still.onload = () => drawOverlay();
    showFrame(Math.max(0, state.shown));
  }

  function followVideo() {
    const paint = (_now, meta) => { drawOverlay(meta.mediaTime); video.requestVideoFrameCallback(paint); };
    if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) video.requestVideoFrameCallback(paint);
    else { const loop = () => { if (!video.paused) drawOverlay(); requestAnimationFrame(loop); }; requestAnimationFrame(loop); }
    for (const ev of ["seeked", "loadeddata", "pause", "timeupdate"]) video.addEventListener(ev, () => drawOverlay());
    video.addEventListener("play", () => { $("play").textContent = "❚❚ pause"; });
    video.addEventListener("pause", () => { $("play").textContent = "▶ play"; });
    video.addEventListener("error", useStills);
    video.src = withToken(cfg.video_url);
  }

  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("play").addEventListener("click", togglePlay);
  $("score").addEventListener("input", (e) => {
    state.minScore = Number(e.target.value);
    $("scoreout").textContent = state.minScore.toFixed(2);
    renderLegend(); drawOverlay();
  });
  timeline.addEventListener("click", (e) => {
    const t = (e.offsetX / timeline.clientWidth) * duration();
    const i = frameAt(t);
    if (i >= 0) showFrame(i); else if (state.mode === "video") video.currentTime = t;
  });
  document.addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || (e.target instanceof HTMLButtonElement && e.key === " ")) return;
    if (e.key === "ArrowLeft") { step(-1); e.preventDefault(); }
    if (e.key === "ArrowRight") { step(1); e.preventDefault(); }
    if (e.key === " ") { togglePlay(); e.preventDefault(); }
  });
  window.addEventListener("resize", () => drawOverlay());

  window.viewer = { colour, contentRect, frameAt, state, showFrame, seekToFrame };
  followVideo();
  loadDetections().catch((e) => notice(`could not load detections: ${e.message}`));
})();
