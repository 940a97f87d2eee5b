// The results viewer: the task's video with its detections drawn on a canvas in sync, a timeline
// of objects per second, a score filter and analysed-frame steps; a task's zones and lines drawn
// over the picture with their counters at the time shown, and their events on the timeline.
// Plain script, no build step.
"use strict";
(() => {
  const cfg = JSON.parse(document.getElementById("va-config").textContent);
  const token = new URLSearchParams(location.search).get("viewer_token") || "";
  const $ = (id) => document.getElementById(id);
  const video = $("video"), still = $("still"), overlay = $("overlay"), timeline = $("timeline");
  const LINE_PX = 3; // box outline width in CSS pixels
  const TRAIL_FRAMES = 12; // analysed frames of a track's path drawn behind its box
  const ZONE_COLOUR = "#4f8cff", LINE_COLOUR = "#ffd24f"; // not in the labels' palette
  const EVENT_COLOURS = { entered: "#3ddc84", in: "#3ddc84", left: "#ff9f43", out: "#ff9f43" };
  const state = {
    frames: [], times: [], task: null, minScore: 0, shown: -1, tracks: [], events: [],
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
    return { x: (w - sw * scale) / 2, y: (h - sh * scale) / 2, scale, width: sw * scale, height: sh * scale, sw, sh };
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
    const counts = countsAt(t);
    drawRules(ctx, r, counts);
    renderRules(counts);
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

  const rules = () => ({ zones: state.task?.params?.zones || [], lines: state.task?.params?.lines || [] });

  /** Per zone and line, what its events up to time t add up to: inside now, entered, left, in, out. */
  function countsAt(t) {
    const counts = new Map();
    for (const rule of [...rules().zones, ...rules().lines]) counts.set(rule.name, { inside: 0, entered: 0, left: 0, in: 0, out: 0 });
    for (const e of state.events) {
      if (e.timestamp > t + 1e-3) break;
      const c = counts.get(e.rule);
      if (!c) continue;
      c[e.kind] += 1;
      if (e.kind === "entered") c.inside += 1;
      if (e.kind === "left") c.inside = Math.max(0, c.inside - 1);
    }
    return counts;
  }

  /** A rule's point in CSS pixels: fractions of the frame or the video's own pixels. */
  function place(rule, [x, y], r) {
    const fx = rule.units === "pixels" ? 1 : r.sw, fy = rule.units === "pixels" ? 1 : r.sh;
    return [r.x + x * fx * r.scale, r.y + y * fy * r.scale];
  }

  function tag(ctx, text, x, y, colour) {
    ctx.font = "bold 13px system-ui, sans-serif";
    const tw = ctx.measureText(text).width + 8;
    ctx.fillStyle = "rgba(0, 0, 0, 0.7)";
    ctx.fillRect(x, y, tw, 19);
    ctx.fillStyle = colour;
    ctx.fillText(text, x + 4, y + 3);
  }

  /** The zones (outlined, lightly filled) and lines (with an arrow to their `in` side). */
  function drawRules(ctx, r, counts) {
    const { zones, lines } = rules();
    for (const zone of zones) {
      const points = zone.polygon.map((p) => place(zone, p, r));
      ctx.beginPath();
      points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.fillStyle = "rgba(79, 140, 255, 0.12)";
      ctx.fill();
      ctx.strokeStyle = ZONE_COLOUR; ctx.lineWidth = 2;
      ctx.stroke();
      const c = counts.get(zone.name);
      const [x, y] = points.reduce((a, p) => (p[1] < a[1] || (p[1] === a[1] && p[0] < a[0]) ? p : a));
      tag(ctx, `${zone.name}: ${c.inside} inside`, x + 4, y + 4, ZONE_COLOUR);
    }
    for (const line of lines) {
      const [x1, y1] = place(line, line.start, r), [x2, y2] = place(line, line.end, r);
      ctx.strokeStyle = LINE_COLOUR; ctx.lineWidth = 3;
      ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      const len = Math.hypot(x2 - x1, y2 - y1) || 1, nx = (y2 - y1) / len, ny = -(x2 - x1) / len; // the `in` side
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2, tip = [mx + nx * 18, my + ny * 18];
      ctx.beginPath(); ctx.moveTo(mx, my); ctx.lineTo(...tip); ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(...tip);
      ctx.lineTo(tip[0] - nx * 7 + ny * 5, tip[1] - ny * 7 - nx * 5);
      ctx.lineTo(tip[0] - nx * 7 - ny * 5, tip[1] - ny * 7 + nx * 5);
      ctx.closePath(); ctx.fillStyle = LINE_COLOUR; ctx.fill();
      const c = counts.get(line.name);
      tag(ctx, `${line.name}: in ${c.in} · out ${c.out}`, mx + 6, my + 6, LINE_COLOUR);
    }
    overlay.dataset.rules = String(zones.length + lines.length);
  }

  function renderRules(counts) {
    const { zones, lines } = rules();
    $("rules-panel").hidden = !(zones.length || lines.length);
    const items = [
      ...zones.map((z) => [z.name, `${counts.get(z.name).inside} inside · ${counts.get(z.name).entered} entered · ${counts.get(z.name).left} left`]),
      ...lines.map((l) => [l.name, `in ${counts.get(l.name).in} · out ${counts.get(l.name).out}`]),
    ];
    const list = $("rules");
    if (list.childElementCount !== items.length) {
      list.replaceChildren(...items.map(([name]) => {
        const li = document.createElement("li");
        li.dataset.rule = name;
        li.append(Object.assign(document.createElement("b"), { textContent: name }), document.createElement("span"));
        return li;
      }));
    }
    items.forEach(([, text], k) => { list.children[k].lastChild.textContent = `: ${text}`; });
  }

  /** Every zone and line event of the task, in frame order (cursor pages). */
  async function loadEvents() {
    if (!(rules().zones.length || rules().lines.length)) return;
    state.events = (await allPages(cfg.events_url, "events")).sort((a, b) => a.timestamp - b.timestamp);
  }

  /** Every item (`body[key]`) of a cursor-paged list, page by page. */
  async function allPages(base, key) {
    const items = [];
    let cursor = null;
    for (;;) {
      const url = `${base}?limit=1000${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
      const resp = await fetch(withToken(url), { referrerPolicy: "no-referrer" });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(`${resp.status}: ${body.detail || resp.statusText}`);
      items.push(...body[key]);
      if (body.next_cursor === null) return items;
      cursor = body.next_cursor;
    }
  }

  /** The task's tracks with their thumbnails; a click seeks to the track's first appearance. */
  async function loadTracks() {
    const tracks = await allPages(cfg.tracks_url, "tracks");
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
    for (const e of state.events) { // a small mark at the top for each zone or line event
      const ex = Math.min(w - 4, Math.max(4, (e.timestamp / duration()) * w));
      ctx.fillStyle = EVENT_COLOURS[e.kind];
      ctx.beginPath(); ctx.moveTo(ex - 4, 0); ctx.lineTo(ex + 4, 0); ctx.lineTo(ex, 7); ctx.closePath(); ctx.fill();
    }
    timeline.dataset.events = String(state.events.length);
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
    await loadEvents().catch((e) => notice(`could not load zone and line events: ${e.message}`));
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

  window.viewer = { colour, contentRect, countsAt, frameAt, state, showFrame, seekToFrame };
  followVideo();
  loadDetections().catch((e) => notice(`could not load detections: ${e.message}`));
})();
